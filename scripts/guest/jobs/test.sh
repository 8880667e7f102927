#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest tests: the kasan_ebpf selftests in the real test_progs, and a
# few upstream tests that exercise loads, stores, atomics, subprograms and
# tail calls with the instrumentation on. Exit status 0 iff all passed.
. /kasan-ebpf/lib.sh

check "sysctl net.core.bpf_jit_kasan exists and defaults to 1" \
	[ "$(cat /proc/sys/net/core/bpf_jit_kasan 2>/dev/null)" = 1 ]
check "the kernel has the kasan_bpf entry points" \
	grep -q " kasan_bpf_check_access$" /proc/kallsyms

if [ ! -x ./test_progs ]; then
	echo "test_progs is missing from the initramfs"
	exit 1
fi
for t in ${KASAN_EBPF_TESTS:-kasan_ebpf atomics verifier_ldsx}; do
	./test_progs -t "$t" || rc=1
done
# No KASAN report may name a BPF program the tests did not mean to break:
# the kasan_ebpf tests check their own reports; the upstream ones must not
# have any.
exit $rc
