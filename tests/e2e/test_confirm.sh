#!/usr/bin/env bash
# test_confirm.sh - a --confirm watchdog acts only on the load and apply it
# was started for, and goes back only to a confirmed policy (root). Four
# pin roots, each on a veth of its own in one namespace, run their cases at
# once; one wait past the 5 s deadlines judges them all.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_confirm pwc
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
for x in a b c d e f; do
	ins "$S" ip link add "pwc$x$$" type veth peer name "pwc$x$$p" && ins "$S" ip link set "pwc$x$$" up &&
		ins "$S" ip link set "pwc$x$$p" up || fail "veth $x"
done
cleanup_roots() { for x in a b c d e f; do "$PW" unload --pin-root "$ROOT$x" >/dev/null 2>&1; rm -f "/run/portwall/$(printf '%s' "$ROOT$x" | tr / _).lock"; done; }
trap 'cleanup_roots; e2e_cleanup' EXIT
for p in A B C; do
	printf 'policy "%s"\ndefault in drop\nallow in tcp port 22\nallow in tcp port 10%s\n' "$p" "${#p}" > "$T/$p.policy"
done
# pw X POLICY [ARGS]: apply on root X's own interface
pw() { local x=$1 p=$2; shift 2; "$PW" apply "$T/$p.policy" --iface "pwc$x$$" --netns "$S" --pin-root "$ROOT$x" "$@" 2>&1; }
name() { "$PW" status --json --pin-root "$ROOT$1" 2>/dev/null | jq -r '.policy.name'; }

# a: a watchdog of an unloaded load must not unload the next load
pw a A --confirm 5 >/dev/null; "$PW" unload --pin-root "$ROOT"a >/dev/null 2>&1
pw a A --confirm 60 >/dev/null
# b: nor roll the next load back to a policy of its own
pw b A >/dev/null; pw b B --confirm 5 >/dev/null; "$PW" unload --pin-root "$ROOT"b >/dev/null 2>&1
pw b A >/dev/null; pw b B --confirm 60 >/dev/null
# c: a second --confirm while one waits is refused (it could only go back
# to the unconfirmed one); the first then goes back to the confirmed A
pw c A >/dev/null; pw c B --confirm 5 >/dev/null
out=$(pw c C --confirm 5); rc=$?
expect_eq "c: --confirm while another waits: refused" "$rc" 1
expect_match "c: says what to do" "$out" 'generation 2 waits for `portwall confirm` .*confirm it or roll it back first'
out=$("$PW" reload --pin-root "$ROOT"c --confirm 5 2>&1); rc=$?
expect_eq "c: reload --confirm while another waits: refused too" "$rc" 1
expect_match "c: reload --confirm: says why" "$out" 'generation 2 waits for `portwall confirm`'
expect_eq "c: the refused ones changed nothing" "$(name c)" B
# d: a plain apply replaces the waiting one, and its watchdog stands down
pw d A >/dev/null; pw d B --confirm 5 >/dev/null
out=$(pw d C); rc=$?
expect_eq "d: a plain apply over a waiting one: applied" "$rc" 0
expect_match "d: says the waiting one is replaced" "$out" 'generation 2 was waiting for `portwall confirm`; this apply replaces it'
# e: unloaded while its watchdog sleeps: the watchdog makes no lock file
pw e A --confirm 5 >/dev/null; "$PW" unload --pin-root "$ROOT"e >/dev/null 2>&1
# f: a first apply not confirmed: the watchdog unloads it, as unload does
pw f A --confirm 5 >/dev/null

sleep 7
expect_eq "a: the second load survives the first load's watchdog" "$(name a)" A
expect_eq "b: the second load's B survives the first load's watchdog" "$(name b)" B
expect_eq "c: not confirmed: back to the confirmed A" "$(name c)" A
expect_match "c: nothing waits any more" "$("$PW" confirm --pin-root "$ROOT"c)" '^nothing to confirm'
expect_eq "d: C stays" "$(name d)" C
# generations never repeat: rolled back from C (3) to B (2), the next is 4
"$PW" rollback --pin-root "$ROOT"d >/dev/null 2>&1
pw d A >/dev/null
expect_eq "d: after a rollback the next generation is new" \
	"$("$PW" status --json --pin-root "$ROOT"d | jq -r '"\(.policy.name) \(.policy.generation)"')" "A 4"
expect_match "a: still waits for its own confirm" "$("$PW" confirm --pin-root "$ROOT"a)" '^confirmed generation 1'
expect_match "b: still waits for its own confirm" "$("$PW" confirm --pin-root "$ROOT"b)" '^confirmed generation 2'

expect_eq "e: the watchdog of an unloaded root leaves no lock file" \
	"$(ls /run/portwall | grep -c "$(printf '%s' "${ROOT#/}e" | tr / _)\.lock")" 0

expect_eq "f: an unconfirmed first apply is unloaded: no pins" "$([ -e "$ROOT"f ] && echo left || echo gone)" gone
expect_eq "f: nor programs on its interface" "$(ins "$S" ip -d link show "pwcf$$" | grep -c 'prog/xdp')" 0
expect_eq "f: nor lock files" "$(ls /run/portwall | grep -c "$(printf '%s' "${ROOT#/}f" | tr / _)\.")" 0

summary
