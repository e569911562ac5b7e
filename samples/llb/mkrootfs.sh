#!/bin/sh
# Writes a busybox root filesystem tar (Debian's busybox-static, a link per
# applet, root and nobody users, a 1777 /tmp) for `kiln image import --rootfs`.
# Usage: mkrootfs.sh OUT.tar
set -eu
out=${1:?usage: mkrootfs.sh OUT.tar}
[ -x /bin/busybox ] || { echo "mkrootfs.sh: install busybox-static" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/work"
cp /bin/busybox "$dir/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
chmod 1777 "$dir/tmp"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$out" .
