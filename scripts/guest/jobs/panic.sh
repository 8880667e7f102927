#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-append: panic_on_warn=1
# guest-remove: kasan_multi_shot
# guest-expect: panic
#
# A KASAN report in a BPF program with panic_on_warn=1, as syzbot and most
# fuzzing fleets boot: test_progs -a kasan_ebpf_panic
# (prog_tests/kasan_ebpf_crash.c) makes one use-after-free read in a tc
# program, and KASAN's end_report() panics. The report must still name the
# program and instruction (its "kasan_ebpf:" line, inside the report).
# Without kasan_multi_shot: with it, KASAN never panics on warn. The host
# checks the console with panic.expect; reaching the end of this script
# means the kernel did not panic, which fails the job.
. /kasan-ebpf/lib.sh

# -v: the test's output goes to the console as it runs, not after the test.
./test_progs -v -a kasan_ebpf_panic
check "panic: the kernel panicked at KASAN's report" false
exit 1
