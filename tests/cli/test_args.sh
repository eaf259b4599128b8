#!/usr/bin/env bash
# test_args.sh - every numeric or named option of the agent's commands is
# range-checked before anything happens: out of range, malformed or
# unknown values exit 2 with a message naming the option and its range.
# Nothing is loaded (the interface is never touched: the option is refused
# first), so it needs no namespace.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
ROOT=/sys/fs/bpf/pwargs$$

# refused CMD-ARGS... -- PATTERN: exit 2, stderr matches PATTERN
refused() {
	local args=() pat out rc
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	pat=$2
	out=$("$PW" "${args[@]}" 2>&1 >/dev/null); rc=$?
	expect_eq "${args[*]}: exit 2" "$rc" 2
	expect_match "${args[*]}: says why" "$out" "$pat"
}

A=(apply policies/ccp.policy --iface lo --pin-root "$ROOT")
refused "${A[@]}" --ct-capacity 0 -- '--ct-capacity takes 1024-16777216 flows, got "0"'
refused "${A[@]}" --ct-capacity 1023 -- '--ct-capacity takes 1024-16777216'
refused "${A[@]}" --ct-capacity 16777217 -- '--ct-capacity takes 1024-16777216'
refused "${A[@]}" --ct-capacity 99999999999999999999 -- '--ct-capacity takes 1024-16777216'
refused "${A[@]}" --ct-capacity 12k -- '--ct-capacity takes 1024-16777216 flows, got "12k"'
refused "${A[@]}" --event-rate 0 -- '--event-rate takes 1-1000000 events a second'
refused "${A[@]}" --event-rate -1 -- '--event-rate takes 1-1000000 events a second, got "-1"'
refused "${A[@]}" --resolve-timeout 10001 -- '--resolve-timeout takes 0-10000 ms \(0: do not ask\), got "10001"'
refused "${A[@]}" --resolve-timeout x -- '--resolve-timeout takes 0-10000 ms'
refused "${A[@]}" --name-addresses 0 -- '--name-addresses takes 1-65536 addresses, got "0"'
refused "${A[@]}" --name-addresses 65537 -- '--name-addresses takes 1-65536 addresses'
refused "${A[@]}" --confirm 4 -- '--confirm takes 5-3600 seconds'
refused "${A[@]}" --confirm 3601 -- '--confirm takes 5-3600 seconds'
refused "${A[@]}" --ct-timeout udp=0 -- '--ct-timeout takes NAME=SECONDS \(1-2592000\)'
refused "${A[@]}" --ct-timeout udp=2592001 -- '--ct-timeout takes NAME=SECONDS'
refused "${A[@]}" --ct-timeout bogus=3 -- 'NAME one of tcp-syn, tcp-est, tcp-close, udp, icmp, other, frag, dns-min, dns-max; got "bogus=3"'
refused "${A[@]}" --ct-timeout udp -- '--ct-timeout takes NAME=SECONDS'
refused "${A[@]}" --xdp-mode fast -- '--xdp-mode takes auto, native or generic, got "fast"'
refused "${A[@]}" --mode audit -- '--mode'
# reload takes apply's range (it once started no watchdog for 0 or "abc",
# rolled back after 1 s, and printed 4294967295 s for -1)
for v in 0 abc 1 -1 3601; do
	refused reload --pin-root "$ROOT" --confirm "$v" -- "portwall reload: --confirm takes 5-3600 seconds, got \"$v\""
done
# audit: one POLICY at most, its options only (refused before root or pins)
refused audit policies/ccp.policy policies/base.policy --pin-root "$ROOT" -- 'portwall audit: expected at most one POLICY, got 2 arguments'
refused audit --pin-root "$ROOT" --strcit -- 'portwall audit: unknown option "--strcit"'
[ -e "$ROOT" ] && fail "nothing was pinned by refused commands" "$(ls "$ROOT")" ||
	pass "nothing was pinned by refused commands"

summary
