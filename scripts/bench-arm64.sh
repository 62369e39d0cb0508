#!/bin/sh
# arm64 speed under emulation (issue 20): libccheck on 4 warm arm64 bases ≤ 2× one emulated
# `docker run --rm --platform linux/arm64` of the same program, side by side in one run. Needs
# qemu-aarch64 in binfmt_misc on an amd64 host (scripts/enable-arm64-emulation.sh).
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
fixtures/build-arm64-binaries.sh >/dev/null
fixtures/build-arm64-images.sh
bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/libccheck
app=${BENCH_BINARY:-$(pwd)/fixtures/out-arm64/hello-a64}
images="libccheck-fixture/musl-arm64:latest libccheck-fixture/debian-slim-arm64:bookworm libccheck-fixture/distroless-base-arm64:trixie libccheck-fixture/distroless-cc-arm64:trixie"
list=$(echo $images | tr ' ' ',')
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# Warm: every image's profile is cached by the first run.
"$bin" -b "$list" "$app" >/dev/null 2>&1 || true
one="docker run --rm --platform linux/arm64 -v $app:/app:ro libccheck-fixture/debian-slim-arm64:bookworm /app"
hyperfine -w 2 -r 10 --export-json "$out/r.json" -i \
    -n libccheck "$bin --platform linux/arm64 -b $list $app" \
    -n single-run "$one" >/dev/null
python3 - "$out/r.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
l, o = r["libccheck"], r["single-run"]
print(f"libccheck (4 arm64 bases) {l*1000:7.0f} ms | one emulated docker run {o*1000:7.0f} ms")
print(f"ratio vs one run {l/o:.2f} (limit 2.0)")
PY
