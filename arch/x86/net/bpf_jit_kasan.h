/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KASAN checks in x86-64 JIT-compiled BPF programs: the interface between
 * the JIT (bpf_jit_comp.c) and the Rust emitter (bpf_jit_kasan.rs).
 */
#ifndef _ARCH_X86_NET_BPF_JIT_KASAN_H
#define _ARCH_X86_NET_BPF_JIT_KASAN_H

#include <linux/filter.h>
#include <linux/types.h>

/*
 * What the JIT tells the emitter; struct emit::Config in Rust, and the two
 * must stay identical.
 */
struct bpf_jit_kasan_cfg {
	u64 shadow_offset;	/* KASAN_SHADOW_OFFSET */
	u64 slow_path;		/* bpf_jit_kasan_slow_path() */
	u64 outline[2][4];	/* kasan_bpf_{load,store}{1,2,4,8}() */
	const unsigned long *stack_only; /* aux->kasan_stack_only, or NULL */
	u32 checks;		/* checked accesses in the program */
	u32 nr_ldst;		/* bits at stack_only: the LDX, STX, ST insns */
	u8 mode;		/* net.core.bpf_jit_kasan at load time */
	u8 r12_free;		/* r12 may hold the shadow offset (no arena) */
};

/* What one check emitted; struct emit::Site in Rust. */
struct bpf_jit_kasan_site {
	u32 len;		/* bytes emitted, 0 if the insn is not checked */
	u32 fault_off;		/* offset of the shadow read that may fault */
	u32 fault_len;		/* its length; 0: no exception table entry */
};

/* Implemented in Rust (bpf_jit_kasan.rs). */
int bpf_jit_kasan_count_checks(const struct bpf_jit_kasan_cfg *cfg,
			       const struct bpf_insn *insns, u32 len);
bool bpf_jit_kasan_uses_r12(const struct bpf_jit_kasan_cfg *cfg);
int bpf_jit_kasan_emit_prologue(const struct bpf_jit_kasan_cfg *cfg, u8 *buf,
				u32 cap, u64 ip);
int bpf_jit_kasan_emit_check(const struct bpf_jit_kasan_cfg *cfg,
			     const struct bpf_insn *insn, u32 *ldst, u8 *buf,
			     u32 cap, u64 ip, u64 tail,
			     struct bpf_jit_kasan_site *site);
int bpf_jit_kasan_emit_tail(const struct bpf_jit_kasan_cfg *cfg, u8 *buf,
			    u32 cap, u64 ip);
void bpf_jit_kasan_slow_path(void *regs);

/* Implemented in bpf_jit_comp.c, for the Rust emitter. */
int bpf_jit_kasan_arch_call(u8 **pprog, u64 func, u64 ip);
void bpf_jit_kasan_arch_ret(u8 **pprog, u64 ip);

#endif /* _ARCH_X86_NET_BPF_JIT_KASAN_H */
