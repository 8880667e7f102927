#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark `make bench` runs: every program loaded in modes 0, 1 and 2
# of net.core.bpf_jit_kasan in this one boot, timed side by side. The
# result lines start with KASAN_EBPF_BENCH; scripts/bench.sh collects them
# from the console log. The loader's arguments are built into it
# (BENCH_ARGS of scripts/bench.sh).
if [ ! -x ./kasan_ebpf_bench ]; then
	echo "kasan_ebpf_bench is missing from the initramfs: run make bench"
	exit 1
fi
echo "== bench: kernel $(uname -r), net.core.bpf_jit_kasan = $(cat /proc/sys/net/core/bpf_jit_kasan 2>/dev/null)"
./kasan_ebpf_bench
rc=$?
echo "== bench: loader exit status $rc, net.core.bpf_jit_kasan = $(cat /proc/sys/net/core/bpf_jit_kasan 2>/dev/null)"
# The benchmark's accesses are all valid: any KASAN report is a bug.
n=$(dmesg | grep -c "BUG: KASAN")
echo "== bench: KASAN reports in dmesg: $n"
[ "$n" = 0 ] || dmesg | grep -A 30 "BUG: KASAN" | head -60
exit $rc
