#!/usr/bin/env bash
# test_revoke.sh - revoked means closed (root, real sockets between
# namespaces): four live sessions from the client to the server's
# listeners, TCP 8443 and 443, UDP 5353 and 5060; a reload takes away
# 8443 and 5353. Their sessions carry nothing more either way (the
# client's line does not reach the server, the server's line does not
# reach the client: before, the server's reply opened a flow of the
# host's and the session came back), the reload says how many it ended
# and of which services, status counts them; the sessions on 443 and
# 5060 carry every byte across the same reload (docs/reliability.md,
# "Revoking a service"). `portwall conntrack` lists the flows before and
# after: a TCP connection the server opened to the client (host), the
# clients' datagram flows (peer), and after the reload the revoked ones.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_revoke pwrv
peer() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" /usr/bin/python3 tests/e2e/pwpeer.py "$@"; }

e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
printf 'policy "A"\ndefault in drop\ndefault out allow\nallow in tcp port 8443\nallow in tcp port 443\n%s\n%s\n' \
	"allow in udp port 5353" "allow in udp port 5060" > "$T/A.policy"
grep -v -e 8443 -e 5353 "$T/A.policy" | sed 's/"A"/"B"/' > "$T/B.policy"
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2> "$T/apply.err"; }
apply "$T/A.policy"; expect_eq "apply A" "$?" 0

SESS="tcp:8443 tcp:443 udp:5353 udp:5060"
for x in $SESS; do
	p=${x%:*} port=${x#*:}
	mkdir -p "$T/s$port" "$T/c$port"
	peer "$S" dserve "$p" "$port" "$T/s$port" 30 > "$T/s$port/out" 2>&1 & PIDS+=($!)
done
sleep 0.3	# the listeners bound
for x in $SESS; do
	p=${x%:*} port=${x#*:}
	echo c1 > "$T/c$port/say"
	peer "$C" dconnect "$p" 192.0.2.2 "$port" "$T/c$port" 30 > "$T/c$port/out" 2>&1 & PIDS+=($!)
done
mkdir -p "$T/h7000"
peer "$C" dserve tcp 7000 "$T/h7000" 60 > "$T/h7000/srv" 2>&1 & PIDS+=($!)
sleep 0.2
echo h1 > "$T/h7000/say"
peer "$S" dconnect tcp 192.0.2.1 7000 "$T/h7000" 60 > "$T/h7000/out" 2>&1 & PIDS+=($!)
# got FILE LINE: the line arrived in FILE within ~3 s
got() { for _ in $(seq 60); do grep -qx "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
for port in 8443 443 5353 5060; do
	got "$T/s$port/got" c1; expect_eq "under A: the client's line on $port arrived" "$?" 0
	echo s1 > "$T/s$port/say"
	got "$T/c$port/got" s1; expect_eq "under A: the server's line on $port arrived" "$?" 0
done

got "$T/h7000/got" h1; expect_eq "the server's own connection out is open" "$?" 0
PEERS=$("$PW" conntrack --json --pin-root "$ROOT" --origin peer | jq -c '[.conntrack[] | [.proto,.local,.port,.peer,.origin,.state,(.age >= 0),(.expires > 100)]] | sort')
expect_eq "conntrack --origin peer: the clients' datagram flows" "$PEERS" \
	'[["udp","192.0.2.2",5060,"192.0.2.1","peer","seen",true,true],["udp","192.0.2.2",5353,"192.0.2.1","peer","seen",true,true]]'
HOST=$("$PW" conntrack --json --pin-root "$ROOT" --origin host | jq -c '[.conntrack[] | [.proto,.local,.peer,."peer-port",.origin,.state,(.expires > 400000)]]')
expect_eq "conntrack --origin host: the server's connection out, established" "$HOST" \
	'[["tcp","192.0.2.2","192.0.2.1",7000,"host","established",true]]'
expect_match "conntrack: a table with a header" "$("$PW" conntrack --pin-root "$ROOT")" \
	'^PROTO +LOCAL +PORT +PEER +PEER-PORT +ORIGIN +STATE +AGE +EXPIRES'

apply "$T/B.policy"; expect_eq "reload B (without tcp 8443, udp 5353)" "$?" 0
expect_eq "the reload says which established flows it ended" \
	"$(grep '^reload:' "$T/apply.out")" \
	"reload: 2 established flows of revoked services ended (udp 5353 x1, tcp 8443 x1); they are not carried into the new policy"
for port in 8443 443 5353 5060; do
	echo c2 > "$T/c$port/say"
	echo s2 > "$T/s$port/say"
done
for port in 443 5060; do
	got "$T/s$port/got" c2; expect_eq "kept $port: the client's line after the reload arrived" "$?" 0
	got "$T/c$port/got" s2; expect_eq "kept $port: the server's line after the reload arrived" "$?" 0
	expect_eq "kept $port: every line, once, in order, both ways" \
		"$(tr '\n' ' ' < "$T/s$port/got")/$(tr '\n' ' ' < "$T/c$port/got")" "c1 c2 /s1 s2 "
done
sleep 1.5	# TCP retransmits the revoked lines meanwhile (200 ms, 400 ms, 800 ms)
for port in 8443 5353; do
	expect_eq "revoked $port: the client's line after the reload did not arrive" "$(tr '\n' ' ' < "$T/s$port/got")" "c1 "
	expect_eq "revoked $port: the server's line after the reload did not arrive" "$(tr '\n' ' ' < "$T/c$port/got")" "s1 "
done
PEERS=$("$PW" conntrack --json --pin-root "$ROOT" --origin peer | jq -c '[.conntrack[] | [.proto,.port,."peer-port" > 0,.state]] | sort')
expect_eq "conntrack after the reload: the revoked flows' marks, the kept datagram flow" "$PEERS" \
	'[["tcp",8443,true,"revoked"],["udp",5060,true,"seen"],["udp",5353,true,"revoked"]]'
echo h2 > "$T/h7000/say"
got "$T/h7000/got" h2; expect_eq "the server's own connection out goes on across the reload" "$?" 0
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "status --json counts the flows the switch to generation 2 ended" \
	"$(printf '%s' "$st" | jq -c '.conntrack.revoked')" '{"generation":2,"ended":2,"ended_total":2}'
expect_match "status says it in words" "$("$PW" status --pin-root "$ROOT")" \
	'established flows of revoked services ended: 2 by the switch to generation 2 \(2 since the first apply\)'
expect_match "the server's dropped segments are counted as revoked, out" \
	"$(printf '%s' "$st" | jq -r '.reasons.out.revoked.packets')" '^[1-9][0-9]*$'

# a reload that revokes nothing more ends nothing more, and says nothing
# (B with one more port: B itself again would be a no-op, same hash)
{ cat "$T/B.policy"; echo 'allow in tcp port 9 comment "discard"'; } > "$T/B2.policy"
apply "$T/B2.policy"; expect_eq "reload B plus a port" "$?" 0
expect_eq "the second reload ends no flow" "$(grep -c '^reload:' "$T/apply.out")" 0
expect_eq "status: none ended by the switch to generation 3, 2 in all" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -c '.conntrack.revoked')" '{"generation":3,"ended":0,"ended_total":2}'
# a reload of A lets the services in again: the marks go, and the
# datagram session, whose ends are still there, carries both ways again
apply "$T/A.policy"; expect_eq "reload A" "$?" 0
expect_eq "the reload to A revokes nothing" "$(grep -c '^reload:' "$T/apply.out")" 0
expect_eq "conntrack: no mark left" \
	"$("$PW" conntrack --json --pin-root "$ROOT" | jq '[.conntrack[] | select(.state == "revoked")] | length')" 0
echo c3 > "$T/c5353/say"
got "$T/s5353/got" c3; expect_eq "under A again: the client's datagram on 5353 arrives" "$?" 0
echo s3 > "$T/s5353/say"
got "$T/c5353/got" s3; expect_eq "under A again: the server's datagram on 5353 arrives" "$?" 0
# and a rollback to B revokes them again, in the instance's namespace
"$PW" rollback --pin-root "$ROOT" > "$T/rb.out" 2>&1; expect_eq "rollback to B" "$?" 0
expect_eq "the rollback says which flows it ended" "$(grep '^rollback:' "$T/rb.out")" \
	"rollback: 2 established flows of revoked services ended (udp 5353 x1, tcp 8443 x1); they are not carried into the restored policy"
echo c4 > "$T/c5353/say"
echo s4 > "$T/s5353/say"
got "$T/s5060/got" c2 && sleep 0.5
expect_eq "after the rollback: neither datagram on 5353 arrived" \
	"$(tr '\n' ' ' < "$T/s5353/got")/$(tr '\n' ' ' < "$T/c5353/got")" "c1 c3 /s1 s3 "
# A reload need not walk a table whose flows the new policy judges as the
# old one did (datapath/ct_same.c), but the same slots with another peer
# set are not the same judgment: the server's own connection to
# 192.0.2.1:7000 is let out by a set; a reload that changes only other
# ports keeps it, one that changes only the set's address ends it.
mkp() {	# mkp NAME ADDR [LINE]: B with default out drop, tcp 7000 out to @dst = ADDR
	{ grep -v '^default out' "$T/B.policy" | sed "s/\"B\"/\"$1\"/"; echo "default out drop"
	  echo "set dst = $2"; echo "allow out tcp port 7000 to @dst"; echo "${3:-}"; } > "$T/$1.policy"
}
host7000() { "$PW" conntrack --json --pin-root "$ROOT" --origin host | jq -c '[.conntrack[] | select(."peer-port" == 7000) | .state]'; }
mkp P1 192.0.2.1; mkp P1u 192.0.2.1 "allow in udp port 40000"; mkp P2 192.0.2.99
apply "$T/P1.policy"; expect_eq "reload P1 (tcp 7000 out to a set holding the client)" "$?" 0
expect_eq "under P1: the server's connection out is tracked" "$(host7000)" '["established"]'
apply "$T/P1u.policy"; expect_eq "reload P1 plus a udp port (no TCP slot changes)" "$?" 0
echo h3 > "$T/h7000/say"
got "$T/h7000/got" h3; expect_eq "after a reload of other ports: the connection out carries on" "$?" 0
expect_eq "after a reload of other ports: still tracked" "$(host7000)" '["established"]'
apply "$T/P2.policy"; expect_eq "reload P2 (the same rules, the set now 192.0.2.99)" "$?" 0
expect_eq "after the set lost the client: the connection out is no longer tracked" "$(host7000)" '[]'
echo h4 > "$T/h7000/say"
got "$T/h7000/got" h4; expect_eq "after the set lost the client: the connection carries nothing" "$?" 1
# A reload killed after its flip, before its walk (PORTWALL_FAULT): the
# policy in force may then hold flows it refuses. The next reload walks
# every table even where the slots match (pw_meta.ct_walk_due), and the
# same file applied again is no "unchanged" no-op: it walks too.
for port in 7002 7003; do
	mkdir -p "$T/h$port"
	peer "$C" dserve tcp "$port" "$T/h$port" 60 > "$T/h$port/srv" 2>&1 & PIDS+=($!)
done
mkq() {	# mkq NAME LINES...: B with default out drop and LINES
	local n=$1; shift
	{ grep -v '^default out' "$T/B.policy" | sed "s/\"B\"/\"$n\"/"; echo "default out drop"; printf '%s\n' "$@"; } > "$T/$n.policy"
}
hostp() { "$PW" conntrack --json --pin-root "$ROOT" --origin host | jq -c "[.conntrack[] | select(.\"peer-port\" == $1) | .state]"; }
mkq Q1 "allow out tcp port 7002 to 192.0.2.1" "allow out tcp port 7003 to 192.0.2.1"
mkq Q2 "allow out tcp port 7003 to 192.0.2.1"
mkq Q2b "allow out tcp port 7003 to 192.0.2.1" "allow in udp port 40001"
mkq Q3 "allow in udp port 40001"
apply "$T/Q1.policy"; expect_eq "reload Q1 (tcp 7002 and 7003 out)" "$?" 0
for port in 7002 7003; do
	echo o1 > "$T/h$port/say"
	peer "$S" dconnect tcp 192.0.2.1 "$port" "$T/h$port" 60 > "$T/h$port/out" 2>&1 & PIDS+=($!)
done
for port in 7002 7003; do got "$T/h$port/got" o1; expect_eq "under Q1: the connection out to $port carries" "$?" 0; done
{ PORTWALL_FAULT=before-walk apply "$T/Q2.policy"; } 2>/dev/null
expect_eq "reload Q2 (without 7002) killed after its flip" "$?" 137
expect_eq "after the kill: the flow to 7002 is still tracked" "$(hostp 7002)" '["established"]'
apply "$T/Q2b.policy"; expect_eq "reload Q2b (Q2's TCP slots, one more udp port)" "$?" 0
expect_eq "after Q2b: the flow to 7002 the killed reload left is ended" "$(hostp 7002)" '[]'
expect_eq "after Q2b: the flow to 7003 is kept" "$(hostp 7003)" '["established"]'
echo o2 > "$T/h7002/say"
got "$T/h7002/got" o2; expect_eq "after Q2b: the connection to 7002 carries nothing" "$?" 1
{ PORTWALL_FAULT=before-walk apply "$T/Q3.policy"; } 2>/dev/null
expect_eq "reload Q3 (without 7003) killed after its flip" "$?" 137
apply "$T/Q3.policy"; expect_eq "Q3 applied again" "$?" 0
expect_eq "Q3 again is a reload, not unchanged" "$(grep -c '^unchanged' "$T/apply.out")" 0
expect_eq "after Q3 again: the flow to 7003 is ended" "$(hostp 7003)" '[]'
# A reload whose walk stops part way (PORTWALL_FAULT=ct-read: a read error
# after the first batch) flushes what it read, says so, and leaves the walk
# due: the same file again is a reload that walks, not "unchanged".
{ PORTWALL_FAULT=ct-read apply "$T/Q2b.policy"; }
expect_eq "reload Q2b, its walk's read failing part way" "$?" 0
expect_match "the unfinished walk is said" "$(cat "$T/apply.err")" \
	'^portwall: ending the tracked flows the new policy refuses failed \(reading its tables: Input/output error\); those not read go on until they time out or the next reload, which walks every table$'
apply "$T/Q2b.policy"; expect_eq "Q2b applied again" "$?" 0
expect_eq "Q2b again is a reload, not unchanged (its walk was not done)" "$(grep -c '^unchanged' "$T/apply.out")" 0
apply "$T/Q2b.policy"
expect_eq "Q2b a third time is unchanged (the walk done)" "$(grep -c '^unchanged' "$T/apply.out")" 1
summary
