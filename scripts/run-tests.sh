#!/usr/bin/env bash
# Run every test suite and end with one summary line "N passed, N failed".
# Unit tests run twice: built with ASan/UBSan, and plain under valgrind.
#
# The suites run in three lanes at once (the machine's cores are otherwise
# idle while the e2e suites wait on their namespaces and clocks):
#   root  the suites that make namespaces, attach, pin or use /run/portwall
#         (tests/e2e, the root CLI suites), one after another as before
#   bpf   the BPF_PROG_TEST_RUN suites and `portwall test`: private maps and
#         programs, nothing attached or pinned, nothing named
#   user  layers, unit tests, fuzzers, the CLI suites that are userspace only
# Each suite's output is kept whole and printed in the fixed order below,
# with its wall and CPU time (user+sys of it and its children, the kernel's
# verifier included). PW_TEST_SERIAL=1 runs them all in one lane.
# Ends with the total and the whole wall time.
set -u
# apply refuses policy files others than root could write (StrictModes,
# docs/policy.md): a fresh clone's modes follow the umask (0002 makes them
# group-writable), and the e2e tests write their policies with ours; every
# directory up to / is judged too, the clone's own included
umask 022
chmod go-w .
chmod -R go-w policies tests
BUILD=${BUILD:-build}
R=$(mktemp -d /tmp/pw-run-tests.XXXXXX) || { echo "run-tests: mktemp failed: is /tmp writable?"; exit 1; }
lane_pids=()
trap 'kill "${lane_pids[@]}" 2>/dev/null; rm -rf "$R"' EXIT

S_NAME=() S_LANE=() S_CMD=()
# add LANE NAME CMD...: a suite, in the order it is printed
# (PW_TEST_ONLY=ERE: only the suites whose name matches it)
add() {
	[ -z "${PW_TEST_ONLY:-}" ] || [[ $2 =~ $PW_TEST_ONLY ]] || return 0
	S_LANE+=("$1") S_NAME+=("$2"); shift 2
	S_CMD+=("$(printf '%q ' "$@")")
}

# the layers of user/ and the length of its functions (docs/architecture.md)
add user "layers" bash scripts/check-layers.sh

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp"
for t in "$@"; do
	add user "$t (asan+ubsan)" "$BUILD/tests/san-$t"
	if [ "$t" = test_scale ]; then continue; fi   # minutes under valgrind; asan covers it
	add user "$t (valgrind)" env PW_TEST_QUICK=1 $VG "$BUILD/tests/$t"
done

# the fuzzers: the seed corpus plus 15 s each from a fixed seed
add user "fuzz (seed corpus + 15 s each)" env BUILD="$BUILD" bash scripts/fuzz.sh ci

# BPF_PROG_TEST_RUN suites (root; they say "skipped" otherwise)
for t in ${BPF_TESTS:-}; do
	add bpf "$t (asan+ubsan)" "$BUILD/tests/san-$t"
	add bpf "$t (valgrind)" env PW_TEST_QUICK=1 $VG "$BUILD/tests/$t"
done

for s in tests/cli/test_*.sh; do
	[ -e "$s" ] || continue
	n=$(basename "$s" .sh)
	case $n in
	test_check|test_explain_json|test_import|test_strict) lane=user ;;
	test_test) lane=bpf ;;
	*) lane=root ;;
	esac
	add $lane "$n" env PORTWALL="$BUILD/san/portwall" bash "$s"
done

# end to end on veth pairs between namespaces the tests make (root)
for s in tests/e2e/test_*.sh; do
	[ -e "$s" ] || continue
	add root "$(basename "$s" .sh)" env PORTWALL="$BUILD/san/portwall" PWPROBE="$BUILD/pwprobe" \
		EMPTY_BPF="$BUILD/bench/empty.bpf.o" bash "$s"
done

# exec_suite I: run suite I into $R/I.out; then $R/I.rc, $R/I.cpu, $R/I.wall
# and, last, $R/I.done
exec_suite() {
	local i=$1 start=$SECONDS
	(
		eval "${S_CMD[i]}" > "$R/$i.out" 2>&1
		echo $? > "$R/$i.rc"
		# the second line of `times`: the children's user and system time
		# (not in a pipe: that would be a child's own)
		times > "$R/$i.times"
	)
	awk 'NR == 2 { for (f = 1; f <= 2; f++) { split($f, a, "m"); s += a[1] * 60 + a[2] } }
	     END { printf "%d\n", s + 0.5 }' "$R/$i.times" > "$R/$i.cpu"
	echo $((SECONDS - start)) > "$R/$i.wall"
	: > "$R/$i.done"
}

# lane L: its suites, one after another
lane() {
	for i in "${!S_NAME[@]}"; do
		[ "${PW_TEST_SERIAL:-}" = 1 ] || [ "${S_LANE[i]}" = "$1" ] || continue
		exec_suite "$i"
	done
}

if [ "${PW_TEST_SERIAL:-}" = 1 ]; then
	lane all & lane_pids+=($!)
else
	for l in root bpf user; do lane $l & lane_pids+=($!); done
fi

total_pass=0
total_fail=0
total_cpu=0
failed_suites=()

# report I: print suite I whole, add up its "N passed, N failed" line
report() {
	local i=$1 name=${S_NAME[$1]} rc line p f
	echo "== $name"
	grep -v '^ok  \|WARNING: unhandled eBPF command' "$R/$i.out" | sed 's/^/   /'
	echo "   ($(cat "$R/$i.wall") s, cpu $(cat "$R/$i.cpu") s)"
	total_cpu=$((total_cpu + $(cat "$R/$i.cpu")))
	rc=$(cat "$R/$i.rc")
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$R/$i.out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "   $name: no summary line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1)); failed_suites+=("$name"); return
	fi
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   $name: exit $rc with no failed test: counted as 1 failure"
		total_fail=$((total_fail + 1))
	fi
	[ "$rc" -ne 0 ] && failed_suites+=("$name")
}

lanes_alive() {
	local pid
	for pid in "${lane_pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
	return 1
}

# in the fixed order, each suite once it is done (the lanes end, so this does)
for i in "${!S_NAME[@]}"; do
	while [ ! -e "$R/$i.done" ] && lanes_alive; do sleep 0.5; done
	if [ -e "$R/$i.done" ]; then
		report "$i"
	else
		echo "== ${S_NAME[i]}"
		echo "   ${S_NAME[i]}: its lane ended before it ran: counted as 1 failure"
		total_fail=$((total_fail + 1)); failed_suites+=("${S_NAME[i]}")
	fi
done
wait

echo
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "all suites: $SECONDS s wall, $total_cpu s cpu (${#S_NAME[@]} suites)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
