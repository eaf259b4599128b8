#!/usr/bin/env bash
# test_strict.sh - StrictModes as `portwall check` shows it (no root needed):
# a policy file, an included file or their directory that others than the
# owner could write gets a warning naming the file, its mode and the fix;
# --strict makes it invalid. (apply's refusal: tests/e2e/test_faults.sh.)
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
T=$(mktemp -d /tmp/pw-strict-XXXXXX)
trap 'rm -rf "$T"' EXIT
umask 022
run() { OUT=$("$@" 2>"$T/err"); RC=$?; ERR=$(cat "$T/err"); }

printf 'policy "ww"\nallow in tcp port 22\n' > "$T/ww.policy"
chmod 0666 "$T/ww.policy"
run "$PW" check "$T/ww.policy"
expect_eq "0666: check still exits 0" "$RC" 0
expect_match "0666: check warns with the mode and the fix" "$OUT" \
	"^$T/ww\.policy: warning: the file is group- and world-writable \(mode 0666\): any user could change what portwall enforces; fix: chmod go-w $T/ww\.policy \(apply, reload and run refuse it\)$"
expect_match "0666: the hash is still printed" "$OUT" '^hash: sha256:'
run "$PW" check --strict "$T/ww.policy"
expect_eq "0666: check --strict exits 1" "$RC" 1
run "$PW" check --json "$T/ww.policy"
expect_match "0666: check --json lists the warning" \
	"$(printf '%s' "$OUT" | jq -r '.warnings[] | "\(.line) \(.message)"')" \
	'^0 the file is group- and world-writable \(mode 0666\): any user could change'
expect_eq "0666: check --json: still valid" "$(printf '%s' "$OUT" | jq .valid)" true

printf 'include "inc.policy"\nallow in tcp port 443\n' > "$T/main.policy"
printf 'allow in tcp port 22\n' > "$T/inc.policy"
chmod 0644 "$T/main.policy"; chmod 0664 "$T/inc.policy"
run "$PW" check "$T/main.policy"
expect_eq "0664 include: check exits 0" "$RC" 0
expect_match "0664 include: the included file is named" "$OUT" \
	"^$T/inc\.policy: warning: the file is group-writable \(mode 0664\): the group's members could change .*fix: chmod go-w $T/inc\.policy"
expect_match "0664 include: one warning" "$OUT" '^warnings: 1$'
chmod go-w "$T/inc.policy"
run "$PW" check "$T/main.policy"
expect_match "fixed: no warning" "$OUT" '^warnings: none$'

mkdir -m 0700 "$T/d"
cp "$T/main.policy" "$T/inc.policy" "$T/d/"
chmod 0775 "$T/d"
run "$PW" check "$T/d/main.policy"
expect_match "0775 directory: warned, with the fix for the directory" "$OUT" \
	"warning: its directory is group-writable \(mode 0775\): the group's members could replace files in it .*fix: chmod go-w $T/d "
chmod 1777 "$T/d"
run "$PW" check "$T/d/main.policy"
expect_match "sticky directory (as /tmp): no warning" "$OUT" '^warnings: none$'

# the repository's own policies are clean (run-tests.sh makes sure of it)
for p in policies/*.policy; do
	run "$PW" check "$p"
	expect_eq "$p: no StrictModes warning" "$(printf '%s\n' "$OUT" | grep -c 'apply, reload and run refuse it')" 0
done

summary
