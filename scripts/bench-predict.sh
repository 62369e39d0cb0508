#!/bin/sh
# Prediction speed, side by side in one run (issue: with cached profiles, --no-run on 7 bases
# ≤ 0.2× the same check with runs; first profile of a 150 MB slim image < 3 s).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
bin=$(pwd)/target/release/libccheck
app=$(pwd)/fixtures/out/hello-cxx
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
bases=libccheck-fixture/musl:latest,libccheck-fixture/debian-slim:bullseye,libccheck-fixture/debian-slim:bookworm,libccheck-fixture/debian-slim:trixie,libccheck-fixture/distroless-static:bookworm,libccheck-fixture/distroless-base:bookworm,libccheck-fixture/distroless-cc:bookworm
export LIBCCHECK_CACHE_DIR="$out/cache"
"$bin" --no-run -b "$bases" "$app" >/dev/null || true   # warm the profile cache
hyperfine -N -w 2 -r 10 -i --export-json "$out/r.json" \
    -n no-run "$bin --no-run -b $bases $app" \
    -n with-runs "$bin -b $bases $app" >/dev/null
python3 - "$out/r.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"--no-run (7 bases, cached) {r['no-run']*1000:6.0f} ms | with runs {r['with-runs']*1000:6.0f} ms | ratio {r['no-run']/r['with-runs']:.3f} (limit 0.2)")
PY
# A ~150 MB slim image: the bookworm slim fixture plus a layer of real libraries.
big=libccheck-bench/slim150:v2
if ! docker image inspect "$big" >/dev/null 2>&1; then
    ctx=$out/ctx; mkdir -p "$ctx/extra"
    find /usr/lib/x86_64-linux-gnu -maxdepth 1 -name '*.so*' -type f -size -8M | head -250 | xargs -I{} cp {} "$ctx/extra/"
    printf 'FROM libccheck-fixture/debian-slim:bookworm\nCOPY extra/ /usr/local/lib/bench/\nLABEL org.libccheck.bench=1\n' >"$ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$big" "$ctx" >/dev/null 2>&1
fi
size=$(docker image inspect -f '{{.Size}}' "$big")
for i in 1 2 3; do
    rm -rf "$LIBCCHECK_CACHE_DIR"
    /usr/bin/env time -f "%e" "$bin" --no-run -b "$big" "$app" >/dev/null 2>"$out/t$i" || true
done
python3 - "$size" "$out"/t1 "$out"/t2 "$out"/t3 <<'PY'
import sys
size = int(sys.argv[1]) / 1e6
ts = [float(open(f).read().split()[-1]) for f in sys.argv[2:]]
print(f"first profile of a {size:.0f} MB image: {min(ts):.2f} s best, {sum(ts)/len(ts):.2f} s mean of {len(ts)} (limit 3 s)")
PY
