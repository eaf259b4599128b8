#!/usr/bin/env bash
# test_faults.sh - `kill -9` of apply at random points (root). Policy A is
# applied, then TRIALS times an apply of the other policy is killed after a
# random delay spread over apply's measured runtime. After every kill:
# status names A or B by hash, the datapath enforces that one wholly (real
# connections and `portwall test` on the live maps agree), the stale lock
# does not block, and the next apply succeeds. At the end unload leaves no
# pins. Then a kill at every named step of a first apply and of a reload
# (PORTWALL_FAULT): exactly what should be in force is, whole; unload, or
# the next apply and then unload, leave no pin, XDP program or tc filter.
# Also: the pin directory, the pins and the lock are root's only.
# $RANDOM is seeded (FAULT_SEED), so a run can be repeated.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_faults pwf
TRIALS=${TRIALS:-20}
RANDOM=${FAULT_SEED:-4242}

e2e_hosts "192.0.2.2/24 2001:db8:f::2/64" "192.0.2.1/24 2001:db8:f::1/64"

# policy files 0644 whatever the umask: apply refuses group/world-writable ones
(
	umask 022
	cat > "$T/common.policy" <<'P'
allow in tcp port 5000      comment "in both"
allow in icmp
allow in icmpv6
P
	cat > "$T/a.policy" <<'P'
policy "fault A"
include "common.policy"
set peers = 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32
allow in tcp port 5001 from @peers comment "only in A"
allow in udp port 6001
P
	cat > "$T/b.policy" <<'P'
policy "fault B"
include "common.policy"
set peers = 192.0.2.0/24, 203.0.113.0/24, 2001:db8::/32
allow in tcp port 5002 from @peers comment "only in B"
allow in udp port 6002
P
)
HA=$("$PW" check --json "$T/a.policy" | jq -r .hash)
HB=$("$PW" check --json "$T/b.policy" | jq -r .hash)
expect_match "A and B compile to different hashes" "$HA $HB" '^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$'
[ "$HA" != "$HB" ] || fail "A and B have the same hash"

e2e_bg "$S" "$T/srv" serve 600 5000,5001,5002
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT"; }

# which policy the datapath enforces: "A", "B", or what it saw
enforced() {
	local r0 r1 r2 t
	r0=$(ins "$C" "$PROBE" tcp 192.0.2.2 5000 1500 100 2>&1)
	r1=$(ins "$C" "$PROBE" tcp 192.0.2.2 5001 400 100 2>&1)
	r2=$(ins "$C" "$PROBE" tcp 192.0.2.2 5002 400 100 2>&1)
	# the live programs and maps, for both ports, without a policy
	printf 'in tcp 192.0.2.1:40001 192.0.2.2:5001 syn\nin tcp 192.0.2.1:40002 192.0.2.2:5002 syn\n' > "$T/pk"
	t=$("$PW" test --pin-root "$ROOT" -f "$T/pk" 2>&1 | awk '{ printf "%s ", $1 }')
	case "$r0 $r1 $r2 / $t" in
	"ok ok timeout / PASS DROP ") echo A ;;
	"ok timeout ok / DROP PASS ") echo B ;;
	*) echo "mixed: $r0 $r1 $r2 / $t" ;;
	esac
}
# which policy status names by hash
named() {
	local h
	h=$("$PW" status --json --pin-root "$ROOT" 2>&1 | jq -r .policy.hash 2>&1)
	if [ "$h" = "$HA" ]; then echo A; elif [ "$h" = "$HB" ]; then echo B; else echo "unknown: $h"; fi
}

# a pin directory and a lock file made before, readable by all: apply makes them root's only
lockf=/run/portwall/$(printf '%s' "$ROOT" | tr / _).lock
mkdir -p /run/portwall
(umask 022; mkdir "$ROOT"; : > "$lockf"; chmod 0644 "$lockf")
apply "$T/a.policy" > "$T/apply.out" 2>&1; expect_eq "first apply of A" "$?" 0
expect_eq "A: in force and named" "$(enforced) $(named)" "A A"

# pins and state files: root's only (the directory and the lock file were 0755 and 0644)
# (24 maps, pw_ct_dgram, pw_ct_in, pw_frag_src, pw_classes, pw_exc and the 6 of host names
# among them, the 2 Ethernet programs (the L3 ones come with the first
# interface without a link-layer header: docs/datapath.md), 1 XDP link)
expect_eq "pin directory is 0700" "$(stat -c %a "$ROOT")" 700
bad=$(find "$ROOT" -mindepth 1 \( -type d ! -perm 0700 -o ! -type d ! -perm 0600 \) -printf '%p %m\n')
expect_eq "every pin is 0600" "$bad" ""
expect_eq "$ROOT holds the maps, programs and the XDP link" "$(ls "$ROOT" | wc -l)" 28
expect_eq "lock directory /run/portwall is 0700" "$(stat -c %a /run/portwall)" 700
expect_eq "the lock file is 0600, root's" "$(stat -c '%a %U' "$lockf")" "600 root"

# apply's runtime (a reload), to spread the kills over it
ms=()
for p in b a b a b; do
	t0=$(date +%s%N)
	apply "$T/$p.policy" > /dev/null 2>&1 || fail "timing apply of $p"
	ms+=($((($(date +%s%N) - t0) / 1000000)))
done
span=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n 3p)
span=$((span + 10))
echo "apply (reload) takes ${ms[*]} ms; kills spread over 0-$span ms"

cur=A old=0 new=0 early=0 bad=0
for i in $(seq "$TRIALS"); do
	if [ "$cur" = A ]; then want=B; else want=A; fi
	lc=$(echo "$want" | tr AB ab)
	delay=$((RANDOM % span))
	"$PW" apply "$T/$lc.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/k.out" 2>&1 &
	k=$!
	sleep "$(printf '0.%03d' "$delay")"
	kill -9 "$k" 2>/dev/null
	wait "$k" 2>/dev/null
	[ $? -eq 137 ] || early=$((early + 1))	# it had exited before the kill
	e=$(enforced) n=$(named)
	if [ "$e" != "$n" ] || { [ "$e" != A ] && [ "$e" != B ]; }; then
		bad=$((bad + 1))
		fail "trial $i ($cur -> $want, kill at $delay ms): enforced and named agree, A or B" \
			"enforced: $e" "named:    $n"
	else
		pass "trial $i ($cur -> $want, kill at $delay ms): $e in force, whole, and named"
	fi
	if [ "$e" = "$cur" ]; then old=$((old + 1)); else new=$((new + 1)); fi
	# the next apply: not blocked by the killed one's lock, and in force
	timeout 20 "$PW" apply "$T/$lc.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/n.out" 2>&1 ||
		fail "trial $i: the next apply succeeds" "$(cat "$T/n.out")"
	e=$(enforced) n=$(named)
	[ "$e $n" = "$want $want" ] || fail "trial $i: after the next apply $want is in force" "enforced: $e" "named: $n"
	cur=$want
done
echo "kill -9 trials: $TRIALS; old policy in force after $old, new after $new; apply had finished before the kill in $early"
expect_eq "every trial left one policy, whole" "$bad" 0

# after all that, apply the other policy and roll back: the one before it
# comes back, whole (the last trial's apply may have re-applied the policy
# its killed apply had already put in force, so roll back from a fresh one)
if [ "$cur" = A ]; then other=B; else other=A; fi
apply "$T/$(echo "$other" | tr AB ab).policy" > /dev/null 2>&1; expect_eq "apply $other after the trials" "$?" 0
expect_eq "$other in force and named" "$(enforced) $(named)" "$other $other"
"$PW" rollback --pin-root "$ROOT" > /dev/null 2>&1; expect_eq "rollback succeeds" "$?" 0
e=$(enforced) n=$(named)
expect_eq "rollback: the policy before, whole and named" "$e $n" "$cur $cur"

# StrictModes: what others than root could have written is refused, and
# nothing changes (same policy, same generation)
before=$("$PW" status --json --pin-root "$ROOT" | jq -r '"\(.policy.hash) \(.policy.generation)"')
(umask 022; cp "$T/a.policy" "$T/ww.policy"; cp "$T/common.policy" "$T/gw.policy"
 printf 'include "gw.policy"\nallow in tcp port 5003\n' > "$T/inc.policy")
chmod 0666 "$T/ww.policy"; chmod 0664 "$T/gw.policy"
out=$(apply "$T/ww.policy" 2>&1); rc=$?
expect_eq "0666 policy: apply refuses it" "$rc" 1
expect_match "0666 policy: names the file, the mode, why and the fix" "$out" \
	"^$T/ww\.policy: error: refused: the file is group- and world-writable \(mode 0666\): any user could change what portwall enforces; fix: chmod go-w $T/ww\.policy$"
expect_match "0666 policy: nothing was changed" "$out" 'portwall apply: nothing was changed'
out=$(apply "$T/inc.policy" 2>&1); rc=$?
expect_eq "0644 policy including a 0664 file: apply refuses it" "$rc" 1
expect_match "0664 include: names the include and the fix" "$out" \
	"^$T/inc\.policy:1:9: error: refused: included file $T/gw\.policy: the file is group-writable \(mode 0664\).*fix: chmod go-w $T/gw\.policy$"
chmod g+w "$T/common.policy"
out=$("$PW" reload --pin-root "$ROOT" 2>&1); rc=$?
expect_eq "reload of the applied policy after its include turned 0664: refused" "$rc" 1
expect_match "reload: says why" "$out" "common\.policy: the file is group-writable \(mode 0664\)"
chmod g-w "$T/common.policy"
expect_eq "refusals changed nothing: same hash and generation" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -r '"\(.policy.hash) \(.policy.generation)"')" "$before"
e=$(enforced) n=$(named)
[ "$e" = "$n" ] && pass "refusals changed nothing: $e in force, whole" || fail "after refusals" "$e" "$n"

# a reload that cannot fit (more rules than the first apply made room for)
# is refused before anything is written: the rollback target survives
(umask 022; { echo 'policy "too big"'; for p in $(seq 10000 14999); do echo "allow in tcp port $p"; done; } \
	> "$T/big.policy")
cur=$(named)
if [ "$cur" = A ]; then other=B; else other=A; fi
apply "$T/$(echo "$other" | tr AB ab).policy" > /dev/null 2>&1; expect_eq "apply $other before the big one" "$?" 0
out=$(apply "$T/big.policy" 2>&1); rc=$?
expect_eq "5,000 rules into room for 4,095: refused" "$rc" 1
expect_match "too big: says why and that nothing changed" "$out" \
	'the policy has 5000 rules; this datapath counts at most 4095: unload and apply again; the policy in force is unchanged'
"$PW" rollback --pin-root "$ROOT" > /dev/null 2>&1; expect_eq "rollback after the refusal succeeds" "$?" 0
expect_eq "rollback after the refusal: $cur, whole and named" "$(enforced) $(named)" "$cur $cur"

timeout 20 "$PW" unload --pin-root "$ROOT" > "$T/unload.out" 2>&1; expect_eq "unload succeeds" "$?" 0
[ -e "$ROOT" ] && fail "unload: no pins left" "$(ls "$ROOT")" || pass "unload: no pins left"
expect_eq "unload: no XDP program on the interface" "$(ins "$S" ip link show "$VS" | grep -c xdp)" 0

# kill -9 at each named step (PORTWALL_FAULT, see pw_fault_point): every
# window between two steps, not only those a random delay happens to hit.
probed() {
	local r
	r="$(ins "$C" "$PROBE" tcp 192.0.2.2 5000 1500 100 2>&1) $(ins "$C" "$PROBE" tcp 192.0.2.2 5001 400 100 2>&1)"
	r="$r $(ins "$C" "$PROBE" tcp 192.0.2.2 5002 400 100 2>&1)"
	case $r in "ok ok timeout") echo A ;; "ok timeout ok") echo B ;; "ok ok ok") echo none ;;
	*) echo "mixed: $r" ;; esac
}
leftovers() {
	printf '%s' "pins:$(ls "$ROOT" 2>/dev/null | wc -l) xdp:$(ins "$S" ip link show "$VS" | grep -c xdp)"
	printf ' tc:%s' "$(ins "$S" tc filter show dev "$VS" egress 2>/dev/null | grep -c bpf)"
}
killed_at() {	# POINT POLICY: an apply that dies at POINT; its exit status
	PORTWALL_FAULT=$1 "$PW" apply "$T/$2.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" \
		> "$T/k.out" 2>&1
	echo $?
}

# a first apply (nothing loaded before): what is in force at each point,
# then unload straight away, or the next apply and then unload
for pt in before-write:none before-pin:none before-record:none before-activate:none before-attach:none \
	mid-attach:A before-final-record:A; do
	p=${pt%%:*} want=${pt#*:}
	expect_eq "first apply killed $p: it died there" "$(killed_at "$p" a)" 137
	expect_eq "first apply killed $p: $want in force" "$(probed)" "$want"
	timeout 20 "$PW" unload --pin-root "$ROOT" > "$T/u.out" 2>&1
	expect_eq "first apply killed $p: unload leaves nothing" "$(leftovers)" "pins:0 xdp:0 tc:0"
	killed_at "$p" a > /dev/null
	timeout 20 "$PW" apply "$T/a.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/n.out" 2>&1
	expect_eq "first apply killed $p: the next apply succeeds" "$?" 0
	expect_eq "first apply killed $p: then A, whole and named" "$(enforced) $(named)" "A A"
	timeout 20 "$PW" unload --pin-root "$ROOT" > "$T/u.out" 2>&1
	expect_eq "first apply killed $p: then unload leaves nothing" "$(leftovers)" "pins:0 xdp:0 tc:0"
done

# a reload of B over A: A up to the switch, B from it; status agrees
apply "$T/a.policy" > /dev/null 2>&1 || fail "apply A before the reload points"
for pt in before-write:A before-record:A before-activate:A before-attach:B before-final-record:B; do
	p=${pt%%:*} want=${pt#*:}
	expect_eq "reload killed $p: it died there" "$(killed_at "$p" b)" 137
	expect_eq "reload killed $p: $want in force, whole and named" "$(enforced) $(named)" "$want $want"
	timeout 20 "$PW" apply "$T/a.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/n.out" 2>&1
	expect_eq "reload killed $p: the next apply (A) succeeds, whole" "$?/$(enforced) $(named)" "0/A A"
done
timeout 20 "$PW" unload --pin-root "$ROOT" > "$T/u.out" 2>&1
expect_eq "after the reload points: unload leaves nothing" "$(leftovers)" "pins:0 xdp:0 tc:0"

summary
