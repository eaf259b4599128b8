# lib.sh - shared helpers for the shell test suites: assertions that count,
# and a summary line "N passed, N failed" at exit.
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; }

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got:      $2" "expected: $3"; fi
}

# expect_match NAME TEXT REGEX (extended regex, whole text searched)
expect_match() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then pass "$1"; else fail "$1" "text:  $2" "regex: $3"; fi
}

# wait_for FILE REGEX: until a line of FILE matches (extended regex), up
# to 30 s: what the suites wait for comes (an agent started, a reload
# done, an event written) within a second on a quiet machine, several on
# a loaded one (a first apply under ASan verifies four programs)
wait_for() { for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

summary() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
