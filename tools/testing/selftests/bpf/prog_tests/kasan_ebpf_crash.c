// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in JIT-compiled BPF programs: the bad accesses whose kernel
 * does not survive them unharmed. Each test runs only in the guest job
 * booted for it (kasan_ebpf.job=<job> on the kernel command line) and skips
 * anywhere else.
 *
 * kasan_ebpf_wild (job "wild"): a wild pointer from the faulty kfunc
 * bpf_kasan_wild() reaches a check, in each variant of the checks (inline
 * with the shadow offset in r12, inline without it, outline), for NULL plus
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
#include <fcntl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <test_progs.h>
#include "network_helpers.h"
#include "progs/kasan_ebpf_crash.h"
#include "kasan_ebpf_crash.skel.h"

#define KASAN_SYSCTL	"/proc/sys/net/core/bpf_jit_kasan"
#define OOPS_SYSCTL	"/proc/sys/kernel/panic_on_oops"
#define WARN_SYSCTL	"/proc/sys/kernel/panic_on_warn"
#define TESTMOD_KO	"bpf_kasan_testmod.ko"
#define TESTMOD_REFCNT	"/sys/module/bpf_kasan_testmod/refcnt"

/* --- files, the command line, the module --- */

static int read_int_file(const char *path, int *val)
{
	char buf[32] = {}, *end;
	int fd, n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	errno = 0;
	*val = strtol(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

/* Returns 0, or -errno of the failed open() or write(). */
static int write_str_file(const char *path, const char *s)
{
	ssize_t len = strlen(s), n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		err = -errno;
	else if (n != len)
		err = -EIO;
	close(fd);
	return err;
}

static bool set_sysctl(const char *path, int val)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", val);
	return ASSERT_OK(write_str_file(path, buf), path);
}

/* Whether the kernel command line has the word param. */
static bool cmdline_has(const char *param)
{
	char cmdline[4096] = {}, *word, *state = NULL;
	int fd, n;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return false;
	for (word = strtok_r(cmdline, " \t\n", &state); word;
	     word = strtok_r(NULL, " \t\n", &state))
		if (!strcmp(word, param))
			return true;
	return false;
}

/* Reads "<key>:\t<value>" from the fdinfo of fd. */
static long read_fdinfo(int fd, const char *key)
{
	char path[64], line[256];
	size_t len = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && line[len] == ':') {
			if (sscanf(line + len + 1, "%ld", &val) != 1)
				val = -1;
			break;
		}
	}
	fclose(f);
	return val;
}

/*
 * Loads bpf_kasan_testmod.ko from the current directory, if it is not
 * loaded yet. Never unloaded here: a program killed by an oops keeps its
 * reference on the module.
 */
static bool load_testmod(void)
{
	int fd, err = 0;

	fd = open(TESTMOD_KO, O_RDONLY | O_CLOEXEC);
	if (!ASSERT_OK_FD(fd, "open " TESTMOD_KO))
		return false;
	if (finit_module(fd, "", 0))
		err = -errno;
	close(fd);
	return err == -EEXIST || ASSERT_OK(err, "load " TESTMOD_KO);
}

/* --- the kernel log --- */

/*
 * Writes one line to the kernel log at KERN_ERR, as KASAN's reports are
 * logged, so that the console shows it whenever it shows them. Each write
 * opens /dev/kmsg anew: its rate limit (printk.devkmsg=ratelimit) is per
 * open file.
 */
static int kmsg_write(const char *fmt, ...)
{
	char text[256], line[260];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "<3>%s", text);
	return write_str_file("/dev/kmsg", line);
}

static void planted_begin(const char *label, const char *kinds)
{
	ASSERT_OK(kmsg_write("kasan_ebpf-planted: begin %s %s\n", label, kinds),
		  "write the planted begin line");
}

static void planted_end(const char *label)
{
	ASSERT_OK(kmsg_write("kasan_ebpf-planted: end %s\n", label),
		  "write the planted end line");
}

struct klog {
	char **lines;
	int cnt;
	bool lost;	/* records overwritten before they were read */
};

static void klog_free(struct klog *log)
{
	int i;

	for (i = 0; i < log->cnt; i++)
		free(log->lines[i]);
	free(log->lines);
	memset(log, 0, sizeof(*log));
}

/* A cursor at the end of the log: never clears it. */
static int kmsg_open(void)
{
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Appends the text of every record logged since the cursor, one line each. */
static int kmsg_read(int fd, struct klog *log)
{
	char rec[8192], *text, *end, **lines;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE) {
				log->lost = true;
				continue;
			}
			if (errno == EINTR)
				continue;
			return -errno;
		}
		rec[n] = '\0';
		/* "<prio>,<seq>,<usec>,<flags>[,...];<text>\n[ KEY=VALUE\n...]" */
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		end = strchr(text, '\n');
		if (end)
			*end = '\0';
		lines = realloc(log->lines, (log->cnt + 1) * sizeof(*lines));
		if (!lines)
			return -ENOMEM;
		log->lines = lines;
		log->lines[log->cnt] = strdup(text);
		if (!log->lines[log->cnt])
			return -ENOMEM;
		log->cnt++;
	}
}

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

/* Lines that start an oops (x86 page fault and #GP, and die()'s header). */
static bool is_oops_line(const char *line)
{
	return strstr(line, "BUG: kernel NULL pointer dereference") ||
	       strstr(line, "BUG: unable to handle page fault") ||
	       strstr(line, "general protection fault") ||
	       strstr(line, "Oops: ");
}

/* --- programs --- */

struct prog_meta {
	struct bpf_insn *insns;	/* xlated */
	__u32 cnt;
	char tag[2 * BPF_TAG_SIZE + 1];
};

static bool get_prog_meta(int prog_fd, struct prog_meta *m)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int i;

	memset(m, 0, sizeof(*m));
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(prog_fd, &info, &len),
		       "bpf_prog_get_info_by_fd"))
		return false;
	for (i = 0; i < BPF_TAG_SIZE; i++)
		sprintf(m->tag + 2 * i, "%02x", info.tag[i]);
	return ASSERT_OK(get_xlated_program(prog_fd, &m->insns, &m->cnt),
			 "get_xlated_program");
}

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

/* Matches "bpf_prog_<tag>_<name>" at s; returns its length, or 0. */
static size_t match_sym(const char *s, const char *tag, const char *name)
{
	size_t n = strlen("bpf_prog_");

	if (strncmp(s, "bpf_prog_", n) || strncmp(s + n, tag, 2 * BPF_TAG_SIZE))
		return 0;
	n += 2 * BPF_TAG_SIZE;
	if (s[n++] != '_' || strncmp(s + n, name, strlen(name)))
		return 0;
	return n + strlen(name);
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

static char msgbuf[256];

static const char *msg(const char *what, const char *check)
{
	snprintf(msgbuf, sizeof(msgbuf), "%s: %s", what, check);
	return msgbuf;
}

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
	int i, nr_rep = 0, nr_ebpf = 0, bug = -1, ebpf = -1, oops = -1;
	int access = -1, idx = -1, n;
	char kind[64] = "", where[256] = "", rw[8] = "";
	unsigned long long addr = 0;
	const char *s, *ebpf_text = NULL;
	size_t size = 0, len;

	for (i = 0; i < log->cnt; i++) {
		const char *line = log->lines[i];

		s = strstr(line, "BUG: KASAN: ");
		if (s) {
			if (!nr_rep++) {
				bug = i;
				if (sscanf(s + strlen("BUG: KASAN: "), "%63s in %255s",
					   kind, where) != 2)
					where[0] = '\0';
			}
			continue;
		}
		s = strstr(line, "kasan_ebpf: ");
		if (s) {
			if (!nr_ebpf++) {
				ebpf = i;
				ebpf_text = s + strlen("kasan_ebpf: ");
			}
			continue;
		}
		if (bug >= 0 && access < 0 && strstr(line, " of size ") &&
		    strstr(line, " at addr ") &&
		    sscanf(line, "%7s of size %zu at addr %llx", rw, &size,
			   &addr) == 3)
			access = i;
		if (oops < 0 && is_oops_line(line))
			oops = i;
	}

	ASSERT_GE(oops, 0, msg(what, "the access oopsed"));
	if (!ASSERT_EQ(nr_rep, 1, msg(what, "one KASAN report")))
		return;
	ASSERT_STREQ(kind, w->kind, msg(what, "KASAN bug type"));
	if (ASSERT_GE(access, 0, msg(what, "the report has the access line"))) {
		ASSERT_STREQ(rw, v->a.write ? "Write" : "Read",
			     msg(what, "access type"));
		ASSERT_EQ(size, v->a.size, msg(what, "access size"));
		ASSERT_EQ(addr, w->addr, msg(what, "access address"));
	}
	len = match_sym(where, m->tag, v->prog);
	if (!ASSERT_TRUE(len && where[len] == '+',
			 msg(what, "BUG line names the program")))
		printf("%s: BUG line has '%s', expected bpf_prog_%s_%s+\n",
		       what, where, m->tag, v->prog);
	if (oops >= 0)
		ASSERT_LT(bug, oops, msg(what, "the report comes before the oops"));

	if (!ASSERT_EQ(nr_ebpf, 1, msg(what, "one kasan_ebpf: line")))
		return;
	ASSERT_GT(ebpf, bug, msg(what, "the kasan_ebpf: line follows the BUG line"));
	if (oops >= 0)
		ASSERT_LT(ebpf, oops,
			  msg(what, "the kasan_ebpf: line comes before the oops"));
	len = match_sym(ebpf_text, m->tag, v->prog);
	n = 0;
	if (len)
		n = sscanf(ebpf_text + len, " insn %d", &idx);
	if (!ASSERT_TRUE(len, msg(what, "kasan_ebpf: line names the program")) ||
	    !ASSERT_EQ(n, 1, msg(what, "kasan_ebpf: line has 'insn <idx>'"))) {
		printf("%s: got 'kasan_ebpf: %s', expected 'kasan_ebpf: bpf_prog_%s_%s insn %d'\n",
		       what, ebpf_text, m->tag, v->prog, insn);
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
	free(m.insns);
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
	free(m.insns);
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

	if (!cmdline_has("kasan_ebpf.job=wild")) {
		printf("%s:SKIP: only in the guest job 'wild': its accesses oops the kernel\n",
		       __func__);
		test__skip();
		return;
	}
	if (!ASSERT_OK(read_int_file(KASAN_SYSCTL, &saved_kasan),
		       "read " KASAN_SYSCTL) ||
	    !ASSERT_OK(read_int_file(OOPS_SYSCTL, &saved_oops),
		       "read " OOPS_SYSCTL) ||
	    !ASSERT_TRUE(cmdline_has("kasan_multi_shot"),
			 "kernel booted with kasan_multi_shot") ||
	    !load_testmod())
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

	if (!cmdline_has("kasan_ebpf.job=panic")) {
		printf("%s:SKIP: only in the guest job 'panic': it panics the kernel\n",
		       __func__);
		test__skip();
		return;
	}
	/* With kasan_multi_shot, KASAN never panics on warn. */
	if (!ASSERT_OK(read_int_file(WARN_SYSCTL, &val), "read " WARN_SYSCTL) ||
	    !ASSERT_EQ(val, 1, "kernel booted with panic_on_warn=1") ||
	    !ASSERT_FALSE(cmdline_has("kasan_multi_shot"),
			  "kernel booted without kasan_multi_shot") ||
	    !load_testmod())
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
	free(m.insns);
	kasan_ebpf_crash__destroy(skel);
}
