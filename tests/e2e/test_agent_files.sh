#!/usr/bin/env bash
# test_agent_files.sh - files an unprivileged user can plant must not steer
# the root agent (root; the planting is done as nobody with setpriv): the
# metrics file's temporary name, FIFOs as policies or includes, symlinks
# and directories above the policy that another user may change, and
# files that turn into FIFOs under status and run. docs/reliability.md,
# "The agent's own attack surface".
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_agent_files pwf
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# a directory in /tmp that nobody owns, and one the test shares like /tmp
N=$(mktemp -d /tmp/pw-nobody-XXXXXX); chown 65534:65534 "$N"
SH=$(mktemp -d /tmp/pw-shared-XXXXXX); chmod 1777 "$SH"
trap 'e2e_cleanup; rm -rf "$N" "$SH"' EXIT
printf 'root only\n' > "$T/secret"; chmod 0600 "$T/secret"
printf 'policy "ok"\ndefault in drop\nallow in tcp port 22\n' > "$T/ok.policy"; chmod 0644 "$T/ok.policy"
# within_s SECONDS CMD...: the command's exit code, or 124 if it took longer
within_s() { timeout -k 1 "$1" "${@:2}" > "$T/out" 2>&1; }

# --- FIFOs: refused at once, never opened for a blocking read
nobody mkfifo "$N/allow-all.policy"
within_s 5 "$PW" apply "$N/allow-all.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "a FIFO as the policy: refused, without blocking" "$rc" 1
expect_match "a FIFO as the policy: says why" "$(cat "$T/out")" 'is a FIFO: policies are read from regular files only'
ln -s "$N/allow-all.policy" "$T/link.policy"
within_s 5 "$PW" apply "$T/link.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "root's symlink to nobody's FIFO: refused, without blocking" "$rc" 1
expect_match "root's symlink to nobody's FIFO: says why" "$(cat "$T/out")" 'is a FIFO: policies are read from regular files only'
printf 'policy "inc"\ninclude "%s"\n' "$N/allow-all.policy" > "$T/inc.policy"
within_s 5 "$PW" apply "$T/inc.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "an include of nobody's FIFO: refused, without blocking" "$rc" 1
expect_match "an include of nobody's FIFO: at the include line" "$(cat "$T/out")" 'inc.policy:2:9: error: cannot read included file'
within_s 15 "$PW" check --strict "$N/allow-all.policy"; rc=$?
expect_eq "check --strict on a FIFO: fails (apply would refuse it)" "$rc" 1
expect_match "check --strict on a FIFO: warns" "$(cat "$T/out")" 'is a FIFO, not a regular file \(apply, reload and run refuse it\)'
[ -e "$ROOT" ] && fail "nothing was pinned by the refused applies" || pass "nothing was pinned by the refused applies"

# --- directories: the one holding the name and every one above it
ln -s "$T/ok.policy" "$N/p.policy"	# root's good file, by a name nobody controls
within_s 5 "$PW" apply "$N/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "a symlink in nobody's directory: refused" "$rc" 1
expect_match "a symlink in nobody's directory: names it" "$(cat "$T/out")" "its directory is owned by uid 65534"
mkdir "$N/fw"; chown root:root "$N/fw"; chmod 0755 "$N/fw"	# (root created it: mkdir as root)
cp "$T/ok.policy" "$N/fw/p.policy"
within_s 5 "$PW" apply "$N/fw/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "root's fw/ inside nobody's directory: refused" "$rc" 1
expect_match "root's fw/ inside nobody's directory: names the directory above" "$(cat "$T/out")" \
	"the directory $N above it is owned by uid 65534"
# reload judges everything again: a directory above turns unsafe after apply
mkdir -p "$T/d/fw"; cp "$T/ok.policy" "$T/d/fw/p.policy"
within_s 10 "$PW" apply "$T/d/fw/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"; rc=$?
expect_eq "a safe policy applies" "$rc" 0
chown 65534 "$T/d"
within_s 10 "$PW" reload --pin-root "$ROOT"; rc=$?
expect_eq "reload after a directory above changed owner: refused" "$rc" 1
expect_match "reload: says which directory" "$(cat "$T/out")" "the directory $T/d above it is owned by uid 65534"
chown root "$T/d"

# --- status and run never block on a file that became a FIFO
mv "$T/d/fw/p.policy" "$T/d/fw/p.saved"; mkfifo -m 0600 "$T/d/fw/p.policy"
within_s 5 "$PW" status --pin-root "$ROOT"; rc=$?
expect_eq "status with the recorded file now a FIFO: answers at once" "$rc" 0
# the rules in force come from the generation store now; the file is said to differ
expect_match "status: says the file no longer matches" "$(cat "$T/out")" 'the file has changed since \(or is gone\): the rules below are as applied'
rm "$T/d/fw/p.policy"; mv "$T/d/fw/p.saved" "$T/d/fw/p.policy"
"$PW" unload --pin-root "$ROOT" > /dev/null 2>&1

# --- the metrics file: planted links and FIFOs at the old temporary name
nobody ln -s "$T/secret" "$SH/m.prom.tmp"
nobody mkfifo "$SH/f.prom.tmp"
mkdir "$N/svc"; chown 65534 "$N/svc"	# a service user's own directory
nobody ln -s "$T/secret" "$N/svc/s.prom.tmp"
"$PW" run "$T/ok.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$SH/m.prom" \
	> "$T/run1.log" 2>&1 & R1=$!; PIDS+=($R1)
for _ in $(seq 300); do [ -s "$SH/m.prom" ] && break; kill -0 "$R1" 2>/dev/null || break; sleep 0.1; done
expect_match "metrics in a sticky directory: written" "$(cat "$SH/m.prom" 2>/dev/null)" '^portwall_policy_generation'
expect_eq "metrics: the planted link's target is untouched" "$(cat "$T/secret")" "root only"
expect_eq "metrics: the file is root's" "$(stat -c %U "$SH/m.prom")" root
kill -TERM "$R1"; for _ in $(seq 30); do kill -0 "$R1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$R1" 2>/dev/null && fail "run stops on SIGTERM" || pass "run stops on SIGTERM"
"$PW" unload --pin-root "$ROOT" > /dev/null 2>&1
for target in "$SH/f.prom" "$N/svc/s.prom"; do
	rm -f "$T/run2.log"
	"$PW" run "$T/ok.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$target" \
		> "$T/run2.log" 2>&1 & R2=$!; PIDS+=($R2)
	# up to 30 s: the agent writes after its first apply, which a loaded CI
	# machine under the sanitizers once took more than 8 s to finish
	for _ in $(seq 300); do [ -s "$target" ] && break; kill -0 "$R2" 2>/dev/null || break; sleep 0.1; done
	expect_match "metrics beside a planted ${target##*/}.tmp: written" "$(cat "$target" 2>/dev/null)" '^portwall_'
	[ -s "$target" ] || sed 's/^/        run: /' "$T/run2.log" | tail -5
	kill -TERM "$R2"; for _ in $(seq 30); do kill -0 "$R2" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$R2" 2>/dev/null && fail "run beside ${target##*/}.tmp stops on SIGTERM" ||
		pass "run beside ${target##*/}.tmp stops on SIGTERM"
	"$PW" unload --pin-root "$ROOT" > /dev/null 2>&1
done
expect_eq "metrics: the link in the service user's directory: target untouched" "$(cat "$T/secret")" "root only"
# a directory anyone may write, not sticky: refused, with the fix
W=$(mktemp -d /tmp/pw-open-XXXXXX); chmod 0777 "$W"
"$PW" run "$T/ok.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --metrics-file "$W/x.prom" \
	> "$T/run3.log" 2>&1 & R3=$!; PIDS+=($R3)
for _ in $(seq 80); do grep -q 'metrics-file' "$T/run3.log" && break; sleep 0.1; done
expect_match "metrics in a world-writable directory: refused with the fix" "$(cat "$T/run3.log")" \
	"is writable by others than its owner \(mode 0777\) and not sticky.*fix: chmod go-w"
expect_eq "metrics in a world-writable directory: nothing written" "$(ls -A "$W")" ""
kill -TERM "$R3" 2>/dev/null; wait "$R3" 2>/dev/null; rm -rf "$W"

# unload leaves nothing of portwall: no pins, no lock file
"$PW" apply "$T/ok.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > /dev/null 2>&1
"$PW" unload --pin-root "$ROOT" > "$T/out" 2>&1
expect_eq "unload: no pin directory left" "$([ -e "$ROOT" ] && echo left || echo gone)" gone
expect_eq "unload: no lock file left in /run/portwall" "$(ls /run/portwall | grep -c "${ROOT##*/}")" 0

summary
