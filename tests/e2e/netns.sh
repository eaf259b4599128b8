# netns.sh - the e2e tests' two hosts: a "server" and a "client" network
# namespace joined by a veth pair, with documentation-range addresses. The
# caller sets S, C, VS, VC, ROOT and T, and PW/PROBE; cleanup runs on exit,
# also when a test fails: it stops the probes, unloads and deletes both
# namespaces (which deletes the veth pair).
PIDS=()
e2e_cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$T"
}
trap e2e_cleanup EXIT

ins() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

# e2e_hosts SERVER_ADDRS CLIENT_ADDRS: "A/N A/N ..." each
e2e_hosts() {
	ip netns add "$S" && ip netns add "$C" || return 1
	ip link add "$VS" type veth peer name "$VC" || return 1
	ip link set "$VS" netns "$S"
	ip link set "$VC" netns "$C"
	for a in $1; do ins "$S" ip addr add "$a" dev "$VS" nodad 2>/dev/null || ins "$S" ip addr add "$a" dev "$VS"; done
	for a in $2; do ins "$C" ip addr add "$a" dev "$VC" nodad 2>/dev/null || ins "$C" ip addr add "$a" dev "$VC"; done
	for ns in "$S" "$C"; do ins "$ns" ip link set lo up; done
	ins "$S" ip link set "$VS" up
	ins "$C" ip link set "$VC" up
}

# e2e_bg NS FILE PROBE-ARGS...: a probe in the background (nsenter execs it,
# so $! is the probe and cleanup can stop it); waits for its first line
e2e_bg() {
	local ns=$1 out=$2; shift 2
	nsenter --net=/run/netns/"$ns" "$PROBE" "$@" > "$out" 2>&1 &
	PIDS+=($!)
	BG=$!
	for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
}
