#!/usr/bin/env bash
# test_reload_load.sh - hot reload under load (root): a long TCP stream and
# a UDP flow on allowed ports run while the policy is re-applied 100 times,
# alternating between two versions that both allow them. Zero bytes lost,
# zero errors, zero drops counted; the port the second version removes
# stops passing. Also prints how long each reload took (never asserted).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_reload_load pwl
RELOADS=${RELOADS:-100}

e2e_hosts "192.0.2.2/24" "192.0.2.1/24"

cat > "$T/a.policy" <<'P'
policy "load A"
allow in tcp port 443      comment "the stream"
allow in udp port 5060     comment "the flow"
allow in tcp port 8442     comment "only in A"
P
cat > "$T/b.policy" <<'P'
policy "load B"
allow in udp port 5060     comment "the flow"
allow in tcp port 443      comment "the stream"
allow in tcp port 9000     comment "only in B"
P
e2e_bg "$S" "$T/srv" serve 120 443,8442,9000 udp 5060

"$PW" apply "$T/a.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" > /dev/null || fail "first apply"
expect_eq "A allows 8442" "$(ins "$C" "$PROBE" tcp 192.0.2.2 8442 2000 1000)" ok

nsenter --net=/run/netns/"$C" "$PROBE" stream 192.0.2.2 443 20 > "$T/stream" 2>&1 &
SP=$!
nsenter --net=/run/netns/"$C" "$PROBE" udpflow 192.0.2.2 5060 1500 12 > "$T/udp" 2>&1 &
UP=$!
PIDS+=($SP $UP)
sleep 0.5
times=()
fails=0
for i in $(seq "$RELOADS"); do
	p=$T/b.policy; [ $((i % 2)) -eq 0 ] && p=$T/a.policy
	t0=$(date +%s%N)
	"$PW" apply "$p" --iface "$VS" --netns "$S" --pin-root "$ROOT" > /dev/null 2>&1 || fails=$((fails + 1))
	times+=($(( ($(date +%s%N) - t0) / 1000000 )))
done
wait "$SP" "$UP"
expect_eq "$RELOADS reloads all succeeded" "$fails" 0
expect_eq "generation after $RELOADS reloads" "$("$PW" status --json --pin-root "$ROOT" | jq .policy.generation)" $((RELOADS + 1))
read -r _ sent _ got _ errs < "$T/stream"
expect_eq "TCP stream: every byte back, no error" "$got $errs" "$sent 0"
read -r _ usent _ ugot < "$T/udp"
expect_eq "UDP flow: every datagram back" "$ugot" "$usent"
st=$("$PW" status --json --pin-root "$ROOT")
expect_eq "no drop counted on in tcp/443 or udp/5060" \
	"$(printf '%s' "$st" | jq '[.top_drops[] | select(.port == "in tcp/443" or .port == "in udp/5060")] | length')" 0
# what else dropped: only the link's own chatter (IPv6 MLD reports), never TCP/UDP
expect_eq "no TCP or UDP drop at all, either way" \
	"$(printf '%s' "$st" | jq '[.top_drops[] | select(.port | test("(tcp|udp)/"))] | length')" 0
echo "    other drops: $(printf '%s' "$st" | jq -c '[.top_drops[] | "\(.port)=\(.packets)"]')"
expect_match "the stream's rule counted it across reloads" \
	"$(printf '%s' "$st" | jq -r '.rules[] | select(.comment == "the stream") | .in.packets')" '^[0-9]{3,}$'
# the last reload applied B (RELOADS is even: A, then B ... ends on A) - check by name
last=$("$PW" status --json --pin-root "$ROOT" | jq -r .policy.name)
if [ "$last" = "load B" ]; then gone=8442; else gone=9000; fi
expect_eq "the port the last version ($last) lacks stops passing" "$(ins "$C" "$PROBE" tcp 192.0.2.2 $gone 700)" timeout

sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "    reload time over $RELOADS reloads (apply start to exit, ms): median $(echo "$sorted" | sed -n "$((RELOADS / 2))p"), min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1)"
echo "    TCP stream: $sent bytes echoed; UDP: $ugot of $usent datagrams"
summary
