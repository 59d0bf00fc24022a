#!/bin/sh
# run.sh - run the libFuzzer targets the way the Makefile asks.
#
#   test/fuzz/run.sh fuzz SECONDS BUILD_DIR TARGET...   (make fuzz)
#   test/fuzz/run.sh smoke BUILD_DIR TARGET...          (make fuzz-smoke)
#
# fuzz: each target for SECONDS, one after the other; new inputs are kept
# in BUILD_DIR/corpus/TARGET, the committed ones in test/fuzz/corpus/TARGET
# are read too.
#
# smoke (part of `make test`): replay every committed input of the target
# (the seeds and the regress-* crash reproducers), then fuzz on from them
# for a fixed number of runs with a fixed seed, so every `make test` tries
# the same inputs (no timing involved).  New inputs go to a scratch
# directory, BUILD_DIR/smoke/TARGET.  Prints a TAP plan and one line per
# target; exits 1 if any failed.
#
# Either way a crash leaves its reproducer at BUILD_DIR/TARGET-crash-*
# (replay it: BUILD_DIR/TARGET FILE) and ends the run.
set -u

# Options each target always gets.
opts_for() {
	case $1 in
	# Ops are 16 bytes: 255 of them keep a run's model small and fast.
	fuzz_pagetable) echo "-max_len=4096" ;;
	# Every step is checked on both heaps: keep programs to ~250 steps.
	fuzz_heap_diff) echo "-max_len=1024" ;;
	*) echo "" ;;
	esac
}

# Smoke runs per target, about 5-10 s of one core each.
runs_for() {
	case $1 in
	fuzz_heap) echo 40000 ;;
	fuzz_heap_diff) echo 4000 ;;
	fuzz_memmap) echo 1500 ;;
	fuzz_pagetable) echo 3000 ;;
	fuzz_format) echo 300000 ;;
	fuzz_acpi) echo 20000 ;;
	*) echo 1000 ;;
	esac
}

# The committed corpus of a target, or nothing if it has none.
seeds_for() {
	[ -d "test/fuzz/corpus/$1" ] && echo "test/fuzz/corpus/$1"
}

fuzz() {
	secs=$1 dir=$2
	shift 2
	for t in "$@"; do
		mkdir -p "$dir/corpus/$t"
		# Unquoted on purpose: an empty option list is no argument.
		"$dir/$t" $(opts_for "$t") -max_total_time="$secs" -artifact_prefix="$dir/$t-" \
			"$dir/corpus/$t" $(seeds_for "$t") || exit 1
	done
}

smoke() {
	dir=$1
	shift
	echo "1..$#"
	i=0 failed=0
	for t in "$@"; do
		i=$((i + 1))
		log=$dir/$t.smoke.log
		rm -rf "$dir/smoke/$t" && mkdir -p "$dir/smoke/$t"
		"$dir/$t" $(opts_for "$t") -seed=1 -runs="$(runs_for "$t")" -timeout=60 \
			-artifact_prefix="$dir/$t-" "$dir/smoke/$t" $(seeds_for "$t") >"$log" 2>&1
		rc=$?
		replayed=$(sed -n 's/^INFO: seed corpus: files: \([0-9]*\).*/\1/p' "$log")
		done_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
		if [ $rc -eq 0 ] && [ -n "$done_runs" ]; then
			echo "ok $i - $t: replayed ${replayed:-0} inputs, $done_runs runs"
		else
			failed=1
			artifact=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log")
			echo "not ok $i - $t: exit $rc; reproducer ${artifact:-none}; log $log"
			tail -n 30 "$log" | sed 's/^/# /'
		fi
	done
	return $failed
}

mode=$1
shift
case $mode in
fuzz) fuzz "$@" ;;
smoke) smoke "$@" ;;
*) echo "usage: $0 fuzz SECONDS BUILD_DIR TARGET... | smoke BUILD_DIR TARGET..." >&2; exit 2 ;;
esac
