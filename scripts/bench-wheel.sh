#!/bin/sh
# A package check's speed (issue 17: at most 0.1× auditwheel): `libccheck --no-run` of the
# 50-module fixture wheel on 7 cached fixture bases vs `auditwheel show` of the same wheel
# (auditwheel from PyPI, in its own virtualenv, installed when missing). Five short rounds, the
# ratio taken per round and its median reported (the machine's speed drifts over a long run).
#
#   scripts/bench-wheel.sh
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
target=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
venv=/var/tmp/libccheck-bench-auditwheel
if [ ! -x "$venv/bin/auditwheel" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet auditwheel
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
libccheck=$target/release/libccheck
wheel=$(pwd)/fixtures/out/bench50-1.0-cp311-cp311-manylinux_2_17_x86_64.whl
bases=libccheck-fixture/musl:latest,libccheck-fixture/debian-slim:bullseye,libccheck-fixture/debian-slim:bookworm,libccheck-fixture/debian-slim:trixie,libccheck-fixture/distroless-static:bookworm,libccheck-fixture/distroless-base:bookworm,libccheck-fixture/distroless-cc:bookworm
# The bases' profiles cached first, in a cache of this run's own.
LIBCCHECK_CACHE_DIR=$out/cache "$libccheck" --no-run -b "$bases" "$wheel" >/dev/null || true
echo "auditwheel $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("auditwheel"))'); libccheck $(git rev-parse --short HEAD)"
for round in 1 2 3 4 5; do
    hyperfine -N -w 1 -r 5 -i --export-json "$out/round-$round.json" \
        -n libccheck "env LIBCCHECK_CACHE_DIR=$out/cache $libccheck --no-run -b $bases $wheel" \
        -n auditwheel "$venv/bin/auditwheel show $wheel" >/dev/null 2>&1
done
paired_rounds "$out" round libccheck auditwheel "50-module wheel: --no-run, 7 cached bases vs auditwheel show" 0.100
