#!/usr/bin/env bash
# first_apply.sh - how long a first `portwall apply` takes (nothing loaded
# before: parse, compile, load and verify the programs, write, attach),
# side by side in one run: on a veth alone (the Ethernet programs only),
# and on the veth and a tun device (the L3 programs too, which every
# first apply verified before they were loaded on demand). Runs in a
# namespace it makes (root). Prints medians and min-max, and the ratio of
# the medians; a benchmark, not a test.
#
# PORTWALL (build/portwall), POLICY (policies/ccp.policy), ROUNDS (5): each
# round times one apply of each kind, alternating, unloading after each.
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
POL=${POLICY:-policies/ccp.policy}
N=${ROUNDS:-5}
[ "$(id -u)" -eq 0 ] || { echo "first_apply.sh: needs root" >&2; exit 1; }
NS=pwfa$$ ROOT=/sys/fs/bpf/pwfirst$$ T=$(mktemp -d /tmp/pw-bench-XXXXXX)
trap '"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
ip netns add "$NS"
ip -n "$NS" link add pwfa0 type veth peer name pwfa1
ip -n "$NS" link set pwfa0 up
ip -n "$NS" link set pwfa1 up
ip -n "$NS" tuntap add dev pwfat mode tun
ip -n "$NS" link set pwfat up

# one IFACES: the apply's wall time in ms, or nothing if it failed
once() {
	local s e
	s=$(date +%s%N)
	"$PW" apply "$POL" --iface "$1" --netns "$NS" --pin-root "$ROOT" > "$T/out" 2>&1 || { cat "$T/out" >&2; return 1; }
	e=$(date +%s%N)
	"$PW" unload --pin-root "$ROOT" > /dev/null 2>&1
	echo $(((e - s) / 1000000))
}

# median min max of the numbers in file
stats() { sort -n "$1" | awk '{v[NR]=$1} END {printf "%d %d %d", (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2), v[1], v[NR]}'; }

: > "$T/eth"; : > "$T/l3"
for _ in $(seq "$N"); do
	once pwfa0 >> "$T/eth" || exit 1
	once pwfa0,pwfat >> "$T/l3" || exit 1
done
read -r me le he < <(stats "$T/eth")
read -r ml ll hl < <(stats "$T/l3")
echo "first apply of $POL, $N rounds (ms: median, min-max)"
printf '  %-44s %6d  %d-%d\n' "veth alone (Ethernet programs)" "$me" "$le" "$he"
printf '  %-44s %6d  %d-%d\n' "veth and tun (Ethernet and L3 programs)" "$ml" "$ll" "$hl"
awk -v a="$me" -v b="$ml" 'BEGIN { printf "  veth alone / veth and tun: %.2fx\n", a / b }'
