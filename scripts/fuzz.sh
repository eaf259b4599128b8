#!/usr/bin/env bash
# fuzz.sh - run the libFuzzer harnesses (tests/fuzz/).
#   fuzz.sh ci        the seed corpus, then 15 s each (FUZZ_CI_SECONDS) from a
#                     fixed seed and a fresh copy of the seeds: a finding is a
#                     real bug, and its input is kept as build/fuzz/crash-*
#   fuzz.sh SECONDS   each harness for SECONDS, growing build/fuzz/corpus/
# Ends with "N passed, N failed" (a harness passes when it finds nothing).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mode=${1:-60}
passed=0 failed=0
for h in policy packet import gateway; do
	corpus=$BUILD/fuzz/corpus/$h
	mkdir -p "$corpus"
	if [ "$mode" = ci ]; then
		args=(-seed=1 -max_total_time="${FUZZ_CI_SECONDS:-15}")
		dirs=("tests/fuzz/seeds/$h")
		[ $h = policy ] && dirs+=(policies)
		# a fresh copy of the seeds: the same start every time
		rm -rf "$corpus.ci" && mkdir -p "$corpus.ci"
		for d in "${dirs[@]}"; do cp "$d"/* "$corpus.ci/"; done
		corpus=$corpus.ci
	else
		args=(-max_total_time="$mode")
		cp tests/fuzz/seeds/$h/* "$corpus/" 2>/dev/null
		[ $h = policy ] && cp policies/*.policy "$corpus/"
	fi
	t0=$(date +%s)
	if "$BUILD/fuzz/fuzz_$h" "${args[@]}" -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/crash-$h-" \
		"$corpus" > "$BUILD/fuzz/$h.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz/$h.log")
		echo "ok   fuzz_$h: $execs inputs in $(( $(date +%s) - t0 )) s, no finding"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz_$h: a finding (see $BUILD/fuzz/$h.log and $BUILD/fuzz/crash-$h-*)"
		grep -m 5 -E 'ERROR|SUMMARY|abort|runtime error' "$BUILD/fuzz/$h.log" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
