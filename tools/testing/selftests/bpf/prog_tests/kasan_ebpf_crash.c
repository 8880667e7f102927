// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in JIT-compiled BPF programs: the bad accesses whose kernel
 * does not survive them unharmed. Each test runs only in the guest job
 * booted for it (kasan_ebpf.job=<job> on the kernel command line) and skips
 * anywhere else.
 *
 * kasan_ebpf_wild (job "wild"): a wild pointer from the faulty kfunc
 * bpf_kasan_wild() reaches a check, in each variant of the checks (inline
 * with the shadow offset in r12, inline without it, outline, inline with
 * two accesses under one merged check), for NULL plus
 * a small offset, a user address and a non-canonical address. The shadow
 * read of the inline check faults and must be skipped so that KASAN reports
 * the access (null-ptr-deref, user-memory-access, wild-memory-access); the
 * access itself then oopses. Each case runs its program in a child process,
 * which the oops kills, and the parent checks the kernel log: exactly one
 * KASAN report of the expected kind, access type, size and address, naming
 * the program, with its "kasan_ebpf: bpf_prog_<tag>_<name> insn <idx>" line,
 * both before the oops.
 *
 * The wild programs are fentry programs, run through BPF_PROG_TEST_RUN
 * (which calls bpf_fentry_test1()) in the caller's task, in an RCU
 * read-side critical section with migration disabled: the oops kills the
 * task and the kernel lives on. BPF_PROG_TEST_RUN runs tc programs with
 * bottom halves disabled, where an oops is always a panic ("Fatal exception
 * in interrupt"), and syscall programs in an RCU tasks trace read-side
 * critical section, which a killed task leaves with a WARNING. Each run
 * loads its program anew: the trampoline's recursion counter of a program
 * stays raised on the CPU where its task died. The test checks before and
 * after the cases that RCU grace periods still complete.
 *
 * kasan_ebpf_panic (job "panic", booted with panic_on_warn=1 and without
 * kasan_multi_shot): one use-after-free read; KASAN's report ends in a
 * panic, and scripts/guest/jobs/panic.expect checks the console on the
 * host: the report, its kasan_ebpf: line, then the panic. The test
 * announces the line to expect in a "kasan_ebpf-expect:" kernel log line.
 *
 * Every case is bracketed by "kasan_ebpf-planted: begin <label> <kinds>" and
 * "kasan_ebpf-planted: end <label>" lines written to /dev/kmsg, so that the
 * console checker knows which reports and oopses were meant.
 */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <test_progs.h>
#include "network_helpers.h"
#include "progs/kasan_ebpf_crash.h"
#include "kasan_ebpf_crash.skel.h"
#include "kasan_ebpf_common.h"

#define WARN_SYSCTL	"/proc/sys/kernel/panic_on_warn"
#define TESTMOD_REFCNT	"/sys/module/bpf_kasan_testmod/refcnt"

/* --- the kernel log --- */

/*
 * Reads the kernel log into log until it has been quiet for a second (at
 * most 10 s). A task killed by an oops is reaped before it has finished
 * exiting, and what it logs last may come after.
 */
static int kmsg_settle(int fd, struct klog *log)
{
	int i, cnt, quiet = 0, err = 0;

	for (i = 0; i < 100 && quiet < 10 && !err; i++) {
		usleep(100000);
		cnt = log->cnt;
		err = kmsg_read(fd, log);
		quiet = log->cnt == cnt ? quiet + 1 : 0;
	}
	return err;
}

/* --- programs --- */

/* An access through the pointer in r0, as the xlated program has it. */
struct access {
	__u8 code;
	__s16 off;
	bool write;
	int size;
};

/* The index of the one xlated instruction that makes access a, or -1. */
static int find_insn(const struct prog_meta *m, const struct access *a)
{
	int i, found = -1, n = 0;

	for (i = 0; i < m->cnt; i++) {
		const struct bpf_insn *insn = &m->insns[i];
		__u8 base = a->write ? insn->dst_reg : insn->src_reg;

		if (insn->code == a->code && insn->off == a->off &&
		    base == BPF_REG_0) {
			found = i;
			n++;
		}
	}
	return n == 1 ? found : -1;
}

/*
 * Opens the skeleton with only the program named prog to load, loads it
 * with bpf_jit_kasan set to mode, and returns the skeleton and the
 * program's fd and metadata, or NULL.
 */
static struct kasan_ebpf_crash *load_prog(const char *prog, int mode, int *fd,
					  struct prog_meta *m)
{
	struct bpf_program *p, *chosen = NULL;
	struct kasan_ebpf_crash *skel;

	skel = kasan_ebpf_crash__open();
	if (!ASSERT_OK_PTR(skel, "kasan_ebpf_crash__open"))
		return NULL;
	bpf_object__for_each_program(p, skel->obj) {
		bool wanted = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, wanted);
		if (wanted)
			chosen = p;
	}
	if (!ASSERT_OK_PTR(chosen, prog) ||
	    !set_sysctl(KASAN_SYSCTL, mode) ||
	    !ASSERT_OK(kasan_ebpf_crash__load(skel), "kasan_ebpf_crash__load"))
		goto err;
	*fd = bpf_program__fd(chosen);
	if (!ASSERT_EQ(read_fdinfo(*fd, "kasan_mode"), mode, "fdinfo kasan_mode") ||
	    !get_prog_meta(*fd, m))
		goto err;
	return skel;
err:
	kasan_ebpf_crash__destroy(skel);
	return NULL;
}

/*
 * Runs the program fd once with BPF_PROG_TEST_RUN, a tc program on a
 * packet; returns 0 or -errno.
 */
static int test_run(int fd, bool tc)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err;

	if (tc) {
		opts.data_in = &pkt_v4;
		opts.data_size_in = sizeof(pkt_v4);
		opts.repeat = 1;
	}
	err = bpf_prog_test_run_opts(fd, &opts);
	return err ? -errno : 0;
}

/* --- kasan_ebpf_wild --- */

/* A variant of the checks, and the program that exercises it. */
struct wild_variant {
	const char *name;
	const char *prog;
	int mode;
	bool r12;	/* enough checks for the shadow offset in r12 */
	int checks;	/* the program's checked accesses */
	struct access a;	/* its wild access */
};

static const struct wild_variant wild_variants[] = {
	{ "inline_r12", "wild_r12", 1, true, KASAN_CRASH_R12_CHECKS,
	  { BPF_LDX | BPF_MEM | BPF_DW, 0, false, 8 } },
	{ "inline", "wild_few", 1, false, KASAN_CRASH_FEW_CHECKS,
	  { BPF_STX | BPF_MEM | BPF_W, 0, true, 4 } },
	{ "outline", "wild_few", 2, false, KASAN_CRASH_FEW_CHECKS,
	  { BPF_STX | BPF_MEM | BPF_W, 0, true, 4 } },
	{ "inline_merged", "wild_merged", 1, false, KASAN_CRASH_MERGED_CHECKS,
	  { BPF_STX | BPF_MEM | BPF_W, 0, true, 4 } },
};

/* An address the wild pointer has, and what KASAN calls an access to it. */
struct wild_addr {
	const char *name;
	__u64 addr;
	const char *kind;
};

static const struct wild_addr wild_addrs[] = {
	{ "null", 4, "null-ptr-deref" },
	{ "user", 0x10000000, "user-memory-access" },
	{ "noncanonical", 0xdead000000000000ULL, "wild-memory-access" },
};

/*
 * Checks the log of one wild case: exactly one KASAN report, of the
 * expected kind, access and address, naming the program, with its
 * kasan_ebpf: line, both before the oops that the access caused.
 */
static void check_wild_log(const struct klog *log, const char *what,
			   const struct wild_variant *v,
			   const struct wild_addr *w,
			   const struct prog_meta *m, int insn)
{
	struct oops_log o;
	int idx = -1, n = 0;
	size_t len;

	parse_oops_log(log, &o);
	ASSERT_GE(o.oops, 0, msg(what, "the access oopsed"));
	if (!ASSERT_EQ(o.nr_rep, 1, msg(what, "one KASAN report")))
		return;
	ASSERT_STREQ(o.kind, w->kind, msg(what, "KASAN bug type"));
	if (ASSERT_GE(o.access, 0, msg(what, "the report has the access line"))) {
		ASSERT_STREQ(o.rw, v->a.write ? "Write" : "Read",
			     msg(what, "access type"));
		ASSERT_EQ(o.size, v->a.size, msg(what, "access size"));
		ASSERT_EQ(o.addr, w->addr, msg(what, "access address"));
	}
	len = match_sym(o.where, m->tag, v->prog);
	if (!ASSERT_TRUE(len && o.where[len] == '+',
			 msg(what, "BUG line names the program")))
		printf("%s: BUG line has '%s', expected bpf_prog_%s_%s+\n",
		       what, o.where, m->tag, v->prog);
	if (o.oops >= 0)
		ASSERT_LT(o.bug, o.oops,
			  msg(what, "the report comes before the oops"));

	if (!ASSERT_EQ(o.nr_ebpf, 1, msg(what, "one kasan_ebpf: line")))
		return;
	ASSERT_GT(o.ebpf, o.bug,
		  msg(what, "the kasan_ebpf: line follows the BUG line"));
	if (o.oops >= 0)
		ASSERT_LT(o.ebpf, o.oops,
			  msg(what, "the kasan_ebpf: line comes before the oops"));
	len = match_sym(o.ebpf_text, m->tag, v->prog);
	if (len)
		n = sscanf(o.ebpf_text + len, " insn %d", &idx);
	if (!ASSERT_TRUE(len, msg(what, "kasan_ebpf: line names the program")) ||
	    !ASSERT_EQ(n, 1, msg(what, "kasan_ebpf: line has 'insn <idx>'"))) {
		printf("%s: got 'kasan_ebpf: %s', expected 'kasan_ebpf: bpf_prog_%s_%s insn %d'\n",
		       what, o.ebpf_text, m->tag, v->prog, insn);
		return;
	}
	ASSERT_EQ(idx, insn, msg(what, "instruction index"));
}

/*
 * Runs the program fd with the wild pointer w in a child process, which
 * must die of the oops its access causes, and checks the kernel log.
 */
static void run_wild_case(const struct wild_variant *v,
			  const struct wild_addr *w)
{
	struct kasan_ebpf_crash *skel;
	struct bpf_link *link = NULL;
	struct prog_meta m = {};
	struct klog log = {};
	char label[64];
	int kmsg = -1, status, insn, fd;
	long checks;
	pid_t pid;

	snprintf(label, sizeof(label), "wild-%s_%s", v->name, w->name);
	skel = load_prog(v->prog, v->mode, &fd, &m);
	if (!skel)
		return;
	checks = read_fdinfo(fd, "kasan_checks");
	ASSERT_EQ(checks, v->checks, msg(label, "fdinfo kasan_checks"));
	/* The emitter keeps the offset in r12 from 3 checks on (mode 1). */
	if (v->r12)
		ASSERT_GE(checks, 3, msg(label, "enough checks for r12"));
	else
		ASSERT_LT(checks, 3, msg(label, "too few checks for r12"));
	insn = find_insn(&m, &v->a);
	if (!ASSERT_GE(insn, 0, msg(label, "access in xlated program")))
		goto out;
	link = bpf_program__attach(bpf_object__find_program_by_name(skel->obj,
								    v->prog));
	if (!ASSERT_OK_PTR(link, msg(label, "attach to bpf_fentry_test1")))
		goto out;
	skel->bss->wild_addr = w->addr;

	kmsg = kmsg_open();
	if (!ASSERT_OK_FD(kmsg, "open /dev/kmsg"))
		goto out;
	planted_begin(label, "kasan,oops");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* The child: the oops kills it before it can exit. */
		_exit(test_run(fd, false) ? 2 : 3);
	}
	if (ASSERT_GE(pid, 0, "fork") &&
	    ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid")) {
		if (!ASSERT_TRUE(WIFSIGNALED(status),
				 msg(label, "the oops killed the child")))
			printf("%s: child exited with %d (2: run failed, 3: returned)\n",
			       label, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	ASSERT_OK(kmsg_settle(kmsg, &log), "read /dev/kmsg until quiet");
	planted_end(label);
	if (ASSERT_OK(kmsg_read(kmsg, &log), "read /dev/kmsg") &&
	    ASSERT_FALSE(log.lost, "kernel log records lost"))
		check_wild_log(&log, label, v, w, &m, insn);
	klog_free(&log);
out:
	if (kmsg >= 0)
		close(kmsg);
	bpf_link__destroy(link);
	put_prog_meta(&m);
	kasan_ebpf_crash__destroy(skel);
}

static void test_wild_variant(const struct wild_variant *v)
{
	char name[64];
	int i;

	for (i = 0; i < ARRAY_SIZE(wild_addrs); i++) {
		snprintf(name, sizeof(name), "%s_%s", v->name, wild_addrs[i].name);
		if (test__start_subtest(name))
			run_wild_case(v, &wild_addrs[i]);
	}
}

/*
 * RCU grace periods complete: a program that calls a kfunc of the module
 * holds a reference on the module until it is freed, after a grace period,
 * so the module's reference count must return to what it was within a few
 * seconds of closing the program.
 */
static void test_rcu_gp(void)
{
	struct kasan_ebpf_crash *skel;
	int before, during = -1, now = -1, fd, i;
	struct prog_meta m = {};

	if (!ASSERT_OK(read_int_file(TESTMOD_REFCNT, &before),
		       "read " TESTMOD_REFCNT))
		return;
	skel = load_prog("wild_few", 1, &fd, &m);
	if (!skel)
		return;
	put_prog_meta(&m);
	ASSERT_OK(read_int_file(TESTMOD_REFCNT, &during), "read " TESTMOD_REFCNT);
	ASSERT_GT(during, before, "the loaded program holds the module");
	kasan_ebpf_crash__destroy(skel);
	for (i = 0; i < 300; i++) {
		if (!read_int_file(TESTMOD_REFCNT, &now) && now == before)
			break;
		usleep(100000);
	}
	if (!ASSERT_EQ(now, before, "module reference dropped after a grace period"))
		printf("%s: module refcnt %d before, %d loaded, %d 30 s after closing\n",
		       __func__, before, during, now);
}

void serial_test_kasan_ebpf_wild(void)
{
	int saved_kasan, saved_oops, i;

	if (skip_unless_job(__func__, "wild", "its accesses oops the kernel"))
		return;
	if (!ASSERT_OK(read_int_file(KASAN_SYSCTL, &saved_kasan),
		       "read " KASAN_SYSCTL) ||
	    !ASSERT_OK(read_int_file(OOPS_SYSCTL, &saved_oops),
		       "read " OOPS_SYSCTL) ||
	    !ASSERT_TRUE(cmdline_has("kasan_multi_shot"),
			 "kernel booted with kasan_multi_shot") ||
	    !ensure_testmod())
		return;
	/* An oops must kill the task, not the kernel (CONFIG_PANIC_ON_OOPS). */
	if (!set_sysctl(OOPS_SYSCTL, 0))
		return;

	if (test__start_subtest("rcu_gp_before"))
		test_rcu_gp();
	for (i = 0; i < ARRAY_SIZE(wild_variants); i++)
		test_wild_variant(&wild_variants[i]);
	if (test__start_subtest("rcu_gp_after"))
		test_rcu_gp();

	set_sysctl(KASAN_SYSCTL, saved_kasan);
	set_sysctl(OOPS_SYSCTL, saved_oops);
}

/* --- kasan_ebpf_panic --- */

void serial_test_kasan_ebpf_panic(void)
{
	const struct access read = {
		BPF_LDX | BPF_MEM | BPF_DW, KASAN_CRASH_UAF_READ, false, 8
	};
	struct kasan_ebpf_crash *skel;
	struct prog_meta m = {};
	int fd, insn, val = -1;

	if (skip_unless_job(__func__, "panic", "it panics the kernel"))
		return;
	/* With kasan_multi_shot, KASAN never panics on warn. */
	if (!ASSERT_OK(read_int_file(WARN_SYSCTL, &val), "read " WARN_SYSCTL) ||
	    !ASSERT_EQ(val, 1, "kernel booted with panic_on_warn=1") ||
	    !ASSERT_FALSE(cmdline_has("kasan_multi_shot"),
			  "kernel booted without kasan_multi_shot") ||
	    !ensure_testmod())
		return;
	skel = load_prog("crash_uaf", 1, &fd, &m);
	if (!skel)
		return;
	insn = find_insn(&m, &read);
	if (ASSERT_GE(insn, 0, "access in xlated program")) {
		planted_begin("panic-uaf", "kasan,panic");
		/* For panic.expect: what the report must name. */
		ASSERT_OK(kmsg_write("kasan_ebpf-expect: panic-uaf bpf_prog_%s_crash_uaf insn %d\n",
				     m.tag, insn),
			  "write the kasan_ebpf-expect line");
		ASSERT_OK(test_run(fd, true), "BPF_PROG_TEST_RUN");
		/* Only reached if KASAN's report did not panic the kernel. */
		ASSERT_FAIL("the kernel did not panic after KASAN's report");
		planted_end("panic-uaf");
	}
	put_prog_meta(&m);
	kasan_ebpf_crash__destroy(skel);
}
