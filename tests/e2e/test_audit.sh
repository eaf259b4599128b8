#!/usr/bin/env bash
# test_audit.sh - `portwall audit`, the host against the policy, with real
# sockets in namespaces (root): a listener no rule lets in is reported with
# its process, an allowed one is not; an in rule nothing listens behind is;
# under the loaded policy (default out allow) an outbound flow the out rules
# would not let out is, one they let out is not; the rules never matched
# since apply; --strict's exit codes; --json has the same findings; a flow
# to an address learned for a host name (dnsmasq in the peer) is not one
# the default lets out, though the compiled policy alone cannot know it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_audit pwa
PEER="/usr/bin/python3 tests/e2e/pwpeer.py"

e2e_hosts "192.0.2.2/24" "192.0.2.1/24 192.0.2.53/24"
# the host: 7443 allowed in, 2222 not; udp 5354 allowed in
e2e_bg "$S" "$T/srv" serve 120 7443,2222 udp 5354
SRV=$BG
# the peer's services the host connects to: 9000 (no out rule), 587 (one)
e2e_bg "$C" "$T/cli" serve 120 9000,587
CLI=$BG

cat > "$T/a.policy" <<'EOF2'
policy "audit"
default in drop
default out allow
allow in tcp port 7443
allow in tcp port 8443
allow in udp port 5354
allow out tcp port 587
EOF2
A="$T/a.policy"

# 1. no portwall loaded: POLICY against the sockets of the namespace
out=$("$PW" audit "$A" --netns "$S" --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "audit: findings without --strict exit 0" "$rc" 0
expect_match "the listener no rule lets in, with its process and the default's line" "$out" \
	"^$A:2: pwprobe \(pid $SRV\) listens on tcp 2222 \([^)]*\): no rule lets it in \(default in drop\)$"
if printf '%s\n' "$out" | grep -q 'listens on tcp 7443\|listens on udp 5354'; then
	fail "the allowed listeners are not reported" "$out"
else
	pass "the allowed listeners are not reported"
fi
expect_match "the in rule nothing listens behind, at its line" "$out" \
	"^$A:5: allow in tcp port 8443: nothing listens on tcp 8443$"
if printf '%s\n' "$out" | grep -q "^$A:[46]:"; then fail "the listened rules are not reported" "$out"
else pass "the listened rules are not reported"; fi
expect_match "no datapath: said" "$out" 'no portwall loaded'
expect_match "two findings" "$out" '^2 findings$'
"$PW" audit "$A" --netns "$S" --pin-root "$ROOT" --strict >/dev/null 2>&1
expect_eq "--strict with findings exits 1" "$?" 1

# a policy that lets every listener in and names only what listens
cat > "$T/b.policy" <<'EOF2'
policy "clean"
default in drop
default out drop
allow in tcp port 7443, 2222
allow in udp port 5354
EOF2
out=$("$PW" audit "$T/b.policy" --netns "$S" --pin-root "$ROOT" --strict 2>&1)
expect_eq "--strict with no findings exits 0" "$?" 0
expect_match "no findings: said" "$out" '^0 findings$'

# 2. the policy loaded: flows the host opens, and the counters
"$PW" apply "$A" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply.out" 2>&1
expect_eq "apply" "$?" 0
ins "$S" $PEER hold 192.0.2.1 9000 41900 30 > "$T/hold-def" 2>&1 & PIDS+=($!)
ins "$S" $PEER hold 192.0.2.1 587 41587 30 > "$T/hold-rule" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/hold-def" ] && [ -s "$T/hold-rule" ] && break; sleep 0.1; done
expect_eq "the flow only the default lets out is open" "$(head -n 1 "$T/hold-def")" open
expect_eq "the flow an out rule lets out is open" "$(head -n 1 "$T/hold-rule")" open
# something in on 7443, so that its rule has matched
expect_eq "a connection in on 7443" "$(ins "$C" "$PROBE" tcp 192.0.2.2 7443 1000 | head -n 1 | cut -d' ' -f1)" ok

out=$("$PW" audit --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "audit of the policy in force exits 0" "$rc" 0
expect_match "the policy in force, in its namespace" "$out" "^audit of policy \"audit\" \($A\) against network namespace $S: .*the policy in force"
expect_match "the flow only default out allow lets out, at the default's line" "$out" \
	"^$A:3: tcp port 9000 to 192.0.2.1 from 192.0.2.2 port 41900: no out rule lets it out, only default out allow does$"
if printf '%s\n' "$out" | grep -q 'port 587 to'; then fail "the flow an out rule lets out is not reported" "$out"
else pass "the flow an out rule lets out is not reported"; fi
expect_match "the rule never matched since apply" "$out" "^$A:5: allow in tcp port 8443: never matched since apply$"
if printf '%s\n' "$out" | grep -q "^$A:[47]: .*never matched"; then
	fail "the rules that matched are not reported" "$out"
else
	pass "the rules that matched are not reported"
fi
"$PW" audit --pin-root "$ROOT" --strict >/dev/null 2>&1
expect_eq "--strict on the policy in force exits 1" "$?" 1

# another POLICY than the one in force: the flows judged by it, no counters
out2=$("$PW" audit "$T/b.policy" --pin-root "$ROOT" 2>&1)
expect_match "another policy: said" "$out2" 'another policy is in force: its flows judged, its counters not$'
expect_match "another policy: no findings (its default out drops)" "$out2" '^0 findings$'
# another namespace than the loaded portwall's: its sockets, not the flows
out2=$("$PW" audit "$A" --netns "$C" --pin-root "$ROOT" 2>&1)
expect_match "--netns: that namespace's listener, with its process" "$out2" \
	"^$A:2: pwprobe \(pid $CLI\) listens on tcp 9000 \([^)]*\): no rule lets it in \(default in drop\)$"
expect_match "--netns another than the portwall's: its flows not judged, said" "$out2" \
	'works in another network namespace: its flows and counters not judged$'

# 3. --json: the same findings
json=$("$PW" audit --pin-root "$ROOT" --json 2>&1)
expect_eq "--json parses" "$(printf '%s' "$json" | jq -e . >/dev/null 2>&1; echo $?)" 0
want=$(printf '%s\n' "$out" | grep "^$T/")
got=$(printf '%s' "$json" | jq -r '.findings[] | "\(.file):\(.line): \(.text)"')
expect_eq "--json has the findings the text has" "$got" "$want"
expect_eq "--json: both held flows were read from conntrack" "$(printf '%s' "$json" | jq '.flows >= 2')" true
expect_eq "--json count" "$(printf '%s' "$json" | jq .count)" "$(printf '%s\n' "$want" | grep -c .)"
expect_eq "--json kinds" "$(printf '%s' "$json" | jq -r '[.findings[].kind] | unique | join(",")')" \
	"flow_default_out,listener_not_allowed,rule_never_matched,rule_nothing_listens"
expect_eq "--json: the datapath and its counters judged" "$(printf '%s' "$json" | jq -c '[.datapath, .counters, .policy.in_force, .netns]')" \
	"[true,true,true,\"$S\"]"
expect_match "--json: the listener's pid" "$(printf '%s' "$json" | jq -r '.findings[] | select(.kind == "listener_not_allowed") | .text')" "pid $SRV"

# 4. usage
"$PW" audit "$A" "$A" >/dev/null 2>&1
expect_eq "two policies: usage, exit 2" "$?" 2
"$PW" audit --bogus >/dev/null 2>&1
expect_eq "an unknown option: usage, exit 2" "$?" 2
"$PW" audit --pin-root "$ROOT.none" >/dev/null 2>&1
expect_eq "no POLICY and nothing loaded: exit 1" "$?" 1

# the file in force changed since apply: the policy in force is the
# generation the store kept (docs/operations.md, "History"), so a copy of
# what was applied is still judged with its counters, and audit without
# POLICY audits the stored generation, not the edited file
cp "$A" "$T/a2.policy"
echo "allow in tcp port 9999" >> "$A"
out2=$("$PW" audit "$T/a2.policy" --pin-root "$ROOT" 2>&1)
expect_match "the file in force changed: a copy of what was applied is judged with its counters" "$out2" \
	'the policy in force: its flows and counters judged$'
out3=$("$PW" audit --pin-root "$ROOT" 2>&1)
expect_match "the file in force changed: audit without POLICY audits the stored generation" "$out3" \
	'the policy in force: its flows and counters judged$'
if printf '%s\n' "$out3" | grep -q 'port 9999'; then fail "the edited file's new rule is not audited" "$out3"
else pass "the edited file's new rule is not audited"; fi

# 5. a host name's learned address: the kernel's rule, not the default
command -v dnsmasq >/dev/null || { fail "dnsmasq (dnsmasq-base) is not installed: scripts/deps.sh installs it"; summary; exit 1; }
echo "192.0.2.1 push.example.net" > "$T/hosts"
nsenter --net=/run/netns/"$C" dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$T/hosts" \
	--listen-address=192.0.2.53 --bind-interfaces --local-ttl=60 --pid-file="$T/dnsmasq.pid" --user=root \
	--log-facility="$T/dnsmasq.log" &
PIDS+=($!)
sleep 0.3
cat > "$T/n.policy" <<'EOF2'
policy "names"
default in drop
default out allow
resolver 192.0.2.53
allow in tcp port 7443, 2222
allow in udp port 5354
allow out tcp port 9000 to push.example.net
EOF2
N="$T/n.policy"
"$PW" apply "$N" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply2.out" 2>&1
expect_eq "apply the policy with a host name" "$?" 0
learned=$("$PW" status --json --pin-root "$ROOT" | jq -r '.dns.names[] | select(.name == "push.example.net") | .addresses[].address')
expect_eq "the agent learned the name's address at apply" "$learned" 192.0.2.1
expect_match "the compiled policy alone lets 9000 out by the default" "$("$PW" explain "$N" out tcp 192.0.2.1 9000)" '^PASS  default'
ins "$S" $PEER hold 192.0.2.1 9000 41901 30 > "$T/hold-name" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/hold-name" ] && break; sleep 0.1; done
expect_eq "the flow to the learned address is open" "$(head -n 1 "$T/hold-name")" open
out=$("$PW" audit --pin-root "$ROOT" 2>&1)
expect_match "audit of the policy with a name read the flows" "$out" 'the policy in force: its flows and counters judged'
if printf '%s\n' "$out" | grep -q 'port 9000 to 192.0.2.1 from 192.0.2.2 port 41901'; then
	fail "the flow to the learned address is not reported" "$out"
else
	pass "the flow to the learned address is not reported"
fi

summary
