# Sourced by the bench scripts: the peers and the timer they need, installed when missing
# (Debian packages hyperfine and pax-utils — scanelf, lddtree; lddtree runs under `env python3`
# and needs pyelftools from PyPI).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=""
command -v hyperfine >/dev/null || missing="$missing hyperfine"
command -v scanelf >/dev/null || missing="$missing pax-utils"
[ -x /usr/bin/time ] || missing="$missing time"
if [ -n "$missing" ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
python3 -c 'import elftools' 2>/dev/null || python3 -m pip install --quiet pyelftools

# Summarise five paired rounds: $1 the directory, $2 the rounds' file prefix ($1/$2-<n>.json,
# hyperfine's --export-json), $3 and $4 the names of the command measured and of its peer, $5 a
# label, $6 the ratio's limit. The ratio is taken per round (the machine's speed drifts over a
# long run; a round pairs the two close in time) and its median printed.
paired_rounds() {
    python3 - "$@" <<'PY'
import json, statistics, sys
d, prefix, ours_name, peer_name, label, limit = sys.argv[1:7]
rounds = []
for i in range(1, 6):
    r = {x["command"]: x["median"] for x in json.load(open(f"{d}/{prefix}-{i}.json"))["results"]}
    rounds.append((r[ours_name], r[peer_name]))
ratios = sorted(ours / peer for ours, peer in rounds)
ours = statistics.median(o for o, _ in rounds)
peer = statistics.median(p for _, p in rounds)
print(f"{label}: {ours_name} {ours*1000:7.1f} ms   {peer_name} {peer*1000:7.1f} ms   "
      f"ratio {statistics.median(ratios):.3f} (rounds {ratios[0]:.3f}-{ratios[-1]:.3f}; limit {limit})")
PY
}
