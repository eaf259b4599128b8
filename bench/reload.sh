#!/usr/bin/env bash
# reload.sh - how long a hot reload takes, from `portwall apply` starting to
# it returning with the new policy in force, for each shipped policy, the
# 65,535-port policy with 100,000 and with 1,000,000 prefixes, and base
# with 1,000,000 live tracked flows (written into pw_ct by ct_fill, all of
# them allowed: the flush reads every one and ends none). Runs on a veth in
# a namespace it makes (root). Prints medians and min-max; a benchmark,
# not a test. RELOADS (20) reloads each, BIG_RELOADS (5) for the 1M rows;
# ROWS="small big flows shared" picks rows (shared: one set of 60,000
# prefixes used by 100 rules, `gen_scale shared 60000 100`).
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
GEN=${GEN_SCALE:-build/bench/gen_scale}
CT_FILL=${CT_FILL:-build/bench/ct_fill}
N=${RELOADS:-20}
NBIG=${BIG_RELOADS:-5}
ROWS=${ROWS:-small big flows shared}
[ "$(id -u)" -eq 0 ] || { echo "reload.sh: needs root" >&2; exit 1; }
NS=pwb$$ ROOT=/sys/fs/bpf/pwbench$$ T=$(mktemp -d /tmp/pw-bench-XXXXXX)
trap '"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
ip netns add "$NS"
ip -n "$NS" link add pwb0 type veth peer name pwb1
ip -n "$NS" link set pwb0 up
ip -n "$NS" link set pwb1 up
"$GEN" > "$T/scale.policy"
"$GEN" 1000000 > "$T/scale-1m.policy"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# row NAME POLICY RELOADS [FLOWS]: first apply, then RELOADS reloads timed
row() {
	local name=$1 p=$2 n=$3 flows=${4:-0} cap=() times=() t0 first s
	[ "$flows" -gt 0 ] && cap=(--ct-capacity $((flows > 262144 ? 1048576 : 262144)))
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	t0=$(date +%s%N)
	"$PW" apply "$p" --iface pwb0 --netns "$NS" --pin-root "$ROOT" "${cap[@]}" >/dev/null 2>&1 ||
		{ printf '%-28s %s\n' "$name" "apply failed (refused)"; return; }
	first=$(ms "$t0")
	if [ "$flows" -gt 0 ]; then "$CT_FILL" "$ROOT/pw_ct" "$flows" >/dev/null || exit 1; fi
	for _ in $(seq "$n"); do
		t0=$(date +%s%N)
		"$PW" apply "$p" --iface pwb0 --netns "$NS" --pin-root "$ROOT" >/dev/null 2>&1
		times+=($(ms "$t0"))
	done
	s=$(printf '%s\n' "${times[@]}" | sort -n)
	printf '%-28s %8s %8s %8s %12s\n' "$name" "$(echo "$s" | sed -n "$(( (n + 1) / 2 ))p")" \
		"$(echo "$s" | head -1)" "$(echo "$s" | tail -1)" "$first"
}
printf '# hot reload, apply start to return (policy in force), ms\n'
printf '%-28s %8s %8s %8s %12s\n' policy median min max "first apply"
case " $ROWS " in *" small "*)
	for p in policies/base.policy policies/ccp.policy policies/finesse.policy policies/socialminer.policy \
		policies/engage-client.policy "$T/scale.policy"; do
		row "$(basename "$p")" "$p" "$N"
	done ;;
esac
case " $ROWS " in *" big "*) row "scale 1,000,000 prefixes" "$T/scale-1m.policy" "$NBIG" ;; esac
case " $ROWS " in *" flows "*) row "base + 1,000,000 flows" policies/base.policy "$NBIG" 1000000 ;; esac
case " $ROWS " in *" shared "*)
	"$GEN" shared 60000 100 > "$T/shared.policy"
	row "one set, 100 rules (60,000)" "$T/shared.policy" "$N" ;;
esac
