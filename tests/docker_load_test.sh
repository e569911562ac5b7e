#!/bin/bash
# `docker load` accepts kiln's type=docker output, and the image runs.
# Starts a private dockerd (its own data root and socket, no network
# setup) beside any other, builds samples/dockerfile/hello with kiln into a
# docker archive, loads it, checks its config and runs it. Skips, saying
# why, where dockerd is not installed or cannot start (issue 3: "where
# dockerd runs"); .ci/setup installs Debian's docker.io.
set -euo pipefail
kiln=$(realpath "$1")
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  echo "SKIP: dockerd is not installed (Debian's docker.io)"; exit 0
fi
work=$(mktemp -d /tmp/kiln-dockerd.XXXXXX)  # short: socket paths are limited
sock=$work/docker.sock
cleanup() {
  [ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null || true
  for _ in $(seq 30); do [ -f "$work/pid" ] || break; sleep 0.5; done
  grep "$work" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/pid" \
  -H "unix://$sock" --iptables=false --ip-masq=false --bridge=none \
  --storage-driver=vfs >"$work/dockerd.log" 2>&1 &
docker=(docker -H "unix://$sock")
for _ in $(seq 60); do "${docker[@]}" info >/dev/null 2>&1 && break; sleep 0.5; done
if ! "${docker[@]}" info >/dev/null 2>&1; then
  echo "SKIP: dockerd did not start here:"; tail -5 "$work/dockerd.log"; exit 0
fi

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
