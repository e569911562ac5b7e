#!/bin/bash
# kilnd: a no-op rebuild through the daemon beside the embedded engine, and
# the transfer of a 10,000-file context, cold (the daemon has no mirror of
# it) and unchanged (the daemon's mirror is current: only the file list
# travels), with the reference BuildKit's build of the same context for
# scale (the Engine API sends the whole context every time). Each timing is
# the median of RUNS (default 5) runs in one session.
#
# Usage: bench/kilnd_bench.sh     (KILN=... and KILND=... to use built binaries;
#                                  kiln-gateway must sit beside kiln)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=${RUNS:-5}
work=$(mktemp -d /tmp/kiln-kilndbench.XXXXXX)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_setup //cmd/kiln:kiln-gateway //cmd/kilnd
kilnd=${KILND:-$bin/cmd/kilnd/kilnd}
sockdir=$(mktemp -d /tmp/kilnd-bench.XXXXXX)
addr=unix://$sockdir/kilnd.sock
kilnd_pid=""
cleanup() {
  [ -z "$kilnd_pid" ] || { kill "$kilnd_pid"; wait "$kilnd_pid" 2>/dev/null || true; }
  rm -rf "$work" "$sockdir"
}
trap cleanup EXIT

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

droot=$work/daemon-root
"$kilnd" --root "$droot" --addr "$addr" >"$work/kilnd.log" 2>&1 &
kilnd_pid=$!
for _ in $(seq 100); do grep -q "steps at once" "$work/kilnd.log" && break; sleep 0.1; done
KILN_ADDR=$addr "$kiln" image import --rootfs "$work/busybox.tar" busybox-local >/dev/null
eroot=$work/embedded-root
fresh_root "$eroot"
croot=$work/client-root  # the client's scan indexes

ctx=$work/ctx
mkdir -p "$ctx"
for d in $(seq 0 99); do
  mkdir "$ctx/d$d"
  for f in $(seq 0 99); do echo "$d-$f" > "$ctx/d$d/f$f"; done
done
printf 'FROM busybox-local\nCOPY . /ctx\nRUN ls -R /ctx | wc -l\n' > "$ctx/Dockerfile"

remote() {  # LOG [ARGS...]: wall ms of a build through kilnd
  local log=$1; shift
  local t0; t0=$(now)
  if KILN_ROOT=$croot KILN_ADDR=$addr "$kiln" build --progress plain "$@" "$ctx" >"$log" 2>&1; then
    ms_since "$t0"; else echo FAIL; fi
}

# Warm both, then no-op rebuilds.
KILN_OUT=none kiln_build "$eroot" "$ctx" "$work/e.log" >/dev/null
remote "$work/r.log" >/dev/null
e=(); r=(); cold=(); ref=()
for _ in $(seq "$runs"); do
  e+=("$(KILN_OUT=none kiln_build "$eroot" "$ctx" "$work/e.log")")
  r+=("$(remote "$work/r.log")")
done
grep -q "transferred 0 changed files" "$work/r.log" ||
  { echo "the unchanged rebuild sent files:"; cat "$work/r.log"; exit 1; }
unchanged_line=$(grep "transferred" "$work/r.log" | grep "10101 entries" | head -1)
# Cold: no mirror and no cache on the daemon, no scan index on the client.
for _ in $(seq "$runs"); do
  KILN_ADDR=$addr "$kiln" prune --all >/dev/null
  rm -rf "$croot"
  cold+=("$(remote "$work/c.log")")
  ref+=("$(ref_build "$ctx" "t=kiln-kilndbench&nocache=1" "$work/ref.log")")
done
cold_line=$(grep "transferred" "$work/c.log" | grep "10101 entries" | head -1)
for v in "${e[@]}" "${r[@]}" "${cold[@]}" "${ref[@]}"; do
  [ "$v" != FAIL ] || { echo "a build failed:"; tail -5 "$work/"*.log; exit 1; }
done
em=$(median "${e[@]}"); rm_=$(median "${r[@]}"); cm=$(median "${cold[@]}"); refm=$(median "${ref[@]}")
echo "kilnd ($runs runs, median; context of 10,000 files in 100 directories):"
echo "  no-op rebuild, embedded engine   $(secs "$em") s"
echo "  no-op rebuild, through kilnd     $(secs "$rm_") s   ratio $(ratio "$rm_" "$em") kilnd / embedded"
echo "    ${unchanged_line#* }"
echo "  cold build through kilnd         $(secs "$cm") s   (daemon pruned, client index gone)"
echo "    ${cold_line#* }"
echo "  BuildKit, same build, no cache   $(secs "$refm") s   (whole context sent; ratio $(ratio "$cm" "$refm") kilnd cold / BuildKit)"
