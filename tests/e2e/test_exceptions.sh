#!/usr/bin/env bash
# test_exceptions.sh - timed exceptions with real sockets (root): a
# connection the policy refuses; `portwall allow --for 3s in tcp port 8443
# from 198.51.100.7` lets that peer connect, and only it, only to that
# port; after the expiry a new connection is refused again with no agent
# running (the datapath compares its clock with the entry's expiry); an
# exception survives a reload and a rollback; a session it let in ends at
# its expiry; --remove ends one at once; status and --list show them.
# Every wait is bounded.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_exceptions pwex
peer() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" /usr/bin/python3 tests/e2e/pwpeer.py "$@"; }

# the client's first address (its source for the server's subnet) is the
# vendor's, .8 another peer of the same subnet
e2e_hosts "198.51.100.2/24" "198.51.100.7/24 198.51.100.8/24"
printf 'policy "A"\ndefault in drop\ndefault out allow\nallow in tcp port 22\n' > "$T/A.policy"
printf 'policy "B"\ndefault in drop\ndefault out allow\nallow in tcp port 22\nallow in tcp port 2222\n' > "$T/B.policy"
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1; }
allow() { "$PW" allow --pin-root "$ROOT" "$@" 2>&1; }
probe() { ins "$C" "$PROBE" tcp 198.51.100.2 "$1" "${3:-700}" 1000 "$2" 2>&1; }   # PORT SRC [TIMEOUT_MS]
# left ID: the seconds exception ID has left (--list --json), "" if none
left() { allow --list --json | jq -r ".exceptions[] | select(.id == $1) | .expires"; }
# wait_expired ID: until its time is up (at most ~6 s)
wait_expired() { for _ in $(seq 60); do [ "$(left "$1")" = 0 ] && return 0; sleep 0.1; done; return 1; }

e2e_bg "$S" "$T/srv" serve 120 22,8443,8444,9443
apply "$T/A.policy"; expect_eq "apply A" "$?" 0
expect_eq "before: 8443 refused to the vendor's peer" "$(probe 8443 198.51.100.7)" timeout
expect_eq "before: no exceptions" "$(allow --list)" "no timed exceptions (portwall allow --for DURATION RULE adds one)"

# what would open more than typed is refused before anything changes
out=$(allow --for 2h in tcp port 8443 from 0.0.0.0/0); rc=$?
expect_eq "allow from 0.0.0.0/0: usage error" "$rc" 2
expect_match "allow from 0.0.0.0/0: says why" "$out" "every address"
out=$(allow --for 2h in tcp port 8443 from 198.0.0.0/8); rc=$?
expect_eq "allow from a /8: refused without --wide-peer" "$rc/$(allow --list --json | jq '.exceptions | length')" 2/0
out=$(allow --for 8d in tcp port 8443 from 198.51.100.7); rc=$?
expect_match "allow --for 8d: refused, the cap said" "$rc $out" "^2 .*1s to 7d"

out=$(allow --for 3s in tcp port 8443 from 198.51.100.7 --comment "vendor ticket 4711"); rc=$?
expect_eq "allow --for 3s: exit 0" "$rc" 0
expect_match "allow: says what it opened" "$out" \
	"^exception 1: allow in tcp port 8443 from 198.51.100.7 for 3s"
expect_eq "the vendor's peer connects to 8443" "$(probe 8443 198.51.100.7 2000)" ok
expect_eq "another peer still refused" "$(probe 8443 198.51.100.8)" timeout
expect_eq "another port still refused" "$(probe 8444 198.51.100.7)" timeout
L=$(allow --list --json | jq -c '[.exceptions[] | [.id, .dir, .proto, .port, .peer, .comment, (.expires >= 1 and .expires <= 3)]]')
expect_eq "allow --list --json" "$L" '[[1,"in","tcp","8443","198.51.100.7","vendor ticket 4711",true]]'
expect_match "allow --list: a table" "$(allow --list)" '^ *ID +DIR +PROTO +PORT +PEER +LEFT +EXPIRES +COMMENT'
ST=$("$PW" status --pin-root "$ROOT")
expect_match "status: the exception with its time left" "$ST" \
	'^  1: allow in tcp port 8443 from 198.51.100.7, [1-3]s left: vendor ticket 4711$'
SJ=$("$PW" status --json --pin-root "$ROOT" | jq -c '[.exceptions[] | [.id, .port_lo, .peer, (.left_s <= 3)]], .reasons.in.exception.packets > 0')
expect_eq "status --json: exceptions and the reason counter" "$(echo $SJ)" '[[1,8443,"198.51.100.7",true]] true'

wait_expired 1; expect_eq "the exception's time runs out (no agent runs)" "$?" 0
expect_eq "after the expiry: a new connection is refused" "$(probe 8443 198.51.100.7)" timeout
expect_match "the expired entry is still there: the datapath alone refused it" "$(allow --list)" \
	'^ *1 +in +tcp +8443 +198\.51\.100\.7 +expired +0 '

# a reload and a rollback keep an exception (the expired one's key is
# taken over by the new one)
out=$(allow --for 60s in tcp port 8443 from 198.51.100.7); rc=$?
expect_match "a new exception on the expired one's port" "$rc $out" "^0 exception 2: "
apply "$T/B.policy"; expect_eq "reload B" "$?" 0
expect_eq "after the reload: the vendor still connects" "$(probe 8443 198.51.100.7 2000)" ok
expect_eq "after the reload: another peer still refused" "$(probe 8443 198.51.100.8)" timeout
"$PW" rollback --pin-root "$ROOT" > "$T/rb.out" 2>&1; expect_eq "rollback to A" "$?" 0
expect_eq "after the rollback: the vendor still connects" "$(probe 8443 198.51.100.7 2000)" ok
out=$(allow --remove 2); rc=$?
expect_match "allow --remove 2" "$rc $out" "^0 exception 2 removed"
expect_eq "after --remove: refused at once" "$(probe 8443 198.51.100.7)" timeout
out=$(allow --remove 2); rc=$?
expect_match "allow --remove 2 again: no such exception" "$rc $out" "^1 portwall allow: no exception 2 "

# a session an exception let in ends at its expiry (both ways)
out=$(allow --for 3s in tcp port 9443 from 198.51.100.7); rc=$?
expect_eq "allow --for 3s on 9443" "$rc" 0
mkdir -p "$T/s" "$T/c"
kill "${PIDS[0]}" 2>/dev/null	# the probe's listener on 9443 gives way to a session's
sleep 0.2
peer "$S" dserve tcp 9443 "$T/s" 20 > "$T/s/out" 2>&1 & PIDS+=($!)
sleep 0.3
echo c1 > "$T/c/say"
peer "$C" dconnect tcp 198.51.100.2 9443 "$T/c" 20 > "$T/c/out" 2>&1 & PIDS+=($!)
got() { for _ in $(seq 40); do grep -qx "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
got "$T/s/got" c1; expect_eq "the session's first line arrived" "$?" 0
echo s1 > "$T/s/say"
got "$T/c/got" s1; expect_eq "the server's answer arrived" "$?" 0
ID=$(allow --list --json | jq '.exceptions[] | select(.port == "9443") | .id')
wait_expired "$ID"; expect_eq "its time runs out" "$?" 0
echo c2 > "$T/c/say"
echo s2 > "$T/s/say"
sleep 1.5	# TCP retransmits meanwhile (200, 400, 800 ms)
expect_eq "after the expiry: the client's line did not arrive" "$(tr '\n' ' ' < "$T/s/got")" "c1 "
expect_eq "after the expiry: the server's line did not arrive" "$(tr '\n' ' ' < "$T/c/got")" "s1 "

# the agent deletes expired entries (and only those)
count() { allow --list --json | jq '.exceptions | length'; }
expect_eq "before run: the expired 9443 entry is still listed" "$(count)" 1
"$PW" run "$T/A.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$T/m.prom" > "$T/run.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
wait_for "$T/run.log" '^running:'; expect_eq "run: started" "$?" 0
allow --for 2s in tcp port 8444 from 198.51.100.7 > /dev/null
allow --for 1h in tcp port 8445 from 198.51.100.7 > /dev/null
for _ in $(seq 60); do [ "$(count)" = 1 ] && break; sleep 0.1; done
expect_eq "run removed the expired ones, kept the live one" \
	"$(allow --list --json | jq -c '[.exceptions[] | .port]')" '["8445"]'
expect_eq "run says so" "$(grep -c '^timed exceptions: 1 expired port removed$' "$T/run.log")" 2
# the metrics file is rewritten every 5 s
for _ in $(seq 80); do grep -qE '^portwall_exceptions\{.*\} 1$' "$T/m.prom" 2>/dev/null && break; sleep 0.1; done
expect_match "metrics: the exceptions in force" "$(cat "$T/m.prom" 2>/dev/null)" '^portwall_exceptions\{[^}]*\} 1$'
expect_match "metrics: packets passed by an exception" "$(cat "$T/m.prom" 2>/dev/null)" \
	'^portwall_packets_total\{.*direction="in",reason="exception",verdict="pass"\} [1-9]'
kill -TERM "$RUN"
wait "$RUN"
expect_eq "run: SIGTERM exits 0" "$?" 0
# an out exception: the host may open connections to the peer's port, and
# only the answers of those connections come back; a packet from the
# peer's port to another of the host's ports is not an answer (before the
# exceptions tracked their flows it passed by source port and peer alone)
printf 'policy "O"\ndefault in drop\ndefault out drop\nallow in tcp port 22\n' > "$T/O.policy"
apply "$T/O.policy"; expect_eq "apply O (default out drop)" "$?" 0
e2e_bg "$S" "$T/srv2" serve 60 8444 udp 8444
oprobe() { ins "$S" "$PROBE" tcp "$1" "$2" "${3:-700}" 1000 2>&1; }   # ADDR PORT [TIMEOUT_MS]
out=$(allow --for 6s out tcp port 8443 to 198.51.100.7); rc=$?
expect_match "allow --for 6s out: exit 0, says what it opened" "$rc $out" \
	"^0 exception [0-9]+: allow out tcp port 8443 to 198.51.100.7 for 6s"
OID=$(allow --list --json | jq '.exceptions[] | select(.dir == "out") | .id')
out=$(allow --for 6s out udp port 5353 to 198.51.100.7); rc=$?
expect_eq "allow --for 6s out udp port 5353: exit 0" "$rc" 0
# the host's echo on 8444 would answer (the out exception lets its
# answer to 5353 out): only a datagram that reached it comes back
expect_eq "spoof: a datagram from the peer's port 5353 to the host's 8444, refused" \
	"$(peer "$C" udp 5353 198.51.100.2 8444 0.7)" timeout
expect_eq "spoof: a SYN from the peer's port 8443 to the host's 8444, refused" \
	"$(peer "$C" connect 8443 198.51.100.2 8444 0.7)" timeout
e2e_bg "$C" "$T/csrv" serve 60 8443,8446 udp 5353
expect_eq "out udp: the host's query to the peer's 5353 is answered" \
	"$(ins "$S" "$PROBE" udpecho 198.51.100.7 5353 1000 2>&1)" ok
expect_eq "out: the host connects to the peer's 8443" "$(oprobe 198.51.100.7 8443 2000)" ok
expect_eq "out: another peer's 8443 still refused" "$(oprobe 198.51.100.8 8443)" timeout
expect_eq "out: the peer's other port still refused" "$(oprobe 198.51.100.7 8446)" timeout
wait_expired "$OID"; expect_eq "the out exception's time runs out" "$?" 0
expect_eq "after the expiry: the host's new connection is refused" "$(oprobe 198.51.100.7 8443)" timeout
summary
