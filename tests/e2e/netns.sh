# netns.sh - the e2e tests' two hosts: a "server" and a "client" network
# namespace joined by a veth pair, with documentation-range addresses.
# e2e_setup names everything for this run; cleanup runs on exit, also when
# a test fails: it stops the probes, unloads, deletes both namespaces
# (which deletes the veth pair), the scratch directory and the lock file.

# e2e_setup TEST PREFIX: what every e2e test shares. PW and PROBE (from
# PORTWALL / PWPROBE), the namespaces S and C with their veth ends VS and
# VC, the pin root ROOT, all named PREFIX + this shell's pid, and a scratch
# directory T (which holds the generation store, PORTWALL_STATE_DIR). Without root the test is skipped (exit 0).
e2e_setup() {
	PW=${PORTWALL:-build/portwall}
	PROBE=${PWPROBE:-build/pwprobe}
	if [ "$(id -u)" -ne 0 ]; then echo "$1: needs root, skipped"; summary; exit 0; fi
	S=$2s$$ C=$2c$$ VS=$2s$$v VC=$2c$$v
	ROOT=/sys/fs/bpf/$2$$
	T=$(mktemp -d "/tmp/pw-$1-XXXXXX")
	# the generation store of this run's pin roots: in the scratch
	# directory, not /var/lib/portwall
	export PORTWALL_STATE_DIR=$T/state
	trap e2e_cleanup EXIT
}

PIDS=()
e2e_cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$T" "/run/portwall/$(printf '%s' "$ROOT" | tr / _).lock"
	rm -f "/var/log/portwall/$(printf '%s' "$ROOT" | tr / _).events.jsonl"*	# run's default events file
}

ins() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

# e2e_hosts SERVER_ADDRS CLIENT_ADDRS: "A/N A/N ..." each. A host that
# cannot be made ends the test as one failure.
e2e_hosts() {
	if ! { ip netns add "$S" && ip netns add "$C" && ip link add "$VS" type veth peer name "$VC"; }; then
		fail "netns setup"
		summary
		exit 1
	fi
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
