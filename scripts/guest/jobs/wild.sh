#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A wild pointer reaching a KASAN check, the tests that skip outside this
# job: kasan_ebpf_wild (prog_tests/kasan_ebpf_crash.c), in each variant of
# the checks (inline with the shadow offset in r12, inline without it,
# outline) a BPF program accesses NULL + 4, a user address and a
# non-canonical address through a pointer from the faulty kfunc
# bpf_kasan_wild(); and kasan_ebpf_wild_token (prog_tests/kasan_ebpf_token.c),
# the same in a subprogram of a program loaded with a BPF token. KASAN must
# report each access, which then oopses: each case runs in a child process
# that the oops kills, between "kasan_ebpf-planted: begin/end <label>
# kasan,oops" lines the tests write to the kernel log. The tests set
# kernel.panic_on_oops to 0 (the config has CONFIG_PANIC_ON_OOPS=y); the
# kernel stays fit for the next case (measured: all cases in one boot, and
# RCU grace periods still complete after them).
#
# kasan_ebpf.case=<subtest> on the kernel command line runs only that
# subtest of kasan_ebpf_wild (e.g. inline_r12_null).
. /kasan-ebpf/lib.sh

sel='kasan_ebpf_wild*'
for arg in $(cat /proc/cmdline); do
	case $arg in
	kasan_ebpf.case=*) sel="kasan_ebpf_wild/${arg#kasan_ebpf.case=}" ;;
	esac
done
./test_progs -a "$sel" || rc=1
exit $rc
