#!/usr/bin/env bash
# live.sh - live packet rates on a veth pair: portwall against the kernel's
# own firewall (nftables, iptables-nft), xdp-filter and an empty XDP drop
# program, measured back to back in each round on the same pair.
#
# Two namespaces it makes (pwl-tx, pwl-rx), one veth pair, addresses from
# 192.0.2.0/24 and 2001:db8::/64; frames come from TEST-NET sources. The
# generator (build/bench/live) transmits prebuilt frames out of the tx end
# with BPF_PROG_TEST_RUN live frames on CPU 0; the rx end runs threaded NAPI
# pinned to CPU 1, so everything the receiver does (XDP, the stack,
# netfilter) is one kernel thread's CPU time. Per configuration and case:
#   Mpps      frames the receiver processed / the generator's wall time
#   ns/pkt    the NAPI thread's CPU time / frames processed
#   lost      frames the veth ring refused (receiver too slow), in %
#   rx busy   the NAPI thread's CPU time / the generator's wall time. The
#             generator outruns the receiver when the ring loses frames; if
#             busy is then below ~95% the thread was off its CPU part of the
#             time, and only ns/pkt compares the configurations
#   prog ns   the XDP program's own run time a frame, read in a separate pass
#             with kernel.bpf_stats_enabled on (it adds two clock reads a run
#             to every program alike); the rates are measured with it off.
#             The rest of ns/pkt is veth, NAPI and (after XDP_PASS) the stack
# Medians and min-max over BENCH_ROUNDS rounds; ratios are to the empty
# drop program in the same round. A benchmark, never a test. Root.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PW=$BUILD/portwall LIVE=$BUILD/bench/live EMPTY=$BUILD/bench/empty.bpf.o GEN=$BUILD/bench/gen_scale
ROUNDS=${BENCH_ROUNDS:-3}
PACKETS=${BENCH_PACKETS:-4000000}
CONFIGS=${BENCH_CONFIGS:-"empty-drop portwall-ccp portwall-large nftables iptables xdp-filter"}
CASES=${BENCH_CASES:-"syn-denied-v4 syn-denied-v6 syn-allowed-v4 reply-v4 reply-v6"}
OUT=${BENCH_OUT:-$BUILD/bench/live-results}
TX=pwl-tx RX=pwl-rx TXIF=pwlt RXIF=pwlr PIN=/sys/fs/bpf/pwlive

[ "$(id -u)" -eq 0 ] || { echo "live.sh: needs root (namespaces, XDP)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "live.sh: needs 2 CPUs (generator and receiver on their own)" >&2; exit 1; }
for t in nft iptables ip6tables xdp-filter ethtool jq bpftool pgrep taskset nsenter; do
	command -v "$t" >/dev/null || { echo "live.sh: $t is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
mkdir -p "$OUT"
T=$(mktemp -d /tmp/pw-live-XXXXXX)

cleanup() {
	"$PW" unload --pin-root "$PIN" >/dev/null 2>&1
	ip netns del "$TX" 2>/dev/null
	ip netns del "$RX" 2>/dev/null
	rm -rf "$T" "$PIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ins() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

setup() {
	cleanup
	T=$(mktemp -d /tmp/pw-live-XXXXXX)
	ip netns add "$TX" && ip netns add "$RX" || return 1
	ip link add "$TXIF" type veth peer name "$RXIF" || return 1
	ip link set "$TXIF" netns "$TX"
	ip link set "$RXIF" netns "$RX"
	ins "$TX" ip addr add 192.0.2.1/24 dev "$TXIF"
	ins "$TX" ip addr add 2001:db8::1/64 dev "$TXIF" nodad
	ins "$RX" ip addr add 192.0.2.2/24 dev "$RXIF"
	ins "$RX" ip addr add 2001:db8::2/64 dev "$RXIF" nodad
	for ns in "$TX" "$RX"; do ins "$ns" ip link set lo up; done
	ins "$TX" ip link set "$TXIF" up
	ins "$RX" ip link set "$RXIF" up
	# the receiver answers the TEST-NET sources through the tx end
	local txmac
	txmac=$(ip -n "$TX" -j link show "$TXIF" | jq -r '.[0].address')
	ins "$RX" ip neigh replace 192.0.2.1 lladdr "$txmac" dev "$RXIF" nud permanent
	ins "$RX" ip neigh replace 2001:db8::1 lladdr "$txmac" dev "$RXIF" nud permanent
	ins "$RX" ip route add 198.51.100.0/24 via 192.0.2.1
	ins "$RX" ip route add 203.0.113.0/24 via 192.0.2.1
	ins "$RX" ip -6 route add 2001:db8:1::/48 via 2001:db8::1
	# frames sent by XDP into a veth arrive only with NAPI on the peer: GRO
	# turns it on without a program; then NAPI runs in its own thread
	ip netns exec "$RX" ethtool -K "$RXIF" gro on >/dev/null
	ip netns exec "$RX" sh -c "echo 1 > /sys/class/net/$RXIF/threaded" || return 1
	"$GEN" > "$T/scale.policy"
}

# the policy's unrestricted inbound allows, as "proto port" lines
policy_ports() {
	"$PW" check --json policies/ccp.policy |
		jq -r '.rules[] | select(.action == "allow" and .direction == "in" and .peers == null and .ports != null)
		       | . as $r | ($r.protocol | split(",")[]) as $p | select($p == "tcp" or $p == "udp")
		       | ($r.ports | split(",")[]) as $port | "\($p) \($port)"'
}

nft_ruleset() {
	local tcp udp
	tcp=$(policy_ports | awk '$1 == "tcp" { printf "%s%s", s, $2; s = ", " }')
	udp=$(policy_ports | awk '$1 == "udp" { printf "%s%s", s, $2; s = ", " }')
	cat <<-EOF
	table inet pwbench {
		set tcp_in { type inet_service; flags interval; elements = { $tcp } }
		$( [ -n "$udp" ] && echo "set udp_in { type inet_service; flags interval; elements = { $udp } }" )
		chain input {
			type filter hook input priority filter; policy drop;
			ct state established,related accept
			ct state invalid drop
			iif lo accept
			tcp dport @tcp_in accept
			$( [ -n "$udp" ] && echo "udp dport @udp_in accept" )
			meta l4proto { icmp, ipv6-icmp } accept
		}
	}
	EOF
}

iptables_rules() {
	local ipt
	for ipt in iptables ip6tables; do
		ins "$RX" "$ipt" -F INPUT
		ins "$RX" "$ipt" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
		ins "$RX" "$ipt" -A INPUT -i lo -j ACCEPT
		policy_ports | while read -r p port; do
			ins "$RX" "$ipt" -A INPUT -p "$p" --dport "${port/-/:}" -j ACCEPT
		done
		ins "$RX" "$ipt" -P INPUT DROP
	done
}

config_up() {
	case $1 in
	empty-drop) ip -n "$RX" link set "$RXIF" xdpdrv obj "$EMPTY" sec xdp ;;
	portwall-ccp) "$PW" apply policies/ccp.policy --iface "$RXIF" --netns "$RX" --pin-root "$PIN" \
			--xdp-mode native >/dev/null ;;
	portwall-large) "$PW" apply "$T/scale.policy" --iface "$RXIF" --netns "$RX" --pin-root "$PIN" \
			--xdp-mode native >/dev/null ;;
	nftables) nft_ruleset > "$T/ruleset.nft" && ins "$RX" nft -f "$T/ruleset.nft" ;;
	iptables) iptables_rules ;;
	xdp-filter)
		ins "$RX" xdp-filter load -m native -p deny -f tcp,udp,ipv4,ipv6 "$RXIF" || return 1
		policy_ports | while read -r p port; do
			# xdp-filter takes single ports
			for n in $(seq "${port%-*}" "${port#*-}"); do ins "$RX" xdp-filter port -p "$p" "$n"; done
		done
		# no connection tracking: replies pass by their source port, the
		# stateless way (DNS answers from port 53)
		ins "$RX" xdp-filter port -m src -p udp 53 ;;
	esac
}

config_down() {
	case $1 in
	empty-drop) ip -n "$RX" link set "$RXIF" xdpdrv off ;;
	portwall-*) "$PW" unload --pin-root "$PIN" >/dev/null ;;
	nftables) ins "$RX" nft delete table inet pwbench ;;
	iptables) for ipt in iptables ip6tables; do ins "$RX" "$ipt" -P INPUT ACCEPT; ins "$RX" "$ipt" -F INPUT; done ;;
	xdp-filter) ins "$RX" xdp-filter unload "$RXIF" ;;
	esac
	return 0
}

napi_pid() { pgrep -x "napi/$RXIF-[0-9]*" | head -1; }
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# frames the veth's NAPI took off its ring (rx_queue_0_xdp_packets counts
# them with or without an XDP program); the RX count if a driver has not it
rx_count() {
	local x
	x=$(ip netns exec "$RX" ethtool -S "$RXIF" | awk '/rx_queue_0_xdp_packets:/ { print $2 }')
	if [ "${x:-0}" -gt 0 ]; then echo "$x"; else
		ip -n "$RX" -s -j link show "$RXIF" | jq '.[0].stats64.rx.packets'
	fi
}

# "run_time_ns run_cnt" of the XDP program on the receiver, "0 0" if none
xdp_stats() {
	local id
	id=$(ip -n "$RX" -j -d link show "$RXIF" | jq '.[0].xdp.prog.id // empty')
	if [ -n "$id" ]; then bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
	else echo "0 0"; fi
}

# gen CASE PACKETS: the generator's "sent N ns T" line
gen() {
	"$LIVE" --tx-netns /run/netns/"$TX" --tx-if "$TXIF" --rx-netns /run/netns/"$RX" --rx-if "$RXIF" \
		--case "$1" --packets "$2" --cpu 0
}

# measure ROUND CONFIG CASE: the rate pass, bpf_stats off (its two clock
# reads a run would pull every ratio towards 1): one line to $OUT/raw.tsv
measure() {
	local pid c0 c1 r0 r1 line sent ns
	pid=$(napi_pid)
	[ -n "$pid" ] || { echo "live.sh: no NAPI thread for $RXIF" >&2; return 1; }
	taskset -pc 1 "$pid" >/dev/null
	c0=$(cpu_ns "$pid"); r0=$(rx_count)
	line=$(gen "$3" "$PACKETS") || return 1
	sleep 0.05	# let the receiver drain its ring
	c1=$(cpu_ns "$pid"); r1=$(rx_count)
	sent=$(echo "$line" | awk '{ print $2 }'); ns=$(echo "$line" | awk '{ print $4 }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$sent" "$((r1 - r0))" "$ns" "$((c1 - c0))" \
		>> "$OUT/raw.tsv"
}

# prog_ns ROUND CONFIG CASE: the XDP program's own ns a frame, in a pass of
# its own with bpf_stats on (a quarter of the frames): to $OUT/prog.tsv
prog_ns() {
	local p0 p1
	p0=$(xdp_stats)
	gen "$3" "$((PACKETS / 4))" > /dev/null || return 1
	p1=$(xdp_stats)
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$(echo "$p0 $p1" | awk '{ print ($4 > $2) ? ($3 - $1) / ($4 - $2) : 0 }')" >> "$OUT/prog.tsv"
}

setup || { echo "live.sh: setting up the namespaces failed" >&2; exit 1; }
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=0
trap 'sysctl -qw kernel.bpf_stats_enabled="$stats_was"; cleanup' EXIT
: > "$OUT/raw.tsv"; : > "$OUT/prog.tsv"
echo "# live packet rates: $PACKETS frames of 128 bytes per case, $ROUNDS rounds; $(uname -r), $(nproc) CPUs"
echo "# rates with kernel.bpf_stats_enabled=0; prog ns in a separate pass with it on"
for round in $(seq "$ROUNDS"); do
	for cfg in $CONFIGS; do
		config_up "$cfg" || { echo "live.sh: $cfg did not load" >&2; exit 1; }
		for c in $CASES; do
			measure "$round" "$cfg" "$c" || { echo "live.sh: $cfg / $c failed" >&2; exit 1; }
		done
		sysctl -qw kernel.bpf_stats_enabled=1
		for c in $CASES; do
			prog_ns "$round" "$cfg" "$c" || { echo "live.sh: $cfg / $c (prog ns) failed" >&2; exit 1; }
		done
		sysctl -qw kernel.bpf_stats_enabled=0
		config_down "$cfg"
	done
	echo "  round $round done"
done

# the table: per config and case, medians and min-max over the rounds.
# "x empty" is the ratio to the empty drop in the same round, by rate and by
# receiver CPU (empty's ns/pkt over this one's: above 1 is faster). The
# generator outran the receiver when the ring lost frames; "rx busy" (the
# NAPI thread's CPU time over the generator's wall time) then below ~95% means
# the thread was off its CPU part of the time (a loaded machine), and only
# the CPU columns compare the configurations.
awk -F'\t' -v cfgs="$CONFIGS" -v cases="$CASES" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
# the median over the rounds of this config/case against another
function vs(c, o, kk, what,   q, rd, bb) {
	q = 0
	for (rd in rounds) if ((rd, o, kk) in R && (rd, c, kk) in R) {
		if (what == "rate") bb[++q] = R[rd, c, kk] / R[rd, o, kk]
		else bb[++q] = NS[rd, o, kk] / (NS[rd, c, kk] ? NS[rd, c, kk] : 1)
	}
	return q ? sprintf("%.2f", median(bb, q)) : "-"
}
FNR == NR { P[$2, $3, ++np[$2, $3]] = $4; next }
{
	mpps = $5 / ($6 / 1e3); k = $2 SUBSEP $3; m = ++n[k]
	rate[k, m] = mpps; nsp[k, m] = $7 / ($5 ? $5 : 1); lost[k, m] = 100 * ($4 - $5) / $4
	busy[k, m] = 100 * $7 / $6
	R[$1, $2, $3] = mpps; NS[$1, $2, $3] = nsp[k, m]
	rounds[$1] = 1
}
END {
	nc = split(cfgs, C, " "); nk = split(cases, K, " ")
	printf "\n| configuration | case | Mpps median | min-max | x empty (rate) | rx busy | rx CPU ns/pkt | x empty (CPU) | prog ns | ring lost |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	for (i = 1; i <= nc; i++) for (j = 1; j <= nk; j++) {
		k = C[i] SUBSEP K[j]; m = n[k]; if (!m) continue
		lo = 1e18; hi = 0
		for (x = 1; x <= m; x++) { a[x] = rate[k, x]; if (a[x] < lo) lo = a[x]; if (a[x] > hi) hi = a[x] }
		med = median(a, m)
		for (x = 1; x <= m; x++) a[x] = nsp[k, x]
		cpu = median(a, m)
		for (x = 1; x <= m; x++) a[x] = busy[k, x]
		bz = median(a, m)
		for (x = 1; x <= m; x++) a[x] = lost[k, x]
		ls = median(a, m)
		q = np[C[i], K[j]]; for (x = 1; x <= q; x++) a[x] = P[C[i], K[j], x]
		pg = q ? median(a, q) : 0
		printf "| %s | %s | %.2f | %.2f-%.2f | %s | %.0f%% | %.0f | %s | %s | %.0f%% |\n", C[i], K[j], med, lo, hi,
			vs(C[i], "empty-drop", K[j], "rate"), bz, cpu, vs(C[i], "empty-drop", K[j], "cpu"),
			(pg > 0 ? sprintf("%.0f", pg) : "-"), ls
		printf "%s\t%s\t%.3f\t%.3f\t%.3f\n", C[i], K[j], med, lo, hi > (OUT "/summary.tsv")
	}
	# portwall against the other filters, case by case (medians of per-round ratios)
	printf "\n| case | portwall-ccp / xdp-filter (rate, CPU) | portwall-ccp / nftables (rate, CPU) | portwall-ccp / iptables (rate, CPU) |\n|---|---|---|---|\n"
	for (j = 1; j <= nk; j++)
		printf "| %s | %s, %s | %s, %s | %s, %s |\n", K[j],
			vs("portwall-ccp", "xdp-filter", K[j], "rate"), vs("portwall-ccp", "xdp-filter", K[j], "cpu"),
			vs("portwall-ccp", "nftables", K[j], "rate"), vs("portwall-ccp", "nftables", K[j], "cpu"),
			vs("portwall-ccp", "iptables", K[j], "rate"), vs("portwall-ccp", "iptables", K[j], "cpu")
}' OUT="$OUT" "$OUT/prog.tsv" "$OUT/raw.tsv"

# the plot: Mpps per configuration, one bar group per case (gnuplot)
if command -v gnuplot >/dev/null; then
	gnuplot <<-EOF 2>/dev/null && echo "plot: $OUT/live.png"
	set terminal pngcairo size 1100,560 font ",10"
	set output "$OUT/live.png"
	set title "Receive rate on one veth core, 128-byte frames ($(uname -r), $(nproc) vCPUs): median of $ROUNDS rounds"
	set ylabel "Mpps processed"
	set style data histograms
	set style histogram errorbars gap 1 lw 1
	set style fill solid 0.8 border -1
	set key outside right
	set yrange [0:*]
	set xtics rotate by -20
	plot for [c in "$CASES"] "< awk -F'\\t' -v c=" . c . " '\$2 == c' $OUT/summary.tsv" using 3:4:5:xtic(1) title c
	EOF
fi
