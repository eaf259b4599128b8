#!/usr/bin/env bash
# test_journal.sh - run under systemd's journal (root): with stdout on a
# stream socket JOURNAL_STREAM names, each drop event goes to the journal
# with sd_journal_send (MESSAGE, PRIORITY and the PORTWALL_* fields, exact
# values) and not as a line on stdout; a JOURNAL_STREAM naming another
# inode sends nothing there. Type=notify: READY=1 once the policy is in
# force (after run said so), STOPPING=1 on SIGTERM. journald is played by tests/e2e/pwjournal.py
# on /run/systemd/journal/socket inside a private mount namespace (a tmpfs
# on /run/systemd there), so the host's journal, if any, is never touched.
# Drops from sockets bound to chosen source ports between two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_journal pwj
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
for ns in "$S" "$C"; do ins "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
# the mount point of the tmpfs; made (and removed at the end) only where
# the host has no /run/systemd
MADE= HOST_JOURNAL=$(ls -d /run/systemd/journal 2>/dev/null)
[ -d /run/systemd ] || { mkdir /run/systemd && MADE=1; }
trap 'e2e_cleanup; [ -n "$MADE" ] && rmdir /run/systemd' EXIT

F=$T/j.policy
printf '%s\n' 'policy "journal"' 'default in drop' 'allow in tcp port 443 comment "web"' \
	'allow in tcp port 8000-8100 comment "apps"' 'deny in tcp port 8081 comment "closed"' > "$F"
EV=$T/events.jsonl

# journal_run ENTRIES STREAMLOG [--wrong-stream|--notify PATH]: run, its output to the
# journal of a mount namespace of its own; sets RUN
journal_run() {
	unshare -m --propagation private bash -c 'mount -t tmpfs -o mode=0755,size=1m pwjournal /run/systemd &&
		mkdir /run/systemd/journal && exec python3 tests/e2e/pwjournal.py $4 /run/systemd/journal/socket "$1" "$2" 60 -- \
		"$3" run "$5" --iface "$6" --netns "$7" --pin-root "$8" --events-file "$9"' \
		_ "$1" "$2" "$PW" "${3:-}" "$F" "$VS" "$S" "$ROOT" "$EV" &
	RUN=$!
	PIDS+=($RUN)
}

journal_run "$T/entries" "$T/stream" "--notify $T/notify"
wait_for "$T/stream" '^running:' && pass "run: started, its output on the stream" || fail "run: started" "$(cat "$T/stream")"
expect_match "run: says the events go to the journal too" "$(cat "$T/stream")" \
	"^drop events to $EV \(rotated at [0-9]+ bytes, [0-9]+ kept\) and to the journal$"

# a TCP SYN the deny rule drops, a UDP datagram the default drops
expect_eq "tcp 40123 -> 8081: dropped (the deny rule)" \
	"$(ins "$C" python3 tests/e2e/pwpeer.py connect 40123 192.0.2.2 8081 0.3)" timeout
expect_eq "udp 40124 -> 5353: dropped (the default)" \
	"$(ins "$C" python3 tests/e2e/pwpeer.py udp 40124 192.0.2.2 5353 0.3)" timeout
for _ in $(seq 50); do [ "$(wc -l < "$T/entries" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
expect_eq "journal: one entry per drop, each a plain datagram" \
	"$(jq -r 'select(.via != "notify") | .via' "$T/entries" 2>/dev/null | tr '\n' ' ')" "datagram datagram "

# field FIELD N: the values of FIELD in entry N (1-based), one a line
field() { jq -rs --arg f "$1" "[.[] | select(.via != \"notify\")][$2 - 1].fields[\$f] // [] | .[]" "$T/entries"; }
fields() { local k out=; for k in PRIORITY PORTWALL_RULE PORTWALL_RULE_LOCATION PORTWALL_REASON PORTWALL_PROTO \
	PORTWALL_SRC PORTWALL_DST PORTWALL_SPORT PORTWALL_DPORT PORTWALL_IFACE PORTWALL_DIRECTION PORTWALL_MONITOR; do
	out+="$k=$(field "$k" "$1" | paste -sd,) "; done; printf '%s' "$out"; }
expect_eq "journal: the deny rule's drop, field by field" "$(fields 1)" \
	"PRIORITY=5 PORTWALL_RULE=3 PORTWALL_RULE_LOCATION=$F:5 PORTWALL_REASON=deny-rule PORTWALL_PROTO=tcp PORTWALL_SRC=192.0.2.1 PORTWALL_DST=192.0.2.2 PORTWALL_SPORT=40123 PORTWALL_DPORT=8081 PORTWALL_IFACE=$VS PORTWALL_DIRECTION=in PORTWALL_MONITOR=0 "
expect_eq "journal: the default's drop, field by field" "$(fields 2)" \
	"PRIORITY=5 PORTWALL_RULE=0 PORTWALL_RULE_LOCATION=-:0 PORTWALL_REASON=default PORTWALL_PROTO=udp PORTWALL_SRC=192.0.2.1 PORTWALL_DST=192.0.2.2 PORTWALL_SPORT=40124 PORTWALL_DPORT=5353 PORTWALL_IFACE=$VS PORTWALL_DIRECTION=in PORTWALL_MONITOR=0 "
expect_eq "journal: sent by sd_journal_send in evlog.c's to_journal" \
	"$(field CODE_FUNC 1) $(field CODE_FILE 2 | sed 's|.*/||')" "to_journal evlog.c"
# MESSAGE: run's line, the one log prints from the events file for the same event
"$PW" log --pin-root "$ROOT" --events-file "$EV" > "$T/log" 2>/dev/null
expect_eq "journal: MESSAGE is run's line (as log prints it), one each" \
	"$(field MESSAGE 1)|$(field MESSAGE 2)" "$(sed -n 1p "$T/log")|$(sed -n 2p "$T/log")"
expect_match "journal: ... naming the rule and the flow" "$(field MESSAGE 1)" \
	"^20[0-9T:.-]+Z $VS in deny-rule $F:5 tcp 192\.0\.2\.1:40123 -> 192\.0\.2\.2:8081 \[S\]$"
expect_eq "stdout: no event line (the journal has them)" "$(grep -c ' -> 192\.0\.2\.2:' "$T/stream")" 0
kill "$RUN"; wait "$RUN" 2>/dev/null
expect_match "run: stopped by SIGTERM" "$(tail -1 "$T/stream")" '^stopped; enforcement stays'
# sd_notify: what came on NOTIFY_SOCKET, in order, and what run had said before READY
expect_eq "notify: READY=1 (enforcing), then STOPPING=1" \
	"$(jq -rc 'select(.via == "notify") | .fields | to_entries | map("\(.key)=\(.value[0])") | join(",")' "$T/entries" | paste -sd' ')" \
	"READY=1,STATUS=enforcing STOPPING=1"
expect_eq "notify: READY=1 after the policy was applied and run said it runs" \
	"$(jq -r 'select(.via == "notify" and .fields.READY) | .output_before' "$T/entries" |
		grep -cE '^(applied "journal" \(|running: reload with SIGHUP)')" 2

# JOURNAL_STREAM naming another inode (not stdout): lines on stdout, nothing sent
journal_run "$T/entries2" "$T/stream2" --wrong-stream
wait_for "$T/stream2" '^running:' && pass "run (stale JOURNAL_STREAM): started" || fail "run (stale JOURNAL_STREAM): started" "$(cat "$T/stream2")"
expect_eq "run (stale JOURNAL_STREAM): not to the journal" "$(grep -c 'and to the journal' "$T/stream2")" 0
ins "$C" python3 tests/e2e/pwpeer.py connect 40125 192.0.2.2 8081 0.3 >/dev/null
wait_for "$T/stream2" ' in deny-rule .* 192\.0\.2\.1:40125 -> 192\.0\.2\.2:8081 \[S\]$' &&
	pass "run (stale JOURNAL_STREAM): the event as a line on stdout" || fail "run (stale JOURNAL_STREAM): the event line" "$(cat "$T/stream2")"
kill "$RUN"; wait "$RUN" 2>/dev/null
expect_eq "run (stale JOURNAL_STREAM): nothing sent to the journal socket" "$(wc -l < "$T/entries2" 2>/dev/null || echo 0)" 0
expect_eq "the host's /run/systemd/journal as it was" "$(ls -d /run/systemd/journal 2>/dev/null)" "$HOST_JOURNAL"
summary
