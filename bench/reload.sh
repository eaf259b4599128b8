#!/usr/bin/env bash
# reload.sh - how long a hot reload takes, from `portwall apply` starting to
# it returning with the new policy in force, for each shipped policy and the
# 65,535-port / 100,000-prefix policy. Runs on a veth in a namespace it makes
# (root). Prints medians and min-max; a benchmark, not a test.
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
GEN=${GEN_SCALE:-build/bench/gen_scale}
N=${RELOADS:-20}
[ "$(id -u)" -eq 0 ] || { echo "reload.sh: needs root" >&2; exit 1; }
NS=pwb$$ ROOT=/sys/fs/bpf/pwbench$$ T=$(mktemp -d /tmp/pw-bench-XXXXXX)
trap '"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
ip netns add "$NS"
ip -n "$NS" link add pwb0 type veth peer name pwb1
ip -n "$NS" link set pwb0 up
ip -n "$NS" link set pwb1 up
"$GEN" > "$T/scale.policy"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
printf '# hot reload, apply start to return (policy in force), %d reloads each, ms\n' "$N"
printf '%-28s %8s %8s %8s %12s\n' policy median min max "first apply"
for p in policies/base.policy policies/ccp.policy policies/finesse.policy policies/socialminer.policy \
	policies/engage-client.policy "$T/scale.policy"; do
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	t0=$(date +%s%N)
	"$PW" apply "$p" --iface pwb0 --netns "$NS" --pin-root "$ROOT" >/dev/null 2>&1 || { echo "apply $p failed"; exit 1; }
	first=$(ms "$t0")
	times=()
	for _ in $(seq "$N"); do
		t0=$(date +%s%N)
		"$PW" apply "$p" --iface pwb0 --netns "$NS" --pin-root "$ROOT" >/dev/null 2>&1
		times+=($(ms "$t0"))
	done
	s=$(printf '%s\n' "${times[@]}" | sort -n)
	name=$(basename "$p")
	printf '%-28s %8s %8s %8s %12s\n' "$name" "$(echo "$s" | sed -n "$(( (N + 1) / 2 ))p")" \
		"$(echo "$s" | head -1)" "$(echo "$s" | tail -1)" "$first"
done
