// SPDX-License-Identifier: GPL-2.0
/*
 * KASAN checks in JIT-compiled BPF programs: a wild pointer in a static
 * subprogram of a program loaded with a BPF token.
 *
 * A program loaded with a token from a user namespace is privileged
 * through the token, but its subprograms are JIT-compiled as functions of
 * their own, and whether each gets a kallsyms entry is decided from that
 * function's own token. If the subprograms do not get the main program's
 * token, they count as loaded without CAP_BPF and are hidden: the
 * exception-table entries of their checks must still be found, or a check
 * whose shadow read faults (the shadow of a wild pointer is itself wild)
 * oopses inside the check instead of letting KASAN report the access.
 *
 * The test (job "wild" only: the access oopses on purpose) loads, from a
 * child process in a user namespace holding a token, an fentry program on
 * bpf_fentry_test1() whose main function calls a static subprogram that
 * gets the non-canonical address 0xdead000000000000 from the faulty kfunc
 * bpf_kasan_wild() of bpf_kasan_testmod.ko and loads 8 bytes from it, and
 * hands it to the parent. The parent attaches it; a second child has
 * BPF_PROG_TEST_RUN call bpf_fentry_test1(), and the oops that follows
 * KASAN's report kills it. The parent checks the kernel log: exactly one
 * "wild-memory-access" report, naming the subprogram's symbol, with its
 * "kasan_ebpf: bpf_prog_<tag>_F insn <idx>" line, both before the general
 * protection fault of the access itself.
 *
 * Why fentry (as in prog_tests/kasan_ebpf_crash.c): the program runs in the
 * caller's task in an RCU read-side critical section, which exit_rcu() ends
 * for the killed task, so the kernel lives on with kernel.panic_on_oops at
 * 0. BPF_PROG_TEST_RUN runs tc programs with bottom halves disabled, where
 * any oops panics ("Fatal exception in interrupt"). Why another child runs
 * it: do_exit() releases a task's namespaces and files before exit_rcu(),
 * and releasing the token child's mount namespace or bpffs mount waits for
 * an RCU grace period, which the killed task's own read-side critical
 * section would block forever.
 *
 * The user namespace, bpffs delegation and fd passing follow
 * prog_tests/token.c (Copyright (c) 2023 Meta Platforms, Inc. and
 * affiliates), reduced to what this test needs.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mount.h>
#include <bpf/btf.h>
#include <test_progs.h>
#include "kasan_ebpf_common.h"

#define WILD_KFUNC	"bpf_kasan_wild"
#define FENTRY_FUNC	"bpf_fentry_test1"
#define WILD_ADDR	0xdead000000000000ULL
#define WILD_KIND	"wild-memory-access"
#define WILD_SIZE	8
#define LABEL		"wild-token"

/* --- BTF --- */

/*
 * Returns an fd of the kernel BTF object called name (a module's) and its
 * id in *id, or -errno.
 */
static int open_kernel_btf(const char *name, __u32 *id)
{
	struct bpf_btf_info info;
	char buf[64];
	__u32 len;
	int fd, err;

	*id = 0;
	for (;;) {
		if (bpf_btf_get_next_id(*id, id))
			return -errno;
		fd = bpf_btf_get_fd_by_id(*id);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* freed meanwhile */
			return -errno;
		}
		memset(&info, 0, sizeof(info));
		memset(buf, 0, sizeof(buf));
		info.name = (__u64)(unsigned long)buf;
		info.name_len = sizeof(buf);
		len = sizeof(info);
		err = bpf_btf_get_info_by_fd(fd, &info, &len);
		if (err) {
			err = -errno;
			close(fd);
			return err;
		}
		if (info.kernel_btf && !strcmp(buf, name))
			return fd;
		close(fd);
	}
}

/*
 * Finds the BTF ids of WILD_KFUNC in the BTF of the module whose BTF object
 * has id mod_id, and of FENTRY_FUNC in vmlinux.
 */
static bool find_btf_ids(__u32 mod_id, int *kfunc_id, int *fentry_id)
{
	struct btf *vmlinux, *mod = NULL;
	bool ok = false;

	vmlinux = btf__load_vmlinux_btf();
	if (!ASSERT_OK_PTR(vmlinux, "load the vmlinux BTF"))
		return false;
	mod = btf__load_from_kernel_by_id_split(mod_id, vmlinux);
	if (!ASSERT_OK_PTR(mod, "load the BTF of " TESTMOD))
		goto out;
	*kfunc_id = btf__find_by_name_kind(mod, WILD_KFUNC, BTF_KIND_FUNC);
	*fentry_id = btf__find_by_name_kind(vmlinux, FENTRY_FUNC, BTF_KIND_FUNC);
	ok = ASSERT_GT(*kfunc_id, 0, "BTF id of " WILD_KFUNC) &&
	     ASSERT_GT(*fentry_id, 0, "BTF id of " FENTRY_FUNC);
out:
	btf__free(mod);
	btf__free(vmlinux);
	return ok;
}

/* --- messages between the parent and the child --- */

enum tok_msg_type {
	TOK_FS_FD = 1,	/* child: its bpffs context, to configure */
	TOK_MNT_FD,	/* parent: the bpffs mount, with delegation */
	TOK_READY,	/* child: the program loaded (its fd attached) */
	TOK_FAIL,	/* child: a step failed */
};

struct tok_msg {
	int type;
	int err;		/* TOK_FAIL: -errno */
	long checks;		/* TOK_READY: fdinfo kasan_checks */
	char step[64];		/* TOK_FAIL: what failed */
	char log[1024];		/* TOK_FAIL: the end of the verifier log */
};

/* Sends m, and fd if it is not negative, as one SOCK_SEQPACKET message. */
static int send_msg(int sock, const struct tok_msg *m, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {};
	struct iovec io = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != sizeof(*m))
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Receives one message into m and its fd, if any, into *fd (else -1).
 * Returns 0, -EPIPE if the other side closed its end, or -errno.
 */
static int recv_msg(int sock, struct tok_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec io = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &io, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	cmsg = CMSG_FIRSTHDR(&mh);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET &&
	    cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return n == sizeof(*m) ? 0 : -EBADMSG;
}

/* --- the child: a user namespace, a token, the program --- */

static int sys_fsopen(const char *fsname, unsigned int flags)
{
	return syscall(__NR_fsopen, fsname, flags);
}

static int sys_fsconfig(int fs_fd, unsigned int cmd, const char *key,
			const void *val, int aux)
{
	return syscall(__NR_fsconfig, fs_fd, cmd, key, val, aux);
}

static int sys_fsmount(int fs_fd, unsigned int flags, unsigned int ms_flags)
{
	return syscall(__NR_fsmount, fs_fd, flags, ms_flags);
}

/* Becomes root (uid and gid 0, mapped to ours) of a new user namespace. */
static int create_and_enter_userns(void)
{
	uid_t uid = getuid();	/* unmapped (overflowuid) once unshared */
	gid_t gid = getgid();
	char map[64];
	int err;

	if (unshare(CLONE_NEWUSER))
		return -errno;
	err = write_str_file("/proc/self/setgroups", "deny");
	if (err && err != -ENOENT)
		return err;
	snprintf(map, sizeof(map), "0 %d 1", uid);
	err = write_str_file("/proc/self/uid_map", map);
	if (err)
		return err;
	snprintf(map, sizeof(map), "0 %d 1", gid);
	err = write_str_file("/proc/self/gid_map", map);
	if (err)
		return err;
	if (setgid(0) || setuid(0))
		return -errno;
	return 0;
}

/*
 * The program: the main function calls a static subprogram, which gets
 * WILD_ADDR from bpf_kasan_wild() (a module kfunc: off 1 is the index of
 * the module's BTF fd in fd_array) and loads 8 bytes from it.
 */
static void wild_insns(struct bpf_insn *insns, int kfunc_id)
{
	const struct bpf_insn prog[] = {
		/* main */
		BPF_CALL_REL(2),
		BPF_MOV64_IMM(BPF_REG_0, 0),
		BPF_EXIT_INSN(),
		/* the static subprogram, insn 3 */
		BPF_LD_IMM64(BPF_REG_1, WILD_ADDR),
		BPF_MOV64_IMM(BPF_REG_2, WILD_SIZE),
		BPF_RAW_INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 1,
			     kfunc_id),
		BPF_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 2),
		/* the wild access */
		BPF_LDX_MEM(BPF_DW, BPF_REG_0, BPF_REG_0, 0),
		BPF_EXIT_INSN(),
		BPF_MOV64_IMM(BPF_REG_0, 1),
		BPF_EXIT_INSN(),
	};

	memcpy(insns, prog, sizeof(prog));
}

#define WILD_INSN_CNT	12	/* LD_IMM64 takes two */

static char verifier_log[65536];

/* Reports the failed step to the parent and exits. */
static void __noreturn
child_fail(int sock, const char *step, int err, const char *log)
{
	struct tok_msg m = { .type = TOK_FAIL, .err = err };
	size_t len;

	snprintf(m.step, sizeof(m.step), "%s", step);
	if (log) {
		len = strlen(log);
		snprintf(m.log, sizeof(m.log), "%s",
			 log + (len >= sizeof(m.log) ? len - sizeof(m.log) + 1 : 0));
	}
	send_msg(sock, &m, -1);
	_exit(1);
}

/*
 * Enters a user and mount namespace, creates a token from a bpffs that the
 * parent configured, loads the program with it and sends it to the parent.
 * Reports to the parent through sock; never returns.
 */
static void __noreturn
child(int sock, int btf_fd, int kfunc_id, int fentry_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	struct bpf_insn insns[WILD_INSN_CNT];
	int fd_array[2] = { -1, btf_fd };
	int fs_fd, mnt_fd, bpffs_fd, token_fd, prog_fd, err;
	struct tok_msg m = {};

	err = create_and_enter_userns();
	if (err)
		child_fail(sock, "create and enter a user namespace", err, NULL);
	/* A mount namespace of our own, to create a bpffs in. */
	if (unshare(CLONE_NEWNS))
		child_fail(sock, "unshare(CLONE_NEWNS)", -errno, NULL);
	if (syscall(__NR_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(sock, "make / private", -errno, NULL);
	fs_fd = sys_fsopen("bpf", 0);
	if (fs_fd < 0)
		child_fail(sock, "fsopen(bpf)", -errno, NULL);
	/* Only the privileged parent may set the delegation options. */
	m.type = TOK_FS_FD;
	err = send_msg(sock, &m, fs_fd);
	if (err)
		child_fail(sock, "send the bpffs context", err, NULL);
	close(fs_fd);
	err = recv_msg(sock, &m, &mnt_fd);
	if (err || m.type != TOK_MNT_FD || mnt_fd < 0)
		child_fail(sock, "receive the bpffs mount", err ?: -EBADMSG,
			   NULL);
	/* The mount fd is an O_PATH one, which bpf_token_create() refuses. */
	bpffs_fd = openat(mnt_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bpffs_fd < 0)
		child_fail(sock, "open the bpffs", -errno, NULL);
	token_fd = bpf_token_create(bpffs_fd, NULL);
	if (token_fd < 0)
		child_fail(sock, "bpf_token_create", -errno, NULL);

	wild_insns(insns, kfunc_id);
	opts.prog_flags = BPF_F_TOKEN_FD;
	opts.token_fd = token_fd;
	opts.fd_array = fd_array;
	opts.log_buf = verifier_log;
	opts.log_size = sizeof(verifier_log);
	opts.log_level = 1;
	opts.expected_attach_type = BPF_TRACE_FENTRY;
	opts.attach_btf_id = fentry_id;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "kasan_wild_tok",
				"GPL", insns, WILD_INSN_CNT, &opts);
	if (prog_fd < 0)
		child_fail(sock, "load the program with the token", -errno,
			   verifier_log);

	memset(&m, 0, sizeof(m));
	m.type = TOK_READY;
	m.checks = read_fdinfo(prog_fd, "kasan_checks");
	err = send_msg(sock, &m, prog_fd);
	if (err)
		child_fail(sock, "send the program", err, NULL);
	_exit(0);
}

/*
 * Runs the attached program in a process of its own, which its oops kills:
 * BPF_PROG_TEST_RUN of an fentry program calls bpf_fentry_test1(). Returns
 * the wait status, or -1.
 */
static int run_in_child(int prog_fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* Only reached if the wild load did not oops. */
		_exit(bpf_prog_test_run_opts(prog_fd, &opts) ? 2 : 3);
	}
	if (!ASSERT_GE(pid, 0, "fork the runner") ||
	    !ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait for the runner"))
		return -1;
	return status;
}

/* --- the parent --- */

static int set_delegate(int fs_fd, const char *key, const char *val)
{
	return sys_fsconfig(fs_fd, FSCONFIG_SET_STRING, key, val, 0) ? -errno : 0;
}

/*
 * Sets the delegation options on the child's bpffs context (only a
 * privileged process may): BPF_PROG_LOAD of tracing programs, any attach
 * type. Returns the detached mount.
 */
static int configure_bpffs(int fs_fd)
{
	char val[32];
	int mnt_fd;

	snprintf(val, sizeof(val), "0x%llx", 1ULL << BPF_PROG_LOAD);
	if (!ASSERT_OK(set_delegate(fs_fd, "delegate_cmds", val), "delegate_cmds"))
		return -1;
	snprintf(val, sizeof(val), "0x%llx", 1ULL << BPF_PROG_TYPE_TRACING);
	if (!ASSERT_OK(set_delegate(fs_fd, "delegate_progs", val), "delegate_progs") ||
	    !ASSERT_OK(set_delegate(fs_fd, "delegate_attachs", "any"), "delegate_attachs") ||
	    !ASSERT_OK(sys_fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) ? -errno : 0,
		       "create the bpffs"))
		return -1;
	mnt_fd = sys_fsmount(fs_fd, 0, 0);
	ASSERT_OK_FD(mnt_fd, "fsmount the bpffs");
	return mnt_fd;
}

/* What the parent expects of the report, from the loaded program. */
struct expect {
	char tag[2 * BPF_TAG_SIZE + 1];	/* the subprogram's */
	int insn;			/* the wild load's xlated index */
};

/*
 * Finds the subprogram's tag and the xlated index of the wild load
 * (the only 8-byte load through r0) in the program fd.
 */
static bool get_expect(int prog_fd, struct expect *e)
{
	__u8 tags[2][BPF_TAG_SIZE] = {};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), cnt, i;
	struct bpf_insn *insns = NULL;
	int n = 0;

	info.nr_prog_tags = 2;
	info.prog_tags = (__u64)(unsigned long)tags;
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(prog_fd, &info, &len),
		       "bpf_prog_get_info_by_fd") ||
	    !ASSERT_EQ(info.nr_prog_tags, 2, "functions: main and subprogram"))
		return false;
	for (i = 0; i < BPF_TAG_SIZE; i++)
		sprintf(e->tag + 2 * i, "%02x", tags[1][i]);
	if (!ASSERT_OK(get_xlated_program(prog_fd, &insns, &cnt),
		       "get_xlated_program"))
		return false;
	e->insn = -1;
	for (i = 0; i < cnt; i++) {
		if (insns[i].code == (BPF_LDX | BPF_MEM | BPF_DW) &&
		    insns[i].src_reg == BPF_REG_0 && insns[i].off == 0) {
			e->insn = i;
			n++;
		}
	}
	free(insns);
	return ASSERT_EQ(n, 1, "the wild load in the xlated program");
}

/*
 * Exactly one KASAN report, a wild-memory-access read of 8 bytes at
 * WILD_ADDR in the subprogram, its kasan_ebpf: line with the wild load's
 * index, both before the general protection fault of the access.
 */
static void check_log(const struct klog *log, const struct expect *e)
{
	struct oops_log o;
	int i, idx = -1, n = 0;
	size_t len;

	parse_oops_log(log, &o);
	if (!ASSERT_GE(o.gpf, 0, "the access oopsed: general protection fault"))
		return;
	if (!ASSERT_EQ(o.nr_rep, 1, "one KASAN report")) {
		/* Before the fix: the check's own shadow read oopsed. */
		for (i = o.oops; i >= 0 && i < log->cnt && i < o.oops + 8; i++)
			printf("%s: kernel: %s\n", LABEL, log->lines[i]);
		return;
	}
	ASSERT_STREQ(o.kind, WILD_KIND, "KASAN bug type");
	if (ASSERT_GE(o.access, 0, "the report has the access line")) {
		ASSERT_STREQ(o.rw, "Read", "access type");
		ASSERT_EQ(o.size, WILD_SIZE, "access size");
		ASSERT_EQ(o.addr, WILD_ADDR, "access address");
	}
	len = match_sym(o.where, e->tag, "F");
	if (!ASSERT_TRUE(len && o.where[len] == '+',
			 "BUG line names the subprogram"))
		printf("%s: BUG line has '%s', expected bpf_prog_%s_F+\n",
		       LABEL, o.where, e->tag);
	ASSERT_LT(o.bug, o.oops, "the report comes before the oops");
	if (!ASSERT_EQ(o.nr_ebpf, 1, "one kasan_ebpf: line"))
		return;
	ASSERT_GT(o.ebpf, o.bug, "the kasan_ebpf: line follows the BUG line");
	ASSERT_LT(o.ebpf, o.oops, "the kasan_ebpf: line comes before the oops");
	len = match_sym(o.ebpf_text, e->tag, "F");
	if (len)
		n = sscanf(o.ebpf_text + len, " insn %d", &idx);
	if (!ASSERT_TRUE(len, "kasan_ebpf: line names the subprogram") ||
	    !ASSERT_EQ(n, 1, "kasan_ebpf: line has 'insn <idx>'")) {
		printf("%s: got 'kasan_ebpf: %s', expected 'kasan_ebpf: bpf_prog_%s_F insn %d'\n",
		       LABEL, o.ebpf_text, e->tag, e->insn);
		return;
	}
	ASSERT_EQ(idx, e->insn, "instruction index");
}

/* Prints what the child reported if it failed. */
static void child_said(const struct tok_msg *m)
{
	if (m->type == TOK_FAIL)
		printf("%s: child: %s failed: %d (%s)\n%s%s", LABEL, m->step,
		       m->err, strerror(-m->err), m->log[0] ? "verifier log:\n" : "",
		       m->log);
}

/*
 * Drives the token child through sock and waits for it; attaches the
 * program it loaded, runs it in another child and checks the kernel log.
 */
static void parent(pid_t pid, int sock)
{
	int fd = -1, mnt_fd = -1, prog_fd = -1, link_fd = -1, kmsg = -1;
	int status, err;
	struct klog log = {};
	struct expect e = {};
	struct tok_msg m = {};

	err = recv_msg(sock, &m, &fd);
	if (!ASSERT_OK(err, "receive the bpffs context") ||
	    !ASSERT_EQ(m.type, TOK_FS_FD, "child sent the bpffs context")) {
		child_said(&m);
		goto out;
	}
	mnt_fd = configure_bpffs(fd);
	if (mnt_fd < 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.type = TOK_MNT_FD;
	if (!ASSERT_OK(send_msg(sock, &m, mnt_fd), "send the bpffs mount"))
		goto out;
	err = recv_msg(sock, &m, &prog_fd);
	if (!ASSERT_OK(err, "receive the program") ||
	    !ASSERT_EQ(m.type, TOK_READY, "child loaded the program with the token"))
		child_said(&m);
out:
	close(sock);
	if (prog_fd < 0)
		kill(pid, SIGKILL);
	if (ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid") && prog_fd >= 0)
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status),
			    "the token child exited");
	/* The runner must not hold the last reference to the bpffs either. */
	if (mnt_fd >= 0)
		close(mnt_fd);
	if (fd >= 0)
		close(fd);
	if (prog_fd < 0 ||
	    !ASSERT_EQ(m.checks, 1, "fdinfo kasan_checks (in the child)") ||
	    !ASSERT_EQ(read_fdinfo(prog_fd, "kasan_mode"), 1, "fdinfo kasan_mode") ||
	    !get_expect(prog_fd, &e))
		goto cleanup;
	link_fd = bpf_link_create(prog_fd, 0, BPF_TRACE_FENTRY, NULL);
	if (!ASSERT_OK_FD(link_fd, "attach the program to " FENTRY_FUNC))
		goto cleanup;

	kmsg = kmsg_open();
	if (!ASSERT_OK_FD(kmsg, "open /dev/kmsg"))
		goto cleanup;
	planted_begin(LABEL, "kasan,oops");
	status = run_in_child(prog_fd);
	if (status != -1 &&
	    !ASSERT_TRUE(WIFSIGNALED(status), "the oops killed the runner"))
		printf("%s: runner exited with %d (2: BPF_PROG_TEST_RUN failed, 3: it returned)\n",
		       LABEL, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	planted_end(LABEL);
	if (ASSERT_OK(kmsg_read(kmsg, &log), "read /dev/kmsg") &&
	    ASSERT_FALSE(log.lost, "kernel log records lost"))
		check_log(&log, &e);
cleanup:
	klog_free(&log);
	if (kmsg >= 0)
		close(kmsg);
	if (link_fd >= 0)
		close(link_fd);
	if (prog_fd >= 0)
		close(prog_fd);
}

void serial_test_kasan_ebpf_wild_token(void)
{
	int saved_kasan, saved_oops, btf_fd, kfunc_id, fentry_id, socks[2];
	__u32 btf_id;
	pid_t pid;

	if (skip_unless_job(__func__, "wild", "its access oopses the kernel"))
		return;
	if (!ASSERT_OK(read_int_file(KASAN_SYSCTL, &saved_kasan),
		       "read " KASAN_SYSCTL) ||
	    !ASSERT_OK(read_int_file(OOPS_SYSCTL, &saved_oops),
		       "read " OOPS_SYSCTL) ||
	    !ensure_testmod())
		return;
	btf_fd = open_kernel_btf(TESTMOD, &btf_id);
	if (!ASSERT_OK_FD(btf_fd, "open the BTF of " TESTMOD))
		return;
	if (!find_btf_ids(btf_id, &kfunc_id, &fentry_id))
		goto out_btf;
	/* An oops must kill the task, not the kernel (CONFIG_PANIC_ON_OOPS). */
	if (!set_sysctl(OOPS_SYSCTL, 0))
		goto out_btf;
	if (!set_sysctl(KASAN_SYSCTL, 1))
		goto out_sysctl;
	if (!ASSERT_OK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks),
		       "socketpair"))
		goto out_sysctl;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(socks[0]);
		child(socks[1], btf_fd, kfunc_id, fentry_id);
	}
	close(socks[1]);
	if (ASSERT_GE(pid, 0, "fork"))
		parent(pid, socks[0]);
	else
		close(socks[0]);
out_sysctl:
	set_sysctl(KASAN_SYSCTL, saved_kasan);
	set_sysctl(OOPS_SYSCTL, saved_oops);
out_btf:
	close(btf_fd);
}
