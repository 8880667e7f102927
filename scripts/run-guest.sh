#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the kernel in QEMU (TCG: /dev/kvm hangs guests on this machine kind)
# and run one job of scripts/guest/jobs/ (or a shell). The console log is
# kept in out/logs/; the guest's exit status is this script's. A guest that
# panics, hangs or never reports is a failure, unless the job file says
# "# guest-expect: panic": then a guest that never reports is not a failure
# by itself, and the job's checker decides (it must have one).
#
# A job's checker, scripts/guest/jobs/<job>.expect (if there is one and it
# is executable, for any job), runs on the host after the boot with the
# console log as its argument; it prints "kasan_ebpf-check: PASS|FAIL
# <name>" lines (scripts/test.sh counts them; they are also kept in
# out/logs/guest-<job>.expect.log) and its exit status must be 0 for the
# job to pass.
. "$(dirname "$0")/common.sh"

JOB=${1:-shell}
TIMEOUT=${GUEST_TIMEOUT:-1500}
KERNEL=$BUILD/arch/x86/boot/bzImage
IMG=$OUT/initramfs.cpio
JOBFILE=$TOP/scripts/guest/jobs/$JOB.sh
EXPECT=$TOP/scripts/guest/jobs/$JOB.expect
[ "$JOB" = shell ] || [ -f "$JOBFILE" ] || die "no guest job '$JOB' ($JOBFILE)"
EXPECT_PANIC=
if [ -f "$JOBFILE" ] && grep -q '^# guest-expect: *panic *$' "$JOBFILE"; then
	EXPECT_PANIC=1
	[ -x "$EXPECT" ] || die "$JOBFILE expects a panic but has no executable $EXPECT"
fi
[ -f "$KERNEL" ] || die "$KERNEL is missing: make kernel"
if [ "$JOB" = shell ] && [ -n "${2:-}" ]; then
	"$TOP/scripts/mkinitramfs.sh" "$2"
fi
[ -f "$IMG" ] || die "$IMG is missing: make initramfs"

mkdir -p "$OUT/logs"
LOGF=$OUT/logs/guest-$JOB-$(date +%Y%m%d-%H%M%S).log
ln -sf "$(basename "$LOGF")" "$OUT/logs/guest-$JOB.log"
rm -f "$OUT/logs/guest-$JOB.expect.log"
APPEND="console=ttyS0 panic=-1 panic_on_warn=0 kasan_multi_shot no5lvl"
# scripts/check-console.py reads the kernel's lines by printk's timestamp,
# and the planted-region markers that jobs write to /dev/kmsg must all get
# through (no rate limit) into a log large enough for many KASAN reports.
APPEND+=" printk.time=1 printk.devkmsg=on log_buf_len=8M"
# Under TCG on a loaded host the IO-APIC timer check can miss its ticks and
# panic the boot ("IO-APIC + timer doesn't work!"): skip it, as VMs do.
APPEND+=" no_timer_check"
# Under TCG the guest's TSC is the host's, but the guest calibrates it
# against an emulated PIT, and on a loaded host that can be off tenfold:
# guest time then runs too fast (tests that wait a fixed time fail) or the
# clocksource watchdog drops the TSC for jiffies. Tell it the frequency
# (scripts/host-tsc-khz.c measures it) and that it can trust the TSC.
# GUEST_TSC_KHZ=<kHz> overrides the measurement, GUEST_TSC_KHZ=0 leaves the
# guest to calibrate.
TSC_TOOL=$OUT/host-tsc-khz
if [ -z "${GUEST_TSC_KHZ:-}" ]; then
	if [ ! -x "$TSC_TOOL" ] || [ "$TOP/scripts/host-tsc-khz.c" -nt "$TSC_TOOL" ]; then
		gcc -O2 -Wall -o "$TSC_TOOL" "$TOP/scripts/host-tsc-khz.c" ||
			die "building scripts/host-tsc-khz.c failed"
	fi
	GUEST_TSC_KHZ=$("$TSC_TOOL") || die "could not measure the host's TSC frequency"
fi
[[ "$GUEST_TSC_KHZ" =~ ^[0-9]+$ ]] || die "GUEST_TSC_KHZ: a frequency in kHz, or 0"
if [ "$GUEST_TSC_KHZ" != 0 ]; then
	APPEND+=" tsc_early_khz=$GUEST_TSC_KHZ tsc=reliable"
fi
APPEND+=" kasan_ebpf.job=$JOB"
# A job may drop some of the parameters above, "# guest-remove: <names>"
# (a name drops "name" and "name=..."), and ask for more, "# guest-append:
# <params>".
if [ -f "$JOBFILE" ]; then
	remove=$(sed -n 's/^# guest-remove: *//p' "$JOBFILE" | tr '\n' ' ')
	APPEND=$(awk -v rm="$remove" '
		BEGIN { n = split(rm, r, " "); for (i = 1; i <= n; i++) drop[r[i]] = 1 }
		{ for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k)
			if (!($i in drop) && !(k in drop)) out = out (out == "" ? "" : " ") $i }
		  print out }' <<< "$APPEND")
	APPEND+=$(sed -n 's/^# guest-append: */ /p' "$JOBFILE" | tr -d '\n')
fi

QEMU=(qemu-system-x86_64 -machine q35 -cpu max -m 4G -smp 2
      -kernel "$KERNEL" -initrd "$IMG" -append "$APPEND"
      -nographic -no-reboot -monitor none -serial stdio)
log "booting $JOB (TCG, timeout ${TIMEOUT}s); console: $LOGF"
if [ "$JOB" = shell ] && [ -z "${2:-}" ] && [ -t 0 ]; then
	"${QEMU[@]}" | tee "$LOGF"
	exit 0
fi
set +e
timeout --foreground -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2>&1 |
	tee "$LOGF" | sed -u -n '/KASAN_EBPF_GUEST_EXIT=/!p' | tr -d '\r'
qrc=${PIPESTATUS[0]}
set -e
rc=$(grep -a -o 'KASAN_EBPF_GUEST_EXIT=[0-9]*' "$LOGF" | tail -1 | cut -d= -f2 || true)
[ "$qrc" = 124 ] && warn "the guest timed out after ${TIMEOUT}s"
if [ -z "$rc" ] && { [ -z "$EXPECT_PANIC" ] || [ "$qrc" = 124 ]; }; then
	# A hang is never what a job expects.
	warn "the guest never reported an exit status (qemu: $qrc); console tail:"
	tail -40 "$LOGF" | tr -d '\r' >&2
	rc=1
elif [ -z "$rc" ]; then
	log "guest job $JOB ended without reporting an exit status (guest-expect: panic)"
	rc=0
fi
[ "$rc" = 0 ] || warn "guest job $JOB failed with status $rc (console: $LOGF)"
if [ -x "$EXPECT" ]; then
	XLOG=${LOGF%.log}.expect.log
	ln -sf "$(basename "$XLOG")" "$OUT/logs/guest-$JOB.expect.log"
	log "checking the console of $JOB: $EXPECT"
	set +e
	"$EXPECT" "$LOGF" 2>&1 | tee "$XLOG"
	xrc=${PIPESTATUS[0]}
	set -e
	if [ "$xrc" != 0 ]; then
		warn "$EXPECT failed with status $xrc (console: $LOGF)"
		[ "$rc" != 0 ] || rc=1
	fi
fi
exit "$rc"
