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
# "Revoking a service").
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
# got FILE LINE: the line arrived in FILE within ~3 s
got() { for _ in $(seq 60); do grep -qx "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
for port in 8443 443 5353 5060; do
	got "$T/s$port/got" c1; expect_eq "under A: the client's line on $port arrived" "$?" 0
	echo s1 > "$T/s$port/say"
	got "$T/c$port/got" s1; expect_eq "under A: the server's line on $port arrived" "$?" 0
done

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
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "status --json counts the flows the switch to generation 2 ended" \
	"$(printf '%s' "$st" | jq -c '.conntrack.revoked')" '{"generation":2,"ended":2,"ended_total":2}'
expect_match "status says it in words" "$("$PW" status --pin-root "$ROOT")" \
	'established flows of revoked services ended: 2 by the switch to generation 2 \(2 since the first apply\)'
expect_match "the server's dropped segments are counted as revoked, out" \
	"$(printf '%s' "$st" | jq -r '.reasons.out.revoked.packets')" '^[1-9][0-9]*$'

# a reload that revokes nothing more ends nothing more, and says nothing
apply "$T/B.policy"; expect_eq "reload B again" "$?" 0
expect_eq "the second reload ends no flow" "$(grep -c '^reload:' "$T/apply.out")" 0
expect_eq "status: none ended by the switch to generation 3, 2 in all" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -c '.conntrack.revoked')" '{"generation":3,"ended":0,"ended_total":2}'
summary
