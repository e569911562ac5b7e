#!/bin/bash
# Packs a frontend binary into a rootfs tar for `kiln image import --rootfs`
# (or `docker import`): the binary as /run, BuildKit's default frontend
# entrypoint, with the shared libraries and loader it needs (from ldd).
#
#   tools/frontend_image.sh bazel-bin/samples/dsl/frontend dsl.tar
#   kiln image import --rootfs dsl.tar kiln/dsl-frontend
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BINARY OUT.tar" >&2; exit 2; }
bin=$1 out=$2
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$bin" "$root/run"
ldd "$bin" | grep -o '/[^ ]*' | sort -u | while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
mkdir -p "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out" .
