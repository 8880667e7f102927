#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In-guest tests: the kasan_ebpf selftests in the real test_progs, and a
# few upstream tests that exercise loads, stores, atomics, subprograms and
# tail calls with the instrumentation on. Exit status 0 iff all passed.
#
# The kasan_ebpf tests cause KASAN reports on purpose and check each one
# themselves: they run in a planted region of kind kasan. The upstream
# tests run outside any region: on the host, scripts/check-console.py fails
# the job on any KASAN report, kasan_ebpf: line, oops or warning there.
. /kasan-ebpf/lib.sh

# test_progs selections (-t, -a, -d options): ours (exactly kasan_ebpf:
# kasan_ebpf_wild* and kasan_ebpf_panic crash the kernel on purpose and run
# in their own jobs), and upstream's.
KASAN_EBPF_SEL=${KASAN_EBPF_SEL:--a kasan_ebpf -a kasan_ebpf_obj}
UPSTREAM_SEL=${UPSTREAM_SEL:--t atomics -t verifier_ldsx}

check "sysctl net.core.bpf_jit_kasan exists and defaults to 1" \
	[ "$(cat /proc/sys/net/core/bpf_jit_kasan 2>/dev/null)" = 1 ]
check "the kernel has the kasan_bpf entry points" \
	grep -q " kasan_bpf_check_access$" /proc/kallsyms

if [ ! -x ./test_progs ]; then
	echo "test_progs is missing from the initramfs"
	exit 1
fi
planted_begin kasan_ebpf kasan
# shellcheck disable=SC2086 # the selections are lists of options
./test_progs $KASAN_EBPF_SEL || rc=1
planted_end kasan_ebpf
# shellcheck disable=SC2086
./test_progs $UPSTREAM_SEL || rc=1
exit $rc
