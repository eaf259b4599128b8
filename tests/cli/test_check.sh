#!/usr/bin/env bash
# test_check.sh - `portwall check` and `portwall explain` as a user runs
# them: exit codes, messages on stderr, JSON that parses, --strict.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
T=$(mktemp -d /tmp/pw-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
unset SSH_CONNECTION

# run CMD...: sets OUT, ERR, RC
run() { OUT=$("$@" 2>"$T/err"); RC=$?; ERR=$(cat "$T/err"); }

for p in policies/*.policy; do
	run "$PW" check "$p"
	expect_eq "check $p exits 0" "$RC" 0
	expect_match "check $p prints the hash" "$OUT" '^hash: sha256:[0-9a-f]{64}$'
	# the product policies enforce their outbound rows: no warning; base
	# and the permissive ENGAGE variant (default out allow) get the one
	# that says their allow-out rules only count, and how to enforce them
	case $p in
	*/base.policy|*-permissive.policy)
		expect_match "check $p: default out allow" "$OUT" '^mode enforce, default in drop, default out allow$'
		expect_eq "check $p: one warning, the allow-out one" \
			"$(printf '%s\n' "$OUT" | grep -c ': warning: ') $(printf '%s\n' "$OUT" |
				grep -cE ': warning: these [0-9]+ allow-out rules .* change nothing under default out allow; to enforce them, write default out drop$')" \
			"1 1" ;;
	*)
		expect_match "check $p: default out drop" "$OUT" '^mode enforce, default in drop, default out drop$'
		expect_match "check $p: no warning" "$OUT" '^warnings: none$' ;;
	esac
	run "$PW" check --json "$p"
	expect_eq "check --json $p exits 0" "$RC" 0
	expect_eq "check --json $p parses" "$(printf '%s' "$OUT" | jq -r '.valid')" true
done

run "$PW" check policies/ccp.policy --json
expect_eq "json: policy name" "$(printf '%s' "$OUT" | jq -r '.policy')" "Cisco Customer Collaboration Platform"
expect_eq "json: rule count" "$(printf '%s' "$OUT" | jq '.rules | length')" 23
expect_eq "json: default out drop" "$(printf '%s' "$OUT" | jq -r '.default.out')" drop
expect_eq "json: the Microsoft 365 names and their ports" \
	"$(printf '%s' "$OUT" | jq -c '[.rules[] | select((.peers // "") | test("office365|microsoftonline")) | [.ports, .peers]]')" \
	'[["443","login.microsoftonline.com"],["25, 465, 587","smtp.office365.com"],["993","outlook.office365.com"]]'
expect_eq "json: mr_pg rule" "$(printf '%s' "$OUT" | jq -r '.rules[] | select(.ports == "38001") | .peers')" "@mr_pg"
expect_eq "json: slot map size" "$(printf '%s' "$OUT" | jq '.maps.slots.entries')" 263680
expect_eq "json: files" "$(printf '%s' "$OUT" | jq -r '.files | join(" ")')" "policies/ccp.policy policies/base.policy"

# the same hash from the table and the JSON, and for a copy with other comments
h1=$("$PW" check policies/ccp.policy | sed -n 's/^hash: //p')
h2=$("$PW" check --json policies/ccp.policy | jq -r .hash)
expect_eq "hash: table and json agree" "$h1" "$h2"
sed 's/comment "[^"]*"/comment "changed"/' policies/ccp.policy > "$T/ccp.policy"
cp policies/base.policy "$T/"
h3=$("$PW" check "$T/ccp.policy" | sed -n 's/^hash: //p')
expect_eq "hash: comments do not change it" "$h3" "$h1"
sed -i 's/port 8442/port 8443/' "$T/ccp.policy"
h4=$("$PW" check "$T/ccp.policy" | sed -n 's/^hash: //p')
[ "$h4" != "$h1" ] && pass "hash: a port change changes it" || fail "hash: a port change changes it" "$h4"

# invalid policy: exit 1, file:line:col on stderr, nothing on stdout
printf 'policy "x"\nallow in tcp port 8O\n' > "$T/bad.policy"
run "$PW" check "$T/bad.policy"
expect_eq "invalid: exit 1" "$RC" 1
expect_eq "invalid: message" "$ERR" "$T/bad.policy:2:19: error: expected a port (1-65535) or a range N-M, got \"8O\""
expect_eq "invalid: stdout empty" "$OUT" ""
run "$PW" check --json "$T/bad.policy"
expect_eq "invalid --json: exit 1" "$RC" 1
expect_eq "invalid --json: position" "$(printf '%s' "$OUT" | jq -r '[.valid, .error.line, .error.column] | join(" ")')" "false 2 19"

# parser errors quote the token; columns count characters
printf 'allow in tcp comment "caf\xc3\xa9" port 443-80\n' > "$T/utf8.policy"
run "$PW" check "$T/utf8.policy"
expect_eq "invalid: backwards range quoted, column in characters" "$ERR" \
	"$T/utf8.policy:1:34: error: range \"443-80\" is backwards; write 80-443"
printf 'allow in icmp type 8 port 80\n' > "$T/icmp-port.policy"
run "$PW" check "$T/icmp-port.policy"
expect_eq "invalid: port on icmp said before given twice" "$ERR" \
	"$T/icmp-port.policy:1:22: error: \"port\" goes with tcp or udp; icmp rules take \"type\""

# a directory is no policy; a pipe is one
run "$PW" check "$T"
expect_eq "directory: exit 1" "$RC" 1
expect_eq "directory: message" "$ERR" "$T: error: cannot read the policy: Is a directory"
OUT=$(printf 'policy "piped"\nallow in tcp port 22\n' | "$PW" check /dev/stdin 2>"$T/err"); RC=$?
expect_eq "stdin: exit 0" "$RC" 0
expect_match "stdin: read" "$OUT" '^policy "piped" \(/dev/stdin\)$'

# the peer classes, listed: id, kind, trie entries, rules
cat > "$T/classes.policy" <<'EOF'
deny  in tcp port 22,443 from 203.0.113.0/24, 2001:db8:bad::/48
allow in tcp port 22 from 192.0.2.0/24
allow in tcp port 443 from 192.0.2.0/24, 198.51.100.0/24
deny  in tcp port 443 from 203.0.113.0/25
deny  in tcp port 8000-8010 from 198.51.100.0/24
deny  in tcp port 8000-8010 from 198.51.100.7
deny  in tcp port 8000-8010 from 203.0.113.0/24
EOF
run "$PW" check "$T/classes.policy"
expect_eq "classes: exit 0" "$RC" 0
expect_eq "classes: listed" "$(printf '%s\n' "$OUT" | sed -n '/^compiled:/,/^maps:/p')" "\
compiled: 7 rules, 5 peer classes
CLASS  KIND   SHAPE  ENTRIES  RULES
    1  deny       1        2  1
    2  allow      2        1  2
    3  deny       3        2  1, 4
    4  allow      4        2  3
    5  deny       5        2  5-7
classes: 3 deny (6 trie entries), 2 allow (3 trie entries)
maps: slots 263680 x 24 B = 6180 KiB; peer trie 9 entries x 48 B = 1 KiB (each half)"
run "$PW" check --json "$T/classes.policy"
expect_eq "classes --json: listed" "$(printf '%s' "$OUT" | jq -c '.classes')" \
	'[{"id":1,"kind":"deny","rules":[1],"shape":1,"entries":2},{"id":2,"kind":"allow","rules":[2],"shape":2,"entries":1},{"id":3,"kind":"deny","rules":[1,4],"shape":3,"entries":2},{"id":4,"kind":"allow","rules":[3],"shape":4,"entries":2},{"id":5,"kind":"deny","rules":[5,6,7],"shape":5,"entries":2}]'
run "$PW" check policies/base.policy
expect_eq "classes: none" "$(printf '%s\n' "$OUT" | grep -c '^classes: none$')" 1
expect_eq "classes --json: none" "$("$PW" check --json policies/base.policy | jq -c '.classes')" '[]'

# warnings: exit 0, or 1 with --strict
printf 'deny in tcp port 1-1023 from 203.0.113.0/24\nallow in tcp port 443 from 203.0.113.7\n' > "$T/warn.policy"
run "$PW" check "$T/warn.policy"
expect_eq "warning: exit 0" "$RC" 0
expect_match "warning: printed with file:line" "$OUT" "^$T/warn.policy:2: warning: this allow rule never takes effect"
run "$PW" check --strict "$T/warn.policy"
expect_eq "warning --strict: exit 1" "$RC" 1
expect_eq "warning --strict: says why" "$ERR" "portwall check: 1 warning and --strict: not valid"

# lockout warning from SSH_CONNECTION
run env SSH_CONNECTION="198.51.100.7 50000 192.0.2.2 2222" "$PW" check policies/ccp.policy
expect_match "lockout: warned" "$OUT" 'lockout: no rule lets your SSH session in \(tcp port 2222 from 198\.51\.100\.7\)'
run env SSH_CONNECTION="198.51.100.7 50000 192.0.2.2 22" "$PW" check policies/ccp.policy
expect_eq "lockout: port 22 is allowed by base" "$(printf '%s\n' "$OUT" | grep -c lockout)" 0
printf 'allow in tcp port 443\n' > "$T/no-ssh.policy"
run env SSH_CONNECTION="fe80::5%eth0 50000 fe80::1%eth0 22" "$PW" check "$T/no-ssh.policy"
expect_eq "lockout: IPv6 zone left out" "$(printf '%s\n' "$OUT" | grep 'lockout')" \
	"$T/no-ssh.policy: warning: lockout: no rule lets your SSH session in (tcp port 22 from fe80::5) and default in is drop; add \"allow in tcp port 22 from fe80::5\""
printf 'mode monitor\nallow in tcp port 443\n' > "$T/monitor.policy"
run env SSH_CONNECTION="198.51.100.7 50000 192.0.2.2 22" "$PW" check --strict "$T/monitor.policy"
expect_eq "lockout: none in monitor mode" "$RC" 0

# host names: listed with their targets; the resolvers; explain by name
cat > "$T/names.policy" <<'EOF'
default out drop
resolver 192.0.2.53
set engage = *.mycontactcenter.net
allow out tcp port 443,5222 to @engage
allow out tcp port 80 to pop1-ccaws.mycontactcenter.net, 198.51.100.0/24
allow out udp,tcp port 53 to 192.0.2.53
EOF
run "$PW" check "$T/names.policy"
expect_eq "names: exit 0" "$RC" 0
expect_eq "names: listed" "$(printf '%s\n' "$OUT" | sed -n '/^NAME/,/^names:/p')" "\
NAME                            RULES        TARGETS (SHAPE:RANK)
*.mycontactcenter.net           1            3:1
pop1-ccaws.mycontactcenter.net  2            2:1
names: 2; resolvers: 192.0.2.53"
run "$PW" check --json "$T/names.policy"
expect_eq "names --json" "$(printf '%s' "$OUT" | jq -c '[.names[] | [.name, .wildcard, .rules, .targets]], .resolvers')" \
	'[["*.mycontactcenter.net",true,[1],[{"shape":3,"rank":1}]],["pop1-ccaws.mycontactcenter.net",false,[2],[{"shape":2,"rank":1}]]]
["192.0.2.53"]'
expect_eq "names --json: hash" "$(printf '%s' "$OUT" | jq -r '.names[0].hash')" "0x9f38e0fa7ef05929"
run "$PW" check --json policies/socialminer.policy
expect_eq "no names --json" "$(printf '%s' "$OUT" | jq -c '[.names, .resolvers]')" '[[],[]]'
run "$PW" explain "$T/names.policy" out tcp pop0-ccans.mycontactcenter.net 5222
expect_eq "explain a name: exit 0" "$RC" 0
expect_eq "explain a name" "$OUT" "PASS  $T/names.policy:4  allow out tcp port 443,5222 to @engage
      for an address learned from DNS for pop0-ccans.mycontactcenter.net, which the policy names as *.mycontactcenter.net; where a rule's prefix covers that address too, explain the address"
run "$PW" explain "$T/names.policy" out tcp 203.0.113.9 443
expect_eq "explain an address a name may have" "$OUT" "DROP  default  default out drop
      rule 1 ($T/names.policy:4) allows it if 203.0.113.9 is an address of *.mycontactcenter.net, learned from DNS"
# dns-users: whose queries teach, listed; any warns of the attack it opens
cat > "$T/users.policy" <<'EOF'
default out drop
resolver 192.0.2.53
dns-users root, 1000
allow out tcp port 443 to login.microsoftonline.com
EOF
run "$PW" check "$T/users.policy"
expect_eq "dns-users: listed" "$(printf '%s\n' "$OUT" | grep '^dns users:')" "dns users: root (0), uid 1000"
run "$PW" check --json "$T/users.policy"
expect_eq "dns-users --json" "$(printf '%s' "$OUT" | jq -c .dns_users)" \
	'{"trust":"listed","users":[{"uid":0,"name":"root"},{"uid":1000,"name":"1000"}]}'
sed -i 's/^dns-users root, 1000$/dns-users any/' "$T/users.policy"
run "$PW" check --strict "$T/users.policy"
expect_eq "dns-users any: --strict refuses it" "$RC" 1
expect_match "dns-users any: warns of the attack" "$OUT" \
	'users.policy:3: warning: dns-users any: .*an accomplice off the path forges the answer'
printf 'dns-users root, no-such-user-pw\n' > "$T/nouser.policy"
run "$PW" check "$T/nouser.policy"
expect_eq "dns-users: an unknown user exits 1" "$RC" 1
expect_match "dns-users: an unknown user at FILE:LINE:COL" "$ERR" \
	'nouser.policy:1:17: error: no user "no-such-user-pw" on this host \(getpwnam\): create it, write its uid'
run "$PW" explain "$T/names.policy" out tcp '*.mycontactcenter.net' 443
expect_eq "explain a wildcard: usage" "$RC" 2
printf 'allow out tcp port 443 to *.com\n' > "$T/tld.policy"
run "$PW" check "$T/tld.policy"
expect_eq "names: a wildcard of a top-level domain" "$ERR" \
	"$T/tld.policy:1:27: error: \"*.com\" would trust every name in a top-level domain: a wildcard needs at least two labels after \"*.\", as in *.example.com"

# usage errors: exit 2
run "$PW" check
expect_eq "usage: no file" "$RC" 2
run "$PW" check a b
expect_eq "usage: two files" "$RC" 2
run "$PW" check --bogus policies/ccp.policy
expect_eq "usage: unknown option" "$RC" 2
expect_match "usage: names the option" "$ERR" 'unknown option "--bogus"'
run "$PW" frobnicate
expect_eq "usage: unknown command" "$RC" 2
run "$PW" check /nonexistent/x.policy
expect_eq "missing file: exit 1" "$RC" 1
expect_eq "missing file: message" "$ERR" "/nonexistent/x.policy: error: cannot read the policy: No such file or directory"

# explain
run "$PW" explain policies/ccp.policy in tcp 198.51.100.7 443
expect_eq "explain: exit 0" "$RC" 0
expect_match "explain: 443 passes by its rule" "$OUT" '^PASS  policies/ccp\.policy:[0-9]+  allow in  tcp port 80,443 '
run "$PW" explain policies/ccp.policy in tcp ::ffff:198.51.100.7 443
expect_match "explain: an IPv4-mapped peer drops as the datapath drops it" "$OUT" '^DROP  always  an IPv4-mapped IPv6'
run "$PW" explain policies/base.policy in icmpv6 ::ffff:192.0.2.1 135
expect_match "explain: a mapped peer drops even for neighbor discovery" "$OUT" '^DROP  always  an IPv4-mapped IPv6'
run "$PW" explain policies/ccp.policy in tcp 198.51.100.7 444
expect_eq "explain: 444 drops by default" "$OUT" "DROP  default  default in drop"
run "$PW" explain policies/ccp.policy in tcp 198.51.100.11 38001
expect_eq "explain: 38001 from a stranger" "$OUT" "DROP  default  default in drop"
run "$PW" explain policies/ccp.policy in icmpv6 fe80::1 neighbor-solicitation
expect_match "explain: ND always" "$OUT" '^PASS  always  '
# explain, outbound: the shipped policies are default out drop
run "$PW" explain policies/ccp.policy out tcp 198.51.100.25 587
expect_match "explain out: 587 to the mail server passes by its rule" "$OUT" \
	'^PASS  policies/ccp\.policy:[0-9]+  allow out tcp port 587 to @mail_server '
run "$PW" explain policies/ccp.policy out tcp 198.51.100.25 2525
expect_eq "explain out: a port the vendor does not list drops" "$OUT" "DROP  default  default out drop"
run "$PW" explain policies/ccp.policy out tcp 203.0.113.99 993
l=$(grep -n '^allow out tcp port 993 to outlook.office365.com ' policies/ccp.policy | cut -d: -f1)
expect_eq "explain out: an address no answer gave for outlook.office365.com drops, and says why" "$OUT" \
	"DROP  default  default out drop
      rule 13 (policies/ccp.policy:$l) allows it if 203.0.113.99 is an address of outlook.office365.com, learned from DNS"
run "$PW" explain policies/ccp.policy out tcp outlook.office365.com 587
expect_match "explain out: a name opens only its own ports" "$OUT" '^DROP  default  default out drop$'
run "$PW" explain policies/finesse.policy out tcp 203.0.113.80 443
expect_eq "explain out: Finesse has no HTTPS out but to its web servers" "$OUT" "DROP  default  default out drop"
run "$PW" explain policies/engage-client.policy out tcp pop1-ccans.mycontactcenter.net 443
expect_match "explain out: the ENGAGE TCP endpoint on 443" "$OUT" \
	'^PASS  policies/engage-client\.policy:[0-9]+  allow out tcp port 443 to @engage_ns '
run "$PW" explain policies/engage-client.policy out tcp pop1-ccans.mycontactcenter.net 80
expect_match "explain out: ... and not on 80" "$OUT" '^DROP  default  default out drop$'
run "$PW" explain policies/engage-client.policy out tcp 198.51.100.80 443
expect_match "explain out: the kiosk reaches no other site" "$OUT" '^DROP  default  default out drop$'
run "$PW" explain policies/engage-client-permissive.policy out tcp 198.51.100.80 443
expect_eq "explain out: the permissive variant does" "$OUT" "PASS  default  default out allow"
run "$PW" explain policies/ccp.policy in tcp 198.51.100.7
expect_eq "explain: missing port is usage" "$RC" 2
expect_eq "explain: says so" "$ERR" "portwall explain: tcp needs a PORT"
run "$PW" explain "$T/bad.policy" in tcp 198.51.100.7 1
expect_eq "explain: invalid policy exit 1" "$RC" 1

run "$PW" version
expect_eq "version: exit 0" "$RC" 0
expect_match "version: names itself and libbpf" "$OUT" '^portwall [0-9]+\.[0-9]+\.[0-9]+'
expect_match "version: libbpf" "$OUT" '^libbpf [0-9]+\.[0-9]+$'

run "$PW" --help
expect_eq "help: exit 0" "$RC" 0
expect_match "help: lists check" "$OUT" '^  check '

summary
