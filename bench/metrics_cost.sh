#!/usr/bin/env bash
# metrics_cost.sh - what `portwall run --metrics-file` costs at idle: the
# agent's CPU time (utime + stime from /proc/PID/stat) over SECONDS (30),
# with the metrics file and without, on a veth in a namespace it makes
# (root), and with --metrics-listen on the namespace's loopback scraped
# every second (run inside the namespace). A second table, from `strace -c`, says which system calls the
# time goes to when strace is installed. A benchmark, not a test.
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
SECS=${SECONDS_IDLE:-30}
[ "$(id -u)" -eq 0 ] || { echo "metrics_cost.sh: needs root" >&2; exit 1; }
NS=pwm$$ ROOT=/sys/fs/bpf/pwmetrics$$ T=$(mktemp -d /tmp/pw-metrics-XXXXXX)
RUN=
cleanup() {
	[ -n "$RUN" ] && kill "$RUN" 2>/dev/null && wait "$RUN" 2>/dev/null
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T" /run/portwall/_sys_fs_bpf_pwmetrics$$.*
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link add pwm0 type veth peer name pwm1
ip -n "$NS" link set pwm0 up
ip -n "$NS" link set pwm1 up
ip -n "$NS" link set lo up
printf 'policy "metrics cost"\ndefault in drop\nallow in tcp port 22, 443\nallow in udp port 53\n' > "$T/p.policy"
TICK=$(getconf CLK_TCK)

# cpu_ms PID: its utime + stime so far, in ms
cpu_ms() { awk -v t="$TICK" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / t }' "/proc/$1/stat"; }

# measure NAME RUN-ARGS...: start run, let it settle, sample SECS seconds
measure() {
	local name=$1; shift
	nsenter --net=/run/netns/"$NS" "$PW" run "$T/p.policy" --iface pwm0 --netns "$NS" --pin-root "$ROOT" "$@" \
		> "$T/run.log" 2>&1 &
	RUN=$!
	local scrape=
	if [ "$name" = "file + listen" ]; then
		(for _ in $(seq "$((SECS + 8))"); do
			nsenter --net=/run/netns/"$NS" curl -s -o /dev/null http://127.0.0.1:19470/metrics; sleep 1
		done) &
		scrape=$!
	fi
	for _ in $(seq 100); do grep -q '^running:' "$T/run.log" && break; sleep 0.1; done
	sleep 6	# past the first metrics write
	local a b
	a=$(cpu_ms "$RUN")
	sleep "$SECS"
	b=$(cpu_ms "$RUN")
	awk -v n="$name" -v a="$a" -v b="$b" -v s="$SECS" \
		'BEGIN { printf "%-22s %8.0f ms in %d s  %6.2f%% of a CPU  %7.1f ms per 5 s\n", n, b - a, s, (b - a) / s / 10, (b - a) / s * 5 }'
	if [ "$name" = "metrics file" ] && command -v strace >/dev/null; then
		timeout 15 strace -c -f -p "$RUN" -o "$T/strace" >/dev/null 2>&1
		sed -n '1,12p' "$T/strace"
	fi
	[ -n "$scrape" ] && kill "$scrape" 2>/dev/null && wait "$scrape" 2>/dev/null
	kill "$RUN"; wait "$RUN" 2>/dev/null; RUN=
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
}

echo "# portwall run at idle, $(nproc) CPUs, ${SECS} s each (utime + stime)"
measure "no metrics file"
measure "metrics file" --metrics-file "$T/m.prom"
measure "file + listen" --metrics-file "$T/m.prom" --metrics-listen 127.0.0.1:19470
