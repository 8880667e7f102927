// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for prog_tests/kasan_ebpf.c: bad and good accesses through
 * pointers from bpf_kasan_testmod's kfuncs, which the verifier types as
 * PTR_TO_MEM, so that every access is an ordinary load, store or atomic that
 * the JIT instruments with KASAN checks.
 *
 * Accesses are written in inline asm, one instruction form each, at the
 * offsets of progs/kasan_ebpf.h: the test finds each one in the xlated
 * program by its opcode and offset, and checks that KASAN's report names that
 * instruction. Each asm copies the pointer into r1 and uses r0 and r2 as the
 * other operands, so that W-sized atomics get their w registers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <linux/bpf_common.h>
#include "bpf_misc.h"
#include "kasan_ebpf.h"

/*
 * Instructions that clang 19's BPF assembler has no syntax for (load-acquire,
 * store-release, gotox) are emitted as ".8byte %[insn]", as upstream's
 * verifier_load_acquire.c and verifier_gotox.c do with BPF_ATOMIC_OP() and
 * BPF_RAW_INSN() of tools/include/linux/filter.h. That header pulls in the
 * uapi linux/bpf.h, whose types clash with vmlinux.h's, and vmlinux.h's own
 * struct bpf_insn cannot be used: its preserve_access_index attribute keeps
 * clang from folding the instruction into an "i" operand. Hence this plain
 * copy of the layout, and the opcodes that only the uapi header defines.
 */
#ifndef BPF_DW
#define BPF_DW		0x18
#endif
#ifndef BPF_ATOMIC
#define BPF_ATOMIC	0xc0
#endif
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ	0x100
#endif
#ifndef BPF_STORE_REL
#define BPF_STORE_REL	0x110
#endif

struct kasan_raw_insn {
	__u8 code;
	__u8 dst_reg:4;
	__u8 src_reg:4;
	__s16 off;
	__s32 imm;
};

#define RAW_INSN(CODE, DST, SRC, OFF, IMM)				\
	((struct kasan_raw_insn) {					\
		.code = (CODE), .dst_reg = (DST), .src_reg = (SRC),	\
		.off = (OFF), .imm = (IMM) })

/* As BPF_ATOMIC_OP() of tools/include/linux/filter.h. */
#define ATOMIC_OP(SIZE, OP, DST, SRC, OFF)				\
	RAW_INSN(BPF_STX | BPF_ATOMIC | (SIZE), DST, SRC, OFF, OP)

/* gotox DST */
#define GOTOX(DST)	RAW_INSN(BPF_JMP | BPF_JA | BPF_X, DST, 0, 0, 0)

extern u8 *bpf_kasan_uaf(__u32 obj_size, __u32 offset,
			 const int rdwr_buf_size) __ksym;
extern u8 *bpf_kasan_kmalloc_oob(__u32 obj_size, __u32 offset,
				 const int rdwr_buf_size) __ksym;
extern u8 *bpf_kasan_vmalloc_oob(__u32 obj_size, __u32 offset,
				 const int rdwr_buf_size) __ksym;
extern u8 *bpf_kasan_kmalloc_valid(const int rdwr_buf_size) __ksym;
extern __u32 bpf_kasan_free_all(void) __ksym;
extern u8 *bpf_kasan_wild(__u64 addr, const int rdwr_buf_size) __ksym;

/* Set by the test before a run. */
int src;	/* enum kasan_src, for kasan_forms */
int form;	/* enum kasan_form, kasan_partial, kasan_subprog, kasan_blind */

/* Set by the programs: the pointer a kfunc returned, to check report addresses. */
__u64 base;

/* Accessed by the tail call programs: valid map value memory. */
__u64 tail_words[4];
__u32 tail_key;		/* kasan_tail_r12_ind's key, set by the test */

/* kasan_spill_join's store goes here on one of its paths. */
__u64 spill_word;

/* kasan_priv_stack: the address it reads through (set by the test) */
__u64 priv_addr;
/* and the sum of its stack, KASAN_PRIV_OUT (set by the program) */
__u64 priv_out;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} kasan_jmp_table SEC(".maps");

/* One access through p, in the exact instruction form given by 'insn'. */
#define ACCESS(p, insn, offset)						\
	({								\
		asm volatile ("r1 = %[ptr];"				\
			      "r2 = 1;"					\
			      "r0 = 0;"					\
			      insn					\
			      :						\
			      : [ptr]"r"(p), [off]"i"(offset)		\
			      : "r0", "r1", "r2", "memory");		\
	})

/*
 * The same through r1 = p + move, for an access at 'at' from p: its insn
 * has the negative offset -noff, noff = move - at.
 */
#define ACCESS_MOVED(p, move, insn, at)					\
	({								\
		asm volatile ("r1 = %[ptr];"				\
			      "r1 += %[mv];"				\
			      "r2 = 1;"					\
			      "r0 = 0;"					\
			      insn					\
			      :						\
			      : [ptr]"r"(p), [mv]"i"(move),		\
				[noff]"i"((move) - (at))		\
			      : "r0", "r1", "r2", "memory");		\
	})

/* The access of kasan_forms' form f, at KASAN_FORM_OFF(f). */
#define FORM_ACCESS(p, f, insn)	ACCESS(p, insn, KASAN_FORM_OFF(f))

/*
 * The same for a form that has no assembler syntax: 'raw' is the
 * instruction, e.g. ATOMIC_OP(BPF_B, BPF_LOAD_ACQ, BPF_REG_0, BPF_REG_1, off).
 */
#define FORM_RAW(p, raw)						\
	({								\
		asm volatile ("r1 = %[ptr];"				\
			      "r2 = 1;"					\
			      "r0 = 0;"					\
			      ".8byte %[insn];"				\
			      :						\
			      : [ptr]"r"(p), __imm_insn(insn, raw)	\
			      : "r0", "r1", "r2", "memory");		\
	})

/* w0 = load_acquire((<size> *)(r1 + KASAN_FORM_OFF(f))) */
#define FORM_LOAD_ACQ(p, f, size)					\
	FORM_RAW(p, ATOMIC_OP(size, BPF_LOAD_ACQ, BPF_REG_0, BPF_REG_1,	\
			      KASAN_FORM_OFF(f)))

/* store_release((<size> *)(r1 + KASAN_FORM_OFF(f)), w2) */
#define FORM_STORE_REL(p, f, size)					\
	FORM_RAW(p, ATOMIC_OP(size, BPF_STORE_REL, BPF_REG_1, BPF_REG_2,	\
			      KASAN_FORM_OFF(f)))

static __always_inline u8 *get_buf(void)
{
	switch (src) {
	case KASAN_SRC_UAF:
		return bpf_kasan_uaf(KASAN_UAF_OBJ, KASAN_UAF_OFF,
				     KASAN_BUF_SIZE);
	case KASAN_SRC_KMALLOC_OOB:
		return bpf_kasan_kmalloc_oob(KASAN_KMALLOC_OBJ,
					     KASAN_KMALLOC_OFF, KASAN_BUF_SIZE);
	case KASAN_SRC_VMALLOC_OOB:
		return bpf_kasan_vmalloc_oob(KASAN_VMALLOC_OBJ,
					     KASAN_VMALLOC_OFF, KASAN_BUF_SIZE);
	default:
		return bpf_kasan_kmalloc_valid(KASAN_BUF_SIZE);
	}
}

/* Makes the access 'form' through the pointer that 'src' picks. */
SEC("syscall")
int kasan_forms(void *ctx)
{
	u8 *p = get_buf();

	if (!p)
		return 1;
	base = (__u64)p;

	switch (form) {
	case KASAN_LDX_B:
		FORM_ACCESS(p, KASAN_LDX_B,
			    "r0 = *(u8 *)(r1 + %[off]);");
		break;
	case KASAN_LDX_H:
		FORM_ACCESS(p, KASAN_LDX_H,
			    "r0 = *(u16 *)(r1 + %[off]);");
		break;
	case KASAN_LDX_W:
		FORM_ACCESS(p, KASAN_LDX_W,
			    "r0 = *(u32 *)(r1 + %[off]);");
		break;
	case KASAN_LDX_DW:
		FORM_ACCESS(p, KASAN_LDX_DW,
			    "r0 = *(u64 *)(r1 + %[off]);");
		break;
	case KASAN_LDSX_B:
		FORM_ACCESS(p, KASAN_LDSX_B,
			    "r0 = *(s8 *)(r1 + %[off]);");
		break;
	case KASAN_LDSX_H:
		FORM_ACCESS(p, KASAN_LDSX_H,
			    "r0 = *(s16 *)(r1 + %[off]);");
		break;
	case KASAN_LDSX_W:
		FORM_ACCESS(p, KASAN_LDSX_W,
			    "r0 = *(s32 *)(r1 + %[off]);");
		break;
	case KASAN_STX_B:
		FORM_ACCESS(p, KASAN_STX_B,
			    "*(u8 *)(r1 + %[off]) = w2;");
		break;
	case KASAN_STX_H:
		FORM_ACCESS(p, KASAN_STX_H,
			    "*(u16 *)(r1 + %[off]) = w2;");
		break;
	case KASAN_STX_W:
		FORM_ACCESS(p, KASAN_STX_W,
			    "*(u32 *)(r1 + %[off]) = w2;");
		break;
	case KASAN_STX_DW:
		FORM_ACCESS(p, KASAN_STX_DW,
			    "*(u64 *)(r1 + %[off]) = r2;");
		break;
	case KASAN_ST_B:
		FORM_ACCESS(p, KASAN_ST_B,
			    "*(u8 *)(r1 + %[off]) = 0x11;");
		break;
	case KASAN_ST_H:
		FORM_ACCESS(p, KASAN_ST_H,
			    "*(u16 *)(r1 + %[off]) = 0x2222;");
		break;
	case KASAN_ST_W:
		FORM_ACCESS(p, KASAN_ST_W,
			    "*(u32 *)(r1 + %[off]) = 0x33333333;");
		break;
	case KASAN_ST_DW:
		FORM_ACCESS(p, KASAN_ST_DW,
			    "*(u64 *)(r1 + %[off]) = 0x44;");
		break;
	case KASAN_ADD_W:
		FORM_ACCESS(p, KASAN_ADD_W,
			    "lock *(u32 *)(r1 + %[off]) += w2;");
		break;
	case KASAN_ADD_DW:
		FORM_ACCESS(p, KASAN_ADD_DW,
			    "lock *(u64 *)(r1 + %[off]) += r2;");
		break;
	case KASAN_FETCH_ADD_W:
		FORM_ACCESS(p, KASAN_FETCH_ADD_W,
			    "w2 = atomic_fetch_add((u32 *)(r1 + %[off]), w2);");
		break;
	case KASAN_FETCH_ADD_DW:
		FORM_ACCESS(p, KASAN_FETCH_ADD_DW,
			    "r2 = atomic_fetch_add((u64 *)(r1 + %[off]), r2);");
		break;
	case KASAN_XCHG_W:
		FORM_ACCESS(p, KASAN_XCHG_W,
			    "w2 = xchg32_32(r1 + %[off], w2);");
		break;
	case KASAN_XCHG_DW:
		FORM_ACCESS(p, KASAN_XCHG_DW,
			    "r2 = xchg_64(r1 + %[off], r2);");
		break;
	case KASAN_CMPXCHG_W:
		FORM_ACCESS(p, KASAN_CMPXCHG_W,
			    "w0 = cmpxchg32_32(r1 + %[off], w0, w2);");
		break;
	case KASAN_CMPXCHG_DW:
		FORM_ACCESS(p, KASAN_CMPXCHG_DW,
			    "r0 = cmpxchg_64(r1 + %[off], r0, r2);");
		break;
	case KASAN_AND_W:
		FORM_ACCESS(p, KASAN_AND_W,
			    "lock *(u32 *)(r1 + %[off]) &= w2;");
		break;
	case KASAN_AND_DW:
		FORM_ACCESS(p, KASAN_AND_DW,
			    "lock *(u64 *)(r1 + %[off]) &= r2;");
		break;
	case KASAN_FETCH_AND_W:
		FORM_ACCESS(p, KASAN_FETCH_AND_W,
			    "w2 = atomic_fetch_and((u32 *)(r1 + %[off]), w2);");
		break;
	case KASAN_FETCH_AND_DW:
		FORM_ACCESS(p, KASAN_FETCH_AND_DW,
			    "r2 = atomic_fetch_and((u64 *)(r1 + %[off]), r2);");
		break;
	case KASAN_OR_W:
		FORM_ACCESS(p, KASAN_OR_W,
			    "lock *(u32 *)(r1 + %[off]) |= w2;");
		break;
	case KASAN_OR_DW:
		FORM_ACCESS(p, KASAN_OR_DW,
			    "lock *(u64 *)(r1 + %[off]) |= r2;");
		break;
	case KASAN_FETCH_OR_W:
		FORM_ACCESS(p, KASAN_FETCH_OR_W,
			    "w2 = atomic_fetch_or((u32 *)(r1 + %[off]), w2);");
		break;
	case KASAN_FETCH_OR_DW:
		FORM_ACCESS(p, KASAN_FETCH_OR_DW,
			    "r2 = atomic_fetch_or((u64 *)(r1 + %[off]), r2);");
		break;
	case KASAN_XOR_W:
		FORM_ACCESS(p, KASAN_XOR_W,
			    "lock *(u32 *)(r1 + %[off]) ^= w2;");
		break;
	case KASAN_XOR_DW:
		FORM_ACCESS(p, KASAN_XOR_DW,
			    "lock *(u64 *)(r1 + %[off]) ^= r2;");
		break;
	case KASAN_FETCH_XOR_W:
		FORM_ACCESS(p, KASAN_FETCH_XOR_W,
			    "w2 = atomic_fetch_xor((u32 *)(r1 + %[off]), w2);");
		break;
	case KASAN_FETCH_XOR_DW:
		FORM_ACCESS(p, KASAN_FETCH_XOR_DW,
			    "r2 = atomic_fetch_xor((u64 *)(r1 + %[off]), r2);");
		break;
	case KASAN_LOAD_ACQ_B:
		FORM_LOAD_ACQ(p, KASAN_LOAD_ACQ_B, BPF_B);
		break;
	case KASAN_LOAD_ACQ_H:
		FORM_LOAD_ACQ(p, KASAN_LOAD_ACQ_H, BPF_H);
		break;
	case KASAN_LOAD_ACQ_W:
		FORM_LOAD_ACQ(p, KASAN_LOAD_ACQ_W, BPF_W);
		break;
	case KASAN_LOAD_ACQ_DW:
		FORM_LOAD_ACQ(p, KASAN_LOAD_ACQ_DW, BPF_DW);
		break;
	case KASAN_STORE_REL_B:
		FORM_STORE_REL(p, KASAN_STORE_REL_B, BPF_B);
		break;
	case KASAN_STORE_REL_H:
		FORM_STORE_REL(p, KASAN_STORE_REL_H, BPF_H);
		break;
	case KASAN_STORE_REL_W:
		FORM_STORE_REL(p, KASAN_STORE_REL_W, BPF_W);
		break;
	case KASAN_STORE_REL_DW:
		FORM_STORE_REL(p, KASAN_STORE_REL_DW, BPF_DW);
		break;
	default:
		return 2;
	}
	return 0;
}

/* Makes the access 'form' around the partially valid last granule. */
SEC("syscall")
int kasan_partial(void *ctx)
{
	u8 *p = bpf_kasan_kmalloc_oob(KASAN_PARTIAL_OBJ, 0, KASAN_PARTIAL_BUF);

	if (!p)
		return 1;
	base = (__u64)p;

	switch (form) {
	case KASAN_P_LDX_B_100:
		ACCESS(p, "r0 = *(u8 *)(r1 + %[off]);", 100);
		break;
	case KASAN_P_LDX_H_99:
		ACCESS(p, "r0 = *(u16 *)(r1 + %[off]);", 99);
		break;
	case KASAN_P_LDX_W_97:
		ACCESS(p, "r0 = *(u32 *)(r1 + %[off]);", 97);
		break;
	case KASAN_P_LDX_DW_96:
		ACCESS(p, "r0 = *(u64 *)(r1 + %[off]);", 96);
		break;
	case KASAN_P_LDSX_W_98:
		ACCESS(p, "r0 = *(s32 *)(r1 + %[off]);", 98);
		break;
	case KASAN_P_STX_B_101:
		ACCESS(p, "*(u8 *)(r1 + %[off]) = w2;", 101);
		break;
	case KASAN_P_ST_H_102:
		ACCESS(p, "*(u16 *)(r1 + %[off]) = 0x2222;", 102);
		break;
	case KASAN_P_STX_W_100:
		ACCESS(p, "*(u32 *)(r1 + %[off]) = w2;", 100);
		break;
	case KASAN_P_LDX_B_99:
		ACCESS(p, "r0 = *(u8 *)(r1 + %[off]);", 99);
		break;
	case KASAN_P_LDX_H_98:
		ACCESS(p, "r0 = *(u16 *)(r1 + %[off]);", 98);
		break;
	case KASAN_P_LDX_W_96:
		ACCESS(p, "r0 = *(u32 *)(r1 + %[off]);", 96);
		break;
	case KASAN_P_STX_H_98:
		ACCESS(p, "*(u16 *)(r1 + %[off]) = w2;", 98);
		break;
	case KASAN_P_ST_W_96:
		ACCESS(p, "*(u32 *)(r1 + %[off]) = 0x33333333;", 96);
		break;
	case KASAN_P_LDX_DW_93:
		ACCESS(p, "r0 = *(u64 *)(r1 + %[off]);", 93);
		break;
	case KASAN_P_STX_DW_94:
		ACCESS(p, "*(u64 *)(r1 + %[off]) = r2;", 94);
		break;
	case KASAN_P_LDX_DW_96_NEG8:
		ACCESS_MOVED(p, KASAN_PARTIAL_MOVE8,
			     "r0 = *(u64 *)(r1 - %[noff]);", 96);
		break;
	case KASAN_P_LDX_DW_96_NEG32:
		ACCESS_MOVED(p, KASAN_PARTIAL_MOVE32,
			     "r0 = *(u64 *)(r1 - %[noff]);", 96);
		break;
	case KASAN_P_LDX_DW_92:
		ACCESS(p, "r0 = *(u64 *)(r1 + %[off]);", 92);
		break;
	case KASAN_P_LDX_W_94:
		ACCESS(p, "r0 = *(u32 *)(r1 + %[off]);", 94);
		break;
	case KASAN_P_STX_DW_90:
		ACCESS(p, "*(u64 *)(r1 + %[off]) = r2;", 90);
		break;
	case KASAN_P_STX_W_92_NEG8:
		ACCESS_MOVED(p, KASAN_PARTIAL_MOVE8,
			     "*(u32 *)(r1 - %[noff]) = w2;", 92);
		break;
	case KASAN_P_LDX_W_96_NEG32:
		ACCESS_MOVED(p, KASAN_PARTIAL_MOVE32,
			     "r0 = *(u32 *)(r1 - %[noff]);", 96);
		break;
	default:
		return 2;
	}
	return 0;
}

/* A static subprogram: verified with its caller's pointer. */
static __noinline int sub_static(u8 *p)
{
	ACCESS(p, "r0 = *(u64 *)(r1 + %[off]);", KASAN_SUB_STATIC_OFF);
	return 0;
}

struct kasan_blob {
	__u64 words[KASAN_BUF_SIZE / 8];
};

/* A global subprogram: verified alone, for any blob pointer or NULL. */
__noinline int sub_global(struct kasan_blob *b)
{
	if (!b)
		return 1;
	ACCESS(b, "*(u32 *)(r1 + %[off]) = w2;", KASAN_SUB_GLOBAL_OFF);
	return 0;
}

/*
 * Passes a dangling pointer to the subprogram that 'form' picks, or makes
 * the bad access itself.
 */
SEC("syscall")
int kasan_subprog(void *ctx)
{
	u8 *p = bpf_kasan_uaf(KASAN_UAF_OBJ, KASAN_UAF_OFF, KASAN_BUF_SIZE);

	if (!p)
		return 1;
	base = (__u64)p;

	if (form == KASAN_SUB_MAIN) {
		ACCESS(p, "r0 = *(u16 *)(r1 + %[off]);", KASAN_SUB_MAIN_OFF);
		return 0;
	}
	if (form == KASAN_SUB_STATIC)
		return sub_static(p);
	return sub_global((struct kasan_blob *)p);
}

/*
 * kasan_blind's static subprogram: r1 is the dangling pointer; constants
 * (blinded) before the bad load.
 */
__naked __noinline __used
static int blind_static(void)
{
	asm volatile (
	"r2 = 0x1234;"
	"r2 += 0x55;"
	"w3 = 0x6789;"
	"r0 = *(u32 *)(r1 + %[off]);"
	"r0 = 0;"
	"exit;"
	:
	: __imm_const(off, KASAN_BLIND_STATIC_OFF)
	: __clobber_all);
}

/*
 * kasan_blind's bpf_loop callback: r2 points to the caller's stack, where
 * the dangling pointer is; constants (blinded) before the bad store, itself
 * of an immediate (which blinding turns into a store from BPF_REG_AX).
 */
__naked __noinline __used
static int blind_loop_cb(void)
{
	asm volatile (
	"r1 = *(u64 *)(r2 + 0);"
	"r3 = 0x2468;"
	"r3 ^= 0x11;"
	"w4 = 0x1357;"
	"w4 -= 3;"
	"*(u64 *)(r1 + %[off]) = 0x77;"
	"r0 = 1;"
	"exit;"
	:
	: __imm_const(off, KASAN_BLIND_LOOP_OFF)
	: __clobber_all);
}

/*
 * Calls blind_static() or, through bpf_loop(), blind_loop_cb() ('form'
 * picks) with a dangling pointer, after constants of its own.
 */
SEC("syscall")
__naked int kasan_blind(void)
{
	asm volatile (
	"r1 = %[obj];"
	"r2 = %[uaf_off];"
	"r3 = %[size];"
	"call %[bpf_kasan_uaf];"
	"if r0 == 0 goto l1_%=;"
	"r6 = r0;"
	"r1 = %[base] ll;"
	"*(u64 *)(r1 + 0) = r6;"
	"r7 = 0x4321;"
	"r7 ^= 0x99;"
	"r1 = %[form] ll;"
	"r1 = *(u32 *)(r1 + 0);"
	"if r1 != %[blind_static_form] goto l0_%=;"
	"r1 = r6;"
	"call blind_static;"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"*(u64 *)(r10 - 8) = r6;"
	"r1 = 1;"
	"r2 = blind_loop_cb ll;"
	"r3 = r10;"
	"r3 += -8;"
	"r4 = 0;"
	"call %[bpf_loop];"
	"r0 = 0;"
	"exit;"
"l1_%=:"
	"r0 = 1;"
	"exit;"
	:
	: __imm(bpf_kasan_uaf),
	  __imm(bpf_loop),
	  __imm_addr(base),
	  __imm_addr(form),
	  __imm_const(obj, KASAN_UAF_OBJ),
	  __imm_const(uaf_off, KASAN_UAF_OFF),
	  __imm_const(size, KASAN_BUF_SIZE),
	  __imm_const(blind_static_form, KASAN_BLIND_STATIC)
	: __clobber_all);
}

/* Tail calls kasan_tail_tgt (tc programs: syscall ones cannot tail call). */
SEC("tc")
int kasan_tail(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &kasan_jmp_table, 0);
	return KASAN_TAIL_MISSED;
}

/* The tail call target: makes a bad access itself. */
SEC("tc")
int kasan_tail_tgt(struct __sk_buff *skb)
{
	u8 *p = bpf_kasan_uaf(KASAN_UAF_OBJ, KASAN_UAF_OFF, KASAN_BUF_SIZE);

	if (!p)
		return 1;
	base = (__u64)p;
	ACCESS(p, "r0 = *(u16 *)(r1 + %[off]);", KASAN_TAIL_OFF);
	return KASAN_TAIL_HIT;
}

/*
 * The tail call programs below keep the shadow offset in r12 (three checks
 * or more each): kasan_tail_r12 with a constant key (a direct tail call),
 * kasan_tail_r12_ind with the key from a global (indirect). Before the tail
 * call, each reads and writes tail_words and adds 1 to tail_words[2]. Each
 * access loads the pointer anew, which keeps their checks apart (the inline
 * mode merges those of neighbouring accesses through one pointer).
 */
SEC("tc")
__naked int kasan_tail_r12(void)
{
	asm volatile (
	"r6 = r1;"
	"r7 = %[tail_words] ll;"
	"r1 = *(u64 *)(r7 + 0);"
	"r7 = %[tail_words] ll;"
	"*(u64 *)(r7 + 8) = r1;"
	"r1 = 1;"
	"r7 = %[tail_words] ll;"
	"lock *(u64 *)(r7 + 16) += r1;"
	"r1 = r6;"
	"r2 = %[kasan_jmp_table] ll;"
	"r3 = 0;"
	"call %[bpf_tail_call];"
	"r0 = %[missed];"
	"exit;"
	:
	: __imm(bpf_tail_call),
	  __imm_addr(tail_words),
	  __imm_addr(kasan_jmp_table),
	  __imm_const(missed, KASAN_TAIL_MISSED)
	: __clobber_all);
}

SEC("tc")
__naked int kasan_tail_r12_ind(void)
{
	asm volatile (
	"r6 = r1;"
	"r7 = %[tail_words] ll;"
	"r1 = *(u64 *)(r7 + 0);"
	"r7 = %[tail_words] ll;"
	"*(u64 *)(r7 + 8) = r1;"
	"r1 = 1;"
	"r7 = %[tail_words] ll;"
	"lock *(u64 *)(r7 + 16) += r1;"
	"r3 = %[tail_key] ll;"
	"r3 = *(u32 *)(r3 + 0);"
	"r1 = r6;"
	"r2 = %[kasan_jmp_table] ll;"
	"call %[bpf_tail_call];"
	"r0 = %[missed];"
	"exit;"
	:
	: __imm(bpf_tail_call),
	  __imm_addr(tail_words),
	  __imm_addr(tail_key),
	  __imm_addr(kasan_jmp_table),
	  __imm_const(missed, KASAN_TAIL_MISSED)
	: __clobber_all);
}

/*
 * Their target: copies tail_words[2] to tail_words[3], sets 'base', and
 * reads a freed object.
 */
SEC("tc")
__naked int kasan_tail_r12_tgt(void)
{
	asm volatile (
	"r1 = %[obj];"
	"r2 = %[uaf_off];"
	"r3 = %[size];"
	"call %[bpf_kasan_uaf];"
	"if r0 == 0 goto l0_%=;"
	"r6 = r0;"
	"r7 = %[tail_words] ll;"
	"r1 = *(u64 *)(r7 + 16);"
	"r7 = %[tail_words] ll;"
	"*(u64 *)(r7 + 24) = r1;"
	"r1 = %[base] ll;"
	"*(u64 *)(r1 + 0) = r6;"
	"r1 = r6;"
	"r0 = *(u32 *)(r1 + %[bad_off]);"
	"r0 = %[hit];"
	"exit;"
"l0_%=:"
	"r0 = 1;"
	"exit;"
	:
	: __imm(bpf_kasan_uaf),
	  __imm_addr(tail_words),
	  __imm_addr(base),
	  __imm_const(obj, KASAN_UAF_OBJ),
	  __imm_const(uaf_off, KASAN_UAF_OFF),
	  __imm_const(size, KASAN_BUF_SIZE),
	  __imm_const(bad_off, KASAN_TAIL_R12_OFF),
	  __imm_const(hit, KASAN_TAIL_HIT)
	: __clobber_all);
}

/* Many bad reads in one run: KASAN_MANY reports. */
SEC("syscall")
int kasan_many(void *ctx)
{
	u8 *p = bpf_kasan_uaf(KASAN_UAF_OBJ, KASAN_UAF_OFF, KASAN_BUF_SIZE);
	__u64 sum = 0;
	int i;

	if (!p)
		return 1;
	base = (__u64)p;
	for (i = 0; i < KASAN_MANY; i++)
		sum += *(__u64 *)(p + 8 * i);
	/* Freed memory: the sum is garbage, but the loads must happen. */
	return sum == 1;
}

/*
 * Exactly KASAN_COUNT_HEAP instrumented accesses (through r6, a valid
 * buffer) and eight that are not (to the stack, through r10 or r7).
 */
SEC("syscall")
__naked int kasan_count(void)
{
	asm volatile (
	"r1 = %[size];"
	"call %[bpf_kasan_kmalloc_valid];"
	"if r0 == 0 goto l0_%=;"
	"r6 = r0;"
	/* heap */
	"r1 = *(u64 *)(r6 + 0);"
	"r2 = *(s16 *)(r6 + 8);"
	"*(u32 *)(r6 + 16) = w1;"
	"*(u8 *)(r6 + 24) = 7;"
	"lock *(u64 *)(r6 + 32) += r1;"
	"w3 = 1;"
	"w3 = atomic_fetch_add((u32 *)(r6 + 40), w3);"
	"r0 = 0;"
	"r0 = cmpxchg_64(r6 + 48, r0, r1);"
	/* stack, through r10 and through r7 */
	"*(u64 *)(r10 - 8) = r1;"
	"r4 = *(u64 *)(r10 - 8);"
	"*(u32 *)(r10 - 16) = 5;"
	"r5 = *(s32 *)(r10 - 16);"
	"lock *(u64 *)(r10 - 8) += r4;"
	"r7 = r10;"
	"r7 += -32;"
	"*(u64 *)(r7 + 0) = r1;"
	"*(u16 *)(r7 + 8) = 3;"
	"r4 = *(u64 *)(r7 + 0);"
	"r0 = 0;"
	"exit;"
"l0_%=:"
	"r0 = 1;"
	"exit;"
	:
	: __imm(bpf_kasan_kmalloc_valid),
	  __imm_const(size, KASAN_BUF_SIZE)
	: __clobber_all);
}

/* Reads and writes the caller's stack through r1: still stack-only. */
__naked __noinline __used
static int kasan_stack_sub(void)
{
	asm volatile (
	"r2 = *(u64 *)(r1 + 0);"
	"*(u64 *)(r1 + 8) = r2;"
	"*(u32 *)(r1 + 16) = 9;"
	"lock *(u64 *)(r1 + 0) += r2;"
	"r0 = 0;"
	"exit;"
	::: __clobber_all);
}

/*
 * Only stack accesses, of every form: through r10, through a copy of it
 * moved by a constant, and in a static subprogram through a pointer to the
 * caller's stack. The verifier knows all of them to be stack-only: nothing
 * to instrument.
 */
SEC("syscall")
__naked int kasan_stack(void)
{
	asm volatile (
	"r1 = 0x1122334455667788 ll;"
	"*(u64 *)(r10 - 8) = r1;"
	"*(u32 *)(r10 - 16) = w1;"
	"*(u16 *)(r10 - 24) = 0x2222;"
	"*(u8 *)(r10 - 32) = 0x11;"
	"r2 = *(u64 *)(r10 - 8);"
	"r3 = *(s32 *)(r10 - 16);"
	"r4 = *(u16 *)(r10 - 24);"
	"r5 = *(s8 *)(r10 - 32);"
	"lock *(u64 *)(r10 - 8) += r2;"
	"w3 = 1;"
	"w3 = atomic_fetch_add((u32 *)(r10 - 16), w3);"
	"r2 = xchg_64(r10 - 8, r2);"
	"r0 = 0;"
	"r0 = cmpxchg_64(r10 - 8, r0, r2);"
	/* the same through r6 = r10 - 64 */
	"r6 = r10;"
	"r6 += -64;"
	"*(u64 *)(r6 + 0) = r1;"
	"*(u32 *)(r6 + 8) = w1;"
	"*(u16 *)(r6 + 16) = 0x3333;"
	"*(u8 *)(r6 + 24) = 0x44;"
	"r2 = *(u64 *)(r6 + 0);"
	"r3 = *(s16 *)(r6 + 16);"
	"r4 = *(u8 *)(r6 + 24);"
	"lock *(u64 *)(r6 + 0) += r2;"
	"w3 = 1;"
	"w3 = atomic_fetch_add((u32 *)(r6 + 8), w3);"
	"r2 = xchg_64(r6 + 0, r2);"
	"r0 = 0;"
	"r0 = cmpxchg_64(r6 + 0, r0, r2);"
	/* and in a subprogram */
	"r1 = r6;"
	"call kasan_stack_sub;"
	"r0 = 0;"
	"exit;"
	::: __clobber_all);
}

/*
 * One load that reads the stack on one path and a freed object on the
 * other: the verifier sees both, so it stays instrumented. 'form' picks
 * the path; KASAN_MIXED_CHECKS accesses are instrumented in all.
 */
SEC("syscall")
__naked int kasan_mixed(void)
{
	asm volatile (
	"r1 = %[obj];"
	"r2 = %[off];"
	"r3 = %[size];"
	"call %[bpf_kasan_uaf];"
	"if r0 == 0 goto l1_%=;"
	"r6 = r0;"
	"r1 = %[base] ll;"
	"*(u64 *)(r1 + 0) = r6;"	/* checked: a map value */
	"r1 = 0;"
	"*(u64 *)(r10 - 8) = r1;"	/* not checked: r10 */
	"r1 = %[form] ll;"
	"r1 = *(u32 *)(r1 + 0);"	/* checked: a map value */
	"r7 = r10;"
	"r7 += %[stack_adj];"
	"if r1 == 0 goto l0_%=;"
	"r7 = r6;"
"l0_%=:"
	"r0 = *(u64 *)(r7 + %[mixed_off]);"	/* checked: the stack or the heap */
	"r0 = 0;"
	"exit;"
"l1_%=:"
	"r0 = 1;"
	"exit;"
	:
	: __imm(bpf_kasan_uaf),
	  __imm_addr(base),
	  __imm_addr(form),
	  __imm_const(obj, KASAN_UAF_OBJ),
	  __imm_const(off, KASAN_UAF_OFF),
	  __imm_const(size, KASAN_BUF_SIZE),
	  __imm_const(stack_adj, -8 - KASAN_MIXED_OFF),
	  __imm_const(mixed_off, KASAN_MIXED_OFF)
	: __clobber_all);
}

/*
 * A stack pointer spilled on one path, a map value pointer (the address of
 * spill_word) on the other, to the same slot; a store through the filled
 * register after the join: both kinds of pointer reach it, so it is checked.
 */
SEC("syscall")
__naked int kasan_spill_join(void)
{
	asm volatile (
	"r1 = %[form] ll;"
	"r1 = *(u32 *)(r1 + 0);"	/* checked: a map value */
	"if r1 == 0 goto l0_%=;"
	"r2 = %[spill_word] ll;"
	"*(u64 *)(r10 - 8) = r2;"
	"goto l1_%=;"
"l0_%=:"
	"r2 = r10;"
	"r2 += -16;"
	"*(u64 *)(r10 - 8) = r2;"
"l1_%=:"
	"r3 = *(u64 *)(r10 - 8);"
	"r1 = 0x5a;"
	"*(u64 *)(r3 + 0) = r1;"	/* checked: the stack or a map value */
	"r0 = 0;"
	"exit;"
	:
	: __imm_addr(form),
	  __imm_addr(spill_word)
	: __clobber_all);
}

/* Sets 'base' to the pointer that 'src' picks, and accesses nothing. */
SEC("syscall")
int kasan_get_buf(void *ctx)
{
	u8 *p = get_buf();

	if (!p)
		return 1;
	base = (__u64)p;
	return 0;
}

/*
 * Clang emits no BTF FUNC record for a kfunc that only inline asm calls,
 * and libbpf needs one to link the program: this call makes it, as in
 * verifier_ref_tracking.c. Never loaded: no program calls it.
 */
void __kfunc_btf_root(void)
{
	bpf_kasan_wild(0, KASAN_BUF_SIZE);
}

/*
 * A tracing program with KASAN_PRIV_STACK_DEPTH bytes of stack, at least
 * BPF_PRIV_STACK_MIN_SIZE: the x86 JIT gives it a private stack, whose frame
 * pointer it keeps in r9 (saved around calls) instead of rbp. Its stack
 * accesses, through r10 and through r8 = r10 - 64, stay unchecked; the read
 * through the pointer from bpf_kasan_wild(priv_addr) is checked, and so are
 * the accesses to priv_addr and priv_out (see progs/kasan_ebpf.h).
 */
SEC("fentry/bpf_fentry_test1")
__naked int kasan_priv_stack(void)
{
	asm volatile (
	"r7 = %[val] ll;"
	"*(u64 *)(r10 - 8) = r7;"
	"*(u64 *)(r10 - %[depth]) = r7;"
	"r8 = r10;"
	"r8 += -64;"
	"*(u64 *)(r8 + 0) = r7;"
	"*(u32 *)(r8 + 8) = w7;"
	"r6 = %[priv_addr] ll;"
	"r1 = *(u64 *)(r6 + 0);"		/* checked: a map value */
	"r2 = %[size];"
	"call %[bpf_kasan_wild];"
	"if r0 == 0 goto l0_%=;"
	"r1 = *(u64 *)(r0 + %[off]);"		/* checked: the heap */
	"r2 = *(u64 *)(r10 - %[depth]);"
	"r3 = *(u64 *)(r8 + 0);"
	"r2 += r3;"
	"r3 = *(u32 *)(r8 + 8);"
	"r2 += r3;"
	"lock *(u64 *)(r10 - 8) += r2;"
	"r3 = *(u64 *)(r10 - 8);"
	"r6 = %[priv_out] ll;"
	"*(u64 *)(r6 + 0) = r3;"		/* checked: a map value */
"l0_%=:"
	"r0 = 0;"
	"exit;"
	:
	: __imm(bpf_kasan_wild),
	  __imm_addr(priv_addr),
	  __imm_addr(priv_out),
	  __imm_const(val, KASAN_PRIV_VAL),
	  __imm_const(depth, KASAN_PRIV_STACK_DEPTH),
	  __imm_const(size, KASAN_BUF_SIZE),
	  __imm_const(off, KASAN_PRIV_OFF)
	: __clobber_all);
}

/*
 * An indirect jump through a jump table (an insn array map that libbpf
 * makes of the .jumptables section) to the target that 'form' picks, each
 * an access through the pointer that 'src' picks: the JIT gives each target
 * an ENDBR and then the access's check, and the table must point at them.
 * The table's entries are offsets in this program's section, 'syscall'.
 */
SEC("syscall")
int kasan_gotox(void *ctx)
{
	u8 *p = get_buf();
	int ret;

	if (!p)
		return 1;
	base = (__u64)p;

	asm volatile (
	".pushsection .jumptables,\"\",@progbits;"
"kasan_gotox_jt_%=:"
	".quad t0_%= - syscall;"
	".quad t1_%= - syscall;"
	".quad t2_%= - syscall;"
	".quad t3_%= - syscall;"
	".quad t4_%= - syscall;"
	".size kasan_gotox_jt_%=, %[nr] * 8;"
	".global kasan_gotox_jt_%=;"
	".popsection;"
	"r1 = %[ptr];"
	"r2 = 1;"
	"r0 = 0;"
	"%[ret] = %[miss];"
	"r3 = %[form] ll;"
	"r3 = *(u32 *)(r3 + 0);"
	"if r3 >= %[nr] goto out_%=;"
	"r3 <<= 3;"
	"r4 = kasan_gotox_jt_%= ll;"
	"r4 += r3;"
	"r4 = *(u64 *)(r4 + 0);"
	".8byte %[gotox_r4];"
"t0_%=:"
	"r0 = *(u64 *)(r1 + %[off0]);"
	"%[ret] = %[ret0];"
	"goto out_%=;"
"t1_%=:"
	"*(u32 *)(r1 + %[off1]) = w2;"
	"%[ret] = %[ret1];"
	"goto out_%=;"
"t2_%=:"
	"*(u16 *)(r1 + %[off2]) = 0x2222;"
	"%[ret] = %[ret2];"
	"goto out_%=;"
"t3_%=:"
	".8byte %[load_acq_w];"
	"%[ret] = %[ret3];"
	"goto out_%=;"
"t4_%=:"
	".8byte %[store_rel_dw];"
	"%[ret] = %[ret4];"
"out_%=:"
	: [ret]"=&r"(ret)
	: [ptr]"r"(p),
	  __imm_addr(form),
	  __imm_const(nr, KASAN_NR_GOTOX),
	  __imm_const(miss, KASAN_GOTOX_MISS),
	  __imm_const(off0, KASAN_GOTOX_OFF(KASAN_GOTOX_LDX_DW)),
	  __imm_const(off1, KASAN_GOTOX_OFF(KASAN_GOTOX_STX_W)),
	  __imm_const(off2, KASAN_GOTOX_OFF(KASAN_GOTOX_ST_H)),
	  __imm_const(ret0, KASAN_GOTOX_RET(KASAN_GOTOX_LDX_DW)),
	  __imm_const(ret1, KASAN_GOTOX_RET(KASAN_GOTOX_STX_W)),
	  __imm_const(ret2, KASAN_GOTOX_RET(KASAN_GOTOX_ST_H)),
	  __imm_const(ret3, KASAN_GOTOX_RET(KASAN_GOTOX_LOAD_ACQ_W)),
	  __imm_const(ret4, KASAN_GOTOX_RET(KASAN_GOTOX_STORE_REL_DW)),
	  __imm_insn(gotox_r4, GOTOX(BPF_REG_4)),
	  __imm_insn(load_acq_w,
		     ATOMIC_OP(BPF_W, BPF_LOAD_ACQ, BPF_REG_0, BPF_REG_1,
			       KASAN_GOTOX_OFF(KASAN_GOTOX_LOAD_ACQ_W))),
	  __imm_insn(store_rel_dw,
		     ATOMIC_OP(BPF_DW, BPF_STORE_REL, BPF_REG_1, BPF_REG_2,
			       KASAN_GOTOX_OFF(KASAN_GOTOX_STORE_REL_DW)))
	: "r0", "r1", "r2", "r3", "r4", "memory");
	return ret;
}

/*
 * fentry programs on KASAN's entry points for JIT-compiled code and on the
 * JIT's lookups: KASAN's own code, which the kernel must refuse to trace
 * (a program there would run inside every check). The last one, on a
 * traceable function, is the control. Never loaded by default.
 */
SEC("fentry/kasan_bpf_check_access")
int BPF_PROG(kasan_fentry_check_access)
{
	return 0;
}

SEC("fentry/__asan_load8")
int BPF_PROG(kasan_fentry_load8)
{
	return 0;
}

SEC("fentry/kasan_bpf_probe_load8")
int BPF_PROG(kasan_fentry_probe_load8)
{
	return 0;
}

SEC("fentry/bpf_jit_kasan_find_insn")
int BPF_PROG(kasan_fentry_find_insn)
{
	return 0;
}

SEC("fentry/bpf_jit_kasan_describe")
int BPF_PROG(kasan_fentry_describe)
{
	return 0;
}

SEC("fentry/bpf_fentry_test1")
int BPF_PROG(kasan_fentry_control)
{
	return 0;
}

/*
 * Alignment marks: 8-byte loads from the last granule of an array map's
 * only value, which KASAN's redzone follows (the map is one allocation of
 * the array header and 32 bytes). w[0] holds the offset the second program
 * loads at.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kasan_align_val);
} kasan_align_map SEC(".maps");

/* A constant offset: the verifier proves the load naturally aligned. */
SEC("syscall")
int kasan_aligned_last(void *ctx)
{
	struct kasan_align_val *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&kasan_align_map, &key);
	if (!v)
		return 0;
	return v->w[3];
}

/*
 * The same load at an offset the verifier only knows to be in [0, 24]: not
 * provably aligned, so its check reads two shadow bytes (the control).
 */
SEC("syscall")
int kasan_unaligned_last(void *ctx)
{
	struct kasan_align_val *v;
	__u32 key = 0;
	__u64 off;

	v = bpf_map_lookup_elem(&kasan_align_map, &key);
	if (!v)
		return 0;
	off = v->w[0];
	if (off > 24)
		return 0;
	return *(__u64 *)((char *)v + off);
}

/*
 * The key of an inlined array lookup, inside a map value rather than on
 * the stack: its load is checked. w[1] is 0, the only key.
 */
SEC("syscall")
int kasan_key_in_value(void *ctx)
{
	struct kasan_align_val *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&kasan_align_map, &key);
	if (!v)
		return 0;
	v = bpf_map_lookup_elem(&kasan_align_map, &v->w[1]);
	if (!v)
		return 0;
	return v->w[3];
}

/*
 * KASAN_LOOKUPS lookups keyed on the stack, each followed by an aligned load
 * of the value: the verifier inlines each lookup with a load of its key
 * (not checked: the key is on the stack), and the program moves while it
 * does. Returns the OR of the loaded words.
 */
SEC("syscall")
int kasan_many_lookups(void *ctx)
{
	struct kasan_align_val *v;
	__u64 ret = 0;
	int i;

#pragma unroll
	for (i = 0; i < KASAN_LOOKUPS; i++) {
		__u32 key = 0;

		v = bpf_map_lookup_elem(&kasan_align_map, &key);
		if (v)
			ret |= v->w[3];
	}
	return ret;
}

/* Frees every live allocation of the module, returns how many. */
SEC("syscall")
int kasan_free(void *ctx)
{
	return bpf_kasan_free_all();
}

char _license[] SEC("license") = "GPL";

/*
 * Merged checks (bpf_jit_kasan/merge.rs): each program gets its pointer
 * into r6 and stores it to 'base', then makes the accesses of 'insns', all
 * within [0, 9) of it. The test checks the reports of the bad ones (the
 * bytes from KASAN_MERGE_VALID on), in program order, and how many checks
 * each mode emits.
 */
#define MERGE_PROG(name, insns)						\
SEC("syscall")								\
__naked int name(void)							\
{									\
	asm volatile (							\
	"r1 = %[obj];"							\
	"r2 = %[off];"							\
	"r3 = %[size];"							\
	"call %[bpf_kasan_kmalloc_oob];"				\
	"if r0 == 0 goto l0_%=;"					\
	"r6 = r0;"							\
	"r1 = %[base] ll;"						\
	"*(u64 *)(r1 + 0) = r6;"					\
	insns								\
"l0_%=:"								\
	"r0 = 0;"							\
	"exit;"								\
	:								\
	: __imm_const(obj, KASAN_MERGE_OBJ),				\
	  __imm_const(off, KASAN_MERGE_OFF),				\
	  __imm_const(size, KASAN_MERGE_BUF),				\
	  __imm_addr(base),						\
	  __imm_addr(form),						\
	  __imm(bpf_kasan_kmalloc_oob),					\
	  __imm(bpf_get_prandom_u32)					\
	: __clobber_all);						\
}

/* One group, the bad access first. */
MERGE_PROG(kasan_merge_first,
	   "r0 = *(u8 *)(r6 + 8);"
	   "r1 = *(u32 *)(r6 + 0);"
	   "r2 = *(u16 *)(r6 + 4);")

/* One group, the bad access in the middle. */
MERGE_PROG(kasan_merge_middle,
	   "r1 = *(u32 *)(r6 + 0);"
	   "r0 = *(u8 *)(r6 + 8);"
	   "r2 = *(u16 *)(r6 + 4);")

/* One group, the bad access last, a store. */
MERGE_PROG(kasan_merge_last,
	   "r1 = *(u32 *)(r6 + 0);"
	   "r2 = *(u16 *)(r6 + 4);"
	   "*(u8 *)(r6 + 8) = r2;")

/* One group, two bad accesses: a read straddling the end, then a store. */
MERGE_PROG(kasan_merge_two,
	   "r1 = *(u16 *)(r6 + 7);"
	   "r2 = *(u32 *)(r6 + 0);"
	   "*(u8 *)(r6 + 8) = r2;")

/*
 * One group with atomics through the pointer, which write memory or another
 * register but not the pointer: a bad atomic add in the middle, a bad load
 * last.
 */
MERGE_PROG(kasan_merge_atomic,
	   "r1 = *(u32 *)(r6 + 0);"
	   "w2 = 1;"
	   "lock *(u32 *)(r6 + 8) += w2;"
	   "w2 = atomic_fetch_add((u32 *)(r6 + 4), w2);"
	   "r0 = *(u8 *)(r6 + 8);")

/*
 * One group with a store to the stack through another pointer between its
 * accesses (stack-only: not checked, so it reports nothing and the group
 * goes on past it): the bad load after it is still reported.
 */
MERGE_PROG(kasan_merge_stack,
	   "r7 = r10;"
	   "r7 += -8;"
	   "r1 = *(u32 *)(r6 + 0);"
	   "*(u32 *)(r7 + 0) = r1;"
	   "r0 = *(u8 *)(r6 + 8);")

/* A helper call between the accesses: two checks. */
MERGE_PROG(kasan_merge_call,
	   "r1 = *(u32 *)(r6 + 0);"
	   "call %[bpf_get_prandom_u32];"
	   "r0 = *(u8 *)(r6 + 8);")

/* The base moves between the accesses: two checks, the second at p + 8. */
MERGE_PROG(kasan_merge_redef,
	   "r1 = *(u32 *)(r6 + 0);"
	   "r6 += 4;"
	   "r0 = *(u8 *)(r6 + 4);")

/*
 * The second access is a jump target: two checks. With 'form' nonzero the
 * jump skips the first access, and the second is still checked.
 */
MERGE_PROG(kasan_merge_target,
	   "r1 = %[form] ll;"
	   "r7 = *(u32 *)(r1 + 0);"
	   "if r7 != 0 goto l1_%=;"
	   "r1 = *(u32 *)(r6 + 0);"
	   "l1_%=:"
	   "r0 = *(u8 *)(r6 + 8);")
