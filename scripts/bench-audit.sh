#!/bin/sh
# Audit speed, side by side in one run (issue: all ELF files of the bookworm slim fixture plus an
# application layer against one target, verified, ≥ 20× faster than one container per file; the
# static prediction alone faster than lddtree / scanelf -R over the same exported root).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
fixtures/build-app-image.sh >/dev/null
bin=$(pwd)/target/release/libccheck
image=libccheck-fixture/app:bookworm
target=libccheck-fixture/debian-slim:trixie
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
export LIBCCHECK_CACHE_DIR="$out/cache"
# The exported root, for the directory peers.
mkdir -p "$out/root"
id=$(docker create "$image" /none); docker export "$id" | tar -C "$out/root" -xf - 2>/dev/null || true; docker rm "$id" >/dev/null
"$bin" audit --image "$image" --all --no-run --to "$target" >/dev/null || true   # warm the target's profile
files=$("$bin" audit --image "$image" --all --no-run --to "$target" --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(f["path"] for f in d["targets"][0]["files"]))')
n=$(echo "$files" | wc -l)
echo "$files" >"$out/elfs"
t0=$(date +%s.%N)
"$bin" audit --image "$image" --all --to "$target" >/dev/null || true
t1=$(date +%s.%N)
# The peer: one container per file (a sample of 25, extrapolated to all files).
sample=$(echo "$files" | awk 'NR % int('"$n"'/25+1) == 0' | head -25)
k=$(echo "$sample" | wc -l)
t2=$(date +%s.%N)
for f in $sample; do
    docker run --rm --network none -v "$out/root$f:/probe-target:ro" "$target" /lib64/ld-linux-x86-64.so.2 --list /probe-target >/dev/null 2>&1 || true
done
t3=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$t3" "$n" "$k" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); n, k = int(sys.argv[5]), int(sys.argv[6])
ours = t1 - t0; per = (t3 - t2) / k; peer = per * n
print(f"verified audit of {n} files: libccheck {ours:.1f} s | one container per file {per*1000:.0f} ms × {n} = {peer:.0f} s (sampled {k}) | speed-up {peer/ours:.0f}× (limit ≥ 20×)")
PY
# Static prediction vs lddtree / scanelf over the same root. This machine's speed drifts by tens
# of percent within minutes: libccheck and scanelf alternate over 5 rounds and the median of the
# per-round ratios counts; lddtree (seconds per run) once.
hyperfine -N -w 1 -r 3 -i --export-json "$out/l.json" \
    -n predict "$bin audit $out/root --all --no-run --to $target" \
    -n lddtree "sh -c 'xargs lddtree -R $out/root < $out/elfs >/dev/null 2>&1'" >/dev/null 2>&1
for round in 1 2 3 4 5; do
    hyperfine -N -w 3 -r 15 -i --export-json "$out/s$round.json" \
        -n predict "$bin audit $out/root --all --no-run --to $target" \
        -n scanelf "scanelf -R -n $out/root" >/dev/null 2>&1
done
python3 - "$out" <<'PY'
import json, statistics, sys
med = lambda f: {x["command"]: x["median"] for x in json.load(open(f))["results"]}
rounds = [med(f"{sys.argv[1]}/s{i}.json") for i in range(1, 6)]
ratios = [r["predict"] / r["scanelf"] for r in rounds]
l = med(f"{sys.argv[1]}/l.json")
print("static prediction vs scanelf -R -n, per round (median ms): " + ", ".join(
    f"{r['predict']*1000:.0f}/{r['scanelf']*1000:.0f}" for r in rounds))
print(f"  ratio median {statistics.median(ratios):.2f}x scanelf (rounds {min(ratios):.2f}-{max(ratios):.2f}) | "
      f"lddtree {l['lddtree']*1000:.0f} ms vs {l['predict']*1000:.0f} ms: {l['predict']/l['lddtree']:.3f}x lddtree")
PY
# Peak memory auditing a ~1 GB image: the bookworm fixture plus the host's libraries and the Rust
# toolchain's (librustc_driver is ~150 MB) as an application layer.
big=libccheck-bench/big:1g
if ! docker image inspect "$big" >/dev/null 2>&1; then
    ctx=$out/big; mkdir -p "$ctx/root/opt/big"
    cp -a /usr/lib/x86_64-linux-gnu "$ctx/root/opt/big/lib" 2>/dev/null || true
    cp -a "$(rustc --print sysroot)/lib" "$ctx/root/opt/big/rust" 2>/dev/null || true
    printf 'FROM libccheck-fixture/debian-slim:bookworm\nCOPY root/ /\n' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$big" "$ctx" >/dev/null 2>&1
fi
size=$(docker image inspect -f '{{.Size}}' "$big")
/usr/bin/env time -f "%e %M" "$bin" audit --image "$big" --to "$target" >/dev/null 2>"$out/mem" || true
python3 - "$size" "$out/mem" <<'PY'
import sys
size = int(sys.argv[1]) / 1e9
secs, kb = open(sys.argv[2]).read().split()[-2:]
print(f"verified audit of a {size:.1f} GB image: {float(secs):.1f} s, peak RSS {int(kb)/1024:.0f} MB (limit 300 MB)")
PY
