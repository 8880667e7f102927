#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make test`: the host tests of the emitter (cargo), then the build and the
# in-guest tests. Prints "N passed, N failed[, N skipped]" last; exits non-
# zero on any failure or if the guest never reported.
. "$(dirname "$0")/common.sh"

mkdir -p "$OUT/logs"
passed=0 failed=0 skipped=0
summary() {
	echo "$passed passed, $failed failed${skipped:+, $skipped skipped}"
}
trap 'summary' EXIT

# 1. Host: cargo test over the emitter core (decode and execute) and
# jitcmp, and the tests of the console checker and the corpus parser.
"$TOP/scripts/setup.sh"
log "host tests (cargo test --release in host/)"
set +e
(cd "$TOP/host" && cargo test --release 2>&1) | tee "$OUT/logs/host-test.log"
hrc=${PIPESTATUS[0]}
# jitcmp's own tests (make jit-identity, make corpus-bytes), in the same log.
log "host tests of jitcmp (cargo test --release in scripts/jit-identity/jitcmp)"
(cd "$TOP/scripts/jit-identity/jitcmp" &&
	CARGO_TARGET_DIR=$OUT/jitcmp-target cargo test --release 2>&1) |
	tee -a "$OUT/logs/host-test.log"
[ "${PIPESTATUS[0]}" = 0 ] || hrc=1
set -e
while read -r p f i; do
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + i))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' \
	"$OUT/logs/host-test.log")
if [ "$hrc" != 0 ] && [ "$failed" = 0 ]; then
	failed=1	# cargo failed before running tests (build error)
fi

# The console checker's and the corpus parser's tests (made-up console logs).
log "host tests of the console checker and the corpus parser (python3 -m unittest, scripts/corpus)"
set +e
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -v -s "$TOP/scripts/corpus" \
	-p 'test_*.py' > "$OUT/logs/corpus-parse-test.log" 2>&1
prc=$?
set -e
cat "$OUT/logs/corpus-parse-test.log"
read -r p f < <(awk '/ \.\.\. ok$/ { p++ } / \.\.\. (FAIL|ERROR)$/ { f++ }
	END { print p + 0, f + 0 }' "$OUT/logs/corpus-parse-test.log")
passed=$((passed + p)); failed=$((failed + f))
if [ "$prc" != 0 ]; then
	[ "$f" = 0 ] && failed=$((failed + 1))
	hrc=$prc
fi

# 2. Build everything the guest needs (incremental), then boot and test.
if ! make -C "$TOP" --no-print-directory initramfs; then
	warn "the build failed: no guest tests ran"
	failed=$((failed + 1))
	exit 1
fi
# Each guest job boots its own kernel: "test" (the selftests), "leak" (the
# module under kmemleak), "wild" (wild pointers reaching a check: the access
# may oops after the report) and "panic" (a report under panic_on_warn=1:
# the kernel panics, scripts/guest/jobs/panic.expect checks the console).
# Counted per job: test_progs subtests and "kasan_ebpf-check:" lines on the
# console, the PASS/FAIL lines of the job's host-side checker
# (scripts/guest/jobs/<job>.expect, run by run-guest.sh), and one check that
# the console has no KASAN report, kasan_ebpf: line, oops, warning or panic
# the job did not plant (scripts/check-console.py).
for job in ${KASAN_EBPF_JOBS:-test leak wild panic}; do
	glog=$OUT/logs/guest-$job.log
	xlog=$OUT/logs/guest-$job.expect.log
	rm -f "$glog" "$xlog"	# links to the latest run's logs: none yet
	set +e
	"$TOP/scripts/run-guest.sh" "$job"
	grc=$?
	set -e
	# test_progs prints one line per subtest: "#12/3    kasan_ebpf/uaf:OK".
	read -r gp gf gs < <(cat "$glog" 2>/dev/null | tr -d '\r' | awk '
		/^#[0-9]+\/[0-9]+ +.*:OK$/ { p++ }
		/^#[0-9]+\/[0-9]+ +.*:FAIL$/ { f++ }
		/^#[0-9]+\/[0-9]+ +.*:SKIP$/ { s++ }
		/^kasan_ebpf-check: PASS/ { p++ }
		/^kasan_ebpf-check: FAIL/ { f++ }
		END { print p + 0, f + 0, s + 0 }')
	read -r xp xf < <(cat "$xlog" 2>/dev/null | awk '
		/^kasan_ebpf-check: PASS/ { p++ }
		/^kasan_ebpf-check: FAIL/ { f++ }
		END { print p + 0, f + 0 }')
	passed=$((passed + gp + xp)); failed=$((failed + gf + xf))
	skipped=$((skipped + gs))
	if [ "$grc" != 0 ] && [ $((gf + xf)) = 0 ]; then
		failed=$((failed + 1))	# the guest failed or never reported
	fi
	[ "$grc" = 0 ] || grc_any=$grc
	name="console of $job has no unplanted report or splat"
	if [ -e "$glog" ] && python3 "$TOP/scripts/check-console.py" --summary "$glog"; then
		echo "kasan_ebpf-check: PASS $name"
		passed=$((passed + 1))
	else
		echo "kasan_ebpf-check: FAIL $name"
		failed=$((failed + 1))
		grc_any=1
	fi
done
[ "$failed" = 0 ] && [ "$hrc" = 0 ] && [ -z "${grc_any:-}" ]
