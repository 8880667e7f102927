/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KASAN checks in x86-64 JIT-compiled BPF programs: the interface between
 * the JIT (bpf_jit_comp.c) and the Rust emitter (bpf_jit_kasan.rs).
 */
#ifndef _ARCH_X86_NET_BPF_JIT_KASAN_H
#define _ARCH_X86_NET_BPF_JIT_KASAN_H

#include <linux/build_bug.h>
#include <linux/filter.h>
#include <linux/stddef.h>
#include <linux/types.h>

/*
 * What the JIT tells the emitter; struct emit::Config in Rust, and the two
 * must stay identical.
 */
struct bpf_jit_kasan_cfg {
	u64 shadow_offset;	/* KASAN_SHADOW_OFFSET */
	u64 slow_path;		/* bpf_jit_kasan_slow_path() */
	u64 outline[3][4];	/* __asan_{load,store}N(), kasan_bpf_probe_loadN() */
	const unsigned long *stack_only; /* aux->kasan_stack_only, or NULL */
	const unsigned long *trusted; /* aux->kasan_trusted, or NULL */
	const unsigned long *aligned; /* aux->kasan_aligned, or NULL */
	u32 checks;		/* checked accesses in the program */
	u32 nr_ldst;		/* bits at stack_only: the LDX, STX, ST insns */
	u32 call_len;		/* most bytes emit_rsb_call() emits, >= 5 */
	u8 mode;		/* net.core.bpf_jit_kasan at load time */
	u8 r12_free;		/* r12 may hold the shadow offset (no arena) */
	const struct bpf_insn *insns; /* the program's insns, or NULL */
	const unsigned long *members; /* aux->kasan_members once planned */
	u32 len;		/* insns at insns, planned at members */
};

static_assert(sizeof(struct bpf_jit_kasan_cfg) == 176);
static_assert(offsetof(struct bpf_jit_kasan_cfg, shadow_offset) == 0);
static_assert(offsetof(struct bpf_jit_kasan_cfg, slow_path) == 8);
static_assert(offsetof(struct bpf_jit_kasan_cfg, outline) == 16);
static_assert(offsetof(struct bpf_jit_kasan_cfg, stack_only) == 112);
static_assert(offsetof(struct bpf_jit_kasan_cfg, trusted) == 120);
static_assert(offsetof(struct bpf_jit_kasan_cfg, aligned) == 128);
static_assert(offsetof(struct bpf_jit_kasan_cfg, checks) == 136);
static_assert(offsetof(struct bpf_jit_kasan_cfg, nr_ldst) == 140);
static_assert(offsetof(struct bpf_jit_kasan_cfg, call_len) == 144);
static_assert(offsetof(struct bpf_jit_kasan_cfg, mode) == 148);
static_assert(offsetof(struct bpf_jit_kasan_cfg, r12_free) == 149);
static_assert(offsetof(struct bpf_jit_kasan_cfg, insns) == 152);
static_assert(offsetof(struct bpf_jit_kasan_cfg, members) == 160);
static_assert(offsetof(struct bpf_jit_kasan_cfg, len) == 168);

/*
 * What one check emitted; struct emit::Site in Rust. A fault at fault_off
 * (the shadow read) resumes fault_len bytes further, past the read and the
 * jz after it, on the call to the slow path: the exception table entry's
 * fixup length.
 */
struct bpf_jit_kasan_site {
	u32 len;		/* bytes emitted, 0 if the insn is not checked */
	u32 fault_off;		/* offset of the shadow read that may fault */
	u32 fault_len;		/* bytes a fault skips; 0: no extable entry */
};

static_assert(sizeof(struct bpf_jit_kasan_site) == 12);
static_assert(offsetof(struct bpf_jit_kasan_site, len) == 0);
static_assert(offsetof(struct bpf_jit_kasan_site, fault_off) == 4);
static_assert(offsetof(struct bpf_jit_kasan_site, fault_len) == 8);

/*
 * The program behind a slow-path entry (bpf_jit_kasan_find_group()); struct
 * Where in bpf_jit_kasan.rs.
 */
struct bpf_jit_kasan_where {
	const struct bpf_insn *insns;	/* the (sub)program's insns */
	const unsigned long *members;	/* aux->kasan_members, or NULL */
	const u32 *off;			/* aux->kasan_jit_off, from func */
	u64 func;			/* bpf_func */
	u32 len;			/* insns */
	u32 idx;			/* the insn whose check called */
};

static_assert(sizeof(struct bpf_jit_kasan_where) == 40);
static_assert(offsetof(struct bpf_jit_kasan_where, insns) == 0);
static_assert(offsetof(struct bpf_jit_kasan_where, members) == 8);
static_assert(offsetof(struct bpf_jit_kasan_where, off) == 16);
static_assert(offsetof(struct bpf_jit_kasan_where, func) == 24);
static_assert(offsetof(struct bpf_jit_kasan_where, len) == 32);
static_assert(offsetof(struct bpf_jit_kasan_where, idx) == 36);

/* struct insn::BpfInsn in Rust (dst_reg and src_reg share byte 1). */
static_assert(sizeof(struct bpf_insn) == 8);
static_assert(offsetof(struct bpf_insn, code) == 0);
static_assert(offsetof(struct bpf_insn, off) == 2);
static_assert(offsetof(struct bpf_insn, imm) == 4);

/*
 * Room for a check before its insn: an ENDBR (indirect jump targets), the
 * check and the longest insn that gets one (an atomic fetch-and/or/xor's
 * cmpxchg loop, under 40 bytes) must fit in the JIT's BPF_MAX_INSN_SIZE
 * (128), which bpf_jit_comp.c asserts. At boot, the JIT checks that the
 * longest check fits (bpf_jit_kasan_max_check_len()).
 */
#define BPF_JIT_KASAN_MAX_CHECK	80

/* The checks' state in one JIT pass (struct jit_context). */
struct bpf_jit_kasan_state {
	struct bpf_jit_kasan_cfg cfg;
	u32 ldst;		/* loads and stores seen so far */
	u32 checks;		/* checks emitted */
	u32 merged;		/* accesses a merged group's check covers */
	u32 exentries;		/* extable entries of the checks */
	bool r12;		/* r12 holds KASAN_SHADOW_OFFSET */
};

/* Implemented in Rust (bpf_jit_kasan.rs). */
int bpf_jit_kasan_plan(const struct bpf_jit_kasan_cfg *cfg,
		       const struct bpf_insn *insns, u32 len,
		       unsigned long *members, unsigned long *targets,
		       u32 *merged);
bool bpf_jit_kasan_uses_r12(const struct bpf_jit_kasan_cfg *cfg);
int bpf_jit_kasan_max_check_len(const struct bpf_jit_kasan_cfg *cfg);
int bpf_jit_kasan_emit_prologue(const struct bpf_jit_kasan_cfg *cfg, u8 *buf,
				u32 cap, u64 ip);
int bpf_jit_kasan_emit_check(const struct bpf_jit_kasan_cfg *cfg,
			     const struct bpf_insn *insn, u32 *ldst, u8 *buf,
			     u32 cap, u64 ip, u64 tail,
			     struct bpf_jit_kasan_site *site);
int bpf_jit_kasan_emit_tail(const struct bpf_jit_kasan_cfg *cfg, u8 *buf,
			    u32 cap, u64 ip);
void bpf_jit_kasan_slow_path(void *regs);

/* Implemented in bpf_jit_comp_kasan.c, for the slow path. */
int bpf_jit_kasan_find_group(unsigned long ip, struct bpf_jit_kasan_where *w);

/* Implemented in bpf_jit_comp.c, for this file's users. */
int bpf_jit_kasan_arch_call(u8 **pprog, u64 func, u64 ip);
void bpf_jit_kasan_arch_ret(u8 **pprog, u64 ip);
u32 bpf_jit_ex_fixup_skip(u32 len);

#ifdef CONFIG_KASAN_EBPF
/* Implemented in bpf_jit_comp_kasan.c, for do_jit(). */
void bpf_jit_kasan_begin(struct bpf_jit_kasan_state *st,
			 const struct bpf_prog *prog, bool r12_free);
int bpf_jit_kasan_emit_insn(struct bpf_jit_kasan_state *st,
			    struct bpf_prog *prog, const struct bpf_insn *insn,
			    u8 *buf, u8 *image, u8 *rw_image, u32 ip_off,
			    int *excnt);
int bpf_jit_kasan_alloc_offsets(struct bpf_prog *prog, u32 checks);
void bpf_jit_kasan_fill_offsets(struct bpf_prog *prog, const int *addrs);
void bpf_jit_kasan_free_offsets(struct bpf_prog *prog);

/* Whether this pass emits checks. */
static inline bool bpf_jit_kasan_on(const struct bpf_jit_kasan_state *st)
{
	return st->cfg.mode;
}

/* Emit the checks' prologue (r12 = KASAN_SHADOW_OFFSET), if any. */
static inline int bpf_jit_kasan_prologue(const struct bpf_jit_kasan_state *st,
					 u8 *buf, u32 cap, u64 ip)
{
	return st->cfg.mode ?
		bpf_jit_kasan_emit_prologue(&st->cfg, buf, cap, ip) : 0;
}
#else
static inline void bpf_jit_kasan_begin(struct bpf_jit_kasan_state *st,
				       const struct bpf_prog *prog,
				       bool r12_free)
{
	st->cfg.mode = 0;
	st->r12 = false;
	st->checks = 0;
	st->merged = 0;
	st->exentries = 0;
}

static inline int bpf_jit_kasan_emit_insn(struct bpf_jit_kasan_state *st,
					  struct bpf_prog *prog,
					  const struct bpf_insn *insn, u8 *buf,
					  u8 *image, u8 *rw_image, u32 ip_off,
					  int *excnt)
{
	return 0;
}

static inline int bpf_jit_kasan_alloc_offsets(struct bpf_prog *prog,
					      u32 checks)
{
	return 0;
}

static inline void bpf_jit_kasan_fill_offsets(struct bpf_prog *prog,
					      const int *addrs)
{
}

static inline void bpf_jit_kasan_free_offsets(struct bpf_prog *prog)
{
}

static inline bool bpf_jit_kasan_on(const struct bpf_jit_kasan_state *st)
{
	return false;
}

static inline int bpf_jit_kasan_prologue(const struct bpf_jit_kasan_state *st,
					 u8 *buf, u32 cap, u64 ip)
{
	return 0;
}
#endif /* CONFIG_KASAN_EBPF */

#endif /* _ARCH_X86_NET_BPF_JIT_KASAN_H */
