#!/usr/bin/env bash
# test_gateway.sh - gateway files (docs/gateway.md) as a user runs them:
# check of the shipped example and of every policy it names, errors at
# FILE:LINE:COL, test and explain judging a forwarded packet by the
# policy of the protected host it goes to or comes from (ccp, finesse and
# socialminer.policy), default forward allow and drop for the others, and
# apply and run refusing a gateway file (its datapath is not built yet).
# No root: the judge is the userspace one.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
PW=${PORTWALL:-build/portwall}
T=$(mktemp -d /tmp/pw-gw-XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
unset SSH_CONNECTION
G=policies/contact-center.gateway

# run CMD...: sets OUT, ERR, RC
run() { OUT=$("$@" 2>"$T/err"); RC=$?; ERR=$(cat "$T/err"); }

run "$PW" check "$G"
expect_eq "check the shipped gateway: exit 0" "$RC" 0
expect_eq "check: nothing on stderr" "$ERR" ""
expect_match "check: the gateway's name" "$OUT" '^gateway "contact center appliances" \(policies/contact-center.gateway\)$'
expect_match "check: default forward" "$OUT" '^default forward allow \(line 12\)'
expect_match "check: each host with its policy" "$OUT" '^198\.51\.100\.10 +14 +policies/ccp\.policy +23 +drop/drop$'
expect_match "check: IPv6 hosts too" "$OUT" '^2001:db8:5::20 +15 +policies/finesse\.policy +18 +drop/drop$'
expect_match "check: a policy's line" "$OUT" '^policies/socialminer\.policy +1 +14 +drop/drop +enforce +[0-9a-f]{16}  "Cisco SocialMiner"$'
expect_match "check: the summary" "$OUT" '^hosts: 5; policies: 3, each valid'
expect_match "check: says apply is not built" "$OUT" '^apply: gateway enforcement is not built yet'
expect_match "check: no warning" "$OUT" '^warnings: none$'
# each policy's hash is the one check of the policy alone prints
h=$("$PW" check policies/ccp.policy | sed -n 's/^hash: sha256:\(.\{16\}\).*/\1/p')
expect_match "check: ccp's hash as check of ccp.policy has it" "$OUT" "^policies/ccp\.policy +2 +23 +drop/drop +enforce +$h "

run "$PW" check --json "$G"
expect_eq "check --json: exit 0" "$RC" 0
expect_eq "check --json: fields" "$(jq -c '[.valid, .gateway, .enforced, .default_forward, (.hosts | length), [.policies[].policy]]' <<< "$OUT")" \
	'[true,true,false,"allow",5,["Cisco Customer Collaboration Platform","Cisco Finesse","Cisco SocialMiner"]]'
expect_eq "check --json: a host" "$(jq -c '.hosts[] | select(.address == "2001:db8:5::10") | [.line, .policy]' <<< "$OUT")" \
	'[14,"policies/ccp.policy"]'
run "$PW" check --strict "$G"
expect_eq "check --strict: exit 0 (no warning)" "$RC" 0

# verdict GATEWAY PACKET...: "VERDICT REASON WHERE" of test's verdict line
verdict() { "$PW" test "$@" 2>&1 | sed -n '2p' | awk '{print $1, $2, $3}'; }

# the appliances' ports, each by its own policy
expect_eq "ccp: 443 in" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.10:443 syn)" "PASS allow-rule policies/ccp.policy:33"
expect_eq "ccp: 443 in over IPv6" "$(verdict $G in tcp [2001:db8:7::7]:51000 [2001:db8:5::10]:443 syn)" "PASS allow-rule policies/ccp.policy:33"
expect_eq "ccp: 10443 in (chat gateway webhook)" "$(verdict $G in tcp 203.0.113.9:51000 198.51.100.10:10443 syn)" "PASS allow-rule policies/ccp.policy:47"
expect_eq "ccp: 38001 only from the MR PG" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.10:38001 syn)" "DROP default default"
expect_eq "ccp: 8445 is Finesse's, not ccp's" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.10:8445 syn)" "DROP default default"
expect_eq "ccp: SSH by base.policy" "$(verdict $G in tcp 192.0.2.5:51000 198.51.100.10:22 syn)" "PASS allow-rule policies/base.policy:10"
expect_eq "ccp: SMTP out to the mail server" "$(verdict $G out tcp 198.51.100.10:40000 198.51.100.25:587 syn)" "PASS allow-rule policies/ccp.policy:50"
expect_eq "ccp: SMTP out elsewhere" "$(verdict $G out tcp 198.51.100.10:40000 203.0.113.25:587 syn)" "DROP default default"
expect_eq "finesse: 8445 in" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.20:8445 syn)" "PASS allow-rule policies/finesse.policy:41"
expect_eq "finesse: 10443 is ccp's" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.20:10443 syn)" "DROP default default"
expect_eq "finesse: JDBC out to the AWDB" "$(verdict $G out tcp 198.51.100.20:40000 198.51.100.30:1433 syn)" "PASS allow-rule policies/finesse.policy:46"
expect_eq "finesse: its listener's SYN-ACK out" "$(verdict $G out tcp 198.51.100.20:8445 198.51.100.7:51000 syn,ack)" "PASS allow-rule policies/finesse.policy:41"
expect_eq "socialminer: 443 in" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.60:443 syn)" "PASS allow-rule policies/socialminer.policy:26"
expect_eq "socialminer: 5222 in is not its" "$(verdict $G in tcp 198.51.100.7:51000 198.51.100.60:5222 syn)" "DROP default default"
expect_eq "socialminer: ping by base.policy" "$(verdict $G in icmp 192.0.2.5 198.51.100.60 icmp-type echo-request)" "PASS allow-rule policies/base.policy:19"
# between two protected hosts: both policies; SocialMiner's out drops XMPP to Finesse
expect_eq "socialminer -> finesse 5222: socialminer's out drops it" "$(verdict $G in tcp 198.51.100.60:40000 198.51.100.20:5222 syn)" "DROP default default"
run "$PW" test $G in tcp 198.51.100.60:40000 198.51.100.20:5222 syn
expect_match "... and the other end's verdict is shown" "$OUT" 'and by the other protected end: PASS allow-rule policies/finesse.policy:42 \(to 198\.51\.100\.20'
expect_match "test: says the judge is userspace" "$(head -1 <<< "$OUT")" '^gateway "contact center appliances": judged in userspace .* not built yet'

# hosts no protect line names: default forward, allow here and drop in a copy
expect_eq "unprotected: default forward allow" "$(verdict $G in tcp 203.0.113.7:51000 203.0.113.8:443 syn)" \
	"PASS forward-default policies/contact-center.gateway:12"
sed 's/^default forward allow/default forward drop/' "$G" > "$T/drop.gateway"
sed -i "s|with \"\\([a-z]*\\.policy\\)\"|with \"$PWD/policies/\\1\"|" "$T/drop.gateway"
expect_eq "unprotected: default forward drop" "$(verdict "$T/drop.gateway" out udp 203.0.113.7:5000 203.0.113.8:53)" \
	"DROP forward-default $T/drop.gateway:12"
expect_eq "... the protected hosts as before" "$(verdict "$T/drop.gateway" in tcp 198.51.100.7:51000 198.51.100.10:443 syn)" \
	"PASS allow-rule $PWD/policies/ccp.policy:33"

run "$PW" test --json $G in tcp 198.51.100.7:51000 198.51.100.10:443 syn
expect_eq "test --json" "$(jq -c '[.judge, .verdict, .reason, .ends[0].host, .ends[0].dir, .ends[0].rule.line]' <<< "$OUT")" \
	'["userspace","PASS","allow-rule","198.51.100.10","in",33]'

# a direction that contradicts the addresses, scripts: usage errors
run "$PW" test $G in tcp 198.51.100.10:443 198.51.100.7:51000 syn,ack
expect_eq "test: in from a protected host: exit 2" "$RC" 2
expect_eq "... says it is out" "$ERR" "portwall test: in means towards a protected host, and the destination is not one; the source 198.51.100.10 is protected: the packet is out (away from it)"
echo "in tcp 198.51.100.7:51000 198.51.100.10:443 syn" > "$T/s.txt"
run "$PW" test $G -f "$T/s.txt"
expect_eq "test -f of a gateway: exit 2" "$RC" 2
expect_match "... says why" "$ERR" 'needs flow state, which the gateway datapath \(not built yet\) will keep'

# explain: DIR PROTO SRC DST [PORT]
run "$PW" explain $G in tcp 198.51.100.7 198.51.100.10 443
expect_eq "explain: exit 0" "$RC" 0
expect_eq "explain: the protected host and its rule" "$OUT" "198.51.100.10 (in: the packet goes to it, policies/ccp.policy, \"Cisco Customer Collaboration Platform\"):
PASS  policies/ccp.policy:33  allow in  tcp port 80,443            comment \"UI, APIs, chat and callback requests (HTTP/HTTPS)\""
run "$PW" explain $G in udp 203.0.113.7 203.0.113.8 53
expect_eq "explain: an unprotected pair" "$OUT" "PASS  policies/contact-center.gateway:12  default forward allow: no protect line names 203.0.113.7 or 203.0.113.8"
run "$PW" explain $G in tcp 198.51.100.7 198.51.100.10
expect_eq "explain: tcp needs a port: exit 2" "$RC" 2

# errors: FILE:LINE:COL, every one, a policy's own at its line
cp policies/ccp.policy policies/base.policy policies/finesse.policy "$T/"
cat > "$T/bad.gateway" <<'EOF'
default forward drop
protect 198.51.100.10 with "ccp.policy"
protect 198.51.100.20 with "finese.policy"
protect 198.51.100.10 with "finesse.policy"
protect 198.51.100.0/24 with "finesse.policy"
EOF
run "$PW" check "$T/bad.gateway"
expect_eq "check a bad gateway: exit 1" "$RC" 1
expect_eq "check: every error at its place" "$ERR" "$T/bad.gateway:3:28: error: cannot read policy $T/finese.policy: No such file or directory; did you mean \"finesse.policy\"?
$T/bad.gateway:4:9: error: 198.51.100.10 is already protected at line 2 (by $T/ccp.policy): a host has one policy; drop it from one of the lines
$T/bad.gateway:5:9: error: protect names hosts, not networks: \"198.51.100.0/24\" is a prefix; list each appliance's address (a packet is judged by the policy of the host it goes to or comes from)"
run "$PW" check --json "$T/bad.gateway"
expect_eq "check --json of a bad gateway" "$(jq -c '[.valid, [.errors[] | [.line, .column]]]' <<< "$OUT")" '[false,[[3,28],[4,9],[5,9]]]'
sed -i 's/^allow in  tcp port 5222 /allow in  tcp port 5222x/' "$T/finesse.policy"
printf 'default forward drop\nprotect 198.51.100.20 with "finesse.policy"\n' > "$T/pol.gateway"
run "$PW" check "$T/pol.gateway"
expect_eq "a broken policy: exit 1" "$RC" 1
expect_eq "a broken policy: its own line, then the protect line" "$ERR" "$T/finesse.policy:42:20: error: expected a port (1-65535) or a range N-M, got \"5222x\"
$T/pol.gateway:2:28: error: the policy $T/finesse.policy named here is not valid (1 error above)"
run "$PW" test "$T/pol.gateway" in tcp 198.51.100.7:51000 198.51.100.20:443 syn
expect_eq "test of a broken gateway: exit 1" "$RC" 1

# StrictModes: the gateway file and every file of its policies, as check warns for a policy
mkdir "$T/sm" && chmod 755 "$T/sm"
cp policies/ccp.policy policies/base.policy "$T/sm/"
printf 'default forward drop\nprotect 198.51.100.10 with "ccp.policy"\n' > "$T/sm/g.gateway"
chmod 664 "$T/sm/g.gateway" "$T/sm/base.policy"
run "$PW" check "$T/sm/g.gateway"
expect_eq "group-writable files: check exits 0" "$RC" 0
expect_eq "... and warns for the gateway and an included policy" "$(grep ': warning: ' <<< "$OUT")" \
	"$T/sm/g.gateway: warning: the file is group-writable (mode 0664): the group's members could change what portwall enforces; fix: chmod go-w $T/sm/g.gateway (apply, reload and run refuse it)
$T/sm/base.policy: warning: the file is group-writable (mode 0664): the group's members could change what portwall enforces; fix: chmod go-w $T/sm/base.policy (apply, reload and run refuse it)"
run "$PW" check --strict "$T/sm/g.gateway"
expect_eq "... --strict: exit 1" "$RC" 1
expect_eq "... --strict says why" "$ERR" "portwall check: 2 warnings and --strict: not valid"
expect_eq "... --json: the warnings" "$("$PW" check --json "$T/sm/g.gateway" | jq -c '[.valid, [.warnings[].line]]')" '[true,[0,0]]'

# apply and run refuse a gateway file, before anything else
run "$PW" apply "$G" --iface lo --pin-root /sys/fs/bpf/pwgw$$
expect_eq "apply of a gateway: exit 1" "$RC" 1
expect_match "apply: says gateway enforcement is not built yet" "$ERR" '^portwall apply: policies/contact-center.gateway is a gateway file, and gateway enforcement is not built yet: nothing was changed'
run "$PW" run "$G" --iface lo --pin-root /sys/fs/bpf/pwgw$$
expect_eq "run of a gateway: exit 1" "$RC" 1
expect_match "run: the same" "$ERR" '^portwall run: .* gateway enforcement is not built yet'
if [ "$(id -u)" -eq 0 ]; then	# audit asks for root first
	run "$PW" audit "$G" --pin-root /sys/fs/bpf/pwgw$$
	expect_eq "audit of a gateway: exit 1" "$RC" 1
	expect_eq "audit: takes a policy" "$ERR" "portwall audit: $G is a gateway file (docs/gateway.md): audit takes a policy file; give one of the policies it names"
fi
expect_eq "nothing was pinned" "$(ls -d /sys/fs/bpf/pwgw$$ 2>/dev/null)" ""

summary
