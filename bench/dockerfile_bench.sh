#!/bin/bash
# Dockerfile frontend benchmark: kiln against the reference BuildKit (the
# builder in Debian's dockerd 20.10, through the Engine API with version=2)
# on this machine, in the same run, for
#   corpus  every case of tests/conformance/dockerfile/cases built in turn
#           (times summed over the 70 cases), and
#   large   one generated Dockerfile: 500 instructions in 20 stages (19
#           stages of RUN/COPY/ENV/WORKDIR/ARG, each copying from earlier
#           ones, and a final stage that copies from all of them).
# Each is built three ways: cold (kiln: a fresh KILN_ROOT; BuildKit:
# nocache=1), rebuilt unchanged, and rebuilt after one context file a COPY
# uses was modified. Also runs //bench:dockerfile_convert_bench on the large
# Dockerfile (parse + convert + marshal, in process).
#
# Usage: bench/dockerfile_bench.sh [--quick] [--keep]
#   --quick  skip the corpus (large Dockerfile and convert bench only)
#   --keep   keep the work folder (contexts, kiln logs, the Dockerfile)
#   REPS=N   unchanged and one-file-change rebuilds of the large Dockerfile
#            per row, medians printed (default 3; the corpus does one)
#   KILN=... use this kiln binary instead of building -c opt with Bazel
# Needs root, runc and a dockerd (started as the reference script does when
# `docker info` fails).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
quick=0; keep=0
large_reps=${REPS:-3}  # rebuilds of the large Dockerfile per row (medians)
for a in "$@"; do
  case $a in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--quick] [--keep]" >&2; exit 2 ;;
  esac
done
cases_dir=$repo/tests/conformance/dockerfile/cases
work=$(mktemp -d /tmp/kiln-dfbench.XXXXXX)
if [ $keep = 1 ]; then trap 'echo "kept $work"' EXIT; else trap 'rm -rf "$work"' EXIT; fi

# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_setup //bench:dockerfile_convert_bench
conv=${CONVERT_BENCH:-${bin:+$bin/bench/dockerfile_convert_bench}}

# edit FILE: a change no earlier run has built (the daemon's cache persists).
edit() { echo "# kiln-bench edit $(now)" >> "$1"; }

# --- the large Dockerfile -------------------------------------------------
# stage I of 0..18: 25 instructions; it copies /out of stage I-1 and one
# file of stage I-3. Stage 10 also copies src/mid/, whose changed.txt is the
# file the one-file-change rebuild modifies. The final stage (25
# instructions) copies every stage's /out.
gen_stage() {
  local i=$1 p=$(( $1 - 1 )) q=$(( $1 - 3 ))
  cat <<EOF
FROM busybox-local AS s$i
ARG A$i=alpha$i
ARG B$i
ENV S$i=stage$i
ENV P$i=/opt/s$i Q$i=\${A$i}-q
WORKDIR /opt/s$i
COPY src/common.txt ./
COPY src/s$i/ ./src/
RUN echo "\$S$i \$Q$i" > id.txt
RUN mkdir -p /out && cat id.txt src/* > /out/s$i.txt
ENV R$i=r$i
WORKDIR sub
RUN echo \$R$i > r.txt && ls .. > list.txt
ARG C$i=gamma$i
RUN echo "\$C$i \${B$i:-none}" >> /out/s$i.txt
EOF
  if [ "$i" -gt 0 ]; then echo "COPY --from=s$p /out/ /in/"; else echo "COPY src/common.txt /in/"; fi
  if [ "$i" -ge 3 ]; then echo "COPY --from=s$q /out/s$q.txt /in/"; else echo "ARG D$i=d"; fi
  echo "RUN cat /in/* | wc -l > /out/s$i.count"
  echo "ENV T$i=t$i"
  echo "WORKDIR /opt/s$i"
  if [ "$i" = 10 ]; then echo "COPY src/mid/ ./src/"; else echo "COPY src/s$i/a.txt /out/s$i.a"; fi
  echo "RUN cat src/* id.txt >> /out/s$i.txt"
  echo "ENV U$i=\$T$i-\$R$i"
  echo "RUN echo \$U$i > /out/s$i.u"
  echo "RUN test -s /out/s$i.txt"
}

gen_large() {
  local ctx=$1
  mkdir -p "$ctx/src/mid"
  echo "common" > "$ctx/src/common.txt"
  echo "mid v0" > "$ctx/src/mid/changed.txt"
  echo "mid other" > "$ctx/src/mid/other.txt"
  for i in $(seq 0 18); do
    mkdir -p "$ctx/src/s$i"
    for f in a b c; do echo "stage $i file $f" > "$ctx/src/s$i/$f.txt"; done
  done
  {
    for i in $(seq 0 18); do gen_stage "$i"; done
    echo "FROM busybox-local AS final"
    echo "ARG FINAL=yes"
    echo "ENV APP=/app"
    echo "WORKDIR /app"
    for i in $(seq 0 18); do echo "COPY --from=s$i /out/ ./s$i/"; done
    echo 'RUN cat */*.txt | wc -l > total.txt'
    echo 'RUN ls -R /app > manifest.txt'
  } > "$ctx/Dockerfile"
  local n; n=$(grep -c . "$ctx/Dockerfile")
  [ "$n" = 500 ] || { echo "generator bug: $n instructions, want 500" >&2; exit 1; }
}

# --- rows: NAME kiln_ms ref_ms (FAIL when a build failed) ---
declare -A K R
add() {  # add TABLE ROW MS: sums, FAIL sticks
  local -n t=$1
  if [ "$3" = FAIL ] || [ "${t[$2]:-0}" = FAIL ]; then t[$2]=FAIL; else t[$2]=$(( ${t[$2]:-0} + $3 )); fi
}
failures=()
noexport=FAIL

# median VALUES...: the median, or FAIL when any is FAIL.
median() {
  case " $* " in *" FAIL "*) echo FAIL; return ;; esac
  printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# bench_one NAME CTX CHANGED_FILE KILN_ARGS... -- QUERY: a cold build each,
# then REPS unchanged rebuilds and REPS one-file-change rebuilds (a new
# edit each), medians.
bench_one() {
  local row=$1 name=$2 ctx=$3 changed=$4; shift 4
  local kargs=() q
  while [ "$1" != -- ]; do kargs+=("$1"); shift; done
  q=$2
  local root=$work/root-$name logs=$work/logs/$name v
  local reps=1
  [ "$row" = large ] && reps=$large_reps
  mkdir -p "$logs"
  fresh_root "$root"
  for phase in cold unchanged change; do
    local n=$reps kv=() rv=()
    [ $phase = cold ] && n=1
    for _ in $(seq "$n"); do
      if [ $phase = change ] && [ -n "$changed" ]; then edit "$ctx/$changed"; fi
      v=$(kiln_build "$root" "$ctx" "$logs/kiln-$phase.log" "${kargs[@]}")
      [ "$v" != FAIL ] || failures+=("kiln $name $phase: $(tail -3 "$logs/kiln-$phase.log" | tr '\n' ' ')")
      kv+=("$v")
      local rq="t=kiln-bench-$name&$q"
      [ $phase = cold ] && rq="$rq&nocache=1"
      v=$(ref_build "$ctx" "$rq" "$logs/ref-$phase.log")
      [ "$v" != FAIL ] || failures+=("BuildKit $name $phase: $(grep -o '"errorDetail":{[^}]*}' "$logs/ref-$phase.log" | head -1)")
      rv+=("$v")
    done
    add K "$row $phase" "$(median "${kv[@]}")"
    add R "$row $phase" "$(median "${rv[@]}")"
    if [ $phase = unchanged ] && [ "$row" = large ]; then
      # Where a no-op rebuild's time goes: the same rebuild without exporting.
      noexport=$(KILN_OUT=none kiln_build "$root" "$ctx" "$logs/kiln-noexport.log" "${kargs[@]}")
    fi
  done
  [ $keep = 1 ] || rm -rf "$root"
  docker image rm "kiln-bench-$name" >/dev/null 2>&1 || true
}

# The corpus: build.params as kiln flags and as Engine API query parameters.
# The changed file is the case's first regular context file (sorted) that is
# not the Dockerfile, .dockerignore or an archive; cases without one rebuild
# unchanged in the "change" row too.
bench_corpus() {
  local c name ctx changed kargs q k v
  for c in "$cases_dir"/*/; do
    name=$(basename "$c"); ctx=$work/corpus/$name
    mkdir -p "$work/corpus"; cp -a "$c" "$ctx"; rm -f "$ctx/build.params"
    kargs=(); q=""
    if [ -f "$c/build.params" ]; then
      while IFS= read -r kv; do
        [ -n "$kv" ] || continue
        k=${kv%%=*}; v=${kv#*=}
        q="$q&$k=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' "$v")"
        case $k in
          target) kargs+=(--target "$v") ;;
          buildargs) while IFS= read -r a; do kargs+=(--build-arg "$a"); done < <(python3 -c \
              'import json,sys;[print(k+"="+v) for k,v in json.loads(sys.argv[1]).items()]' "$v") ;;
        esac
      done < "$c/build.params"
    fi
    changed=$(cd "$ctx" && find . -type f ! -name Dockerfile ! -name .dockerignore ! -name '*.tar*' \
              -printf '%P\n' | LC_ALL=C sort | head -1)
    bench_one corpus "$name" "$ctx" "$changed" "${kargs[@]}" -- "${q#&}"
    printf '.' >&2
  done
  echo >&2
}

start=$(now)
echo "kiln: $kiln"
echo "reference: $(docker version --format 'dockerd {{.Server.Version}}' 2>/dev/null), Engine API version=2 (BuildKit), networkmode=none"
echo "$(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ $quick = 1 ] || bench_corpus
gen_large "$work/large"
bench_one large large "$work/large" src/mid/changed.txt -- ""

echo
printf '%-40s %10s %12s %14s\n' row "kiln s" "BuildKit s" "kiln/BuildKit"
for row in corpus large; do
  [ $row = corpus ] && [ $quick = 1 ] && continue
  label=$([ $row = corpus ] && echo "corpus (70 cases, summed)" || echo "large (500 instr, 20 stages)")
  for phase in cold unchanged change; do
    k=${K[$row $phase]}; r=${R[$row $phase]}
    printf '%-40s %10s %12s %14s\n' "$label $phase" "$(secs "$k")" "$(secs "$r")" "$(ratio "$k" "$r")"
  done
done
printf '%-40s %10s %12s %14s\n' "large unchanged, kiln without -o" "$(secs "$noexport")" "" ""
echo
# Which steps kiln's cold build of the large Dockerfile spent its time in
# (the summed step durations of its plain progress; steps overlap).
python3 - "$work/logs/large/kiln-cold.log" <<'PY'
import re, sys, collections
kind, total, count = {}, collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r"#(\d+) \[(.*?)\] (\S+)", line)
    if m:
        kind[m.group(1)] = "internal" if m.group(2) == "internal" else m.group(3)
    m = re.match(r"#(\d+) DONE ([\d.]+)s", line)
    if m:
        k = kind.get(m.group(1), "?"); total[k] += float(m.group(2)); count[k] += 1
print("kiln large cold, summed step time: " + ", ".join(
    "%s %d steps %.1f s (%.0f ms each)" % (k, count[k], total[k], 1000 * total[k] / count[k])
    for k in sorted(total, key=total.get, reverse=True)))
PY
echo
echo "kiln:     KILN_ROOT=<fresh per case> $kiln build --progress plain [--target T] [--build-arg K=V] -o type=image,name=kiln-bench CONTEXT"
echo "BuildKit: curl --unix-socket $sock -X POST 'http://localhost/v1.41/build?version=2&networkmode=none&t=kiln-bench-CASE[&nocache=1][&target=T][&buildargs=JSON]' --data-binary @context.tar"
if [ -n "$conv" ] && [ -x "$conv" ]; then
  echo
  "$conv" "$work/large/Dockerfile" 51
fi
if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "FAILED builds:"; printf '  %s\n' "${failures[@]}"
fi
echo "total bench time: $(( ($(now) - start) / 1000000000 )) s, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
[ ${#failures[@]} = 0 ]
