#!/usr/bin/env bash
# test_metrics.sh - `portwall run` metrics (root): the labels every sample
# carries (host, pin_root, policy), rule labels that survive moving a rule,
# the reload and host-name metrics the shipped alert rules use, and
# `--metrics-listen ADDR:PORT` serving the same text as the file on the
# loopback of a namespace the test makes (404 elsewhere, GET and HEAD only,
# a bad or busy address refused with nothing changed).
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/e2e/netns.sh
e2e_setup test_metrics pwx
# the refused runs below take a pin root of their own: its lock files go too
trap 'e2e_cleanup; rm -f /run/portwall/$(printf "%s" "$ROOT"x | tr / _).*' EXIT
e2e_hosts "192.0.2.2/24" "192.0.2.1/24"
e2e_bg "$S" "$T/srv" serve 120 443,23
probe() { ins "$C" "$PROBE" tcp "$@" 2>&1; }
ADDR=127.0.0.1:19469
# GET (or METHOD) URL PATH inside the server's namespace: "STATUS CONTENT-TYPE" then the body
fetch() {
	ins "$S" python3 - "$ADDR" "$1" "${2:-GET}" <<'PY'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], timeout=3)
c.request(sys.argv[3], sys.argv[2], body=b"x=1" if sys.argv[3] == "POST" else None)
r = c.getresponse()
b = r.read().decode()
print(r.status, r.getheader("Content-Type"), r.getheader("Allow") or "-")
sys.stdout.write(b)
PY
}
# keys FILE: "KEY COMMENT" of each rule's inbound packets, sorted
keys() { sed -n 's/^portwall_rule_packets_total{.*,rule="\([^"]*\)",direction="in",comment="\([^"]*\)"} .*/\1 \2/p' "$1" | sort; }
series() { grep -v '^#' | sed 's/ [0-9]*$//' | sort; }

cat > "$T/p.policy" <<'P'
policy "metrics test"
resolver 192.0.2.53
default in drop
allow in tcp port 443 from 198.51.100.7 comment "web"
allow in  tcp  port 8443   comment "web"
allow out tcp port 443 to nothing.example.invalid
P
# nsenter itself (not the ins function): $! is run, which cleanup stops
nsenter --net=/run/netns/"$S" "$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT" --resolve-timeout 0 \
	--metrics-file "$T/m.prom" --metrics-listen "$ADDR" > "$T/run.log" 2>&1 &
PIDS+=($!)
wait_for "$T/run.log" '^running:' && pass "run --metrics-listen: started" || fail "run --metrics-listen: started" "$(cat "$T/run.log")"
expect_eq "a drop on 443 (opened for another peer)" "$(probe 192.0.2.2 443 700)" timeout
expect_eq "a drop on 23" "$(probe 192.0.2.2 23 700)" timeout
wait_for "$T/m.prom" 'port="23"' || fail "metrics: the drops written" "$(cat "$T/m.prom" 2>/dev/null | head)"

# every sample: host, pin_root, policy first
B="host=\"$(hostname)\",pin_root=\"${ROOT##*/}\",policy=\"metrics test\""
expect_eq "metrics: every sample has host, pin_root and policy" \
	"$(grep -v '^#' "$T/m.prom" | grep -cvF "{$B")" 0
expect_match "metrics: a drop on a port a rule opens says opened=\"true\"" "$(cat "$T/m.prom")" \
	"^portwall_port_drops_total\{$B,direction=\"in\",protocol=\"tcp\",port=\"443\",opened=\"true\"\} [1-9]"
expect_match "metrics: a drop on a port no rule opens says opened=\"false\"" "$(cat "$T/m.prom")" \
	"^portwall_port_drops_total\{$B,direction=\"in\",protocol=\"tcp\",port=\"23\",opened=\"false\"\} [1-9]"
keys "$T/m.prom" > "$T/keys1"
expect_eq "metrics: each rule a 12-hex key, two with the same comment apart" \
	"$(grep -cE '^[0-9a-f]{12} web$' "$T/keys1") $(cut -d' ' -f1 "$T/keys1" | sort -u | wc -l)" "2 4"
expect_eq "metrics: no file:line label" "$(grep -c 'location=\|p\.policy:' "$T/m.prom")" 0
expect_eq "metrics: the default's key" "$(grep -c "^portwall_rule_packets_total{$B,rule=\"default\",direction=\"in\",comment=\"\"} [1-9]" "$T/m.prom")" 1
expect_match "metrics: a name with no address" "$(cat "$T/m.prom")" \
	"^portwall_dns_name_addresses\{$B,name=\"nothing\.example\.invalid\",wildcard=\"false\"\} 0$"
expect_match "metrics: the start counts as a reload that worked" "$(cat "$T/m.prom")" "^portwall_reload_last_success\{$B\} 1$"

# the HTTP endpoint: the same text as the file (a write may fall between: three tries)
same=no
for _ in 1 2 3; do
	body=$(fetch /metrics | tail -n +2)
	[ "$body" = "$(cat "$T/m.prom")" ] && { same=yes; break; }
	sleep 0.2
done
expect_eq "GET /metrics: the file's text" "$same" yes
expect_eq "GET /metrics: the same series as the file" "$(fetch /metrics | tail -n +2 | series)" "$(series < "$T/m.prom")"
expect_eq "GET /metrics: 200, Prometheus text" "$(fetch /metrics | head -1)" "200 text/plain; version=0.0.4; charset=utf-8 -"
expect_eq "GET /: 404" "$(fetch / | head -1 | cut -d' ' -f1)" 404
expect_eq "GET /metrics/x: 404" "$(fetch /metrics/x | head -1 | cut -d' ' -f1)" 404
expect_eq "POST /metrics: 405, GET and HEAD allowed" "$(fetch /metrics POST | head -1)" "405 text/plain; charset=utf-8 GET, HEAD"
expect_eq "HEAD /metrics: 200, no body" "$(fetch /metrics HEAD)" "200 text/plain; version=0.0.4; charset=utf-8 -"

# moving the rules (a line above them) keeps their keys; a broken save is a failed reload
# (and the second rule respaced, its comment edited)
{ sed -n 1,3p "$T/p.policy"; echo 'allow in tcp port 8080 comment "new, above the others"'; sed -n 4p "$T/p.policy"
  echo 'allow in tcp port 8443 comment "web, renamed"'; sed -n '6,$p' "$T/p.policy"; } > "$T/p.new"
mv "$T/p.new" "$T/p.policy"
wait_for "$T/run.log" 'generation 2' || fail "the edit reloaded" "$(tail -3 "$T/run.log")"
for _ in $(seq 70); do fetch /metrics | grep -q 'new, above' && break; sleep 0.1; done
out=$(fetch /metrics)
printf '%s\n' "$out" > "$T/m2"
expect_eq "moved, respaced, comment edited: the rules keep their keys" \
	"$(keys "$T/m2" | cut -d' ' -f1 | grep -cxFf <(cut -d' ' -f1 "$T/keys1"))" 4
expect_eq "the new rule: a key of its own" "$(keys "$T/m2" | cut -d' ' -f1 | sort -u | wc -l)" 5
expect_match "a reload that worked" "$out" "portwall_reloads_total\{$B,outcome=\"applied\"\} 1"
printf 'allow in tcp port 99999\n' > "$T/p.new"
mv "$T/p.new" "$T/p.policy"
wait_for "$T/run.log" 'the policy in force is unchanged' || fail "the broken save was refused" "$(tail -3 "$T/run.log")"
for _ in $(seq 70); do fetch /metrics | grep -q 'outcome="failed"} 1' && break; sleep 0.1; done
out=$(fetch /metrics)
expect_match "a failed reload: last_success 0" "$out" "portwall_reload_last_success\{$B\} 0"
expect_match "a failed reload: counted" "$out" "portwall_reloads_total\{$B,outcome=\"failed\"\} 1"

# the shipped alert rules: valid YAML, and every metric and label they use is in the output
R=packaging/prometheus/portwall.rules.yml
check=$(printf '%s\n' "$out" | python3 -c '
import re, sys, yaml
text = sys.stdin.read()
doc = yaml.safe_load(open(sys.argv[1]))
rules = [r for g in doc["groups"] for r in g["rules"]]
bad = []
for r in rules:
    for k in ("alert", "expr", "labels", "annotations"):
        if k not in r: bad.append("%s: no %s" % (r.get("alert"), k))
    for name, labels in re.findall(r"(portwall_[a-z_]+)(\{[^}]*\})?", r["expr"]):
        if "\n# TYPE %s " % name not in "\n" + text: bad.append("%s: %s not exported" % (r["alert"], name))
        for l in re.findall(r"([a-z_]+)=", labels):
            if not re.search(r"^%s\{[^}]*\b%s=" % (name, l), text, re.M): bad.append("%s: %s{%s} not exported" % (r["alert"], name, l))
print(len(rules), " ".join(bad) or "ok")
' "$R" 2>&1)
expect_eq "$R: 4 rules, every metric and label exported" "$check" "4 ok"

# a bad address, and one in use: refused before anything is applied
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"x --metrics-listen 127.0.0.1 > "$T/bad.log" 2>&1
expect_eq "--metrics-listen without a port: a usage error (exit 2)" "$?" 2
expect_match "--metrics-listen without a port: says the form" "$(cat "$T/bad.log")" \
	'--metrics-listen: "127.0.0.1" is not ADDR:PORT \(e\.g\. 127\.0\.0\.1:9469'
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"x --metrics-listen 127.0.0.1:65536 > "$T/bad.log" 2>&1
expect_eq "--metrics-listen port 65536: exit 2" "$?" 2
"$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"x --metrics-listen localhost:9 > "$T/bad.log" 2>&1
expect_match "--metrics-listen with a host name: refused" "$(cat "$T/bad.log")" 'not an IPv4 address or a bracketed IPv6'
ins "$S" "$PW" run "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"x --metrics-listen "$ADDR" > "$T/busy.log" 2>&1
expect_match "--metrics-listen on a port in use: refused" "$(cat "$T/busy.log")" \
	"listening on $ADDR failed: .*nothing was changed"
expect_eq "a refused --metrics-listen pins nothing" "$(ls -d "$ROOT"x 2>/dev/null)" ""
"$PW" apply "$T/p.policy" --iface "$VS" --netns "$S" --pin-root "$ROOT"x --metrics-listen "$ADDR" > "$T/apply.log" 2>&1
expect_match "apply --metrics-listen: goes with run" "$(cat "$T/apply.log")" '--metrics-listen goes with run'
summary
