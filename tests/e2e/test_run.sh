#!/usr/bin/env bash
# test_run.sh - `portwall run`, the foreground agent (root): drop events as
# log lines, reload when the policy file is saved and on SIGHUP, and on
# SIGTERM leave enforcement in place (or unload with --unload-on-exit).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_run pwr

e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 120 443,23,8080
probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }

printf 'policy "run test"\ndefault in drop\nallow in tcp port 443 comment "web"\n' > "$T/p.policy"
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$T/portwall.prom" > "$T/run.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
wait_for "$T/run.log" '^running:' && pass "run: started" || fail "run: started" "$(cat "$T/run.log")"
expect_eq "run: 443 open" "$(probe 192.0.2.2 443 2000 1000)" ok
expect_eq "run: 23 blocked" "$(probe 192.0.2.2 23 700)" timeout
wait_for "$T/run.log" ' in default - tcp 192\.0\.2\.1:[0-9]+ -> 192\.0\.2\.2:23 \[S\]$' &&
	pass "run: the drop is logged as a line" || fail "run: the drop is logged as a line" "$(tail -3 "$T/run.log")"

# the metrics file: Prometheus text format, rewritten every 5 s
for _ in $(seq 70); do grep -q 'port="23"' "$T/portwall.prom" 2>/dev/null && break; sleep 0.1; done
bad=$(grep -v '^#' "$T/portwall.prom" | grep -cvE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [0-9]+$')
expect_eq "metrics: every sample line is in Prometheus text format" "$bad" 0
expect_eq "metrics: every metric has HELP and TYPE" \
	"$(grep -v '^#' "$T/portwall.prom" | sed 's/[{ ].*//' | sort -u | while read -r m; do grep -q "^# TYPE $m " "$T/portwall.prom" || echo "$m"; done)" ""
expect_match "metrics: the drops on tcp/23" "$(cat "$T/portwall.prom")" '^portwall_port_drops_total\{host="[^"]+",pin_root="[^"]+",policy="run test",direction="in",protocol="tcp",port="23",opened="false"\} [1-9]'
expect_match "metrics: per-rule counters with the comment" "$(cat "$T/portwall.prom")" '^portwall_rule_packets_total\{host="[^"]+",pin_root="[^"]+",policy="run test",rule="[0-9a-f]{12}",direction="in",comment="web"\} [1-9]'
expect_eq "metrics: each conntrack table's evictions" \
	"$(grep -c '^portwall_conntrack_evicted_total{host=.*,table="\(tcp\|datagram\|peer_started\)"} [0-9]*$' "$T/portwall.prom")" 3
expect_eq "metrics: no temporary file left" "$(ls "$T" | grep -c '^portwall\.prom\.')" 0

# top: plain text when not on a terminal; full screen in a pseudo-terminal
expect_match "top (plain): header and the drops" "$("$PW" top --count 1 --pin-root "$ROOT")" '^portwall top - "run test" generation 1'
(for _ in 1 2 3; do probe 192.0.2.2 23 300 > /dev/null; done) &
KNOCK=$!
out=$(script -qec "$PW top --count 2 --pin-root $ROOT" /dev/null < /dev/null 2>&1)
expect_match "top (terminal): clears the screen" "$(printf '%s' "$out" | od -c | head -2)" '033   \[   H 033   \[   2   J'
expect_match "top (terminal): says q quits" "$out" '\[q quits\]'
expect_match "top (terminal): the dropped port" "$out" 'in tcp/23 +[1-9]'
wait "$KNOCK"

# save the file as an editor does (write elsewhere, rename over it)
printf 'policy "run test"\ndefault in drop\nallow in tcp port 443 comment "web"\nallow in tcp port 23\n' > "$T/p.new"
mv "$T/p.new" "$T/p.policy"
wait_for "$T/run.log" 'generation 2' && pass "run: saving the file reloads" || fail "run: saving the file reloads" "$(tail -3 "$T/run.log")"
expect_eq "run: 23 open after the edit" "$(probe 192.0.2.2 23 2000 1000)" ok

kill -HUP "$RUN"
# the file is as applied: the reload compiles to the hash in force, a no-op
wait_for "$T/run.log" 'unchanged: .* generation 2 stays in force' && pass "run: SIGHUP reloads (unchanged: a no-op)" ||
	fail "run: SIGHUP reloads (unchanged: a no-op)" "$(tail -3 "$T/run.log")"
printf 'policy "run test"\ndefault in drop\nallow in tcp port 443 comment "web"\nallow in tcp port 23, 24\n' > "$T/p.new"
mv "$T/p.new" "$T/p.policy"
wait_for "$T/run.log" 'generation 3' && pass "run: an edit then reloads" || fail "run: an edit then reloads" "$(tail -3 "$T/run.log")"

printf 'allow in tcp port 99999\n' > "$T/p.new"
mv "$T/p.new" "$T/p.policy"
wait_for "$T/run.log" 'the policy in force is unchanged' && pass "run: a broken save changes nothing" ||
	fail "run: a broken save changes nothing" "$(tail -3 "$T/run.log")"
expect_eq "run: still generation 3" "$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)" 3

out=$("$PW" log --pin-root "$ROOT" 2>&1); rc=$?
# run holds the ring buffer: log reads the events file run writes (its
# default, per pin root, in /var/log/portwall)
expect_eq "log while run reads the events: reads run's file instead" "$rc" 0
expect_match "log while run reads the events: says who and which file" "$out" \
	"read by process $RUN \(portwall run\?\): reading the events file it writes, /var/log/portwall/_sys_fs_bpf_pwr[0-9]+\.events\.jsonl"
expect_match "log while run reads the events: the drop to 23, from the file" "$out" \
	' in default - tcp 192\.0\.2\.1:[0-9]+ -> 192\.0\.2\.2:23 \[S\]'


kill -TERM "$RUN"
wait "$RUN"
expect_eq "run: SIGTERM exits 0" "$?" 0
expect_match "run: says enforcement stays" "$(tail -1 "$T/run.log")" '^stopped; enforcement stays'
[ -e "$ROOT/pw_state" ] && pass "run: pins stay" || fail "run: pins stay"
expect_eq "run: still enforcing after exit" "$(probe 192.0.2.2 8080 700)" timeout
# the drops of that attempt, as JSON Lines
"$PW" log --json --pin-root "$ROOT" > "$T/log.json" 2>&1
expect_eq "log --json: exit 0" "$?" 0
expect_eq "log --json: every line parses" "$(jq -c . "$T/log.json" > /dev/null 2>&1; echo $?)" 0
expect_match "log --json: the SYNs to 8080 from the client" \
	"$(jq -r 'select(.dport == 8080) | "\(.dir) \(.reason) \(.proto) \(.src) \(.dst) \(.tcp_flags) \(.iface)"' "$T/log.json" | sort -u)" \
	"^in default tcp 192\.0\.2\.1 192\.0\.2\.2 S $VS\$"
expect_eq "log: read once, the buffer is empty" "$("$PW" log --pin-root "$ROOT" | wc -l)" 0

printf 'policy "run test"\ndefault in drop\nallow in tcp port 443\n' > "$T/p.policy"
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --unload-on-exit > "$T/run2.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
wait_for "$T/run2.log" '^running:' || fail "run --unload-on-exit: started"
kill -TERM "$RUN"
wait "$RUN"
[ -e "$ROOT" ] && fail "run --unload-on-exit: pins removed" "$(ls "$ROOT")" || pass "run --unload-on-exit: pins removed"
expect_eq "run --unload-on-exit: 8080 open again" "$(probe 192.0.2.2 8080 2000 1000)" ok
# nothing of the unloaded pin root stays in /run/portwall (lock, agent, events)
runfiles() { ls /run/portwall 2>/dev/null | grep -F "$(printf '%s' "$ROOT" | tr / _)." | tr '\n' ' '; }
expect_eq "run --unload-on-exit: no lock files of the pin root left" "$(runfiles)" ""
"$PW" apply "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > /dev/null 2>&1
"$PW" log --pin-root "$ROOT" > /dev/null 2>&1
expect_match "apply, log: their lock files exist" "$(runfiles)" 'events.*lock|lock.*events'
"$PW" unload --pin-root "$ROOT" > /dev/null 2>&1
expect_eq "unload: no lock files of the pin root left" "$(runfiles)" ""

summary
