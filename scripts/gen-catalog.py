#!/usr/bin/env python3
"""Assemble catalog/catalog.json from generated entries (real images / packages) and
catalog/manual.json. Usage: gen-catalog.py GENERATED.jsonl MUSL_TRIXIE.json MUSL_BOOKWORM.json
or, to refresh only the image sizes of the catalog as it is: gen-catalog.py --sizes GENERATED.jsonl"""
import json, re, sys

def write(entries):
    order = lambda e: (e["name"].split("-")[0], e["name"])
    doc = {"schema": "libccheck/catalog/v1", "entries": sorted(entries, key=order)}
    with open("catalog/catalog.json", "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), ensure_ascii=False)
    print(f"catalog/catalog.json: {len(entries)} entries", file=sys.stderr)

def with_size(entry, measured, manual):
    """The entry with its image size: measured from the image it was generated from (with the
    public figure noted), else the approximate public figure manual.json records."""
    e = {k: v for k, v in entry.items() if k not in ("size", "size_source")}
    if measured.get("size") is not None:
        notes = [n["note"] for n in manual["size_notes"] if e["name"].startswith(n["prefix"])]
        e["size"], e["size_source"] = measured["size"], "; ".join([measured["size_source"]] + notes)
    for group in manual["sizes"]:
        if e["name"] in group["entries"]:
            e["size"], e["size_source"] = group["size"], group["source"]
    return e

manual = json.load(open("catalog/manual.json"))
if sys.argv[1] == "--sizes":
    measured = {e["name"]: e for e in (json.loads(l) for l in open(sys.argv[2]) if l.strip())}
    current = json.load(open("catalog/catalog.json"))["entries"]
    write([with_size(e, measured.get(e["name"], {}), manual) for e in current])
    sys.exit(0)

gen = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
musl = {"trixie": json.load(open(sys.argv[2])), "bookworm": json.load(open(sys.argv[3]))}
ref = next(e for e in gen if e["name"] == "debian-13")

def num(v):
    m = re.match(r"^([A-Z]+)_(\d+(?:\.\d+)*)$", v)
    return (m.group(1), tuple(int(x) for x in m.group(2).split("."))) if m else (None, None)

def cut(versions, maxima, glibc):
    out = []
    for v in versions:
        fam, n = num(v)
        if v == "GLIBC_ABI_DT_RELR":
            if glibc >= (2, 36):
                out.append(v)
        elif fam is None:
            out.append(v)
        elif fam in maxima and n <= tuple(int(x) for x in maxima[fam].split(".")):
            out.append(v)
    return out

def with_runtime(source, runtime):
    """The hand-entered run-time facts of an entry, their source appended to the entry's."""
    if runtime is None:
        return {"source": source}
    return {"runtime": runtime["facts"], "source": source + "; " + runtime["source"]}

entries = list(gen)
for m in manual["glibc_like"]:
    glibc = tuple(int(x) for x in m["libc_version"].split("."))
    libs = {s: cut(ref["libraries"].get(s, []), m["max"], glibc) for s in m["sonames"]}
    entries.append({
        "name": m["name"], "image": m["image"], "os": m["os"], "libc": "glibc", "libc_version": m["libc_version"],
        "loaders": ["/lib64/ld-linux-x86-64.so.2"], "libraries": libs, "shell": m["shell"],
        **with_runtime(m["source"], m.get("runtime")),
    })
for a in manual["alpine"]:
    base = musl[a["musl"]]
    libs = dict(base["libraries"])
    for s in manual["alpine_sonames"]:
        libs.setdefault(s, [])
    entries.append({
        "name": a["name"], "image": a["image"], "os": "Alpine Linux " + a["name"].split("-")[1], "libc": "musl",
        "libc_version": a["libc_version"], "loaders": base["loaders"], "libraries": libs,
        "musl_exports": base["musl_exports"], "shell": True,
        **with_runtime(a["source"], manual["alpine_runtime"]),
    })
write([with_size(e, e, manual) for e in entries])
