#!/usr/bin/env bash
# test_deb.sh - the Debian package: `make deb` builds it, lintian finds no
# error or warning, dpkg -i installs it, the installed portwall runs and
# checks every shipped policy, nothing is enabled (the defaults name no
# policy, the unit refuses to start without them and does not restart), the
# unit's sandbox stays under an exposure of 5, and dpkg --purge leaves nothing
# (the unit's events files and metrics neither).
# All of it runs in a throwaway root: a private mount namespace whose / is
# an overlay (the machine's own / the lower layer, the upper a tmpfs), so
# dpkg changes nothing of the machine; what it wrote is gone with the
# namespace. Root; about 30 s.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
if [ "$(id -u)" -ne 0 ]; then echo "test_deb: needs root, skipped"; summary; exit 0; fi

# the throwaway root: set up in a new mount namespace, then this script
# again, chrooted into it (the tree and /tmp are at the same paths there)
case ${PW_DEB_THROWAWAY:-} in
'')	out=$(unshare -m --propagation private env PW_DEB_THROWAWAY=setup bash "$0" 2>&1); rc=$?
	sum='^[0-9]+ passed, [0-9]+ failed$'
	printf '%s\n' "$out" | grep -vE "$sum"
	line=$(printf '%s\n' "$out" | grep -E "$sum" | tail -n 1)
	if [ -n "$line" ]; then
		PASSED=${line%% passed*}; FAILED=${line#*, }; FAILED=${FAILED%% failed*}
	else
		fail "throwaway root: the test inside gave no summary (exit $rc)"
	fi
	[ ! -e /etc/.pw-deb-throwaway ] && pass "throwaway root: the machine's own / was not written" ||
		{ fail "throwaway root: the machine's / was written (/etc/.pw-deb-throwaway)"; rm -f /etc/.pw-deb-throwaway; }
	summary; exit ;;
setup)	R=/mnt	# a tmpfs over it, seen by this namespace only
	if ! { mount -t tmpfs -o mode=0700 pw-deb "$R" && mkdir "$R/u" "$R/w" "$R/m" &&
		mount -t overlay pw-deb -o "lowerdir=/,upperdir=$R/u,workdir=$R/w" "$R/m"; }; then
		fail "throwaway root: the overlay over / could not be mounted"; summary; exit 1
	fi
	for d in proc sys dev run tmp; do mount --rbind "/$d" "$R/m/$d" || { fail "throwaway root: bind /$d"; summary; exit 1; }; done
	exec chroot "$R/m" env PW_DEB_THROWAWAY=in bash -c 'cd "$1" && exec bash tests/cli/test_deb.sh' _ "$PWD" ;;
esac
# in the throwaway root: what dpkg writes here lands in the tmpfs; a
# marker the real / never sees shows it
touch /etc/.pw-deb-throwaway
expect_eq "throwaway root: / is the overlay" "$(findmnt -n -o FSTYPE /)" overlay

T=$(mktemp -d /tmp/pw-deb-XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

scripts/deps.sh > /dev/null 2>&1
make -s deb DEBDIR="$T/deb" > "$T/build.log" 2>&1
rc=$?
expect_eq "make deb: exit 0" "$rc" 0
[ "$rc" -eq 0 ] || { tail -20 "$T/build.log"; summary; exit 1; }
DEB=$(ls "$T"/deb/portwall_*_*.deb 2>/dev/null | head -1)
[ -f "$DEB" ] && pass "make deb: $(basename "$DEB")" || { fail "make deb: no portwall_*.deb in $T/deb"; summary; exit 1; }

lintian --fail-on error,warning "$DEB" > "$T/lintian.log" 2>&1; rc=$?
out=$(grep -v 'running with root privileges' "$T/lintian.log")
expect_eq "lintian: no error or warning" "$rc $out" "0 "

# the package's files and the directories only it owns
mapfile -t FILES < <(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}')
OWN_DIRS=(/etc/portwall /usr/share/portwall /usr/share/doc/portwall /var/lib/portwall /var/log/portwall)
expect_match "package: /usr/sbin/portwall" "${FILES[*]}" '(^| )/usr/sbin/portwall( |$)'
expect_match "package: shipped policies in /usr/share/portwall/policies" "${FILES[*]}" '/usr/share/portwall/policies/ccp\.policy'
expect_match "package: the unit" "${FILES[*]}" '/lib/systemd/system/portwall\.service'
expect_match "package: man pages compressed" "${FILES[*]}" '/usr/share/man/man8/portwall\.8\.gz'
expect_match "package: the Prometheus alert rules" "${FILES[*]}" '/usr/share/portwall/prometheus/portwall\.rules\.yml'
expect_match "package: bash completion" "${FILES[*]}" '/usr/share/bash-completion/completions/portwall'
expect_eq "package: no policy in /etc/portwall" "$(printf '%s\n' "${FILES[@]}" | grep -c '^/etc/portwall/.*\.policy$')" 0
expect_eq "package: conffiles" "$(dpkg-deb -f "$DEB" Package >/dev/null; dpkg-deb -I "$DEB" conffiles | sort | tr '\n' ' ')" \
	"/etc/default/portwall /etc/portwall/README "

# what is there already (an earlier make install) is removed, in the
# throwaway root only, so that the purge's check below is exact
pre=()
for f in "${FILES[@]}" "${OWN_DIRS[@]}"; do [ -e "$f" ] && pre+=("$f"); done
if [ ${#pre[@]} -gt 0 ]; then
	echo "    note: present before the package, removed in the throwaway root: ${pre[*]}"
	rm -rf "${pre[@]}"
fi
dpkg --purge portwall > /dev/null 2>&1	# a package installed on the machine, in the throwaway root only

out=$(dpkg -i "$DEB" 2>&1); rc=$?
expect_eq "dpkg -i: exit 0" "$rc" 0 || echo "$out"
expect_match "installed: portwall version" "$(/usr/sbin/portwall version 2>&1)" '^portwall [0-9]'
n=0
for p in /usr/share/portwall/policies/*.policy; do
	out=$(/usr/sbin/portwall check "$p" 2>&1); rc=$?
	expect_eq "installed: portwall check $(basename "$p")" "$rc" 0 || echo "$out" | tail -3
	n=$((n + 1))
done
for p in /usr/share/portwall/policies/*.gateway; do
	out=$(/usr/sbin/portwall check "$p" 2>&1); rc=$?
	expect_eq "installed: portwall check $(basename "$p")" "$rc" 0 || echo "$out" | tail -3
done
[ "$n" -ge 6 ] && pass "installed: $n shipped policies checked" || fail "installed: only $n shipped policies"
expect_match "installed: man portwall" "$(man portwall 2>/dev/null | head -3)" 'PORTWALL\(8\)'
expect_eq "installed: unit not enabled" \
	"$(ls /etc/systemd/system/*.wants/portwall.service 2>/dev/null)" ""

# nothing enabled: the defaults name no policy and no interface
D=$(cat /etc/default/portwall)
expect_match "defaults: PORTWALL_POLICY empty" "$D" '^PORTWALL_POLICY=$'
expect_match "defaults: PORTWALL_IFACES empty" "$D" '^PORTWALL_IFACES=$'

U=/lib/systemd/system/portwall.service
expect_match "unit: exit 78 is not restarted" "$(cat "$U")" '^RestartPreventExitStatus=78$'
expect_match "unit: /var/lib/portwall writable (StateDirectory)" "$(cat "$U")" '^StateDirectory=portwall$'
if command -v systemd-analyze > /dev/null; then
	out=$(systemd-analyze verify --man=no "$U" 2>&1); rc=$?
	expect_eq "unit: systemd-analyze verify" "$rc $out" "0 "
	out=$(systemd-analyze security --offline=yes --threshold=50 "$U" 2>&1); rc=$?
	expect_eq "unit: systemd-analyze security exposure at most 5.0" "$rc" 0 || echo "$out" | tail -2
fi

# the unit's ExecStart as systemd runs it: /bin/sh -c SCRIPT with the
# variables of /etc/default/portwall in the environment, $$ read as $
script=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'\$/\1/p" "$U" | sed 's/\$\$/$/g')
expect_match "unit: ExecStart is the checking shell" "$script" 'exec /usr/sbin/portwall run'
execstart() {	# VAR=VALUE ...: run it with these defaults, portwall replaced by echo
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" \
		/bin/sh -c "${script//exec \/usr\/sbin\/portwall/exec echo \/usr\/sbin\/portwall}" 2>&1
}
# shellcheck disable=SC2046 # the defaults' lines, as EnvironmentFile reads them
out=$(execstart $(grep -E '^[A-Z_]+=' /etc/default/portwall)); rc=$?
expect_eq "unit with the shipped defaults: refuses, exit 78" "$rc" 78
expect_match "unit with the shipped defaults: says what to set" "$out" \
	'not configured: set PORTWALL_POLICY .* PORTWALL_IFACES .* in /etc/default/portwall'
out=$(execstart PORTWALL_POLICY=/etc/portwall/x.policy PORTWALL_IFACES=); rc=$?
expect_eq "unit with a policy but no interface: exit 78" "$rc" 78
out=$(execstart PORTWALL_POLICY=/etc/portwall/x.policy PORTWALL_IFACES=eth0,eth1 "PORTWALL_OPTS=--mode monitor"); rc=$?
expect_eq "unit once set: runs portwall run with them" "$rc $out" \
	"0 /usr/sbin/portwall run /etc/portwall/x.policy --iface eth0,eth1 --mode monitor"
if [ -d /run/systemd/system ]; then
	# systemd is PID 1: the real thing too
	systemctl daemon-reload
	systemctl start portwall > /dev/null 2>&1; rc=$?
	[ "$rc" -ne 0 ] && pass "systemctl start portwall: refused" || fail "systemctl start portwall: started"
	expect_match "journal: says what to set" "$(journalctl -u portwall -n 5 --no-pager 2>&1)" 'not configured: set PORTWALL_POLICY'
	sleep 3
	expect_eq "systemctl: not restarted" "$(systemctl show -p NRestarts --value portwall)" 0
	systemctl reset-failed portwall 2> /dev/null
else
	echo "    systemd is not PID 1 here ($(ps -p 1 -o comm=)): the refusal is tested through ExecStart only"
fi

# what the unit's run leaves: its events file (LogsDirectory), the metrics
mkdir -p -m 0700 /var/log/portwall /var/lib/portwall
echo '{}' > /var/log/portwall/_sys_fs_bpf_portwall.events.jsonl
echo '# metrics' > /var/lib/portwall/portwall.prom
out=$(dpkg --purge portwall 2>&1); rc=$?
expect_eq "dpkg --purge: exit 0" "$rc" 0 || echo "$out"
left=()
for f in "${FILES[@]}" "${OWN_DIRS[@]}" /etc/default/portwall /etc/portwall/README \
	/var/lib/systemd/deb-systemd-helper-enabled/portwall.service \
	/var/lib/systemd/deb-systemd-helper-masked/portwall.service; do
	[ -e "$f" ] && left+=("$f")
done
expect_eq "purge: nothing of the package left" "${left[*]}" ""
expect_eq "purge: dpkg knows no portwall" "$(dpkg-query -W -f='${Status}' portwall 2>/dev/null)" ""
summary
