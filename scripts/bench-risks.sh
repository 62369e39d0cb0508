#!/bin/sh
# What run-time risk analysis costs, side by side in one run (issue 16: at most +10% on --no-run
# with 7 cached bases). Builds the last commit before the risk analysis (BEFORE, default 9a04f5c)
# beside the working tree's build, warms each one's profile cache, then times both on the same
# binaries. Prints each mean and the ratio after/before per binary.
#
#   scripts/bench-risks.sh            (inspect's 0.1× readelf figure: scripts/bench-inspect.sh)
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
before_ref=${BEFORE:-9a04f5c}
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The earlier build is kept between runs (it only changes with BEFORE).
before_dir=/var/tmp/libccheck-bench-before-$(git rev-parse --short "$before_ref")
before=$before_dir/target/release/libccheck
if [ ! -x "$before" ]; then
    rm -rf "$before_dir"; mkdir -p "$before_dir"
    git archive "$before_ref" | tar -x -C "$before_dir"
    (cd "$before_dir" && CARGO_TARGET_DIR="$before_dir/target" cargo build --release --quiet)
fi
after=$(pwd)/target/release/libccheck
bases=libccheck-fixture/musl:latest,libccheck-fixture/debian-slim:bullseye,libccheck-fixture/debian-slim:bookworm,libccheck-fixture/debian-slim:trixie,libccheck-fixture/distroless-static:bookworm,libccheck-fixture/distroless-base:bookworm,libccheck-fixture/distroless-cc:bookworm
for app in hello-cxx go-certs threadstack-musl-static; do
    f=$(pwd)/fixtures/out/$app
    # Each build its own cache (their formats differ), warmed first.
    LIBCCHECK_CACHE_DIR=$out/cache-before "$before" --no-run -b "$bases" "$f" >/dev/null || true
    LIBCCHECK_CACHE_DIR=$out/cache-after "$after" --no-run -b "$bases" "$f" >/dev/null || true
    # Five short rounds, the ratio taken per round and its median reported: the machine's
    # speed drifts over a long run, and a round pairs the two builds close in time.
    for round in 1 2 3 4 5; do
        hyperfine -N -w 2 -r 10 -i --export-json "$out/$app-$round.json" \
            -n before "env LIBCCHECK_CACHE_DIR=$out/cache-before $before --no-run -b $bases $f" \
            -n after "env LIBCCHECK_CACHE_DIR=$out/cache-after $after --no-run -b $bases $f" >/dev/null 2>&1
    done
    paired_rounds "$out" "$app" after before "--no-run, 7 cached bases, $app" 1.10
done
