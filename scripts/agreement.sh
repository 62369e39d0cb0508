#!/bin/sh
# The standing agreement run (issue 14): a root directory of many real Debian 12 packages (their
# files and dpkg file lists, so `--all` treats every file as packaged, like an image's), audited
# with `--all` against the fixture bases with verification; per target the cells (files),
# agreements, cells without a verdict from the run, and every disagreement. Exit 1 when any
# prediction disagrees with its verification (or a target could not be verified), 2 on errors.
#
#   scripts/agreement.sh            full: ~560 packages (compilers, interpreters, media and crypto
#                                   libraries, Go and Rust programs, static and 32-bit files) on
#                                   every fixture base, one libccheck invocation per target
#   scripts/agreement.sh --small    CI's run: ~50 packages on three bases (AGREEMENT_SMALL=1 too)
#
# Environment: AGREEMENT_TARGETS (space-separated bases, overrides the mode's), AGREEMENT_TOGETHER=1
# (all targets in one invocation instead of one per target), LIBCCHECK_BIN (default: the release
# build, built when missing), AGREEMENT_OUT (where the JSON reports stay; default a temporary
# directory), LIBCCHECK_AGREEMENT_WORK (cache, default /var/tmp/libccheck-agreement), MIRROR.
# The root is cached under the work directory, keyed by the requested package list; the .debs are
# shared between modes. Remove the work directory to pick up the mirror's newer packages.
set -eu
cd "$(dirname "$0")/.."
MIRROR=${MIRROR:-http://deb.debian.org/debian}
work=${LIBCCHECK_AGREEMENT_WORK:-/var/tmp/libccheck-agreement}
mode=full
[ "${AGREEMENT_SMALL:-}" = 1 ] && mode=small
for a in "$@"; do
    case $a in
        --small) mode=small ;;
        --full) mode=full ;;
        *) echo "usage: scripts/agreement.sh [--small|--full]" >&2; exit 2 ;;
    esac
done

# Top-level packages; apt adds their dependencies (no recommends).
full_pkgs="gcc-12 g++-12 clang-14 binutils gfortran-12 rustc golang-1.19-go
 python3 python3-numpy perl libperl5.36 ruby3.1 lua5.4 tcl8.6 nodejs php8.2-cli guile-3.0
 openjdk-17-jre-headless erlang-base
 ffmpeg imagemagick libvips42 sox gstreamer1.0-plugins-base mesa-utils libgl1-mesa-dri
 libssl3 openssl gnutls-bin libsodium23 libgcrypt20 libnss3 gnupg
 restic rclone age fzf hugo
 ripgrep fd-find bat exa hyperfine zoxide librsvg2-bin rust-coreutils
 git curl vim-nox systemd gdb valgrind strace ltrace sqlite3 postgresql-15 apache2-bin nginx-core
 busybox-static qemu-user-static musl musl-tools libc6-i386 libc6-arm64-cross libatomic1
 zstd xz-utils libarchive13"
small_pkgs="libpython3.11-stdlib libperl5.36 libatomic1 libssl3 libsodium23 ripgrep libstdc++6
 libgcrypt20 zstd busybox-static libc6-i386 musl libgomp1 libz3-4"
full_targets="libccheck-fixture/musl:latest libccheck-fixture/debian-slim:bullseye
 libccheck-fixture/debian-slim:bookworm libccheck-fixture/debian-slim:trixie
 libccheck-fixture/distroless-static:bookworm libccheck-fixture/distroless-base:bookworm
 libccheck-fixture/distroless-cc:bookworm libccheck-fixture/distroless-static:trixie
 libccheck-fixture/distroless-base:trixie libccheck-fixture/distroless-cc:trixie"
small_targets="libccheck-fixture/musl:latest libccheck-fixture/debian-slim:bullseye
 libccheck-fixture/distroless-cc:trixie"
if [ $mode = small ]; then pkgs=$small_pkgs; targets=$small_targets; else pkgs=$full_pkgs; targets=$full_targets; fi
pkgs=$(echo $pkgs)
targets=$(echo ${AGREEMENT_TARGETS:-$targets})

for tool in docker apt-get dpkg-deb tar python3; do
    command -v $tool >/dev/null || { echo "agreement: $tool is missing" >&2; exit 2; }
done
for t in $targets; do
    docker image inspect "$t" >/dev/null 2>&1 || { echo "agreement: $t is missing: run fixtures/build-images.sh" >&2; exit 2; }
done

if [ -n "${LIBCCHECK_BIN:-}" ]; then
    bin=$LIBCCHECK_BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$(pwd)/target}/release/libccheck
fi

# The root: every package's files at their paths (merged /usr as debootstrap makes it) and its
# dpkg file list; no maintainer scripts run, so nothing but the packages' own files is there.
key=$(printf '%s\n' "root-v1 $pkgs" | sha256sum | cut -c1-12)
root=$work/root-$mode-$key
apt=$work/apt
aptopts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache -o Dir::State::Status=$apt/status -o APT::Sandbox::User=root -o Debug::NoLocking=1 -o APT::Install-Recommends=false"
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9
if [ ! -f "$root/.complete" ]; then
    echo "agreement: building the $mode root ($root)" >&2
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm main" >"$apt/sources.list"
    : >"$apt/status"   # nothing installed: apt resolves every dependency
    apt-get -qq $aptopts update >&2
    apt-get -qq $aptopts --download-only -y install $pkgs >&2
    # The resolved packages, as the .deb files apt saved (epochs are %3a in file names).
    apt-get -qq $aptopts -s install $pkgs | awk '/^Inst /{v=$3; sub(/^\(/,"",v); gsub(/:/,"%3a",v); for (i=4; i<=NF; i++) if ($i ~ /^\[[a-z0-9]+\]\)$/) a=substr($i, 2, length($i)-3); print $2"_"v"_"a".deb"}' >"$work/debs-$mode-$key"
    rm -rf "$root"; mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" "$root/usr/lib32" "$root/usr/libx32" "$root/var/lib/dpkg/info"
    for d in bin sbin lib lib64 lib32 libx32; do ln -s "usr/$d" "$root/$d"; done
    while read -r deb; do
        f=$apt/cache/archives/$deb
        [ -f "$f" ] || { echo "agreement: $deb was not downloaded" >&2; exit 2; }
        dpkg-deb --fsys-tarfile "$f" | tar -x --keep-directory-symlink -C "$root"
        dpkg-deb --fsys-tarfile "$f" | tar -t | sed 's|^\./|/|; s|/$||; s|^$|/.|' >"$root/var/lib/dpkg/info/${deb%%_*}.list"
    done <"$work/debs-$mode-$key"
    touch "$root/.complete"
fi
flock -u 9
npkg=$(wc -l <"$work/debs-$mode-$key")

out=${AGREEMENT_OUT:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${AGREEMENT_OUT:-}" ] || trap 'rm -rf "$out"' EXIT
export LIBCCHECK_CACHE_DIR=${LIBCCHECK_CACHE_DIR:-$work/cache}
# Warm the target profiles (read once per image, cached), so the timings are the audit's.
"$bin" audit "$root" --all --no-run --format json $(for t in $targets; do printf ' --to %s' "$t"; done) >"$out/predicted.json" 2>"$out/predicted.err" || true
nfiles=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["targets"][0]["audited"])' "$out/predicted.json" 2>/dev/null) \
    || { cat "$out/predicted.err" >&2; exit 2; }
echo "agreement ($mode): $npkg packages, $nfiles ELF files, $(echo $targets | wc -w) targets; libccheck $bin" >&2

status=0
audit() { # name target...
    _n=$1; shift
    /usr/bin/time -f "%e %M" -o "$out/$_n.time" \
        "$bin" audit "$root" --all --format json $(for t in "$@"; do printf ' --to %s' "$t"; done) \
        >"$out/$_n.json" 2>"$out/$_n.err" || true
}
if [ "${AGREEMENT_TOGETHER:-}" = 1 ]; then
    audit all $targets
else
    i=0
    for t in $targets; do i=$((i + 1)); audit "t$i" "$t"; done
fi
python3 - "$out" "$nfiles" "$npkg" <<'PY' || status=$?
import glob, json, os, sys
out, nfiles, npkg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bad = 0
rows = []
for path in sorted(glob.glob(f"{out}/t*.json") + glob.glob(f"{out}/all.json"), key=lambda p: (len(p), p)):
    name = os.path.basename(path)[:-5]
    secs, kb = open(f"{out}/{name}.time").read().split()[-2:]
    try:
        doc = json.load(open(path))
    except ValueError:
        print(f"{name}: no report ({open(f'{out}/{name}.err').read().strip()[-400:]})")
        bad = 2
        continue
    n_targets = len(doc["targets"])
    for t in doc["targets"]:
        files = t["files"]
        agree = sum(1 for f in files if f["agree"] is True)
        dis = [f for f in files if f["agree"] is False]
        unverified = sum(1 for f in files if f["agree"] is None)
        per703 = float(secs) / n_targets / max(len(files), 1) * 703
        rows.append((t["base"], len(files), agree, len(dis), unverified, float(secs) / n_targets, int(kb) / 1024, per703, n_targets))
        if t.get("error"):
            print(f"{t['base']}: ERROR {t['error']}")
            bad = max(bad, 1)
        for f in dis:
            d = f.get("differs") or {}
            print(f"DISAGREE {t['base']} {f['path']}: predicted {f['predicted']}, verified {f['verified']}; "
                  f"predicted only {d.get('predicted_only')}, run only {d.get('run_only')}")
            bad = max(bad, 1)
print(f"{npkg} packages, {nfiles} ELF files")
print(f"{'TARGET':46} {'CELLS':>6} {'AGREE':>6} {'DISAGREE':>8} {'NO VERDICT':>10} {'WALL s':>7} {'RSS MB':>7} {'s/703 files':>11}")
for base, cells, agree, dis, unv, secs, mb, per703, n in rows:
    shared = " (one run for all targets: wall shared)" if n > 1 else ""
    print(f"{base:46} {cells:6} {agree:6} {dis:8} {unv:10} {secs:7.1f} {mb:7.0f} {per703:11.2f}{shared}")
sys.exit(bad)
PY
exit $status
