#!/bin/bash
# Interop with stock BuildKit: kiln's built-in frontends, packed as frontend
# images (//frontends/image), and the kb DSL sample (samples/dsl), run
# through `# syntax=IMAGE` by the BuildKit
# inside Debian's dockerd and by kiln, and must give the same files. That
# BuildKit is old (dockerd 20.10): the SDK reads its capabilities, and a
# graph needing one it lacks (mergeop) fails with a message naming it.
# Starts a private dockerd (own data root and socket, no bridge); says SKIP
# where dockerd is missing or cannot start. Args: KILN FRONTEND_IMAGE_DIR
# DSL_IMAGE_TAR
set -euo pipefail
kiln=$(realpath "$1"); images=$(realpath "$2"); dsl_image=$(realpath "$3")
here=tests/interop
# shellcheck source=tests/private_dockerd.sh
. tests/private_dockerd.sh
start_private_dockerd interop
echo "reference: dockerd $("${docker[@]}" version --format '{{.Server.Version}}')"

root=$work/kiln
samples/llb/mkrootfs.sh "$work/bb.tar" >/dev/null
"${docker[@]}" import "$work/bb.tar" busybox >/dev/null
"$kiln" --root "$root" image import --rootfs "$work/bb.tar" busybox >/dev/null
for fe in dockerfile yaml lua dsl; do
  tar=$images/$fe-frontend.tar
  [ "$fe" != dsl ] || tar=$dsl_image
  # BuildKit runs a frontend with a network unless its image says none.
  "${docker[@]}" import --change 'LABEL moby.buildkit.frontend.network.none=true' \
    "$tar" "kiln/$fe-frontend" >/dev/null
  "$kiln" --root "$root" image import --rootfs "$tar" "kiln/$fe-frontend" >/dev/null
done

# Builds context $1 (definition file $2) with dockerd's BuildKit through the
# Engine API, as image $3; prints the JSON stream's error, if any.
reference_build() {
  tar -C "$1" -cf "$work/ctx.tar" .
  curl -s --unix-socket "$sock" -X POST \
    "http://localhost/v1.41/build?version=2&t=$3&networkmode=none&dockerfile=$2" \
    -H "Content-Type: application/x-tar" --data-binary @"$work/ctx.tar" |
    grep -o '"errorDetail":{"message":"[^}]*' || true
}

fail=0
for c in dockerfile:Dockerfile yaml:kiln.yaml lua:build.lua dsl:build.kb; do
  name=${c%%:*} file=${c#*:}
  ctx=$work/$name
  if [ "$name" = dsl ]; then src=samples/dsl/example; else src=$here/cases/$name; fi
  cp -rL "$src" "$ctx"
  err=$(reference_build "$ctx" "$file" "interop-$name")
  if [ -n "$err" ]; then echo "FAIL: $name: BuildKit: $err"; fail=1; continue; fi
  cid=$("${docker[@]}" create --entrypoint /bin/true "interop-$name")
  "${docker[@]}" export "$cid" > "$work/$name-ref.tar"
  "${docker[@]}" rm "$cid" >/dev/null
  # docker export adds /.dockerenv; it is not the build's.
  python3 tests/conformance/fsmanifest.py "$work/$name-ref.tar" | grep -v '^dockerenv ' \
    > "$work/$name-ref.fs"
  "$kiln" --root "$root" build --progress plain -f "$ctx/$file" \
    -o "type=tar,dest=$work/$name-kiln.tar" "$ctx" 2>"$work/$name-kiln.log" || {
    echo "FAIL: $name: kiln:"; tail -5 "$work/$name-kiln.log"; fail=1; continue; }
  python3 tests/conformance/fsmanifest.py "$work/$name-kiln.tar" > "$work/$name-kiln.fs"
  # `docker create` adds empty directories of its own to what it exports
  # (the WorkingDir, /etc for its mount stubs): drop directories only the
  # reference has and that hold nothing there.
  sort -o "$work/$name-ref.fs" "$work/$name-ref.fs"
  sort -o "$work/$name-kiln.fs" "$work/$name-kiln.fs"
  comm -23 "$work/$name-ref.fs" "$work/$name-kiln.fs" | while read -r path type _; do
    if [ "$type" = d ] && ! grep -q "^$path/" "$work/$name-ref.fs"; then
      echo "note: $name: $path/ is docker create's, not the build's"
      grep -v "^$path d " "$work/$name-ref.fs" > "$work/x" && mv "$work/x" "$work/$name-ref.fs"
    fi
  done
  if diff -u "$work/$name-ref.fs" "$work/$name-kiln.fs"; then
    echo "PASS: $name: the same $(wc -l < "$work/$name-kiln.fs") files from BuildKit and kiln"
  else
    echo "FAIL: $name: the files differ"; fail=1
  fi
done
entry=$("${docker[@]}" image inspect -f '{{json .Config.Entrypoint}}' interop-lua)
[ "$entry" = '["/usr/local/bin/app"]' ] || { echo "FAIL: lua entrypoint $entry"; fail=1; }

# A graph this BuildKit cannot run: the Lua sample merges (mergeop).
cp -rL samples/lua "$work/sample"
chmod -R u+w "$work/sample"
sed -i '1s|.*|# syntax=kiln/lua-frontend|' "$work/sample/build.lua"
err=$(reference_build "$work/sample" build.lua interop-sample)
case "$err" in
  *'older BuildKit'*'\"mergeop\" (step \"[build.lua:37] MERGE'*)
    echo "PASS: missing capabilities named: $err" ;;
  *) echo "FAIL: want an error naming mergeop, got: $err"; fail=1 ;;
esac
exit $fail
