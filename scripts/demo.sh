#!/usr/bin/env bash
# demo.sh - portwall on a small lab of network namespaces (root): a Cisco
# CCP host, an agent's browser, an internet attacker and a mail server on
# one virtual link. Applies policies/ccp.policy on the CCP host, runs real
# connections, shows what passed and what was dropped, the status table and
# the drop log, hot-reloads a changed policy while traffic flows, and tears
# the lab down (also on Ctrl-C). It touches no real interface: only the
# namespaces and veth pairs it makes, with documentation-range addresses.
set -u
cd "$(dirname "$0")/.."
PW=${PORTWALL:-build/portwall}
PROBE=${PWPROBE:-build/pwprobe}
POLICY=policies/ccp.policy

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the lab needs root (network namespaces, BPF); showing the verdicts only"
	"$PW" check "$POLICY"
	exit 0
fi

ID=$$
HOST=pwd-ccp$ID BR=pwd-br$ID
declare -A ADDR=([browser]=198.51.100.7 [attacker]=203.0.113.66 [mail]=198.51.100.25)
ROOT=/sys/fs/bpf/pwdemo$ID
T=$(mktemp -d /tmp/pw-demo-XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$PW" unload --pin-root "$ROOT" >/dev/null 2>&1
	for ns in "$HOST" browser$ID attacker$ID mail$ID "$BR"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, tearing the lab down"; exit 130' INT TERM
ins() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

say "Building the lab: namespaces joined by a bridge (in its own namespace)"
ip netns add "$BR"
ins "$BR" ip link add br0 type bridge
ins "$BR" ip link set br0 up
i=0
for node in "$HOST" browser$ID attacker$ID mail$ID; do
	ip netns add "$node"
	ip link add pwdv$ID$i type veth peer name pwdb$ID$i
	ip link set pwdv$ID$i netns "$node"
	ip link set pwdb$ID$i netns "$BR"
	ins "$BR" ip link set pwdb$ID$i master br0 up
	ins "$node" ip link set lo up
	ins "$node" ip link set pwdv$ID$i name eth0
	ins "$node" ip link set eth0 up
	i=$((i + 1))
done
ins "$HOST" ip addr add 192.0.2.2/24 dev eth0
ins "$HOST" ip addr add 198.51.100.2/24 dev eth0
ins "$HOST" ip addr add 203.0.113.2/24 dev eth0
ins browser$ID ip addr add ${ADDR[browser]}/24 dev eth0
ins attacker$ID ip addr add ${ADDR[attacker]}/24 dev eth0
ins mail$ID ip addr add ${ADDR[mail]}/24 dev eth0
printf '  %-14s %s\n' "CCP host" "192.0.2.2, 198.51.100.2, 203.0.113.2 (listening on the vendor ports and on 22, 23, 3389, 8080)" \
	"agent browser" "${ADDR[browser]}" "attacker" "${ADDR[attacker]}" "mail server" "${ADDR[mail]} (SMTP 25/587, IMAPS 993, and 2525)" \
	"" "(the attacker listens on 8080)"

# the CCP host listens on its vendor ports and on some it should not expose
nsenter --net=/run/netns/"$HOST" "$PROBE" serve 120 22,23,80,443,3389,5222,7071,7443,8080,8442,10443 > "$T/srv" 2>&1 &
PIDS+=($!)
nsenter --net=/run/netns/mail$ID "$PROBE" serve 120 25,587,993,2525 > "$T/mail" 2>&1 &
PIDS+=($!)
nsenter --net=/run/netns/attacker$ID "$PROBE" serve 120 8080 > "$T/att" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/srv" ] && [ -s "$T/mail" ] && [ -s "$T/att" ] && break; sleep 0.1; done

try() {	# try FROM-NS ADDR PORT WHAT
	local r
	r=$(ins "$1" "$PROBE" tcp "$2" "$3" 600 2000 2>&1)
	printf '  %-44s %s\n' "$4" "$([ "$r" = ok ] && echo "connected, data both ways" || echo "BLOCKED ($r)")"
	[ "$r" = ok ]
}

say "Before portwall: everything the host listens on is open"
try browser$ID 198.51.100.2 23 "browser -> telnet (23)"
try attacker$ID 203.0.113.2 3389 "attacker -> RDP (3389)"
try "$HOST" ${ADDR[attacker]} 8080 "CCP host -> internet tcp/8080"

say "portwall apply $POLICY (XDP on the CCP host's eth0)"
"$PW" apply "$POLICY" --iface eth0 --netns "$HOST" --pin-root "$ROOT" || exit 1
"$PW" run "$POLICY" --iface eth0 --netns "$HOST" --pin-root "$ROOT" > "$T/log" 2>&1 &
RUN=$!
PIDS+=($RUN)
for _ in $(seq 50); do grep -q '^running:' "$T/log" && break; sleep 0.1; done

say "The vendor table, with real connections"
passed=0 blocked=0
for p in 80 443 5222 7071 7443 8442; do
	try browser$ID 198.51.100.2 $p "agent browser -> tcp/$p" && passed=$((passed + 1)) || blocked=$((blocked + 1))
done
try attacker$ID 203.0.113.2 10443 "internet -> chat webhook (10443)" && passed=$((passed + 1)) || blocked=$((blocked + 1))
try browser$ID 198.51.100.2 22 "browser -> SSH (22, base.policy)" && passed=$((passed + 1)) || blocked=$((blocked + 1))
for p in 23 3389 8080; do
	try attacker$ID 203.0.113.2 $p "attacker -> tcp/$p (in no table)" && passed=$((passed + 1)) || blocked=$((blocked + 1))
done
say "Outbound (default out drop): the CCP host sends mail, replies get in; nothing else goes out"
for p in 587 993; do
	try "$HOST" ${ADDR[mail]} $p "CCP host -> mail server tcp/$p" && passed=$((passed + 1)) || blocked=$((blocked + 1))
done
try "$HOST" ${ADDR[mail]} 2525 "CCP host -> mail tcp/2525 (in no table)" && passed=$((passed + 1)) ||
	blocked=$((blocked + 1))
try "$HOST" ${ADDR[attacker]} 8080 "CCP host -> internet tcp/8080 (in no table)" && passed=$((passed + 1)) ||
	blocked=$((blocked + 1))

say "The attacker scans tcp/1-1024"
t0=$(date +%s%N)
open_ports=$(ins attacker$ID "$PROBE" scan 203.0.113.2 1 1024 800)
echo "  1024 SYNs in $(( ($(date +%s%N) - t0) / 1000000 )) ms; answered: ${open_ports:-none} (the host listens on 22 23 80 443 3389)"

say "Hot reload while a transfer runs: a new policy without 8442"
sed '/port 8442/d' "$POLICY" > "$T/ccp-edited.policy"
cp policies/base.policy "$T/"
nsenter --net=/run/netns/browser$ID "$PROBE" stream 198.51.100.2 443 4 > "$T/stream" 2>&1 &
ST=$!
sleep 1
"$PW" apply "$T/ccp-edited.policy" --iface eth0 --netns "$HOST" --pin-root "$ROOT"
wait $ST
read -r _ sent _ got _ errs < "$T/stream"
echo "  transfer on 443 during the reload: $sent bytes sent, $got echoed back, $errs errors"
try browser$ID 198.51.100.2 8442 "browser -> tcp/8442 after the reload"

say "portwall status"
"$PW" status --pin-root "$ROOT"

say "The drop log (portwall run), last lines"
sleep 1
grep -v '^running:\|^reloading\|^reloaded\|^unchanged\|^applied\|^  eth0' "$T/log" | tail -6

say "Summary"
echo "  vendor-table and probe connections: $passed connected, $blocked blocked (as the policy says)"
echo "  transfer across the hot reload: $([ "$got" = "$sent" ] && [ "$errs" = 0 ] && echo "no byte lost" || echo "LOSS")"
say "Tearing the lab down"
