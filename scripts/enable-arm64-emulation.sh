#!/bin/sh
# Register qemu-aarch64 in binfmt_misc so that linux/arm64 containers run on this (amd64) host.
# The registration is host-wide and often already there (Docker Desktop, tonistiigi/binfmt, an
# earlier run): then nothing is done. Needs root, qemu-user-static and binfmt-support installed.
# The F (fix-binary) flag is what lets a container use the host's qemu: the kernel opens the
# interpreter at registration, not inside each container's filesystem.
set -eu
dir=/proc/sys/fs/binfmt_misc
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
[ "$(uname -m)" = aarch64 ] && exit 0
if [ ! -e "$dir/register" ]; then
    as_root mount -t binfmt_misc binfmt_misc "$dir"
fi
if [ -e "$dir/qemu-aarch64" ] && grep -q '^enabled' "$dir/qemu-aarch64"; then
    exit 0
fi
qemu=$(command -v qemu-aarch64-static) || {
    echo "enable-arm64-emulation: qemu-aarch64-static is missing (apt-get install qemu-user-static binfmt-support)" >&2
    exit 1
}
# Debian's entry (/usr/share/binfmts/qemu-aarch64) carries the F flag; import it when it is known.
if command -v update-binfmts >/dev/null && [ -f /usr/share/binfmts/qemu-aarch64 ]; then
    as_root update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
    as_root update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi
if [ ! -e "$dir/qemu-aarch64" ]; then
    # The ELF header of an aarch64 executable (e_machine 0xb7), as every binfmt tool writes it.
    magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
    mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
    printf ':qemu-aarch64:M::%s:%s:%s:OCF\n' "$magic" "$mask" "$qemu" | as_root tee "$dir/register" >/dev/null
fi
grep -q '^enabled' "$dir/qemu-aarch64" || { echo "enable-arm64-emulation: qemu-aarch64 is registered but disabled" >&2; exit 1; }
grep -q '^flags:.*F' "$dir/qemu-aarch64" || echo "enable-arm64-emulation: warning: qemu-aarch64 is registered without the F flag; arm64 containers may not start" >&2
