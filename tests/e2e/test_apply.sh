#!/usr/bin/env bash
# test_apply.sh - portwall on a real veth with real TCP/UDP sockets (root).
# A "server" namespace gets policies/ccp.policy on its veth; a "client"
# namespace plays browser, MR PG and mail server. Addresses are from the
# documentation ranges, assigned here; nothing else is touched.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_apply pwa

e2e_hosts "192.0.2.2/24 198.51.100.2/24 2001:db8::2/64" \
	"192.0.2.1/24 198.51.100.10/24 198.51.100.25/24 198.51.100.7/24 2001:db8::1/64"

# listeners: the vendor table's ports and some that are in no table
e2e_bg "$S" "$T/srv" serve 240 80,443,5222,7071,7443,8442,10443,38001,23,3389,8080 udp 5060,9999
e2e_bg "$C" "$T/cli" serve 240 25,465,587,993

probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }            # from the client
probe_out() { ins "$S" "$PROBE" tcp "$@" 2>&1; }        # from the server

expect_eq "before apply: telnet port reachable" "$(probe 192.0.2.2 23 1000)" ok

# adoption: an outbound connection opened before apply, idle at apply time;
# the peer speaks first afterwards (to a port no in rule allows). Port 80:
# ccp.policy is default out drop, and its feeds go out on 80 to anyone.
# One to a port no out rule allows (2525) is not adopted: its peer's data
# after the apply drops. The peers speak once $T/go exists, made when apply
# has returned (a fixed delay raced apply on a loaded machine); the pulls
# read for 5 s from then.
e2e_bg "$C" "$T/push" push 60 80 100 1000 "$T/go"
e2e_bg "$S" "$T/pull" pull 198.51.100.25 80 5000 1000 "$T/go"
PULL=$BG
e2e_bg "$C" "$T/push2" push 60 2525 100 1000 "$T/go"
e2e_bg "$S" "$T/pull2" pull 198.51.100.25 2525 5000 1000 "$T/go"
PULL2=$BG

out=$("$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
: > "$T/go"
expect_eq "apply: exit 0" "$rc" 0
expect_match "apply: says what it did" "$out" "^applied \"Cisco Customer Collaboration Platform\" .* generation 1, "
expect_match "apply: XDP native on veth" "$out" "$VS: XDP native, tc egress"
expect_match "apply: adopted the open connection" "$out" '^adopted [1-9][0-9]* open connection'
wait "$PULL"
expect_eq "adoption: the peer's next data gets in" "$(tail -n 1 "$T/pull")" ok
wait "$PULL2"
expect_eq "adoption: not a flow to a port no out rule allows" "$(tail -n 1 "$T/pull2")" timeout

for p in 80 443 5222 7071 7443 8442 10443; do
	expect_eq "ccp: tcp/$p from a browser connects, data both ways" "$(probe 192.0.2.2 $p 2000 20000)" ok
done
expect_eq "ccp: tcp/443 over IPv6 (neighbor discovery works)" "$(probe 2001:db8::2 443 2000 20000)" ok
for p in 23 3389 8080 5223; do
	expect_eq "ccp: tcp/$p is blocked" "$(probe 192.0.2.2 $p 700)" timeout
done
expect_eq "ccp: 38001 from the MR PG" "$(probe 198.51.100.2 38001 2000 1000 198.51.100.10)" ok
expect_eq "ccp: 38001 from anyone else" "$(probe 198.51.100.2 38001 700 1000 198.51.100.7)" timeout
expect_eq "ccp: outbound mail, replies get in" "$(probe_out 198.51.100.25 587 2000 20000)" ok
expect_eq "ccp: outbound IMAPS" "$(probe_out 198.51.100.25 993 2000 1000)" ok
expect_eq "ccp: outbound IPv6 to a mail port, not the mail server: blocked at egress" \
	"$(probe_out 2001:db8::1 587 700)" timeout
expect_eq "ccp: outbound to a port in no table: blocked at egress" "$(probe_out 198.51.100.25 2525 700)" timeout
expect_eq "ccp: udp/5060 is blocked" "$(ins "$C" "$PROBE" udpecho 192.0.2.2 5060 700)" timeout

# exact counters: 7 datagrams to a port no rule names
ins "$C" "$PROBE" udp 192.0.2.2 9999 7
sleep 0.2
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "status: 7 drops on in udp/9999" "$(printf '%s' "$st" | jq '[.top_drops[] | select(.port == "in udp/9999") | .packets] | add')" 7
expect_eq "status: generation 1" "$(printf '%s' "$st" | jq .policy.generation)" 1
expect_eq "status: interface attached" "$(printf '%s' "$st" | jq -r '.interfaces[0] | "\(.xdp_attached) \(.tc_attached)"')" "true true"
expect_match "status: the web rule counted packets both ways" \
	"$(printf '%s' "$st" | jq -r '.rules[] | select(.comment != null and (.comment | startswith("UI, APIs"))) | "\(.in.packets) \(.out.packets)"')" '^[1-9][0-9]* [1-9][0-9]*$'
expect_match "status: conntrack has the outbound flows" "$(printf '%s' "$st" | jq .conntrack.created)" '^[1-9]'
expect_eq "status: nothing evicted from a near-empty table" "$(printf '%s' "$st" | jq .conntrack.evicted)" 0
expect_match "bpftool prints named fields" "$(bpftool map dump pinned "$ROOT/pw_meta" 2>&1)" '"generation": 1'
# the same count through bpftool: slot of (in, udp, 9999) = 1 << 16 | 9999, per CPU
slot=$(( (1 << 16) + 9999 ))
key=$(printf '%d %d %d %d' $((slot & 255)) $(((slot >> 8) & 255)) $(((slot >> 16) & 255)) $((slot >> 24)))
expect_eq "bpftool: 7 drops on in udp/9999, summed over CPUs" \
	"$(bpftool -j map lookup pinned "$ROOT/pw_port_drops" key $key | jq '[.formatted.values[].value] | add')" 7

# portwall test on the live maps
expect_match "test on the live maps" "$("$PW" test --pin-root "$ROOT" in tcp 198.51.100.7:5000 192.0.2.2:443 syn)" '^PASS  allow-rule +.*ccp\.policy:[0-9]+'

# hot reload: a version with a new first rule (every rule id shifts), no
# 8442, and outbound 587 denied
web_counts() {
	"$PW" status --json --pin-root "$ROOT" |
		jq -r '.rules[] | select(.comment != null and (.comment | startswith("UI, APIs"))) | "\(.id) \(.in.packets) \(.in.bytes) \(.out.packets)"'
}
expect_eq "flow to the mail server is tracked" "$(probe_out 198.51.100.25 587 2000 1000)" ok
before=$(web_counts)
{ echo 'policy "CCP, edited"'; echo 'allow in tcp port 9090 comment "a new first rule"'
  sed -e '/^policy /d' -e '/port 8442/d' -e 's/^allow out tcp port 587 .*/deny out tcp port 587/' policies/ccp.policy; } \
	> "$T/ccp-b.policy"
cp policies/base.policy "$T/"
out=$("$PW" apply "$T/ccp-b.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "reload: exit 0" "$rc" 0
expect_match "reload: generation 2" "$out" '^reloaded .* generation 2,'
expect_match "reload: ends the flows it no longer allows" "$out" '^ended [1-9][0-9]* tracked flows? the new policy no longer allows'
after=$(web_counts)
expect_eq "reload: the web rule moved from id ${before%% *} to ${after%% *}, its counters kept" \
	"$((${before%% *} + 1)) ${before#* }" "$after"
expect_eq "reload: the new rule starts at 0" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -r '.rules[] | select(.comment == "a new first rule") | .in.packets')" 0
expect_eq "reload: 8442 now blocked" "$(probe 192.0.2.2 8442 700)" timeout
expect_eq "reload: 443 still open" "$(probe 192.0.2.2 443 2000 20000)" ok
expect_eq "reload: outbound 587 now blocked" "$(probe_out 198.51.100.25 587 700)" timeout
printf 'allow in tcp port 99999\n' > "$T/broken.policy"
out=$("$PW" apply "$T/broken.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "broken policy: exit 1" "$rc" 1
expect_match "broken policy: nothing changed" "$out" 'nothing was changed'
expect_eq "broken policy: generation still 2" "$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)" 2
expect_eq "broken policy: 443 still open" "$(probe 192.0.2.2 443 2000 1000)" ok

# rollback: the previous generation at once, and back again
out=$("$PW" rollback --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "rollback: exit 0" "$rc" 0
expect_match "rollback: to generation 1" "$out" '^rolled back to "Cisco Customer Collaboration Platform" \(generation 1\)'
expect_eq "rollback: 8442 open again" "$(probe 192.0.2.2 8442 2000 1000)" ok
expect_eq "rollback: status says generation 1" "$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)" 1
out=$("$PW" rollback --pin-root "$ROOT" 2>&1)
expect_match "rollback again: generation 2" "$out" '\(generation 2\)$'
expect_eq "rollback again: 8442 blocked" "$(probe 192.0.2.2 8442 700)" timeout

# --confirm: a policy that blocks the session's own port, not confirmed
sed '/port 80,443 /d' policies/ccp.policy > "$T/no443.policy"
out=$("$PW" apply "$T/no443.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --confirm 5 2>&1); rc=$?
expect_eq "confirm: apply exit 0" "$rc" 0
expect_match "confirm: says what to run" "$out" "run \`portwall confirm --pin-root $ROOT\` within 5 s"
expect_eq "confirm: 443 blocked meanwhile" "$(probe 192.0.2.2 443 700)" timeout
sleep 6.5
expect_eq "confirm: not confirmed, the previous policy is back" "$(probe 192.0.2.2 443 2000 1000)" ok
expect_eq "confirm: generation 2 again" "$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)" 2
# ... and confirmed
"$PW" apply "$T/no443.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --confirm 5 >/dev/null 2>&1
expect_match "confirm: confirm says so" "$("$PW" confirm --pin-root "$ROOT")" '^confirmed generation'
sleep 6.5
expect_eq "confirm: confirmed policy stays" "$(probe 192.0.2.2 443 700)" timeout
"$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" >/dev/null 2>&1
expect_eq "confirm: ccp back, 443 open" "$(probe 192.0.2.2 443 2000 1000)" ok

# a reload whose IPv4 peer sets need more flat lookup chunks than the
# first apply made room for: looked up in the trie, the same verdicts, and
# said (100 /32s in as many /16s of 10/8, which no packet here comes from)
{ cat policies/ccp.policy; printf 'set many = %s\n' "$(seq -s ', ' -f '10.%g.0.1' 0 99)"
  echo 'allow in tcp port 9443 from @many'; } > "$T/many.policy"
out=$("$PW" apply "$T/many.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "flat lookup full: apply exit 0" "$rc" 0
expect_match "flat lookup full: says the trie answers, and how to make room" "$out" \
	'^portwall apply: note: the IPv4 peer sets need [0-9]+ lookup chunks, the loaded datapath has room for 64: .*the trie .*unload and apply again to make room$'
expect_eq "flat lookup full: 443 still open" "$(probe 192.0.2.2 443 2000 1000)" ok
expect_eq "flat lookup full: 23 still blocked" "$(probe 192.0.2.2 23 700)" timeout
out=$("$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1)
expect_eq "flat lookup: a reload that fits says nothing of it" "$(printf '%s\n' "$out" | grep -c 'lookup chunks')" 0

# errors that change nothing
out=$("$PW" apply policies/ccp.policy --iface nosuch0 --netns "$S" --pin-root "${ROOT}x" 2>&1); rc=$?
expect_eq "missing interface: exit 1" "$rc" 1
expect_match "missing interface: says so" "$out" 'no interface "nosuch0"'
[ -e "${ROOT}x" ] && fail "missing interface: left pins" || pass "missing interface: no pins left"

# unload: nothing remains
out=$("$PW" unload --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "unload: exit 0" "$rc" 0
[ -e "$ROOT" ] && fail "unload: pins remain" "$(ls "$ROOT")" || pass "unload: no pins"
expect_eq "unload: no XDP on the veth" "$(ins "$S" ip link show "$VS" | grep -c xdp)" 0
expect_eq "unload: no tc filter" "$(ins "$S" tc filter show dev "$VS" egress | wc -l)" 0
expect_eq "unload: telnet port reachable again" "$(probe 192.0.2.2 23 1000)" ok

# a load with a map pinned less, as an older portwall's (before pw_ct_dgram):
# apply refuses it rather than load over it, and unload still removes it
"$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" >/dev/null 2>&1
rm "$ROOT/pw_ct_dgram"
out=$("$PW" apply policies/ccp.policy --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "older load: apply exit 1" "$rc" 1
expect_match "older load: apply says what to do" "$out" 'a partial or older portwall: portwall unload'
expect_eq "older load: its policy still in force" "$(probe 192.0.2.2 23 700)" timeout
out=$("$PW" unload --pin-root "$ROOT" 2>&1)
expect_match "older load: unload removes it anyway" "$out" 'removing the pins anyway'
[ -e "$ROOT" ] && fail "older load: pins remain" "$(ls "$ROOT")" || pass "older load: no pins"
expect_eq "older load: no XDP on the veth" "$(ins "$S" ip link show "$VS" | grep -c xdp)" 0

summary
