#!/usr/bin/env bash
# test_install.sh - `make install DESTDIR=...` puts every file in place, the
# unit passes systemd-analyze verify, the defaults name no policy, the man
# pages render, every directory run writes by default is writable under the
# unit's ProtectSystem=strict, uninstall removes what install put (not the operator's files),
# and PREFIX=/usr/local puts the unit under /usr/local, not /lib.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
D=$(mktemp -d /tmp/pw-install-XXXXXX)
trap 'rm -rf "$D"' EXIT

make -s install DESTDIR="$D" BUILD="${BUILD:-build}" > "$D.log" 2>&1
expect_eq "install: exit 0" "$?" 0
for f in usr/sbin/portwall lib/systemd/system/portwall.service etc/default/portwall \
	etc/portwall/README usr/share/portwall/policies/ccp.policy usr/share/portwall/policies/base.policy \
	usr/share/portwall/policies/finesse.policy usr/share/portwall/policies/socialminer.policy \
	usr/share/portwall/policies/engage-client.policy usr/share/portwall/policies/engage-client-permissive.policy \
	usr/share/portwall/policies/contact-center.gateway \
	usr/share/man/man8/portwall.8 usr/share/man/man5/portwall.policy.5 \
	usr/share/bash-completion/completions/portwall usr/share/portwall/prometheus/portwall.rules.yml; do
	[ -f "$D/$f" ] && pass "install: $f" || fail "install: $f"
done
expect_eq "installed binary runs" "$("$D/usr/sbin/portwall" check "$D/usr/share/portwall/policies/ccp.policy" > /dev/null; echo $?)" 0
expect_eq "installed example gateway checks (its policies beside it)" \
	"$("$D/usr/sbin/portwall" check "$D/usr/share/portwall/policies/contact-center.gateway" > /dev/null; echo $?)" 0
expect_eq "no policy in /etc/portwall (nothing enabled)" "$(ls "$D/etc/portwall")" README
expect_match "defaults: PORTWALL_POLICY empty" "$(cat "$D/etc/default/portwall")" '^PORTWALL_POLICY=$'
expect_match "defaults: PORTWALL_IFACES empty" "$(cat "$D/etc/default/portwall")" '^PORTWALL_IFACES=$'
if command -v systemd-analyze > /dev/null; then
	mkdir -p "$D/check"
	sed "s|/usr/sbin/portwall|$D/usr/sbin/portwall|" "$D/lib/systemd/system/portwall.service" > "$D/check/portwall.service"
	out=$(systemd-analyze verify --man=no "$D/check/portwall.service" 2>&1); rc=$?
	expect_eq "unit: systemd-analyze verify" "$rc $out" "0 "
else
	echo "    systemd-analyze is not installed: unit not verified"
fi
# ProtectSystem=strict makes the file system read-only but for what the unit
# names: every directory run writes by default must be one of them (the
# events file's, from run --help; the pins, locks, store and metrics)
U=$D/lib/systemd/system/portwall.service
writable=$(awk -F= '/^ReadWritePaths=/ { n = split($2, p, " "); for (i = 1; i <= n; i++) print p[i] }
	/^RuntimeDirectory=/ { print "/run/" $2 } /^StateDirectory=/ { print "/var/lib/" $2 }
	/^LogsDirectory=/ { print "/var/log/" $2 }' "$U")
events_dir=$("$D/usr/sbin/portwall" run --help | grep -o '/var/log/[a-z]*/<pin root>' | sed 's|/<pin root>||')
expect_eq "unit: the events file's directory from run --help" "$events_dir" /var/log/portwall
for p in /sys/fs/bpf /run/portwall /var/lib/portwall "$events_dir"; do
	printf '%s\n' "$writable" | grep -qxF "$p" && pass "unit: run may write $p" ||
		fail "unit: run may write $p (not in ReadWritePaths, RuntimeDirectory, StateDirectory, LogsDirectory)" "$writable"
done
expect_match "unit: the logs directory root's only" "$(cat "$U")" '^LogsDirectoryMode=0700$'
expect_match "unit: before the network comes up" "$(cat "$D/lib/systemd/system/portwall.service")" '^Before=network-pre\.target$'
expect_match "man page renders" "$(man -l "$D/usr/share/man/man8/portwall.8" 2>/dev/null | head -3)" 'PORTWALL\(8\)'
expect_match "completion: parses in bash" "$(bash -c ". '$D/usr/share/bash-completion/completions/portwall' && complete -p portwall")" '_portwall portwall$'
cp "$D/usr/share/portwall/policies/ccp.policy" "$D/etc/portwall/ccp.policy"
echo "# edited by the operator" >> "$D/etc/portwall/ccp.policy"
make -s uninstall DESTDIR="$D" > /dev/null 2>&1
expect_eq "uninstall: binary gone" "$([ -e "$D/usr/sbin/portwall" ] && echo there || echo gone)" gone
expect_eq "uninstall: unit gone" "$([ -e "$D/lib/systemd/system/portwall.service" ] && echo there || echo gone)" gone
expect_eq "uninstall: shipped policies gone" "$([ -e "$D/usr/share/portwall" ] && echo there || echo gone)" gone
expect_match "uninstall: the operator's policy stays" "$(tail -1 "$D/etc/portwall/ccp.policy")" 'edited by the operator'
L=$D/local
make -s install DESTDIR="$L" PREFIX=/usr/local BUILD="${BUILD:-build}" > "$D.log" 2>&1
expect_eq "PREFIX=/usr/local: exit 0" "$?" 0
[ -f "$L/usr/local/lib/systemd/system/portwall.service" ] && pass "PREFIX=/usr/local: unit in /usr/local/lib/systemd/system" \
	|| fail "PREFIX=/usr/local: unit in /usr/local/lib/systemd/system"
expect_eq "PREFIX=/usr/local: nothing in /lib" "$([ -e "$L/lib" ] && echo there || echo none)" none
expect_match "PREFIX=/usr/local: unit runs /usr/local/sbin/portwall" "$(cat "$L/usr/local/lib/systemd/system/portwall.service")" \
	'exec /usr/local/sbin/portwall run'
expect_match "PREFIX=/usr/local: defaults point at its policies" "$(cat "$L/etc/default/portwall")" '/usr/local/share/portwall/policies'
rm -f "$D.log"
summary
