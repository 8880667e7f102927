/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the KASAN-for-JIT-compiled-BPF tests (prog_tests/kasan_ebpf.c,
 * kasan_ebpf_crash.c and kasan_ebpf_token.c) share: files and sysctls, the
 * kernel command line, bpf_kasan_testmod.ko, the kernel log read through
 * /dev/kmsg, program metadata and the kallsyms names of programs.
 */
#ifndef __KASAN_EBPF_COMMON_H
#define __KASAN_EBPF_COMMON_H

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <test_progs.h>

#define KASAN_SYSCTL	"/proc/sys/net/core/bpf_jit_kasan"
#define OOPS_SYSCTL	"/proc/sys/kernel/panic_on_oops"
#define TESTMOD		"bpf_kasan_testmod"
#define TESTMOD_KO	"bpf_kasan_testmod.ko"

/* --- files, sysctls and the kernel command line --- */

/**
 * read_int_file() - read a decimal integer from a file
 * @path: the file, e.g. a sysctl
 * @val: where to store the value
 *
 * Return: 0, or -errno of the failed open() or read(), or -EINVAL if the
 * file does not start with a number.
 */
static inline int read_int_file(const char *path, int *val)
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

/**
 * write_str_file() - write a string to a file in one write()
 * @path: the file, e.g. a sysctl or /dev/kmsg
 * @s: the string
 *
 * Return: 0, or -errno of the failed open() or write(), or -EIO if the
 * write was short.
 */
static inline int write_str_file(const char *path, const char *s)
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

/**
 * set_sysctl() - write an integer to a sysctl, as a test assertion
 * @path: the sysctl's file
 * @val: the value
 *
 * Return: whether the write succeeded.
 */
static inline bool set_sysctl(const char *path, int val)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", val);
	return ASSERT_OK(write_str_file(path, buf), path);
}

/**
 * cmdline_has() - whether the kernel command line has a word
 * @param: the word, e.g. "kasan_multi_shot" or "kasan_ebpf.job=wild"
 */
static inline bool cmdline_has(const char *param)
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

/**
 * skip_unless_job() - skip a test outside the guest job it was written for
 * @test: the test's name, for the message
 * @job: the job, as kasan_ebpf.job=<job> on the kernel command line
 * @why: what the test does to the kernel that keeps it out of other runs
 *
 * Return: true if the test must not run (it was marked skipped).
 */
static inline bool skip_unless_job(const char *test, const char *job,
				   const char *why)
{
	char param[64];

	snprintf(param, sizeof(param), "kasan_ebpf.job=%s", job);
	if (cmdline_has(param))
		return false;
	printf("%s:SKIP: only in the guest job '%s': %s\n", test, job, why);
	test__skip();
	return true;
}

/**
 * read_fdinfo() - read a number from the fdinfo of a file descriptor
 * @fd: the file descriptor, e.g. of a program
 * @key: the key of the line "<key>:\t<value>"
 *
 * Return: the value, or -1 if there is no such line.
 */
static inline long read_fdinfo(int fd, const char *key)
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

/**
 * load_testmod() - load bpf_kasan_testmod.ko from the current directory
 *
 * Return: 0, or -errno of the failed open() or finit_module() (-EEXIST if
 * the module is loaded already).
 */
static inline int load_testmod(void)
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

/**
 * ensure_testmod() - load bpf_kasan_testmod.ko if it is not loaded yet
 *
 * For the tests that never unload it: a program killed by an oops keeps
 * its reference on the module.
 *
 * Return: whether the module is loaded.
 */
/*
 * Programs that call the module's kfuncs hold a reference on it until they
 * are freed, after an RCU (tasks trace, for sleepable programs) grace period.
 */
static inline int unload_testmod(void)
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

static inline bool ensure_testmod(void)
{
	int err = load_testmod();

	return err == -EEXIST || ASSERT_OK(err, "load " TESTMOD_KO);
}

/* --- the kernel log --- */

/**
 * struct klog - lines of the kernel log
 * @lines: the text of each record
 * @cnt: the number of lines
 * @lost: records were overwritten before they were read
 */
struct klog {
	char **lines;
	int cnt;
	bool lost;
};

static inline void klog_free(struct klog *log)
{
	int i;

	for (i = 0; i < log->cnt; i++)
		free(log->lines[i]);
	free(log->lines);
	memset(log, 0, sizeof(*log));
}

/**
 * kmsg_open() - open a cursor at the end of the kernel log
 *
 * The log is never cleared; kmsg_read() reads what comes after the cursor.
 *
 * Return: the file descriptor of /dev/kmsg, or -errno.
 */
static inline int kmsg_open(void)
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

/**
 * kmsg_read() - read the kernel log from a cursor
 * @fd: the cursor, from kmsg_open()
 * @log: where to append the text of every record logged since the
 *	 cursor, one line each
 *
 * Return: 0 once no record is left, or -errno.
 */
static inline int kmsg_read(int fd, struct klog *log)
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

/**
 * kmsg_write() - write one line to the kernel log at KERN_ERR
 * @fmt: printf format of the line, with its newline
 *
 * KERN_ERR, as KASAN's reports are logged, so that the console shows the
 * line whenever it shows them. Each write opens /dev/kmsg anew: its rate
 * limit (printk.devkmsg=ratelimit) is per open file.
 *
 * Return: 0, or -errno as write_str_file().
 */
static inline int kmsg_write(const char *fmt, ...)
{
	char text[256], line[260];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "<3>%s", text);
	return write_str_file("/dev/kmsg", line);
}

/**
 * planted_begin() - tell scripts/check-console.py that splats are meant
 * @label: names the case
 * @kinds: what is meant, a comma list of "kasan", "oops" and "panic"
 */
static inline void planted_begin(const char *label, const char *kinds)
{
	ASSERT_OK(kmsg_write("kasan_ebpf-planted: begin %s %s\n", label, kinds),
		  "write the planted begin line");
}

/**
 * planted_end() - end what planted_begin() began
 * @label: the case's label
 */
static inline void planted_end(const char *label)
{
	ASSERT_OK(kmsg_write("kasan_ebpf-planted: end %s\n", label),
		  "write the planted end line");
}

/**
 * parse_bug_line() - parse the first line of a KASAN report
 * @s: the text after "BUG: KASAN: "
 * @kind: where to store the bug type, e.g. "slab-use-after-free" (64 bytes)
 * @where: where to store the function, e.g. "bpf_prog_<tag>_<name>+0x4a/0x90"
 *	   (256 bytes); empty if the line has none
 */
static inline void parse_bug_line(const char *s, char *kind, char *where)
{
	if (sscanf(s, "%63s in %255s", kind, where) != 2)
		where[0] = '\0';
}

/**
 * parse_access_line() - parse the access line of a KASAN report
 * @line: a line of the kernel log, e.g.
 *	  "Read of size 8 at addr ffff888... by task test_progs/123"
 * @rw: where to store "Read" or "Write" (8 bytes)
 * @size: where to store the size
 * @addr: where to store the address
 *
 * Return: whether @line is an access line.
 */
static inline bool parse_access_line(const char *line, char *rw, size_t *size,
				     unsigned long long *addr)
{
	return strstr(line, " of size ") && strstr(line, " at addr ") &&
	       sscanf(line, "%7s of size %zu at addr %llx", rw, size, addr) == 3;
}

/* Lines that start an oops (x86 page fault and #GP, and die()'s header). */
static inline bool is_oops_line(const char *line)
{
	return strstr(line, "BUG: kernel NULL pointer dereference") ||
	       strstr(line, "BUG: unable to handle page fault") ||
	       strstr(line, "general protection fault") ||
	       strstr(line, "Oops: ");
}

/**
 * struct oops_log - a KASAN report and the oops that followed it
 * @nr_rep: the number of "BUG: KASAN:" lines
 * @nr_ebpf: the number of "kasan_ebpf:" lines
 * @bug: the index of the first "BUG: KASAN:" line, or -1
 * @ebpf: the index of the first "kasan_ebpf:" line, or -1
 * @access: the index of the first report's access line, or -1
 * @oops: the index of the first line that starts an oops, or -1
 * @gpf: the index of the first general protection fault line, or -1
 * @kind: the first report's bug type
 * @where: the first report's function
 * @rw: the first report's access type, "Read" or "Write"
 * @size: the first report's access size
 * @addr: the first report's access address
 * @ebpf_text: the text after the first "kasan_ebpf: ", or NULL
 */
struct oops_log {
	int nr_rep, nr_ebpf;
	int bug, ebpf, access, oops, gpf;
	char kind[64], where[256], rw[8];
	size_t size;
	unsigned long long addr;
	const char *ebpf_text;
};

/**
 * parse_oops_log() - find the first KASAN report and oops in a log
 * @log: the kernel log; @o points into it
 * @o: where to store what was found
 */
static inline void parse_oops_log(const struct klog *log, struct oops_log *o)
{
	const char *s;
	int i;

	memset(o, 0, sizeof(*o));
	o->bug = -1;
	o->ebpf = -1;
	o->access = -1;
	o->oops = -1;
	o->gpf = -1;
	for (i = 0; i < log->cnt; i++) {
		const char *line = log->lines[i];

		s = strstr(line, "BUG: KASAN: ");
		if (s) {
			if (!o->nr_rep++) {
				o->bug = i;
				parse_bug_line(s + strlen("BUG: KASAN: "),
					       o->kind, o->where);
			}
			continue;
		}
		s = strstr(line, "kasan_ebpf: ");
		if (s) {
			if (!o->nr_ebpf++) {
				o->ebpf = i;
				o->ebpf_text = s + strlen("kasan_ebpf: ");
			}
			continue;
		}
		if (o->bug >= 0 && o->access < 0 &&
		    parse_access_line(line, o->rw, &o->size, &o->addr))
			o->access = i;
		if (o->oops < 0 && is_oops_line(line))
			o->oops = i;
		if (o->gpf < 0 && strstr(line, "general protection fault"))
			o->gpf = i;
	}
}

/* --- programs --- */

/**
 * struct prog_meta - what the tests need to know of a loaded program
 * @insns: its xlated instructions
 * @cnt: their number
 * @tag: its tag, in hex
 */
struct prog_meta {
	struct bpf_insn *insns;
	__u32 cnt;
	char tag[2 * BPF_TAG_SIZE + 1];
};

/**
 * get_prog_meta() - get the metadata of a program, as test assertions
 * @prog_fd: the program
 * @m: where to store it; put_prog_meta() frees it
 *
 * Return: whether it succeeded.
 */
static inline bool get_prog_meta(int prog_fd, struct prog_meta *m)
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

static inline void put_prog_meta(struct prog_meta *m)
{
	free(m->insns);
	m->insns = NULL;
}

/**
 * match_sym() - match the kallsyms name of a BPF program
 * @s: the text to match at its start
 * @tag: the program's tag in hex, or NULL for any tag
 * @name: the (sub)program's name
 *
 * Return: the length of "bpf_prog_<tag>_<name>" at @s, or 0 if it is not
 * there.
 */
static inline size_t match_sym(const char *s, const char *tag, const char *name)
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

/**
 * msg() - the message of a test assertion: "<what>: <check>"
 * @what: the case
 * @check: what the assertion checks
 *
 * Return: the message, in a buffer that the next call overwrites.
 */
static inline const char *msg(const char *what, const char *check)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s: %s", what, check);
	return buf;
}

#endif /* __KASAN_EBPF_COMMON_H */
