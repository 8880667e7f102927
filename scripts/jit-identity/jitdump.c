// SPDX-License-Identifier: GPL-2.0
/*
 * jitdump: load every program of the given BPF objects, each alone, and
 * dump what the JIT made of it, for `make jit-identity`
 * (scripts/jit-identity.sh), which compares the dumps of two kernels.
 *
 * For each object: open it once to list its programs, then for each
 * program open it again, set autoload on that program only (on, even for
 * "?"-sections), load, and read the program's JIT image, the lengths and
 * addresses of its functions (main program and subprograms, in the JIT's
 * order) and its xlated length with bpf_prog_get_info_by_fd. A load that
 * fails is recorded with its error, not fatal. Each object is handled in a
 * child process, so that a crash or a hang (alarm) costs one object only.
 *
 * Output on stdout, one line per record, fields separated by one space:
 *   O <object> <nprogs>                          object opened
 *   O <object> -1 <errno>                        object did not open
 *   P <object> <prog> <type> ok <ms> <xlated_len> <nfuncs> <len,...>
 *     <ksym,...> <image hex>                     program loaded
 *   K <object> <prog> <mode> <checks> <merged>   after a P ... ok record, on
 *     a kernel with the series: the program's kasan_mode, kasan_checks and
 *     kasan_merged from its fdinfo (subprograms included)
 *   P <object> <prog> <type> fail <ms> <errno>   program did not load
 *   P <object> <prog> -1 skip 0 0                on the skip list (-s)
 *   X <object> <what> <status>                   the child crashed/timed out
 * Progress goes to stderr.
 *
 * Usage: jitdump [-t seconds_per_object] [-s skip_list] object.bpf.o...
 * The skip list names "object/program"s not to load, one a line ('#'
 * starts a comment).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int obj_timeout = 1800;
static char **skip;
static int nskip;

static void read_skip(const char *path)
{
	char line[512], *p;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		if ((p = strchr(line, '#')))
			*p = 0;
		p = strtok(line, " \t\n");
		if (!p)
			continue;
		skip = realloc(skip, (nskip + 1) * sizeof(*skip));
		skip[nskip++] = strdup(p);
	}
	fclose(f);
}

static bool skipped(const char *obj, const char *prog)
{
	size_t n = strlen(obj);
	int i;

	for (i = 0; i < nskip; i++)
		if (!strncmp(skip[i], obj, n) && skip[i][n] == '/' &&
		    !strcmp(skip[i] + n + 1, prog))
			return true;
	return false;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

struct kasan_counters {
	bool present;	/* the kernel prints them (a kernel with the series) */
	unsigned long long mode, checks, merged;
};

/*
 * The KASAN counters of a loaded program, from /proc/self/fdinfo/<fd>:
 * present if the kernel prints them, absent if it prints none of them, an
 * error if it prints some only. Read before the program's P record, so
 * that a failure here makes its only record a fail one.
 */
static int read_kasan(int fd, struct kasan_counters *k)
{
	unsigned long long v;
	char path[64], line[256];
	int seen = 0;
	FILE *f;

	memset(k, 0, sizeof(*k));

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "kasan_mode: %llu", &v) == 1) {
			k->mode = v;
			seen |= 1;
		} else if (sscanf(line, "kasan_checks: %llu", &v) == 1) {
			k->checks = v;
			seen |= 2;
		} else if (sscanf(line, "kasan_merged: %llu", &v) == 1) {
			k->merged = v;
			seen |= 4;
		}
	}
	fclose(f);
	if (seen && seen != 7)
		return -EPROTO;
	k->present = seen;
	return 0;
}

/* The JIT image and function table of a loaded program, as one record. */
static int dump_prog(const char *obj, const char *name, int type, long ms,
		     int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nlens, nksyms, jlen, i;
	__u32 *lens = NULL;
	__u64 *ksyms = NULL;
	unsigned char *img = NULL;
	int err;

	err = bpf_prog_get_info_by_fd(fd, &info, &len);
	if (err)
		return err;
	jlen = info.jited_prog_len;
	nlens = info.nr_jited_func_lens;
	nksyms = info.nr_jited_ksyms;
	img = calloc(1, jlen + 1);
	lens = calloc(nlens + 1, sizeof(*lens));
	ksyms = calloc(nksyms + 1, sizeof(*ksyms));
	if (!img || !lens || !ksyms)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = jlen;
	info.jited_prog_insns = (__u64)(unsigned long)img;
	info.nr_jited_func_lens = nlens;
	info.jited_func_lens = (__u64)(unsigned long)lens;
	info.nr_jited_ksyms = nksyms;
	info.jited_ksyms = (__u64)(unsigned long)ksyms;
	len = sizeof(info);
	err = bpf_prog_get_info_by_fd(fd, &info, &len);
	if (err)
		goto out;
	if (info.jited_prog_len != jlen || info.nr_jited_func_lens != nlens ||
	    info.nr_jited_ksyms != nksyms) {
		err = -EAGAIN;
		goto out;
	}
	printf("P %s %s %d ok %ld %u %u ", obj, name, type, ms,
	       info.xlated_prog_len, nlens);
	for (i = 0; i < nlens; i++)
		printf("%s%u", i ? "," : "", lens[i]);
	if (!nlens)
		printf("-");
	printf(" ");
	for (i = 0; i < nksyms; i++)
		printf("%s%llx", i ? "," : "", (unsigned long long)ksyms[i]);
	if (!nksyms)
		printf("-");
	printf(" ");
	for (i = 0; i < jlen; i++)
		printf("%02x", img[i]);
	if (!jlen)
		printf("-");
	printf("\n");
out:
	free(img);
	free(lens);
	free(ksyms);
	return err;
}

static void do_object(const char *path)
{
	const char *obj = base(path);
	struct bpf_object *o;
	struct bpf_program *p;
	char **names = NULL;
	int n = 0, i;

	o = bpf_object__open_file(path, NULL);
	if (!o) {
		printf("O %s -1 %d\n", obj, errno);
		return;
	}
	bpf_object__for_each_program(p, o) {
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(bpf_program__name(p));
	}
	bpf_object__close(o);
	printf("O %s %d\n", obj, n);
	fflush(stdout);

	for (i = 0; i < n; i++) {
		struct bpf_program *target = NULL;
		struct kasan_counters k;
		long t0, ms;
		int err, type;

		if (skipped(obj, names[i])) {
			printf("P %s %s -1 skip 0 0\n", obj, names[i]);
			continue;
		}
		o = bpf_object__open_file(path, NULL);
		if (!o) {
			printf("P %s %s -1 fail 0 %d\n", obj, names[i], errno);
			continue;
		}
		bpf_object__for_each_program(p, o) {
			bool me = !strcmp(bpf_program__name(p), names[i]);

			bpf_program__set_autoload(p, me);
			if (me)
				target = p;
		}
		type = target ? (int)bpf_program__type(target) : -1;
		t0 = now_ms();
		err = target ? bpf_object__load(o) : -ENOENT;
		ms = now_ms() - t0;
		if (!err)
			err = read_kasan(bpf_program__fd(target), &k);
		if (!err)
			err = dump_prog(obj, names[i], type, ms,
					bpf_program__fd(target));
		if (!err && k.present)
			printf("K %s %s %llu %llu %llu\n", obj, names[i], k.mode,
			       k.checks, k.merged);
		if (err)
			printf("P %s %s %d fail %ld %d\n", obj, names[i], type,
			       ms, err);
		fflush(stdout);
		bpf_object__close(o);
		fprintf(stderr, "jitdump: %s/%s: %s (%ld ms)\n", obj, names[i],
			err ? "fail" : "ok", ms);
	}
}

int main(int argc, char **argv)
{
	int opt, i;

	while ((opt = getopt(argc, argv, "t:s:")) != -1) {
		switch (opt) {
		case 't':
			obj_timeout = atoi(optarg);
			break;
		case 's':
			read_skip(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-t secs] [-s skip_list] obj.bpf.o...\n",
				argv[0]);
			return 2;
		}
	}
	libbpf_set_print(quiet_print);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	for (i = optind; i < argc; i++) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			alarm(obj_timeout);
			do_object(argv[i]);
			fflush(stdout);
			_exit(0);
		}
		if (waitpid(pid, &status, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		if (WIFSIGNALED(status))
			printf("X %s signal %d\n", base(argv[i]),
			       WTERMSIG(status));
		else if (WEXITSTATUS(status))
			printf("X %s exit %d\n", base(argv[i]),
			       WEXITSTATUS(status));
		fprintf(stderr, "jitdump: [%d/%d] %s done\n", i - optind + 1,
			argc - optind, base(argv[i]));
	}
	fflush(stdout);
	return 0;
}
