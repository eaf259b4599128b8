#!/usr/bin/env bash
# test_more.sh - more of the agent on a real veth (root): the Finesse
# policy, default out drop at egress, IPv6 outbound, monitor mode, two
# applies at once, and an interface that disappears under portwall.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_more pwm

e2e_hosts "192.0.2.2/24 198.51.100.2/24 2001:db8::2/64 2001:db8:5::2/64" \
	"192.0.2.1/24 198.51.100.30/24 198.51.100.40/24 198.51.100.41/24 198.51.100.25/24 2001:db8::1/64 2001:db8:5::25/64"
e2e_bg "$S" "$T/srv" serve 240 80,8082,443,8445,5222,5223,7071,7443,23,8080
e2e_bg "$C" "$T/cli" serve 240 1433,42027,43027,587,2525
probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }
probe_out() { ins "$S" "$PROBE" tcp "$@" 2>&1; }
apply() { "$PW" apply "$@" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1; }

# Finesse: its vendor table both ways
apply policies/finesse.policy; expect_eq "finesse: apply" "$?" 0
for p in 80 8082 443 8445 5222 5223 7071 7443; do
	expect_eq "finesse: tcp/$p connects" "$(probe 192.0.2.2 $p 2000 1000)" ok
done
expect_eq "finesse: tcp/23 blocked" "$(probe 192.0.2.2 23 700)" timeout
expect_eq "finesse: JDBC out to the AWDB" "$(probe_out 198.51.100.30 1433 2000 1000)" ok
expect_eq "finesse: CTI out to the Agent PG side A" "$(probe_out 198.51.100.40 42027 2000 1000)" ok
expect_eq "finesse: CTI out to the Agent PG side B" "$(probe_out 198.51.100.41 43027 2000 1000)" ok
expect_eq "finesse: nobody connects in on 1433" "$(probe 192.0.2.2 1433 700)" timeout
# finesse.policy is default out drop: what its table does not list fails at egress
expect_eq "finesse: JDBC to a host that is not the AWDB" "$(probe_out 198.51.100.25 1433 700)" timeout
expect_eq "finesse: mail is not in Finesse's table" "$(probe_out 198.51.100.25 587 700)" timeout
expect_eq "finesse: CTI over IPv6 (the Agent PG set is IPv4)" "$(probe_out 2001:db8::1 42027 700)" timeout

# ccp.policy is default out drop: the outbound list is enforced at egress,
# IPv4 and IPv6
apply policies/ccp.policy; expect_eq "out drop: apply" "$?" 0
expect_eq "out drop: mail out on 587 (IPv4)" "$(probe_out 198.51.100.25 587 2000 1000)" ok
expect_eq "out drop: mail out on 587 (IPv6)" "$(probe_out 2001:db8:5::25 587 2000 1000)" ok
expect_eq "out drop: an unlisted port fails at egress" "$(probe_out 198.51.100.25 2525 700)" timeout
expect_eq "out drop: an unlisted port fails at egress (IPv6)" "$(probe_out 2001:db8:5::25 2525 700)" timeout
expect_match "out drop: counted at egress" "$("$PW" status --json --pin-root "$ROOT" | jq -r '.top_drops[].port')" 'out tcp/2525'
expect_eq "out drop: inbound web still fine" "$(probe 192.0.2.2 443 2000 1000)" ok

# monitor mode: everything passes, what would drop is counted
apply policies/ccp.policy --mode monitor; expect_eq "monitor: apply" "$?" 0
expect_eq "monitor: tcp/23 passes" "$(probe 192.0.2.2 23 2000 1000)" ok
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "monitor: status says monitor" "$(printf '%s' "$st" | jq -r .policy.mode)" monitor
expect_match "monitor: would-drops counted on in tcp/23" "$(printf '%s' "$st" | jq '[.top_drops[] | select(.port == "in tcp/23") | .packets] | add')" '^[1-9]'

# monitor mode, then enforce: a peer's UDP session and TCP connection on
# ports no rule opens, let through by monitor mode under default out
# allow, end at the switch (the host's answers opened flows of its own
# that outlived it: the attack's F2; docs/datapath.md, step 7)
printf 'policy "m"\nallow in tcp port 22\ndefault out allow\n' > "$T/m.policy"
apply "$T/m.policy" --mode monitor; expect_eq "monitor to enforce: apply in monitor mode" "$?" 0
ins "$S" /usr/bin/python3 tests/e2e/pwpeer.py uecho 192.0.2.2 7001 90 > "$T/uecho" 2>&1 & PIDS+=($!)
for _ in $(seq 30); do [ -s "$T/uecho" ] && break; sleep 0.1; done
ins "$C" /usr/bin/python3 tests/e2e/pwpeer.py utalk 192.0.2.2 7001 45001 "$T/mflag" 30 > "$T/utalk" 2>&1 & PIDS+=($!)
ins "$C" /usr/bin/python3 tests/e2e/pwpeer.py talk 192.0.2.2 8080 45002 "$T/mflag" 30 > "$T/talk" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/talk" ] && [ -s "$T/utalk" ] && break; sleep 0.1; done
expect_eq "monitor: a UDP session to a closed port answered" "$(head -n 1 "$T/utalk")" open
expect_eq "monitor: a TCP connection to a closed port opened" "$(head -n 1 "$T/talk")" open
apply "$T/m.policy" --mode enforce; expect_eq "monitor to enforce: apply in enforce mode" "$?" 0
touch "$T/mflag"
for _ in $(seq 150); do [ "$(wc -l < "$T/talk")" -ge 2 ] && [ "$(wc -l < "$T/utalk")" -ge 2 ] && break; sleep 0.1; done
expect_eq "enforce: the UDP session monitor mode let in carries nothing" "$(tail -n 1 "$T/utalk")" timeout
expect_eq "enforce: the TCP connection monitor mode let in carries nothing" "$(tail -n 1 "$T/talk")" timeout

# settings: conntrack timeouts and the event rate, kept across reloads
apply policies/ccp.policy --ct-timeout udp=30,tcp-est=3600 --event-rate 200; expect_eq "settings: apply" "$?" 0
apply policies/ccp.policy
expect_eq "settings: kept by a reload without them" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -c '[.config.ct_timeouts.udp, .config.ct_timeouts.tcp_est, .config.ct_timeouts.tcp_syn, .config.event_rate]')" \
	"[30,3600,120,200]"
apply policies/ccp.policy --ct-timeout bogus=1
expect_eq "settings: a bad name is a usage error" "$?" 2

# two applies at once: serialized by the lock, both succeed, one generation each
# (neither is the policy in force, ccp: a reload to the hash in force is a no-op)
g0=$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)
"$PW" apply policies/socialminer.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/a1" 2>&1 & A1=$!
"$PW" apply policies/finesse.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/a2" 2>&1 & A2=$!
wait $A1; r1=$?; wait $A2; r2=$?
expect_eq "two applies at once: both exit 0" "$r1 $r2" "0 0"
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "two applies at once: two generations" "$(printf '%s' "$st" | jq .policy.generation)" $((g0 + 2))
expect_match "two applies at once: the last one wins, whole" "$(printf '%s' "$st" | jq -r '"\(.policy.name) \(.policy.file_matches)"')" \
	'^Cisco (SocialMiner|Finesse) true$'

# not root: a clear message, nothing changed
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" apply policies/ccp.policy --iface "$VS" \
	--netns "$S" --pin-root "${ROOT}nr" 2>&1); rc=$?
expect_eq "not root: exit 1" "$rc" 1
expect_match "not root: says what to do" "$out" 'needs root .* run it with sudo; nothing was changed'

# another tool's XDP program: refused unless --force
e2e_bg "$S" "$T/srv2" serve 60 443
ins "$S" ip link add pmf$$ type veth peer name pmg$$
ins "$S" ip link set pmf$$ up
ins "$S" ip link set pmg$$ up
ins "$S" ip link set dev pmf$$ xdpgeneric obj "${EMPTY_BPF:-build/bench/empty.bpf.o}" sec xdp
out=$("$PW" apply policies/ccp.policy --iface pmf$$ --netns "$S" --pin-root "${ROOT}f" 2>&1); rc=$?
expect_eq "foreign XDP: refused" "$rc" 1
expect_match "foreign XDP: says whose and how" "$out" "pmf$$ already has an XDP program .* not portwall's; nothing was changed \(--force replaces it\)"
[ -e "${ROOT}f" ] && fail "foreign XDP: no pins left" || pass "foreign XDP: no pins left"
"$PW" apply policies/ccp.policy --iface pmf$$ --netns "$S" --pin-root "${ROOT}f" --force > /dev/null 2>&1
expect_eq "foreign XDP: --force replaces it" "$?" 0
expect_eq "two instances coexist: both report their own interface" \
	"$("$PW" status --json --pin-root "${ROOT}f" | jq -r '.interfaces[0].name') $("$PW" status --json --pin-root "$ROOT" | jq -r '.interfaces[0].name')" \
	"pmf$$ $VS"
"$PW" unload --pin-root "${ROOT}f" > /dev/null 2>&1
expect_eq "the other instance unloaded, this one still there" "$("$PW" status --json --pin-root "$ROOT" | jq -r '.interfaces[0].name')" "$VS"

expect_eq "status --netns of the instance" "$("$PW" status --json --pin-root "$ROOT" --netns "$S" | jq -r .netns)" "$S"
"$PW" rollback --pin-root "$ROOT" --netns not-this-one > /dev/null 2>&1
expect_eq "rollback --netns of another namespace: refused" "$?" 1
out=$("$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root /sys/fs/bpf/pw.dot 2>&1); rc=$?
expect_eq "a pin root with a dot: usage error" "$rc" 2
expect_match "a pin root with a dot: says why" "$out" "bpffs refuses names with a '\.' \(pw\.dot\)"

# the interface disappears
ins "$S" ip link del "$VS"
expect_match "gone: status says the interface is not attached" "$("$PW" status --pin-root "$ROOT")" "$VS +XDP native NOT ATTACHED"
ins "$S" ip link add "$VS" type veth peer name "${VS}x"
ins "$S" ip link set "$VS" up
expect_eq "gone: a new interface of the same name exists" "$(ins "$S" ip -o link show "$VS" | wc -l)" 1
expect_eq "gone: ... and is not enforced" "$(ins "$S" ip link show "$VS" | grep -c xdp)" 0
"$PW" unload --pin-root "$ROOT" > "$T/unload" 2>&1
expect_eq "gone: unload cleans up" "$?" 0
[ -e "$ROOT" ] && fail "gone: no pins left" "$(ls "$ROOT")" || pass "gone: no pins left"

summary
