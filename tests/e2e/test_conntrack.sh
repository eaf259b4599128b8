#!/usr/bin/env bash
# test_conntrack.sh - connection tracking an outsider cannot steer, with
# real sockets between namespaces (root): an unprivileged user borrowing a
# listener's port, a blind RST spray at a live connection, a 4-tuple used
# twice, connections open before the first apply (adopted only when the
# policy lets them out), and an unprivileged user's UDP flood beside an
# idle TCP connection. docs/datapath.md, "Connection tracking".
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_conntrack pwk
PEER="/usr/bin/python3 tests/e2e/pwpeer.py"

e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
# the peer: a mail server on 25, push servers (speak first, after a delay)
e2e_bg "$C" "$T/cli" serve 240 25,587 udp 9999
e2e_bg "$C" "$T/push1" push 240 2626 9000 1000
# the connections open before the first apply are pushed to only once it
# is done (go-adopt), however long it takes
e2e_bg "$C" "$T/push2" push 240 2727 500 1000 "$T/go-adopt"
e2e_bg "$C" "$T/push3" push 240 2828 500 1000 "$T/go-adopt"
e2e_bg "$C" "$T/push4" push 240 2929 3000 1000
e2e_bg "$C" "$T/push5" push 240 3030 500 1000 "$T/go-adopt"
e2e_bg "$C" "$T/push6" push 240 3131 6000 1000
# the host's services; 7444 and 5353 are allowed in too, with nothing on
# them: an unprivileged user can bind them
e2e_bg "$S" "$T/srv" serve 240 7443 udp 5354
nobody() { ins "$S" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
apply() { "$PW" apply "$1" --iface "$VS" --netns "$S" --pin-root "$ROOT" "${@:2}" > "$T/apply.out" 2>&1; }

cat > "$T/k.policy" <<'EOF'
policy "conntrack"
default in drop
default out drop
allow in tcp port 7443, 7444
allow in udp port 5353, 5354
deny out tcp port 25
allow out tcp port 587, 2626, 2727, 2929, 3030, 3131
allow out udp port 53
EOF

# connections open before the first apply: one the policy lets out (2727),
# one it does not (2828), and a connected UDP socket of nobody's (9999)
ins "$S" $PEER hold 192.0.2.1 2727 41727 15 > "$T/hold-ok" 2>&1 & PIDS+=($!)
ins "$S" $PEER hold 192.0.2.1 2828 41828 15 > "$T/hold-no" 2>&1 & PIDS+=($!)
# a dual-stack socket's IPv4 connection (tcp6 lists it as ::ffff:192.0.2.1)
ins "$S" $PEER hold ::ffff:192.0.2.1 3030 41303 15 > "$T/hold-v6" 2>&1 & PIDS+=($!)
nobody $PEER udphold 41999 192.0.2.1 9998 15 > "$T/hold-udp" 2>&1 & PIDS+=($!)
for _ in $(seq 30); do [ -s "$T/hold-ok" ] && [ -s "$T/hold-no" ] && [ -s "$T/hold-udp" ] && [ -s "$T/hold-v6" ] &&
	break; sleep 0.1; done
# the smallest tables (TCP 1,024, datagrams 512, flows peers start 256), for the flood in 4
apply "$T/k.policy" --ct-timeout tcp-close=3 --ct-capacity 1024; expect_eq "apply" "$?" 0
expect_match "apply: the allowed connections adopted (one of a dual-stack socket)" "$(cat "$T/apply.out")" \
	'^adopted 2 open connections$'
expect_match "apply: the others left out, and said so" "$(cat "$T/apply.out")" \
	'^left out 2 open connections the policy does not let out'
touch "$T/go-adopt"
# the peer of the silent UDP socket speaks now: not adopted, so dropped
ins "$C" $PEER udp 9998 192.0.2.2 41999 1 >/dev/null
wait_line() { for _ in $(seq 200); do [ "$(tail -n 1 "$1")" != open ] && break; sleep 0.1; done; tail -n 1 "$1"; }
expect_eq "adopted: the allowed connection's push gets in" "$(wait_line "$T/hold-ok")" ok
expect_eq "adopted: the dual-stack socket's IPv4 connection too" "$(wait_line "$T/hold-v6")" ok
expect_eq "not adopted: the forbidden connection's push drops" "$(wait_line "$T/hold-no")" timeout
expect_eq "not adopted: nobody's connected UDP socket hears nothing" "$(wait_line "$T/hold-udp")" timeout

# 1. an unprivileged user binds a port the in rules allow and connects out
expect_eq "nobody from tcp/7444 to the denied port 25" "$(nobody $PEER connect 7444 192.0.2.1 25 2)" timeout
expect_eq "nobody from tcp/7444 to 587, which the out rules allow" "$(nobody $PEER connect 7444 192.0.2.1 587 2)" ok
expect_eq "nobody from udp/5353 to anywhere: nothing comes back" "$(nobody $PEER udp 5353 192.0.2.1 9999 2)" timeout
# the listeners themselves still answer
expect_eq "the listener on 7443 answers" "$(ins "$C" "$PROBE" tcp 192.0.2.2 7443 2000 100)" ok
expect_eq "the UDP service on 5354 answers" "$(ins "$C" "$PROBE" udpecho 192.0.2.2 5354 2000)" ok
st=$("$PW" status --json --pin-root "$ROOT")
expect_match "the borrowed-port SYN: a deny-rule drop out" "$(printf '%s' "$st" | jq -r '.reasons.out["deny-rule"].packets')" '^[1-9]'
expect_match "the service's answer: a reply of a flow the peer started" \
	"$(printf '%s' "$st" | jq -r '.reasons.out.reply.packets')" '^[1-9]'

# 2. a blind RST spray over the ephemeral range stalls nothing: the push
# comes 9 s after connecting, the spray meanwhile (tcp-close is 3 s: a
# flow the spray had marked closing would be gone by then)
ins "$S" $PEER hold 192.0.2.1 2626 45000 14 > "$T/stall" 2>&1 & PIDS+=($!)
for _ in $(seq 30); do [ -s "$T/stall" ] && break; sleep 0.1; done
expect_eq "RST spray: the connection is open" "$(head -n 1 "$T/stall")" open
before=$("$PW" status --json --pin-root "$ROOT" | jq -r '.conntrack.inbound_fin_rst_ignored')
t0=$(date +%s%N)
spray=$(ins "$C" $PEER rstspray 192.0.2.1 2626 192.0.2.2 32768 60999 2>&1)
t1=$(date +%s%N)
echo "    RST spray: $spray in $(( (t1 - t0) / 1000000 )) ms"
expect_eq "RST spray: 28232 forged RSTs and as many FINs sent" "$spray" "sent 56464"
expect_eq "RST spray: the server's data 9 s later still gets in" "$(wait_line "$T/stall")" ok
after=$("$PW" status --json --pin-root "$ROOT" | jq -r '.conntrack.inbound_fin_rst_ignored')
expect_eq "RST spray: the RST and the FIN that hit the flow were counted as ignored" "$((after - before))" 2

# 3. the same 4-tuple twice: connection 1 closed by the host (RST), then
# connection 2, whose push comes after connection 1's has timed out
expect_eq "tuple reuse: connection 2's push gets in" "$(ins "$S" $PEER reuse 192.0.2.1 2929 46000 12)" ok

# 4. an unprivileged user's UDP to 8,192 flows from each CPU (two datagrams
# each) that `allow out udp port 53` lets out, 16 times the datagram table
# a CPU, while the host holds an idle TCP connection: the flood evicts
# datagram flows only, and the server's push 6 s later gets in (with one
# table for every flow the host opened, the connection was evicted and its
# push dropped). From every CPU: the kernel's LRU keeps a new entry on its
# CPU's list until that CPU allocates again, out of reach of a flood
# from the others; an attacker floods from all.
ins "$S" ip route add 198.51.100.0/24 via 192.0.2.1
ins "$S" $PEER hold 192.0.2.1 3131 47000 14 > "$T/idle" 2>&1 & PIDS+=($!)
for _ in $(seq 30); do [ -s "$T/idle" ] && break; sleep 0.1; done
expect_eq "UDP flood: the TCP connection is open" "$(head -n 1 "$T/idle")" open
ncpu=$(nproc) flooders=()
for c in $(seq 0 $((ncpu - 1))); do
	nobody timeout 30 taskset -c "$c" $PEER udpflood 198.51.100 53 8192 > "$T/flood$c" 2>&1 & flooders+=($!)
done
wait "${flooders[@]}"
expect_eq "UDP flood: nobody sends it from each of the $ncpu CPUs" \
	"$(cat "$T"/flood* | grep -c '^sent 8192 flows$')" "$ncpu"
expect_eq "UDP flood: the idle connection's push gets in" "$(wait_line "$T/idle")" ok
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "UDP flood: no TCP flow evicted" "$(printf '%s' "$st" | jq -r .conntrack.tcp.evicted)" 0
expect_match "UDP flood: datagram flows evicted, and counted" \
	"$(printf '%s' "$st" | jq -r '.conntrack.datagram.evicted')" '^[1-9][0-9]{3,}$'
echo "    UDP flood: $(printf '%s' "$st" | jq -c '.conntrack | {tcp, datagram}')"

summary
