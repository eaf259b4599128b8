#!/usr/bin/env bash
# test_messages.sh - errors and the command line's own words: every error of
# a policy in one run (check, explain, test, apply), JSON that stays valid
# UTF-8 whatever the bytes, run --help, version's arguments, and a man page
# and a bash completion that name every command and option the sources take.
# Nothing is loaded (a broken policy is refused before the kernel is asked).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
T=$(mktemp -d /tmp/pw-messages.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
# utf8 TEXT: "valid" when TEXT is well-formed UTF-8
utf8() { printf '%s' "$1" | iconv -f UTF-8 -t UTF-8 > /dev/null 2>&1 && echo valid || echo invalid; }

cat > "$T/bad.policy" <<'P'
policy "several errors"
set mail = 198.51.100.25, 198.51.100.300
alow in tcp port 22
allow in tcp port 25 from @mail
allow in tcp port 26 from @mial
allow in tcp port 70000
P
want="$T/bad.policy:2:27: error: expected an address, CIDR, @set or \"any\", got \"198.51.100.300\"
$T/bad.policy:3:1: error: expected a statement (policy, include, default, mode, set, resolver, dns-users, allow or deny), got \"alow\"; did you mean \"allow\"?
$T/bad.policy:5:27: error: unknown set \"@mial\"; did you mean \"@mail\"?
$T/bad.policy:6:19: error: port \"70000\" is out of range 1-65535"
out=$("$PW" check "$T/bad.policy" 2>&1); rc=$?
expect_eq "check: exit 1" "$rc" 1
expect_eq "check: every error, once each (the set that failed is not named again)" "$out" "$want"
out=$("$PW" explain "$T/bad.policy" in tcp 198.51.100.7 22 2>&1)
expect_eq "explain: every error" "$out" "$want"
out=$("$PW" test "$T/bad.policy" in tcp 198.51.100.7:5000 192.0.2.2:22 syn 2>&1)
expect_eq "test: every error" "$out" "$want"
out=$("$PW" apply "$T/bad.policy" --iface lo --pin-root /sys/fs/bpf/pwmsg$$ 2>&1); rc=$?
expect_eq "apply: exit 1" "$rc" 1
expect_eq "apply: every error, then that nothing changed" "$out" "$want
portwall apply: nothing was changed"

json=$("$PW" check --json "$T/bad.policy")
expect_eq "check --json: all errors" "$(jq -c '[.errors[] | [.line, .column]]' <<< "$json")" '[[2,27],[3,1],[5,27],[6,19]]'
expect_eq "check --json: the first as error" "$(jq -c '[.error.line, .error.column, .errors_not_shown]' <<< "$json")" '[2,27,0]'
expect_eq "check --json: texts" "$(jq -r '.errors[].text' <<< "$json")" "$want"

for i in $(seq 23); do echo "allow in tcp port 0"; done > "$T/many.policy"
out=$("$PW" check "$T/many.policy" 2>&1)
expect_eq "check: 20 errors shown" "$(grep -c ': error: ' <<< "$out")" 20
expect_eq "check: then how many more" "$(tail -1 <<< "$out")" "3 more errors not shown (the first 20 are)"
expect_eq "check --json: 20 kept, 3 counted" "$("$PW" check --json "$T/many.policy" | jq -c '[(.errors | length), .errors_not_shown]')" '[20,3]'

# invalid UTF-8: in comments (refused, each line named) and in a file name
printf 'allow in tcp port 22 comment "caf\xe9"\n# \xff\xfe\nallow in tcp port 23\n' > "$T/latin1.policy"
json=$("$PW" check --json "$T/latin1.policy")
expect_eq "invalid UTF-8 in comments: valid UTF-8 JSON" "$(utf8 "$json")" valid
expect_eq "invalid UTF-8 in comments: both lines" "$(jq -c '[.errors[] | .line]' <<< "$json")" '[1,2]'
name=$(printf '%s/caf\xe9.policy' "$T")
printf 'allow in tcp port 22\n' > "$name"
json=$("$PW" check --json "$name")
expect_eq "a file name that is not UTF-8: check --json is valid UTF-8" "$(utf8 "$json")" valid
expect_eq "... and jq reads the name with U+FFFD" "$(jq -r .file <<< "$json")" "$T/caf"$'\xef\xbf\xbd'".policy"
printf 'allow in tcp port 0\n' > "$name"
json=$("$PW" check --json "$name")
expect_eq "... also in its errors" "$(utf8 "$json")" valid
expect_eq "... which jq reads" "$(jq -r '.errors[0].line' <<< "$json")" 1

# include paths: did you mean
mkdir "$T/inc"
printf 'allow in tcp port 22\n' > "$T/inc/base.policy"
printf 'include "inc/bsae.policy"\n' > "$T/inc.policy"
expect_eq "include: did you mean" "$("$PW" check "$T/inc.policy" 2>&1)" \
	"$T/inc.policy:1:9: error: cannot read included file $T/inc/bsae.policy: No such file or directory; did you mean \"inc/base.policy\"?"

# the command line's own words
out=$("$PW" run --help); rc=$?
expect_eq "run --help: exit 0" "$rc" 0
expect_match "run --help: run's usage" "$(head -1 <<< "$out")" '^usage: portwall run POLICY --iface'
expect_match "run --help: --metrics-file" "$out" '--metrics-file FILE'
"$PW" version --bogus > /dev/null 2>&1
expect_eq "version --bogus: exit 2" "$?" 2
"$PW" version --help > /dev/null 2>&1
expect_eq "version --help: exit 0" "$?" 0

# the man page and the completion name every command of main.c's table
# and every long option each command's source accepts
cmds=$(grep -o '^	{ "[a-z]*", cmd_' user/cli/main.c | cut -d'"' -f2)
# the table as read here is the list `portwall help` prints (version aside)
expect_eq "main.c's table read" "$(echo $cmds)" "$("$PW" help 2>&1 | awk '/^  [a-z]/ && $1 != "version" {print $1}' | tr '\n' ' ' | sed 's/ $//')"
. packaging/portwall.bash-completion
# complete WORDS...: what bash completion offers for the last word
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _portwall; echo "${COMPREPLY[*]}"; }
offered=" $(complete_words portwall '') "
missing=
for c in $cmds version; do
	[[ $offered == *" $c "* ]] || missing+=" completion:$c"
	grep -qE "^\.B (portwall )?$c( |$)|^\.B portwall .*\b$c\b" docs/man/portwall.8 || missing+=" man:$c"
done
expect_eq "every command in the completion and the man page" "$missing" ""
# the long options of the Nth option table of FILE
opts_of() { awk -v n="$2" '/static const struct option/ { t++ } t == n && /\{ "[a-z-]+",/ {
	while (match($0, /\{ "[a-z-]+",/)) { print substr($0, RSTART + 3, RLENGTH - 5); $0 = substr($0, RSTART + RLENGTH) } }
	/\{ 0 \}/ && t == n { exit }' "$1"; }
missing=
apply_help=$("$PW" apply --help)
for spec in check:cmd_check.c:1 explain:cmd_explain.c:1 import:cmd_import.c:1 conntrack:cmd_conntrack.c:1 \
	    counters:cmd_counters.c:1 history:cmd_history.c:1 diff:cmd_diff.c:1 suggest:cmd_suggest.c:1 test:cmd_test.c:1 apply:cmd_apply.c:1 run:cmd_apply.c:1 reload:cmd_apply.c:2 \
	    status:cmd_status.c:1 audit:cmd_audit.c:1 top:cmd_top.c:1 log:cmd_log.c:1 rollback:cmd_rollback.c:1 \
	    confirm:cmd_rollback.c:1 unload:cmd_unload.c:1; do
	IFS=: read -r c f n <<< "$spec"
	offered=" $(complete_words portwall "$c" --) "
	for o in $(opts_of "user/cli/$f" "$n"); do
		# run's own options are in apply's table too: apply --help does not list them
		[ "$c" = apply ] && ! grep -qE -- "--$o( |,|$)" <<< "$apply_help" && continue
		[[ $offered == *" --$o "* ]] || missing+=" completion:$c--$o"
		grep -qF -- "\\-\\-${o//-/\\-}" docs/man/portwall.8 || missing+=" man:--$o"
	done
done
expect_eq "options read from the sources" "$(opts_of user/cli/cmd_top.c 1 | tr '\n' ' ')" "pin-root count events-file help "
expect_eq "every option in the completion and the man page" "$missing" ""

summary
