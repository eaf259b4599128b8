#!/usr/bin/env bash
# test_demo.sh - `make demo`'s lab, with its results asserted (root).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
if [ "$(id -u)" -ne 0 ]; then echo "test_demo: needs root, skipped"; summary; exit 0; fi
STATE=$(mktemp -d /tmp/pw-demo-state-XXXXXX)	# its generation store, not /var/lib/portwall's
trap 'rm -rf "$STATE"' EXIT
out=$(PORTWALL_STATE_DIR=$STATE PORTWALL=${PORTWALL:-build/portwall} PWPROBE=${PWPROBE:-build/pwprobe} timeout 120 bash scripts/demo.sh 2>&1)
expect_eq "demo: exit 0" "$?" 0
expect_match "demo: telnet open before portwall" "$out" 'browser -> telnet \(23\) +connected'
for p in 80 443 5222 7071 7443 8442; do
	expect_match "demo: vendor port $p connects" "$out" "agent browser -> tcp/$p +connected, data both ways"
done
for p in 23 3389 8080; do
	expect_match "demo: tcp/$p blocked" "$out" "attacker -> tcp/$p \\(in no table\\) +BLOCKED"
done
expect_match "demo: outbound mail with replies" "$out" 'CCP host -> mail server tcp/587 +connected'
expect_match "demo: outbound IMAPS with replies" "$out" 'CCP host -> mail server tcp/993 +connected'
expect_match "demo: outbound to the internet open before portwall" "$out" 'CCP host -> internet tcp/8080 +connected'
expect_match "demo: outbound to a port in no table dropped" "$out" \
	'CCP host -> mail tcp/2525 \(in no table\) +BLOCKED \(timeout\)'
expect_match "demo: outbound to the internet on a port in no table dropped" "$out" \
	'CCP host -> internet tcp/8080 \(in no table\) +BLOCKED \(timeout\)'
expect_match "demo: the scan finds only the allowed ports" "$out" 'answered: 22 80 443 \('
expect_match "demo: no byte lost across the reload" "$out" 'transfer across the hot reload: no byte lost'
expect_match "demo: 8442 blocked after the reload" "$out" 'tcp/8442 after the reload +BLOCKED'
# apply (1), run's own apply of the same file (a no-op: the hash in force), the edited policy (2)
expect_match "demo: status shows the policy" "$out" 'generation 2, applied'
expect_match "demo: the drop log shows the scan" "$out" 'eth0 in default - tcp 203\.0\.113\.66:[0-9]+ -> 203\.0\.113\.2:[0-9]+ \[S\]'
expect_match "demo: summary" "$out" '10 connected, 5 blocked'
expect_eq "demo: the lab is gone" "$(ip netns list | grep -c '^pwd-')" 0
summary
