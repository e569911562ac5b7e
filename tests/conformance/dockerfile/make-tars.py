#!/usr/bin/env python3
"""Regenerates the byte-stable archives of case 40-add-tar (fixed mtime 0, fixed owners, no names)."""
import gzip
import io
import os
import tarfile

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", "40-add-tar")


def entries(t):
    def add(name, typ, data=b"", mode=0o644, uid=0, gid=0, link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid = typ, mode, uid, gid
        ti.mtime, ti.uname, ti.gname, ti.linkname, ti.size = 0, "", "", link, len(data)
        t.addfile(ti, io.BytesIO(data) if data else None)
    add("top", tarfile.DIRTYPE, mode=0o755)
    add("top/a.txt", tarfile.REGTYPE, b"alpha\n")
    add("top/owned.txt", tarfile.REGTYPE, b"owned by 1234:5678\n", mode=0o640, uid=1234, gid=5678)
    add("top/exec.sh", tarfile.REGTYPE, b"#!/bin/sh\necho x\n", mode=0o755)
    add("top/sub", tarfile.DIRTYPE, mode=0o700)
    add("top/sub/b.txt", tarfile.REGTYPE, b"beta\n")
    add("top/link", tarfile.SYMTYPE, mode=0o777, link="a.txt")
    add("top/hard", tarfile.LNKTYPE, link="top/a.txt")


def build(path, gz):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        entries(t)
    data = buf.getvalue()
    if gz:
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as g:
            g.write(data)
        data = out.getvalue()
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    build(os.path.join(HERE, "plain.tar"), gz=False)
    build(os.path.join(HERE, "gz.tar.gz"), gz=True)
