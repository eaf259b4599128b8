#!/usr/bin/env bash
# reload.sh - how long a hot reload takes, from `portwall apply` starting to
# it returning with the new policy in force. Runs on a veth in a namespace
# it makes (root). Prints medians and min-max; a benchmark, not a test.
#
# A reload of the same file compiles to the hash in force and writes
# nothing ("unchanged"): those rows measure parse and compile. The
# "changed" rows alternate two files, so every reload writes the inactive
# half: "+rule" adds an unrestricted UDP port (slots change, the peer sets
# do not), "+prefix" adds one prefix to the scale policy's set (its trie
# is written), "+in"/"+out" add an in or an out rule to base.policy with
# 1,000,000 live tracked TCP flows in pw_ct (written by ct_fill, all of
# them allowed, so a flush that reads them ends none).
#
# PORTWALL (build/portwall) is the build timed; PORTWALLS="old new" times
# several builds side by side, each row run by each build in turn (same
# row, same machine, one after the other). RELOADS (20) reloads each,
# BIG_RELOADS (5) for the 1M rows; ROWS picks rows among
#   small   shipped policies and the 100,000-prefix policy, same file
#   changed the 100,000-prefix policy, +rule and +prefix
#   big     1,000,000 prefixes: same file, +rule, +prefix
#   flows   base + 1,000,000 flows: same file, +in, +out
#   shared  one set of 60,000 prefixes used by 100 rules (gen_scale shared)
set -u
cd "$(dirname "$0")/.."
PWS=${PORTWALLS:-${PORTWALL:-build/portwall}}
GEN=${GEN_SCALE:-build/bench/gen_scale}
CT_FILL=${CT_FILL:-build/bench/ct_fill}
N=${RELOADS:-20}
NBIG=${BIG_RELOADS:-5}
ROWS=${ROWS:-small changed big flows shared}
[ "$(id -u)" -eq 0 ] || { echo "reload.sh: needs root" >&2; exit 1; }
NS=pwb$$ ROOT=/sys/fs/bpf/pwbench$$ T=$(mktemp -d /tmp/pw-bench-XXXXXX)
PW=
trap '[ -n "$PW" ] && "$PW" unload --pin-root "$ROOT" >/dev/null 2>&1; ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
ip netns add "$NS"
ip -n "$NS" link add pwb0 type veth peer name pwb1
ip -n "$NS" link set pwb0 up
ip -n "$NS" link set pwb1 up

# variant FILE LINE OUT: FILE with LINE appended (a rule)
variant() { { cat "$1"; echo "$2"; } > "$3"; }
# with_prefix FILE OUT: FILE with 203.0.113.77 first in its `set big`
with_prefix() { sed '0,/^set big = /s//set big = 203.0.113.77, /' "$1" > "$2"; }

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
apply() { "$PW" apply "$1" --iface pwb0 --netns "$NS" --pin-root "$ROOT" "${@:2}" >/dev/null 2>&1; }
# one NAME N FLOWS A [B]: first apply of A, then N reloads timed: of A
# each time, or of B, A, B, ... when B is given
one() {
	local name=$1 n=$2 flows=$3 a=$4 b=${5:-$4} cap=() times=() t0 first s p
	[ "$flows" -gt 0 ] && cap=(--ct-capacity $((flows > 262144 ? 1048576 : 262144)))
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	t0=$(date +%s%N)
	apply "$a" "${cap[@]}" || { printf '%-34s %-10s %s\n' "$name" "$(basename "$PW")" "apply failed (refused)"; return; }
	first=$(ms "$t0")
	if [ "$flows" -gt 0 ]; then "$CT_FILL" "$ROOT/pw_ct" "$flows" >/dev/null || exit 1; fi
	for i in $(seq "$n"); do
		p=$a; [ $((i % 2)) -eq 1 ] && p=$b
		t0=$(date +%s%N)
		apply "$p"
		times+=($(ms "$t0"))
	done
	s=$(printf '%s\n' "${times[@]}" | sort -n)
	printf '%-34s %-10s %8s %8s %8s %12s\n' "$name" "$(basename "$PW")" \
		"$(echo "$s" | sed -n "$(( (n + 1) / 2 ))p")" "$(echo "$s" | head -1)" "$(echo "$s" | tail -1)" "$first"
}
# row NAME N FLOWS A [B]: `one` for each build
row() { for PW in $PWS; do one "$@"; done; }

printf '# hot reload, apply start to return (policy in force), ms; %s reloads, %s for 1M rows\n' "$N" "$NBIG"
printf '%-34s %-10s %8s %8s %8s %12s\n' policy build median min max "first apply"
case " $ROWS " in *" small "* | *" changed "*) "$GEN" > "$T/scale.policy" ;; esac
case " $ROWS " in *" small "*)
	for p in policies/base.policy policies/ccp.policy policies/finesse.policy policies/socialminer.policy \
		policies/engage-client.policy "$T/scale.policy"; do
		row "$(basename "$p")" "$N" 0 "$p"
	done ;;
esac
case " $ROWS " in *" changed "*)
	variant "$T/scale.policy" "allow in udp port 40000" "$T/scale-rule.policy"
	with_prefix "$T/scale.policy" "$T/scale-pfx.policy"
	row "100k prefixes, +rule" "$N" 0 "$T/scale.policy" "$T/scale-rule.policy"
	row "100k prefixes, +prefix" "$N" 0 "$T/scale.policy" "$T/scale-pfx.policy" ;;
esac
case " $ROWS " in *" big "*)
	"$GEN" 1000000 > "$T/scale-1m.policy"
	variant "$T/scale-1m.policy" "allow in udp port 40000" "$T/scale-1m-rule.policy"
	with_prefix "$T/scale-1m.policy" "$T/scale-1m-pfx.policy"
	row "1M prefixes, same file" "$NBIG" 0 "$T/scale-1m.policy"
	row "1M prefixes, +rule" "$NBIG" 0 "$T/scale-1m.policy" "$T/scale-1m-rule.policy"
	row "1M prefixes, +prefix" "$NBIG" 0 "$T/scale-1m.policy" "$T/scale-1m-pfx.policy" ;;
esac
case " $ROWS " in *" flows "*)
	variant policies/base.policy "allow in udp port 40000" "$T/base-in.policy"
	variant policies/base.policy "deny out tcp port 9" "$T/base-out.policy"
	row "base + 1M flows, same file" "$NBIG" 1000000 policies/base.policy
	row "base + 1M flows, +in" "$NBIG" 1000000 policies/base.policy "$T/base-in.policy"
	row "base + 1M flows, +out" "$NBIG" 1000000 policies/base.policy "$T/base-out.policy" ;;
esac
case " $ROWS " in *" shared "*)
	"$GEN" shared 60000 100 > "$T/shared.policy"
	row "one set, 100 rules (60,000)" "$N" 0 "$T/shared.policy" ;;
esac
