#!/usr/bin/env bash
# test_ifaces.sh - interfaces that change under portwall (root): a rename
# and a new interface of the old name keep XDP on the renamed one and
# status says so; delete and re-create cycles with reloads never fill the
# 8 interface records; pin roots /sys/fs/bpf/X_y and /sys/fs/bpf/X/y get
# files of their own in /run/portwall; a second run on one pin root is
# refused with the first one's pid. docs/operations.md, "Interfaces that
# change".
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_ifaces pwi
ROOT2=/sys/fs/bpf/pwi$$_y ROOT3=/sys/fs/bpf/pwi$$/y
more_cleanup() {
	e2e_cleanup
	"$PW" unload --pin-root "$ROOT2" >/dev/null 2>&1
	"$PW" unload --pin-root "$ROOT3" >/dev/null 2>&1
	rmdir "/sys/fs/bpf/pwi$$" 2>/dev/null
	rm -f /run/portwall/_sys_fs_bpf_pwi$$.* /run/portwall/_sys_fs_bpf_pwi$$%5fy.* \
		/run/portwall/_sys_fs_bpf_pwi$$_y.*
}
trap more_cleanup EXIT

e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 240 443,23
probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }
st() { "$PW" status --json --pin-root "$ROOT" | jq -r "$1"; }
xdp_on() { ins "$S" ip -d link show "$1" 2>/dev/null | grep -c 'prog/xdp'; }
printf 'policy "ifaces"\ndefault in drop\nallow in tcp port 443\n' > "$T/p.policy"
"$PW" apply "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/apply" 2>&1
expect_eq "apply" "$?" 0
expect_eq "the link pin is named by ifindex" "$(ls "$ROOT" | grep '^link_xdp_')" "link_xdp_if$(st '.interfaces[0].ifindex')"

# 1. rename the enforced interface, make a new one with its old name
R=pwi$$r N=pwi$$n
ins "$S" ip link set "$VS" down
ins "$S" ip link set "$VS" name "$R"
ins "$S" ip link set "$R" up
ins "$S" ip link add "$VS" type veth peer name "$N"
ins "$S" ip link set "$VS" up
ins "$S" ip link set "$N" up
out=$("$PW" status --pin-root "$ROOT")
expect_match "renamed: status shows its name now and the old one" "$out" "^  $R +XDP [a-z]+ attached, tc egress attached, ethernet programs \(renamed from $VS\)$"
expect_match "renamed: status says the new $VS is not enforced" "$out" "^    $VS is now another interface \(ifindex [0-9]+\), NOT ENFORCED"
"$PW" reload --pin-root "$ROOT" > "$T/reload" 2>&1
expect_eq "renamed: reload" "$?" 0
expect_match "renamed: reload says the renamed one keeps the policy" "$(cat "$T/reload")" "$VS \(ifindex [0-9]+\) is now named $R: it keeps the policy"
expect_match "renamed: reload says the new one is enforced now" "$(cat "$T/reload")" "note: $VS is a new interface .* enforced now"
expect_eq "renamed: XDP stays on the renamed interface" "$(xdp_on "$R")" 1
expect_eq "renamed: and is on the new one" "$(xdp_on "$VS")" 1
expect_eq "renamed: 443 still open through it" "$(probe 192.0.2.2 443 2000 500)" ok
expect_eq "renamed: 23 still dropped through it" "$(probe 192.0.2.2 23 700)" timeout
expect_eq "renamed: status json" "$(st '[.interfaces[] | "\(.name) \(.renamed_from) \(.xdp_attached)"] | join(",")')" \
	"$R $VS true,$VS null true"
"$PW" reload --pin-root "$ROOT" > "$T/reload" 2>&1
expect_eq "renamed: a second reload keeps both" "$(xdp_on "$R") $(xdp_on "$VS") $(st '.interfaces | length')" "1 1 2"

# 2. delete and re-create an interface, reloading each time: its record
# is pruned, the new one (its name applied) enforced, never 8 records
ins "$S" ip link del "$VS"
out=$("$PW" status --pin-root "$ROOT")
expect_match "gone: status says gone" "$out" "^  $VS +XDP [a-z]+ NOT ATTACHED: gone \(ifindex [0-9]+ no longer exists"
bad=0
for i in $(seq 10); do
	ins "$S" ip link add "$VS" type veth peer name "$N"
	ins "$S" ip link set "$VS" up
	"$PW" reload --pin-root "$ROOT" > "$T/reload" 2>&1 || { bad=$i; break; }
	[ "$(xdp_on "$VS")" = 1 ] || { bad=$i; break; }
	ins "$S" ip link del "$VS"
done
expect_eq "10 delete/re-create cycles with reloads: each reload enforced the new one" "$bad" 0
expect_eq "no reload said 'at most 8 interfaces'" "$(grep -c 'at most' "$T/reload")" 0
"$PW" reload --pin-root "$ROOT" > "$T/reload" 2>&1
expect_match "the last one gone: reload says so" "$(cat "$T/reload")" "interface $VS \(ifindex [0-9]+\) is gone: its record is removed"
expect_eq "records left: the renamed one only" "$(st '[.interfaces[].name] | join(",")')" "$R"
expect_eq "no pins of gone interfaces left" "$(ls "$ROOT" | grep -c '^link_xdp_')" 1
# an explicit apply by the name it has now
"$PW" apply "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT" > "$T/apply" 2>&1
expect_eq "apply --iface by the new name: one record, named so" "$(st '[.interfaces[] | "\(.name) \(.renamed_from)"] | join(",")')" "$R null"
"$PW" unload --pin-root "$ROOT" > "$T/unload" 2>&1
expect_eq "unload" "$?" 0
[ -e "$ROOT" ] && fail "unload: no pins left" "$(ls "$ROOT")" || pass "unload: no pins left"

# 3. /sys/fs/bpf/X_y and /sys/fs/bpf/X/y: their own lock and events files
"$PW" apply "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT2" > "$T/apply2" 2>&1
expect_eq "apply on ${ROOT2#/sys/fs/bpf/}" "$?" 0
"$PW" log --pin-root "$ROOT2" > /dev/null 2>&1
# each root's files while it is loaded (unload removes them)
ours() { ls /run/portwall | grep -F "pwi$$" | grep -E 'y\.(lock|events)$' | sort | tr '\n' ' '; }
files2=$(ours)
expect_eq "the lock files are root's only" "$(stat -c %a "/run/portwall/_sys_fs_bpf_pwi$$%5fy.lock")" 600
"$PW" unload --pin-root "$ROOT2" > /dev/null 2>&1
mkdir -m 0700 "${ROOT3%/y}"	# apply makes the pin root, not its parents
"$PW" apply "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT3" > "$T/apply3" 2>&1
expect_eq "apply on ${ROOT3#/sys/fs/bpf/}" "$?" 0
"$PW" log --pin-root "$ROOT3" > /dev/null 2>&1
expect_eq "two roots, four files" "$files2$(ours)" \
	"_sys_fs_bpf_pwi$$%5fy.events _sys_fs_bpf_pwi$$%5fy.lock _sys_fs_bpf_pwi$$_y.events _sys_fs_bpf_pwi$$_y.lock "
# the events lock of X/y taken (a log --follow) does not stop X_y's reader
ins "$S" true
"$PW" log --follow --pin-root "$ROOT3" > "$T/log3" 2>&1 &
LOG=$!
PIDS+=($LOG)
for _ in $(seq 30); do [ -n "$(cat "/run/portwall/_sys_fs_bpf_pwi$$_y.events" 2>/dev/null)" ] && break; sleep 0.1; done
"$PW" unload --pin-root "$ROOT3" > /dev/null 2>&1
"$PW" apply "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT2" > "$T/apply2" 2>&1
out=$(timeout 5 "$PW" log --pin-root "$ROOT2" 2>&1)
expect_eq "the events of X_y are not held by X/y's reader" "$(printf '%s' "$out" | grep -c 'being read by process')" 0
kill "$LOG" 2>/dev/null
# unprivileged: refused without touching the lock files
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PW" run "$T/p.policy" --iface "$R" --netns "$S" \
	--pin-root "$ROOT2" 2>&1); rc=$?
expect_eq "run as nobody: refused" "$rc" 1
expect_match "run as nobody: says why" "$out" 'needs root'

# 4. one run per pin root: the second is refused, naming the first
"$PW" run "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT2" > "$T/run1" 2>&1 &
RUN=$!
PIDS+=($RUN)
for _ in $(seq 50); do grep -q '^running:' "$T/run1" && break; sleep 0.1; done
gen=$("$PW" status --json --pin-root "$ROOT2" | jq .policy.generation)
out=$(timeout 10 "$PW" run "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT2/" 2>&1); rc=$?
expect_eq "a second run on the pin root: refused" "$rc" 1
expect_match "a second run: names the first one's pid" "$out" "another portwall run \(pid $RUN\) owns pin root $ROOT2/: stop it first"
expect_eq "a second run: changed nothing" "$("$PW" status --json --pin-root "$ROOT2" | jq .policy.generation)" "$gen"
kill "$RUN"; wait "$RUN" 2>/dev/null
"$PW" run "$T/p.policy" --iface "$R" --netns "$S" --pin-root "$ROOT2" --unload-on-exit > "$T/run2" 2>&1 &
RUN=$!
PIDS+=($RUN)
for _ in $(seq 50); do grep -q '^running:' "$T/run2" && break; sleep 0.1; done
expect_match "the first run stopped: another may start" "$(cat "$T/run2")" '^running:'
kill "$RUN"; wait "$RUN" 2>/dev/null

summary
