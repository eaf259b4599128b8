#!/usr/bin/env bash
# test_import.sh - `portwall import` on every vendor table of
# tests/vendor-tables (copies of /work/shared/vendor-tables: the shapes
# operators paste): each draft passes `portwall check`, every row of the
# table is a rule or a "# skipped:" line, `explain` passes each port of the
# draft by a rule of the draft, and the ports the draft opens, per
# direction and protocol, are those of the hand-written policy in
# policies/ but for the differences listed (and justified) below. Then the
# command's options: -o, --force, --format, --json, stdin, errors.
#
# What the comparison leaves aside, for every table: peers. The
# hand-written policies narrow the rules whose peer the table names by its
# role ("the CCE MR PG", "the configured email server") to a set of
# placeholder addresses, and learn Microsoft 365's and NEC's addresses by
# name; the draft allows any peer there and says so in a "# REVIEW:" line
# ("the table names the peer ...") or in its header. base.policy's rules
# (SSH, DNS, NTP, ICMP), which no vendor table lists, are left aside too:
# the comparison reads the rules of the product file only.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
V=tests/vendor-tables
T=$(mktemp -d /tmp/pw-import-XXXXXX)
trap 'rm -rf "$T"' EXIT
unset SSH_CONNECTION

# run CMD...: sets OUT, ERR, RC
run() { OUT=$("$@" 2>"$T/err"); RC=$?; ERR=$(cat "$T/err"); }

# opens POLICY FILE: "DIR PROTO PORT" for each TCP/UDP port an allow rule
# of POLICY written in FILE opens, one a line, sorted (check --json)
opens() {
	"$PW" check --json "$1" | jq -r --arg f "$2" '.rules[]
		| select(.action == "allow" and (.file | endswith($f)) and .ports != null
			 and (.protocol | test("^(tcp|udp|tcp,udp)$")))
		| . as $r | ($r.protocol | split(",")[]) as $p | ($r.ports | split(",")[] | gsub(" "; "")) as $port
		| "\($r.direction) \($p) \($port)"' | sort -u
}

# import_one TABLE: the draft in $T/TABLE.policy, its JSON in $T/TABLE.json
import_one() {
	local t=$1 d=$T/$1.policy
	run "$PW" import "$V/$t.txt" -o "$d"
	expect_eq "import $t exits 0" "$RC" 0
	expect_match "import $t says what it wrote" "$ERR" "^portwall import: $V/$t.txt: [0-9]+ rows \\([a-z]+\\), [0-9]+ rules, [0-9]+ REVIEW lines, [0-9]+ rows skipped; wrote the draft to $d: review it, then portwall check $d\$"
	"$PW" import --json "$V/$t.txt" > "$T/$t.json"
	# the draft passes check; its one warning, when it has outbound rules,
	# is the one its header announces (default out allow: they only count)
	run "$PW" check "$d"
	expect_eq "check of the $t draft exits 0" "$RC" 0
	expect_eq "the $t draft: no warning but the default-out-allow one" \
		"$(printf '%s\n' "$OUT" | grep ': warning: ' | grep -cv 'change[s]* nothing under default out allow')" 0
	# every row is a rule or a "# skipped:" line, each under its "# from" line
	expect_eq "$t: every row gives a rule or a skipped reason" \
		"$(jq '[.rows[] | select(.skipped == null) | .line] - [.rules[].row_line] | length' "$T/$t.json")" 0
	expect_eq "$t: one \"# from\" line per row" "$(grep -c "^# from $V/$t.txt:[0-9]*: " "$d")" \
		"$(jq '.rows | length' "$T/$t.json")"
	expect_eq "$t: one \"# skipped:\" line per skipped row and repeated rule" "$(grep -c '^# skipped: ' "$d")" \
		"$(jq '([.rows[] | select(.skipped != null)] | length) + ([.rules[] | select(.same_as_line != null or .merged_into_line != null)] | length)' "$T/$t.json")"
	expect_eq "$t: the JSON's policy is the draft" "$("$PW" import --json "$V/$t.txt" | jq -r .policy)" "$(cat "$d")"
}

# explain_all TABLE: explain passes each port of each draft rule by that rule
explain_all() {
	local t=$1 bad=0 dir proto ports host line p v n
	while IFS=' ' read -r dir proto ports host line; do
		for p in ${ports//,/ }; do
			p=${p%%-*}
			[ "$host" = null ] && host=203.0.113.9
			v=$("$PW" explain "$T/$t.policy" "$dir" "${proto%%,*}" "$host" "$p" | head -n 1)
			# by this rule, or an earlier one of the draft that covers the port too
			n=${v#"PASS  $T/$t.policy:"}; n=${n%% *}
			case $v in
			"PASS  $T/$t.policy:"[0-9]*) [ "$n" -le "$line" ] || v="by a later rule: $v" ;;
			esac
			case $v in
			"PASS  $T/$t.policy:"[0-9]*) ;;
			*) bad=$((bad + 1)); echo "    $t: $dir $proto $host $p: $v (expected the rule at line $line)" ;;
			esac
		done
	done < <(jq -r '.rules[] | select(.same_as_line == null and .merged_into_line == null) | "\(.direction) \(.protocol) \(.ports) \(.host) \(.policy_line)"' "$T/$t.json")
	expect_eq "$t: explain passes every port of the draft by its rule" "$bad" 0
}

# compare TABLE HANDWRITTEN EXPECTED: the ports the draft opens against
# those of the hand-written policy; EXPECTED is diff's "<" (the draft only)
# and ">" (the hand-written policy only) lines
compare() {
	local t=$1 h=$2
	diff <(opens "$T/$t.policy" "$t.policy") <(opens "policies/$h" "$h") | grep '^[<>]' > "$T/$t.diff"
	expect_eq "$t against policies/$h: the differences listed" "$(cat "$T/$t.diff")" "$3"
}

for t in cisco-ccp-cells cisco-ccp-tsv cisco-finesse-tsv cisco-socialminer-tsv nec-engage-client; do
	import_one "$t"
	explain_all "$t"
done

# Cisco CCP, CCE 12.5(1) guide (the PDF as one cell per paragraph).
# ccp.policy implements this table and the CCX 15.0 one (cisco-ccp-tsv):
# the ports only the other table lists are the hand-written policy's only
# (in 5222 from Unified CCX, 8442, 10443; out the mail ports 25, 465, 587,
# 993). Out 80 and 443: the table's HTTP(S) rows are Bidirectional
# listener rows, inbound services; ccp.policy also opens them outward, for
# the CCX guide's notes ("communicates outward to the internet to fetch
# social contact information") and its Microsoft 365 sign-in note, which
# are prose outside the rows' cells.
compare cisco-ccp-cells ccp.policy "> in tcp 10443
> in tcp 5222
> in tcp 8442
> out tcp 25
> out tcp 443
> out tcp 465
> out tcp 587
> out tcp 80
> out tcp 993"

# Cisco CCP, CCX 15.0 guide (tab-separated, repeated headers, HTML in
# cells). In 38001 is the CCE guide's row (cisco-ccp-cells), not this
# table's. Out 80 and 443: as above; the draft's HTTP and HTTPS rules carry
# a REVIEW line that quotes the notes ("the notes say the host also
# connects outward").
compare cisco-ccp-tsv ccp.policy "> in tcp 38001
> out tcp 443
> out tcp 80"

# Cisco Finesse (footnote marks, remote ports, Side A / Side B).
# Out 5222: Table 3's XMPP row between the primary and secondary nodes is
# a Bidirectional listener row, which the importer reads as an inbound
# service; finesse.policy also opens it outward, since each node connects
# to the other (the row's notes say so in prose). Out 443: the guide's
# notes about third-party gadget web servers and the ECE web server, which
# are no table row.
compare cisco-finesse-tsv finesse.policy "> out tcp 443
> out tcp 5222"

# Cisco SocialMiner (tab-separated, HTML in cells). Out 80 and 443: the
# notes' outward fetching, as for CCP (a REVIEW line in the draft).
compare cisco-socialminer-tsv socialminer.policy "> out tcp 443
> out tcp 80"

# NEC ENGAGE client (prose). Compared with the permissive variant, which is
# default out allow like the draft. DNS (53) and NTP (123) are the host's
# own, added by the hand-written policy; the article does not list them.
# Nothing inbound in either.
compare nec-engage-client engage-client-permissive.policy "> out tcp 53
> out udp 123
> out udp 53"

# Some exact rules of the drafts, the shapes of the issue.
d=$T/cisco-finesse-tsv.policy
expect_eq "finesse: Side A / Side B with footnotes is one outbound rule, the footnote quoted" \
	"$(grep -B1 '^allow out tcp port 42027,43027 ' "$d")" \
	"# REVIEW: footnote ¹: \"The ports listed are the default ports for these connections. You can use different ports than the ones specified in this table.\"
allow out tcp port 42027,43027 comment \"GED-188\""
expect_eq "finesse: a list of listener ports is one inbound rule" \
	"$(grep '^allow in  tcp port 80,8082 ' "$d")" 'allow in  tcp port 80,8082 comment "HTTP (Browser)"'
expect_eq "finesse: the group heading rows are skipped with the reason" "$(grep -c '^# skipped: no port: a heading of the rows below' "$d")" 2
d=$T/cisco-ccp-tsv.policy
expect_eq "ccp: 'Port 7443 is used for ...' is port 7443" "$(grep '^allow in  tcp port 7443 ' "$d")" \
	'allow in  tcp port 7443 comment "Eventing and chat (secure BOSH)"'
expect_eq "ccp: the header row, then its 3 repeats, are skipped" \
	"$(grep -c '^# skipped: the header row$' "$d") $(grep -c '^# skipped: the header row again$' "$d")" "1 3"
expect_match "ccp: 'Port 5222 (configurable)' gets a REVIEW line" "$(grep -B3 '^allow out tcp port 5222 ' "$d")" \
	'^# REVIEW: the table says "\(configurable\)": the port it gives is the default'
expect_match "ccp: Unidirectional, Inward from the Internet is inbound" "$(cat "$d")" \
	'allow in  tcp port 10443 comment "Customer Collaboration Platform Chat Gateway webhook interface \(HTTPS\)"'
d=$T/nec-engage-client.policy
expect_match "nec: host:port is an outbound rule to the host" "$(cat "$d")" \
	'allow out tcp port 443 to pop8-ccans.mycontactcenter.net comment "TCP Service Providers / Endpoints \(Virginia, Seattle\)"'
expect_eq "nec: nothing inbound" "$(grep -c '^allow in' "$d")" 0
expect_match "the draft says what it is" "$(head -n 1 "$d")" \
	"^# DRAFT policy imported by \`portwall import\` from $V/nec-engage-client.txt \\(read as text\\)\\.\$"
expect_match "the draft explains its default out" "$(cat "$d")" '# default out allow: a vendor table lists the vendor.s flows'

# -o never replaces a file unless --force
d=$T/cisco-ccp-cells.policy
echo keep > "$T/keep.policy"
run "$PW" import "$V/cisco-ccp-cells.txt" -o "$T/keep.policy"
expect_eq "import -o onto an existing file exits 1" "$RC" 1
expect_eq "... says why and what to do" "$ERR" "portwall import: $T/keep.policy exists: give --force to replace it, or another -o"
expect_eq "... and leaves it as it was" "$(cat "$T/keep.policy")" keep
run "$PW" import "$V/cisco-ccp-cells.txt" -o "$T/keep.policy" --force
expect_eq "import -o --force replaces it" "$RC $(cmp -s "$T/keep.policy" "$d" && echo same)" "0 same"
expect_eq "... leaving no temporary file" "$(ls "$T" | grep -c '^\.keep\|tmp')" 0

# --format, stdin, errors
run "$PW" import --format tsv - < "$V/cisco-socialminer-tsv.txt"
expect_eq "import - reads stdin" "$RC $(printf '%s\n' "$OUT" | grep -c '^allow ')" "0 6"
run "$PW" import --format cells "$V/cisco-socialminer-tsv.txt"
expect_eq "import --format cells of a tsv file: no rows, still a valid draft" \
	"$RC $(printf '%s\n' "$OUT" | grep -c '^allow ')" "0 0"
run "$PW" import --format xls "$V/cisco-ccp-cells.txt"
expect_eq "import --format xls exits 2" "$RC" 2
expect_match "... naming the formats" "$ERR" '^portwall import: unknown format "xls": give auto, tsv, cells, html, csv or text$'
run "$PW" import "$T/missing.txt"
expect_eq "import of a missing file exits 1" "$RC" 1
expect_eq "... naming it" "$ERR" "portwall import: $T/missing.txt: No such file or directory"
run "$PW" import
expect_eq "import without a file exits 2" "$RC" 2
run "$PW" import a b
expect_eq "import with two files exits 2" "$RC" 2
run "$PW" import --force "$V/cisco-ccp-cells.txt"
expect_eq "import --force without -o exits 2" "$RC" 2
run "$PW" import --help
expect_match "import --help" "$OUT" '^usage: portwall import FILE '
run "$PW" import --json -o "$T/j.policy" "$V/cisco-finesse-tsv.txt"
expect_eq "import --json -o: the JSON names the file and leaves the draft out" \
	"$(printf '%s\n' "$OUT" | jq -r '"\(.output) \(.policy) \(.format) \(.doubts | length)"')" "$T/j.policy null tsv 2"

summary
