#!/usr/bin/env bash
# test_history.sh - the generation store (root): apply, edit, reload;
# history, show, diff (against the file on disk and between generations),
# rollback GENERATION, a reload to the same hash is a no-op, status shows
# the rules in force after the file is edited or deleted and a pending
# --confirm; the store refuses a directory others could write.
set -u
[ -n "${PW_TRACE:-}" ] && { PS4='+ $(date +%s.%N | cut -c7-14) '; set -x; }
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_history pwh
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
P=(--pin-root "$ROOT")
KEY=$(printf '%s' "$ROOT" | tr / _)
STORE=$PORTWALL_STATE_DIR/$KEY
F=$T/h.policy
printf 'policy "H"\ninclude "inc.policy"\ndefault in drop\nallow in tcp port 22 comment "ssh"\n' > "$F"
printf 'allow in tcp port 443 comment "web"\n' > "$T/inc.policy"
cp "$F" "$T/h.1"
js() { "$PW" status --json "${P[@]}" | jq -r "$1"; }
hj() { "$PW" history --json "${P[@]}" | jq -r "$1"; }

out=$("$PW" apply "$F" --iface "$VS" --netns "$S" "${P[@]}" 2>&1)
expect_match "apply: generation 1" "$out" '^applied "H" .* generation 1,'
H1=$(js .policy.hash)
expect_eq "store: root's only, 0700, and its file 0600" \
	"$(stat -c '%a %U' "$PORTWALL_STATE_DIR" "$STORE" "$STORE/gen-0000000001" | tr '\n' ' ')" "700 root 700 root 600 root "

# edit, reload (who: sudo and ssh recorded)
printf 'allow in tcp port 8080 comment "new"\n' >> "$F"
sed -i 's/port 22 comment/port 2222 comment/' "$F"
cp "$F" "$T/h.2"
out=$(SUDO_USER=alice SSH_CONNECTION="192.0.2.9 50000 192.0.2.2 22" "$PW" reload "${P[@]}" 2>&1)
expect_match "reload: generation 2" "$out" '^reloaded "H" .* generation 2,'
expect_eq "history: two generations, who and what" \
	"$(hj '[.[] | "\(.generation) \(.command) \(.user) \(.sudo_user) \(.ssh_client) \(.role) \(.files | length)"] | join(",")')" \
	"1 apply root null null rollback target 2,2 reload root alice 192.0.2.9 in force 2"
expect_eq "history: gen 1's hash is what was in force then" "$(hj '.[0].hash')" "$H1"
expect_match "history (table): the in-force line" "$("$PW" history "${P[@]}")" \
	'^2 +[0-9-]+ [0-9:]+ [+-][0-9]{4} [0-9a-f]{16} reload root \(sudo alice\) from 192\.0\.2\.9 H +in force$'

# same hash: a no-op, no new generation, the rollback target stays
out=$("$PW" reload "${P[@]}" 2>&1); rc=$?
expect_eq "same-hash reload: exit 0" "$rc" 0
expect_match "same-hash reload: says so" "$out" '^unchanged: "H" .* generation 2 stays in force, nothing was written$'
expect_eq "same-hash reload: no new generation, target kept" "$(hj '[.[] | "\(.generation) \(.role)"] | join(",")')" \
	"1 rollback target,2 in force"
expect_eq "same-hash reload: status generation 2" "$(js .policy.generation)" 2

# show: the files exactly as compiled
expect_eq "show: the generation in force, both files" "$("$PW" show "${P[@]}")" \
	"$(printf '# ==> %s <==\n' "$F"; cat "$T/h.2"; printf '\n# ==> %s/inc.policy <==\n' "$T"; cat "$T/inc.policy")"
expect_eq "show 1: generation 1's root file" "$("$PW" show 1 "${P[@]}" | sed -n '2,5p')" "$(cat "$T/h.1")"
out=$("$PW" show 7 "${P[@]}" 2>&1); rc=$?
expect_eq "show 7: not kept, exit 1" "$rc" 1
expect_match "show 7: says so" "$out" 'generation 7 is not in the store \(`portwall history` lists the ones kept\)'

# diff, rule by rule
out=$("$PW" diff 1 2 "${P[@]}"); rc=$?
expect_eq "diff 1 2: exit 1 (they differ)" "$rc" 1
expect_eq "diff 1 2: the rules changed and added" "$out" "--- generation 1 ($F)
+++ generation 2 ($F)
~ was $F:4: allow in tcp port 22 comment \"ssh\"  # ssh
  now $F:4: allow in tcp port 2222 comment \"ssh\"  # ssh
+ $F:5: allow in tcp port 8080 comment \"new\"  # new
1 rule kept, 1 added, 0 removed, 1 changed, 0 moved"
out=$("$PW" diff "${P[@]}"); rc=$?
expect_eq "diff (in force vs its file): the same, exit 0" "$rc $(printf '%s' "$out" | tail -1)" \
	"0 3 rules kept, 0 added, 0 removed, 0 changed, 0 moved: the same policy (same hash)"
sed -i '/port 8080/d' "$F"
printf '\ndeny in tcp port 23\n' >> "$F"
out=$("$PW" diff 2 "${P[@]}"); rc=$?
expect_eq "diff 2 (vs the file on disk): exit 1" "$rc" 1
expect_eq "diff 2: the file's rule removed and added" "$(printf '%s' "$out" | sed 1,2d)" \
	"- $F:5: allow in tcp port 8080 comment \"new\"  # new
+ $F:6: deny in tcp port 23
2 rules kept, 1 added, 1 removed, 0 changed, 0 moved"

# status after the file is edited, then deleted: the rules in force, from the store
out=$("$PW" status "${P[@]}")
expect_match "status (file edited): says the rules are as applied" "$out" 'the file has changed since \(or is gone\): the rules below are as applied'
expect_eq "status (file edited): no 'rule text not shown'" "$(printf '%s' "$out" | grep -c 'rule text not shown')" 0
expect_eq "status --json (file edited): rules of generation 2" \
	"$(js '"\(.policy.rules_from) \(.policy.file_matches) " + ([.rules[] | .text] | join("|"))')" \
	"store false default|allow in tcp port 443 comment \"web\"|allow in tcp port 2222 comment \"ssh\"|allow in tcp port 8080 comment \"new\""
mv "$F" "$T/h.moved"
expect_eq "status --json (file deleted): still the rules in force" \
	"$(js '"\(.policy.rules_from) " + ([.rules[] | .text] | join("|"))')" \
	"store default|allow in tcp port 443 comment \"web\"|allow in tcp port 2222 comment \"ssh\"|allow in tcp port 8080 comment \"new\""

# rollback GENERATION: compiled from the store (the file is gone), an ordinary reload
out=$("$PW" rollback 1 "${P[@]}" 2>&1); rc=$?
expect_eq "rollback 1: exit 0" "$rc" 0
expect_match "rollback 1: a new generation 3" "$out" '^reloaded "H" .* generation 3,'
expect_eq "rollback 1: generation 1's hash in force" "$(js .policy.hash)" "$H1"
expect_eq "rollback 1: history says so; the target is what was in force" \
	"$(hj '[.[] | "\(.generation) \(.command) \(.role)"] | join(",")')" \
	"1 apply null,2 reload rollback target,3 rollback 1 in force"
expect_eq "rollback 1: port 22 is what is enforced" "$(js '[.rules[] | .text] | join("|")')" \
	"default|allow in tcp port 443 comment \"web\"|allow in tcp port 22 comment \"ssh\""
out=$("$PW" rollback 3 "${P[@]}" 2>&1); rc=$?
expect_eq "rollback to the generation in force: a no-op" "$rc $(printf '%s' "$out" | head -1 | cut -c1-10)" "0 unchanged:"
# the plain rollback: the instant swap to the other half, as before
out=$("$PW" rollback "${P[@]}" 2>&1)
expect_eq "plain rollback: back to generation 2 at once" "$out" 'rolled back to "H" (generation 2)'
expect_eq "plain rollback: no new generation" "$(hj 'length')" 3

# a pending --confirm, with its deadline
mv "$T/h.moved" "$F"
out=$("$PW" reload "${P[@]}" --confirm 60 2>&1)
expect_match "reload --confirm: generation 4" "$out" 'generation 4,'
out=$("$PW" status "${P[@]}")
expect_match "status: the pending confirm and its deadline" "$out" \
	'^  NOT CONFIRMED: run `portwall confirm` by [0-9-]+ [0-9:]+ [+-][0-9]{4} \(in (60|59|58) s\), or it goes back to the previous policy$'
expect_match "status --json: confirm_pending" "$(js '.policy.confirm_pending | "\(.seconds_left) \(.deadline_unix - now | floor)"')" '^(60|59|58) (60|59|58|57)$'
"$PW" confirm "${P[@]}" >/dev/null
expect_eq "status --json: confirmed, nothing pending" "$(js .policy.confirm_pending)" null

# the bound: the oldest go, never the one in force nor the rollback target
"$PW" rollback 1 "${P[@]}" >/dev/null 2>&1	# 5 (target 4)
printf 'allow in tcp port 9\n' >> "$F"
PORTWALL_GENERATIONS=3 "$PW" reload "${P[@]}" >/dev/null 2>&1	# 6 (target 5)
expect_eq "PORTWALL_GENERATIONS=3: three kept, in force and target among them" \
	"$(hj '[.[] | "\(.generation) \(.role)"] | join(",")')" "4 null,5 rollback target,6 in force"

# an unsafe store: refused, said; the apply itself goes on
chmod 0770 "$STORE"
out=$("$PW" history "${P[@]}" 2>&1); rc=$?
expect_eq "group-writable store: history refuses, exit 1" "$rc" 1
expect_match "group-writable store: says why and the fix" "$out" \
	"the generation store $STORE is group-writable \(mode 0770\): others could plant a generation for rollback; refused \(fix: chmod 700 $STORE\)"
out=$("$PW" rollback 5 "${P[@]}" 2>&1); rc=$?
expect_eq "group-writable store: rollback GENERATION refuses, changes nothing" "$rc $(js .policy.generation)" "1 6"
printf 'allow in tcp port 10\n' >> "$F"
out=$("$PW" reload "${P[@]}" 2>&1); rc=$?
expect_eq "group-writable store: a reload still applies" "$rc $(js .policy.generation)" "0 7"
expect_match "group-writable store: the reload warns" "$out" "warning: generation 7's files were not kept .*group-writable"
expect_eq "group-writable store: status falls back to the file" "$(js .policy.rules_from)" file
chmod 0700 "$STORE"
chown 65534 "$STORE"
out=$("$PW" show 6 "${P[@]}" 2>&1); rc=$?
expect_match "store owned by nobody: refused" "$rc $out" "^1 .*owned by uid 65534, not root"
chown root "$STORE"
mv "$STORE" "$T/real-store"; ln -s "$T/real-store" "$STORE"
out=$("$PW" show 6 "${P[@]}" 2>&1); rc=$?
expect_match "store a symbolic link: refused" "$rc $out" "^1 .*a symbolic link or no directory: refused"
rm "$STORE"; mv "$T/real-store" "$STORE"
chmod 0777 "$PORTWALL_STATE_DIR"
out=$("$PW" show 6 "${P[@]}" 2>&1); rc=$?
expect_match "world-writable state directory: refused" "$rc $out" "^1 .*is world-writable \(mode 0777\)"
chmod 0700 "$PORTWALL_STATE_DIR"
expect_eq "safe again: show 6 works" "$("$PW" show 6 "${P[@]}" 2>&1 | grep -c '^allow in tcp port 9$')" 1

# unload and apply again: a new load numbers from 1, the old one's files go
"$PW" unload "${P[@]}" >/dev/null 2>&1
"$PW" apply "$F" --iface "$VS" --netns "$S" "${P[@]}" >/dev/null 2>&1
expect_eq "a new load: its history starts again" "$(hj '[.[] | "\(.generation) \(.role)"] | join(",")')" "1 in force"

summary
