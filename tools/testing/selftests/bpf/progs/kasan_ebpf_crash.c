// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for prog_tests/kasan_ebpf_crash.c, which run only in guests
 * booted for them: each bad access here is the last thing its task does.
 *
 * The wild_* programs access the address in the global 'wild_addr' through
 * the pointer bpf_kasan_wild() returns, which the verifier trusts as
 * PTR_TO_MEM. KASAN must report the access, which then oopses. They are
 * written in asm so that the test knows their accesses exactly:
 *
 *  - wild_r12: KASAN_CRASH_R12_CHECKS checked accesses, enough for the
 *    inline checks to keep the shadow offset in r12; its wild access is an
 *    8-byte load.
 *  - wild_few: KASAN_CRASH_FEW_CHECKS, too few for r12: the checks add the
 *    offset from memory; its wild access is a 4-byte store. Also loaded in
 *    outline mode.
 *
 * The wild programs are fentry programs on bpf_fentry_test1(), which
 * BPF_PROG_TEST_RUN calls in the caller's task: the program runs in an RCU
 * read-side critical section with migration disabled, so the oops kills
 * that task, exit_rcu() ends its critical section, and the kernel lives on
 * (with kernel.panic_on_oops at 0). BPF_PROG_TEST_RUN runs tc programs with
 * bottom halves disabled, where any oops is a "Fatal exception in
 * interrupt" panic, and syscall programs in an RCU tasks trace read-side
 * critical section, which a killed task leaves with a warning. The
 * trampoline's recursion counter of the program stays raised on the CPU
 * where it died: the test loads the program anew for each run.
 *
 * crash_uaf reads a freed object: with panic_on_warn, KASAN's report is
 * the last thing the kernel prints before it panics. A tc program: nothing
 * needs to survive it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bpf_misc.h"
#include "kasan_ebpf_crash.h"

extern u8 *bpf_kasan_wild(__u64 addr, const int rdwr_buf_size) __ksym;
extern u8 *bpf_kasan_uaf(__u32 obj_size, __u32 offset,
			 const int rdwr_buf_size) __ksym;

/* Set by the test: the address the wild programs access. */
__u64 wild_addr;
/* Written by wild_r12 after its wild load (never reached). */
__u64 sink;

/*
 * Clang emits no BTF FUNC record for a kfunc that only inline asm calls,
 * and libbpf needs one to link the program: this call makes it, as in
 * verifier_ref_tracking.c. Never loaded: no program calls it.
 */
void __kfunc_btf_root(void)
{
	bpf_kasan_wild(0, KASAN_CRASH_WILD_BUF);
	bpf_kasan_uaf(0, 0, KASAN_CRASH_UAF_BUF);
}

/*
 * r1 = wild_addr (checked: a map value),
 * r0 = bpf_kasan_wild(r1, KASAN_CRASH_WILD_BUF),
 * r1 = *(u64 *)(r0 + 0) (checked: the wild access),
 * sink = r1 (checked). Returns 0, as fentry programs must.
 */
SEC("fentry/bpf_fentry_test1")
__naked int wild_r12(void)
{
	asm volatile (
	"r6 = %[wild_addr] ll;"
	"r1 = *(u64 *)(r6 + 0);"
	"r2 = %[buf];"
	"call %[bpf_kasan_wild];"
	"if r0 == 0 goto l0_%=;"
	"r1 = *(u64 *)(r0 + 0);"
	"r7 = %[sink] ll;"
	"*(u64 *)(r7 + 0) = r1;"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"r0 = 0;"
	"exit;"
	:
	: __imm(bpf_kasan_wild),
	  __imm_addr(wild_addr),
	  __imm_addr(sink),
	  __imm_const(buf, KASAN_CRASH_WILD_BUF)
	: __clobber_all);
}

/*
 * r1 = wild_addr (checked: a map value),
 * r0 = bpf_kasan_wild(r1, KASAN_CRASH_WILD_BUF),
 * *(u32 *)(r0 + 0) = w2 (checked: the wild access). Returns 0.
 */
SEC("fentry/bpf_fentry_test1")
__naked int wild_few(void)
{
	asm volatile (
	"r6 = %[wild_addr] ll;"
	"r1 = *(u64 *)(r6 + 0);"
	"r2 = %[buf];"
	"call %[bpf_kasan_wild];"
	"if r0 == 0 goto l0_%=;"
	"w2 = 1;"
	"*(u32 *)(r0 + 0) = w2;"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"r0 = 0;"
	"exit;"
	:
	: __imm(bpf_kasan_wild),
	  __imm_addr(wild_addr),
	  __imm_const(buf, KASAN_CRASH_WILD_BUF)
	: __clobber_all);
}

/*
 * Two stores through the wild pointer that share one check (inline mode,
 * bpf_jit_kasan/merge.rs): KASAN reports the first, whose address has no
 * shadow, and the slow path stops there, as the program does when that
 * store oopses: one report, not two.
 */
SEC("fentry/bpf_fentry_test1")
__naked int wild_merged(void)
{
	asm volatile (
	"r6 = %[wild_addr] ll;"
	"r1 = *(u64 *)(r6 + 0);"
	"r2 = %[buf];"
	"call %[bpf_kasan_wild];"
	"if r0 == 0 goto l0_%=;"
	"w2 = 1;"
	"*(u32 *)(r0 + 0) = w2;"
	"*(u32 *)(r0 + 4) = w2;"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"r0 = 0;"
	"exit;"
	:
	: __imm(bpf_kasan_wild),
	  __imm_addr(wild_addr),
	  __imm_const(buf, KASAN_CRASH_WILD_BUF)
	: __clobber_all);
}

/*
 * r0 = bpf_kasan_uaf(KASAN_CRASH_UAF_OBJ, KASAN_CRASH_UAF_OFF, ...),
 * r1 = *(u64 *)(r0 + KASAN_CRASH_UAF_READ).
 */
SEC("tc")
__naked int crash_uaf(void)
{
	asm volatile (
	"r1 = %[obj];"
	"r2 = %[off];"
	"r3 = %[buf];"
	"call %[bpf_kasan_uaf];"
	"if r0 == 0 goto l0_%=;"
	"r1 = *(u64 *)(r0 + %[read]);"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"r0 = 1;"
	"exit;"
	:
	: __imm(bpf_kasan_uaf),
	  __imm_const(obj, KASAN_CRASH_UAF_OBJ),
	  __imm_const(off, KASAN_CRASH_UAF_OFF),
	  __imm_const(buf, KASAN_CRASH_UAF_BUF),
	  __imm_const(read, KASAN_CRASH_UAF_READ)
	: __clobber_all);
}

char _license[] SEC("license") = "GPL";
