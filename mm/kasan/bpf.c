// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN entry points for JIT-compiled BPF programs.
 *
 * The x86-64 BPF JIT checks the loads, stores and atomic operations of BPF
 * programs (arch/x86/net/bpf_jit_kasan.rs). In its inline mode, a fast path
 * in the program proves most accesses valid from the shadow alone and
 * leaves the others to kasan_bpf_check_access(); in its outline mode, every
 * access calls one of kasan_bpf_{load,store}{1,2,4,8}(), the way compiled
 * code calls __asan_{load,store}N(). Either way the verdict is KASAN's own
 * range check, reported at the address of the program's instruction and
 * followed by a line that names the BPF program and instruction.
 */

#include <linux/filter.h>
#include <linux/kasan.h>

#include "kasan.h"

/**
 * kasan_bpf_check_access - check an access of a JIT-compiled BPF program
 * @addr: the address accessed
 * @size: the access size in bytes
 * @write: whether the access writes
 * @ip: the JIT address of the instruction making the access
 *
 * Return: true if the access is valid, false if it was reported.
 */
bool kasan_bpf_check_access(unsigned long addr, size_t size, bool write,
			    unsigned long ip)
{
	if (kasan_check_range((const void *)addr, size, write, ip))
		return true;
	bpf_jit_kasan_describe(ip);
	return false;
}

#define DEFINE_KASAN_BPF_OUTLINE(size)					\
void kasan_bpf_load##size(unsigned long addr, unsigned long ip)		\
{									\
	kasan_bpf_check_access(addr, size, false, ip);			\
}									\
void kasan_bpf_store##size(unsigned long addr, unsigned long ip)	\
{									\
	kasan_bpf_check_access(addr, size, true, ip);			\
}

DEFINE_KASAN_BPF_OUTLINE(1);
DEFINE_KASAN_BPF_OUTLINE(2);
DEFINE_KASAN_BPF_OUTLINE(4);
DEFINE_KASAN_BPF_OUTLINE(8);
