#!/bin/bash
# Container builds: kiln against the reference BuildKit (bench/lib.sh) on
# this machine, in the same run:
#   exec10   a 10-step exec graph (FROM busybox, ten chained RUNs), cold
#            (kiln: a fresh KILN_ROOT; BuildKit: nocache=1) and cached
#   true     the overhead of one exec step running `true`: ten chained
#            `RUN true` minus a build without them, per step, cold; and
#            kiln's own mean step duration (runc start to exit) from rawjson
#   export   exporting a 100 MB image (one RUN writing 100 MB of random
#            bytes, already built and cached): kiln -o type=oci (gzip, the
#            first export and again), compression=uncompressed, type=docker;
#            BuildKit's image is exported with `docker save`
# Each timed build is run RUNS times (default 3) and the median printed.
#
# Usage: bench/container_bench.sh     (KILN=... to use a built binary)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=${RUNS:-3}
work=$(mktemp -d /tmp/kiln-ctbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_setup

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

mkctx() {  # mkctx NAME RUN_LINES...: a context whose Dockerfile has those RUNs
  local ctx=$work/$1; shift
  mkdir -p "$ctx"
  { echo "FROM busybox-local"; echo "COPY x /x"; printf '%s\n' "$@"; } > "$ctx/Dockerfile"
  echo "$(now)" > "$ctx/x"  # new content: no earlier run is cached
  echo "$ctx"
}

runs10=(); for i in $(seq 1 10); do runs10+=("RUN echo $i >> /steps && cat /steps > /f$i"); done
trues=(); for i in $(seq 1 10); do trues+=("RUN true # $i"); done

# kiln_cold CTX: median of RUNS cold builds, each in a fresh root.
kiln_cold() {
  local ts=() v
  for r in $(seq "$runs"); do
    fresh_root "$work/root"
    v=$(kiln_build "$work/root" "$1" "$work/kiln.log"); [ "$v" != FAIL ] || { cat "$work/kiln.log"; exit 1; }
    ts+=("$v")
  done
  median "${ts[@]}"
}
ref_cold() {
  local ts=() v
  for r in $(seq "$runs"); do
    v=$(ref_build "$1" "t=kiln-ctbench&nocache=1" "$work/ref.log"); [ "$v" != FAIL ] || { cat "$work/ref.log"; exit 1; }
    ts+=("$v")
  done
  median "${ts[@]}"
}
# cached builds of a root and daemon that have built CTX once already.
kiln_cached() {
  local ts=(); for r in $(seq "$runs"); do ts+=("$(kiln_build "$work/root" "$1" "$work/kiln.log")"); done
  median "${ts[@]}"
}
ref_cached() {
  local ts=(); for r in $(seq "$runs"); do ts+=("$(ref_build "$1" "t=kiln-ctbench" "$work/ref.log")"); done
  median "${ts[@]}"
}

row() { printf '%-44s %10s %12s %14s\n' "$1" "$2" "$3" "$4"; }
row case "kiln ms" "BuildKit ms" "kiln/BuildKit"

# --- exec10 ---
ctx=$(mkctx exec10 "${runs10[@]}")
k=$(kiln_cold "$ctx"); r=$(ref_cold "$ctx")
row "exec10 cold" "$k" "$r" "$(ratio "$k" "$r")"
k=$(kiln_cached "$ctx"); r=$(ref_cached "$ctx")
row "exec10 cached" "$k" "$r" "$(ratio "$k" "$r")"

# --- true: per-step overhead ---
base=$(mkctx base); ten=$(mkctx trues "${trues[@]}")
kb=$(kiln_cold "$base"); kt=$(kiln_cold "$ten")
rb=$(ref_cold "$base"); rt=$(ref_cold "$ten")
kstep=$(( (kt - kb) / 10 )); rstep=$(( (rt - rb) / 10 ))
row "one 'RUN true' step (10 steps - none) / 10" "$kstep" "$rstep" "$(ratio "$kstep" "$rstep")"
fresh_root "$work/root"
KILN_ROOT=$work/root "$kiln" build --progress rawjson "$(mkctx trues2 "${trues[@]}")" 2>"$work/raw.log" >/dev/null
exec_ms=$(python3 - "$work/raw.log" <<'PY'
import json, sys
d = []
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("type") == "completed" and "RUN true" in e.get("name", "") and not e.get("cached"):
        d.append(e.get("duration_ms", 0))
print(round(sum(d) / len(d)) if d else "-")
PY
)
row "kiln: one 'RUN true' exec, runc start to exit" "$exec_ms" "" ""

# --- export of a 100 MB image ---
big=$(mkctx big "RUN head -c 104857600 /dev/urandom > /big")
fresh_root "$work/root"
KILN_OUT=none kiln_build "$work/root" "$big" "$work/kiln.log" >/dev/null
ref_build "$big" "t=kiln-ctbench-big" "$work/ref.log" >/dev/null
t0=$(now); KILN_ROOT=$work/root "$kiln" build --progress plain -o "type=oci,dest=$work/big.oci.tar" "$big" 2>/dev/null
k1=$(ms_since "$t0")
t0=$(now); KILN_ROOT=$work/root "$kiln" build --progress plain -o "type=oci,dest=$work/big.oci.tar" "$big" 2>/dev/null
k2=$(ms_since "$t0")
t0=$(now); KILN_ROOT=$work/root "$kiln" build --progress plain -o "type=oci,dest=$work/big.raw.tar,compression=uncompressed" "$big" 2>/dev/null
k3=$(ms_since "$t0")
t0=$(now); KILN_ROOT=$work/root "$kiln" build --progress plain -o "type=docker,dest=$work/big.docker.tar,name=big" "$big" 2>/dev/null
k4=$(ms_since "$t0")
t0=$(now); docker save -o "$work/big.save.tar" kiln-ctbench-big; r1=$(ms_since "$t0")
row "export 100 MB: oci gzip, first (vs docker save)" "$k1" "$r1" "$(ratio "$k1" "$r1")"
row "export 100 MB: oci gzip, again" "$k2" "$r1" "$(ratio "$k2" "$r1")"
row "export 100 MB: oci uncompressed" "$k3" "$r1" "$(ratio "$k3" "$r1")"
row "export 100 MB: docker archive (gzip layers)" "$k4" "$r1" "$(ratio "$k4" "$r1")"
echo
echo "sizes: oci gzip $(du -m "$work/big.oci.tar" | cut -f1) MB, uncompressed $(du -m "$work/big.raw.tar" | cut -f1) MB, docker save $(du -m "$work/big.save.tar" | cut -f1) MB"
echo "kiln: $kiln ($(nproc) cores); BuildKit: dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null), Engine API build with version=2"
docker image rm kiln-ctbench kiln-ctbench-big >/dev/null 2>&1 || true
