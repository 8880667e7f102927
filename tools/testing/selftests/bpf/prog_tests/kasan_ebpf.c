// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in JIT-compiled BPF programs.
 *
 * bpf_kasan_testmod.ko (loaded from the current directory) gives programs
 * pointers to freed, out-of-bounds or valid memory; the programs in
 * progs/kasan_ebpf.c access them with every instruction form that the JIT
 * instruments. For each bad access the test reads the kernel log and checks
 * KASAN's report (bug type, Read/Write, size, address, the program's symbol)
 * and the "kasan_ebpf: bpf_prog_<tag>_<name> insn <idx>" line in it, where
 * <idx> is found by scanning the xlated program for the access.
 *
 * net.core.bpf_jit_kasan: 0 no checks, 1 inline fast path (default),
 * 2 outline calls; read once per program at load. The JIT images, the
 * fdinfo counts (checks, slow-path entries) and the refusal to trace
 * KASAN's own entry points are checked too.
 *
 * Needs a KASAN (generic, with KASAN_VMALLOC) kernel booted with
 * kasan_multi_shot, and root. Changes net.core.bpf_jit_kasan and
 * net.core.bpf_jit_harden, and restores them.
 */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <test_progs.h>
#include "cap_helpers.h"
#include "network_helpers.h"
#include "trace_helpers.h"
#include "progs/kasan_ebpf.h"
#include "kasan_ebpf.skel.h"
#include "kasan_ebpf_common.h"

#define HARDEN_SYSCTL	"/proc/sys/net/core/bpf_jit_harden"

#define UAF		"slab-use-after-free"
#define SLAB_OOB	"slab-out-of-bounds"
#define VMALLOC_OOB	"vmalloc-out-of-bounds"

#define MAX_REPORTS	64

static int saved_kasan = -1, saved_harden = -1;
static bool own_module;

static bool set_kasan_mode(int mode)
{
	return set_sysctl(KASAN_SYSCTL, mode);
}

/* --- the module --- */

/* --- the kernel log --- */

/* One KASAN report, as far as the test checks it. */
struct kasan_report {
	char kind[64];		/* "slab-use-after-free", ... */
	char where[256];	/* "bpf_prog_<tag>_<name>+0x4a/0x90" */
	char rw[8];		/* "Read" or "Write" */
	size_t size;
	unsigned long long addr;
	const char *ebpf;	/* the text after "kasan_ebpf: ", or NULL */
	/* ebpf came after the Read/Write line, before the report's end */
	bool ebpf_inside;
};

/* The line that opens and closes a KASAN report. */
#define KASAN_REPORT_RULE \
	"=================================================================="

/* One program run and what it logged. */
struct run {
	struct klog log;
	struct kasan_report rep[MAX_REPORTS];
	int nr_rep;	/* "BUG: KASAN:" lines */
	int nr_ebpf;	/* "kasan_ebpf:" lines */
	__u32 retval;
};

static void parse_reports(struct run *run)
{
	struct kasan_report *r = NULL;
	bool open = false;	/* in r, before its closing rule */
	const char *s;
	int i;

	for (i = 0; i < run->log.cnt; i++) {
		const char *line = run->log.lines[i];

		s = strstr(line, "BUG: KASAN: ");
		if (s) {
			open = false;
			if (run->nr_rep++ >= MAX_REPORTS) {
				r = NULL;
				continue;
			}
			r = &run->rep[run->nr_rep - 1];
			open = true;
			parse_bug_line(s + strlen("BUG: KASAN: "), r->kind,
				       r->where);
			continue;
		}
		if (strstr(line, KASAN_REPORT_RULE)) {
			open = false;
			continue;
		}
		s = strstr(line, "kasan_ebpf: ");
		if (s) {
			run->nr_ebpf++;
			if (r && !r->ebpf) {
				r->ebpf = s + strlen("kasan_ebpf: ");
				r->ebpf_inside = open && r->rw[0];
			}
			continue;
		}
		if (r && !r->rw[0] &&
		    !parse_access_line(line, r->rw, &r->size, &r->addr))
			r->rw[0] = '\0';
	}
}

static void run_free(struct run *run)
{
	klog_free(&run->log);
}

/* Runs a program once and collects the KASAN reports it caused. */
static bool run_prog(int prog_fd, bool tc, struct run *run)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int kmsg, err;
	bool ok;

	memset(run, 0, sizeof(*run));
	if (tc) {
		opts.data_in = &pkt_v4;
		opts.data_size_in = sizeof(pkt_v4);
		opts.repeat = 1;
	}
	kmsg = kmsg_open();
	if (!ASSERT_OK_FD(kmsg, "open /dev/kmsg"))
		return false;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	run->retval = opts.retval;
	ok = ASSERT_OK(err, "bpf_prog_test_run_opts") &&
	     ASSERT_OK(kmsg_read(kmsg, &run->log), "read /dev/kmsg") &&
	     ASSERT_FALSE(run->log.lost, "kernel log records lost");
	close(kmsg);
	if (ok)
		parse_reports(run);
	return ok;
}

/* --- programs --- */

/* An access the programs make, as the test finds it in the xlated program. */
struct access {
	const char *name;
	__u8 code;
	__s32 imm;	/* atomics: the operation */
	__s16 off;
	bool write;	/* stores and all atomics */
	int size;
};

/* The accesses of size BPF_<sz> (B, H, W or DW) at offset o. */
#define BYTES_B		1
#define BYTES_H		2
#define BYTES_W		4
#define BYTES_DW	8
#define LDX(sz, o)	.code = BPF_LDX | BPF_MEM | BPF_##sz, .off = (o), \
			.size = BYTES_##sz
#define LDSX(sz, o)	.code = BPF_LDX | BPF_MEMSX | BPF_##sz, .off = (o), \
			.size = BYTES_##sz
#define STX(sz, o)	.code = BPF_STX | BPF_MEM | BPF_##sz, .off = (o), \
			.size = BYTES_##sz, .write = true
#define ST(sz, o)	.code = BPF_ST | BPF_MEM | BPF_##sz, .off = (o), \
			.size = BYTES_##sz, .write = true
#define ATOMIC(sz, op, o)						\
			.code = BPF_STX | BPF_ATOMIC | BPF_##sz, .imm = (op), \
			.off = (o), .size = BYTES_##sz, .write = true
/* An atomic that only reads: through src_reg, unlike the others. */
#define LOAD_ACQ(sz, o)							\
			.code = BPF_STX | BPF_ATOMIC | BPF_##sz,	\
			.imm = BPF_LOAD_ACQ, .off = (o), .size = BYTES_##sz
#define STORE_REL(sz, o)	ATOMIC(sz, BPF_STORE_REL, o)

/*
 * The access of kasan_forms' form KASAN_<f>, named "<f>": kind (LDX, ...)
 * with its arguments before the offset, KASAN_FORM_OFF(KASAN_<f>).
 */
#define FORM(f, kind, ...)						\
	[KASAN_##f] = { #f, kind(__VA_ARGS__, KASAN_FORM_OFF(KASAN_##f)) }

static const struct access forms[KASAN_NR_FORMS] = {
	FORM(LDX_B, LDX, B),
	FORM(LDX_H, LDX, H),
	FORM(LDX_W, LDX, W),
	FORM(LDX_DW, LDX, DW),
	FORM(LDSX_B, LDSX, B),
	FORM(LDSX_H, LDSX, H),
	FORM(LDSX_W, LDSX, W),
	FORM(STX_B, STX, B),
	FORM(STX_H, STX, H),
	FORM(STX_W, STX, W),
	FORM(STX_DW, STX, DW),
	FORM(ST_B, ST, B),
	FORM(ST_H, ST, H),
	FORM(ST_W, ST, W),
	FORM(ST_DW, ST, DW),
	FORM(ADD_W, ATOMIC, W, BPF_ADD),
	FORM(ADD_DW, ATOMIC, DW, BPF_ADD),
	FORM(FETCH_ADD_W, ATOMIC, W, BPF_ADD | BPF_FETCH),
	FORM(FETCH_ADD_DW, ATOMIC, DW, BPF_ADD | BPF_FETCH),
	FORM(XCHG_W, ATOMIC, W, BPF_XCHG),
	FORM(XCHG_DW, ATOMIC, DW, BPF_XCHG),
	FORM(CMPXCHG_W, ATOMIC, W, BPF_CMPXCHG),
	FORM(CMPXCHG_DW, ATOMIC, DW, BPF_CMPXCHG),
	FORM(AND_W, ATOMIC, W, BPF_AND),
	FORM(AND_DW, ATOMIC, DW, BPF_AND),
	FORM(FETCH_AND_W, ATOMIC, W, BPF_AND | BPF_FETCH),
	FORM(FETCH_AND_DW, ATOMIC, DW, BPF_AND | BPF_FETCH),
	FORM(OR_W, ATOMIC, W, BPF_OR),
	FORM(OR_DW, ATOMIC, DW, BPF_OR),
	FORM(FETCH_OR_W, ATOMIC, W, BPF_OR | BPF_FETCH),
	FORM(FETCH_OR_DW, ATOMIC, DW, BPF_OR | BPF_FETCH),
	FORM(XOR_W, ATOMIC, W, BPF_XOR),
	FORM(XOR_DW, ATOMIC, DW, BPF_XOR),
	FORM(FETCH_XOR_W, ATOMIC, W, BPF_XOR | BPF_FETCH),
	FORM(FETCH_XOR_DW, ATOMIC, DW, BPF_XOR | BPF_FETCH),
	FORM(LOAD_ACQ_B, LOAD_ACQ, B),
	FORM(LOAD_ACQ_H, LOAD_ACQ, H),
	FORM(LOAD_ACQ_W, LOAD_ACQ, W),
	FORM(LOAD_ACQ_DW, LOAD_ACQ, DW),
	FORM(STORE_REL_B, STORE_REL, B),
	FORM(STORE_REL_H, STORE_REL, H),
	FORM(STORE_REL_W, STORE_REL, W),
	FORM(STORE_REL_DW, STORE_REL, DW),
};

/*
 * kasan_partial's accesses: 'at' is the offset of the accessed bytes from
 * the start of the object; the insn's offset is the same, or negative for
 * those made through a pointer moved past them (NEG(move, at)).
 */
#define NEG(move, at)	((at) - (move))

static const struct {
	struct access a;
	int at;
	bool bad;
} partial[KASAN_NR_PARTIAL] = {
	[KASAN_P_LDX_B_100]	= { { "LDX_B_100", LDX(B, 100) }, 100, true },
	[KASAN_P_LDX_H_99]	= { { "LDX_H_99", LDX(H, 99) }, 99, true },
	[KASAN_P_LDX_W_97]	= { { "LDX_W_97", LDX(W, 97) }, 97, true },
	[KASAN_P_LDX_DW_96]	= { { "LDX_DW_96", LDX(DW, 96) }, 96, true },
	[KASAN_P_LDSX_W_98]	= { { "LDSX_W_98", LDSX(W, 98) }, 98, true },
	[KASAN_P_STX_B_101]	= { { "STX_B_101", STX(B, 101) }, 101, true },
	[KASAN_P_ST_H_102]	= { { "ST_H_102", ST(H, 102) }, 102, true },
	[KASAN_P_STX_W_100]	= { { "STX_W_100", STX(W, 100) }, 100, true },
	[KASAN_P_LDX_DW_93]	= { { "LDX_DW_93", LDX(DW, 93) }, 93, true },
	[KASAN_P_STX_DW_94]	= { { "STX_DW_94", STX(DW, 94) }, 94, true },
	[KASAN_P_LDX_DW_96_NEG8] = {
		{ "LDX_DW_96_NEG8", LDX(DW, NEG(KASAN_PARTIAL_MOVE8, 96)) },
		96, true },
	[KASAN_P_LDX_DW_96_NEG32] = {
		{ "LDX_DW_96_NEG32", LDX(DW, NEG(KASAN_PARTIAL_MOVE32, 96)) },
		96, true },
	[KASAN_P_LDX_B_99]	= { { "LDX_B_99", LDX(B, 99) }, 99, false },
	[KASAN_P_LDX_H_98]	= { { "LDX_H_98", LDX(H, 98) }, 98, false },
	[KASAN_P_LDX_W_96]	= { { "LDX_W_96", LDX(W, 96) }, 96, false },
	[KASAN_P_STX_H_98]	= { { "STX_H_98", STX(H, 98) }, 98, false },
	[KASAN_P_ST_W_96]	= { { "ST_W_96", ST(W, 96) }, 96, false },
	[KASAN_P_LDX_DW_92]	= { { "LDX_DW_92", LDX(DW, 92) }, 92, false },
	[KASAN_P_LDX_W_94]	= { { "LDX_W_94", LDX(W, 94) }, 94, false },
	[KASAN_P_STX_DW_90]	= { { "STX_DW_90", STX(DW, 90) }, 90, false },
	[KASAN_P_STX_W_92_NEG8] = {
		{ "STX_W_92_NEG8", STX(W, NEG(KASAN_PARTIAL_MOVE8, 92)) },
		92, false },
	[KASAN_P_LDX_W_96_NEG32] = {
		{ "LDX_W_96_NEG32", LDX(W, NEG(KASAN_PARTIAL_MOVE32, 96)) },
		96, false },
};

static const struct access sub_static_access = {
	"sub_static", LDX(DW, KASAN_SUB_STATIC_OFF)
};

static const struct access sub_global_access = {
	"sub_global", STX(W, KASAN_SUB_GLOBAL_OFF)
};

static const struct access sub_main_access = {
	"kasan_subprog", LDX(H, KASAN_SUB_MAIN_OFF)
};

static const struct access blind_static_access = {
	"blind_static", LDX(W, KASAN_BLIND_STATIC_OFF)
};

static const struct access blind_loop_access = {
	"blind_loop_cb", ST(DW, KASAN_BLIND_LOOP_OFF)
};

static const struct access tail_r12_access = {
	"kasan_tail_r12_tgt", LDX(W, KASAN_TAIL_R12_OFF)
};

static const struct access mixed_access = {
	"kasan_mixed", LDX(DW, KASAN_MIXED_OFF)
};

static const struct access tail_access = {
	"kasan_tail_tgt", LDX(H, KASAN_TAIL_OFF)
};

static const struct access priv_stack_access = {
	"kasan_priv_stack", LDX(DW, KASAN_PRIV_OFF)
};

/* kasan_gotox's jump targets, each an access at KASAN_GOTOX_OFF(target). */
#define GOTOX(t, kind, sz)						\
	[KASAN_GOTOX_##t] = { #t, kind(sz, KASAN_GOTOX_OFF(KASAN_GOTOX_##t)) }

static const struct access gotox_targets[KASAN_NR_GOTOX] = {
	GOTOX(LDX_DW, LDX, DW),
	GOTOX(STX_W, STX, W),
	GOTOX(ST_H, ST, H),
	GOTOX(LOAD_ACQ_W, LOAD_ACQ, W),
	GOTOX(STORE_REL_DW, STORE_REL, DW),
};

static bool is_atomic(__u8 code)
{
	return BPF_CLASS(code) == BPF_STX && BPF_MODE(code) == BPF_ATOMIC;
}

/*
 * The index of the one xlated instruction that makes access a, or -1.
 * Constant blinding (bpf_jit_harden) turns ST into a move of the blinded
 * immediate into the auxiliary register and an STX from it.
 */
static int find_insn(const struct prog_meta *m, const struct access *a)
{
	int i, found = -1, n = 0;

	for (i = 0; i < m->cnt; i++) {
		const struct bpf_insn *insn = &m->insns[i];
		bool match;

		if (insn->off != a->off)
			continue;
		match = insn->code == a->code;
		if (match && is_atomic(a->code))
			match = insn->imm == a->imm;
		if (BPF_CLASS(a->code) == BPF_ST &&
		    insn->code == (BPF_STX | BPF_MEM | BPF_SIZE(a->code)))
			match = true;
		if (match) {
			found = i;
			n++;
		}
	}
	return n == 1 ? found : -1;
}

/* --- checking reports --- */

/* What one bad access must make KASAN and the JIT print. */
struct expect {
	const char *what;	/* for messages */
	const char *kind;
	const struct access *a;
	unsigned long long addr;
	const char *name;	/* kallsyms name part: (sub)program name */
	const char *tag;	/* the program's tag, NULL if not checked */
	int insn;
	int line;		/* > 0: must end in " at kasan_ebpf.c:<line>" */
};

static void check_report(const struct kasan_report *r, const struct expect *e)
{
	const char *what = e->what, *rest, *colon;
	int idx = -1, used = 0, n;
	size_t len;

	ASSERT_STREQ(r->kind, e->kind, msg(what, "KASAN bug type"));
	ASSERT_STREQ(r->rw, e->a->write ? "Write" : "Read",
		     msg(what, "access type"));
	ASSERT_EQ(r->size, e->a->size, msg(what, "access size"));
	if (e->addr)
		ASSERT_EQ(r->addr, e->addr, msg(what, "access address"));

	len = match_sym(r->where, e->tag, e->name);
	if (!ASSERT_TRUE(len && r->where[len] == '+',
			 msg(what, "BUG line names the program")))
		printf("%s: BUG line has '%s', expected bpf_prog_%s_%s+\n",
		       what, r->where, e->tag ?: "<tag>", e->name);

	if (!ASSERT_TRUE(r->ebpf, msg(what, "kasan_ebpf: line after the report")))
		return;
	len = match_sym(r->ebpf, e->tag, e->name);
	n = sscanf(r->ebpf + len, " insn %d%n", &idx, &used);
	if (!ASSERT_TRUE(len, msg(what, "kasan_ebpf: line names the program")) ||
	    !ASSERT_OK(strncmp(r->where, r->ebpf, len),
		       msg(what, "same symbol in BUG and kasan_ebpf: lines")) ||
	    !ASSERT_EQ(n, 1, msg(what, "kasan_ebpf: line has 'insn <idx>'"))) {
		printf("%s: got 'kasan_ebpf: %s', expected 'kasan_ebpf: bpf_prog_%s_%s insn %d'\n",
		       what, r->ebpf, e->tag ?: "<tag>", e->name, e->insn);
		return;
	}
	ASSERT_EQ(idx, e->insn, msg(what, "instruction index"));
	/* Nothing more, or " at <file>:<line>". */
	rest = r->ebpf + len + used;
	if (*rest) {
		colon = strrchr(rest, ':');
		ASSERT_TRUE(!strncmp(rest, " at ", 4) && colon &&
			    isdigit((unsigned char)colon[1]),
			    msg(what, "kasan_ebpf: line ends in ' at <file>:<line>'"));
	}
	if (e->line > 0) {
		int line = -1;

		n = sscanf(rest, " at kasan_ebpf.c:%d", &line);
		if (!ASSERT_EQ(n, 1,
			       msg(what, "kasan_ebpf: line has ' at kasan_ebpf.c:<line>'")) ||
		    !ASSERT_EQ(line, e->line,
			       msg(what, "source line of the insn, as its line info says")))
			printf("%s: got 'kasan_ebpf: %s', expected ' at kasan_ebpf.c:%d'\n",
			       what, r->ebpf, e->line);
	}
}

static void check_one_report(const struct run *run, const struct expect *e)
{
	if (!ASSERT_EQ(run->nr_rep, 1, msg(e->what, "one KASAN report")))
		return;
	ASSERT_EQ(run->nr_ebpf, 1, msg(e->what, "one kasan_ebpf: line"));
	check_report(&run->rep[0], e);
}

static void check_no_report(const struct run *run, const char *what)
{
	ASSERT_EQ(run->nr_rep, 0, msg(what, "no KASAN report"));
	ASSERT_EQ(run->nr_ebpf, 0, msg(what, "no kasan_ebpf: line"));
}

/* --- skeleton --- */

/* Opens the skeleton with only kasan_free to load; callers add programs. */
static struct kasan_ebpf *open_skel(void)
{
	struct bpf_program *prog;
	struct kasan_ebpf *skel;

	skel = kasan_ebpf__open();
	if (!ASSERT_OK_PTR(skel, "kasan_ebpf__open"))
		return NULL;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	bpf_program__set_autoload(skel->progs.kasan_free, true);
	return skel;
}

/* Loads the programs with bpf_jit_kasan set to mode. */
static bool load_skel(struct kasan_ebpf *skel, int mode)
{
	return set_kasan_mode(mode) &&
	       ASSERT_OK(kasan_ebpf__load(skel), "kasan_ebpf__load");
}

/* Frees the module's live allocations; returns how many, or -1. */
static int free_all(struct kasan_ebpf *skel)
{
	struct run run;
	int ret = -1;

	if (run_prog(bpf_program__fd(skel->progs.kasan_free), false, &run))
		ret = run.retval;
	run_free(&run);
	return ret;
}

#define SLOW_PATH	"kasan_slow_path"

/*
 * Runs kasan_forms with the pointer from src and access form f: it must
 * report kind, or nothing if kind is NULL. With count_slow (a program
 * loaded in mode 1), the run must also enter the slow path exactly once
 * for a bad access and never for a valid one: every other access of the
 * program is to valid memory, which the fast path must let through.
 */
static void check_form(struct kasan_ebpf *skel, const struct prog_meta *m,
		       enum kasan_src src, int f, const char *label,
		       const char *kind, bool count_slow)
{
	int fd = bpf_program__fd(skel->progs.kasan_forms);
	long slow = 0;
	char what[64];
	struct run run;
	struct expect e = {
		.what = what, .kind = kind, .a = &forms[f],
		.name = "kasan_forms", .tag = m->tag,
	};

	snprintf(what, sizeof(what), "%s %s", label, forms[f].name);
	e.insn = find_insn(m, e.a);
	if (!ASSERT_GE(e.insn, 0, msg(what, "access in xlated program")))
		return;
	skel->bss->src = src;
	skel->bss->form = f;
	if (count_slow)
		slow = read_fdinfo(fd, SLOW_PATH);
	if (run_prog(fd, false, &run) &&
	    ASSERT_EQ(run.retval, 0, msg(what, "program got its pointer"))) {
		e.addr = skel->bss->base + KASAN_FORM_OFF(f);
		if (kind)
			check_one_report(&run, &e);
		else
			check_no_report(&run, what);
		if (count_slow)
			ASSERT_EQ(read_fdinfo(fd, SLOW_PATH) - slow, kind ? 1 : 0,
				  msg(what, "slow path entries in the run"));
	}
	run_free(&run);
}

/* check_form() for every access form. */
static void check_forms(struct kasan_ebpf *skel, enum kasan_src src,
			const char *label, const char *kind)
{
	struct prog_meta m;
	int f;

	if (!get_prog_meta(bpf_program__fd(skel->progs.kasan_forms), &m))
		return;
	for (f = 0; f < KASAN_NR_FORMS; f++)
		check_form(skel, &m, src, f, label, kind, false);
	put_prog_meta(&m);
}

/* Every access form through the pointer from src, under a KASAN mode. */
static void test_forms(enum kasan_src src, int mode, const char *kind)
{
	static const char * const src_names[] = {
		[KASAN_SRC_VALID] = "valid",
		[KASAN_SRC_UAF] = "uaf",
		[KASAN_SRC_KMALLOC_OOB] = "kmalloc_oob",
		[KASAN_SRC_VMALLOC_OOB] = "vmalloc_oob",
	};
	struct kasan_ebpf *skel;
	char label[32];

	skel = open_skel();
	if (!skel)
		return;
	bpf_program__set_autoload(skel->progs.kasan_forms, true);
	if (!load_skel(skel, mode))
		goto out;
	ASSERT_EQ(read_fdinfo(bpf_program__fd(skel->progs.kasan_forms), "kasan_mode"),
		  mode, "fdinfo kasan_mode");
	snprintf(label, sizeof(label), "%s mode %d", src_names[src], mode);
	check_forms(skel, src, label, kind);
	free_all(skel);
out:
	kasan_ebpf__destroy(skel);
}

/* --- subtests --- */

enum child_result {
	CHILD_REJECTED,
	CHILD_ACCEPTED,
	CHILD_SETUP_FAILED,
};

/* Tries to write 2 without CAP_SYS_ADMIN, as root or as nobody. */
static int unprivileged_write(bool as_nobody)
{
	__u64 old_caps;
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (as_nobody) {
			if (setresgid(65534, 65534, 65534) ||
			    setresuid(65534, 65534, 65534))
				_exit(CHILD_SETUP_FAILED);
		} else if (cap_disable_effective(1ULL << CAP_SYS_ADMIN,
						 &old_caps)) {
			_exit(CHILD_SETUP_FAILED);
		}
		_exit(write_str_file(KASAN_SYSCTL, "2") ? CHILD_REJECTED :
							  CHILD_ACCEPTED);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_sysctl(void)
{
	static const char * const bad[] = { "-1", "3", "garbage" };
	char buf[16];
	int i, val;

	for (i = 0; i <= 2; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		ASSERT_OK(write_str_file(KASAN_SYSCTL, buf), "write 0, 1 or 2");
		ASSERT_OK(read_int_file(KASAN_SYSCTL, &val), "read back");
		ASSERT_EQ(val, i, "value written");
	}

	if (!set_kasan_mode(1))
		return;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(write_str_file(KASAN_SYSCTL, bad[i]), -EINVAL,
			  msg(bad[i], "write rejected with EINVAL"));
		ASSERT_OK(read_int_file(KASAN_SYSCTL, &val), "read back");
		ASSERT_EQ(val, 1, msg(bad[i], "value unchanged"));
	}

	ASSERT_EQ(unprivileged_write(false), CHILD_REJECTED,
		  "write without CAP_SYS_ADMIN rejected");
	ASSERT_OK(read_int_file(KASAN_SYSCTL, &val), "read back");
	ASSERT_EQ(val, 1, "value unchanged after write without CAP_SYS_ADMIN");

	ASSERT_EQ(unprivileged_write(true), CHILD_REJECTED,
		  "write as nobody rejected");
	ASSERT_OK(read_int_file(KASAN_SYSCTL, &val), "read back");
	ASSERT_EQ(val, 1, "value unchanged after write as nobody");
}

/* A KASAN mode and a bpf_jit_harden value to load a program with. */
struct round {
	int mode;
	int harden;
};

/* Modes 1 and 2, and mode 1 under constant blinding. */
static const struct round checked_rounds[] = { { 1, 0 }, { 2, 0 }, { 1, 2 } };

/*
 * Loads the program named prog (and kasan_free) under round r, with the
 * BPF_F_* load flags 'flags' added to the program's; returns the skeleton
 * and the program's fd, or NULL.
 */
static struct kasan_ebpf *load_round_flags(const char *prog,
					   const struct round *r, __u32 flags,
					   int *fd)
{
	struct bpf_program *p = NULL;
	struct kasan_ebpf *skel;

	if (!set_sysctl(HARDEN_SYSCTL, r->harden))
		return NULL;
	skel = open_skel();
	if (skel)
		p = bpf_object__find_program_by_name(skel->obj, prog);
	if (!ASSERT_OK_PTR(p, prog) ||
	    bpf_program__set_autoload(p, true) ||
	    !ASSERT_OK(bpf_program__set_flags(p, bpf_program__flags(p) | flags),
		       "bpf_program__set_flags") ||
	    !load_skel(skel, r->mode)) {
		kasan_ebpf__destroy(skel);
		return NULL;
	}
	*fd = bpf_program__fd(p);
	ASSERT_EQ(read_fdinfo(*fd, "kasan_mode"), r->mode, "fdinfo kasan_mode");
	return skel;
}

/* load_round_flags() with the program's own flags. */
static struct kasan_ebpf *load_round(const char *prog, const struct round *r,
				     int *fd)
{
	return load_round_flags(prog, r, 0, fd);
}

/* Runs the program fd and checks that it returns 0 and reports nothing. */
static void check_silent_run(int fd, const char *what)
{
	struct run run;

	if (run_prog(fd, false, &run)) {
		ASSERT_EQ(run.retval, 0, msg(what, "retval"));
		check_no_report(&run, what);
	}
	run_free(&run);
}

/*
 * kasan_checks and kasan_merged count the instrumented accesses: heap ones,
 * not stack ones, also when constant blinding rewrote the program; in mode
 * 1, they share one check (a merged group), in mode 2 none does.
 */
static void test_fdinfo_checks(void)
{
	static const struct round rounds[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 1, 2 },
	};
	struct kasan_ebpf *skel;
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(rounds); i++) {
		skel = load_round("kasan_count", &rounds[i], &fd);
		if (!skel)
			break;
		if (rounds[i].mode) {
			int merged = rounds[i].mode == 1 ? KASAN_COUNT_MERGED : 0;

			ASSERT_EQ(read_fdinfo(fd, "kasan_checks"),
				  KASAN_COUNT_HEAP - merged,
				  "fdinfo kasan_checks: heap accesses only");
			ASSERT_EQ(read_fdinfo(fd, "kasan_merged"), merged,
				  "fdinfo kasan_merged");
		}
		check_silent_run(fd, "kasan_count");
		free_all(skel);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Accesses the verifier knows to be stack-only are neither instrumented nor
 * counted: through r10, through another register, in a subprogram; also
 * under constant blinding.
 */
static void test_stack_only(void)
{
	struct kasan_ebpf *skel;
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(checked_rounds); i++) {
		skel = load_round("kasan_stack", &checked_rounds[i], &fd);
		if (!skel)
			break;
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), 0, "fdinfo kasan_checks");
		check_silent_run(fd, "kasan_stack");
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * A load that the verifier saw read the stack on one path and a freed
 * object on the other stays instrumented: the freed object is reported,
 * the stack is not.
 */
static void test_stack_or_heap(void)
{
	const struct round *r;
	struct kasan_ebpf *skel;
	struct run run = {};
	struct prog_meta m;
	char what[64];
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(checked_rounds); i++) {
		r = &checked_rounds[i];
		skel = load_round("kasan_mixed", r, &fd);
		if (!skel)
			break;
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), KASAN_MIXED_CHECKS,
			  "fdinfo kasan_checks");
		snprintf(what, sizeof(what), "mode %d harden %d stack",
			 r->mode, r->harden);
		skel->bss->form = 0;
		check_silent_run(fd, what);
		if (get_prog_meta(fd, &m)) {
			struct expect e = {
				.what = what, .kind = UAF, .a = &mixed_access,
				.name = "kasan_mixed", .tag = m.tag,
				.insn = find_insn(&m, &mixed_access),
			};

			snprintf(what, sizeof(what), "mode %d harden %d heap",
				 r->mode, r->harden);
			skel->bss->form = 1;
			if (ASSERT_GE(e.insn, 0, msg(what, "access in xlated program")) &&
			    run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.retval, 0, msg(what, "retval"))) {
				e.addr = skel->bss->base + KASAN_MIXED_OFF;
				check_one_report(&run, &e);
			}
			run_free(&run);
			put_prog_meta(&m);
		}
		free_all(skel);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

#define UNPRIV_SYSCTL	"/proc/sys/kernel/unprivileged_bpf_disabled"
#define ALL_CAPS	((2ULL << CAP_BPF) - 1)

/*
 * A program loaded without any capability has no kallsyms entry. Its
 * checks must still find their BPF insn: an 8-byte load and store of the
 * only value of a one-entry array map, which ends where its kmalloc'ed
 * memory does, fail the fast path (the next granule's shadow is poisoned)
 * and go to the slow path, which must look the program up, let KASAN find
 * the access valid, and print nothing, not even "no BPF insn".
 */
static void test_unprivileged(void)
{
	struct bpf_insn insns[] = {
		BPF_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		BPF_MOV64_REG(BPF_REG_2, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		BPF_LD_MAP_FD(BPF_REG_1, 0),
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
			     BPF_FUNC_map_lookup_elem),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 3),
		BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_0, 0),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),
		BPF_STX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
	};
	int orig = -1, map_fd = -1, prog_fd = -1, err, key = 0;
	__u64 caps, val = 0;
	struct run run = {};

	if (!ASSERT_OK(read_int_file(UNPRIV_SYSCTL, &orig), "read " UNPRIV_SYSCTL))
		return;
	if (orig == 1) {
		printf("%s:SKIP: %s is 1\n", __func__, UNPRIV_SYSCTL);
		test__skip();
		return;
	}
	if (orig && !set_sysctl(UNPRIV_SYSCTL, 0))
		return;
	if (!set_kasan_mode(1))
		goto out;
	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(key),
				sizeof(val), 1, NULL);
	if (!ASSERT_OK_FD(map_fd, "bpf_map_create"))
		goto out;
	insns[3].imm = map_fd;
	if (!ASSERT_OK(cap_disable_effective(ALL_CAPS, &caps), "drop caps"))
		goto out;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "kasan_unpriv",
				"GPL", insns, ARRAY_SIZE(insns), NULL);
	err = -errno;
	if (!ASSERT_OK(cap_enable_effective(caps, NULL), "restore caps") ||
	    !ASSERT_OK_FD(prog_fd, "load without capabilities")) {
		printf("%s: load: %d\n", __func__, err);
		goto out;
	}
	/*
	 * The load and the store through r0, which share one check (a merged
	 * group). The load of the key through r2 in the array lookup the
	 * verifier inlined, an insn it inserted, takes the stack-only mark of
	 * the call's key (r10 - 4): not checked.
	 */
	ASSERT_EQ(read_fdinfo(prog_fd, "kasan_checks"), 1, "fdinfo kasan_checks");
	ASSERT_EQ(read_fdinfo(prog_fd, "kasan_merged"), 1, "fdinfo kasan_merged");
	if (run_prog(prog_fd, true, &run)) {
		ASSERT_EQ(run.retval, 0, "retval");
		check_no_report(&run, "unprivileged");
	}
	run_free(&run);
	ASSERT_OK(bpf_map_lookup_elem(map_fd, &key, &val), "map lookup");
	ASSERT_EQ(val, 1, "the program ran");
out:
	if (prog_fd >= 0)
		close(prog_fd);
	if (map_fd >= 0)
		close(map_fd);
	if (orig > 0)
		set_sysctl(UNPRIV_SYSCTL, orig);
}

/* The last granule of a 100-byte object: bytes 100..103 are poisoned. */
static void test_partial_granule(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	char what[64];
	struct run run;
	int mode, p, fd;

	for (mode = 1; mode <= 2; mode++) {
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_partial, true);
		if (!load_skel(skel, mode))
			goto next;
		fd = bpf_program__fd(skel->progs.kasan_partial);
		if (!get_prog_meta(fd, &m))
			goto next;
		for (p = 0; p < KASAN_NR_PARTIAL; p++) {
			struct expect e = {
				.what = what, .kind = SLAB_OOB, .a = &partial[p].a,
				.name = "kasan_partial", .tag = m.tag,
			};

			snprintf(what, sizeof(what), "partial mode %d %s", mode,
				 e.a->name);
			e.insn = find_insn(&m, e.a);
			if (!ASSERT_GE(e.insn, 0,
				       msg(what, "access in xlated program")))
				continue;
			skel->bss->form = p;
			if (run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.retval, 0, msg(what, "retval"))) {
				e.addr = skel->bss->base + partial[p].at;
				if (partial[p].bad)
					check_one_report(&run, &e);
				else
					check_no_report(&run, what);
			}
			run_free(&run);
		}
		put_prog_meta(&m);
		free_all(skel);
next:
		kasan_ebpf__destroy(skel);
	}
}

/* The valid buffer never reports, and free_all frees what was handed out. */
static void test_valid(void)
{
	struct kasan_ebpf *skel;
	char label[32];
	int mode;

	for (mode = 1; mode <= 2; mode++) {
		snprintf(label, sizeof(label), "valid mode %d", mode);
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_forms, true);
		if (!load_skel(skel, mode))
			goto next;
		free_all(skel);
		check_forms(skel, KASAN_SRC_VALID, label, NULL);
		ASSERT_EQ(free_all(skel), KASAN_NR_FORMS,
			  "bpf_kasan_free_all() frees one buffer per run");
		ASSERT_EQ(free_all(skel), 0, "nothing left to free");
next:
		kasan_ebpf__destroy(skel);
	}
}

/* bpf_jit_kasan=0: bad accesses go unreported. */
static void test_sysctl_off(void)
{
	struct kasan_ebpf *skel;

	skel = open_skel();
	if (!skel)
		return;
	bpf_program__set_autoload(skel->progs.kasan_forms, true);
	if (!load_skel(skel, 0))
		goto out;
	ASSERT_EQ(read_fdinfo(bpf_program__fd(skel->progs.kasan_forms), "kasan_mode"),
		  0, "fdinfo kasan_mode");
	check_forms(skel, KASAN_SRC_UAF, "uaf mode 0", NULL);
	check_forms(skel, KASAN_SRC_KMALLOC_OOB, "kmalloc_oob mode 0", NULL);
	free_all(skel);
out:
	kasan_ebpf__destroy(skel);
}

/*
 * The demonstration `make run` shows: a program reads freed memory and
 * writes past the end of a buffer, and KASAN reports both with the BPF
 * instruction; loaded with net.core.bpf_jit_kasan at 0, it is silent.
 */
static void test_demo(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	int mode;

	for (mode = 1; mode >= 0; mode--) {
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_forms, true);
		if (!load_skel(skel, mode))
			goto next;
		if (!get_prog_meta(bpf_program__fd(skel->progs.kasan_forms), &m))
			goto next;
		printf("demo: net.core.bpf_jit_kasan=%d: read of freed memory\n", mode);
		check_form(skel, &m, KASAN_SRC_UAF, KASAN_LDX_DW,
			   mode ? "demo mode 1" : "demo mode 0", mode ? UAF : NULL,
			   false);
		printf("demo: net.core.bpf_jit_kasan=%d: write past the end of a buffer\n",
		       mode);
		check_form(skel, &m, KASAN_SRC_KMALLOC_OOB, KASAN_STX_W,
			   mode ? "demo mode 1" : "demo mode 0",
			   mode ? SLAB_OOB : NULL, false);
		put_prog_meta(&m);
		free_all(skel);
next:
		kasan_ebpf__destroy(skel);
	}
}

/* A program keeps the mode it was loaded with. */
static void test_mode_kept(void)
{
	struct kasan_ebpf *on = NULL, *off = NULL;
	struct prog_meta m = {};
	struct run run;
	int fd_on, fd_off;
	struct expect e = {
		.what = "loaded at 1, run at 0", .kind = UAF,
		.a = &forms[KASAN_LDX_DW], .name = "kasan_forms",
	};

	on = open_skel();
	off = open_skel();
	if (!on || !off)
		goto out;
	bpf_program__set_autoload(on->progs.kasan_forms, true);
	bpf_program__set_autoload(off->progs.kasan_forms, true);
	if (!load_skel(on, 1) || !load_skel(off, 0))
		goto out;
	fd_on = bpf_program__fd(on->progs.kasan_forms);
	fd_off = bpf_program__fd(off->progs.kasan_forms);
	if (!get_prog_meta(fd_on, &m))
		goto out;
	e.tag = m.tag;
	e.insn = find_insn(&m, e.a);
	ASSERT_GE(e.insn, 0, "access in xlated program");

	if (!set_kasan_mode(0))
		goto out;
	on->bss->src = KASAN_SRC_UAF;
	on->bss->form = KASAN_LDX_DW;
	if (run_prog(fd_on, false, &run) && ASSERT_EQ(run.retval, 0, "retval")) {
		e.addr = on->bss->base + KASAN_FORM_OFF(KASAN_LDX_DW);
		check_one_report(&run, &e);
	}
	run_free(&run);
	ASSERT_EQ(read_fdinfo(fd_on, "kasan_mode"), 1, "fdinfo kasan_mode loaded at 1");

	if (!set_kasan_mode(1))
		goto out;
	off->bss->src = KASAN_SRC_UAF;
	off->bss->form = KASAN_LDX_DW;
	if (run_prog(fd_off, false, &run) && ASSERT_EQ(run.retval, 0, "retval"))
		check_no_report(&run, "loaded at 0, run at 1");
	run_free(&run);
	ASSERT_EQ(read_fdinfo(fd_off, "kasan_mode"), 0, "fdinfo kasan_mode loaded at 0");
out:
	put_prog_meta(&m);
	kasan_ebpf__destroy(on);
	kasan_ebpf__destroy(off);
}

/* Constant blinding rewrites the program; the checks and indexes follow. */
static void test_harden(void)
{
	struct kasan_ebpf *skel;
	char label[32];
	int mode;

	if (!set_sysctl(HARDEN_SYSCTL, 2))
		return;
	for (mode = 1; mode <= 2; mode++) {
		snprintf(label, sizeof(label), "harden uaf mode %d", mode);
		skel = open_skel();
		if (!skel)
			break;
		bpf_program__set_autoload(skel->progs.kasan_forms, true);
		if (load_skel(skel, mode))
			check_forms(skel, KASAN_SRC_UAF, label, UAF);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Bad accesses in a static and in a global subprogram, and in the main
 * function of the program that has them: the main function's symbol is the
 * program's, with the program's tag and name (a subprogram's symbol has its
 * own tag).
 */
static void test_subprog(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	char what[64];
	struct run run;
	int mode, fd, i;
	const struct {
		enum kasan_subprog which;
		const struct access *a;
		bool main;
	} subs[] = {
		{ KASAN_SUB_STATIC, &sub_static_access },
		{ KASAN_SUB_GLOBAL, &sub_global_access },
		{ KASAN_SUB_MAIN, &sub_main_access, true },
	};

	for (mode = 1; mode <= 2; mode++) {
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_subprog, true);
		if (!load_skel(skel, mode))
			goto next;
		fd = bpf_program__fd(skel->progs.kasan_subprog);
		if (!get_prog_meta(fd, &m))
			goto next;
		for (i = 0; i < ARRAY_SIZE(subs); i++) {
			struct expect e = {
				.what = what, .kind = UAF, .a = subs[i].a,
				.name = subs[i].a->name,
				.tag = subs[i].main ? m.tag : NULL,
			};

			snprintf(what, sizeof(what), "mode %d %s", mode,
				 e.a->name);
			e.insn = find_insn(&m, e.a);
			if (!ASSERT_GE(e.insn, 0,
				       msg(what, "access in xlated program")))
				continue;
			skel->bss->form = subs[i].which;
			if (run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.retval, 0, msg(what, "retval"))) {
				e.addr = skel->bss->base + e.a->off;
				check_one_report(&run, &e);
			}
			run_free(&run);
		}
		put_prog_meta(&m);
next:
		kasan_ebpf__destroy(skel);
	}
}

/* A bad access in a tail call target. */
static void test_tail_call(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	struct run run;
	int mode, fd_tgt, key = 0;
	char what[32];
	struct expect e = {
		.what = what, .kind = UAF, .a = &tail_access,
		.name = "kasan_tail_tgt",
	};

	for (mode = 1; mode <= 2; mode++) {
		snprintf(what, sizeof(what), "tail call mode %d", mode);
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_tail, true);
		bpf_program__set_autoload(skel->progs.kasan_tail_tgt, true);
		if (!load_skel(skel, mode))
			goto next;
		fd_tgt = bpf_program__fd(skel->progs.kasan_tail_tgt);
		if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.kasan_jmp_table),
						   &key, &fd_tgt, BPF_ANY),
			       "add the target to the prog array"))
			goto next;
		if (!get_prog_meta(fd_tgt, &m))
			goto next;
		e.tag = m.tag;
		e.insn = find_insn(&m, e.a);
		if (ASSERT_GE(e.insn, 0, msg(what, "access in xlated program")) &&
		    run_prog(bpf_program__fd(skel->progs.kasan_tail), true, &run) &&
		    ASSERT_EQ(run.retval, KASAN_TAIL_HIT, msg(what, "tail call taken"))) {
			e.addr = skel->bss->base + e.a->off;
			check_one_report(&run, &e);
		}
		run_free(&run);
		put_prog_meta(&m);
next:
		kasan_ebpf__destroy(skel);
	}
}

/* Many reports in one run, several times; the kernel keeps working. */
static void test_many_reports(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	struct run run;
	int i, j, fd;
	char what[32];

	skel = open_skel();
	if (!skel)
		return;
	bpf_program__set_autoload(skel->progs.kasan_many, true);
	bpf_program__set_autoload(skel->progs.kasan_count, true);
	if (!load_skel(skel, 1))
		goto out;
	fd = bpf_program__fd(skel->progs.kasan_many);
	if (!get_prog_meta(fd, &m))
		goto out;
	for (i = 0; i < 4; i++) {
		snprintf(what, sizeof(what), "many run %d", i);
		if (run_prog(fd, false, &run) &&
		    ASSERT_EQ(run.retval, 0, msg(what, "retval")) &&
		    ASSERT_EQ(run.nr_rep, KASAN_MANY, msg(what, "KASAN reports")) &&
		    ASSERT_EQ(run.nr_ebpf, KASAN_MANY, msg(what, "kasan_ebpf: lines"))) {
			int seen[KASAN_MANY] = {};

			for (j = 0; j < KASAN_MANY; j++) {
				const struct kasan_report *r = &run.rep[j];
				__u64 off = r->addr - skel->bss->base;
				const char *s;
				int idx, n;

				/*
				 * The loop may be unrolled and its independent
				 * loads reordered: each word once, in any order.
				 */
				ASSERT_STREQ(r->kind, UAF, msg(what, "KASAN bug type"));
				ASSERT_STREQ(r->rw, "Read", msg(what, "access type"));
				ASSERT_EQ(r->size, 8, msg(what, "access size"));
				if (ASSERT_TRUE(off % 8 == 0 && off / 8 < KASAN_MANY,
						msg(what, "access address in the buffer")))
					ASSERT_EQ(++seen[off / 8], 1,
						  msg(what, "each word reported once"));
				ASSERT_TRUE(match_sym(r->where, m.tag, "kasan_many"),
					    msg(what, "BUG line names the program"));
				s = r->ebpf;
				if (!ASSERT_TRUE(s, msg(what, "kasan_ebpf: line")))
					continue;
				s += match_sym(s, m.tag, "kasan_many");
				n = sscanf(s, " insn %d", &idx);
				if (ASSERT_EQ(n, 1,
					      msg(what, "kasan_ebpf: line names the program")))
					ASSERT_TRUE(idx >= 0 && idx < m.cnt &&
						    m.insns[idx].code ==
						    (BPF_LDX | BPF_MEM | BPF_DW),
						    msg(what, "instruction index is a load"));
			}
		}
		run_free(&run);
	}
	put_prog_meta(&m);

	if (run_prog(bpf_program__fd(skel->progs.kasan_count), false, &run)) {
		ASSERT_EQ(run.retval, 0, "kasan_count still runs");
		check_no_report(&run, "after many reports");
	}
	run_free(&run);
	free_all(skel);
out:
	kasan_ebpf__destroy(skel);
}

/* Unloading frees the live allocations; the module reloads. */
static void test_reload(void)
{
	char expected[96];
	struct kasan_ebpf *skel;
	struct run run;
	struct klog log;
	int i, j, kmsg, found;

	if (!own_module) {
		printf("%s: %s was loaded before the test, not reloading it\n",
		       __func__, TESTMOD);
		test__skip();
		return;
	}
	snprintf(expected, sizeof(expected),
		 "%s: unloading, freed %d live allocations", TESTMOD, 3);
	for (i = 0; i < 3; i++) {
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_forms, true);
		if (!load_skel(skel, 1)) {
			kasan_ebpf__destroy(skel);
			return;
		}
		free_all(skel);
		skel->bss->src = KASAN_SRC_VALID;
		skel->bss->form = KASAN_LDX_B;
		for (j = 0; j < 3; j++) {
			if (run_prog(bpf_program__fd(skel->progs.kasan_forms),
				     false, &run))
				ASSERT_EQ(run.retval, 0, "valid buffer");
			run_free(&run);
		}
		kasan_ebpf__destroy(skel);

		memset(&log, 0, sizeof(log));
		kmsg = kmsg_open();
		if (!ASSERT_OK_FD(kmsg, "open /dev/kmsg"))
			return;
		if (!ASSERT_OK(unload_testmod(), "unload " TESTMOD)) {
			close(kmsg);
			return;
		}
		own_module = false;
		ASSERT_OK(kmsg_read(kmsg, &log), "read /dev/kmsg");
		close(kmsg);
		for (found = 0, j = 0; j < log.cnt; j++)
			found += !!strstr(log.lines[j], expected);
		if (!ASSERT_EQ(found, 1, "unload frees the live allocations"))
			printf("%s: expected '%s' in the kernel log\n", __func__,
			       expected);
		klog_free(&log);

		if (!ASSERT_OK(load_testmod(), "reload " TESTMOD_KO))
			return;
		own_module = true;
	}
}

/*
 * Slow-path entries (fdinfo kasan_slow_path), mode 1: the fast path lets
 * every valid access through, and each check of bad accesses enters the
 * slow path once: kasan_many's sixteen loads of freed memory, in as many
 * checks as the JIT left after merging neighbouring ones, enter it once per
 * check and are reported one by one (its one other checked access, the
 * store of 'base', is valid).
 */
static void test_slow_path_count(void)
{
	static const struct {
		enum kasan_src src;
		const char *label;
		const char *kind;
	} srcs[] = {
		{ KASAN_SRC_VALID, "slow path valid", NULL },
		{ KASAN_SRC_UAF, "slow path uaf", UAF },
		{ KASAN_SRC_KMALLOC_OOB, "slow path kmalloc_oob", SLAB_OOB },
		{ KASAN_SRC_VMALLOC_OOB, "slow path vmalloc_oob", VMALLOC_OOB },
	};
	struct kasan_ebpf *skel;
	struct prog_meta m;
	struct run run;
	int i, f, fd;
	long slow, checks;

	skel = open_skel();
	if (!skel)
		return;
	bpf_program__set_autoload(skel->progs.kasan_forms, true);
	bpf_program__set_autoload(skel->progs.kasan_many, true);
	if (!load_skel(skel, 1))
		goto out;
	fd = bpf_program__fd(skel->progs.kasan_forms);
	if (!ASSERT_EQ(read_fdinfo(fd, SLOW_PATH), 0,
		       "fdinfo kasan_slow_path is 0 after load"))
		goto out;
	if (!get_prog_meta(fd, &m))
		goto out;
	for (i = 0; i < ARRAY_SIZE(srcs); i++)
		for (f = 0; f < KASAN_NR_FORMS; f++)
			check_form(skel, &m, srcs[i].src, f, srcs[i].label,
				   srcs[i].kind, true);
	put_prog_meta(&m);

	fd = bpf_program__fd(skel->progs.kasan_many);
	/* The loads' checks: all but the one of the store to 'base'. */
	checks = read_fdinfo(fd, "kasan_checks") - 1;
	ASSERT_EQ(checks + read_fdinfo(fd, "kasan_merged"), KASAN_MANY,
		  "kasan_many: checks + merged of the loads");
	ASSERT_LT(checks, KASAN_MANY, "kasan_many: some loads merged");
	slow = read_fdinfo(fd, SLOW_PATH);
	if (run_prog(fd, false, &run) &&
	    ASSERT_EQ(run.retval, 0, "kasan_many retval") &&
	    ASSERT_EQ(run.nr_rep, KASAN_MANY, "kasan_many KASAN reports"))
		ASSERT_EQ(read_fdinfo(fd, SLOW_PATH) - slow, checks,
			  "kasan_many: slow path entries, one per check");
	run_free(&run);
	free_all(skel);
out:
	kasan_ebpf__destroy(skel);
}

/* A program's JIT image, all its functions in order, as the kernel gives it. */
struct jit_image {
	__u8 *insns;
	__u32 len;
	__u64 *ksyms;		/* address of each function */
	__u32 *func_lens;
	__u32 nr_funcs;
};

static void put_jit_image(struct jit_image *img)
{
	free(img->insns);
	free(img->ksyms);
	free(img->func_lens);
	memset(img, 0, sizeof(*img));
}

static bool get_jit_image(int fd, struct jit_image *img)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i, sum = 0;

	memset(img, 0, sizeof(*img));
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(fd, &info, &len),
		       "bpf_prog_get_info_by_fd") ||
	    !ASSERT_GT(info.jited_prog_len, 0, "jited_prog_len") ||
	    !ASSERT_GT(info.nr_jited_ksyms, 0, "nr_jited_ksyms") ||
	    !ASSERT_EQ(info.nr_jited_func_lens, info.nr_jited_ksyms,
		       "nr_jited_func_lens"))
		return false;
	img->len = info.jited_prog_len;
	img->nr_funcs = info.nr_jited_ksyms;
	img->insns = calloc(img->len, 1);
	img->ksyms = calloc(img->nr_funcs, sizeof(*img->ksyms));
	img->func_lens = calloc(img->nr_funcs, sizeof(*img->func_lens));
	if (!ASSERT_OK_PTR(img->insns, "calloc") ||
	    !ASSERT_OK_PTR(img->ksyms, "calloc") ||
	    !ASSERT_OK_PTR(img->func_lens, "calloc"))
		goto err;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = img->len;
	info.jited_prog_insns = ptr_to_u64(img->insns);
	info.nr_jited_ksyms = img->nr_funcs;
	info.jited_ksyms = ptr_to_u64(img->ksyms);
	info.nr_jited_func_lens = img->nr_funcs;
	info.jited_func_lens = ptr_to_u64(img->func_lens);
	len = sizeof(info);
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(fd, &info, &len),
		       "bpf_prog_get_info_by_fd"))
		goto err;
	for (i = 0; i < img->nr_funcs; i++)
		sum += img->func_lens[i];
	if (ASSERT_EQ(sum, img->len, "function lengths add up to the image") &&
	    ASSERT_NEQ(img->ksyms[0], 0, "jited_ksyms are addresses"))
		return true;
err:
	put_jit_image(img);
	return false;
}

/*
 * Insns of img that start with the @oplen bytes at @op, followed by a rel32
 * that makes them refer to @target.
 */
static int count_rel32(const struct jit_image *img, const __u8 *op,
		       __u32 oplen, __u64 target)
{
	__u32 f, i, pos = 0;
	int n = 0;

	for (f = 0; f < img->nr_funcs; pos += img->func_lens[f], f++) {
		const __u8 *code = img->insns + pos;

		for (i = 0; i + oplen + 4 <= img->func_lens[f]; i++) {
			__s32 rel;

			if (memcmp(code + i, op, oplen))
				continue;
			memcpy(&rel, code + i + oplen, sizeof(rel));
			if (img->ksyms[f] + i + oplen + 4 + (__s64)rel == target)
				n++;
		}
	}
	return n;
}

/*
 * Calls (e8 rel32) to target in the image, at any byte offset: a false
 * match would need four bytes that happen to encode exactly that target.
 */
static int count_calls(const struct jit_image *img, __u64 target)
{
	static const __u8 call_rel32[] = { 0xe8 };

	return count_rel32(img, call_rel32, sizeof(call_rel32), target);
}

/*
 * add r11, [rip + rel32] to the shadow offset that the shared tail keeps
 * just before the thunk: how a check finds the offset in a program that
 * does not keep it in r12 (fewer than three checks).
 */
static int count_offset_loads(const struct jit_image *img, __u64 thunk)
{
	static const __u8 add_r11_rip[] = { 0x4c, 0x03, 0x1d };

	return count_rel32(img, add_r11_rip, sizeof(add_r11_rip), thunk - 8);
}

/* KASAN_SHADOW_OFFSET (x86-64, 4-level paging) as the JIT embeds it. */
#define SHADOW_OFFSET	0xdffffc0000000000ULL

static bool has_shadow_offset(const struct jit_image *img)
{
	__u64 off = SHADOW_OFFSET;	/* x86 is little endian */

	return memmem(img->insns, img->len, &off, sizeof(off));
}

static const char * const outline_fns[] = {
	"__asan_load1", "__asan_load2", "__asan_load4", "__asan_load8",
	"__asan_store1", "__asan_store2", "__asan_store4", "__asan_store8",
};

/*
 * Calls from the image to KASAN's __asan_{load,store}N(), which the outline
 * mode calls as compiled code (and the upstream series) does.
 */
static int count_outline_calls(const struct jit_image *img)
{
	unsigned long long addr;
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(outline_fns); i++) {
		if (!ASSERT_OK(kallsyms_find(outline_fns[i], &addr),
			       outline_fns[i]))
			return -1;
		n += count_calls(img, addr);
	}
	return n;
}

/* Occurrences of the @n bytes at @pat in the image. */
static int count_bytes(const struct jit_image *img, const __u8 *pat, size_t n)
{
	const __u8 *p = img->insns, *end = img->insns + img->len;
	int cnt = 0;

	while ((p = memmem(p, end - p, pat, n))) {
		cnt++;
		p++;
	}
	return cnt;
}

/*
 * The fast path's shadow compare, cmp byte|word [r11 (+ r12)], 0; je: the
 * forms without r12 (fewer than three checks) and with it.
 */
static const __u8 cmp_byte_r11[] = { 0x41, 0x80, 0x3b, 0x00, 0x74 };
static const __u8 cmp_word_r11[] = { 0x66, 0x41, 0x83, 0x3b, 0x00, 0x74 };
static const __u8 cmp_byte_r12[] = { 0x43, 0x80, 0x3c, 0x23, 0x00, 0x74 };
static const __u8 cmp_word_r12[] = { 0x66, 0x43, 0x83, 0x3c, 0x23, 0x00, 0x74 };

static int count_cmps(const struct jit_image *img, bool word)
{
	return word ? count_bytes(img, cmp_word_r11, sizeof(cmp_word_r11)) +
		      count_bytes(img, cmp_word_r12, sizeof(cmp_word_r12)) :
		      count_bytes(img, cmp_byte_r11, sizeof(cmp_byte_r11)) +
		      count_bytes(img, cmp_byte_r12, sizeof(cmp_byte_r12));
}

/*
 * Alignment marks, mode 1 (with and without constant blinding): an 8-byte
 * load from the last granule of a map value, which a redzone follows. At a
 * constant offset the verifier proves it aligned, and its check reads one
 * shadow byte: no slow-path entry for the valid load. At an offset only
 * known to be in [0, 24] (24 at run time), the control, it reads two and
 * enters the slow path once (which shows the redzone is there), and KASAN
 * lets it through. Neither reports. The control also loads w[0], aligned.
 * Each program looks the value up with a key on the stack: the verifier
 * inlines the lookup with a load of the key, which takes the stack-only
 * mark of the call's key and is not checked. kasan_key_in_value looks the
 * value up again with a key inside it (w[1], 0): that key load is checked,
 * with two shadow bytes (inserted insns carry no alignment marks; whole
 * granules: no slow path), and so is its load of w[3].
 * kasan_many_lookups inlines KASAN_LOOKUPS lookups, which move the program
 * to a larger allocation while the verifier patches them in: every key
 * load still finds its mark in the moved program (and none is read from
 * the freed one, which KASAN would report).
 */
static void test_aligned_last_granule(void)
{
	static const struct {
		const char *name;
		int checks, bytes, words, slow;
	} want[] = {
		{ "kasan_aligned_last", 1, 1, 0, 0 },
		{ "kasan_unaligned_last", 2, 1, 1, 1 },
		{ "kasan_key_in_value", 2, 1, 1, 0 },
		{ "kasan_many_lookups", KASAN_LOOKUPS, KASAN_LOOKUPS, 0, 0 },
	};
	struct kasan_align_val val = { .w = { 24, 0, 0, 0x1234 } };
	struct kasan_ebpf *skel = NULL;
	struct jit_image img;
	__u32 key = 0;
	int harden, i;

	for (harden = 0; harden <= 2; harden += 2) {
		if (!set_sysctl(HARDEN_SYSCTL, harden))
			break;
		skel = open_skel();
		if (!skel)
			break;
		for (i = 0; i < ARRAY_SIZE(want); i++) {
			struct bpf_program *p;

			p = bpf_object__find_program_by_name(skel->obj,
							     want[i].name);
			bpf_program__set_autoload(p, true);
		}
		if (!load_skel(skel, 1) ||
		    !ASSERT_OK(bpf_map__update_elem(skel->maps.kasan_align_map,
						    &key, sizeof(key), &val,
						    sizeof(val), BPF_ANY),
			       "set the map value"))
			break;
		for (i = 0; i < ARRAY_SIZE(want); i++) {
			struct bpf_program *p;
			char what[96];
			struct run run;
			int fd;

			p = bpf_object__find_program_by_name(skel->obj,
							     want[i].name);
			fd = bpf_program__fd(p);
			snprintf(what, sizeof(what), "%s harden %d",
				 want[i].name, harden);
			ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), want[i].checks,
				  msg(what, "kasan_checks"));
			if (get_jit_image(fd, &img)) {
				ASSERT_EQ(count_cmps(&img, false), want[i].bytes,
					  msg(what, "one-byte shadow compares"));
				ASSERT_EQ(count_cmps(&img, true), want[i].words,
					  msg(what, "two-byte shadow compares"));
				put_jit_image(&img);
			}
			if (run_prog(fd, false, &run)) {
				ASSERT_EQ(run.retval, 0x1234, msg(what, "retval"));
				ASSERT_EQ(run.nr_rep, 0, msg(what, "KASAN reports"));
				ASSERT_EQ(read_fdinfo(fd, SLOW_PATH), want[i].slow,
					  msg(what, "slow-path entries"));
			}
			run_free(&run);
		}
		kasan_ebpf__destroy(skel);
		skel = NULL;
	}
	kasan_ebpf__destroy(skel);
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Mode 0 seen in the image: kasan_count, which has KASAN_COUNT_HEAP checked
 * accesses in modes 1 and 2 (all sharing one check in mode 1), loaded at 0
 * has no check, no call to the thunk and no use of the shadow offset. The
 * controls: at 1, one call to the thunk per check (no call depth
 * accounting in this kernel: the call is a plain call rel32) and one load
 * of the shadow offset from the tail per check (one check: the program
 * does not keep it in r12, so the offset itself is not in the image;
 * test_tail_call_r12 sees it there); at 2, one call to an
 * __asan_{load,store}N() per check.
 */
static void test_mode0_image(void)
{
	unsigned long long thunk, depth;
	struct kasan_ebpf *skel;
	struct jit_image img;
	char what[32];
	int mode, fd, checks;

	if (!ASSERT_OK(kallsyms_find("bpf_jit_kasan_thunk", &thunk),
		       "bpf_jit_kasan_thunk in /proc/kallsyms") ||
	    !ASSERT_EQ(kallsyms_find("x86_call_depth_emit_accounting", &depth),
		       -ENOENT, "no call depth accounting (no call thunks)"))
		return;
	for (mode = 0; mode <= 2; mode++) {
		struct round r = { mode, 0 };

		snprintf(what, sizeof(what), "kasan_count mode %d", mode);
		skel = load_round("kasan_count", &r, &fd);
		if (!skel)
			break;
		checks = read_fdinfo(fd, "kasan_checks");
		ASSERT_EQ(checks, mode == 1 ? KASAN_COUNT_HEAP - KASAN_COUNT_MERGED :
			  mode ? KASAN_COUNT_HEAP : 0,
			  msg(what, "fdinfo kasan_checks"));
		if (get_jit_image(fd, &img)) {
			ASSERT_EQ(count_calls(&img, thunk), mode == 1 ? checks : 0,
				  msg(what, "calls to bpf_jit_kasan_thunk"));
			ASSERT_EQ(count_outline_calls(&img), mode == 2 ? checks : 0,
				  msg(what, "calls to kasan_bpf_{load,store}N"));
			ASSERT_FALSE(has_shadow_offset(&img),
				     msg(what, "KASAN_SHADOW_OFFSET in the image"));
			ASSERT_EQ(count_offset_loads(&img, thunk),
				  mode == 1 ? checks : 0,
				  msg(what, "loads of the shadow offset from the tail"));
			put_jit_image(&img);
		}
		check_silent_run(fd, what);
		free_all(skel);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Replaces the rel32 of each call from one function of img to another by
 * the callee's index: what differs between two loads of the same program.
 */
static void normalize_calls(struct jit_image *img)
{
	__u32 f, g, i, pos = 0;

	for (f = 0; f < img->nr_funcs; pos += img->func_lens[f], f++) {
		__u8 *code = img->insns + pos;

		for (i = 0; i + 5 <= img->func_lens[f]; i++) {
			__s32 rel;

			if (code[i] != 0xe8)
				continue;
			memcpy(&rel, code + i + 1, sizeof(rel));
			for (g = 0; g < img->nr_funcs; g++) {
				if (img->ksyms[f] + i + 5 + (__s64)rel != img->ksyms[g])
					continue;
				rel = g;
				memcpy(code + i + 1, &rel, sizeof(rel));
				break;
			}
		}
	}
}

/*
 * A program with nothing to check (kasan_stack: stack accesses only, in
 * two functions) gets the same JIT image in modes 0, 1 and 2, byte for
 * byte but for the calls between its functions.
 */
static void test_no_checks_same_image(void)
{
	struct jit_image img[3] = {};
	struct kasan_ebpf *skel;
	char what[48];
	int mode, fd, f;

	for (mode = 0; mode <= 2; mode++) {
		struct round r = { mode, 0 };
		bool ok;

		skel = load_round("kasan_stack", &r, &fd);
		if (!skel)
			goto out;
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), 0, "fdinfo kasan_checks");
		ok = get_jit_image(fd, &img[mode]);
		kasan_ebpf__destroy(skel);
		if (!ok)
			goto out;
		normalize_calls(&img[mode]);
	}
	for (mode = 1; mode <= 2; mode++) {
		snprintf(what, sizeof(what), "kasan_stack mode %d vs mode 0", mode);
		if (!ASSERT_EQ(img[mode].nr_funcs, img[0].nr_funcs,
			       msg(what, "number of functions")))
			continue;
		for (f = 0; f < img[0].nr_funcs; f++)
			ASSERT_EQ(img[mode].func_lens[f], img[0].func_lens[f],
				  msg(what, "function length"));
		if (ASSERT_EQ(img[mode].len, img[0].len, msg(what, "image length")))
			ASSERT_OK(memcmp(img[mode].insns, img[0].insns, img[0].len),
				  msg(what, "same image bytes"));
	}
out:
	for (mode = 0; mode <= 2; mode++)
		put_jit_image(&img[mode]);
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Tail calls between programs that both keep the shadow offset in r12
 * (three checks or more, mode 1), with a constant key (direct) and with
 * one from a global (indirect): the caller's accesses before the tail call
 * are valid and made, the tail call is taken, the target's bad access is
 * reported exactly.
 */
static void test_tail_call_r12(void)
{
	static const struct {
		const char *prog;
		const char *how;
		int checks;
	} callers[] = {
		{ "kasan_tail_r12", "direct", KASAN_TAIL_R12_CALLER_CHECKS },
		/* and the load of the key */
		{ "kasan_tail_r12_ind", "indirect", KASAN_TAIL_R12_CALLER_CHECKS + 1 },
	};
	struct bpf_program *caller;
	struct kasan_ebpf *skel;
	struct jit_image img;
	struct prog_meta m;
	struct run run;
	int mode, i, fd, fd_tgt, key = 0;
	char what[48];
	struct expect e = {
		.what = what, .kind = UAF, .a = &tail_r12_access,
		.name = "kasan_tail_r12_tgt",
	};

	for (mode = 1; mode <= 2; mode++) {
		for (i = 0; i < ARRAY_SIZE(callers); i++) {
			snprintf(what, sizeof(what), "tail call %s mode %d",
				 callers[i].how, mode);
			skel = open_skel();
			if (!skel)
				return;
			caller = bpf_object__find_program_by_name(skel->obj,
								  callers[i].prog);
			if (!ASSERT_OK_PTR(caller, callers[i].prog))
				goto next;
			bpf_program__set_autoload(caller, true);
			bpf_program__set_autoload(skel->progs.kasan_tail_r12_tgt, true);
			if (!load_skel(skel, mode))
				goto next;
			fd = bpf_program__fd(caller);
			fd_tgt = bpf_program__fd(skel->progs.kasan_tail_r12_tgt);
			ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), callers[i].checks,
				  msg(what, "fdinfo kasan_checks of the caller"));
			ASSERT_GE(read_fdinfo(fd, "kasan_checks"), 3,
				  msg(what, "caller has 3 checks or more"));
			ASSERT_EQ(read_fdinfo(fd_tgt, "kasan_checks"),
				  KASAN_TAIL_R12_TGT_CHECKS,
				  msg(what, "fdinfo kasan_checks of the target"));
			/* movabs r12, KASAN_SHADOW_OFFSET in both prologues */
			if (mode == 1 && get_jit_image(fd, &img)) {
				ASSERT_TRUE(has_shadow_offset(&img),
					    msg(what, "caller loads r12"));
				put_jit_image(&img);
			}
			if (mode == 1 && get_jit_image(fd_tgt, &img)) {
				ASSERT_TRUE(has_shadow_offset(&img),
					    msg(what, "target loads r12"));
				put_jit_image(&img);
			}
			if (!ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.kasan_jmp_table),
							   &key, &fd_tgt, BPF_ANY),
				       "add the target to the prog array"))
				goto next;
			if (!get_prog_meta(fd_tgt, &m))
				goto next;
			e.tag = m.tag;
			e.insn = find_insn(&m, e.a);
			skel->bss->tail_key = 0;
			memset(skel->bss->tail_words, 0, sizeof(skel->bss->tail_words));
			if (ASSERT_GE(e.insn, 0, msg(what, "access in xlated program")) &&
			    run_prog(fd, true, &run) &&
			    ASSERT_EQ(run.retval, KASAN_TAIL_HIT,
				      msg(what, "tail call taken"))) {
				e.addr = skel->bss->base + e.a->off;
				check_one_report(&run, &e);
				ASSERT_EQ(skel->bss->tail_words[2], 1,
					  msg(what, "caller's atomic add made"));
				ASSERT_EQ(skel->bss->tail_words[3], 1,
					  msg(what, "target read the caller's add"));
			}
			run_free(&run);
			put_prog_meta(&m);
next:
			kasan_ebpf__destroy(skel);
		}
	}
}

/*
 * The source line that the program's line info gives the xlated insn
 * 'insn' (the last record at or before it), as bpftool shows it; -1 if
 * there is none.
 */
static int insn_line(int fd, int insn)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), i;
	struct bpf_line_info *linfo;
	int line = -1;

	if (!ASSERT_OK(bpf_prog_get_info_by_fd(fd, &info, &len),
		       "bpf_prog_get_info_by_fd") ||
	    !ASSERT_GT(info.nr_line_info, 0, "program has line info") ||
	    !ASSERT_EQ(info.line_info_rec_size, sizeof(*linfo),
		       "line_info_rec_size"))
		return -1;
	linfo = calloc(info.nr_line_info, sizeof(*linfo));
	if (!ASSERT_OK_PTR(linfo, "calloc"))
		return -1;
	len = info.nr_line_info;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = len;
	info.line_info_rec_size = sizeof(*linfo);
	info.line_info = ptr_to_u64(linfo);
	len = sizeof(info);
	if (ASSERT_OK(bpf_prog_get_info_by_fd(fd, &info, &len),
		      "bpf_prog_get_info_by_fd")) {
		for (i = 0; i < info.nr_line_info; i++) {
			if (linfo[i].insn_off > insn)
				break;
			line = BPF_LINE_INFO_LINE_NUM(linfo[i].line_col);
		}
	}
	free(linfo);
	return line;
}

/*
 * Constant blinding in a program with subprograms: the verifier blinds the
 * whole program before it splits off the subprograms (every constant
 * before the access is now three insns), and bpftool shows the blinded
 * program, so the report must give the index of the access in the blinded
 * xlated program, shifted from the unblinded one, and the source line of
 * the access, the same as without blinding.
 */
static void test_harden_subprog(void)
{
	static const struct {
		enum kasan_blind which;
		const struct access *a;
	} subs[] = {
		{ KASAN_BLIND_STATIC, &blind_static_access },
		{ KASAN_BLIND_LOOP, &blind_loop_access },
	};
	int line[ARRAY_SIZE(subs)], idx[ARRAY_SIZE(subs)];
	struct kasan_ebpf *skel;
	struct prog_meta m;
	char what[64];
	struct run run;
	int mode, i, fd, cnt;

	for (mode = 1; mode <= 2; mode++) {
		struct round plain = { mode, 0 }, hard = { mode, 2 };

		/* The reference: indexes and lines without blinding. */
		skel = load_round("kasan_blind", &plain, &fd);
		if (!skel)
			break;
		if (!get_prog_meta(fd, &m)) {
			kasan_ebpf__destroy(skel);
			break;
		}
		cnt = m.cnt;
		for (i = 0; i < ARRAY_SIZE(subs); i++) {
			idx[i] = find_insn(&m, subs[i].a);
			line[i] = idx[i] >= 0 ? insn_line(fd, idx[i]) : -1;
		}
		put_prog_meta(&m);
		kasan_ebpf__destroy(skel);

		skel = load_round("kasan_blind", &hard, &fd);
		if (!skel)
			break;
		if (!get_prog_meta(fd, &m))
			goto next;
		ASSERT_GT(m.cnt, cnt, "xlated program of several functions is blinded");
		for (i = 0; i < ARRAY_SIZE(subs); i++) {
			struct expect e = {
				.what = what, .kind = UAF, .a = subs[i].a,
				.name = subs[i].a->name, .line = line[i],
			};

			snprintf(what, sizeof(what), "harden mode %d %s", mode,
				 e.a->name);
			e.insn = find_insn(&m, e.a);
			if (!ASSERT_GE(e.insn, 0,
				       msg(what, "access in xlated program")) ||
			    !ASSERT_GT(e.insn, idx[i], msg(what, "index moved by blinding")) ||
			    !ASSERT_GT(e.line, 0, msg(what, "line info of the access")) ||
			    !ASSERT_EQ(insn_line(fd, e.insn), e.line,
				       msg(what, "blinded line info of the access")))
				continue;
			skel->bss->form = subs[i].which;
			if (run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.retval, 0, msg(what, "retval"))) {
				e.addr = skel->bss->base + e.a->off;
				check_one_report(&run, &e);
			}
			run_free(&run);
		}
		put_prog_meta(&m);
next:
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * The kasan_ebpf: line is part of KASAN's report: after its Read/Write line,
 * before the line that closes it, so that it is printed even when the
 * report ends in a panic (panic_on_warn, kasan.fault=panic) and does not
 * interleave with another report.
 */
static void test_line_in_report(void)
{
	struct kasan_ebpf *skel;
	struct run run;
	char what[32];
	int mode, fd;

	for (mode = 1; mode <= 2; mode++) {
		snprintf(what, sizeof(what), "line in report mode %d", mode);
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_forms, true);
		if (!load_skel(skel, mode))
			goto next;
		fd = bpf_program__fd(skel->progs.kasan_forms);
		skel->bss->src = KASAN_SRC_UAF;
		skel->bss->form = KASAN_STX_DW;
		if (run_prog(fd, false, &run) &&
		    ASSERT_EQ(run.retval, 0, msg(what, "retval")) &&
		    ASSERT_EQ(run.nr_rep, 1, msg(what, "one KASAN report")) &&
		    ASSERT_OK_PTR(run.rep[0].ebpf, msg(what, "kasan_ebpf: line")))
			ASSERT_TRUE(run.rep[0].ebpf_inside,
				    msg(what, "kasan_ebpf: line inside the KASAN report"));
		run_free(&run);
		free_all(skel);
next:
		kasan_ebpf__destroy(skel);
	}
}

/*
 * Loads the fentry program 'name' (alone with kasan_free) and attaches it;
 * returns whether both succeeded, or -1 if the skeleton did not open.
 */
static int fentry_attaches(const char *name)
{
	struct bpf_link *link = NULL;
	struct bpf_program *p = NULL;
	struct kasan_ebpf *skel;
	int err, ret = 0;

	skel = open_skel();
	if (skel)
		p = bpf_object__find_program_by_name(skel->obj, name);
	if (!ASSERT_OK_PTR(p, name)) {
		kasan_ebpf__destroy(skel);
		return -1;
	}
	bpf_program__set_autoload(p, true);
	err = kasan_ebpf__load(skel);
	if (err) {
		printf("%s: %s: load refused: %d\n", __func__, name, err);
		goto out;
	}
	link = bpf_program__attach(p);
	if (!link) {
		printf("%s: %s: attach refused: %d\n", __func__, name, -errno);
		goto out;
	}
	ret = 1;
out:
	bpf_link__destroy(link);
	kasan_ebpf__destroy(skel);
	return ret;
}

/*
 * KASAN's entry points for JIT-compiled code and the JIT's lookups run
 * inside every check: tracing them would run a BPF program there, checks
 * and all. The kernel must refuse fentry on them, and allow it on an
 * ordinary function.
 */
static void test_fentry_refused(void)
{
	static const char * const refused[] = {
		"kasan_fentry_check_access",	/* kasan_bpf_check_access */
		"kasan_fentry_load8",		/* __asan_load8 */
		"kasan_fentry_probe_load8",	/* kasan_bpf_probe_load8 */
		"kasan_fentry_find_insn",	/* bpf_jit_kasan_find_insn */
		"kasan_fentry_describe",	/* bpf_jit_kasan_describe */
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(refused); i++)
		ASSERT_EQ(fentry_attaches(refused[i]), 0,
			  msg(refused[i], "fentry load or attach refused"));
	ASSERT_EQ(fentry_attaches("kasan_fentry_control"), 1,
		  "fentry on bpf_fentry_test1 attaches (control)");
}

/* The verifier's own insns: BPF_F_TEST_RND_HI32's "dst |= AX". */
static int count_rnd_hi32(const struct prog_meta *m)
{
	int i, n = 0;

	for (i = 0; i < m->cnt; i++)
		n += m->insns[i].code == (BPF_ALU64 | BPF_OR | BPF_X) &&
		     /* BPF_REG_AX: after BPF_REG_PARAMS (MAX_BPF_REG) */
		     m->insns[i].src_reg == MAX_BPF_REG + 1;
	return n;
}

/*
 * BPF_F_TEST_RND_HI32 makes the verifier insert, after every insn that
 * defines only the low 32 bits of a register (kasan_stack's narrow loads
 * and 32-bit atomics through r6 and r10), three insns that fill the high
 * half with random bits. Those accesses still only touch the stack, and
 * must stay unchecked.
 */
static void test_stack_only_rnd_hi32(void)
{
	struct kasan_ebpf *skel;
	struct prog_meta m;
	char what[48];
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(checked_rounds); i++) {
		snprintf(what, sizeof(what), "rnd_hi32 mode %d harden %d",
			 checked_rounds[i].mode, checked_rounds[i].harden);
		skel = load_round_flags("kasan_stack", &checked_rounds[i],
					BPF_F_TEST_RND_HI32, &fd);
		if (!skel)
			break;
		/* Blinding makes "dst |= AX" too: count only without it. */
		if (!checked_rounds[i].harden && get_prog_meta(fd, &m)) {
			ASSERT_GT(count_rnd_hi32(&m), 0,
				  msg(what, "verifier inserted random high halves"));
			put_prog_meta(&m);
		}
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), 0,
			  msg(what, "fdinfo kasan_checks"));
		check_silent_run(fd, what);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Loads insns as a socket filter without any capability; returns the fd or
 * -errno.
 */
static int load_unprivileged(const struct bpf_insn *insns, size_t cnt,
			     __u32 prog_flags)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = prog_flags);
	__u64 caps;
	int fd, err;

	if (!ASSERT_OK(cap_disable_effective(ALL_CAPS, &caps), "drop caps"))
		return -EPERM;
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "kasan_unpriv_st",
			   "GPL", insns, cnt, &opts);
	err = -errno;
	if (!ASSERT_OK(cap_enable_effective(caps, NULL), "restore caps")) {
		if (fd >= 0)
			close(fd);
		return -EPERM;
	}
	return fd >= 0 ? fd : err;
}

/*
 * An unprivileged program that stores to and loads from the stack through
 * a copy of r10 moved by a constant. Every access is to the stack, so the
 * design gives it no check: kasan_checks is 0. Unprivileged loading does
 * not change that: with CPU mitigations on, the verifier masks the pointer
 * arithmetic (Spectre v1) and puts a speculation barrier after the store
 * (Spectre v4), insns it inserts next to the store, which must not move the
 * store's stack-only mark (this kernel, CONFIG_CPU_MITIGATIONS=n, inserts
 * neither). BPF_F_TEST_RND_HI32, which inserts three insns after the
 * 32-bit load, must not either.
 */
static void test_unprivileged_stack_store(void)
{
	const struct bpf_insn insns[] = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8),
		BPF_MOV64_IMM(BPF_REG_2, 42),
		BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_2, 0),
		BPF_LDX_MEM(BPF_W, BPF_REG_3, BPF_REG_1, 0),
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		BPF_EXIT_INSN(),
	};
	static const __u32 flags[] = { 0, BPF_F_TEST_RND_HI32 };
	int orig = -1, fd, i;
	struct run run = {};
	char what[48];

	if (!ASSERT_OK(read_int_file(UNPRIV_SYSCTL, &orig), "read " UNPRIV_SYSCTL))
		return;
	if (orig == 1) {
		printf("%s:SKIP: %s is 1\n", __func__, UNPRIV_SYSCTL);
		test__skip();
		return;
	}
	if (orig && !set_sysctl(UNPRIV_SYSCTL, 0))
		return;
	if (!set_kasan_mode(1))
		goto out;
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		snprintf(what, sizeof(what), "unprivileged stack store%s",
			 flags[i] ? " rnd_hi32" : "");
		fd = load_unprivileged(insns, ARRAY_SIZE(insns), flags[i]);
		if (!ASSERT_OK_FD(fd, msg(what, "load without capabilities"))) {
			printf("%s: load: %d\n", what, fd);
			continue;
		}
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), 0,
			  msg(what, "fdinfo kasan_checks"));
		if (run_prog(fd, true, &run)) {
			ASSERT_EQ(run.retval, 42, msg(what, "retval: the stored value"));
			check_no_report(&run, what);
		}
		run_free(&run);
		close(fd);
	}
out:
	if (orig > 0)
		set_sysctl(UNPRIV_SYSCTL, orig);
}

/*
 * A store through a register filled from a stack slot where one path
 * spilled a stack pointer and the other a map value pointer: checked, and
 * silent on both paths.
 */
static void test_spill_join(void)
{
	struct kasan_ebpf *skel;
	char what[64];
	int i, path, fd;

	for (i = 0; i < ARRAY_SIZE(checked_rounds); i++) {
		skel = load_round("kasan_spill_join", &checked_rounds[i], &fd);
		if (!skel)
			break;
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), KASAN_SPILL_JOIN_CHECKS,
			  "fdinfo kasan_checks: the store through the fill is checked");
		for (path = 0; path <= 1; path++) {
			snprintf(what, sizeof(what), "spill join mode %d harden %d %s",
				 checked_rounds[i].mode, checked_rounds[i].harden,
				 path ? "map value" : "stack");
			skel->bss->form = path;
			skel->bss->spill_word = 0;
			check_silent_run(fd, what);
			ASSERT_EQ(skel->bss->spill_word, path ? 0x5a : 0,
				  msg(what, "store through the fill"));
		}
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Whether the image sets up a private stack as the x86 JIT does
 * (emit_priv_frame_ptr()): "mov r9, <per-CPU frame pointer>", in one of the
 * three encodings emit_mov_imm64() picks (movabs: 49 b9 imm64, sign-extended
 * imm32: 49 c7 c1 imm32, zero-extended: 41 b9 imm32), then
 * "add r9, gs:[this_cpu_off]" (65 4c 03 0c 25 disp32), whose disp32 is the
 * low half of the address of this_cpu_off.
 */
static bool has_priv_frame_ptr(const struct jit_image *img, __u32 this_cpu_off)
{
	static const __u8 add_gs[] = { 0x65, 0x4c, 0x03, 0x0c, 0x25 };
	const __u8 *code = img->insns;
	__u32 i;

	for (i = 6; i + 9 <= img->len; i++) {
		if (memcmp(code + i, add_gs, sizeof(add_gs)) ||
		    memcmp(code + i + 5, &this_cpu_off, sizeof(this_cpu_off)))
			continue;
		if ((i >= 10 && code[i - 10] == 0x49 && code[i - 9] == 0xb9) ||
		    (i >= 7 && code[i - 7] == 0x49 && code[i - 6] == 0xc7 &&
		     code[i - 5] == 0xc1) ||
		    (code[i - 6] == 0x41 && code[i - 5] == 0xb9))
			return true;
	}
	return false;
}

/* Runs kasan_get_buf with src; returns the pointer it got, or 0. */
static __u64 kfunc_ptr(struct kasan_ebpf *skel, enum kasan_src src)
{
	struct run run;
	__u64 p = 0;

	skel->bss->src = src;
	skel->bss->base = 0;
	if (run_prog(bpf_program__fd(skel->progs.kasan_get_buf), false, &run) &&
	    ASSERT_EQ(run.retval, 0, "kasan_get_buf got its pointer"))
		p = skel->bss->base;
	check_no_report(&run, "kasan_get_buf");
	run_free(&run);
	return p;
}

/*
 * A tracing program with a private stack (kasan_priv_stack, fentry with
 * 72 bytes of stack): its JIT image sets r9 to its per-CPU stack (the
 * control, kasan_stack, a syscall program with 64 bytes of stack, has
 * none), its stack accesses through r10 and through a copy of it are not
 * checked (fdinfo kasan_checks counts its three others), its stack keeps
 * its values across a kfunc call (priv_out), and its read through a
 * kfunc's pointer to a freed object is reported exactly, in modes 1 and 2;
 * through a pointer to a valid buffer, nothing is reported and, in mode 1,
 * the slow path is never entered.
 */
static void test_priv_stack(void)
{
	static const struct {
		enum kasan_src src;
		const char *kind;
	} srcs[] = {
		{ KASAN_SRC_VALID, NULL },
		{ KASAN_SRC_UAF, UAF },
	};
	unsigned long long this_cpu_off;
	struct bpf_link *link = NULL;
	struct kasan_ebpf *skel;
	struct jit_image img;
	struct prog_meta m;
	int mode, i, fd;
	char what[48];
	struct run run;
	long slow;

	if (!ASSERT_OK(kallsyms_find("this_cpu_off", &this_cpu_off),
		       "this_cpu_off in /proc/kallsyms"))
		return;
	for (mode = 1; mode <= 2; mode++) {
		skel = open_skel();
		if (!skel)
			return;
		bpf_program__set_autoload(skel->progs.kasan_priv_stack, true);
		bpf_program__set_autoload(skel->progs.kasan_get_buf, true);
		bpf_program__set_autoload(skel->progs.kasan_stack, true);
		if (!load_skel(skel, mode))
			goto next;
		fd = bpf_program__fd(skel->progs.kasan_priv_stack);
		snprintf(what, sizeof(what), "priv stack mode %d", mode);
		ASSERT_EQ(read_fdinfo(fd, "kasan_mode"), mode, msg(what, "fdinfo kasan_mode"));
		ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), KASAN_PRIV_CHECKS,
			  msg(what, "fdinfo kasan_checks: no stack access counted"));
		if (get_jit_image(fd, &img)) {
			ASSERT_TRUE(has_priv_frame_ptr(&img, this_cpu_off),
				    msg(what, "JIT sets r9 to a private stack"));
			put_jit_image(&img);
		}
		if (get_jit_image(bpf_program__fd(skel->progs.kasan_stack), &img)) {
			ASSERT_FALSE(has_priv_frame_ptr(&img, this_cpu_off),
				     msg(what, "no private stack in kasan_stack (control)"));
			put_jit_image(&img);
		}
		link = bpf_program__attach(skel->progs.kasan_priv_stack);
		if (!ASSERT_OK_PTR(link, msg(what, "attach to bpf_fentry_test1")))
			goto next;
		if (!get_prog_meta(fd, &m))
			goto next;
		for (i = 0; i < ARRAY_SIZE(srcs); i++) {
			struct expect e = {
				.what = what, .kind = srcs[i].kind,
				.a = &priv_stack_access, .name = "kasan_priv_stack",
				.tag = m.tag, .insn = find_insn(&m, &priv_stack_access),
			};
			__u64 p;

			snprintf(what, sizeof(what), "priv stack mode %d %s", mode,
				 srcs[i].kind ? "uaf" : "valid");
			if (!ASSERT_GE(e.insn, 0, msg(what, "access in xlated program")))
				continue;
			p = kfunc_ptr(skel, srcs[i].src);
			if (!ASSERT_NEQ(p, 0, msg(what, "pointer from kasan_get_buf")))
				continue;
			skel->bss->priv_addr = p;
			skel->bss->priv_out = 0;
			slow = read_fdinfo(fd, SLOW_PATH);
			if (run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.retval, 0, msg(what, "bpf_fentry_test*() ran"))) {
				e.addr = p + KASAN_PRIV_OFF;
				if (e.kind)
					check_one_report(&run, &e);
				else
					check_no_report(&run, what);
				ASSERT_EQ(skel->bss->priv_out, KASAN_PRIV_OUT,
					  msg(what, "the stack kept its values (priv_out)"));
				if (mode == 1)
					ASSERT_EQ(read_fdinfo(fd, SLOW_PATH) - slow,
						  e.kind ? 1 : 0,
						  msg(what, "slow path entries in the run"));
			}
			run_free(&run);
		}
		put_prog_meta(&m);
		free_all(skel);
next:
		bpf_link__destroy(link);
		link = NULL;
		kasan_ebpf__destroy(skel);
	}
}

/*
 * The insn array map of the program fd (libbpf makes one of each jump
 * table): its fd, or -1 if there is not exactly one.
 */
static int insn_array_fd(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16], i;
	int map_fd, found = -1, n = 0;

	info.nr_map_ids = ARRAY_SIZE(ids);
	info.map_ids = ptr_to_u64(ids);
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(fd, &info, &len),
		       "bpf_prog_get_info_by_fd") ||
	    !ASSERT_LE(info.nr_map_ids, ARRAY_SIZE(ids), "nr_map_ids"))
		return -1;
	for (i = 0; i < info.nr_map_ids; i++) {
		struct bpf_map_info minfo = {};
		__u32 mlen = sizeof(minfo);

		map_fd = bpf_map_get_fd_by_id(ids[i]);
		if (!ASSERT_OK_FD(map_fd, "bpf_map_get_fd_by_id"))
			continue;
		if (!ASSERT_OK(bpf_map_get_info_by_fd(map_fd, &minfo, &mlen),
			       "bpf_map_get_info_by_fd") ||
		    minfo.type != BPF_MAP_TYPE_INSN_ARRAY) {
			close(map_fd);
			continue;
		}
		ASSERT_EQ(minfo.max_entries, KASAN_NR_GOTOX,
			  "the insn array has one entry per jump target");
		if (found >= 0)
			close(found);
		found = map_fd;
		n++;
	}
	if (!ASSERT_EQ(n, 1, "one insn array map")) {
		if (found >= 0)
			close(found);
		return -1;
	}
	return found;
}

/* ENDBR64, which the JIT puts before each indirect jump target (IBT). */
static const __u8 endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

/*
 * The jump table (insn array) of kasan_gotox points at its targets: entry
 * t at the xlated index of target t's access, and at its JIT code, which
 * starts with an ENDBR if the kernel has IBT.
 */
static void check_jump_table(int fd, const int *idx, bool harden, bool ibt,
			     const char *what)
{
	struct bpf_insn_array_value val;
	struct jit_image img;
	int map_fd;
	__u32 t;

	map_fd = insn_array_fd(fd);
	if (map_fd < 0)
		return;
	if (!get_jit_image(fd, &img))
		goto out;
	for (t = 0; t < KASAN_NR_GOTOX; t++) {
		if (!ASSERT_OK(bpf_map_lookup_elem(map_fd, &t, &val),
			       msg(what, "insn array lookup")))
			continue;
		/* Blinding an ST target puts two insns before its store. */
		if (!harden)
			ASSERT_EQ(val.xlated_off, idx[t],
				  msg(what, "jump table entry: xlated index of the target"));
		if (!ASSERT_LT(val.jitted_off, img.len,
			       msg(what, "jump table entry within the image")))
			continue;
		if (ibt)
			ASSERT_OK(memcmp(img.insns + val.jitted_off, endbr64,
					 sizeof(endbr64)),
				  msg(what, "jump table entry points at an ENDBR"));
	}
	put_jit_image(&img);
out:
	close(map_fd);
}

/*
 * Indirect jumps: kasan_gotox jumps through a jump table to one of
 * KASAN_NR_GOTOX accesses, each the first insn of its target. Each target's
 * check must run before its access (the jump lands on the check, after the
 * ENDBR): through a valid buffer, every target runs and returns its own
 * value with no report; through freed and out-of-bounds memory, each
 * target's access is reported exactly, with its instruction index. Also
 * under constant blinding, which rewrites insns around the targets.
 */
static void test_gotox(void)
{
	static const struct {
		enum kasan_src src;
		const char *name;
		const char *kind;
	} srcs[] = {
		{ KASAN_SRC_VALID, "valid", NULL },
		{ KASAN_SRC_UAF, "uaf", UAF },
		{ KASAN_SRC_KMALLOC_OOB, "kmalloc_oob", SLAB_OOB },
	};
	int idx[KASAN_NR_GOTOX], i, j, t, fd;
	unsigned long long addr;
	const struct round *r;
	struct kasan_ebpf *skel;
	struct prog_meta m;
	struct run run;
	char what[80];
	bool ibt;

	ibt = !kallsyms_find("ibt_selftest_noendbr", &addr);
	for (i = 0; i < ARRAY_SIZE(checked_rounds); i++) {
		r = &checked_rounds[i];
		skel = load_round("kasan_gotox", r, &fd);
		if (!skel)
			break;
		if (!get_prog_meta(fd, &m))
			goto next;
		snprintf(what, sizeof(what), "gotox mode %d harden %d", r->mode,
			 r->harden);
		for (t = 0; t < KASAN_NR_GOTOX; t++)
			idx[t] = find_insn(&m, &gotox_targets[t]);
		for (t = 0; t < KASAN_NR_GOTOX; t++)
			if (!ASSERT_GE(idx[t], 0, msg(what, "target access in xlated program")))
				goto put;
		check_jump_table(fd, idx, r->harden, ibt, what);

		for (j = 0; j < ARRAY_SIZE(srcs); j++) {
			for (t = 0; t < KASAN_NR_GOTOX; t++) {
				struct expect e = {
					.what = what, .kind = srcs[j].kind,
					.a = &gotox_targets[t], .name = "kasan_gotox",
					.tag = m.tag, .insn = idx[t],
				};

				snprintf(what, sizeof(what), "gotox mode %d harden %d %s %s",
					 r->mode, r->harden, srcs[j].name,
					 gotox_targets[t].name);
				skel->bss->src = srcs[j].src;
				skel->bss->form = t;
				if (run_prog(fd, false, &run) &&
				    ASSERT_EQ(run.retval, KASAN_GOTOX_RET(t),
					      msg(what, "retval: the target ran"))) {
					e.addr = skel->bss->base + e.a->off;
					if (e.kind)
						check_one_report(&run, &e);
					else
						check_no_report(&run, what);
				}
				run_free(&run);
			}
		}
		/* An index past the table: no jump, no access. */
		snprintf(what, sizeof(what), "gotox mode %d harden %d no target",
			 r->mode, r->harden);
		skel->bss->src = KASAN_SRC_UAF;
		skel->bss->form = KASAN_NR_GOTOX;
		if (run_prog(fd, false, &run) &&
		    ASSERT_EQ(run.retval, KASAN_GOTOX_MISS, msg(what, "retval")))
			check_no_report(&run, what);
		run_free(&run);
put:
		put_prog_meta(&m);
next:
		free_all(skel);
		kasan_ebpf__destroy(skel);
	}
	set_sysctl(HARDEN_SYSCTL, saved_harden);
}

/*
 * Merged checks (bpf_jit_kasan/merge.rs), in the kasan_merge_* programs:
 * in inline mode, neighbouring accesses through one pointer in a basic
 * block share one check (kasan_checks counts it once), and every bad
 * access of a group is still reported on its own, with its kind, size,
 * address and insn, in program order, whether it comes first, in the
 * middle or last. An access that is not checked (a store to the stack
 * through another register) does not part them, and the slow path's walk
 * steps over it to the bad access after it. A call, a write of the
 * pointer or a jump target between two accesses keeps their checks apart:
 * with a jump over the first access, the second is still checked. Outline
 * mode does not merge.
 */
#define MERGE_MAX_BAD	2

static void test_merged(void)
{
	static const struct access bad_b8 = { "ldx b 8", LDX(B, 8) };
	static const struct access bad_h7 = { "ldx h 7", LDX(H, 7) };
	static const struct access bad_stx8 = { "stx b 8", STX(B, 8) };
	static const struct access bad_redef = { "ldx b 4", LDX(B, 4) };
	static const struct access bad_add8 = { "atomic add w 8",
						 ATOMIC(W, BPF_ADD, 8) };
	static const struct {
		const char *name;
		int checks[3];	/* per mode: the base store and the group's */
		int merged[3];	/* per mode: accesses without a check of their own */
		int form;	/* kasan_merge_target: jump over the first */
		const struct access *bad[MERGE_MAX_BAD];
		int at[MERGE_MAX_BAD];	/* their offsets from the pointer */
	} progs[] = {
		{ "kasan_merge_first", { 0, 2, 4 }, { 0, 2, 0 }, 0,
		  { &bad_b8 }, { 8 } },
		{ "kasan_merge_middle", { 0, 2, 4 }, { 0, 2, 0 }, 0,
		  { &bad_b8 }, { 8 } },
		{ "kasan_merge_last", { 0, 2, 4 }, { 0, 2, 0 }, 0,
		  { &bad_stx8 }, { 8 } },
		{ "kasan_merge_two", { 0, 2, 4 }, { 0, 2, 0 }, 0,
		  { &bad_h7, &bad_stx8 }, { 7, 8 } },
		{ "kasan_merge_atomic", { 0, 2, 5 }, { 0, 3, 0 }, 0,
		  { &bad_add8, &bad_b8 }, { 8, 8 } },
		{ "kasan_merge_stack", { 0, 2, 3 }, { 0, 1, 0 }, 0,
		  { &bad_b8 }, { 8 } },
		{ "kasan_merge_call", { 0, 3, 3 }, { 0, 0, 0 }, 0,
		  { &bad_b8 }, { 8 } },
		{ "kasan_merge_redef", { 0, 3, 3 }, { 0, 0, 0 }, 0,
		  { &bad_redef }, { 8 } },
		{ "kasan_merge_target", { 0, 4, 4 }, { 0, 0, 0 }, 0,
		  { &bad_b8 }, { 8 } },
		{ "kasan_merge_target", { 0, 4, 4 }, { 0, 0, 0 }, 1,
		  { &bad_b8 }, { 8 } },
	};
	struct kasan_ebpf *skel = NULL;
	int mode, i, j;

	for (mode = 1; mode <= 2; mode++) {
		skel = open_skel();
		if (!skel)
			return;
		for (i = 0; i < ARRAY_SIZE(progs); i++) {
			struct bpf_program *p;

			p = bpf_object__find_program_by_name(skel->obj, progs[i].name);
			bpf_program__set_autoload(p, true);
		}
		if (!load_skel(skel, mode))
			break;
		for (i = 0; i < ARRAY_SIZE(progs); i++) {
			struct bpf_program *p;
			struct prog_meta m;
			char what[96];
			struct run run;
			int fd, nbad = 0;

			p = bpf_object__find_program_by_name(skel->obj, progs[i].name);
			fd = bpf_program__fd(p);
			snprintf(what, sizeof(what), "%s form %d mode %d",
				 progs[i].name, progs[i].form, mode);
			ASSERT_EQ(read_fdinfo(fd, "kasan_checks"),
				  progs[i].checks[mode], msg(what, "kasan_checks"));
			ASSERT_EQ(read_fdinfo(fd, "kasan_merged"),
				  progs[i].merged[mode], msg(what, "kasan_merged"));
			if (!get_prog_meta(fd, &m))
				continue;
			while (nbad < MERGE_MAX_BAD && progs[i].bad[nbad])
				nbad++;
			skel->bss->form = progs[i].form;
			if (run_prog(fd, false, &run) &&
			    ASSERT_EQ(run.nr_rep, nbad, msg(what, "KASAN reports")) &&
			    ASSERT_EQ(run.nr_ebpf, nbad, msg(what, "kasan_ebpf: lines"))) {
				for (j = 0; j < nbad; j++) {
					struct expect e = {
						.what = what, .kind = SLAB_OOB,
						.a = progs[i].bad[j],
						.addr = skel->bss->base + progs[i].at[j],
						.name = progs[i].name, .tag = m.tag,
						.insn = find_insn(&m, progs[i].bad[j]),
					};

					if (ASSERT_GE(e.insn, 0,
						      msg(what, "access in xlated program")))
						check_report(&run.rep[j], &e);
				}
			}
			run_free(&run);
			put_prog_meta(&m);
		}
		free_all(skel);
		kasan_ebpf__destroy(skel);
		skel = NULL;
	}
	kasan_ebpf__destroy(skel);
}

void test_kasan_ebpf(void)
{
	int err;

	if (access(KASAN_SYSCTL, F_OK)) {
		printf("%s:SKIP: no %s (CONFIG_KASAN_EBPF)\n", __func__,
		       KASAN_SYSCTL);
		test__skip();
		return;
	}
	if (!ASSERT_OK(read_int_file(KASAN_SYSCTL, &saved_kasan),
		       "read " KASAN_SYSCTL) ||
	    !ASSERT_OK(read_int_file(HARDEN_SYSCTL, &saved_harden),
		       "read " HARDEN_SYSCTL) ||
	    !ASSERT_TRUE(cmdline_has("kasan_multi_shot"), "kernel booted with kasan_multi_shot"))
		return;

	err = load_testmod();
	if (err != -EEXIST && !ASSERT_OK(err, "load " TESTMOD_KO))
		return;
	own_module = !err;

	if (test__start_subtest("sysctl"))
		test_sysctl();
	if (test__start_subtest("fdinfo_checks"))
		test_fdinfo_checks();
	if (test__start_subtest("stack_only"))
		test_stack_only();
	if (test__start_subtest("stack_or_heap"))
		test_stack_or_heap();
	if (test__start_subtest("uaf_inline"))
		test_forms(KASAN_SRC_UAF, 1, UAF);
	if (test__start_subtest("uaf_outline"))
		test_forms(KASAN_SRC_UAF, 2, UAF);
	if (test__start_subtest("kmalloc_oob_inline"))
		test_forms(KASAN_SRC_KMALLOC_OOB, 1, SLAB_OOB);
	if (test__start_subtest("kmalloc_oob_outline"))
		test_forms(KASAN_SRC_KMALLOC_OOB, 2, SLAB_OOB);
	if (test__start_subtest("partial_granule"))
		test_partial_granule();
	if (test__start_subtest("vmalloc_oob_inline"))
		test_forms(KASAN_SRC_VMALLOC_OOB, 1, VMALLOC_OOB);
	if (test__start_subtest("vmalloc_oob_outline"))
		test_forms(KASAN_SRC_VMALLOC_OOB, 2, VMALLOC_OOB);
	if (test__start_subtest("valid_buffer"))
		test_valid();
	if (test__start_subtest("sysctl_off"))
		test_sysctl_off();
	if (test__start_subtest("mode_kept_at_load"))
		test_mode_kept();
	if (test__start_subtest("constant_blinding"))
		test_harden();
	if (test__start_subtest("bpf2bpf_calls"))
		test_subprog();
	if (test__start_subtest("tail_call"))
		test_tail_call();
	if (test__start_subtest("demo"))
		test_demo();
	if (test__start_subtest("many_reports"))
		test_many_reports();
	if (test__start_subtest("unprivileged"))
		test_unprivileged();
	if (test__start_subtest("slow_path_count"))
		test_slow_path_count();
	if (test__start_subtest("aligned_last_granule"))
		test_aligned_last_granule();
	if (test__start_subtest("merged_checks"))
		test_merged();
	if (test__start_subtest("mode0_image"))
		test_mode0_image();
	if (test__start_subtest("no_checks_same_image"))
		test_no_checks_same_image();
	if (test__start_subtest("tail_call_r12"))
		test_tail_call_r12();
	if (test__start_subtest("constant_blinding_subprog"))
		test_harden_subprog();
	if (test__start_subtest("line_in_report"))
		test_line_in_report();
	if (test__start_subtest("fentry_refused"))
		test_fentry_refused();
	if (test__start_subtest("stack_only_rnd_hi32"))
		test_stack_only_rnd_hi32();
	if (test__start_subtest("unprivileged_stack_store"))
		test_unprivileged_stack_store();
	if (test__start_subtest("spill_fill_join"))
		test_spill_join();
	if (test__start_subtest("private_stack"))
		test_priv_stack();
	if (test__start_subtest("indirect_jump"))
		test_gotox();
	if (test__start_subtest("module_reload"))
		test_reload();

	set_sysctl(HARDEN_SYSCTL, saved_harden);
	set_sysctl(KASAN_SYSCTL, saved_kasan);
	if (own_module)
		ASSERT_OK(unload_testmod(), "unload " TESTMOD);
}
