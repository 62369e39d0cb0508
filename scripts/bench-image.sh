#!/bin/sh
# `libccheck image`'s speed (issue 18: a verified check of the app fixture image no slower than
# today's verified `audit --image` of that image against one target): both commands on
# libccheck-fixture/app:bookworm, the target being the image's own base (the bookworm slim
# fixture), profiles cached first. Five short rounds, the ratio taken per round and its median
# reported.
#
#   scripts/bench-image.sh
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
target=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build --release --quiet
fixtures/build-images.sh
fixtures/build-app-image.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
libccheck=$target/release/libccheck
app=libccheck-fixture/app:bookworm
to=libccheck-fixture/debian-slim:bookworm
LIBCCHECK_CACHE_DIR=$out/cache "$libccheck" image "$app" >/dev/null || true
LIBCCHECK_CACHE_DIR=$out/cache "$libccheck" audit --image "$app" --to "$to" >/dev/null || true
echo "libccheck $(git rev-parse --short HEAD)"
for round in 1 2 3 4 5; do
    hyperfine -N -w 1 -r 3 -i --export-json "$out/round-$round.json" \
        -n image "env LIBCCHECK_CACHE_DIR=$out/cache $libccheck image $app" \
        -n audit "env LIBCCHECK_CACHE_DIR=$out/cache $libccheck audit --image $app --to $to" >/dev/null 2>&1
done
paired_rounds "$out" round image audit "app fixture image, verified" 1.00
