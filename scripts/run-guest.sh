#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the kernel in QEMU (TCG: /dev/kvm hangs guests on this machine kind)
# and run one job of scripts/guest/jobs/ (or a shell). The console log is
# kept in out/logs/; the guest's exit status is this script's. A guest that
# panics, hangs or never reports is a failure.
. "$(dirname "$0")/common.sh"

JOB=${1:-shell}
TIMEOUT=${GUEST_TIMEOUT:-1500}
KERNEL=$BUILD/arch/x86/boot/bzImage
IMG=$OUT/initramfs.cpio
[ -f "$KERNEL" ] || die "$KERNEL is missing: make kernel"
if [ "$JOB" = shell ] && [ -n "${2:-}" ]; then
	"$TOP/scripts/mkinitramfs.sh" "$2"
fi
[ -f "$IMG" ] || die "$IMG is missing: make initramfs"

mkdir -p "$OUT/logs"
LOGF=$OUT/logs/guest-$JOB-$(date +%Y%m%d-%H%M%S).log
ln -sf "$(basename "$LOGF")" "$OUT/logs/guest-$JOB.log"
APPEND="console=ttyS0 panic=-1 panic_on_warn=0 kasan_multi_shot no5lvl"
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
# A job may ask for more kernel parameters: "# guest-append: <params>".
JOBFILE=$TOP/scripts/guest/jobs/$JOB.sh
if [ -f "$JOBFILE" ]; then
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
rc=$(grep -a -o 'KASAN_EBPF_GUEST_EXIT=[0-9]*' "$LOGF" | tail -1 | cut -d= -f2)
if [ -z "$rc" ]; then
	[ "$qrc" = 124 ] && warn "the guest timed out after ${TIMEOUT}s"
	warn "the guest never reported an exit status (qemu: $qrc); console tail:"
	tail -40 "$LOGF" | tr -d '\r' >&2
	exit 1
fi
[ "$rc" = 0 ] || warn "guest job $JOB failed with status $rc (console: $LOGF)"
exit "$rc"
