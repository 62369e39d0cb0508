#!/usr/bin/env python3
"""Assemble catalog/catalog.json from generated entries (real images / packages) and
catalog/manual.json. Usage: gen-catalog.py GENERATED.jsonl MUSL_TRIXIE.json MUSL_BOOKWORM.json"""
import json, re, sys

gen = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
musl = {"trixie": json.load(open(sys.argv[2])), "bookworm": json.load(open(sys.argv[3]))}
manual = json.load(open("catalog/manual.json"))
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
order = lambda e: (e["name"].split("-")[0], e["name"])
json.dump({"schema": "libccheck/catalog/v1", "entries": sorted(entries, key=order)}, open("catalog/catalog.json", "w"), indent=None, separators=(",", ":"))
print(f"catalog/catalog.json: {len(entries)} entries", file=sys.stderr)
