#!/bin/sh
# Long run of the mutation fuzz test (default 100 000 mutated ELF inputs, release build).
set -eu
cd "$(dirname "$0")/.."
PROPTEST_CASES=${1:-100000} cargo test --release --test tests fuzz -- --nocapture
