#!/usr/bin/env bash
# test_test.sh - `portwall test` as a user runs it (root: it loads the
# programs into the kernel): output lines, JSON, scripts with state, errors.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
if [ "$(id -u)" -ne 0 ]; then echo "test_test: needs root, skipped"; summary; exit 0; fi
T=$(mktemp -d /tmp/pw-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
run() { OUT=$("$@" 2>"$T/err"); RC=$?; ERR=$(cat "$T/err"); }

run "$PW" test policies/ccp.policy in tcp 198.51.100.7:51000 192.0.2.2:443 syn
expect_eq "one packet: exit 0" "$RC" 0
expect_match "one packet: PASS by the web rule" "$OUT" '^PASS  allow-rule +policies/ccp\.policy:[0-9]+ +in tcp 198\.51\.100\.7:51000 -> 192\.0\.2\.2:443 syn$'
run "$PW" test policies/ccp.policy in tcp 198.51.100.7:51000 192.0.2.2:23 syn
expect_eq "denied packet: still exit 0" "$RC" 0
expect_match "denied packet: DROP default" "$OUT" '^DROP  default +default +in tcp '
run "$PW" test policies/ccp.policy --json out udp [2001:db8::2]:40000 [2001:db8::53]:53
expect_eq "json: verdict and reason" "$(printf '%s' "$OUT" | jq -r '[.verdict, .reason, .rule.file] | join(" ")')" "PASS allow-rule policies/base.policy"

cat > "$T/script" <<'S'
# the host sends mail; the server's reply gets in; a stranger's does not
out tcp 192.0.2.2:40000 198.51.100.25:587 syn
in  tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack
in  tcp 198.51.100.99:587 192.0.2.2:40000 syn,ack
S
run "$PW" test policies/ccp.policy -f "$T/script"
expect_eq "script: exit 0" "$RC" 0
expect_eq "script: three lines" "$(printf '%s\n' "$OUT" | wc -l)" 3
expect_eq "script: verdicts in order" "$(printf '%s\n' "$OUT" | awk '{print $1 "/" $2}' | tr '\n' ' ')" "PASS/allow-rule PASS/reply DROP/default "

# "link l3" packets: the L3 programs are loaded for the first one, onto the
# same maps: a flow the Ethernet program saw open gets its reply by L3
cat > "$T/l3" <<'S'
out tcp 192.0.2.2:40000 198.51.100.25:587 syn
in  tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack link l3
in  tcp 198.51.100.99:587 192.0.2.2:40000 syn,ack link l3
in  tcp 198.51.100.7:51000 192.0.2.2:443 syn link l3
S
run "$PW" test policies/ccp.policy -f "$T/l3"
expect_eq "link l3 script: exit 0" "$RC" 0
expect_eq "link l3 script: the reply by the state the Ethernet program wrote" \
	"$(printf '%s\n' "$OUT" | awk '{print $1 "/" $2}' | tr '\n' ' ')" "PASS/allow-rule PASS/reply DROP/default PASS/allow-rule "

# ccp.policy is default out drop: a listener's replies and a ping's reply
# go out, the vendor's outbound rows open flows whose replies get in, any
# other port or peer drops
cat > "$T/outdrop" <<'S'
in  tcp 198.51.100.7:51000 192.0.2.2:443 syn
out tcp 192.0.2.2:443 198.51.100.7:51000 syn,ack
out tcp 192.0.2.2:40000 198.51.100.25:993 syn
in  tcp 198.51.100.25:993 192.0.2.2:40000 syn,ack
out tcp 192.0.2.2:40001 198.51.100.25:2525 syn
in  tcp 198.51.100.25:2525 192.0.2.2:40001 syn,ack
out tcp 192.0.2.2:40002 203.0.113.99:993 syn
in  icmp 198.51.100.7 192.0.2.2 icmp-type echo-request icmp-id 5
out icmp 192.0.2.2 198.51.100.7 icmp-type echo-reply icmp-id 5
out icmp 192.0.2.2 198.51.100.7 icmp-type echo-request icmp-id 6
S
run "$PW" test policies/ccp.policy -f "$T/outdrop"
expect_eq "out drop: exit 0" "$RC" 0
expect_eq "out drop: verdicts in order" "$(printf '%s\n' "$OUT" | awk '{print $1 "/" $2}' | tr '\n' ' ')" \
	"PASS/allow-rule PASS/allow-rule PASS/allow-rule PASS/reply DROP/default DROP/default DROP/default PASS/allow-rule PASS/reply DROP/default "
l=$(grep -n '^allow out tcp port 993 to @mail_server ' policies/ccp.policy | cut -d: -f1)
expect_match "out drop: IMAPS out by the mail server's rule" "$(printf '%s\n' "$OUT" | sed -n 3p)" \
	"^PASS  allow-rule +policies/ccp\\.policy:$l "
run "$PW" test policies/engage-client.policy out tcp 192.0.2.2:40000 203.0.113.10:443 syn
expect_match "engage-client: an address no answer gave drops" "$OUT" '^DROP  default +default +out tcp '
run "$PW" test policies/engage-client-permissive.policy out tcp 192.0.2.2:40000 203.0.113.10:443 syn
expect_match "engage-client-permissive: it passes" "$OUT" '^PASS  allow-default +default +out tcp '

# wait: the flow times out (tcp-syn 120 s) as if the time had passed
cat > "$T/wait" <<'S'
out tcp 192.0.2.2:40000 198.51.100.25:587 syn seq 7 win 1024
in  tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack ackno 8
wait 121
in  tcp 198.51.100.25:587 192.0.2.2:40000 syn,ack ackno 8
S
run "$PW" test policies/ccp.policy -f "$T/wait"
expect_eq "script wait: exit 0" "$RC" 0
expect_eq "script wait: the reply drops once the flow has timed out" \
	"$(printf '%s\n' "$OUT" | awk '{print $1 "/" $2}' | tr '\n' ' ')" "PASS/allow-rule PASS/reply (121/s DROP/default "
printf 'wait soon\n' > "$T/wait-bad"
run "$PW" test policies/ccp.policy -f "$T/wait-bad"
expect_eq "script wait without seconds: usage exit" "$RC" 2
expect_match "script wait without seconds: says so" "$ERR" "wait-bad:1: wait takes SECONDS"

printf 'in tcp 198.51.100.7:1 192.0.2.2:80 syn\nin tcp nonsense\n' > "$T/bad"
run "$PW" test policies/ccp.policy -f "$T/bad"
expect_eq "bad script line: usage exit" "$RC" 2
expect_match "bad script line: names file:line" "$ERR" "^portwall test: $T/bad:2: "
run "$PW" test policies/ccp.policy in tcp 198.51.100.7 192.0.2.2:80
expect_eq "port missing: usage exit" "$RC" 2
expect_eq "port missing: message" "$ERR" 'portwall test: "198.51.100.7" needs a port: ADDR:PORT or [IPv6]:PORT'
run "$PW" test --pin-root /sys/fs/bpf/pw-none-$$ in tcp 198.51.100.7:1 192.0.2.2:80
expect_eq "no policy, nothing applied: exit 1" "$RC" 1
expect_match "no policy, nothing applied: says what to do" "$ERR" "no portwall is loaded under /sys/fs/bpf/pw-none-$$: give a POLICY"
run "$PW" test /nonexistent.policy in tcp 198.51.100.7:1 192.0.2.2:80
expect_eq "missing policy: exit 1" "$RC" 1

summary
