#!/bin/bash
# `docker load` accepts kiln's type=docker output, and the image runs.
# Starts a private dockerd (its own data root and socket, no network
# setup) beside any other, builds samples/dockerfile/hello with kiln into a
# docker archive, loads it, checks its config and runs it. Skips, saying
# why, where dockerd is not installed or cannot start (issue 3: "where
# dockerd runs"); .ci/setup installs Debian's docker.io.
set -euo pipefail
kiln=$(realpath "$1")
# shellcheck source=tests/private_dockerd.sh
. tests/private_dockerd.sh
start_private_dockerd dockerd

root=$work/kiln
sample=$work/hello
cp -rL samples/dockerfile/hello "$sample"  # runfiles are symlinks
samples/llb/mkrootfs.sh "$work/bb.tar" >/dev/null
"$kiln" --root "$root" image import --rootfs "$work/bb.tar" busybox >/dev/null
"$kiln" --root "$root" build --progress plain \
  -o "type=docker,dest=$work/hello.tar,name=kiln-hello:test" "$sample" 2>"$work/build.log" || {
  cat "$work/build.log"; exit 1; }

"${docker[@]}" load -i "$work/hello.tar"
cmd=$("${docker[@]}" image inspect -f '{{json .Config.Cmd}}' kiln-hello:test)
env=$("${docker[@]}" image inspect -f '{{json .Config.Env}}' kiln-hello:test)
echo "Cmd: $cmd"; echo "Env: $env"
[ "$cmd" = '["cat","/app/greeting.txt"]' ] || { echo "FAIL: Cmd is $cmd"; exit 1; }
case "$env" in *GREETING_FILE=/app/greeting.txt*) ;; *) echo "FAIL: Env is $env"; exit 1;; esac
got=$("${docker[@]}" run --rm --network none kiln-hello:test)
want=$("$kiln" --root "$root" build --progress plain \
  -o "type=local,dest=$work/out" "$sample" 2>/dev/null && cat "$work/out/app/greeting.txt")
echo "docker run: $got"
[ -n "$got" ] && [ "$got" = "$want" ] || { echo "FAIL: docker run gave '$got', want '$want'"; exit 1; }
layers=$("${docker[@]}" image inspect -f '{{len .RootFS.Layers}}' kiln-hello:test)
echo "layers: $layers"
[ "$layers" -ge 3 ] || { echo "FAIL: $layers layers, want the base's and one per step"; exit 1; }
echo "PASS: docker load and docker run accept kiln's type=docker output"
