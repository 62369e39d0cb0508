#!/bin/sh
# Peak memory with large files (issue: a check of a 300 MB binary on 6 bases under 60 MB; an audit
# of a tree with a 2 GB file, verified, under 300 MB). Uploads are streamed from disk, so memory
# should not grow with the file's size or the number of bases. Side by side: the same figures for
# another libccheck build (e.g. the one before a change) when PEER=/path/to/libccheck is set, and
# the wall time against one `docker cp` of the same file into a created container per base.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
fixtures/build-binaries.sh >/dev/null
fixtures/build-images.sh
bin=$(pwd)/target/release/libccheck
work=$(mktemp -d /var/tmp/libccheck-bench-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A loadable program padded with a section of random bytes (not loaded, but uploaded).
padded() { # size-in-MB output
    head -c "$(($1 << 20))" /dev/urandom >"$work/pad"
    objcopy --add-section .libccheck_pad="$work/pad" --set-section-flags .libccheck_pad=noload,readonly \
        fixtures/out/hello "$2"
    rm -f "$work/pad"
}
padded 300 "$work/big300"
mkdir -p "$work/root/opt/app"
cp fixtures/out/hello "$work/root/opt/app/hello"
padded 2048 "$work/root/opt/app/big2g"

six="libccheck-fixture/musl:latest,libccheck-fixture/debian-slim:bullseye,libccheck-fixture/debian-slim:bookworm,libccheck-fixture/debian-slim:trixie,libccheck-fixture/distroless-base:bookworm,libccheck-fixture/distroless-cc:bookworm"

# peak RSS (MB) and wall seconds of a command
measure() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - t
print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:7.1f} MB  {wall:6.1f} s")
PY
}

# The peer of the uploads: docker cp of the same file into one created container per base.
cp_each="for i in $(echo "$six" | tr ',' ' '); do c=\$(docker create \$i /x); docker cp $work/big300 \$c:/big300; docker rm -f \$c; done"

# Each build keeps its own profile cache (a build of another cache format would remove ours).
export LIBCCHECK_CACHE_DIR="$work/cache"
peer() { env LIBCCHECK_CACHE_DIR="$work/peer-cache" "$PEER" "$@"; }
echo "check of a 300 MB binary on 6 bases (limit 60 MB):"
printf '  libccheck, profiles not cached  %s\n' "$(measure "$bin" -b "$six" "$work/big300")"
printf '  libccheck, profiles cached      %s\n' "$(measure "$bin" -b "$six" "$work/big300")"
[ -z "${PEER:-}" ] || { peer --no-run -b "$six" "$work/big300" >/dev/null 2>&1 || true
    printf '  peer build, profiles cached     %s\n' "$(measure env LIBCCHECK_CACHE_DIR="$work/peer-cache" "$PEER" -b "$six" "$work/big300")"; }
printf '  docker cp x6                    %s\n' "$(measure sh -c "$cp_each")"
echo "audit of a tree with a 2 GB file, verified on bookworm (limit 300 MB):"
printf '  libccheck                       %s\n' "$(measure "$bin" audit "$work/root" --to libccheck-fixture/debian-slim:bookworm)"
[ -z "${PEER:-}" ] || printf '  peer build                      %s\n' "$(measure env LIBCCHECK_CACHE_DIR="$work/peer-cache" "$PEER" audit "$work/root" --to libccheck-fixture/debian-slim:bookworm)"
