#!/usr/bin/env bash
# Run every test suite and end with one summary line "N passed, N failed".
# Unit tests run twice: built with ASan/UBSan, and plain under valgrind.
set -u
# apply refuses policy files others than root could write (StrictModes,
# docs/policy.md): a fresh clone's modes follow the umask (0002 makes them
# group-writable), and the e2e tests write their policies with ours; every
# directory up to / is judged too, the clone's own included
umask 022
chmod go-w .
chmod -R go-w policies tests
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
failed_suites=()

# run NAME CMD...: run one suite, add up its "N passed, N failed" line
run() {
	local name=$1; shift
	local out rc line p f start=$SECONDS
	echo "== $name"
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -v '^ok  \|WARNING: unhandled eBPF command' | sed 's/^/   /'
	echo "   ($((SECONDS - start)) s)"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
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

# the layers of user/ and the length of its functions (docs/architecture.md)
run "layers" bash scripts/check-layers.sh

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp"
for t in "$@"; do
	run "$t (asan+ubsan)" "$BUILD/tests/san-$t"
	if [ "$t" = test_scale ]; then continue; fi   # minutes under valgrind; asan covers it
	run "$t (valgrind)" env PW_TEST_QUICK=1 $VG "$BUILD/tests/$t"
done

# the fuzzers: the seed corpus plus 15 s each from a fixed seed
run "fuzz (seed corpus + 15 s each)" env BUILD="$BUILD" bash scripts/fuzz.sh ci

# BPF_PROG_TEST_RUN suites (root; they say "skipped" otherwise)
for t in ${BPF_TESTS:-}; do
	run "$t (asan+ubsan)" "$BUILD/tests/san-$t"
	run "$t (valgrind)" env PW_TEST_QUICK=1 $VG "$BUILD/tests/$t"
done

for s in tests/cli/test_*.sh; do
	[ -e "$s" ] || continue
	run "$(basename "$s" .sh)" env PORTWALL="$BUILD/san/portwall" bash "$s"
done

# end to end on veth pairs between namespaces the tests make (root)
for s in tests/e2e/test_*.sh; do
	[ -e "$s" ] || continue
	run "$(basename "$s" .sh)" env PORTWALL="$BUILD/san/portwall" PWPROBE="$BUILD/pwprobe" \
		EMPTY_BPF="$BUILD/bench/empty.bpf.o" bash "$s"
done

echo
[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "all suites: $SECONDS s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
