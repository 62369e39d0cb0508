#!/bin/sh
# Inspector speed, side by side in one run (issue: inspect ≤ 0.1× readelf on a ≥100 MB library,
# ≤ 0.7× scanelf walking /usr/lib). Prints each mean and the ratio. Needs hyperfine, pax-utils.
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
cargo build --release --quiet
bin=./target/release/libccheck
lib=${BIG_LIB:-$(ls "$(rustc --print sysroot)"/lib/librustc_driver-*.so | head -1)}
tree=${WALK_DIR:-/usr/lib}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "big library: $lib ($(du -h "$lib" | cut -f1))"
hyperfine -N -w 3 -r 20 --export-json "$out/lib.json" \
    "$bin inspect --format json $lib" "readelf --dyn-syms -V -d -l -n $lib" >/dev/null
echo "walk: $tree ($(find "$tree" -type f | wc -l) files)"
hyperfine -N -w 1 -r 5 --export-json "$out/walk.json" \
    "$bin inspect --format json $tree" "scanelf -R -n $tree" >/dev/null
python3 - "$out" <<'PY'
import json, sys
d = sys.argv[1]
for name, limit in (("lib", 0.1), ("walk", 0.7)):
    r = json.load(open(f"{d}/{name}.json"))["results"]
    a, b = r[0]["mean"], r[1]["mean"]
    peer = r[1]["command"].split()[0]
    print(f"{name:5} libccheck {a*1000:8.1f} ms   {peer} {b*1000:8.1f} ms   ratio {a/b:.3f} (limit {limit})")
PY
