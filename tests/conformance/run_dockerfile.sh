#!/bin/bash
# Dockerfile conformance: builds every case of dockerfile/cases with kiln and
# compares the result with what the reference BuildKit produced for it
# (dockerfile/expected/<case>.fs and .config, written by
# ../shared/reference/buildkit-reference.sh and committed).
#
# Usage: run_dockerfile.sh KILN [CASE...]   (default: every case)
# Needs root (runc) and python3. Prints one line per case and a summary;
# exits non-zero when any case differs, showing the difference.
set -u
kiln=$(realpath "$1"); shift
# The real folder (not Bazel's runfiles of symlinks): cases hold symlinks
# that must reach the build as symlinks.
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
cases_dir=$here/dockerfile/cases
expected=$here/dockerfile/expected
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/conformance.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KILN_ROOT=$work/root

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null; then
  echo "SKIP: the conformance corpus needs root and runc"; exit 0
fi
sh "$here/mkbusybox.sh" "$work/busybox.tar" || exit 1
"$kiln" image import --rootfs "$work/busybox.tar" busybox-local >/dev/null || exit 1

names=("$@")
if [ ${#names[@]} = 0 ]; then
  for c in "$cases_dir"/*/; do names+=("$(basename "$c")"); done
fi
pass=0; fail=0; failed=()
for name in "${names[@]}"; do
  c=$cases_dir/$name
  args=()
  if [ -f "$c/build.params" ]; then
    while IFS= read -r kv; do
      [ -n "$kv" ] || continue
      k=${kv%%=*}; v=${kv#*=}
      case $k in
        target) args+=(--target "$v") ;;
        buildargs)
          while IFS= read -r a; do args+=(--build-arg "$a"); done < <(
            python3 -c 'import json,sys;[print(k+"="+v) for k,v in json.loads(sys.argv[1]).items()]' "$v") ;;
        *) echo "$name: unknown build.params key $k"; exit 1 ;;
      esac
    done < "$c/build.params"
  fi
  out=$work/$name; mkdir -p "$out"
  # The reference sees the case folder without build.params.
  cp -a "$c" "$out/ctx" && rm -f "$out/ctx/build.params"
  if ! "$kiln" build --progress plain "${args[@]}" -o "type=tar,dest=$out/rootfs.tar" \
      -o "type=oci,dest=$out/image.tar" "$out/ctx" >"$out/log" 2>&1; then
    echo "FAIL $name: build failed"; tail -15 "$out/log" | sed 's/^/    /'
    fail=$((fail+1)); failed+=("$name"); continue
  fi
  python3 "$here/fsmanifest.py" "$out/rootfs.tar" > "$out/fs"
  mkdir -p "$out/oci" && tar -xf "$out/image.tar" -C "$out/oci"
  python3 - "$out/oci" > "$out/config" <<'PY' || { echo "FAIL $name: no image config"; fail=$((fail+1)); continue; }
import json, os, sys
d = sys.argv[1]
blob = lambda dg: os.path.join(d, "blobs", dg.replace(":", "/"))
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
sys.stdout.write(open(blob(man["config"]["digest"])).read())
PY
  python3 "$here/imgconfig.py" < "$out/config" > "$out/config.norm"
  # Paths known to differ on purpose (see known-differences.txt).
  skip=$(awk -v c="$name" '$1 == c {print $2}' "$here/dockerfile/known-differences.txt")
  drop() { awk -v s="$skip" 'BEGIN { n = split(s, a, "\n"); for (i = 1; i <= n; i++) k[a[i]] = 1 }
                           !($1 in k)' "$1"; }
  drop "$expected/$name.fs" > "$out/fs.expected"
  drop "$out/fs" > "$out/fs.actual"
  ok=1
  if ! diff -u "$out/fs.expected" "$out/fs.actual" > "$out/fs.diff"; then ok=0; fi
  if ! diff -u "$expected/$name.config" "$out/config.norm" > "$out/config.diff"; then ok=0; fi
  if [ $ok = 1 ]; then
    pass=$((pass+1)); echo "ok   $name"
  else
    fail=$((fail+1)); failed+=("$name"); echo "FAIL $name"
    head -40 "$out/fs.diff" "$out/config.diff" | sed 's/^/    /'
  fi
done
echo "conformance: $pass passed, $fail failed${failed:+ (${failed[*]})}"
[ $fail = 0 ]
