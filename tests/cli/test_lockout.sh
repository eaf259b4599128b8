#!/usr/bin/env bash
# test_lockout.sh - over SSH ($SSH_CONNECTION) apply refuses a policy that
# would cut the session off (exit 1, the rule to add in the message, nothing
# pinned) unless --force; applied over SSH without --confirm it says so
# loudly. portwall runs inside a namespace of its own (nsenter, no --netns:
# the session's namespace as far as it can tell), on a veth of its own.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
NS=pwlock$$
ROOT=/sys/fs/bpf/pwlock$$
T=$(mktemp -d /tmp/pw-lockout.XXXXXX)
SSH="198.51.100.7 51000 192.0.2.2 22"
cleanup() {
	nsenter --net=/run/netns/$NS "$PW" unload --pin-root "$ROOT" > /dev/null 2>&1
	ip netns del $NS 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add $NS
ip -n $NS link add d0 type veth peer name d1
ip -n $NS link set d0 up && ip -n $NS link set d1 up
chmod 755 "$T"
pw() { nsenter --net=/run/netns/$NS "$PW" "$@"; }
# run ENV-ARGS... CMD...: OUT (stderr and stdout), RC (as env(1) takes them)
run() { OUT=$(env "$@" 2>&1); RC=$?; }

printf 'default in drop\nallow in tcp port 443\n' > "$T/cut.policy"
printf 'deny in tcp port 22 from 198.51.100.0/24\nallow in tcp port 22\n' > "$T/deny.policy"
printf 'default in drop\nallow in tcp port 22 from 198.51.100.7\n' > "$T/ok.policy"

run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" apply "$T/cut.policy" --iface d0 --pin-root "$ROOT"
expect_eq "cut over SSH: refused, exit 1" "$RC" 1
expect_match "cut over SSH: the rule to add" "$OUT" \
	'^portwall apply: refused: the policy would cut off the SSH session you run this from \(lockout: no rule lets your SSH session in \(tcp port 22 from 198\.51\.100\.7\) and default in is drop; add "allow in tcp port 22 from 198\.51\.100\.7"\); nothing was changed\. Give --force'
expect_eq "cut over SSH: said once (no warning repeating it)" "$(grep -c 'lockout:' <<< "$OUT")" 1
expect_eq "cut over SSH: nothing pinned" "$([ -e "$ROOT" ] && echo pinned || echo none)" none

run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" apply "$T/deny.policy" --iface d0 --pin-root "$ROOT"
expect_eq "denied over SSH: refused, exit 1" "$RC" 1
expect_match "denied over SSH: names the deny rule" "$OUT" \
	"dropped by the deny rule at $T/deny\.policy:1; narrow that rule so that it leaves 198\.51\.100\.7 out \(a deny wins over every allow\)"

run SSH_CONNECTION="$SSH" "$PW" check "$T/cut.policy"
expect_eq "check over SSH: still only a warning, exit 0" "$RC" 0
expect_match "check over SSH: the warning" "$OUT" 'warning: lockout: no rule lets your SSH session in'

# in monitor mode nothing drops; with --netns the session is not in there
run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" apply "$T/cut.policy" --iface d0 --pin-root "$ROOT" --mode monitor
expect_eq "monitor over SSH: applied" "$RC" 0
pw unload --pin-root "$ROOT" > /dev/null
run SSH_CONNECTION="$SSH" "$PW" apply "$T/cut.policy" --iface d0 --netns $NS --pin-root "$ROOT"
expect_eq "another namespace (--netns) over SSH: applied" "$RC" 0
"$PW" unload --pin-root "$ROOT" > /dev/null

run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" apply "$T/cut.policy" --iface d0 --pin-root "$ROOT" --force
expect_eq "cut over SSH with --force: applied" "$RC" 0
expect_match "--force without --confirm: the loud warning" "$OUT" \
	'^portwall apply: WARNING: applied over SSH without --confirm: .* Next time give --confirm 60'
pw unload --pin-root "$ROOT" > /dev/null

run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" apply "$T/ok.policy" --iface d0 --pin-root "$ROOT"
expect_eq "session allowed, over SSH: applied" "$RC" 0
expect_match "over SSH without --confirm: the loud warning" "$OUT" 'WARNING: applied over SSH without --confirm'
printf 'default in drop\n' > "$T/ok.policy"
run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" reload --pin-root "$ROOT"
expect_eq "reload that would cut over SSH: refused" "$RC" 1
expect_match "reload that would cut over SSH: says why" "$OUT" 'refused: the policy would cut off the SSH session'
run SSH_CONNECTION="$SSH" nsenter --net=/run/netns/$NS "$PW" reload --pin-root "$ROOT" --force --confirm 30
expect_eq "reload --force --confirm over SSH: applied" "$RC" 0
expect_eq "with --confirm: no warning" "$(grep -c 'WARNING' <<< "$OUT")" 0
pw confirm --pin-root "$ROOT" > /dev/null
run -u SSH_CONNECTION nsenter --net=/run/netns/$NS "$PW" reload --pin-root "$ROOT"
expect_eq "not over SSH: applied" "$RC" 0
expect_eq "not over SSH: no warning" "$(grep -c 'WARNING' <<< "$OUT")" 0

summary
