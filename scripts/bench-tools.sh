# Sourced by the bench scripts: the peers and the timer they need, installed when missing
# (Debian packages hyperfine and pax-utils — scanelf, lddtree; lddtree runs under `env python3`
# and needs pyelftools from PyPI).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=""
command -v hyperfine >/dev/null || missing="$missing hyperfine"
command -v scanelf >/dev/null || missing="$missing pax-utils"
if [ -n "$missing" ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
python3 -c 'import elftools' 2>/dev/null || python3 -m pip install --quiet pyelftools
