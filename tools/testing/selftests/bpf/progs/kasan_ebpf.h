/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by progs/kasan_ebpf.c and prog_tests/kasan_ebpf.c: where the
 * programs' pointers come from and where their accesses go, so that the test
 * can predict every KASAN report and find each access in the xlated program.
 */
#ifndef __KASAN_EBPF_H
#define __KASAN_EBPF_H

/* Bytes the verifier lets a program access through each kfunc's pointer. */
#define KASAN_BUF_SIZE		384

/*
 * bpf_kasan_uaf(): a kmalloc-512 object, freed; the window starts past
 * KASAN's free metadata at the start of the object.
 */
#define KASAN_UAF_OBJ		512
#define KASAN_UAF_OFF		64

/*
 * bpf_kasan_kmalloc_oob(): a 640-byte object in kmalloc-1k; the window is
 * [640, 1024), the poisoned rest of the slab object.
 */
#define KASAN_KMALLOC_OBJ	640
#define KASAN_KMALLOC_OFF	640

/*
 * bpf_kasan_vmalloc_oob(): a 3712-byte vmalloc area; the window is
 * [3712, 4096), the poisoned rest of its page.
 */
#define KASAN_VMALLOC_OBJ	3712
#define KASAN_VMALLOC_OFF	3712

/* Where kasan_forms gets its pointer from (global 'src'). */
enum kasan_src {
	KASAN_SRC_VALID,	/* bpf_kasan_kmalloc_valid(): never reports */
	KASAN_SRC_UAF,		/* slab-use-after-free */
	KASAN_SRC_KMALLOC_OOB,	/* slab-out-of-bounds */
	KASAN_SRC_VMALLOC_OOB,	/* vmalloc-out-of-bounds */
};

/*
 * The access that kasan_forms makes (global 'form'): one of each instruction
 * form that KASAN instruments, each at its own offset from the pointer,
 * KASAN_FORM_OFF(form), so that the test finds it in the xlated program.
 */
enum kasan_form {
	KASAN_LDX_B,		/* r0 = *(u8 *)(r1 + off) */
	KASAN_LDX_H,
	KASAN_LDX_W,
	KASAN_LDX_DW,
	KASAN_LDSX_B,		/* r0 = *(s8 *)(r1 + off), cpuv4 */
	KASAN_LDSX_H,
	KASAN_LDSX_W,
	KASAN_STX_B,		/* *(u8 *)(r1 + off) = r2 */
	KASAN_STX_H,
	KASAN_STX_W,
	KASAN_STX_DW,
	KASAN_ST_B,		/* *(u8 *)(r1 + off) = imm */
	KASAN_ST_H,
	KASAN_ST_W,
	KASAN_ST_DW,
	KASAN_ADD_W,		/* lock *(u32 *)(r1 + off) += w2 */
	KASAN_ADD_DW,
	KASAN_FETCH_ADD_W,	/* w2 = atomic_fetch_add((u32 *)(r1 + off), w2) */
	KASAN_FETCH_ADD_DW,
	KASAN_XCHG_W,		/* w2 = xchg32_32(r1 + off, w2) */
	KASAN_XCHG_DW,
	KASAN_CMPXCHG_W,	/* w0 = cmpxchg32_32(r1 + off, w0, w2) */
	KASAN_CMPXCHG_DW,
	KASAN_AND_W,		/* lock *(u32 *)(r1 + off) &= w2 */
	KASAN_AND_DW,
	KASAN_FETCH_AND_W,	/* w2 = atomic_fetch_and((u32 *)(r1 + off), w2) */
	KASAN_FETCH_AND_DW,
	KASAN_OR_W,		/* lock *(u32 *)(r1 + off) |= w2 */
	KASAN_OR_DW,
	KASAN_FETCH_OR_W,
	KASAN_FETCH_OR_DW,
	KASAN_XOR_W,		/* lock *(u32 *)(r1 + off) ^= w2 */
	KASAN_XOR_DW,
	KASAN_FETCH_XOR_W,
	KASAN_FETCH_XOR_DW,
	/*
	 * w0 = load_acquire((u8 *)(r1 + off)): BPF_STX | BPF_ATOMIC with imm
	 * BPF_LOAD_ACQ, a read through src_reg (r1), unlike every other
	 * atomic; its dst_reg (r0) holds 0, so a check of the wrong register
	 * would report a null-ptr-deref at another address.
	 */
	KASAN_LOAD_ACQ_B,
	KASAN_LOAD_ACQ_H,
	KASAN_LOAD_ACQ_W,
	KASAN_LOAD_ACQ_DW,
	/* store_release((u8 *)(r1 + off), w2): imm BPF_STORE_REL, a write */
	KASAN_STORE_REL_B,
	KASAN_STORE_REL_H,
	KASAN_STORE_REL_W,
	KASAN_STORE_REL_DW,
	KASAN_NR_FORMS,
};

/*
 * 8-byte aligned (atomics need it), all within KASAN_BUF_SIZE but its last
 * granule: an access there fails the inline fast path's check of the next
 * granule (past the end of the valid buffer, poisoned) and enters the slow
 * path, which test_slow_path_count() must not see for a valid access.
 */
#define KASAN_FORM_OFF(form)	(32 + 8 * (form))
_Static_assert(KASAN_FORM_OFF(KASAN_NR_FORMS) <= KASAN_BUF_SIZE - 8,
	       "every form's access lies within KASAN_BUF_SIZE, before its last granule");

/*
 * kasan_partial: bpf_kasan_kmalloc_oob(KASAN_PARTIAL_OBJ, 0, ...) in
 * kmalloc-128. The granule [96, 104) has 4 valid bytes, [96, 100): an access
 * that touches byte 100 or later must report, one below it must not. Each
 * access is named for its form and offset from the start of the object
 * (some straddle the granule boundary at 96); those named _NEG8 and _NEG32
 * are made through a pointer moved past them (r1 = p + 200 or p + 396), with
 * a negative offset that needs a disp8 or a disp32.
 */
#define KASAN_PARTIAL_MOVE8	200	/* offsets -104, -108: disp8 */
#define KASAN_PARTIAL_MOVE32	396	/* offset -300: disp32 */

#define KASAN_PARTIAL_OBJ	100
#define KASAN_PARTIAL_BUF	128

enum kasan_partial {
	/* bad: slab-out-of-bounds */
	KASAN_P_LDX_B_100,
	KASAN_P_LDX_H_99,
	KASAN_P_LDX_W_97,
	KASAN_P_LDX_DW_96,
	KASAN_P_LDSX_W_98,
	KASAN_P_STX_B_101,
	KASAN_P_ST_H_102,
	KASAN_P_STX_W_100,
	KASAN_P_LDX_DW_93,	/* [93, 101): straddles 96, ends past 100 */
	KASAN_P_STX_DW_94,	/* [94, 102) */
	KASAN_P_LDX_DW_96_NEG8,	/* (p + 200) - 104 */
	KASAN_P_LDX_DW_96_NEG32,	/* (p + 396) - 300 */
	/* good: within the object */
	KASAN_P_LDX_B_99,
	KASAN_P_LDX_H_98,
	KASAN_P_LDX_W_96,
	KASAN_P_STX_H_98,
	KASAN_P_ST_W_96,
	KASAN_P_LDX_DW_92,	/* [92, 100): straddles 96 */
	KASAN_P_LDX_W_94,	/* [94, 98) */
	KASAN_P_STX_DW_90,	/* [90, 98) */
	KASAN_P_STX_W_92_NEG8,	/* (p + 200) - 108 */
	KASAN_P_LDX_W_96_NEG32,	/* (p + 396) - 300 */
	KASAN_NR_PARTIAL,
};

/*
 * kasan_subprog: 'form' picks the subprogram that makes the bad access, or
 * the main function itself (which has subprograms all the same).
 */
enum kasan_subprog {
	KASAN_SUB_STATIC,	/* sub_static(): r0 = *(u64 *)(r1 + 200) */
	KASAN_SUB_GLOBAL,	/* sub_global(): *(u32 *)(r1 + 212) = w2 */
	KASAN_SUB_MAIN,		/* kasan_subprog(): r0 = *(u16 *)(r1 + 244) */
};

#define KASAN_SUB_STATIC_OFF	200
#define KASAN_SUB_GLOBAL_OFF	212
#define KASAN_SUB_MAIN_OFF	244

/*
 * kasan_blind: bad accesses after constants that constant blinding rewrites
 * (each ALU or ST immediate gains two insns), in a static subprogram or in
 * a bpf_loop callback ('form' picks which); the main function has blinded
 * constants before the call too.
 */
enum kasan_blind {
	KASAN_BLIND_STATIC,	/* blind_static(): r0 = *(u32 *)(r1 + 252) */
	KASAN_BLIND_LOOP,	/* blind_loop_cb(): *(u64 *)(r1 + 264) = 0x77 */
};

#define KASAN_BLIND_STATIC_OFF	252
#define KASAN_BLIND_LOOP_OFF	264

/* kasan_tail_tgt: r0 = *(u16 *)(r1 + 226); kasan_tail returns this on a miss. */
#define KASAN_TAIL_OFF		226
#define KASAN_TAIL_MISSED	42
#define KASAN_TAIL_HIT		7

/*
 * kasan_tail_r12 (key 0, a constant: a direct tail call) and
 * kasan_tail_r12_ind (key from the global 'tail_key': indirect) make
 * KASAN_TAIL_R12_CALLER_CHECKS valid accesses to the global 'tail_words'
 * before the tail call, one of them tail_words[2] += 1 (and the indirect one
 * a fourth, the load of its key); their target
 * kasan_tail_r12_tgt makes KASAN_TAIL_R12_TGT_CHECKS, the last one
 * r0 = *(u32 *)(r1 + 276) through a dangling pointer. Three checks or more:
 * both keep the shadow offset in r12 in mode 1.
 */
#define KASAN_TAIL_R12_OFF		276
#define KASAN_TAIL_R12_CALLER_CHECKS	3
#define KASAN_TAIL_R12_TGT_CHECKS	4

/* kasan_many: reads this many 8-byte words of a freed object in one run. */
#define KASAN_MANY		16

/*
 * kasan_many_lookups: inlined array lookups, each adding insns, together
 * more than a page of them: the program outgrows its allocation, and the
 * verifier moves it (bpf_prog_realloc()) while it inlines them.
 */
#define KASAN_LOOKUPS		128

/*
 * kasan_count: instrumented accesses in its inline asm, all to a heap buffer;
 * its eight accesses to the stack (through r10 or r7) must not be counted.
 * The seven lie within 56 bytes of the buffer (at most eight granules
 * wherever it starts), and nothing between them writes the base r6: the
 * atomic add writes memory only, the fetch-add w3, the cmpxchg r0. In
 * inline mode they share one check, and KASAN_COUNT_MERGED accesses have
 * none of their own.
 */
#define KASAN_COUNT_HEAP	7
#define KASAN_COUNT_MERGED	6

/*
 * kasan_mixed: r0 = *(u64 *)(r7 + 232), r7 pointing to the stack or, if
 * 'form' is not 0, to a freed object; and two more checked accesses.
 */
#define KASAN_MIXED_OFF		232
#define KASAN_MIXED_CHECKS	3

/*
 * kasan_spill_join: spills a stack pointer ('form' 0) or the address of the
 * global 'spill_word' ('form' not 0) to the same stack slot, fills it and
 * stores through it: the store saw both a stack and a map value pointer, so
 * it is checked; with the load of 'form', KASAN_SPILL_JOIN_CHECKS checks.
 */
#define KASAN_SPILL_JOIN_CHECKS	2

/*
 * kasan_priv_stack, an fentry program on bpf_fentry_test1() with
 * KASAN_PRIV_STACK_DEPTH bytes of stack, which the x86 JIT gives a private
 * (per-CPU) stack: it fills its stack with KASAN_PRIV_VAL through r10 and
 * through r8 = r10 - 64, calls bpf_kasan_wild(priv_addr, KASAN_BUF_SIZE),
 * reads r0 = *(u64 *)(r0 + KASAN_PRIV_OFF) through the result, sums its
 * stack and writes the sum to the global 'priv_out': KASAN_PRIV_OUT if the
 * stack kept its values across the call. Its checked accesses: the load of
 * 'priv_addr', the read through the kfunc's pointer and the store to
 * 'priv_out', none of its nine stack accesses.
 */
#define KASAN_PRIV_STACK_DEPTH	72
#define KASAN_PRIV_OFF		288
#define KASAN_PRIV_VAL		0x1122334455667788ULL
#define KASAN_PRIV_OUT		(3 * KASAN_PRIV_VAL + (__u32)KASAN_PRIV_VAL)
#define KASAN_PRIV_CHECKS	3

/*
 * kasan_gotox: an indirect jump (BPF_JA | BPF_X) through a jump table of
 * KASAN_NR_GOTOX entries, indexed by the global 'form', to one access each
 * (the first insn at each target), through the pointer that 'src' picks, at
 * KASAN_GOTOX_OFF(target); the program returns KASAN_GOTOX_RET(target), or
 * KASAN_GOTOX_MISS for an index past the table.
 */
enum kasan_gotox {
	KASAN_GOTOX_LDX_DW,	/* r0 = *(u64 *)(r1 + off) */
	KASAN_GOTOX_STX_W,	/* *(u32 *)(r1 + off) = w2 */
	KASAN_GOTOX_ST_H,	/* *(u16 *)(r1 + off) = 0x2222 */
	KASAN_GOTOX_LOAD_ACQ_W,	/* w0 = load_acquire((u32 *)(r1 + off)) */
	KASAN_GOTOX_STORE_REL_DW,	/* store_release((u64 *)(r1 + off), r2) */
	KASAN_NR_GOTOX,
};

#define KASAN_GOTOX_OFF(t)	(104 + 8 * (t))
#define KASAN_GOTOX_RET(t)	(100 + (t))
#define KASAN_GOTOX_MISS	99

/* The value of kasan_align_map (test_aligned_last_granule()). */
struct kasan_align_val {
	__u64 w[4];
};

/*
 * The kasan_merge_* programs (test_merged()): accesses through one pointer
 * from bpf_kasan_kmalloc_oob(KASAN_MERGE_OBJ, KASAN_MERGE_OFF,
 * KASAN_MERGE_BUF), whose bytes [0, KASAN_MERGE_VALID) are valid and the
 * rest out of bounds; each program's accesses lie within 9 bytes, so that
 * the inline mode merges their checks into one where the rules allow it.
 */
#define KASAN_MERGE_OBJ		100
#define KASAN_MERGE_OFF		92
#define KASAN_MERGE_BUF		36
#define KASAN_MERGE_VALID	(KASAN_MERGE_OBJ - KASAN_MERGE_OFF)

#endif /* __KASAN_EBPF_H */
