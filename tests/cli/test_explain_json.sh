#!/usr/bin/env bash
# test_explain_json.sh - `portwall explain --json`: one object with the
# query, the verdict, what decided it (a rule with its file, line, text and
# comment; the default; or "always"), the slot and the text explanation.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
T=$(mktemp -d /tmp/pw-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
cat > "$T/p.policy" <<'P'
policy "x"
default in drop
default out drop
allow in tcp port 443 from 198.51.100.0/24 comment "the web"
deny in tcp port 443 from 203.0.113.0/24
P
j() { "$PW" explain "$@" 2>&1 | jq -c "$JQ" 2>&1; }
JQ='[.verdict,.decided_by,.rule.id,.rule.line,.rule.comment,.slot,.trie_lookups,.query.port]'
expect_eq "a rule decides" "$(j --json "$T/p.policy" in tcp 198.51.100.7 443)" \
	'["pass","rule",1,4,"the web","in tcp/443",2,"443"]'
expect_eq "--json after the words" "$(j "$T/p.policy" in tcp 203.0.113.7 443 --json)" \
	'["drop","rule",2,5,null,"in tcp/443",1,"443"]'
expect_eq "the default decides" "$(j --json "$T/p.policy" in tcp 192.0.2.9 22)" \
	'["drop","default",null,null,null,"in tcp/22",0,"22"]'
expect_eq "neighbor discovery: always" "$(j --json "$T/p.policy" in icmpv6 2001:db8::1 135 | jq -c '.[0:3]')" \
	'["pass","always",null]'
expect_eq "the explanation is the text's" "$("$PW" explain --json "$T/p.policy" in tcp 198.51.100.7 443 2>&1 | jq -r .explanation 2>&1)" \
	"PASS  $T/p.policy:4  allow in tcp port 443 from 198.51.100.0/24 comment \"the web\""
"$PW" explain --json "$T/p.policy" in tcp 198.51.100.7 > /dev/null 2>&1
expect_eq "a missing port: usage, exit 2" "$?" 2
summary
