// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks of loads through kernel objects that kfuncs hand to BPF
 * programs (progs/kasan_ebpf_obj.c, bpf_kasan_testmod's object kfuncs).
 *
 * The verifier trusts a referenced or RCU-protected kfunc result and lets
 * the program load through it with ordinary loads, which the JIT checks: a
 * kfunc with a lifetime bug (a count dropped twice, a release that frees
 * while another reference is held, a free without an RCU grace period) is
 * reported at the program's load, exactly, in modes 1 and 2. The correct
 * kfuncs are silent with their loads checked. A load through a walked,
 * untrusted pointer is made fault-tolerant by the verifier (BPF_PROBE_MEM)
 * and is allowed to read freed memory: it is not checked, not reported.
 *
 * The guest job runs this test in a planted region of kind kasan (see
 * scripts/guest/jobs/test.sh): each case checks its own log for exactly the
 * reports it expects, and none where there must be none.
 */
#include <test_progs.h>
#include "kasan_ebpf_obj.skel.h"
#include "kasan_ebpf_common.h"

/* offsetof(struct bpf_kasan_obj, d[i]) in bpf_kasan_testmod.h */
#define OBJ_D(i)	(8 + 8 * (i))

#define NOT_VALID	(~0ULL)

struct obj_case {
	const char *name;	/* the program */
	int off;		/* the load reported: offset in the object */
	__u64 out;		/* what it reads, when valid (NOT_VALID: freed memory) */
	int unchecked;		/* loads and stores it makes that are unchecked */
};

static const struct obj_case cases[] = {
	{ "obj_valid", -1, 11 + 13, 0 },
	{ "obj_freed", OBJ_D(1), 0, 0 },
	{ "obj_get_put", -1, 32, 0 },
	{ "obj_early_free", OBJ_D(2), 0, 0 },
	{ "obj_rcu_valid", -1, 40, 0 },
	{ "obj_rcu_freed", OBJ_D(3), 0, 0 },
	/* n->d[0], through the untrusted o->next: freed, not checked */
	{ "obj_walk", -1, NOT_VALID, 1 },
	/* p->d[0], p the trusted o or the untrusted o->next: not checked */
	{ "obj_mixed", -1, NOT_VALID, 1 },
	/*
	 * o->d[1], o from bpf_kptr_xchg(): fault-tolerant, and checked; the
	 * inlined lookup of the kptr's map loads its key through r2 from the
	 * stack: not checked
	 */
	{ "obj_kptr_valid", -1, 91, 1 },
	{ "obj_kptr_freed", OBJ_D(1), 0, 1 },
};

/* Loads, stores and atomics of the xlated program not based on r10. */
static int count_accesses(const struct prog_meta *m)
{
	int i, n = 0;

	for (i = 0; i < m->cnt; i++) {
		const struct bpf_insn *insn = &m->insns[i];
		__u8 class = BPF_CLASS(insn->code);

		if (class == BPF_LDX)
			n += insn->src_reg != BPF_REG_10;
		else if (class == BPF_STX || class == BPF_ST)
			n += insn->dst_reg != BPF_REG_10;
	}
	return n;
}

/* The index of the 8-byte load at @off of the xlated program, or -1. */
static int find_load(const struct prog_meta *m, int off)
{
	int i, found = -1;

	for (i = 0; i < m->cnt; i++) {
		if (m->insns[i].code != (BPF_LDX | BPF_MEM | BPF_DW) ||
		    m->insns[i].off != off || m->insns[i].src_reg == BPF_REG_10)
			continue;
		if (found >= 0)
			return -1;
		found = i;
	}
	return found;
}

static void check_case(const struct obj_case *c, int mode)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	struct kasan_ebpf_obj *skel;
	struct bpf_program *prog;
	struct klog log = {};
	struct oops_log o;
	struct prog_meta m = {};
	char what[64], want[128];
	int fd, kmsg = -1, idx = -1;
	long checks, merged;
	size_t n;

	snprintf(what, sizeof(what), "%s mode %d", c->name, mode);
	skel = kasan_ebpf_obj__open();
	if (!ASSERT_OK_PTR(skel, msg(what, "open")))
		return;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), c->name));
	if (!ASSERT_OK(kasan_ebpf_obj__load(skel), msg(what, "load")))
		goto out;
	prog = bpf_object__find_program_by_name(skel->obj, c->name);
	fd = bpf_program__fd(prog);
	if (!get_prog_meta(fd, &m))
		goto out;
	/* A merged group's members are checked by its check (mode 1). */
	checks = read_fdinfo(fd, "kasan_checks");
	merged = read_fdinfo(fd, "kasan_merged");
	ASSERT_EQ(read_fdinfo(fd, "kasan_mode"), mode, msg(what, "kasan_mode"));
	ASSERT_GT(checks, 0, msg(what, "its loads are checked"));
	if (mode == 2)
		ASSERT_EQ(merged, 0, msg(what, "outline mode merges nothing"));
	ASSERT_EQ(checks + merged, count_accesses(&m) - c->unchecked,
		  msg(what, "checks: every access but the untrusted loads"));
	if (c->off >= 0) {
		idx = find_load(&m, c->off);
		if (!ASSERT_GE(idx, 0, msg(what, "the load in the xlated program")))
			goto out;
	}

	kmsg = kmsg_open();
	if (!ASSERT_GE(kmsg, 0, "open /dev/kmsg"))
		goto out;
	ASSERT_OK(bpf_prog_test_run_opts(fd, &topts), msg(what, "test run"));
	ASSERT_EQ(topts.retval, 0, msg(what, "retval"));
	ASSERT_OK(kmsg_read(kmsg, &log), "read /dev/kmsg");
	parse_oops_log(&log, &o);
	ASSERT_EQ(o.oops, -1, msg(what, "no oops"));
	if (c->off < 0) {
		ASSERT_EQ(o.nr_rep, 0, msg(what, "no KASAN report"));
		if (c->out != NOT_VALID)
			ASSERT_EQ(skel->bss->out, c->out, msg(what, "value read"));
		else
			ASSERT_NEQ(skel->bss->addr, 0, msg(what, "a freed object read"));
		goto out;
	}
	if (!ASSERT_EQ(o.nr_rep, 1, msg(what, "one KASAN report")))
		goto out;
	ASSERT_STREQ(o.kind, "slab-use-after-free", msg(what, "bug type"));
	n = match_sym(o.where, m.tag, c->name);
	ASSERT_GT(n, 0, msg(what, "reported in the program"));
	ASSERT_STREQ(o.rw, "Read", msg(what, "a read"));
	ASSERT_EQ(o.size, 8, msg(what, "size"));
	ASSERT_EQ(o.addr, skel->bss->addr + c->off, msg(what, "address"));
	if (ASSERT_OK_PTR(o.ebpf_text, msg(what, "kasan_ebpf: line"))) {
		n = match_sym(o.ebpf_text, m.tag, c->name);
		snprintf(want, sizeof(want), " insn %d ", idx);
		ASSERT_GT(n, 0, msg(what, "kasan_ebpf: names the program"));
		ASSERT_OK(strncmp(o.ebpf_text + n, want, strlen(want)),
			  msg(what, "kasan_ebpf: names the load"));
	}
out:
	if (kmsg >= 0)
		close(kmsg);
	klog_free(&log);
	put_prog_meta(&m);
	kasan_ebpf_obj__destroy(skel);
}

/* The fd of @name, loaded alone from a new skeleton in *@skel. */
static int load_one(struct kasan_ebpf_obj **skel, const char *name)
{
	struct bpf_program *prog;

	*skel = kasan_ebpf_obj__open();
	if (!ASSERT_OK_PTR(*skel, "open"))
		return -1;
	bpf_object__for_each_program(prog, (*skel)->obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), name));
	if (!ASSERT_OK(kasan_ebpf_obj__load(*skel), name))
		return -1;
	prog = bpf_object__find_program_by_name((*skel)->obj, name);
	return bpf_program__fd(prog);
}

/*
 * The non-stack accesses of @fd that are not checked: neither by a check
 * of their own (fdinfo kasan_checks) nor by a merged group's
 * (kasan_merged).
 */
static int unchecked(int fd, const char *what)
{
	struct prog_meta m;
	long checks;
	int n = -1;

	if (!get_prog_meta(fd, &m))
		return -1;
	checks = read_fdinfo(fd, "kasan_checks");
	if (ASSERT_GT(checks, 0, msg(what, "checks")))
		n = count_accesses(&m) - checks - read_fdinfo(fd, "kasan_merged");
	put_prog_meta(&m);
	return n;
}

/*
 * Tracing programs' arguments: a tp_btf program's are trusted, and its load
 * of task->pid is checked (every access of the program is); an fentry
 * program's are not, and its load of arg->a is the one access unchecked.
 * Both run, and nothing is reported.
 */
static void test_trusted_args(int mode)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	struct kasan_ebpf_obj *tp = NULL, *fe = NULL;
	struct bpf_link *l1 = NULL, *l2 = NULL;
	struct klog log = {};
	struct oops_log o;
	int fd_tp, fd_fe, kmsg = -1, status;
	char what[32];
	pid_t pid;

	snprintf(what, sizeof(what), "trusted_args mode %d", mode);
	fd_tp = load_one(&tp, "obj_tp_btf");
	fd_fe = load_one(&fe, "obj_fentry");
	if (fd_tp < 0 || fd_fe < 0)
		goto out;
	ASSERT_EQ(unchecked(fd_tp, what), 0, msg(what, "tp_btf: every access checked"));
	ASSERT_EQ(unchecked(fd_fe, what), 1, msg(what, "fentry: its argument's load unchecked"));
	l1 = bpf_program__attach(tp->progs.obj_tp_btf);
	l2 = bpf_program__attach(fe->progs.obj_fentry);
	if (!ASSERT_OK_PTR(l1, "attach tp_btf") || !ASSERT_OK_PTR(l2, "attach fentry"))
		goto out;
	kmsg = kmsg_open();
	if (!ASSERT_GE(kmsg, 0, "open /dev/kmsg"))
		goto out;
	tp->bss->tp_ppid = getpid();
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (ASSERT_GT(pid, 0, "fork")) {
		waitpid(pid, &status, 0);
		ASSERT_EQ(tp->bss->tp_pid, pid, msg(what, "tp_btf read the new task's pid"));
	}
	fe->bss->fentry_val = 1;
	ASSERT_OK(bpf_prog_test_run_opts(fd_fe, &topts), msg(what, "run fentry"));
	ASSERT_EQ(fe->bss->fentry_val, 0, msg(what, "fentry read arg->a"));
	ASSERT_OK(kmsg_read(kmsg, &log), "read /dev/kmsg");
	parse_oops_log(&log, &o);
	ASSERT_EQ(o.nr_rep, 0, msg(what, "no KASAN report"));
	ASSERT_EQ(o.oops, -1, msg(what, "no oops"));
out:
	if (kmsg >= 0)
		close(kmsg);
	klog_free(&log);
	bpf_link__destroy(l1);
	bpf_link__destroy(l2);
	kasan_ebpf_obj__destroy(tp);
	kasan_ebpf_obj__destroy(fe);
}

/*
 * Loads the module for the first subtest that runs; *@own: whether this
 * test loaded it (and must unload it). Return: whether it is loaded.
 */
static bool need_testmod(bool *loaded, bool *own)
{
	int err;

	if (*loaded)
		return true;
	err = load_testmod();
	if (err != -EEXIST && !ASSERT_OK(err, "load " TESTMOD_KO))
		return false;
	*own = !err;
	*loaded = true;
	return true;
}

void test_kasan_ebpf_obj(void)
{
	bool loaded = false, own = false;
	int saved, mode, i;

	if (read_int_file(KASAN_SYSCTL, &saved)) {
		test__skip();
		return;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!test__start_subtest(cases[i].name))
			continue;
		if (!need_testmod(&loaded, &own))
			break;
		for (mode = 1; mode <= 2; mode++) {
			if (!ASSERT_TRUE(set_sysctl(KASAN_SYSCTL, mode), "set mode"))
				break;
			check_case(&cases[i], mode);
		}
	}
	if (test__start_subtest("trusted_args") && need_testmod(&loaded, &own)) {
		for (mode = 1; mode <= 2; mode++) {
			if (!ASSERT_TRUE(set_sysctl(KASAN_SYSCTL, mode), "set mode"))
				break;
			test_trusted_args(mode);
		}
	}
	set_sysctl(KASAN_SYSCTL, saved);
	/* Leave the module as it was: the leak job checks it can go. */
	if (own)
		ASSERT_OK(unload_testmod(), "unload " TESTMOD);
}
