#!/usr/bin/env bash
# test_ansible.sh - the Ansible role (packaging/ansible) rolls a policy out
# with `ansible-playbook -c local` on this machine, to an instance of the
# test's own: a pin root of its own on a veth in namespaces it makes. A
# first rollout applies under --confirm, verifies (a ping through the new
# policy, status --json's hash) and confirms; a second changes nothing; a
# policy check --strict refuses stops before anything changes; an apply
# that fails (no such interface) fails the host and leaves the old policy
# in force and its file in place; with serial: 1 a failed first host stops
# the rollout before the second. The role runs the binary under test
# (portwall_bin) rather than installing the .deb (tests/cli/test_deb.sh
# tests the package). Policies go to a scratch directory (portwall_etc_dir),
# never /etc/portwall. Root; about 20 s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_ansible pwan
if ! command -v ansible-playbook > /dev/null; then
	fail "ansible-playbook missing (scripts/deps.sh installs ansible-core)"; summary; exit 1
fi
PWA=$(realpath "$PW")
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
ROOT2=${ROOT}b
trap '"$PW" unload --pin-root "$ROOT2" >/dev/null 2>&1; e2e_cleanup' EXIT
ETC=$T/etc
e2e_bg "$S" "$T/serve.log" serve 120 22   # the SSH port the probe reaches through each new policy
: > "$T/ansible.cfg"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOME=$T/ansible \
	ANSIBLE_LOCAL_TEMP=$T/ansible/tmp ANSIBLE_REMOTE_TMP=$T/ansible/tmp \
	ANSIBLE_ROLES_PATH=$PWD/packaging/ansible/roles ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
	ANSIBLE_CONFIG=$T/ansible.cfg ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOAD_CALLBACK_PLUGINS=0

printf 'policy "A"\ndefault in drop\nallow in tcp port 22 comment "SSH"\nallow in icmp comment "ping"\n' > "$T/A.policy"
printf 'policy "B"\ndefault in drop\nallow in tcp port 22\nallow in tcp port 22\n' > "$T/B.policy"  # a duplicate: --strict refuses
printf 'policy "D"\ndefault in drop\nallow in tcp port 443\n' > "$T/D.policy"  # locks SSH out
printf 'policy "C"\ndefault in drop\nallow in tcp port 22\nallow in tcp port 443\n' > "$T/C.policy"
hash() { "$PW" check --json "$T/$1.policy" | jq -r .hash; }
in_force() { "$PW" status --json --pin-root "$ROOT" 2>/dev/null | jq -r '[.policy.hash, .policy.file, .policy.generation] | join(" ")'; }

# play POLICY IFACE [INVENTORY]: the example playbook, variables as JSON
play() {
	jq -n --arg bin "$PWA" --arg src "$T/$1.policy" --arg etc "$ETC" --arg iface "$2" --arg inv "${3:-}" \
		--arg ns "$S" --arg probe "$(realpath "$PROBE")" --arg root "$ROOT" --arg c "$C" \
		'{portwall_bin: $bin, portwall_policy_src: $src, portwall_policy_name: "site.policy",
		  portwall_etc_dir: $etc, portwall_netns: $ns,
		  portwall_confirm_timeout: 5, portwall_reach_timeout: 5, portwall_hosts: "all", ansible_become: false,
		  portwall_verify_command: ["nsenter", ("--net=/run/netns/" + $c), "sh", "-c",
		    ("[ \"$(" + $probe + " tcp 192.0.2.2 22 1500)\" = ok ]")]}
		  + if $inv == "" then {portwall_ifaces: [$iface], portwall_pin_root: $root} else {} end' > "$T/vars.json"
	ansible-playbook -c local -i "${3:-localhost,}" -e "@$T/vars.json" packaging/ansible/site.yml > "$T/play.log" 2>&1
}
recap() { sed -n 's/^localhost *: //p' "$T/play.log" | tr -s ' '; }

# 1. a first rollout: applied, verified, confirmed
play A "$VS"; rc=$?
expect_eq "first rollout: exit 0" "$rc" 0 || tail -30 "$T/play.log"
expect_eq "first rollout: status --json shows A's hash and the placed file, generation 1" "$(in_force)" "$(hash A) $ETC/site.policy 1"
expect_match "first rollout: changed" "$(recap)" 'changed=[1-9]'
expect_match "first rollout: confirmed" "$(cat "$T/play.log")" 'TASK \[portwall : portwall confirm\]'
t_confirm=$SECONDS   # --confirm 5: an unconfirmed A would be unloaded 5 s from here
expect_eq "first rollout: the file in place is A" "$(cmp -s "$T/A.policy" "$ETC/site.policy" && echo same)" same
expect_eq "first rollout: no staged or saved file left" "$(ls -A "$ETC" | tr '\n' ' ')" "site.policy "

# 2. again: nothing changes
play A "$VS"; rc=$?
expect_eq "second rollout: exit 0" "$rc" 0 || tail -30 "$T/play.log"
expect_match "second rollout: changed=0" "$(recap)" 'ok=[0-9]+ changed=0 unreachable=0 failed=0'
expect_eq "second rollout: generation still 1" "$(in_force)" "$(hash A) $ETC/site.policy 1"

# 3. a policy check --strict refuses: nothing changes
play B "$VS"; rc=$?
expect_eq "strict refusal: the play fails" "$rc" 2
expect_match "strict refusal: at the check task" "$(cat "$T/play.log")" 'fatal: \[localhost\]: FAILED.*"--strict"'
expect_eq "strict refusal: A still in force, generation 1" "$(in_force)" "$(hash A) $ETC/site.policy 1"
expect_eq "strict refusal: A's file still in place, nothing staged left" \
	"$(cmp -s "$T/A.policy" "$ETC/site.policy" && echo same) $(ls -A "$ETC" | tr '\n' ' ')" "same site.policy "

# 4. an apply that fails (no such interface): the host fails, A stays
# (and 6 s after the first rollout: A was confirmed, its watchdog did nothing)
w=$((6 - (SECONDS - t_confirm))); [ "$w" -gt 0 ] && sleep "$w"
play C nosuchif0; rc=$?
expect_eq "failed apply: the play fails" "$rc" 2
expect_match "failed apply: says why" "$(cat "$T/play.log")" 'no interface \\"nosuchif0\\"; nothing was changed'
expect_match "failed apply: the rollout stops" "$(cat "$T/play.log")" 'the previous policy sha256:[0-9a-f]+ stays in force'
expect_eq "failed apply: A still in force, generation 1" "$(in_force)" "$(hash A) $ETC/site.policy 1"
expect_eq "failed apply: A's file back in place, nothing else left" \
	"$(cmp -s "$T/A.policy" "$ETC/site.policy" && echo same) $(ls -A "$ETC" | tr '\n' ' ')" "same site.policy "

# 5. a policy that locks the probe out: applied, the probe fails, rolled back at once
play D "$VS"; rc=$?
expect_eq "lockout: the play fails" "$rc" 2
expect_match "lockout: at the probe" "$(cat "$T/play.log")" 'TASK \[portwall : the operator.s probe\].*
fatal: \[localhost\]'
expect_match "lockout: rolled back" "$(cat "$T/play.log")" 'TASK \[portwall : go back at once.*
changed: \[localhost\]'
expect_eq "lockout: A in force again from its file" "$(in_force | cut -d' ' -f1,2)" "$(hash A) $ETC/site.policy"
expect_eq "lockout: A's file back in place" "$(cmp -s "$T/A.policy" "$ETC/site.policy" && echo same) $(ls -A "$ETC" | tr '\n' ' ')" "same site.policy "
expect_eq "lockout: SSH reaches the host again" "$(ins "$C" "$PROBE" tcp 192.0.2.2 22 1500)" ok

# 6. serial: 1, any_errors_fatal: the first host fails, the second is not touched
cat > "$T/hosts.ini" <<EOT
[all]
h1 ansible_connection=local portwall_pin_root=$ROOT portwall_ifaces='["nosuchif0"]'
h2 ansible_connection=local portwall_pin_root=$ROOT2 portwall_ifaces='["$VS"]'
EOT
play C "$VS" "$T/hosts.ini"; rc=$?
expect_eq "serial rollout: the play fails" "$rc" 2
expect_match "serial rollout: h1 failed" "$(sed -n 's/^h1 *: //p' "$T/play.log")" 'failed=1'
expect_eq "serial rollout: h2 never ran" "$(grep -c '^h2 \|\[h2\]' "$T/play.log")" 0
expect_eq "serial rollout: nothing under h2's pin root" "$([ -e "$ROOT2" ] && echo exists)" ""
expect_eq "serial rollout: A still in force" "$(in_force | cut -d' ' -f1,2)" "$(hash A) $ETC/site.policy"
summary
