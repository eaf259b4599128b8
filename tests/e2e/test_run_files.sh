#!/usr/bin/env bash
# test_run_files.sh - what `run` and `reload` apply when the policy file
# changes under them (root): a slow writer's half-written file is never
# applied, a symlink switched atomically to another file is followed (and
# recorded as named, so `reload` follows it too), and a policy replaced by
# a FIFO blocks neither a SIGHUP'd run nor its SIGTERM.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_run_files pwr
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 120 22,443
gen() { "$PW" status --json --pin-root "$ROOT" 2>/dev/null | jq -r "$1"; }
# wait_gen N: until generation N is in force (at most 5 s)
wait_gen() { for _ in $(seq 50); do [ "$(gen .policy.generation)" = "$1" ] && return 0; sleep 0.1; done; return 1; }
mkdir "$T/etc"
printf 'policy "A"\ndefault in drop\nallow in tcp port 22\n' > "$T/etc/A.policy"
printf 'policy "B"\ndefault in drop\nallow in tcp port 22, 443\n' > "$T/etc/B.policy"
ln -s A.policy "$T/etc/current.policy"

"$PW" run "$T/etc/current.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > "$T/run.log" 2>&1 & RUN=$!
PIDS+=($RUN)
wait_gen 1; expect_eq "run: A in force" "$(gen .policy.name)" A
expect_eq "run: records the name given, not the link's target" "$(gen .policy.file)" "$T/etc/current.policy"

# a symlink switched atomically (a rename over it) to B: followed
ln -s B.policy "$T/etc/current.new" && mv -T "$T/etc/current.new" "$T/etc/current.policy"
wait_gen 2; expect_eq "symlink switched: run applies B" "$(gen .policy.name)" B
expect_eq "symlink switched: 443 now open" "$(ins "$C" "$PROBE" tcp 192.0.2.2 443 2000 100)" ok

# a slow writer rewrites B, the file the link names: nothing is applied
# until it closes the file
( printf 'policy "A2"\ndefault in drop\n'; sleep 2; printf 'allow in tcp port 22\n' ) > "$T/etc/B.policy" &
W=$!
sleep 1.2
expect_eq "slow writer: the half-written file is not applied" "$(gen .policy.generation)" 2
expect_eq "slow writer: port 22 still open meanwhile" "$(ins "$C" "$PROBE" tcp 192.0.2.2 22 2000 100)" ok
wait "$W"
wait_gen 3; expect_eq "slow writer: applied once written whole" "$(gen .policy.name)" A2
expect_eq "slow writer: its rules whole (port 22 open)" "$(ins "$C" "$PROBE" tcp 192.0.2.2 22 2000 100)" ok
expect_eq "slow writer: and only those (B's 443 closed again)" "$(ins "$C" "$PROBE" tcp 192.0.2.2 443 700)" timeout

# the policy replaced by a FIFO, then SIGHUP: refused at once, run answers SIGTERM
rm "$T/etc/current.policy"; mkfifo -m 0600 "$T/etc/current.policy"
kill -HUP "$RUN"
for _ in $(seq 30); do grep -q 'is a FIFO' "$T/run.log" && break; sleep 0.1; done
expect_match "FIFO then SIGHUP: refused, said in the log" "$(cat "$T/run.log")" 'is a FIFO: policies are read from regular files only'
expect_eq "FIFO then SIGHUP: the policy in force is kept" "$(gen .policy.name)" A2
kill -TERM "$RUN"; for _ in $(seq 30); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUN" 2>/dev/null && fail "FIFO then SIGHUP: run still stops on SIGTERM" ||
	pass "FIFO then SIGHUP: run still stops on SIGTERM"

# reload follows what the operator named: the link switched to A
rm "$T/etc/current.policy"; ln -s A.policy "$T/etc/current.policy"
"$PW" reload --pin-root "$ROOT" > "$T/reload.out" 2>&1; expect_eq "reload: exit 0" "$?" 0
expect_eq "reload: applies the link's new target" "$(gen .policy.name)" A

summary
