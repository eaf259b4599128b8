#!/usr/bin/env bash
# test_rollback_flows.sh - a rollback ends the flows the policy it leaves
# let out and the restored one does not (root, real sockets between
# namespaces): policy A lets no TCP 7000 / UDP 7001 out, B does; an
# unprivileged user opens both under B; after `portwall rollback` to A
# neither carries another packet. Found by an outside attack: the egress
# step for flows the host opened kept them going, since rollback never
# flushed conntrack (docs/datapath.md, "Connection tracking").
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_rollback_flows pwrf
nobody() { ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$@" \
	< tests/e2e/pwpeer.py; }

e2e_hosts "192.0.2.2/24" "192.0.2.1/24 203.0.113.50/24"
ins "$S" ip route add 203.0.113.0/24 via 192.0.2.1
e2e_bg "$C" "$T/srv" serve 60 7000
ins "$C" /usr/bin/python3 tests/e2e/pwpeer.py uecho 203.0.113.50 7001 60 > "$T/uecho" 2>&1 & PIDS+=($!)
for _ in $(seq 30); do [ -s "$T/uecho" ] && break; sleep 0.1; done
chmod 755 "$T"	# nobody waits for $T/flag

printf 'policy "A"\ndefault in drop\ndefault out drop\n' > "$T/A.policy"
{ sed 's/"A"/"B"/' "$T/A.policy"
  echo "allow out tcp port 7000 to 203.0.113.50"
  echo "allow out udp port 7001 to 203.0.113.50"; } > "$T/B.policy"
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1; }
name() { "$PW" status --json --pin-root "$ROOT" 2>/dev/null | jq -r '.policy.name'; }
apply "$T/A.policy"; expect_eq "apply A" "$?" 0
apply "$T/B.policy"; expect_eq "apply B" "$?" 0
nobody talk 203.0.113.50 7000 45000 "$T/flag" 20 > "$T/talk" 2>&1 & PIDS+=($!)
nobody utalk 203.0.113.50 7001 45001 "$T/flag" 20 > "$T/utalk" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/talk" ] && [ -s "$T/utalk" ] && break; sleep 0.1; done
expect_eq "under B: a TCP connection opened" "$(head -n 1 "$T/talk")" open
expect_eq "under B: a UDP flow answered" "$(head -n 1 "$T/utalk")" open
flows() { "$PW" status --json --pin-root "$ROOT" | jq -c '[.conntrack.tcp.entries, .conntrack.datagram.entries]'; }
expect_eq "under B: both flows tracked" "$(flows)" "[1,1]"
"$PW" rollback --pin-root "$ROOT" > "$T/rb.out" 2>&1
expect_eq "rolled back to A" "$(name)" A
touch "$T/flag"
for _ in $(seq 100); do [ "$(wc -l < "$T/talk")" -ge 2 ] && [ "$(wc -l < "$T/utalk")" -ge 2 ] && break; sleep 0.1; done
expect_eq "after the rollback: the TCP connection B let out carries nothing" "$(tail -n 1 "$T/talk")" timeout
expect_eq "after the rollback: the UDP flow B let out carries nothing" "$(tail -n 1 "$T/utalk")" timeout
expect_eq "the rollback ended both flows" "$(flows)" "[0,0]"
summary
