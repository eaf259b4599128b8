#!/usr/bin/env bash
# check_mem.sh - what `portwall check` costs on the 65,535-port policy of
# bench/gen_scale with 100,000 and with 1,000,000 prefixes: peak resident
# memory (ru_maxrss, /usr/bin/time) and wall / user+sys time, the median
# of RUNS (3) runs each, and BASE (another portwall, e.g. the last
# release) side by side when given. As root with APPLY=1, the same for a
# first `portwall apply` of each into a veth in a namespace it makes (and
# removes). A benchmark, not a test: nothing here passes or fails.
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
BASE=${BASE:-}
GEN=${GEN_SCALE:-build/bench/gen_scale}
N=${RUNS:-3}
T=$(mktemp -d /tmp/pw-checkmem-XXXXXX)
NS=pwm$$ ROOT=/sys/fs/bpf/pwcheckmem$$
cleanup() {
	if [ "${APPLY:-0}" = 1 ]; then
		for b in "$PW" $BASE; do "$b" unload --pin-root "$ROOT" >/dev/null 2>&1; done
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "check_mem.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
"$GEN" > "$T/100k.policy" && "$GEN" 1000000 > "$T/1m.policy" || exit 1

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure BIN ARGS...: "RSS_MB WALL_S CPU_S", medians of N runs
measure() {
	local rss=() wall=() cpu=() m e u s
	for _ in $(seq "$N"); do
		/usr/bin/time -o "$T/time" -f '%M %e %U %S' "$@" >/dev/null 2>&1
		read -r m e u s <"$T/time"
		rss+=("$m") wall+=("$e") cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')")
	done
	printf '%s %s %s\n' "$(printf '%s\n' "${rss[@]}" | median | awk '{ printf "%.1f", $1 / 1024 }')" \
		"$(printf '%s\n' "${wall[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)"
}

row() {	# row NAME ARGS... (the binary goes first)
	local name=$1 a b
	shift
	a=$(measure "$PW" "$@")
	if [ -n "$BASE" ]; then
		b=$(measure "$BASE" "$@")
		printf '%-34s %22s   %22s\n' "$name" "$(fmt $b)" "$(fmt $a)"
	else
		printf '%-34s %22s\n' "$name" "$(fmt $a)"
	fi
}
fmt() { printf '%6s MiB %5s s %5s s' "$1" "$2" "$3"; }

printf '# peak RSS, wall, user+sys: medians of %s runs\n' "$N"
if [ -n "$BASE" ]; then
	printf '%-34s %22s   %22s\n' "" "base ($BASE)" "this ($PW)"
fi
row "check, 100,000 prefixes" check "$T/100k.policy"
row "check, 1,000,000 prefixes" check "$T/1m.policy"
[ "${APPLY:-0}" = 1 ] || exit 0
[ "$(id -u)" -eq 0 ] || { echo "check_mem.sh: APPLY=1 needs root" >&2; exit 1; }
ip netns add "$NS" && ip -n "$NS" link add pwm0 type veth peer name pwm1 &&
	ip -n "$NS" link set pwm0 up && ip -n "$NS" link set pwm1 up || exit 1
# apply BIN POLICY: a first apply (then unloaded, so that each run loads anew)
apply_once() {
	local bin=$1 p=$2
	"$bin" apply "$p" --iface pwm0 --netns "$NS" --pin-root "$ROOT"
	local rc=$?
	"$bin" unload --pin-root "$ROOT" >/dev/null 2>&1
	return $rc
}
export -f apply_once
export NS ROOT
for p in 100k 1m; do
	name="apply, ${p/100k/100,000} prefixes"
	name=${name/1m/1,000,000}
	a=$(measure bash -c 'apply_once "$0" "$1"' "$PW" "$T/$p.policy")
	if [ -n "$BASE" ]; then
		b=$(measure bash -c 'apply_once "$0" "$1"' "$BASE" "$T/$p.policy")
		printf '%-34s %22s   %22s\n' "$name" "$(fmt $b)" "$(fmt $a)"
	else
		printf '%-34s %22s\n' "$name" "$(fmt $a)"
	fi
done
