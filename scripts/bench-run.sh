#!/bin/sh
# Run-matrix speed, side by side (issue 19: libccheck on 5 warm bases ≤ 0.4× a serial
# `docker run --rm` loop over the same images and ≤ 1.5× one `docker run --rm`; peak RSS < 60 MB).
# Five rounds, each pairing libccheck with both peers close in time; the median ratio is printed.
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/libccheck
app=${BENCH_BINARY:-$(pwd)/fixtures/out/hello}
images="libccheck-fixture/musl:latest libccheck-fixture/debian-slim:bookworm libccheck-fixture/distroless-static:bookworm libccheck-fixture/distroless-base:bookworm libccheck-fixture/distroless-cc:bookworm"
list=$(echo $images | tr ' ' ',')
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
loop="for i in $images; do docker run --rm -v $app:/app:ro \$i /app >/dev/null 2>&1 || true; done"
one="docker run --rm -v $app:/app:ro libccheck-fixture/debian-slim:bookworm /app"
"$bin" -b "$list" "$app" >/dev/null || true  # profiles cached: the bases are warm (exit 1: two bases fail)
for i in 1 2 3 4 5; do
    hyperfine -N -w 1 -r 5 --export-json "$out/r-$i.json" -i \
        -n libccheck "$bin -b $list $app" \
        -n serial-loop "sh -c '$loop'" \
        -n single-run "$one" >/dev/null
done
paired_rounds "$out" r libccheck serial-loop "5 warm bases vs a serial docker run loop" 0.4
paired_rounds "$out" r libccheck single-run "5 warm bases vs one docker run --rm" 1.5
python3 - "$bin" "$list" "$app" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "-b", sys.argv[2], sys.argv[3]], stdout=subprocess.DEVNULL)
print(f"peak RSS of libccheck: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:.1f} MB (limit 60)")
PY
