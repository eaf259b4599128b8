#!/usr/bin/env bash
# test_install.sh - `make install DESTDIR=...` puts every file in place, the
# unit passes systemd-analyze verify, the man pages render, and uninstall
# removes what install put (not the operator's policies and defaults).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
D=$(mktemp -d /tmp/pw-install-XXXXXX)
trap 'rm -rf "$D"' EXIT

make -s install DESTDIR="$D" BUILD="${BUILD:-build}" > "$D.log" 2>&1
expect_eq "install: exit 0" "$?" 0
for f in usr/sbin/portwall lib/systemd/system/portwall.service etc/default/portwall \
	etc/portwall/ccp.policy etc/portwall/base.policy etc/portwall/finesse.policy \
	etc/portwall/socialminer.policy etc/portwall/engage-client.policy \
	usr/share/man/man8/portwall.8 usr/share/man/man5/portwall.policy.5 \
	usr/share/bash-completion/completions/portwall; do
	[ -f "$D/$f" ] && pass "install: $f" || fail "install: $f"
done
expect_eq "installed binary runs" "$("$D/usr/sbin/portwall" check "$D/etc/portwall/ccp.policy" > /dev/null; echo $?)" 0
if command -v systemd-analyze > /dev/null; then
	mkdir -p "$D/check"
	sed "s|/usr/sbin/portwall|$D/usr/sbin/portwall|" "$D/lib/systemd/system/portwall.service" > "$D/check/portwall.service"
	out=$(systemd-analyze verify --man=no "$D/check/portwall.service" 2>&1); rc=$?
	expect_eq "unit: systemd-analyze verify" "$rc $out" "0 "
else
	echo "    systemd-analyze is not installed: unit not verified"
fi
expect_match "unit: before the network comes up" "$(cat "$D/lib/systemd/system/portwall.service")" '^Before=network-pre\.target$'
expect_match "man page renders" "$(man -l "$D/usr/share/man/man8/portwall.8" 2>/dev/null | head -3)" 'PORTWALL\(8\)'
expect_match "completion: parses in bash" "$(bash -c ". '$D/usr/share/bash-completion/completions/portwall' && complete -p portwall")" '_portwall portwall$'
echo "# edited by the operator" >> "$D/etc/portwall/ccp.policy"
make -s uninstall DESTDIR="$D" > /dev/null 2>&1
expect_eq "uninstall: binary gone" "$([ -e "$D/usr/sbin/portwall" ] && echo there || echo gone)" gone
expect_eq "uninstall: unit gone" "$([ -e "$D/lib/systemd/system/portwall.service" ] && echo there || echo gone)" gone
expect_match "uninstall: the operator's policy stays" "$(tail -1 "$D/etc/portwall/ccp.policy")" 'edited by the operator'
rm -f "$D.log"
summary
