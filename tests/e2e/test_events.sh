#!/usr/bin/env bash
# test_events.sh - run in monitor mode writes each drop event durably (the
# events file, JSON Lines of root's only, rotated by size); log reads that
# file while run holds the ring buffer (--since, --json, --follow); suggest
# turns it into the rule the drops ask for and reports the scan as one; a
# planted symlink as the events file is refused. Real SYNs from real
# sockets between two namespaces.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_events pwv

e2e_hosts "198.51.100.100/24 203.0.113.100/24" "198.51.100.7/24 198.51.100.8/24 203.0.113.9/24"
# IPv4 only: no MLD reports among the events counted
for ns in "$S" "$C"; do ins "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
EV=$T/ev/events.jsonl
mkdir -m 0700 "$T/ev"

# a symlink planted as the events file: refused before anything is applied
ln -s /etc/passwd "$T/evil.jsonl"
printf 'policy "events test"\ndefault in drop\nallow in tcp port 443\n' > "$T/p.policy"
out=$("$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --events-file "$T/evil.jsonl" 2>&1)
expect_eq "run: a symlink as the events file fails run" "$?" 1
expect_match "run: ... and says it is a symlink, nothing changed" "$out" 'evil\.jsonl.*symlink.*nothing was changed'
expect_eq "run: ... and /etc/passwd is untouched" "$(grep -c epoch_ms /etc/passwd)" 0

"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --mode monitor --events-file "$EV" \
	--events-max-size 4096 --events-keep 3 > "$T/run.log" 2>&1 &
PIDS+=($!)
wait_for "$T/run.log" '^running:' && pass "run: started" || fail "run: started" "$(cat "$T/run.log")"
expect_match "run: says where the events go" "$(cat "$T/run.log")" "drop events to $EV \(rotated at 4096 bytes, 3 kept\)"

# no listener: each SYN passes (monitor), is logged once and refused
syn() { ins "$C" "$PROBE" tcp "$1" "$2" 1000 0 "$3" 2>&1; }
expect_eq "syn from 198.51.100.7 to 8443 (monitor: passes)" "$(syn 198.51.100.100 8443 198.51.100.7)" refused
syn 198.51.100.100 8443 198.51.100.7 >/dev/null
syn 198.51.100.100 8443 198.51.100.8 >/dev/null
ins "$C" "$PROBE" scan 203.0.113.100 20 39 1000 >/dev/null	# 20 ports from 203.0.113.9
for _ in $(seq 50); do
	[ "$(cat "$EV" "$EV".[0-9] 2>/dev/null | grep -c '"reason":"default".*"proto":"tcp"')" -ge 23 ] && break
	sleep 0.1
done
expect_eq "file: every drop event is a line (3 + 20, across rotation)" \
	"$(cat "$EV" "$EV".[0-9] 2>/dev/null | grep -c '"dir":"in","reason":"default","rule":null,"proto":"tcp"')" 23
expect_eq "file: three to 8443" "$(cat "$EV" "$EV".[0-9] | grep -c '"src":"198.51.100.[78]","dst":"198.51.100.100","sport":[0-9]*,"dport":8443,"tcp_flags":"S"')" 3
expect_eq "file: root's only (0600, 0 0)" "$(stat -c '%a %u %g' "$EV")" "600 0 0"
expect_match "file: a line has the RFC 3339 time, epoch, policy hash, monitor" "$(head -1 "$EV".2 2>/dev/null || head -1 "$EV".1)" \
	'^\{"time":"20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z","epoch_ms":[0-9]{13},"ifindex":[0-9]+,"iface":"'"$VS"'",.*"monitor":true,"generation":1,"policy_sha256":"[0-9a-f]{64}"\}$'
expect_eq "rotation: at 4096 bytes, FILE.1 and FILE.2 made, no .3 yet" \
	"$(ls "$T/ev" | tr '\n' ' ')" "events.jsonl events.jsonl.1 events.jsonl.2 "
big=0
for f in "$EV".1 "$EV".2; do [ "$(stat -c %s "$f")" -ge 4096 ] && [ "$(stat -c %s "$f")" -lt 5000 ] || big=1; done
expect_eq "rotation: each rotated file reached the size and not much more" "$big" 0

# log while run holds the ring buffer: the file, said once on stderr
"$PW" log --pin-root "$ROOT" --events-file "$EV" > "$T/log.out" 2> "$T/log.err"
expect_eq "log: reads the file while run holds the ring" "$?" 0
expect_eq "log: says so once on stderr" "$(grep -c 'reading the events file it writes' "$T/log.err")" 1
expect_eq "log: every event, oldest first, in run's format" "$(grep -cE "^20[0-9T:.-]+Z $VS in default - tcp " "$T/log.out")" 23
expect_match "log: the first is the first SYN" "$(head -1 "$T/log.out")" \
	"$VS in default - tcp 198\.51\.100\.7:[0-9]+ -> 198\.51\.100\.100:8443 \[S\] \(monitor: passed\)$"
expect_eq "log --json --since 1h: the same events as JSON" \
	"$("$PW" log --pin-root "$ROOT" --events-file "$EV" --json --since 1h 2>/dev/null | grep -c '"dport":8443,')" 3
expect_eq "log --since a time to come: none" \
	"$("$PW" log --pin-root "$ROOT" --events-file "$EV" --since 2099-01-01 2>/dev/null | wc -l)" 0

# log --follow: the events to come, across a rotation (12 lines pass 4096 bytes)
"$PW" log --follow --pin-root "$ROOT" --events-file "$EV" > "$T/follow.out" 2>/dev/null &
FOL=$!
PIDS+=($FOL)
sleep 0.3
syn 198.51.100.100 9999 198.51.100.8 >/dev/null
ins "$C" "$PROBE" scan 203.0.113.100 40 51 1000 >/dev/null
for _ in $(seq 50); do [ "$(wc -l < "$T/follow.out")" -ge 13 ] && break; sleep 0.1; done
expect_eq "log --follow: only the new events, across the rotation" \
	"$(grep -c '198\.51\.100\.8:[0-9]* -> 198\.51\.100\.100:9999 ' "$T/follow.out") $(grep -c ' 203\.0\.113\.9:[0-9]* -> 203\.0\.113\.100:\(4[0-9]\|5[01]\) ' "$T/follow.out") $(wc -l < "$T/follow.out")" "1 12 13"
expect_eq "log --follow: the file did rotate meanwhile" "$(ls "$T/ev" | grep -c '^events\.jsonl\.3$')" 1
kill "$FOL"
expect_eq "log --follow --since 1h: the past (rotated files too), then on" \
	"$(timeout 1 "$PW" log --follow --since 1h --pin-root "$ROOT" --events-file "$EV" 2>/dev/null | grep -c ' in default - tcp ')" 36

# top while run holds the ring: the sources from the file
(sleep 0.5; ins "$C" "$PROBE" scan 203.0.113.100 60 62 500 >/dev/null) &
KNOCK=$!
out=$("$PW" top --count 2 --pin-root "$ROOT" --events-file "$EV")
wait "$KNOCK"
expect_match "top: the sources come from the file" "$out" "\(from $EV: process [0-9]+ reads the drop events\)"
expect_match "top: the scanner among them" "$out" '  203\.0\.113\.9 +[1-3]'

out=$("$PW" suggest --events-file "$EV" --min-count 2)
expect_match "suggest: the /24 rule, ranked first" "$(echo "$out" | sed -n 2p)" \
	'^allow in tcp port 8443 peer 198\.51\.100\.0/24 # 3 packets, 2 peers, first 20[0-9T:-]+Z, last 20[0-9T:-]+Z, e\.g\. 198\.51\.100\.7$'
expect_match "suggest: the scan, as a scan" "$out" \
	'# scan: 203\.0\.113\.9 in, 35 ports \(tcp/udp ports 20-62\), 35 packets, first .*: not turned into rules'
expect_eq "suggest: no rule for the scanner nor --min-count's single 9999" "$(echo "$out" | grep -c '^allow')" 1
expect_match "suggest --json" "$("$PW" suggest --events-file "$EV" --json)" '"rule": "allow in tcp port 9999 peer 198.51.100.8"'
summary
