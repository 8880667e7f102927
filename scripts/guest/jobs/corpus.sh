#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of `make corpus` (scripts/corpus.sh packs it with the
# corpus files): upstream test_verifier and a named set of test_progs tests,
# run once per mode of net.core.bpf_jit_kasan (0, then 1, then 2) in this
# one boot. The console is the only channel to the host:
#
# - the mode markers go to /dev/kmsg, so that they sit in the kernel's own
#   message stream, in order with the KASAN reports they delimit:
#   "kasan_ebpf_corpus: mode=<m> begin|end";
# - CORPUS_* lines are for the host's parser (scripts/corpus/parse.py):
#   CORPUS_PROBE (program IDs and the mode a program really got),
#   CORPUS_RUN (exit status and time of each binary), and each binary's full
#   output as gzip+base64 (CORPUS_B64) with its md5 (CORPUS_FILE).
#
# While a file is dumped, kernel messages are kept off the console (they
# could land in the middle of a line) and printed after it, from dmesg, as
# CORPUS_KMSG lines, which the parser reads as kernel messages. Mode
# attribution uses the markers: a report between "mode=1 begin" and
# "mode=1 end" belongs to mode 1.
#
# The settings (modes, timeouts, one test_progs per test or not, reruns)
# come from corpus/config, written by scripts/corpus.sh.
cd /kasan-ebpf || exit 1
CORPUS_MODES="0 1 2"
CORPUS_VERIFIER=1
CORPUS_SPLIT=0
CORPUS_TIMEOUT=3000
CORPUS_UNPRIV=1
CORPUS_RERUNS=3
CORPUS_RERUN_MAX=20
CORPUS_RERUN_ALSO=
[ -f corpus/config ] && . corpus/config

SYSCTL=/proc/sys/net/core/bpf_jit_kasan
LOGS=/tmp/corpus
mkdir -p $LOGS
seq=0

kmsg() {
	echo "kasan_ebpf_corpus: $*" > /dev/kmsg
}

# Dump one file to the console as gzip+base64, kernel messages held back.
dump() {
	mode=$1 name=$2 f=$3
	seq=$((seq + 1))
	saved=$(cat /proc/sys/kernel/printk)
	dmesg -c > /dev/null
	echo "1 4 1 7" > /proc/sys/kernel/printk
	gzip -c "$f" > $LOGS/dump.gz
	sum=$(md5sum < $LOGS/dump.gz | cut -d' ' -f1)
	base64 $LOGS/dump.gz | sed "s/^/CORPUS_B64 $seq /"
	echo "CORPUS_FILE $seq mode=$mode name=$name md5=$sum bytes=$(wc -c < "$f")"
	echo "$saved" > /proc/sys/kernel/printk
	# What the kernel said meanwhile (a message that made it to the
	# console too is printed twice; the parser drops the copy).
	dmesg -c | sed 's/^/CORPUS_KMSG /'
	rm -f $LOGS/dump.gz
}

probe() {
	echo "CORPUS_PROBE mode=$1 at=$2 $(./corpus_probe 2>&1 | tr '\n' ' ')"
}

# run <mode> <name> <cmd...>: output to a file, status and time on the
# console, then the file.
run() {
	mode=$1 name=$2
	shift 2
	out=$LOGS/$mode-$name.log
	t0=$(date +%s)
	timeout "$CORPUS_TIMEOUT" "$@" > "$out" 2>&1 < /dev/null
	rc=$?
	t1=$(date +%s)
	echo "CORPUS_RUN mode=$mode name=$name rc=$rc secs=$((t1 - t0))"
	grep -a '^Summary:' "$out" | sed "s/^/  $name: /"
	dump "$mode" "$name" "$out"
}

echo "== corpus: kernel $(uname -r) $(uname -v)"
echo "== corpus: modes '$CORPUS_MODES', test_verifier $CORPUS_VERIFIER," \
     "one test_progs per test $CORPUS_SPLIT, $(grep -c . corpus/progs.list) test_progs tests"
[ -w $SYSCTL ] || { echo "corpus: $SYSCTL is missing"; exit 1; }
for f in test_progs test_verifier corpus_probe bpf_testmod.ko; do
	[ -e $f ] || { echo "corpus: $f is missing from the initramfs"; exit 1; }
done
# Upstream CI runs both suites with unprivileged BPF allowed: the
# unprivileged variants of the tests (speculation hardening, pointer
# sanitation) are then loaded and run too.
if [ "$CORPUS_UNPRIV" = 1 ]; then
	echo 0 > /proc/sys/kernel/unprivileged_bpf_disabled
fi
echo "== corpus: kernel.unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" \
     "net.core.bpf_jit_harden=$(cat /proc/sys/net/core/bpf_jit_harden)"
echo "CORPUS_START modes=$(echo $CORPUS_MODES | tr ' ' ,) uname=$(uname -v | tr ' ' _)"

for mode in $CORPUS_MODES; do
	echo "$mode" > $SYSCTL
	echo "== corpus: mode $mode (net.core.bpf_jit_kasan=$(cat $SYSCTL)) at $(date +%s)"
	kmsg "mode=$mode begin"
	m0=$(date +%s)
	probe "$mode" begin
	if [ "$CORPUS_VERIFIER" = 1 ]; then
		run "$mode" test_verifier ./test_verifier
		probe "$mode" after_test_verifier
	fi
	if [ "$CORPUS_SPLIT" = 1 ]; then
		# One test_progs per test: slower (bpf_testmod is reloaded each
		# time) but gives each test's time and program count.
		for t in $(cat corpus/progs.list); do
			run "$mode" "test_progs.$t" ./test_progs -a "$t"
			probe "$mode" "after_$t"
		done
	elif [ -s corpus/progs.list ]; then
		run "$mode" test_progs ./test_progs -a @corpus/progs.list
		probe "$mode" after_test_progs
	fi
	m1=$(date +%s)
	kmsg "mode=$mode end"
	echo "CORPUS_MODE_DONE mode=$mode secs=$((m1 - m0))"
done

# A test whose results differ between modes is run again, alone, in every
# mode, CORPUS_RERUNS rounds of mode 0, 1, 2 each, so that the host can tell
# a result that depends on the mode (it comes back in every round) from one
# that depends on timing (a test that waits a fixed budget for asynchronous
# kernel work under TCG). The host decides (parse.py); the reruns only add
# evidence, and their KASAN reports count like any other (the markers are
# the same).
tp_results() {
	awk '/^All error logs:/ { exit }
	     match($0, /^#[0-9]+(\/[0-9]+)?[ \t]+/) {
		r = substr($0, RSTART + RLENGTH)
		sub(/ \(SKIP: [0-9]+\/[0-9]+\)$/, "", r)
		if (r ~ /:(OK|SKIP|FAIL)$/)
			print r
	     }' "$1"
}
nmodes=$(echo $CORPUS_MODES | wc -w)
: > $LOGS/rerun.list
if [ "$CORPUS_RERUNS" -gt 0 ] && [ "$nmodes" -gt 1 ]; then
	for mode in $CORPUS_MODES; do
		for f in $LOGS/$mode-test_progs*.log; do
			[ -e "$f" ] && tp_results "$f"
		done | sort -u > $LOGS/res-$mode
	done
	# A result line not in every mode's list: its test differs.
	cat $LOGS/res-* | sort | uniq -c |
		awk -v n="$nmodes" '$1 < n {
			sub(/^ *[0-9]+ /, ""); sub(/:(OK|SKIP|FAIL)$/, "")
			sub(/\/.*/, ""); print }' > $LOGS/rerun.all
	for t in $CORPUS_RERUN_ALSO; do echo "$t"; done >> $LOGS/rerun.all
	sort -u -o $LOGS/rerun.all $LOGS/rerun.all
	head -n "$CORPUS_RERUN_MAX" $LOGS/rerun.all > $LOGS/rerun.list
	left=$(($(wc -l < $LOGS/rerun.all) - $(wc -l < $LOGS/rerun.list)))
	echo "CORPUS_RERUN rounds=$CORPUS_RERUNS tests=$(tr '\n' ',' < $LOGS/rerun.list) not_rerun=$left"
fi
round=1
while [ -s $LOGS/rerun.list ] && [ $round -le "$CORPUS_RERUNS" ]; do
	for t in $(cat $LOGS/rerun.list); do
		for mode in $CORPUS_MODES; do
			echo "$mode" > $SYSCTL
			kmsg "mode=$mode begin"
			run "$mode" "rerun$round.$t" ./test_progs -a "$t"
			kmsg "mode=$mode end"
		done
	done
	round=$((round + 1))
done
echo 1 > $SYSCTL
echo "CORPUS_DONE"
exit 0
