#!/usr/bin/env bash
# test_l3.sh - devices without a link-layer header (root): a TUN device in
# a namespace, a peer that writes raw IP into it and reads what the host
# answers (tests/e2e/pwtun.py), a real listener behind it. Before the L3
# programs, apply attached the Ethernet programs there and every packet
# passed as non-ip (issue 12, item 4). Then every link type this kernel
# can give a device: those portwall enforces on get the L3 programs and a
# traffic check, the rest are refused with nothing attached.
# docs/datapath.md, "Link types".
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_l3 pwl
TUN="/usr/bin/python3 tests/e2e/pwtun.py"
D=pwlt$$		# the TUN device (15 bytes at most)

if ! ip netns add "$S"; then fail "netns setup"; summary; exit 1; fi
ins "$S" ip link set lo up
# mktun DEV HOST PEER [ARPHRD]: a persistent TUN device in S, up, the
# host's IPv4 address HOST on it, a route to PEER (the fd's writer)
mktun() {
	local dev=$1
	[ "$(ins "$S" $TUN create "$dev" tun ${4:+"$4"})" = created ] || return 1
	ins "$S" ip addr add "$2" peer "$3" dev "$dev" && ins "$S" ip link set "$dev" up
}
deltun() { ins "$S" ip link del "$1" 2>/dev/null; }
syn() { ins "$S" $TUN syn "$1" "$2" "$3" "$4" 2; }		# DEV PEER HOST PORT
egress() { ins "$S" $TUN egress "$1" "$2" "$3" 2; }		# DEV DST PORT
apply() { "$PW" apply "$T/l3.policy" --iface "$1" --netns "$S" --pin-root "$ROOT" "${@:2}" > "$T/apply.out" 2>&1; }
unload() { "$PW" unload --pin-root "$ROOT" > /dev/null 2>&1; }
reason() { "$PW" status --json --pin-root "$ROOT" | jq ".reasons.$1[\"$2\"].packets"; }

cat > "$T/l3.policy" <<'EOF'
policy "l3"
default in drop
default out drop
allow in tcp port 7443
allow out tcp port 587
EOF

mktun "$D" 192.0.2.2 192.0.2.1 || { fail "creating a TUN device"; summary; exit 1; }
ins "$S" ip -6 addr add 2001:db8::2/128 dev "$D" nodad
ins "$S" ip -6 route add 2001:db8::1/128 dev "$D"
# the host's listeners: 7443 is allowed in, 7444 is not (but listens)
e2e_bg "$S" "$T/srv" serve 240 7443,7444

# --- without portwall: both ports answer, both connects go out -------------
expect_eq "no portwall: 7443 answers" "$(syn "$D" 192.0.2.1 192.0.2.2 7443)" synack
expect_eq "no portwall: 7444 answers" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" synack
expect_eq "no portwall: 7444 answers (IPv6)" "$(syn "$D" 2001:db8::1 2001:db8::2 7444)" synack
expect_eq "no portwall: a connect to 25 goes out" "$(egress "$D" 192.0.2.1 25)" seen

# --- a TUN device: the L3 programs, in generic mode -------------------------
apply "$D"
expect_eq "tun: apply succeeds" "$?" 0
expect_match "tun: apply names the l3 programs" "$(cat "$T/apply.out")" "$D: XDP generic, tc egress \(attached now\), l3 programs"
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "tun: status says l3, attached" \
	"$(printf '%s' "$st" | jq -r '.interfaces[0] | "\(.link) \(.xdp_mode) \(.xdp_attached) \(.tc_attached)"')" "l3 generic true true"
expect_match "tun: status text names the programs" "$("$PW" status --pin-root "$ROOT")" \
	"$D +XDP generic attached, tc egress attached, l3 programs"
expect_eq "tun: allowed 7443 answers (IPv4)" "$(syn "$D" 192.0.2.1 192.0.2.2 7443)" synack
expect_eq "tun: 7444 gets nothing (IPv4)" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" none
expect_eq "tun: allowed 7443 answers (IPv6)" "$(syn "$D" 2001:db8::1 2001:db8::2 7443)" synack
expect_eq "tun: 7444 gets nothing (IPv6)" "$(syn "$D" 2001:db8::1 2001:db8::2 7444)" none
expect_eq "tun: a connect to 587 goes out" "$(egress "$D" 192.0.2.1 587)" seen
expect_eq "tun: a connect to 25 does not (IPv4)" "$(egress "$D" 192.0.2.1 25)" none
expect_eq "tun: a connect to 25 does not (IPv6)" "$(egress "$D" 2001:db8::1 25)" none
expect_match "tun: the drops are counted as default" "$(reason in default)" '^[1-9]'
expect_eq "tun: nothing counted non-ip" "$(reason in non-ip) $(reason out non-ip)" "0 0"
# not IP (version 5): malformed, not non-ip
m0=$(reason in malformed)
ins "$S" $TUN raw "$D" 55000028000100004006000001c0000202c0000202 > /dev/null
expect_eq "tun: a version-5 packet is malformed" "$(reason in malformed)" "$((m0 + 1))"
# a reload keeps the L3 programs
"$PW" apply "$T/l3.policy" --netns "$S" --pin-root "$ROOT" --iface "$D" > "$T/reload.out" 2>&1
expect_match "tun: reload keeps them" "$("$PW" status --json --pin-root "$ROOT" | jq -r '.interfaces[0].link')" '^l3$'
expect_eq "tun: 7444 still nothing after reload" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" none
unload
expect_eq "tun: unload leaves no pins" "$(ls "$ROOT" 2>/dev/null | wc -l)" 0
expect_eq "tun: unload takes XDP off" "$(ins "$S" ip -d link show "$D" | grep -c xdp)" 0
expect_eq "tun: unloaded, 7444 answers again" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" synack
# --- the L3 programs come with the first interface that needs them --------
# a first apply on Ethernet alone verifies none; a reload that adds the
# tun device loads them onto the maps in force and pins them
V=pwlv$$
ins "$S" ip link add "$V" type veth peer name "${V}p" && ins "$S" ip link set "$V" up &&
	ins "$S" ip link set "${V}p" up || fail "a veth pair beside the tun device"
apply "$V"
expect_eq "ethernet first: apply succeeds" "$?" 0
expect_eq "ethernet first: no L3 program pinned" "$(ls "$ROOT" | grep -c '_l3$')" 0
expect_eq "ethernet first: 7444 still answers on the tun device" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" synack
apply "$V,$D"
expect_eq "tun added by a reload: apply succeeds" "$?" 0
expect_match "tun added by a reload: with the l3 programs" "$(cat "$T/apply.out")" "$D: XDP generic.*l3 programs"
expect_eq "tun added by a reload: both L3 programs pinned" "$(ls "$ROOT" | grep '_l3$' | tr '\n' ' ')" \
	"prog_egress_l3 prog_ingress_l3 "
expect_eq "tun added by a reload: the same generation (same policy), two interfaces" \
	"$("$PW" status --json --pin-root "$ROOT" | jq -r '"\(.policy.generation) \(.interfaces | length)"')" "1 2"
expect_eq "tun added by a reload: allowed 7443 answers" "$(syn "$D" 192.0.2.1 192.0.2.2 7443)" synack
expect_eq "tun added by a reload: 7444 gets nothing" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" none
expect_eq "tun added by a reload: a connect to 25 does not go out" "$(egress "$D" 192.0.2.1 25)" none
# the L3 programs count into the same maps as the Ethernet ones
expect_match "tun added by a reload: its drops in the shared counters" "$(reason in default)" '^[1-9]'
unload
expect_eq "tun added by a reload: unload leaves no pins" "$(ls "$ROOT" 2>/dev/null | wc -l)" 0
expect_eq "tun added by a reload: unloaded, 7444 answers again" "$(syn "$D" 192.0.2.1 192.0.2.2 7444)" synack
ins "$S" ip link del "$V" 2>/dev/null

# native XDP on a tun device never sees a tun packet: refused
apply "$D" --xdp-mode native
expect_eq "tun: --xdp-mode native fails" "$?" 1
expect_match "tun: --xdp-mode native is refused, saying why" "$(cat "$T/apply.out")" \
	"$D has no link-layer header: XDP runs there in generic mode only.*nothing was changed"
expect_eq "tun: nothing pinned after the refusal" "$(ls "$ROOT" 2>/dev/null | wc -l)" 0

# --- every other link type: TUNSETLINK gives the tun device the type --------
# the tun driver still hands the packet over from its IP header, as ppp
# and rawip drivers do: a real traffic check of what the loader chose
exercised="none(tun)"
n=0
for t in ppp:512 rawip:519; do
	name=${t%%:*} type=${t#*:} dev=pwl${type}x$$ n=$((n + 1))
	host=203.0.113.$((n * 2)) peer=203.0.113.$((n * 2 + 1))	# a route of its own
	if ! mktun "$dev" "$host" "$peer" "$type"; then fail "$name: a tun device of link type $type"; deltun "$dev"; continue; fi
	expect_eq "$name ($type): without portwall 7444 answers" "$(syn "$dev" "$peer" "$host" 7444)" synack
	apply "$dev"
	expect_eq "$name ($type): apply succeeds" "$?" 0
	expect_match "$name ($type): with the l3 programs" "$(cat "$T/apply.out")" "$dev: XDP generic.*l3 programs"
	expect_eq "$name ($type): allowed 7443 answers" "$(syn "$dev" "$peer" "$host" 7443)" synack
	expect_eq "$name ($type): 7444 gets nothing" "$(syn "$dev" "$peer" "$host" 7444)" none
	expect_eq "$name ($type): a connect to 587 goes out" "$(egress "$dev" "$peer" 587)" seen
	expect_eq "$name ($type): a connect to 25 does not" "$(egress "$dev" "$peer" 25)" none
	unload
	deltun "$dev"
	exercised="$exercised $name"
done
# refused: IP tunnels (whose generic XDP may see the outer headers) and
# types that carry neither Ethernet nor IP; nothing attached, nothing pinned
for t in ipip:768 ip6tnl:769 sit:776 gre:778 ip6gre:823 infiniband:32 can:280 ieee80211-radiotap:803 void:65535; do
	name=${t%%:*} type=${t#*:} dev=pwl${type}x$$
	if ! mktun "$dev" 198.51.100.2 198.51.100.1 "$type"; then
		fail "$name: a tun device of link type $type"; deltun "$dev"; continue
	fi
	apply "$dev"
	expect_eq "$name ($type): apply fails" "$?" 1
	expect_match "$name ($type): refused, naming the device and its type" "$(cat "$T/apply.out")" \
		"^portwall apply: $dev has link type $type, .*nothing was changed"
	expect_eq "$name ($type): nothing attached or pinned" \
		"$(ins "$S" ip -d link show "$dev" | grep -c xdp) $(ls "$ROOT" 2>/dev/null | wc -l)" "0 0"
	unload
	deltun "$dev"
	exercised="$exercised !$name"
done
# Ethernet-like: a tap device and loopback keep the Ethernet programs
[ "$(ins "$S" $TUN create pwltap$$ tap)" = created ] && ins "$S" ip link set pwltap$$ up
apply pwltap$$
expect_match "tap: the ethernet programs" "$(cat "$T/apply.out")" "pwltap$$: XDP .*ethernet programs"
unload
apply lo
expect_match "loopback: the ethernet programs" "$(cat "$T/apply.out")" "lo: XDP .*ethernet programs"
unload
deltun pwltap$$

# --- the kernel's own tunnel devices, where this kernel has the modules -----
for k in ipip sit gre ip6tnl ip6gre wireguard; do
	dev=pwlk${k:0:3}$$
	if ! ins "$S" ip link add "$dev" type "$k" > /dev/null 2>&1; then
		echo "     ($k: this kernel cannot create it, not exercised)"
		continue
	fi
	ins "$S" ip link set "$dev" up
	apply "$dev"
	if [ "$k" = wireguard ]; then
		expect_match "$k: applied with the l3 programs" "$(cat "$T/apply.out")" "$dev: XDP generic.*l3 programs"
	else
		expect_match "$k: refused" "$(cat "$T/apply.out")" "$dev has link type"
	fi
	unload
	ins "$S" ip link del "$dev"
	exercised="$exercised $k"
done
echo "     link types exercised: $exercised (! = refused)"

summary
