# Shared by the benchmarks that run kiln beside the reference BuildKit (the
# builder in Debian's dockerd 20.10, through the Engine API with version=2).
# Source it, set `repo` and `work`, then call bench_setup [EXTRA_TARGET...].
# Needs root, runc and a dockerd (started as the reference script does when
# `docker info` fails).

sock=/var/run/docker.sock

# bench_setup [TARGET...]: opt builds of kiln (and TARGETs, found under
# $bin) without moving the workspace's bazel-* links, unless KILN=... names
# a binary; the reference daemon; busybox-local in docker and in
# $work/busybox.tar for kiln roots.
bench_setup() {
  if [ -n "${KILN:-}" ]; then
    kiln=$KILN; bin=""
  else
    (cd "$repo" && bazel build -c opt --symlink_prefix=/ //cmd/kiln "$@" 2>"$work/bazel.log") ||
      { tail -20 "$work/bazel.log"; exit 1; }
    bin=$(cd "$repo" && bazel info -c opt bazel-bin 2>/dev/null)
    kiln=$bin/cmd/kiln/kiln
  fi
  if ! docker info >/dev/null 2>&1; then
    (dockerd --iptables=false --storage-driver=vfs >/tmp/reference-dockerd.log 2>&1 &)
    for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  fi
  sh "$repo/tests/conformance/mkbusybox.sh" "$work/busybox.tar"
  docker import "$work/busybox.tar" busybox-local >/dev/null
}

now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }

# kiln_build ROOT CTX LOG [ARGS...]: prints wall ms; "FAIL" when kiln fails.
# Exports to kiln's image store (as the reference exports to docker's)
# unless KILN_OUT=none.
kiln_build() {
  local root=$1 ctx=$2 log=$3; shift 3
  local t0; t0=$(now)
  local out=(-o "type=image,name=kiln-bench")
  [ "${KILN_OUT:-}" != none ] || out=()
  if KILN_ROOT=$root "$kiln" build --progress plain "$@" "${out[@]}" "$ctx" >"$log" 2>&1; then
    ms_since "$t0"; else echo FAIL; fi
}

# ref_build CTX QUERY LOG: the Engine API build the reference script runs;
# prints wall ms of the request (the context tar is made before the clock).
ref_build() {
  local ctx=$1 q=$2 log=$3
  tar -C "$ctx" -cf "$work/ctx.tar" .
  local t0; t0=$(now)
  curl -s --unix-socket $sock -X POST "http://localhost/v1.41/build?version=2&networkmode=none&$q" \
    -H "Content-Type: application/x-tar" --data-binary @"$work/ctx.tar" >"$log"
  local ms; ms=$(ms_since "$t0")
  if grep -q errorDetail "$log"; then echo FAIL; else echo "$ms"; fi
}

# fresh_root DIR: a new kiln state folder holding busybox-local (untimed).
fresh_root() {
  rm -rf "$1"
  KILN_ROOT=$1 "$kiln" image import --rootfs "$work/busybox.tar" busybox-local >/dev/null
}

# ratio A B: A/B with two decimals, or "-" when either is not a number.
ratio() {
  case "$1$2" in *[!0-9]*|"") echo "-"; return ;; esac
  [ "$2" -gt 0 ] || { echo "-"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# secs MS: seconds with two decimals (FAIL stays FAIL).
secs() { if [ "$1" = FAIL ]; then echo FAIL; else awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; fi; }
