#!/usr/bin/env bash
# test_tables.sh - status and top print tables sized to their content
# (libsmartcols): a policy installed under a long path keeps status' rule
# rows aligned with their header; top cuts its rule rows to the width of
# the screen (COLUMNS, or the terminal's) instead of wrapping them, and
# without either prints them whole. Real connections between two
# namespaces make the rules move.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_tables pwtb
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 60 443,8443
probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }

# the directory alone is longer than the old LINE column (28)
D=$T/usr/share/portwall/policies/very/long/directory/of/an/installed/policy
mkdir -p "$D"
LONGC="a comment long enough to be cut in a table of eighty columns"
printf '%s\n' 'policy "tables"' 'default in drop' 'allow in tcp port 443 comment "web"' \
	"allow in tcp port 8443,9443,10443,11443,12443,13443,14443,15443,16443,17443 comment \"$LONGC\"" \
	'allow in udp port 53' > "$D/tables.policy"
out=$("$PW" apply "$D/tables.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" 2>&1)
expect_eq "apply from a ${#D}-character directory" "$?" 0
expect_eq "443 and 8443 open" "$(probe 192.0.2.2 443 2000 100) $(probe 192.0.2.2 8443 2000 100)" "ok ok"

out=$("$PW" status --pin-root "$ROOT")
expect_match "status: the header, each column named" "$out" '^RULE  LINE +IN PKTS +IN BYTES +OUT PKTS +OUT BYTES  COMMENT$'
expect_match "status: the long FILE:LINE whole" "$out" "^   2  $D/tables\.policy:4 +[1-9][0-9]* +[1-9][0-9]* +[1-9][0-9]* +[1-9][0-9]*  $LONGC\$"
expect_eq "status: rule rows aligned with the header (a long path)" \
	"$(printf '%s\n' "$out" | python3 tests/e2e/colcheck.py '^ *RULE +LINE' 0,2,3,4,5)" "aligned, 4 rows"
expect_eq "status: the reason rows aligned" \
	"$(printf '%s\n' "$out" | python3 tests/e2e/colcheck.py '^REASON ' 1,2)" "aligned, $("$PW" status --json --pin-root "$ROOT" | jq '.reasons.in | length') rows"
expect_match "status: the long comment whole" "$out" "  $LONGC\$"
expect_eq "status --json: the rule's file as before" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -r '.rules[2] | "\(.file):\(.line) \(.comment)"')" "$D/tables.policy:4 $LONGC"

# top: the rules move while it counts (a connection to each port, 20 times)
traffic() { for _ in $(seq 20); do probe 192.0.2.2 443 500 100; probe 192.0.2.2 8443 500 100; probe 192.0.2.2 23 50; done > /dev/null; }
traffic & KNOCK=$!
out=$(COLUMNS=80 "$PW" top --count 2 --pin-root "$ROOT"); rc=$?
wait "$KNOCK"
expect_eq "top (COLUMNS=80): exit 0" "$rc" 0
expect_eq "top (COLUMNS=80): no line longer than 80" "$(printf '%s\n' "$out" | awk 'length($0) > 80' | head -3)" ""
expect_match "top (COLUMNS=80): the long rule's row, cut" "$out" '^     2  allow in tcp port 8443,9443,[0-9,]* +[1-9][0-9]* +[1-9][0-9]*  a comm'
expect_eq "top (COLUMNS=80): ... not wrapped onto another line" \
	"$(printf '%s\n' "$out" | grep -c '17443\|eighty columns')" 0
expect_eq "top: the rules' rows aligned" \
	"$(printf '%s\n' "$out" | python3 tests/e2e/colcheck.py '^ *RULE +TEXT|^RULES \(packets/s\) +IN' 0,2,3 | sed 's/, [0-9]* rows//')" "aligned"
expect_match "top: the dropped port" "$out" '^  in tcp/23 +[1-9]'

# on a terminal of 60 columns (no COLUMNS): the terminal's width
traffic & KNOCK=$!
out=$(env -u COLUMNS script -qec "stty cols 60 rows 50; $PW top --count 2 --pin-root $ROOT" /dev/null < /dev/null 2>&1 |
	sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\r$//')
wait "$KNOCK"
expect_match "top (terminal of 60): the long rule's row" "$out" '^     2  allow in tcp port'
expect_eq "top (terminal of 60): no line longer than 60" "$(printf '%s\n' "$out" | awk 'length($0) > 60' | head -3)" ""

# not on a terminal and no COLUMNS: sized to the content, nothing cut
traffic & KNOCK=$!
out=$(env -u COLUMNS "$PW" top --count 2 --pin-root "$ROOT")
wait "$KNOCK"
expect_match "top (no width): the long rule whole" "$out" \
	'^     2  allow in tcp port 8443,9443,10443,11443,12443,13443,14443,15443,16443,17443 comment "'"$LONGC"'" +[1-9][0-9]* +[1-9][0-9]*  '"$LONGC\$"
summary
