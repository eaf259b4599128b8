#!/usr/bin/env bash
# demo.sh - what portwall does with the shipped Cisco CCP policy: the rule
# table, the compiled maps, and the verdicts for the vendor's port table.
set -euo pipefail
cd "$(dirname "$0")/.."
PW=build/portwall
POLICY=policies/ccp.policy

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "portwall check $POLICY"
"$PW" check "$POLICY"

say "The vendor table, packet by packet (portwall explain, from the compiled maps)"
while read -r dir proto peer port what; do
	printf '%-44s ' "$what"
	"$PW" explain "$POLICY" "$dir" "$proto" "$peer" $port
done <<'ROWS'
in  tcp 198.51.100.7   443   browser to the CCP UI (HTTPS)
in  tcp 198.51.100.7   7443  agent desktop, secure BOSH
in  tcp 203.0.113.9    10443 chat gateway webhook
in  tcp 198.51.100.10  38001 CCE MR PG, media routing
in  tcp 198.51.100.66  38001 a stranger on the MR port
out tcp 198.51.100.25  587   Email Reply API to the mail server
in  tcp 198.51.100.25  587   the mail server connecting back in
in  tcp 203.0.113.66   3389  an attacker trying RDP
in  tcp 203.0.113.66   23    an attacker trying telnet
in  udp 203.0.113.66   161   an attacker trying SNMP
in  icmp 198.51.100.7  echo-request   ping
in  icmpv6 fe80::1     neighbor-solicitation   IPv6 neighbor discovery
ROWS

if [ "$(id -u)" -eq 0 ]; then
	say "The same traffic through the real XDP and tc programs (portwall test, BPF_PROG_TEST_RUN)"
	script=$(mktemp /tmp/pw-demo-XXXXXX)
	trap 'rm -f "$script"' EXIT
	cat > "$script" <<'PKTS'
in  tcp 198.51.100.7:51000 192.0.2.2:443 syn
in  tcp 198.51.100.7:51000 192.0.2.2:7443 syn
in  tcp 203.0.113.9:40000 192.0.2.2:10443 syn
in  tcp 198.51.100.10:40000 192.0.2.2:38001 syn
in  tcp 198.51.100.66:40000 192.0.2.2:38001 syn
out tcp 192.0.2.2:41000 198.51.100.25:587 syn
in  tcp 198.51.100.25:587 192.0.2.2:41000 syn,ack
in  tcp 198.51.100.25:40000 192.0.2.2:587 syn
in  tcp 203.0.113.66:40000 192.0.2.2:3389 syn
in  tcp 203.0.113.66:40000 192.0.2.2:23 syn vlan 7
in  udp 203.0.113.66:40000 192.0.2.2:161
in  tcp 203.0.113.66:40000 192.0.2.2:443 syn vlan 1 vlan 2 vlan 3
in  icmp 198.51.100.7 192.0.2.2 icmp-type echo-request
in  icmpv6 fe80::1 fe80::2 icmp-type neighbor-solicitation
PKTS
	"$PW" test "$POLICY" -f "$script"
else
	say "(run as root to send the same traffic through the real XDP and tc programs)"
fi

say "Where to go next"
cat <<'TXT'
  docs/policy.md      the policy language, semantics and compiled form
  policies/           CCP, Finesse, SocialMiner, ENGAGE client, base
  docs/datapath.md    the BPF programs, connection tracking, counters, portwall test
  make test           every test (parser, compiler, shipped policies, kernel programs, CLI)
  make bench          ns/packet of the XDP program against an empty one (root)
TXT
