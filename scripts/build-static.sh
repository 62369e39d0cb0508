#!/bin/sh
# A static libccheck, for CI images without glibc (Alpine's docker:27, busybox): glibc linked in
# with crt-static on the host's gnu target (the musl Rust target is not needed). Prints the path
# of the binary. `--debug` builds the debug profile (faster to build; the tests use it).
#
#   scripts/build-static.sh            # release: target/<triple>/release/libccheck
#   scripts/build-static.sh --debug    # debug:   target/<triple>/debug/libccheck
set -eu
cd "$(dirname "$0")/.."
profile=release
case "${1:-}" in
    "") ;;
    --debug) profile=debug ;;
    *) echo "usage: scripts/build-static.sh [--debug]" >&2; exit 2 ;;
esac
triple=$(rustc -vV | sed -n 's/^host: //p')
case "$triple" in
    *-linux-gnu) ;;
    *) echo "build-static.sh: needs a *-linux-gnu host toolchain, not $triple" >&2; exit 2 ;;
esac
# An explicit --target keeps RUSTFLAGS off build scripts and proc-macros, which must stay dynamic.
flag=""
[ "$profile" = release ] && flag=--release
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --quiet --locked $flag --target "$triple" --bin libccheck >&2
echo "${CARGO_TARGET_DIR:-$(pwd)/target}/$triple/$profile/libccheck"
