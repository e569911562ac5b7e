#!/usr/bin/env python3
"""Canonical manifest of a root filesystem (a tar file or a directory).

One line per entry: path type mode uid:gid size digest-or-target.
Timestamps are ignored; /dev, /proc, /sys, /etc/hosts, /etc/hostname,
/etc/resolv.conf and /.dockerenv are left out (runtime-provided).
"""
import hashlib, os, stat, sys, tarfile

SKIP_PREFIX = ("dev/", "proc/", "sys/")
SKIP = {"dev", "proc", "sys", "etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv", "etc/mtab"}

def norm(p):
    # Strip a leading "./" or "/" only: str.lstrip("./") would also eat the dot of
    # hidden names (".dockerenv" -> "dockerenv"), defeating SKIP and renaming dotfiles.
    while p.startswith("./"):
        p = p[2:]
    if p == ".":
        return ""
    return p.lstrip("/")

def keep(p):
    return p and p not in SKIP and not p.startswith(SKIP_PREFIX)

def from_tar(path):
    out = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            p = norm(m.name)
            if not keep(p):
                continue
            if m.isdir():
                kind, size, extra = "d", 0, "-"
            elif m.issym():
                kind, size, extra = "l", 0, m.linkname
            elif m.islnk():
                kind, size, extra = "f", m.size, "hardlink"
            elif m.isfile():
                data = t.extractfile(m).read()
                kind, size, extra = "f", m.size, hashlib.sha256(data).hexdigest()[:16]
            else:
                kind, size, extra = "o", 0, "-"
            out[p] = (kind, "%04o" % (m.mode & 0o7777), "%d:%d" % (m.uid, m.gid), size, extra)
    # resolve hardlinks to their target's digest
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if m.islnk():
                tgt = out.get(norm(m.linkname))
                p = norm(m.name)
                if tgt and p in out:
                    out[p] = (tgt[0], out[p][1], out[p][2], tgt[3], tgt[4])
    return out

def from_dir(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            full = os.path.join(dp, n)
            p = os.path.relpath(full, root)
            if not keep(p):
                continue
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                kind, size, extra = "d", 0, "-"
            elif stat.S_ISLNK(st.st_mode):
                kind, size, extra = "l", 0, os.readlink(full)
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()[:16]
                kind, size = "f", st.st_size
            else:
                kind, size, extra = "o", 0, "-"
            out[p] = (kind, "%04o" % (st.st_mode & 0o7777), "%d:%d" % (st.st_uid, st.st_gid), size, extra)
    return out

def main():
    src = sys.argv[1]
    m = from_dir(src) if os.path.isdir(src) else from_tar(src)
    for p in sorted(m):
        k, mode, own, size, extra = m[p]
        if k == "d":
            size = 0
        print(p, k, mode, own, size, extra)

if __name__ == "__main__":
    main()
