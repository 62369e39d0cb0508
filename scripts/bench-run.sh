#!/bin/sh
# Run-matrix speed, side by side in one run (issue: libccheck on 5 warm bases ≤ 0.5× a serial
# `docker run --rm` loop over the same images, ≤ 2× one `docker run --rm`; peak RSS < 60 MB).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
bin=$(pwd)/target/release/libccheck
app=${BENCH_BINARY:-$(pwd)/fixtures/out/hello}
images="libccheck-fixture/musl:latest libccheck-fixture/debian-slim:bookworm libccheck-fixture/distroless-static:bookworm libccheck-fixture/distroless-base:bookworm libccheck-fixture/distroless-cc:bookworm"
list=$(echo $images | tr ' ' ',')
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
loop="for i in $images; do docker run --rm -v $app:/app:ro \$i /app >/dev/null 2>&1 || true; done"
one="docker run --rm -v $app:/app:ro libccheck-fixture/debian-slim:bookworm /app"
hyperfine -w 2 -r 10 --export-json "$out/r.json" -i \
    -n libccheck "$bin -b $list $app" \
    -n serial-loop "sh -c '$loop'" \
    -n single-run "$one" >/dev/null
python3 - "$out/r.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
l, s, o = r["libccheck"], r["serial-loop"], r["single-run"]
print(f"libccheck (5 bases) {l*1000:7.0f} ms | serial docker run loop {s*1000:7.0f} ms | one docker run {o*1000:7.0f} ms")
print(f"ratio vs serial loop {l/s:.2f} (limit 0.5)   ratio vs one run {l/o:.2f} (limit 2.0)")
PY
python3 - "$bin" "$list" "$app" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "-b", sys.argv[2], sys.argv[3]], stdout=subprocess.DEVNULL)
print(f"peak RSS of libccheck: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:.1f} MB (limit 60)")
PY
