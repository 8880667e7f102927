// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in x86-64 JIT-compiled BPF programs: the JIT's side.
 *
 * do_jit() (bpf_jit_comp.c) calls in here at the start of each pass, for
 * its prologue and before each insn; the checks themselves are emitted by
 * the Rust emitter (bpf_jit_kasan.rs). This file holds what joins the two:
 * the emitter's configuration for a program, the shared out-of-line tail
 * (emitted once at boot), the exception table entries of the checks'
 * shadow reads, the table of insn offsets that maps a report back to its
 * BPF insn (kernel/bpf/core.c, bpf_jit_kasan_find_insn()), and the plan of
 * merged checks (bpf_jit_kasan/merge.rs) that the slow path walks.
 */

#include <linux/bitmap.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/init.h>
#include <linux/kasan.h>
#include <linux/slab.h>
#include <asm/extable.h>
#include <linux/cfi.h>

#include "bpf_jit_kasan.h"

/*
 * The out-of-line tail that every program's checks share: the shadow
 * offset, then the thunk that calls the slow path. Emitted once at boot.
 */
static u64 jit_kasan_tail __ro_after_init;
/* Room for the tail, and for one call when measuring them. */
#define JIT_KASAN_TAIL_MAX	128
static struct bpf_ksym jit_kasan_ksym;
/* The longest call to KASAN the JIT emits; 0 until measured: no checks. */
static u32 jit_kasan_call_len __ro_after_init;

static void jit_kasan_cfg(struct bpf_jit_kasan_cfg *cfg, u8 mode)
{
	*cfg = (struct bpf_jit_kasan_cfg) {
		.shadow_offset = KASAN_SHADOW_OFFSET,
		.slow_path = (u64)bpf_jit_kasan_slow_path,
		.outline = {
			{ (u64)__asan_load1, (u64)__asan_load2,
			  (u64)__asan_load4, (u64)__asan_load8 },
			{ (u64)__asan_store1, (u64)__asan_store2,
			  (u64)__asan_store4, (u64)__asan_store8 },
			{ (u64)kasan_bpf_probe_load1, (u64)kasan_bpf_probe_load2,
			  (u64)kasan_bpf_probe_load4, (u64)kasan_bpf_probe_load8 },
		},
		.call_len = jit_kasan_call_len,
		.mode = mode,
		.r12_free = 1,
	};
}

/*
 * The length of the longest call the checks make: the JIT's calls add call
 * depth accounting where that mitigation is on, and skip it for some
 * targets, so measure it for each of them, from program memory.
 */
static int __init jit_kasan_measure_calls(const struct bpf_jit_kasan_cfg *cfg,
					  void *image)
{
	u8 buf[JIT_KASAN_TAIL_MAX], *p;
	u32 i, max = 0;
	u64 targets[13];

	targets[0] = cfg->slow_path;
	BUILD_BUG_ON(sizeof(cfg->outline) != 12 * sizeof(u64));
	memcpy(&targets[1], cfg->outline, sizeof(cfg->outline));
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		p = buf;
		if (bpf_jit_kasan_arch_call(&p, targets[i], (u64)image))
			return -ERANGE;
		max = max_t(u32, max, p - buf);
	}
	jit_kasan_call_len = max;
	return 0;
}

static int __init jit_kasan_init_tail(void)
{
	u8 buf[JIT_KASAN_TAIL_MAX];
	struct bpf_jit_kasan_cfg cfg;
	void *image;
	int len;

	/* Executable BPF text, as the JIT's trampolines get. */
	image = arch_alloc_bpf_trampoline(sizeof(buf));
	if (!image)
		goto fail;
	jit_kasan_cfg(&cfg, 1);
	if (jit_kasan_measure_calls(&cfg, image))
		goto fail_free;
	/* The longest check of any mode must fit before its insn. */
	cfg.call_len = jit_kasan_call_len;
	len = bpf_jit_kasan_max_check_len(&cfg);
	if (len < 0 || len > BPF_JIT_KASAN_MAX_CHECK) {
		pr_warn("kasan_ebpf: a check takes up to %d bytes, more than %d\n",
			len, BPF_JIT_KASAN_MAX_CHECK);
		jit_kasan_call_len = 0;
		goto fail_free;
	}
	len = bpf_jit_kasan_emit_tail(&cfg, buf, sizeof(buf), (u64)image);
	if (len < 0 || IS_ERR(bpf_arch_text_copy(image, buf, len)))
		goto fail_free;
	/* Name the thunk in stack traces; the constant is before it. */
	INIT_LIST_HEAD_RCU(&jit_kasan_ksym.lnode);
	strscpy(jit_kasan_ksym.name, "bpf_jit_kasan_thunk", KSYM_NAME_LEN);
	bpf_image_ksym_init(image + sizeof(u64), len - sizeof(u64),
			    &jit_kasan_ksym);
	bpf_image_ksym_add(&jit_kasan_ksym);
	jit_kasan_tail = (u64)image;
	return 0;
fail_free:
	arch_free_bpf_trampoline(image, sizeof(buf));
fail:
	pr_warn("kasan_ebpf: cannot emit the shared thunk: inline mode is off%s\n",
		jit_kasan_call_len ? "" : ", and so is outline mode");
	return 0;
}
late_initcall(jit_kasan_init_tail);

/*
 * Bits of a plan for @len insns: which are members of merged groups, then
 * which are accesses without a check inside a group, each in whole longs
 * (merge::plan_words() in Rust).
 */
#define JIT_KASAN_PLAN_BITS(len)	(2 * round_up((len), BITS_PER_LONG))

/*
 * Plan the checks of @prog: merge those of neighbouring accesses in inline
 * mode, into aux->kasan_members (kept for the slow path), count the
 * accesses merged into another's check in st->merged, and return the
 * number of checks, or -EINVAL if the marks do not match the insns. The
 * plan is made again in every pass, the same each time. Without memory
 * for it, nothing is merged: every checked access gets its own check.
 */
static int jit_kasan_plan(struct bpf_jit_kasan_state *st,
			  const struct bpf_prog *prog)
{
	struct bpf_jit_kasan_cfg *cfg = &st->cfg;
	struct bpf_prog_aux *aux = prog->aux;
	unsigned long *targets = NULL;
	int checks;

	cfg->members = NULL;
	if (cfg->mode == 1 && !aux->kasan_members)
		aux->kasan_members =
			bitmap_zalloc(JIT_KASAN_PLAN_BITS(prog->len), GFP_KERNEL);
	if (cfg->mode == 1 && aux->kasan_members)
		targets = bitmap_zalloc(prog->len, GFP_KERNEL);
	if (!targets) {
		bitmap_free(aux->kasan_members);
		aux->kasan_members = NULL;
	}
	checks = bpf_jit_kasan_plan(cfg, prog->insnsi, prog->len,
				    aux->kasan_members, targets, &st->merged);
	bitmap_free(targets);
	if (checks >= 0)
		cfg->members = aux->kasan_members;
	return checks;
}

/**
 * bpf_jit_kasan_begin - set up the checks of one JIT pass
 * @st: the pass's state, in the JIT context
 * @prog: the program or subprogram being compiled
 * @r12_free: whether the JIT leaves r12 alone (it holds the arena base
 *	otherwise)
 *
 * Configures the emitter for @prog's mode and the verifier's stack-only
 * marks, plans the merged checks, and turns the checks off for this
 * program if it has nothing to check, or if the boot-time set-up failed or
 * has not run yet.
 */
void bpf_jit_kasan_begin(struct bpf_jit_kasan_state *st,
			 const struct bpf_prog *prog, bool r12_free)
{
	struct bpf_jit_kasan_cfg *cfg = &st->cfg;
	int checks;

	memset(st, 0, sizeof(*st));
	jit_kasan_cfg(cfg, prog->aux->kasan_mode);
	cfg->r12_free = r12_free;
	cfg->stack_only = prog->aux->kasan_stack_only;
	cfg->trusted = prog->aux->kasan_trusted;
	cfg->aligned = prog->aux->kasan_aligned;
	cfg->nr_ldst = prog->aux->kasan_nr_ldst;
	cfg->insns = prog->insnsi;
	cfg->len = prog->len;
	checks = cfg->mode ? jit_kasan_plan(st, prog) : 0;
	/* The verifier's marks must count these very loads and stores. */
	/*
	 * Otherwise fall back to the safe side: check every access but the
	 * fault-tolerant loads, which are checked only if trusted.
	 */
	if (WARN_ONCE(checks < 0,
		      "kasan_ebpf: marks of %s do not match its insns: checking every access but BPF_PROBE_MEM loads\n",
		      prog->aux->name)) {
		cfg->stack_only = NULL;
		cfg->trusted = NULL;
		cfg->aligned = NULL;
		cfg->nr_ldst = 0;
		checks = jit_kasan_plan(st, prog);
	}
	cfg->checks = max(checks, 0);
	if (!cfg->checks || !jit_kasan_call_len ||
	    (cfg->mode == 1 && !jit_kasan_tail))
		cfg->mode = 0;
	if (!cfg->mode)
		st->merged = 0;
	st->r12 = cfg->mode && bpf_jit_kasan_uses_r12(cfg);
}

/* Add the exception table entry for a check's shadow read at @insn_ip. */
static int jit_kasan_extable(struct bpf_prog *prog, u8 *image, u8 *rw_image,
			     int *excnt, u8 *insn_ip, u32 skip)
{
	struct exception_table_entry *ex;
	s64 delta;

	if (!prog->aux->extable)
		return 0;
	if (*excnt >= prog->aux->num_exentries) {
		pr_err("kasan_ebpf: extable bug\n");
		return -EFAULT;
	}
	ex = &prog->aux->extable[(*excnt)++];
	delta = insn_ip - (u8 *)&ex->insn;
	if (delta < S32_MIN || delta > S32_MAX)
		return -EFAULT;
	/* switch ex to rw buffer for writes */
	ex = (void *)rw_image + ((void *)ex - (void *)image);
	ex->insn = delta;
	ex->data = EX_TYPE_BPF;
	/*
	 * On a fault, skip the shadow read and the branch after it: land on
	 * the call to the slow path, which reports.
	 */
	ex->fixup = bpf_jit_ex_fixup_skip(skip);
	return 0;
}

/**
 * bpf_jit_kasan_emit_insn - emit the check of one insn, if it gets one
 * @st: the pass's state
 * @prog: the program being compiled
 * @insn: the insn, which the JIT emits next
 * @buf: where the check goes, with room for BPF_JIT_KASAN_MAX_CHECK bytes
 * @image: the final image, or NULL in the passes before it exists
 * @rw_image: its writable copy
 * @ip_off: offset of the check in the image
 * @excnt: the JIT's count of exception table entries, updated
 *
 * Return: the bytes emitted (0 if @insn is not checked), or -errno.
 */
int bpf_jit_kasan_emit_insn(struct bpf_jit_kasan_state *st,
			    struct bpf_prog *prog, const struct bpf_insn *insn,
			    u8 *buf, u8 *image, u8 *rw_image, u32 ip_off,
			    int *excnt)
{
	u8 class = BPF_CLASS(insn->code);
	struct bpf_jit_kasan_site site;
	int err;

	/* Only loads, stores and atomics are checked, or counted. */
	if (class != BPF_LDX && class != BPF_STX && class != BPF_ST)
		return 0;
	err = bpf_jit_kasan_emit_check(&st->cfg, insn, &st->ldst, buf,
				       BPF_JIT_KASAN_MAX_CHECK,
				       (u64)image + ip_off, jit_kasan_tail,
				       &site);
	if (err < 0)
		return err;
	if (site.fault_len) {
		err = jit_kasan_extable(prog, image, rw_image, excnt,
					image + ip_off + site.fault_off,
					site.fault_len);
		if (err)
			return err;
		st->exentries++;
	}
	if (site.len)
		st->checks++;
	return site.len;
}

/**
 * bpf_jit_kasan_alloc_offsets - make room for the insn offsets of @prog
 * @prog: the program, before its image is allocated
 * @checks: the checks its last pass emitted
 *
 * Return: 0, or -ENOMEM.
 */
int bpf_jit_kasan_alloc_offsets(struct bpf_prog *prog, u32 checks)
{
	if (!checks || prog->aux->kasan_jit_off)
		return 0;
	prog->aux->kasan_jit_off = kvcalloc(prog->len + 1, sizeof(u32),
					    GFP_KERNEL);
	if (prog->aux->kasan_jit_off)
		return 0;
	bpf_jit_kasan_free_offsets(prog);
	return -ENOMEM;
}

/**
 * bpf_jit_kasan_fill_offsets - keep the offsets that map reports to insns
 * @prog: the program, JIT-compiled
 * @addrs: do_jit()'s addrs[]: addrs[i] is where the code of insn i starts
 */
void bpf_jit_kasan_fill_offsets(struct bpf_prog *prog, const int *addrs)
{
	u32 *off = prog->aux->kasan_jit_off;
	int i;

	if (!off)
		return;
	for (i = 0; i <= prog->len; i++)
		off[i] = addrs[i] - cfi_get_offset();
	/*
	 * do_jit() leaves addrs[] of the second half of a BPF_LD_IMM64 as it
	 * was before the first pass. It has no code of its own: give it the
	 * empty range at the end of the first half, so the offsets ascend.
	 */
	for (i = 0; i < prog->len - 1; i++) {
		if (prog->insnsi[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			off[i + 1] = off[i + 2];
			i++;
		}
	}
}

/**
 * bpf_jit_kasan_free_offsets - free the offsets and merged groups of @prog
 * @prog: the program
 */
void bpf_jit_kasan_free_offsets(struct bpf_prog *prog)
{
	kvfree(prog->aux->kasan_jit_off);
	prog->aux->kasan_jit_off = NULL;
	bitmap_free(prog->aux->kasan_members);
	prog->aux->kasan_members = NULL;
}

/**
 * bpf_jit_kasan_find_group - what the slow path needs of a program
 * @ip: the return address of a check's call to the thunk
 * @w: where to describe the (sub)program and the insn of the check
 *
 * Counts the slow-path entry (bpf_jit_kasan_find_insn()). Callable from any
 * context; the program is running, so what @w points to stays until the
 * slow path returns.
 *
 * Return: 0, or -ENOENT if @ip is not in an instrumented program.
 */
notrace int bpf_jit_kasan_find_group(unsigned long ip,
				     struct bpf_jit_kasan_where *w)
{
	const struct bpf_prog *prog;
	u32 idx;

	prog = bpf_jit_kasan_find_insn(ip, &idx);
	if (!prog)
		return -ENOENT;
	*w = (struct bpf_jit_kasan_where) {
		.insns = prog->insnsi,
		.members = prog->aux->kasan_members,
		.off = prog->aux->kasan_jit_off,
		.func = (u64)prog->bpf_func,
		.len = prog->len,
		.idx = idx,
	};
	return 0;
}
