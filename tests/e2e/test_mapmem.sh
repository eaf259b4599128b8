#!/usr/bin/env bash
# test_mapmem.sh - the kernel memory `portwall check` reports for a policy
# is what the kernel charges once it is applied after another of as many
# entries (both peer tries full): bpftool's memlock of every pinned map and
# of both tries, within 10%, in all and for the tries alone (root). A
# mid-size policy: 2,000 ports and a set of 5,000 prefixes (a few seconds).
# On the way: a reload of the same entries shares the trie in force.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_mapmem pwm
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"

# mid_policy FIRST: the set holds 10.x.y.0/24 for the 5,000 /24s from FIRST on
mid_policy() {
	printf 'policy "mid"\nset big = '
	for i in $(seq "$1" $(($1 + 4999))); do
		printf '10.%d.%d.0/24%s' $((i / 256)) $((i % 256)) "$([ "$i" -lt $(($1 + 4999)) ] && echo ', ' || echo)"
	done
	echo
	for port in $(seq 2000 3999); do echo "allow in tcp port $port from 198.51.100.$((port % 250))"; done
	echo "deny in tcp port 1-1023 from @big"
}
P0=$T/mid0.policy P0b=$T/mid0b.policy P=$T/mid.policy
mid_policy 0 > "$P0"
# the same trie entries with one more port (the same file again would be a
# no-op: the same hash)
{ cat "$P0"; echo "allow in tcp port 4000"; } > "$P0b"
mid_policy 5000 > "$P"

J=$("$PW" check --json "$P" 2>/dev/null)
expect_eq "check: valid" "$(printf '%s' "$J" | jq -r .valid)" true
est_all=$(printf '%s' "$J" | jq '.maps.kernel.bytes')
est_trie=$(printf '%s' "$J" | jq '.maps.kernel.maps.pw_peers_h0 + .maps.kernel.maps.pw_peers_h1')
num() { case $1 in ''|*[!0-9]*) echo 0 ;; *) echo "$1" ;; esac; }	# no estimate: 0
est_all=$(num "$est_all") est_trie=$(num "$est_trie")

inner() {	# the id of half $1's trie (four bytes in hex, little-endian)
	local b0 b1 b2 b3
	read -r b0 b1 b2 b3 < <(bpftool map lookup pinned "$ROOT/pw_peers" key "$1" 0 0 0 -j 2>/dev/null |
		jq -r '.value | join(" ")' 2>/dev/null)
	echo $(( ${b0:-0} + ${b1:-0} * 256 + ${b2:-0} * 65536 + ${b3:-0} * 16777216 ))
}
ok=1
for p in "$P0" "$P0b" "$P"; do	# a first apply, the same entries again, then other entries
	"$PW" apply "$p" --iface "$VS" --netns "$S" --pin-root "$ROOT" >/dev/null 2>&1 || ok=0
	[ "$p" = "$P0b" ] && shared=$([ "$(inner 0)" = "$(inner 1)" ] && echo yes || echo "no: $(inner 0), $(inner 1)")
done
expect_eq "apply, reload, reload" "$ok" 1
expect_eq "a reload of the same entries: both halves use the trie in force" "$shared" yes
expect_eq "a reload of other entries: a trie of its own" "$([ "$(inner 0)" != "$(inner 1)" ] && echo yes)" yes

memlock() { bpftool map show "$@" -j 2>/dev/null | jq '.bytes_memlock // 0'; }
pinned=0
for f in "$ROOT"/pw_*; do pinned=$((pinned + $(memlock pinned "$f"))); done
trie=0
for h in 0 1; do trie=$((trie + $(memlock id "$(inner "$h")"))); done
kernel=$((pinned + trie))

# |estimate - kernel| <= 10% of the kernel's
within() { local e=$1 k=$2; [ "$k" -gt 0 ] && [ $(( (e > k ? e - k : k - e) * 10 )) -le "$k" ]; }
within "$est_trie" "$trie" && r=yes || r="no: check $est_trie B, kernel $trie B"
expect_eq "peer tries: check's estimate within 10% of the kernel's memlock" "$r" yes
within "$est_all" "$kernel" && r=yes || r="no: check $est_all B, kernel $kernel B"
expect_eq "all maps: check's estimate within 10% of the kernel's memlock" "$r" yes
summary
