#!/usr/bin/env bash
# test_icmp_errors.sh - the host's own ICMP errors under default out drop
# and no out rule for ICMP, with real sockets (root): a peer's connected
# UDP socket that sends to a port the in rules allow, where nothing
# listens, gets ECONNREFUSED at once (the host's port unreachable passes
# as related on egress), IPv4 and IPv6; to a port the in rules drop it
# hears nothing. An IPv6 packet of a protocol the in rules allow and the
# host does not speak gets its parameter problem back (an IPv4 one its
# protocol unreachable); of a protocol they drop, nothing. Errors the host
# forges with a raw socket pass only about a datagram the in rules would
# let in, and only to that datagram's source.
# docs/datapath.md, step 6 and "The host's ICMP errors".
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_icmp_errors pwicmp
PEER="/usr/bin/python3 tests/e2e/pwpeer.py"

e2e_hosts "192.0.2.2/24 2001:db8::2/64" "192.0.2.1/24 2001:db8::1/64"
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1; }
related_out() { "$PW" status --json --pin-root "$ROOT" | jq -r '.reasons.out.related.packets'; }
udpconn() { ins "$C" $PEER udpconn "$1" "$2" "$3"; }
# forged ERR_SRC ERR_DST QUOTE_SRC PORT: the host forges a port unreachable;
# does the peer see it?
forged() {
	ins "$C" $PEER icmpwait "$4" 2 > "$T/wait" 2>&1 & PIDS+=($!)
	for _ in $(seq 50); do [ -s "$T/wait" ] && break; sleep 0.1; done
	ins "$S" $PEER icmperr "$1" "$2" "$3" "$4" > /dev/null
	wait "$!"
	tail -n 1 "$T/wait"
}

cat > "$T/e.policy" <<'EOP'
policy "icmp errors"
default in drop
default out drop
allow in udp port 5300
allow in proto 253
EOP

expect_eq "no portwall: a closed UDP port refuses" "$(udpconn 192.0.2.2 5300 2)" refused
apply "$T/e.policy"
expect_eq "apply" "$?" 0
expect_eq "an allowed, closed port refuses (IPv4)" "$(udpconn 192.0.2.2 5300 3)" refused
expect_eq "an allowed, closed port refuses (IPv6)" "$(udpconn 2001:db8::2 5300 3)" refused
expect_eq "counted as related, outbound" "$(related_out)" 2
expect_eq "a port the in rules drop: no answer at all" "$(udpconn 192.0.2.2 5301 2)" timeout

# a protocol nothing on the host speaks: 253 allowed in, 254 not
protoprobe() { ins "$C" $PEER protoprobe "$1" "$2" "$3"; }
expect_eq "an allowed protocol the host does not speak: parameter problem (IPv6)" \
	"$(protoprobe 2001:db8::2 253 3)" ok
expect_eq "an allowed protocol the host does not speak: protocol unreachable (IPv4)" \
	"$(protoprobe 192.0.2.2 253 3)" ok
expect_eq "a protocol the in rules drop: no answer (IPv6)" "$(protoprobe 2001:db8::2 254 2)" timeout
expect_eq "four related out" "$(related_out)" 4

# the host's raw socket: about a datagram to 5300 from the peer, to the
# peer; about one to 5301; about 5300 but to another than its source
expect_eq "forged: about an allowed datagram, to its source, passes" \
	"$(forged 192.0.2.2 192.0.2.1 192.0.2.1 5300)" ok
expect_eq "forged: about a datagram the in rules drop, dropped" \
	"$(forged 192.0.2.2 192.0.2.1 192.0.2.1 5301)" timeout
expect_eq "forged: to another than the quoted datagram's source, dropped" \
	"$(forged 192.0.2.2 192.0.2.1 192.0.2.9 5300)" timeout
expect_eq "five related out in all" "$(related_out)" 5
summary
