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
python3 - "$out" <<'PY'
import json, statistics, sys
d = sys.argv[1]
rounds = []
for i in range(1, 6):
    r = {x["command"]: x["median"] for x in json.load(open(f"{d}/round-{i}.json"))["results"]}
    rounds.append((r["libccheck"], r["auditwheel"]))
ratios = sorted(ours / peer for ours, peer in rounds)
ours = statistics.median(o for o, _ in rounds)
peer = statistics.median(p for _, p in rounds)
print(f"50-module wheel: libccheck --no-run, 7 cached bases {ours*1000:6.1f} ms   auditwheel show {peer*1000:7.1f} ms   "
      f"ratio {statistics.median(ratios):.3f} (rounds {ratios[0]:.3f}-{ratios[-1]:.3f}; limit 0.100)")
PY
