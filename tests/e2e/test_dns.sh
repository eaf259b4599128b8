#!/usr/bin/env bash
# test_dns.sh - host names in a policy, with a real resolver (dnsmasq) and
# real sockets between namespaces (root): the host under `default out
# drop` connects by name and its first SYN passes; an address never
# answered is dropped; a CNAME under a wildcard; after the name rotates
# the new address works, the old one refuses new flows while a connection
# opened to it keeps flowing; a reload keeps what the names learned;
# only the queries of root (the default dns-users) teach: the answer to
# nobody's query teaches nothing, and neither does an answer forged for
# it by an accomplice who knows its port and id (the attack review's HIGH
# finding), while the same forgery on root's query would; a query the host
# forwards (no local socket) teaches nothing unless dns-users any; the
# agent asks the resolver itself at apply and on its timer; a rollback
# brings back no address that expired.
# docs/dns.md.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_dns pwd
PEER="/usr/bin/python3 tests/e2e/pwpeer.py"
command -v dnsmasq >/dev/null || { fail "dnsmasq (dnsmasq-base) is not installed: scripts/deps.sh installs it"; summary; exit 1; }

# C: the resolver 192.0.2.53 and the servers 203.0.113.10-20; S: the host
# 192.0.2.54: a second nameserver nothing answers on, for forged answers;
# 203.0.113.66 the accomplice's server
e2e_hosts "192.0.2.2/24" "192.0.2.1/24 192.0.2.53/24 192.0.2.54/24 203.0.113.10/24 203.0.113.11/24 203.0.113.12/24 203.0.113.14/24 203.0.113.15/24 203.0.113.20/24 203.0.113.66/24"
ins "$S" ip route add 203.0.113.0/24 via 192.0.2.1
# what programs in S read as /etc/resolv.conf (ip netns exec), and what
# portwall takes the resolver from: the policy names none
mkdir -p "/etc/netns/$S"
printf 'nameserver 192.0.2.53\nnameserver 192.0.2.54\n' > "/etc/netns/$S/resolv.conf"
F=pwdf$$	# section 7: a host behind S, whose queries S forwards
dns_cleanup() { ip netns del "$F" 2>/dev/null; rm -rf "/etc/netns/$S"; e2e_cleanup; }
trap dns_cleanup EXIT

echo "203.0.113.10 pop1-ccans.mycontactcenter.net" > "$T/hosts"
echo "203.0.113.20 outlook.ha.office365.com" >> "$T/hosts"
echo "203.0.113.14 login.microsoftonline.com" >> "$T/hosts"
echo "203.0.113.15 smtp.office365.com" >> "$T/hosts"
nsenter --net=/run/netns/"$C" dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$T/hosts" \
	--listen-address=192.0.2.53 --bind-interfaces --local-ttl=2 --cname=outlook.office365.com,outlook.ha.office365.com \
	--pid-file="$T/dnsmasq.pid" --user=root --log-facility="$T/dnsmasq.log" &
PIDS+=($!)
DNSMASQ=$!
e2e_bg "$C" "$T/srv" serve 120 443
e2e_bg "$C" "$T/push" push 120 8443 6000 1000
byname() { ip netns exec "$S" $PEER byname "$@"; }
direct() { ins "$S" $PEER connect 0 "$1" "$2" 1.5; }

cat > "$T/d.policy" <<'EOF'
policy "names"
default in drop
default out drop
allow out udp port 53 to 192.0.2.53, 192.0.2.54
allow out tcp port 443, 8443 to pop1-ccans.mycontactcenter.net, *.office365.com, login.microsoftonline.com
EOF
# a resolv.conf others may write would choose whose answers teach: refused
chmod 0666 "/etc/netns/$S/resolv.conf"
"$PW" apply "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1
expect_eq "a resolv.conf anyone may write: refused" "$?" 1
expect_match "a resolv.conf anyone may write: says what to do" "$(cat "$T/apply.out")" \
	"/etc/netns/$S/resolv.conf.*writable.*chmod go-w"
chmod 0644 "/etc/netns/$S/resolv.conf"
# sections 1-5 test what the datapath learns from the host's own answers:
# the agent does not ask itself (section 6 has that)
"$PW" run "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --resolve-timeout 0 > "$T/run.log" 2>&1 &
PIDS+=($!)
RUN=$!
for _ in $(seq 100); do [ -e "$ROOT/pw_names" ] && break; sleep 0.1; done
expect_eq "run: applied the policy with names" "$([ -e "$ROOT/pw_names" ] && echo yes)" yes

# 1. by name: the first SYN passes (a retransmission would take 1 s)
expect_eq "by name: connected, first SYN" "$(byname pop1-ccans.mycontactcenter.net 443 0.9)" "ok 203.0.113.10"
expect_eq "an address never answered: dropped" "$(direct 203.0.113.12 443)" timeout
# 2. a CNAME chain under a wildcard
expect_eq "wildcard, CNAME: connected" "$(byname outlook.office365.com 443 0.9)" "ok 203.0.113.20"
# status counts what the learner did: two answers taught two addresses
expect_match "status: the learner's counters" "$("$PW" status --pin-root "$ROOT")" \
	'^host names: 2 addresses learned; [0-9]+ queries, [0-9]+ answers \(2 addresses new,'
expect_eq "status --json: dns" "$("$PW" status --json --pin-root "$ROOT" | jq -c '[.dns.addresses, .dns.learned, .dns.malformed]')" "[2,2,0]"
# 3. a connection to the old address, its data pushed after the rotation.
# It connects by name (the answer teaches 203.0.113.10 afresh): the address
# section 1 taught lives 2 s, which a loaded machine spends before this
ip netns exec "$S" $PEER hold pop1-ccans.mycontactcenter.net 8443 41443 15 > "$T/hold" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/hold" ] && break; sleep 0.1; done
expect_eq "the held connection opened" "$(head -n 1 "$T/hold")" open
echo "203.0.113.11 pop1-ccans.mycontactcenter.net" > "$T/hosts"
echo "203.0.113.20 outlook.ha.office365.com" >> "$T/hosts"
echo "203.0.113.14 login.microsoftonline.com" >> "$T/hosts"
echo "203.0.113.15 smtp.office365.com" >> "$T/hosts"
kill -HUP "$DNSMASQ"
sleep 4	# the 2 s TTL runs out; the agent removes expired addresses each second
expect_eq "rotated: the new address works" "$(byname pop1-ccans.mycontactcenter.net 443 0.9)" "ok 203.0.113.11"
expect_eq "rotated: the old address refuses new flows" "$(direct 203.0.113.10 443)" timeout
for _ in $(seq 100); do [ "$(tail -n 1 "$T/hold")" != open ] && break; sleep 0.1; done
expect_eq "rotated: the connection to the old address keeps flowing" "$(tail -n 1 "$T/hold")" ok
# 4. a reload keeps what the names learned. The agent stops (enforcement
# stays); apply reloads with a lifetime floor of 60 s, the name is asked
# (learned into the half in force), and a second reload must carry it: a
# new connection to the address passes without asking again
kill "$RUN"
for _ in $(seq 50); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
# (--resolve-timeout 0: the agent does not ask itself, so that only the
# carry can keep the address)
apply() { "$PW" apply "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --ct-timeout dns-min=60 \
	--resolve-timeout 0 > "$T/apply.out" 2>&1; }
apply; expect_eq "reload with a lifetime floor" "$?" 0
expect_eq "asked once more" "$(byname pop1-ccans.mycontactcenter.net 443 0.9)" "ok 203.0.113.11"
sleep 3	# past the answer's own 2 s TTL: only the floor keeps it
printf '# reloaded\n' >> "$T/d.policy"
apply; expect_eq "reload" "$?" 0
expect_eq "reload: the learned address still passes" "$(direct 203.0.113.11 443)" ok
# 5. a name the policy does not have teaches nothing
echo "203.0.113.12 other.example.net" >> "$T/hosts"
kill -HUP "$DNSMASQ"
sleep 0.3
expect_eq "another name: resolved but dropped" "$(byname other.example.net 443 1.5)" "timeout 203.0.113.12"
# 6. whose queries teach: root's (the default dns-users), not nobody's
nobody() { ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
untrusted() { "$PW" status --json --pin-root "$ROOT" | jq '.dns.untrusted // 0'; }
expect_eq "check: the default dns users" "$("$PW" check "$T/d.policy" | grep '^dns users:')" \
	"dns users: $(getent passwd systemd-resolve >/dev/null && echo 'root (0), systemd-resolve ('"$(id -u systemd-resolve)"')' || echo 'root (0)') (the default; dns-users lists whose queries teach)"
before=$(untrusted)
expect_eq "nobody's query: answered, passed, taught nothing" "$(nobody $PEER byname login.microsoftonline.com 443 1.5)" \
	"timeout 203.0.113.14"
expect_eq "nobody's query: counted untrusted" "$(( $(untrusted) > before ))" 1
expect_eq "root's query for the same name teaches" "$(byname login.microsoftonline.com 443 0.9)" "ok 203.0.113.14"
# the attack: nobody asks the silent resolver itself (so knows port and
# id), the accomplice forges its answer: the answer reaches nobody's
# socket, and teaches nothing
spoof() {	# USER-RUNNER LPORT TXID -> what the asker got
	$1 $PEER dnsask login.microsoftonline.com 192.0.2.54 "$2" "$3" 5 > "$T/ask" 2>&1 &
	local asker=$!
	for _ in $(seq 50); do [ -s "$T/ask" ] && break; sleep 0.1; done
	ins "$C" $PEER dnsspoof 192.0.2.54 192.0.2.2 "$2" "$3" login.microsoftonline.com 203.0.113.66 >/dev/null
	wait "$asker"
	tail -n 1 "$T/ask"
}
before=$(untrusted)
expect_eq "forged answer to nobody's query: reaches it" "$(spoof nobody 45053 0x4d2)" "answer 203.0.113.66"
expect_eq "forged answer to nobody's query: teaches nothing" "$(direct 203.0.113.66 443)" timeout
expect_eq "forged answer to nobody's query: as nobody too" "$(nobody $PEER connect 0 203.0.113.66 443 1.5)" timeout
expect_eq "nobody's own query: counted untrusted" "$(( $(untrusted) > before ))" 1
expect_match "status: untrusted queries shown" "$("$PW" status --pin-root "$ROOT")" \
	'; [1-9][0-9]* queries of users not in dns-users \(not recorded\)'
# the same forgery on root's query is what the learner takes (the test
# can fail): root is trusted, and only root knows its port and id
expect_eq "forged answer to root's query: reaches it" "$(spoof "ip netns exec $S" 45054 0x4d3)" "answer 203.0.113.66"
expect_eq "forged answer to root's query: teaches" "$(direct 203.0.113.66 443)" ok
# 7. a query S forwards (from F behind it: no socket on S) teaches
# nothing under the default; under dns-users any it does
ip netns add "$F" && ip link add "${F}a" type veth peer name "${F}b" &&
	ip link set "${F}a" netns "$S" && ip link set "${F}b" netns "$F" &&
	ins "$S" ip addr add 198.51.100.1/24 dev "${F}a" && ins "$S" ip link set "${F}a" up &&
	ins "$F" ip addr add 198.51.100.2/24 dev "${F}b" && ins "$F" ip link set "${F}b" up && ins "$F" ip link set lo up &&
	ins "$F" ip route add default via 198.51.100.1 && ins "$S" sysctl -qw net.ipv4.ip_forward=1 &&
	ins "$C" ip route add 198.51.100.0/24 via 192.0.2.2 || fail "the forwarded host F: setup"
before=$(untrusted)
expect_eq "forwarded query: answered" "$(ins "$F" $PEER dnsask smtp.office365.com 192.0.2.53 45055 0x4d4 3 | tail -n 1)" \
	"answer 203.0.113.15"
expect_eq "forwarded query: counted untrusted" "$(( $(untrusted) > before ))" 1
expect_eq "forwarded query: taught nothing" "$(direct 203.0.113.15 443)" timeout
printf 'dns-users any\n' >> "$T/d.policy"
apply; expect_eq "reload with dns-users any" "$?" 0
expect_match "reload with dns-users any: warns of the attack" "$(cat "$T/apply.out")" 'warning: dns-users any: '
expect_eq "forwarded query under dns-users any: answered" \
	"$(ins "$F" $PEER dnsask smtp.office365.com 192.0.2.53 45056 0x4d5 3 | tail -n 1)" "answer 203.0.113.15"
expect_eq "forwarded query under dns-users any: teaches" "$(direct 203.0.113.15 443)" ok
# 8. the agent asks the resolver itself: right after apply, then on its
# timer, so a host that never asks (a cached answer, DNS over HTTPS)
# reaches the name's addresses too. Lifetimes of 8 s: asked again at 6 s.
echo "203.0.113.12 pop1-ccans.mycontactcenter.net" > "$T/hosts"
echo "203.0.113.20 outlook.ha.office365.com" >> "$T/hosts"
echo "203.0.113.14 login.microsoftonline.com" >> "$T/hosts"
kill -HUP "$DNSMASQ"
sleep 0.3
"$PW" run "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --ct-timeout dns-min=8,dns-max=8 \
	> "$T/run2.log" 2>&1 &
PIDS+=($!)
RUN=$!
source_of() {	# the source of address $1 of pop1-ccans, as status --json has it
	"$PW" status --json --pin-root "$ROOT" | jq -r --arg a "$1" \
		'.dns.names[] | select(.name == "pop1-ccans.mycontactcenter.net") | .addresses[] | select(.address == $a) | .source'
}
for _ in $(seq 50); do [ "$(source_of 203.0.113.12)" = apply ] && break; sleep 0.1; done
expect_eq "the agent asked at apply: status says so" "$(source_of 203.0.113.12)" apply
expect_eq "the agent asked at apply: the host reaches the address without asking" "$(direct 203.0.113.12 443)" ok
for _ in $(seq 30); do grep -q '^host names: asked' "$T/run2.log" && break; sleep 0.1; done
expect_match "run says what it asked" "$(cat "$T/run2.log")" \
	"^host names: asked the resolvers about 2, 2 answered: 2 addresses$"
expect_match "status: each name with its addresses" "$("$PW" status --pin-root "$ROOT")" \
	"^  pop1-ccans.mycontactcenter.net: .*203\.0\.113\.12 \(apply, [0-9]+ s left(, [0-9]+ flows?)?\)"
expect_match "status: a wildcard is listed, never asked" "$("$PW" status --pin-root "$ROOT")" "^  \*\.office365\.com: "
echo "203.0.113.10 pop1-ccans.mycontactcenter.net" > "$T/hosts"
echo "203.0.113.20 outlook.ha.office365.com" >> "$T/hosts"
echo "203.0.113.14 login.microsoftonline.com" >> "$T/hosts"
kill -HUP "$DNSMASQ"
for _ in $(seq 120); do [ "$(source_of 203.0.113.10)" = timer ] && break; sleep 0.1; done
expect_eq "the timer asked again: the new address" "$(source_of 203.0.113.10)" timer
expect_eq "the timer asked again: the host reaches it without asking" "$(direct 203.0.113.10 443)" ok
# 9. a rollback restores the previous half with the addresses alive now,
# not those its names learned while it was in force and that expired
# since (the attack review's finding 3)
kill "$RUN"
for _ in $(seq 50); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
echo "203.0.113.11 pop1-ccans.mycontactcenter.net" > "$T/hosts"
echo "203.0.113.20 outlook.ha.office365.com" >> "$T/hosts"
echo "203.0.113.14 login.microsoftonline.com" >> "$T/hosts"
kill -HUP "$DNSMASQ"
sleep 0.3
short() { "$PW" apply "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --resolve-timeout 0 \
	--ct-timeout dns-min=2,dns-max=2 > "$T/apply.out" 2>&1; }
short
expect_eq "rollback: learned for 2 s" "$(byname pop1-ccans.mycontactcenter.net 443 0.9)" "ok 203.0.113.11"
printf '# again\n' >> "$T/d.policy"
short	# the half rollback goes back to: 203.0.113.11 carried into it
"$PW" run "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --resolve-timeout 0 \
	--ct-timeout dns-min=30,dns-max=30 > "$T/run3.log" 2>&1 &
PIDS+=($!)
RUN=$!
for _ in $(seq 50); do grep -q '^running' "$T/run3.log" && break; sleep 0.1; done
expect_eq "rollback: learned for 30 s after" "$(byname outlook.office365.com 443 0.9)" "ok 203.0.113.20"
for _ in $(seq 60); do [ -z "$(source_of 203.0.113.11)" ] && break; sleep 0.1; done
expect_eq "rollback: the 2 s address expired" "$(direct 203.0.113.11 443)" timeout
out=$("$PW" rollback --pin-root "$ROOT" 2>&1)
expect_match "rollback: done, nothing to note" "$out" '^rolled back to "names" \(generation [0-9]+\)$'
expect_eq "rollback: the expired address stays refused" "$(direct 203.0.113.11 443)" timeout
expect_eq "rollback: the live address passes" "$(direct 203.0.113.20 443)" ok
# run follows the generation the rollback put in force (what a learned
# address reverts to is that policy's)
gen=$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)
for _ in $(seq 30); do grep -q "^generation $gen is in force now" "$T/run3.log" && break; sleep 0.1; done
expect_match "run follows the rollback" "$(cat "$T/run3.log")" "^generation $gen is in force now \(applied or rolled back by another command\): following it$"
# 10. a name keeps at most --name-addresses addresses: run removes the
# least recently answered beyond (ties: the higher address), counted
kill "$RUN"
for _ in $(seq 50); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
printf '203.0.113.10 pop1-ccans.mycontactcenter.net\n203.0.113.11 pop1-ccans.mycontactcenter.net\n' > "$T/hosts"
kill -HUP "$DNSMASQ"
sleep 0.3
"$PW" run "$T/d.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --resolve-timeout 0 --name-addresses 1 \
	--ct-timeout dns-min=30,dns-max=30 > "$T/run4.log" 2>&1 &
PIDS+=($!)
RUN=$!
for _ in $(seq 50); do grep -q '^running' "$T/run4.log" && break; sleep 0.1; done
expect_match "cap: an answer of two addresses" "$(byname pop1-ccans.mycontactcenter.net 443 0.9)" '^ok 203\.0\.113\.1[01]$'
pop1() { "$PW" status --json --pin-root "$ROOT" | jq -c '[.dns.names[] | select(.name == "pop1-ccans.mycontactcenter.net") | .addresses[].address]'; }
for _ in $(seq 30); do [ "$(pop1)" = '["203.0.113.10"]' ] && break; sleep 0.1; done
expect_eq "cap: the name keeps one" "$(pop1)" '["203.0.113.10"]'
expect_eq "cap: the other is refused" "$(direct 203.0.113.11 443)" timeout
# the flows the host has open to a learned address (a connection made
# now, closing; lifetimes of 30 s here, so the record is still there)
expect_eq "cap: the kept one passes" "$(direct 203.0.113.10 443)" ok
expect_eq "status: the host's flows to a learned address" "$("$PW" status --json --pin-root "$ROOT" | jq '[.dns.names[] |
	select(.name == "pop1-ccans.mycontactcenter.net") | .addresses[] | select(.address == "203.0.113.10") | .flows >= 1][0]')" true
expect_match "status text: the flows" "$("$PW" status --pin-root "$ROOT")" \
	"^  pop1-ccans.mycontactcenter.net: 203\.0\.113\.10 \(answer, [0-9]+ s left, [0-9]+ flows?\)"
expect_eq "cap: evictions counted" "$("$PW" status --json --pin-root "$ROOT" | jq '.dns.evicted > 0 and .dns.name_max == 1')" true
summary
