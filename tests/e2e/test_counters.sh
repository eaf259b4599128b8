#!/usr/bin/env bash
# test_counters.sh - `portwall counters --reset [RULE...]` (root, real
# sockets between namespaces, `portwall run` writing the metrics file):
# the rules named read zero in status and the others keep their counts;
# without a rule every rule is reset; a reload keeps the reset; the
# metrics never go down (they keep what was reset); a rule that is none
# and a missing --reset are usage errors.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_counters pwcn
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 30 443,8443
printf 'policy "cnt"\ndefault in drop\nallow in tcp port 443 comment "web"\nallow in tcp port 8443 comment "alt"\n' > "$T/p.policy"
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$T/m.prom" > "$T/run.log" 2>&1 &
PIDS+=($!)
wait_for "$T/run.log" '^running:'; expect_eq "run started" "$?" 0
for port in 443 443 8443; do ins "$C" "$PROBE" tcp 192.0.2.2 "$port" 2000 100 > /dev/null; done
rule() { "$PW" status --json --pin-root "$ROOT" | jq -r ".rules[] | select(.id == $1) | \"\(.in.packets) \(.in.bytes) \(.out.packets) \(.out.bytes)\""; }
before1=$(rule 1) before2=$(rule 2)
expect_match "rule 1 counted the traffic" "$before1" '^[1-9][0-9]* [1-9][0-9]* [1-9][0-9]* [1-9][0-9]*$'
out=$("$PW" counters --reset 1 --pin-root "$ROOT"); expect_eq "counters --reset 1" "$?" 0
expect_eq "it says what it reset" "$out" 'reset the counters of 1 rule of generation 1 (policy "cnt"); the metrics keep counting'
expect_eq "status: rule 1 reads zero" "$(rule 1)" "0 0 0 0"
expect_eq "status: rule 2 keeps its counts" "$(rule 2)" "$before2"
# the metrics, rewritten within 5 s: rule 1 did not go down
t0=$(stat -c %Y "$T/m.prom" 2>/dev/null || echo 0)
for _ in $(seq 70); do [ "$(stat -c %Y "$T/m.prom" 2>/dev/null || echo 0)" -gt "$t0" ] && break; sleep 0.1; done
# rule 1 by its comment: the rule label is a key of what it matches
m=$(sed -n 's/^portwall_rule_packets_total{.*direction="in",comment="web"} \([0-9]*\)$/\1/p' "$T/m.prom")
expect_eq "metrics: rule 1's packets in keep what was reset (monotonic)" "$m" "${before1%% *}"
ins "$C" "$PROBE" tcp 192.0.2.2 443 2000 100 > /dev/null
after=$(rule 1)
expect_match "rule 1 counts again from zero" "$after" '^[1-9][0-9]* '
[ "${after%% *}" -lt "${before1%% *}" ]; expect_eq "... less than before the reset" "$?" 0
"$PW" counters --reset --pin-root "$ROOT" > "$T/out"; expect_eq "counters --reset (every rule)" "$?" 0
expect_eq "every rule, the default too" "$(cat "$T/out")" 'reset the counters of 3 rules of generation 1 (policy "cnt"); the metrics keep counting'
expect_eq "status: rules 1 and 2 read zero" "$(rule 1)/$(rule 2)" "0 0 0 0/0 0 0 0"
"$PW" reload --pin-root "$ROOT" > /dev/null 2>&1; expect_eq "reload" "$?" 0
expect_eq "after the reload: the reset holds (carried with the counts)" "$(rule 1)/$(rule 2)" "0 0 0 0/0 0 0 0"
"$PW" counters --reset 3 --pin-root "$ROOT" > /dev/null 2> "$T/err"; expect_eq "a rule that is none: exit 2" "$?" 2
expect_eq "... says which" "$(cat "$T/err")" 'portwall counters: "3" is no rule of the policy in force (0 the default, 1-2: see `portwall status`)'
"$PW" counters --pin-root "$ROOT" > /dev/null 2>&1; expect_eq "no --reset: exit 2" "$?" 2
summary
