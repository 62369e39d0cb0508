#!/bin/sh
# Behaviour check for a refactoring: the JSON of `inspect`, a check with runs, `--no-run`,
# `--offline` and `audit` (image and directory, verified and not) on the fixtures, from two builds,
# compared byte for byte with run ids and timings masked. Exit 1 on any difference.
#
#   scripts/compare-json.sh BEFORE_BIN AFTER_BIN
set -eu
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: scripts/compare-json.sh BEFORE_BIN AFTER_BIN" >&2; exit 2; }
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
fixtures/build-app-image.sh >/dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
f=fixtures/out
bases=libccheck-fixture/musl:latest,libccheck-fixture/debian-slim:bullseye,libccheck-fixture/debian-slim:bookworm,libccheck-fixture/distroless-base:bookworm,libccheck-fixture/distroless-cc:trixie
targets=libccheck-fixture/musl:latest,libccheck-fixture/distroless-cc:bookworm,libccheck-fixture/debian-slim:bullseye
# name|arguments (word-split; no spaces inside an argument)
cases="inspect-dir|inspect --format json $f
inspect-files|inspect --format json $f/hello-cxx $f/newer-glibc $f/pyext.so $f/libifunc.so.1 $f/hello-aarch64
check-cxx|--format json -b $bases $f/hello-cxx -- --version
check-runpath|--format json -b $bases $f/runpath/app-runpath --exec
check-glibc-only|--format json -b $bases $f/glibc-only
check-musl|--format json -b $bases $f/hello-musl --exec
check-lib|--format json -b $bases $f/libgreet.so.1
check-crash|--format json -b $bases $f/crash --exec
norun-newer|--format json --no-run -b $bases $f/newer-glibc
norun-nowhere|--format json --no-run -b $bases $f/needs-nowhere
offline-cxx|--format json --offline $f/hello-cxx
offline-glibc-only|--format json --offline -b alpine,debian-12,ubuntu-22.04,ubi-8 $f/glibc-only
audit-dir|audit $f/app-root --format json --to $targets
audit-dir-all|audit $f/app-root --all --no-run --format json --to $targets
audit-image|audit --image libccheck-fixture/app:bookworm --format json --to $targets
markdown-check|--format markdown -b $bases $f/hello-cxx"
# Run ids, timings and the image ids of images rebuilt in between are not behaviour.
normalize() {
    python3 -c '
import json, re, sys
text = sys.stdin.read()
try:
    v = json.loads(text)
except ValueError:
    print(re.sub(r"[0-9]+-[0-9]{10,}", "RUN", text)); sys.exit()
def walk(x):
    if isinstance(x, dict):
        return {k: ("*" if k in ("run_id", "ms") else walk(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [walk(i) for i in x]
    return x
print(json.dumps(walk(v), indent=1, sort_keys=False))'
}
differ=0
echo "$cases" | while IFS='|' read -r name args; do
    for side in before after; do
        bin=$1; [ $side = after ] && bin=$2
        # shellcheck disable=SC2086
        "$bin" $args 2>/dev/null | normalize >"$out/$name.$side" || true
    done
    if cmp -s "$out/$name.before" "$out/$name.after"; then
        printf 'same     %s (%s bytes)\n' "$name" "$(wc -c <"$out/$name.after")"
    else
        printf 'DIFFERS  %s\n' "$name"; diff "$out/$name.before" "$out/$name.after" | head -20
        echo x >>"$out/.differs"
    fi
done
[ ! -f "$out/.differs" ] || { echo "compare-json: outputs differ" >&2; exit 1; }
echo "compare-json: every output is byte-identical (run ids and timings masked)"
