#!/bin/sh
# Image sources' speed (issue 21: profiling a ~160 MB image straight from a local registry at most
# 1.2x the daemon-export path; a fleet audit's peak memory under 300 MB). One image, libccheck-fixture/bench-160:latest (the python fixture
# plus ~70 MB of the host's shared libraries in a second layer), pushed to a local registry
# (Debian's docker-registry on 127.0.0.1). Each run predicts a binary on it with --no-run and an
# empty profile cache, so each profiles the image cold: from the daemon (a created container's
# export) or from the registry (manifest, config and the gzip layers, streamed and merged).
# Five rounds of hyperfine, the ratio taken per round and its median reported.
#
#   scripts/bench-sources.sh
set -eu
cd "$(dirname "$0")/.."
. scripts/bench-tools.sh
target=${CARGO_TARGET_DIR:-$(pwd)/target}
cargo build --release --quiet
fixtures/build-images.sh >/dev/null
fixtures/build-python-image.sh >/dev/null
fixtures/build-binaries.sh fixtures/out >/dev/null
libccheck=$target/release/libccheck
out=$(mktemp -d)
registry_pid=""
cleanup() {
    [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT INT TERM

# The bench image: built once (its label is the list of libraries copied in).
tag=libccheck-fixture/bench-160:latest
mkdir -p "$out/ctx/root/opt/extra/lib"
# The host's shared libraries (each under 8 MB), in name order, until about 70 MB.
libs=$(python3 - <<'PY'
import os
d, total = "/usr/lib/x86_64-linux-gnu", 0
for n in sorted(os.listdir(d)):
    p = os.path.join(d, n)
    if ".so" in n and os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) < 8_000_000:
        total += os.path.getsize(p)
        print(n)
        if total > 70_000_000:
            break
PY
)
label=$(echo "$libs" | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{ index .Config.Labels "org.libccheck.bench" }}' "$tag" 2>/dev/null)" != "$label" ]; then
    for l in $libs; do cp -L "/usr/lib/x86_64-linux-gnu/$l" "$out/ctx/root/opt/extra/lib/" 2>/dev/null || true; done
    printf 'FROM libccheck-fixture/python:bookworm\nCOPY root/ /\nLABEL org.libccheck.bench=%s\n' "$label" >"$out/ctx/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$out/ctx" >/dev/null
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")

# A local registry holding it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$out/registry" "$port" >"$out/registry.yml"
docker-registry serve "$out/registry.yml" >"$out/registry.log" 2>&1 &
registry_pid=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "the registry did not start" >&2; exit 1; }
    sleep 0.1
done
remote=127.0.0.1:$port/bench/bench-160:1
docker tag "$tag" "$remote"
docker push -q "$remote" >/dev/null
docker rmi "$remote" >/dev/null

bin=$(pwd)/fixtures/out/hello
# One cold profile per run: each side's cache is emptied first.
for side in registry daemon; do
    image=$tag
    [ $side = registry ] && image=registry:$remote
    printf '#!/bin/sh
rm -rf %s/cache-%s
LIBCCHECK_CACHE_DIR=%s/cache-%s exec %s --no-run --insecure-registry 127.0.0.1:%s -b %s %s >/dev/null
' \
        "$out" $side "$out" $side "$libccheck" "$port" "$image" "$bin" >"$out/$side.sh"
    chmod +x "$out/$side.sh"
done
echo "libccheck $(git rev-parse --short HEAD); image $tag, $((size / 1000000)) MB"
for round in 1 2 3 4 5; do
    hyperfine -N -w 1 -r 3 -i --export-json "$out/round-$round.json" \
        -n registry "$out/registry.sh" -n daemon "$out/daemon.sh" >/dev/null 2>&1
done
paired_rounds "$out" round registry daemon "profiling a $((size / 1000000)) MB image cold" 1.20

# The fleet audit: 20 references of the same registry (the bench image and the musl fixture under
# ten tags each), audited with --all against distroless-cc with no daemon at all (DOCKER_HOST names
# a socket that does not exist) and a cold cache; its peak memory from /usr/bin/time.
list=$out/fleet.txt
: >"$list"
for pair in "$tag bench" "libccheck-fixture/musl:latest musl"; do
    set -- $pair
    for i in 0 1 2 3 4 5 6 7 8 9; do
        docker tag "$1" "127.0.0.1:$port/fleet/$2:$i"
        docker push -q "127.0.0.1:$port/fleet/$2:$i" >/dev/null
        docker rmi "127.0.0.1:$port/fleet/$2:$i" >/dev/null
        echo "registry:127.0.0.1:$port/fleet/$2:$i" >>"$list"
    done
done
docker tag libccheck-fixture/distroless-cc:trixie "127.0.0.1:$port/fleet/target:1"
docker push -q "127.0.0.1:$port/fleet/target:1" >/dev/null
docker rmi "127.0.0.1:$port/fleet/target:1" >/dev/null
DOCKER_HOST=unix:///nonexistent/docker.sock LIBCCHECK_CACHE_DIR=$out/cache-fleet \
    /usr/bin/time -f '%M' -o "$out/fleet.rss" "$libccheck" audit --images-from "$list" \
    --to "registry:127.0.0.1:$port/fleet/target:1" --insecure-registry "127.0.0.1:$port" \
    --no-run --all --out "$out/fleet" >"$out/fleet.log" 2>&1 || { cat "$out/fleet.log" >&2; exit 1; }
head -1 "$out/fleet.log"
echo "fleet audit of 20 registry references, no daemon: peak RSS $(( $(cat "$out/fleet.rss") / 1024 )) MB (limit 300)"
