#!/usr/bin/env python3
"""List tar archives as Python's tarfile reads them, for the differential test of copyedit's reader.

  python3 tarlist.py FILE...   one JSON line per FILE (with no FILE: paths read from stdin, one a line):
    {"ok": true, "entries": [{"name": hex, "type": "0", "size": n, "sha256": hex|null, "link": hex}], "clean": bool}
    {"ok": false, "error": "..."}
"clean" is false when tarfile stopped before the end of the archive without an error (it ends
silently at a header it cannot read, where Go's archive/tar reports ErrHeader).
"""
import hashlib
import json
import sys
import tarfile


def clean_end(data, offset):
    rest = data[offset:]
    if len(rest) == 0:
        return True
    if len(rest) < 512 or rest[:512].count(0) != 512:
        return False
    after = rest[512:1024]
    return len(after) == 0 or (len(after) == 512 and after.count(0) == 512)


def enc(s):
    return s.encode("utf-8", "surrogateescape").hex()


def one(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        out = []
        with tarfile.open(path, mode="r:", encoding="utf-8", errors="surrogateescape") as tf:
            for m in tf:
                t = m.type.decode("latin1")
                if t == "\0":
                    t = "0"
                e = {"name": enc(m.name), "type": t, "size": m.size, "sha256": None, "link": enc(m.linkname)}
                if m.isreg():
                    fo = tf.extractfile(m)
                    body = fo.read()
                    if len(body) != m.size:
                        raise tarfile.ReadError("unexpected end of data")
                    e["sha256"] = hashlib.sha256(body).hexdigest()
                out.append(e)
            end = tf.offset
        return {"ok": True, "entries": out, "clean": clean_end(data, end)}
    except Exception as ex:  # any refusal counts as one
        return {"ok": False, "error": f"{type(ex).__name__}: {ex}"}


for p in sys.argv[1:] or sys.stdin.read().splitlines():
    print(json.dumps(one(p)), flush=False)
