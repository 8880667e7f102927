// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in JIT-compiled BPF programs.
 *
 * bpf_kasan_testmod.ko (loaded from the current directory) gives programs
 * pointers to freed, out-of-bounds or valid memory; the programs in
 * progs/kasan_ebpf.c access them with every instruction form that the JIT
 * instruments. For each bad access the test reads the kernel log and checks
 * KASAN's report (bug type, Read/Write, size, address, the program's symbol)
 * and the "kasan_ebpf: bpf_prog_<tag>_<name> insn <idx>" line that follows
 * it, where <idx> is found by scanning the xlated program for the access.
 *
 * net.core.bpf_jit_kasan: 0 no checks, 1 inline fast path (default),
 * 2 outline calls; read once per program at load.
 *
 * Needs a KASAN (generic, with KASAN_VMALLOC) kernel booted with
 * kasan_multi_shot, and root. Changes net.core.bpf_jit_kasan and
 * net.core.bpf_jit_harden, and restores them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <test_progs.h>
#include "cap_helpers.h"
#include "network_helpers.h"
#include "progs/kasan_ebpf.h"
#include "kasan_ebpf.skel.h"

#define KASAN_SYSCTL	"/proc/sys/net/core/bpf_jit_kasan"
#define HARDEN_SYSCTL	"/proc/sys/net/core/bpf_jit_harden"
#define TESTMOD		"bpf_kasan_testmod"
#define TESTMOD_KO	"bpf_kasan_testmod.ko"

#define UAF		"slab-use-after-free"
#define SLAB_OOB	"slab-out-of-bounds"
#define VMALLOC_OOB	"vmalloc-out-of-bounds"

#define MAX_REPORTS	64

static int saved_kasan = -1, saved_harden = -1;
static bool own_module;

/* --- files and sysctls --- */

static int read_int_file(const char *path, int *val)
{
	char buf[32] = {};
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
	return sscanf(buf, "%d", val) == 1 ? 0 : -EINVAL;
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

static bool set_kasan_mode(int mode)
{
	return set_sysctl(KASAN_SYSCTL, mode);
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

/* --- the module --- */

static int load_testmod(void)
{
	int fd, err = 0;

	fd = open(TESTMOD_KO, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (finit_module(fd, "", 0))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Programs that call the module's kfuncs hold a reference on it until they
 * are freed, after an RCU (tasks trace, for sleepable programs) grace period.
 */
static int unload_testmod(void)
{
	int i;

	for (i = 0; i < 1000; i++) {
		kern_sync_rcu();
		if (!delete_module(TESTMOD, 0))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* --- the kernel log --- */

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

/* One KASAN report, as far as the test checks it. */
struct kasan_report {
	char kind[64];		/* "slab-use-after-free", ... */
	char where[256];	/* "bpf_prog_<tag>_<name>+0x4a/0x90" */
	char rw[8];		/* "Read" or "Write" */
	size_t size;
	unsigned long long addr;
	const char *ebpf;	/* the text after "kasan_ebpf: ", or NULL */
};

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
	const char *s;
	int i;

	for (i = 0; i < run->log.cnt; i++) {
		const char *line = run->log.lines[i];

		s = strstr(line, "BUG: KASAN: ");
		if (s) {
			if (run->nr_rep++ >= MAX_REPORTS) {
				r = NULL;
				continue;
			}
			r = &run->rep[run->nr_rep - 1];
			if (sscanf(s + strlen("BUG: KASAN: "), "%63s in %255s",
				   r->kind, r->where) != 2)
				r->where[0] = '\0';
			continue;
		}
		s = strstr(line, "kasan_ebpf: ");
		if (s) {
			run->nr_ebpf++;
			if (r && !r->ebpf)
				r->ebpf = s + strlen("kasan_ebpf: ");
			continue;
		}
		/* "Read of size 8 at addr ffff888... by task test_progs/123" */
		if (r && !r->rw[0] && strstr(line, " of size ") &&
		    strstr(line, " at addr ") &&
		    sscanf(line, "%7s of size %zu at addr %llx", r->rw,
			   &r->size, &r->addr) != 3)
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

static void put_prog_meta(struct prog_meta *m)
{
	free(m->insns);
	m->insns = NULL;
}

/* An access the programs make, as the test finds it in the xlated program. */
struct access {
	const char *name;
	__u8 code;
	__s32 imm;	/* atomics: the operation */
	__s16 off;
	bool write;	/* stores and all atomics */
	int size;
};

#define SZ(bytes)	((bytes) == 1 ? BPF_B : (bytes) == 2 ? BPF_H :	\
			 (bytes) == 4 ? BPF_W : BPF_DW)
#define LDX(bytes, o)	.code = BPF_LDX | BPF_MEM | SZ(bytes), .off = (o), \
			.size = (bytes)
#define LDSX(bytes, o)	.code = BPF_LDX | BPF_MEMSX | SZ(bytes), .off = (o), \
			.size = (bytes)
#define STX(bytes, o)	.code = BPF_STX | BPF_MEM | SZ(bytes), .off = (o), \
			.size = (bytes), .write = true
#define ST(bytes, o)	.code = BPF_ST | BPF_MEM | SZ(bytes), .off = (o), \
			.size = (bytes), .write = true
#define ATOMIC(bytes, op, o)						\
			.code = BPF_STX | BPF_ATOMIC | SZ(bytes), .imm = (op), \
			.off = (o), .size = (bytes), .write = true

static const struct access forms[KASAN_NR_FORMS] = {
	[KASAN_LDX_B]	= { "LDX_B", LDX(1, KASAN_FORM_OFF(KASAN_LDX_B)) },
	[KASAN_LDX_H]	= { "LDX_H", LDX(2, KASAN_FORM_OFF(KASAN_LDX_H)) },
	[KASAN_LDX_W]	= { "LDX_W", LDX(4, KASAN_FORM_OFF(KASAN_LDX_W)) },
	[KASAN_LDX_DW]	= { "LDX_DW", LDX(8, KASAN_FORM_OFF(KASAN_LDX_DW)) },
	[KASAN_LDSX_B]	= { "LDSX_B", LDSX(1, KASAN_FORM_OFF(KASAN_LDSX_B)) },
	[KASAN_LDSX_H]	= { "LDSX_H", LDSX(2, KASAN_FORM_OFF(KASAN_LDSX_H)) },
	[KASAN_LDSX_W]	= { "LDSX_W", LDSX(4, KASAN_FORM_OFF(KASAN_LDSX_W)) },
	[KASAN_STX_B]	= { "STX_B", STX(1, KASAN_FORM_OFF(KASAN_STX_B)) },
	[KASAN_STX_H]	= { "STX_H", STX(2, KASAN_FORM_OFF(KASAN_STX_H)) },
	[KASAN_STX_W]	= { "STX_W", STX(4, KASAN_FORM_OFF(KASAN_STX_W)) },
	[KASAN_STX_DW]	= { "STX_DW", STX(8, KASAN_FORM_OFF(KASAN_STX_DW)) },
	[KASAN_ST_B]	= { "ST_B", ST(1, KASAN_FORM_OFF(KASAN_ST_B)) },
	[KASAN_ST_H]	= { "ST_H", ST(2, KASAN_FORM_OFF(KASAN_ST_H)) },
	[KASAN_ST_W]	= { "ST_W", ST(4, KASAN_FORM_OFF(KASAN_ST_W)) },
	[KASAN_ST_DW]	= { "ST_DW", ST(8, KASAN_FORM_OFF(KASAN_ST_DW)) },
	[KASAN_ADD_W]	= { "ADD_W",
			    ATOMIC(4, BPF_ADD, KASAN_FORM_OFF(KASAN_ADD_W)) },
	[KASAN_ADD_DW]	= { "ADD_DW",
			    ATOMIC(8, BPF_ADD, KASAN_FORM_OFF(KASAN_ADD_DW)) },
	[KASAN_FETCH_ADD_W] = { "FETCH_ADD_W",
				ATOMIC(4, BPF_ADD | BPF_FETCH,
				       KASAN_FORM_OFF(KASAN_FETCH_ADD_W)) },
	[KASAN_FETCH_ADD_DW] = { "FETCH_ADD_DW",
				 ATOMIC(8, BPF_ADD | BPF_FETCH,
					KASAN_FORM_OFF(KASAN_FETCH_ADD_DW)) },
	[KASAN_XCHG_W]	= { "XCHG_W",
			    ATOMIC(4, BPF_XCHG, KASAN_FORM_OFF(KASAN_XCHG_W)) },
	[KASAN_XCHG_DW]	= { "XCHG_DW",
			    ATOMIC(8, BPF_XCHG, KASAN_FORM_OFF(KASAN_XCHG_DW)) },
	[KASAN_CMPXCHG_W] = { "CMPXCHG_W",
			      ATOMIC(4, BPF_CMPXCHG,
				     KASAN_FORM_OFF(KASAN_CMPXCHG_W)) },
	[KASAN_CMPXCHG_DW] = { "CMPXCHG_DW",
			       ATOMIC(8, BPF_CMPXCHG,
				      KASAN_FORM_OFF(KASAN_CMPXCHG_DW)) },
};

/* kasan_partial's accesses, offsets from the start of the object. */
static const struct {
	struct access a;
	bool bad;
} partial[KASAN_NR_PARTIAL] = {
	[KASAN_P_LDX_B_100]	= { { "LDX_B_100", LDX(1, 100) }, true },
	[KASAN_P_LDX_H_99]	= { { "LDX_H_99", LDX(2, 99) }, true },
	[KASAN_P_LDX_W_97]	= { { "LDX_W_97", LDX(4, 97) }, true },
	[KASAN_P_LDX_DW_96]	= { { "LDX_DW_96", LDX(8, 96) }, true },
	[KASAN_P_LDSX_W_98]	= { { "LDSX_W_98", LDSX(4, 98) }, true },
	[KASAN_P_STX_B_101]	= { { "STX_B_101", STX(1, 101) }, true },
	[KASAN_P_ST_H_102]	= { { "ST_H_102", ST(2, 102) }, true },
	[KASAN_P_STX_W_100]	= { { "STX_W_100", STX(4, 100) }, true },
	[KASAN_P_LDX_B_99]	= { { "LDX_B_99", LDX(1, 99) }, false },
	[KASAN_P_LDX_H_98]	= { { "LDX_H_98", LDX(2, 98) }, false },
	[KASAN_P_LDX_W_96]	= { { "LDX_W_96", LDX(4, 96) }, false },
	[KASAN_P_STX_H_98]	= { { "STX_H_98", STX(2, 98) }, false },
	[KASAN_P_ST_W_96]	= { { "ST_W_96", ST(4, 96) }, false },
};

static const struct access sub_static_access = {
	"sub_static", LDX(8, KASAN_SUB_STATIC_OFF)
};

static const struct access sub_global_access = {
	"sub_global", STX(4, KASAN_SUB_GLOBAL_OFF)
};

static const struct access mixed_access = {
	"kasan_mixed", LDX(8, KASAN_MIXED_OFF)
};

static const struct access tail_access = {
	"kasan_tail_tgt", LDX(2, KASAN_TAIL_OFF)
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

static char msgbuf[256];

static const char *msg(const char *what, const char *check)
{
	snprintf(msgbuf, sizeof(msgbuf), "%s: %s", what, check);
	return msgbuf;
}

/* What one bad access must make KASAN and the JIT print. */
struct expect {
	const char *what;	/* for messages */
	const char *kind;
	const struct access *a;
	unsigned long long addr;
	const char *name;	/* kallsyms name part: (sub)program name */
	const char *tag;	/* the program's tag, NULL if not checked */
	int insn;
};

/* Matches "bpf_prog_<tag>_<name>" at s; returns its length, or 0. */
static size_t match_sym(const char *s, const char *tag, const char *name)
{
	size_t n = strlen("bpf_prog_"), i;

	if (strncmp(s, "bpf_prog_", n))
		return 0;
	for (i = 0; i < 2 * BPF_TAG_SIZE; i++) {
		if (!isxdigit((unsigned char)s[n + i]))
			return 0;
		if (tag && s[n + i] != tag[i])
			return 0;
	}
	n += 2 * BPF_TAG_SIZE;
	if (s[n++] != '_' || strncmp(s + n, name, strlen(name)))
		return 0;
	return n + strlen(name);
}

static void check_report(const struct kasan_report *r, const struct expect *e)
{
	const char *what = e->what, *rest, *colon;
	int idx = -1, used = 0;
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
	if (!ASSERT_TRUE(len, msg(what, "kasan_ebpf: line names the program")) ||
	    !ASSERT_OK(strncmp(r->where, r->ebpf, len),
		       msg(what, "same symbol in BUG and kasan_ebpf: lines")) ||
	    !ASSERT_EQ(sscanf(r->ebpf + len, " insn %d%n", &idx, &used), 1,
		       msg(what, "kasan_ebpf: line has 'insn <idx>'"))) {
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

/*
 * Runs kasan_forms with the pointer from src and access form f: it must
 * report kind, or nothing if kind is NULL.
 */
static void check_form(struct kasan_ebpf *skel, const struct prog_meta *m,
		       enum kasan_src src, int f, const char *label,
		       const char *kind)
{
	int fd = bpf_program__fd(skel->progs.kasan_forms);
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
	if (run_prog(fd, false, &run) &&
	    ASSERT_EQ(run.retval, 0, msg(what, "program got its pointer"))) {
		e.addr = skel->bss->base + KASAN_FORM_OFF(f);
		if (kind)
			check_one_report(&run, &e);
		else
			check_no_report(&run, what);
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
		check_form(skel, &m, src, f, label, kind);
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
 * Loads the program named prog (and kasan_free) under round r; returns the
 * skeleton and the program's fd, or NULL.
 */
static struct kasan_ebpf *load_round(const char *prog, const struct round *r,
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
	    bpf_program__set_autoload(p, true) || !load_skel(skel, r->mode)) {
		kasan_ebpf__destroy(skel);
		return NULL;
	}
	*fd = bpf_program__fd(p);
	ASSERT_EQ(read_fdinfo(*fd, "kasan_mode"), r->mode, "fdinfo kasan_mode");
	return skel;
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
 * kasan_checks counts the instrumented accesses: heap ones, not stack ones,
 * also when constant blinding rewrote the program.
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
		if (rounds[i].mode)
			ASSERT_EQ(read_fdinfo(fd, "kasan_checks"), KASAN_COUNT_HEAP,
				  "fdinfo kasan_checks: heap accesses only");
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
	 * The load and the store through r0, and the load of the key through
	 * r2 in the array lookup the verifier inlined: it inserted that insn,
	 * which so has no stack-only mark and stays checked.
	 */
	ASSERT_EQ(read_fdinfo(prog_fd, "kasan_checks"), 3, "fdinfo kasan_checks");
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
				e.addr = skel->bss->base + e.a->off;
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
			   mode ? "demo mode 1" : "demo mode 0", mode ? UAF : NULL);
		printf("demo: net.core.bpf_jit_kasan=%d: write past the end of a buffer\n",
		       mode);
		check_form(skel, &m, KASAN_SRC_KMALLOC_OOB, KASAN_STX_W,
			   mode ? "demo mode 1" : "demo mode 0",
			   mode ? SLAB_OOB : NULL);
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

/* Bad accesses in a static and in a global subprogram. */
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
	} subs[] = {
		{ KASAN_SUB_STATIC, &sub_static_access },
		{ KASAN_SUB_GLOBAL, &sub_global_access },
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
			/* A subprogram's symbol has its own tag. */
			struct expect e = {
				.what = what, .kind = UAF, .a = subs[i].a,
				.name = subs[i].a->name,
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
				int idx;

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
				if (ASSERT_EQ(sscanf(s, " insn %d", &idx), 1,
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

static bool multi_shot(void)
{
	char cmdline[4096] = {};
	int fd, n;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	return n > 0 && strstr(cmdline, "kasan_multi_shot");
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
	    !ASSERT_TRUE(multi_shot(), "kernel booted with kasan_multi_shot"))
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
	if (test__start_subtest("module_reload"))
		test_reload();

	set_sysctl(HARDEN_SYSCTL, saved_harden);
	set_sysctl(KASAN_SYSCTL, saved_kasan);
	if (own_module)
		ASSERT_OK(unload_testmod(), "unload " TESTMOD);
}
