// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN entry points for JIT-compiled BPF programs.
 *
 * The x86-64 BPF JIT checks the loads, stores and atomic operations of BPF
 * programs (arch/x86/net/bpf_jit_kasan.rs). In its inline mode, a fast path
 * in the program proves most accesses valid from the shadow alone and
 * leaves the others to kasan_bpf_check_access(); in its outline mode, every
 * access calls __asan_{load,store}N() as compiled code does, and every
 * fault-tolerant load it checks calls kasan_bpf_probe_load{1,2,4,8}().
 * Either way the verdict is KASAN's own range check, reported at an address
 * within the code of the program's instruction, and the report names the
 * BPF program and instruction (kasan_print_bpf_insn()).
 *
 * Like the rest of the KASAN runtime, this file is built without ftrace
 * (see the Makefile): a tracing program attached to these functions would
 * itself be checked, from within the check.
 */

#include <linux/filter.h>
#include <linux/kasan.h>
#include <linux/uaccess.h>

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
	return kasan_check_range((const void *)addr, size, write, ip);
}

/**
 * kasan_bpf_addr_has_shadow - whether KASAN has shadow for an access
 * @addr: the address accessed
 * @size: the access size in bytes
 *
 * Whether the shadow of every byte of the access is mapped, so that KASAN
 * can judge it. An access without shadow (a user, wild or non-canonical
 * address, NULL) faults: after reporting one, the slow path of a merged
 * group of accesses stops, as the program would.
 *
 * Return: true if the access has shadow, mapped.
 */
bool kasan_bpf_addr_has_shadow(unsigned long addr, size_t size)
{
	unsigned long last = addr + size - 1;
	u8 shadow;

	if (!size || last < addr || !addr_has_metadata((const void *)addr) ||
	    !addr_has_metadata((const void *)last))
		return false;
	/* At most two granules: their shadow is the first and last byte's. */
	return !get_kernel_nofault(shadow, (u8 *)kasan_mem_to_shadow((void *)addr)) &&
	       !get_kernel_nofault(shadow, (u8 *)kasan_mem_to_shadow((void *)last));
}

/**
 * kasan_bpf_check_probe - check a fault-tolerant load of a BPF program
 * @addr: the address read
 * @size: the load size in bytes (1, 2, 4 or 8)
 * @ip: the JIT address of the load
 *
 * The verifier makes loads through BTF pointers fault-tolerant
 * (BPF_PROBE_MEM): a bad address must not oops, the load's exception table
 * entry zeroes its destination instead. The JIT checks such a load only if
 * its pointer is trusted on every path; KASAN judges it only where the
 * kernel has shadow for it, mapped: for any other address (user, wild,
 * unmapped) the check says nothing and leaves the fault to the load.
 *
 * Return: true if the access is valid or not KASAN's to judge, false if it
 * was reported.
 */
bool kasan_bpf_check_probe(unsigned long addr, size_t size, unsigned long ip)
{
	if (!kasan_bpf_addr_has_shadow(addr, size))
		return true;
	return kasan_check_range((const void *)addr, size, false, ip);
}

/**
 * kasan_print_bpf_insn - name the BPF insn in a report, if there is one
 * @ip: the address the report is about
 *
 * Called while KASAN prints a report, so that the line is part of it: it is
 * printed before a panic that the report may cause (panic_on_warn,
 * kasan.fault=panic) and cannot interleave with other reports. Prints
 * nothing unless @ip is in a JIT-compiled BPF program with KASAN checks.
 */
void kasan_print_bpf_insn(unsigned long ip)
{
	bpf_jit_kasan_describe(ip);
}

/*
 * kasan_bpf_probe_load{1,2,4,8}(addr) - the outline mode's check of a
 * fault-tolerant load, the counterpart of __asan_loadN() for it: called from
 * the program, and reported at the return address, like compiled code.
 */
#define DEFINE_KASAN_BPF_PROBE_LOAD(size)				\
void kasan_bpf_probe_load##size(unsigned long addr)			\
{									\
	kasan_bpf_check_probe(addr, size, _RET_IP_);			\
}

DEFINE_KASAN_BPF_PROBE_LOAD(1);
DEFINE_KASAN_BPF_PROBE_LOAD(2);
DEFINE_KASAN_BPF_PROBE_LOAD(4);
DEFINE_KASAN_BPF_PROBE_LOAD(8);
