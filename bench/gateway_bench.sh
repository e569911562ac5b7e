#!/bin/bash
# Frontend images: the start overhead of a frontend image that returns an
# empty result (lua.v0 packed as an image, running `return kiln.scratch()`),
# kiln beside the reference BuildKit (bench/lib.sh) in the same run, and
# the same script run in-process by kiln for scale. Each is built RUNS
# times (default 5) and the median printed.
#
# Usage: bench/gateway_bench.sh     (KILN=... to use a built binary; kiln-gateway
#                                    must sit beside it)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=${RUNS:-5}
work=$(mktemp -d /tmp/kiln-gwbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_setup //cmd/kiln:kiln-gateway //frontends/image:lua-frontend-image
image=${LUA_FRONTEND_TAR:-${bin:+$bin/frontends/image/lua-frontend.tar}}
[ -f "$image" ] || { echo "no lua-frontend.tar (set LUA_FRONTEND_TAR)"; exit 1; }

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

docker import --change 'LABEL moby.buildkit.frontend.network.none=true' "$image" \
  kiln/lua-frontend >/dev/null
root=$work/root
fresh_root "$root"
KILN_ROOT=$root "$kiln" image import --rootfs "$image" kiln/lua-frontend >/dev/null
ctx=$work/ctx; mkdir -p "$ctx"
printf '# syntax=kiln/lua-frontend\nreturn kiln.scratch()\n' > "$ctx/build.lua"
inproc=$work/inproc; mkdir -p "$inproc"
printf -- '-- syntax=lua.v0\nreturn kiln.scratch()\n' > "$inproc/build.lua"

k=(); r=(); p=()
for _ in $(seq "$runs"); do
  k+=("$(KILN_OUT=none kiln_build "$root" "$ctx" "$work/k.log" -f "$ctx/build.lua")")
  r+=("$(ref_build "$ctx" "dockerfile=build.lua&t=kiln-gwbench" "$work/r.log")")
  p+=("$(KILN_OUT=none kiln_build "$root" "$inproc" "$work/p.log" -f "$inproc/build.lua")")
done
for v in "${k[@]}" "${r[@]}" "${p[@]}"; do
  [ "$v" != FAIL ] || { echo "a build failed:"; tail -5 "$work/k.log" "$work/r.log" "$work/p.log"; exit 1; }
done
km=$(median "${k[@]}"); rm_=$(median "${r[@]}"); pm=$(median "${p[@]}")
echo "frontend image, empty result ($runs runs, median):"
echo "  kiln      $(secs "$km") s   (kiln hands over to kiln-gateway, runc, gRPC over stdio)"
echo "  BuildKit  $(secs "$rm_") s   (dockerd $(docker version --format '{{.Server.Version}}'))"
echo "  ratio     $(ratio "$km" "$rm_")   kiln / BuildKit"
echo "  in-process lua.v0, same script: $(secs "$pm") s"
