// SPDX-License-Identifier: GPL-2.0
/*
 * kasan_ebpf_bench: what the KASAN checks of the x86-64 BPF JIT cost, in
 * one boot, modes 0 (none), 1 (inline fast path) and 2 (outline: a call
 * into KASAN per access) side by side.
 *
 * Every program is loaded three times, once per value of the sysctl
 * net.core.bpf_jit_kasan (the mode is read at load time and kept), and
 * for each load we record the JIT image size (bpf_prog_get_info_by_fd),
 * the number of instrumented accesses (kasan_checks in fdinfo) and the
 * kernel-measured time per run (BPF_PROG_TEST_RUN with a repeat count;
 * opts.duration is the average in ns), as the median of several rounds in
 * which the three variants alternate (each variant's repeat count is
 * calibrated so that one call takes about target_ms). A large
 * straight-line program of raw instructions measures the load time
 * (bpf_prog_load wall time, median of several loads per mode, modes
 * alternating); a separate load with BPF_LOG_STATS gives its verifier time.
 *
 * Output: one line per program and mode, "KASAN_EBPF_BENCH {json}", plus
 * one "KASAN_EBPF_BENCH {"type":"meta",...}" line, then a human table.
 * The sysctl is restored on exit.
 *
 * Usage: kasan_ebpf_bench [-r rounds] [-l load_rounds] [-t target_ms]
 *                         [-n large_pairs] [-f name_filter] [-v]
 * Without arguments, those of BENCH_DEFAULT_ARGS (a string set at build
 * time by scripts/bench.sh from BENCH_ARGS: the guest job passes none).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loops.skel.h"
#include "mixed.skel.h"

#define PREFIX "KASAN_EBPF_BENCH"
#define SYSCTL "/proc/sys/net/core/bpf_jit_kasan"
#define NMODES 3
#define MAX_PROGS 32
#define MAX_ROUNDS 64
#define BUF_SIZE 4096
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *mode_name[NMODES] = { "none", "inline", "outline" };

static int rounds = 9;		/* test_run rounds per program and mode */
static int load_rounds = 7;	/* loads of the large program per mode */
static int target_ms = 100;	/* guest time of one test_run call */
static int large_pairs = 16384;	/* load/store pairs in the large program */
static const char *filter;	/* only programs whose name contains this */

static int orig_sysctl = -1;

struct variant {
	int fd;
	__u32 jited_len;
	__u32 xlated_insns;
	long kasan_mode;
	long kasan_checks;
	int repeat;		/* test_run repeat count, calibrated per variant */
	__u64 verify_ns[MAX_ROUNDS];	/* verifier time (BPF_LOG_STATS), large */
	int nverify;
	__u64 ns[MAX_ROUNDS];
	__u64 load_ns[MAX_ROUNDS];
	int nload;
};

struct prog {
	char name[64];
	const char *kind;	/* "loop", "atomic", "alu", "mixed", "large" */
	struct variant v[NMODES];
};

static struct prog progs[MAX_PROGS];
static int nprogs;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kasan_ebpf_bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int read_sysctl(void)
{
	FILE *f = fopen(SYSCTL, "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void write_sysctl(int v)
{
	char s[8];
	int fd = open(SYSCTL, O_WRONLY);
	int n = snprintf(s, sizeof(s), "%d\n", v);

	if (fd < 0 || write(fd, s, n) != n)
		die("cannot write %d to %s: %s", v, SYSCTL, strerror(errno));
	close(fd);
	if (read_sysctl() != v)
		die("%s does not read back %d", SYSCTL, v);
}

static void restore_sysctl(void)
{
	if (orig_sysctl >= 0) {
		int fd = open(SYSCTL, O_WRONLY);
		char s[8];
		int n = snprintf(s, sizeof(s), "%d\n", orig_sysctl);

		if (fd >= 0) {
			if (write(fd, s, n) != n)
				perror("restore " SYSCTL);
			close(fd);
		}
	}
}

static void on_signal(int sig)
{
	restore_sysctl();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A "key:\t<n>" line of /proc/self/fdinfo/<fd>, or -1. */
static long fdinfo_field(int fd, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void record_variant(struct prog *p, int mode, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct variant *v = &p->v[mode];

	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		die("bpf_prog_get_info_by_fd(%s): %s", p->name, strerror(errno));
	v->fd = fd;
	v->jited_len = info.jited_prog_len;
	v->xlated_insns = info.xlated_prog_len / sizeof(struct bpf_insn);
	v->kasan_mode = fdinfo_field(fd, "kasan_mode");
	v->kasan_checks = fdinfo_field(fd, "kasan_checks");
	if (v->kasan_mode != mode)
		die("%s loaded with sysctl %d reports kasan_mode %ld", p->name,
		    mode, v->kasan_mode);
}

static struct prog *find_or_add(const char *name, const char *kind)
{
	int i;

	for (i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].name, name))
			return &progs[i];
	if (nprogs == MAX_PROGS)
		die("too many programs");
	snprintf(progs[nprogs].name, sizeof(progs[nprogs].name), "%s", name);
	progs[nprogs].kind = kind;
	for (i = 0; i < NMODES; i++)
		progs[nprogs].v[i].fd = -1;
	return &progs[nprogs++];
}

static const char *kind_of(const char *name)
{
	if (!strncmp(name, "ld", 2) || !strncmp(name, "st", 2))
		return "loop";
	if (!strncmp(name, "xadd", 4))
		return "atomic";
	if (!strcmp(name, "alu_only"))
		return "alu";
	return "mixed";
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Load one embedded object (from a bpftool skeleton) in the current mode. */
static struct bpf_object *load_object(const char *oname, const void *elf,
				      size_t sz, int mode)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .object_name = oname);
	struct bpf_object *obj;
	struct bpf_program *bp;
	int err;

	obj = bpf_object__open_mem(elf, sz, &oopts);
	if (!obj)
		die("open %s: %s", oname, strerror(errno));
	bpf_object__for_each_program(bp, obj) {
		if (filter && !strstr(bpf_program__name(bp), filter))
			bpf_program__set_autoload(bp, false);
	}
	err = bpf_object__load(obj);
	if (err)
		die("load %s (mode %d): %s", oname, mode, strerror(-err));
	bpf_object__for_each_program(bp, obj) {
		const char *name = bpf_program__name(bp);

		if (!bpf_program__autoload(bp))
			continue;
		record_variant(find_or_add(name, kind_of(name)), mode,
			       bpf_program__fd(bp));
	}
	return obj;
}

/* The large straight-line program, as raw instructions. */
#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
			    .off = (o), .imm = (i) })

static struct bpf_insn *large_insns;
static int large_cnt;
static int large_map_fd = -1;

static void build_large(void)
{
	static const int sizes[4] = { BPF_B, BPF_H, BPF_W, BPF_DW };
	int n = 0, k;

	large_map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_large", 4,
				      BUF_SIZE, 1, NULL);
	if (large_map_fd < 0)
		die("bpf_map_create: %s", strerror(errno));
	large_insns = calloc(2 * large_pairs + 32, sizeof(*large_insns));
	if (!large_insns)
		die("out of memory");
	/* *(u32 *)(r10 - 4) = 0; r0 = bpf_map_lookup_elem(map, r10 - 4) */
	large_insns[n++] = INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);
	large_insns[n++] = INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1,
				BPF_PSEUDO_MAP_FD, 0, large_map_fd);
	large_insns[n++] = INSN(0, 0, 0, 0, 0);
	large_insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2,
				BPF_REG_10, 0, 0);
	large_insns[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	large_insns[n++] = INSN(BPF_JMP | BPF_CALL, 0, 0, 0,
				BPF_FUNC_map_lookup_elem);
	/* if r0 != 0 goto body; r0 = 0; exit */
	large_insns[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 2, 0);
	large_insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	large_insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* r6 = value, r7 = value + 2048 */
	large_insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6,
				BPF_REG_0, 0, 0);
	large_insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7,
				BPF_REG_0, 0, 0);
	large_insns[n++] = INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_7, 0, 0,
				2048);
	/*
	 * Pairs: a load of size 1/2/4/8 from r6 + off, then a store of the
	 * same size to r7 + off (every fourth one an ST of an immediate).
	 * The offsets are below 128, like struct fields and packet headers:
	 * most real accesses have an 8-bit displacement, and so do the
	 * JIT's lea and mov for them.
	 */
	for (k = 0; k < large_pairs; k++) {
		int sz = sizes[k & 3], off = (k * 8) % 128;
		int reg = BPF_REG_1 + (k % 5);

		large_insns[n++] = INSN(BPF_LDX | BPF_MEM | sz, reg, BPF_REG_6,
					off, 0);
		if (k % 4 == 3)
			large_insns[n++] = INSN(BPF_ST | BPF_MEM | sz, BPF_REG_7,
						0, off, k);
		else
			large_insns[n++] = INSN(BPF_STX | BPF_MEM | sz, BPF_REG_7,
						reg, off, 0);
	}
	large_insns[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	large_insns[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	large_cnt = n;
}

/* Verifier time of the large program, from a load with BPF_LOG_STATS. */
static __u64 verify_time_large(void)
{
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 4 /* BPF_LOG_STATS */);
	unsigned long long us = 0;
	const char *t;
	int fd;

	log[0] = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "large", "GPL", large_insns,
			   large_cnt, &opts);
	if (fd >= 0)
		close(fd);
	t = strstr(log, "verification time ");
	if (!t || sscanf(t, "verification time %llu usec", &us) != 1)
		return 0;
	return us * 1000;
}

static int load_large(__u64 *ns)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	__u64 t0;
	int fd;

	t0 = now_ns();
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "large", "GPL", large_insns,
			   large_cnt, &opts);
	*ns = now_ns() - t0;
	if (fd < 0) {
		static char log[1 << 16];

		opts.log_buf = log;
		opts.log_size = sizeof(log);
		opts.log_level = 1;
		bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "large", "GPL",
			      large_insns, large_cnt, &opts);
		fprintf(stderr, "%.4000s\n", log);
		die("loading the large program (%d insns): %s", large_cnt,
		    strerror(errno));
	}
	return fd;
}

/* Ethernet + IPv4 + UDP (dport 53) + payload: 64 bytes. */
static unsigned char pkt[64] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,	/* eth */
	0x45, 0x00, 0x00, 50, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0,	/* ip */
	10, 0, 0, 1, 10, 0, 0, 2,
	0x30, 0x39, 0x00, 53, 0x00, 30, 0, 0,				/* udp */
};

static int verbose;

static __u64 test_run(int fd, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);
	__u64 t0 = now_ns();

	if (bpf_prog_test_run_opts(fd, &opts))
		die("BPF_PROG_TEST_RUN (fd %d, repeat %d): %s", fd, repeat,
		    strerror(errno));
	if (verbose)
		fprintf(stderr, "  test_run fd %d repeat %d: %u ns/run, wall %.3f s\n",
			fd, repeat, opts.duration, (now_ns() - t0) / 1e9);
	return opts.duration;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static double median(const __u64 *v, int n)
{
	__u64 s[MAX_ROUNDS];

	if (n <= 0)
		return -1;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_u64);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

/*
 * Repeat count so that one test_run call of this variant takes about
 * target_ms: the kernel reports the average per run, so the variants of a
 * program need not share it, and the fast ones get as many runs (and as
 * little timer noise) as the slow ones. The estimate comes from calls of
 * growing length timed by the wall clock, since the guest's clock may be
 * coarse: under TCG on a loaded host the TSC can fail calibration and the
 * kernel falls back to (refined-)jiffies, 1 ms at HZ=1000, and a short
 * call then reads as 0 ns.
 */
#define MAX_REPEAT 20000000

static void calibrate(struct variant *v)
{
	__u64 target = (__u64)target_ms * 1000000ull, wall, r;
	long long rep = 16;

	test_run(v->fd, 16);		/* warm up (TCG translates the code) */
	for (;;) {
		__u64 t0 = now_ns();

		test_run(v->fd, rep);
		wall = now_ns() - t0;
		if (wall >= target / 8 || rep >= MAX_REPEAT)
			break;
		rep *= wall < target / 64 ? 8 : 4;
		if (rep > MAX_REPEAT)
			rep = MAX_REPEAT;
	}
	r = wall ? rep * target / wall : MAX_REPEAT;
	v->repeat = r < 16 ? 16 : r > MAX_REPEAT ? MAX_REPEAT : (int)r;
}

/* The guest's clocksource, for the record: times are only as fine as it. */
static void read_clocksource(char *buf, size_t len)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource", "r");

	snprintf(buf, len, "unknown");
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/*
 * Kernel symbols that the JIT images call or read, for the native harness
 * (host/src/bin/native_bench.rs), which maps each to a host equivalent and
 * refuses an image that refers to any other kernel address.
 */
static const char *const image_syms[] = {
	"bpf_jit_kasan_thunk",
	"__asan_load1", "__asan_load2", "__asan_load4", "__asan_load8",
	"__asan_store1", "__asan_store2", "__asan_store4", "__asan_store8",
	"kasan_bpf_probe_load1", "kasan_bpf_probe_load2",
	"kasan_bpf_probe_load4", "kasan_bpf_probe_load8",
	"__x86_return_thunk",
	/* The mixed program's hash map: its inlined lookup and its update. */
	"__htab_map_lookup_elem", "htab_map_update_elem",
};

static void print_syms(void)
{
	unsigned long long addr[ARRAY_SIZE(image_syms)] = {};
	char line[512], name[256], type;
	unsigned long long a;
	FILE *f = fopen("/proc/kallsyms", "r");
	size_t i;

	if (!f)
		die("/proc/kallsyms: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		for (i = 0; i < ARRAY_SIZE(image_syms); i++)
			if (!addr[i] && !strcmp(name, image_syms[i]))
				addr[i] = a;
	}
	fclose(f);
	printf("%s {\"type\":\"syms\",\"syms\":{", PREFIX);
	for (i = 0; i < ARRAY_SIZE(image_syms); i++)
		printf("%s\"%s\":\"0x%llx\"", i ? "," : "", image_syms[i],
		       addr[i]);
	printf("}}\n");
}

/*
 * Byte offset of member @name in the struct or union of BTF type @id,
 * looking into anonymous members (sk_buff's unions and struct_group()s);
 * -1 if it has none.
 */
static long member_off(const struct btf *btf, __u32 id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	__u32 i;
	long off;

	if (!t || !btf_is_composite(t))
		return -1;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);

		if (n && *n) {
			if (!strcmp(n, name))
				return btf_member_bit_offset(t, i) / 8;
			continue;
		}
		off = member_off(btf, m->type, name);
		if (off >= 0)
			return btf_member_bit_offset(t, i) / 8 + off;
	}
	return -1;
}

static long struct_member_off(const struct btf *btf, const char *type,
			      const char *name)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	long off = id > 0 ? member_off(btf, id, name) : -1;

	if (off < 0)
		die("kernel BTF: no struct %s member %s", type, name);
	return off;
}

/* Characters of the base64 encoding of @n bytes. */
#define B64_LEN(n)	(4 * (((n) + 2) / 3))

/* Encodes the @n bytes at @in in base64 into @out: B64_LEN(@n) characters. */
static size_t b64_encode(const __u8 *in, size_t n, char *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		__u32 v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
			  (i + 2 < n ? in[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	return o;
}

/*
 * For the native harness's stand-in sk_buff (host/src/bin/native_bench.rs):
 * where the verifier's rewrite of the mixed program's __sk_buff accesses
 * reads (skb->data, skb->len, and the data_end that
 * bpf_compute_data_pointers() keeps in skb->cb as struct bpf_skb_data_end),
 * from this kernel's BTF, and the packet of the test runs.
 */
static void print_skb(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	char out[B64_LEN(sizeof(pkt))];

	if (!btf)
		die("kernel BTF: %s", strerror(errno));
	printf("%s {\"type\":\"skb\",\"data\":%ld,\"data_end\":%ld,\"len\":%ld,\"pkt\":\"%.*s\"}\n",
	       PREFIX, struct_member_off(btf, "sk_buff", "data"),
	       struct_member_off(btf, "sk_buff", "cb") +
	       struct_member_off(btf, "bpf_skb_data_end", "data_end"),
	       struct_member_off(btf, "sk_buff", "len"),
	       (int)b64_encode(pkt, sizeof(pkt), out), out);
	btf__free(btf);
}

/* The JIT image of @fd in base64 lines of at most IMAGE_CHUNK characters. */
#define IMAGE_CHUNK 1024
static void print_image(const struct prog *p, int mode, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), n, chunks, c;
	__u64 ksym = 0;
	__u8 *img;
	char *out;
	size_t o;

	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		die("bpf_prog_get_info_by_fd(%s): %s", p->name, strerror(errno));
	n = info.jited_prog_len;
	img = calloc(n, 1);
	out = calloc(B64_LEN(n) + 1, 1);
	if (!img || !out)
		die("out of memory");
	memset(&info, 0, sizeof(info));
	info.jited_prog_len = n;
	info.jited_prog_insns = (__u64)(unsigned long)img;
	info.nr_jited_ksyms = 1;
	info.jited_ksyms = (__u64)(unsigned long)&ksym;
	len = sizeof(info);
	if (bpf_prog_get_info_by_fd(fd, &info, &len) || info.jited_prog_len != n)
		die("bpf_prog_get_info_by_fd(%s): image: %s", p->name,
		    strerror(errno));
	o = b64_encode(img, n, out);
	chunks = (o + IMAGE_CHUNK - 1) / IMAGE_CHUNK;
	for (c = 0; c < chunks; c++) {
		size_t at = (size_t)c * IMAGE_CHUNK;
		int w = o - at < IMAGE_CHUNK ? (int)(o - at) : IMAGE_CHUNK;

		printf("%s {\"type\":\"image\",\"name\":\"%s\",\"mode\":%d,"
		       "\"addr\":\"0x%llx\",\"funcs\":%u,\"len\":%u,"
		       "\"chunk\":%u,\"chunks\":%u,\"b64\":\"%.*s\"}\n",
		       PREFIX, p->name, mode, (unsigned long long)ksym,
		       info.nr_jited_ksyms, n, c, chunks, w, out + at);
	}
	free(img);
	free(out);
}

/* Every image but the large program's, for the native harness. */
static void print_images(void)
{
	int i, m;

	print_syms();
	print_skb();
	for (i = 0; i < nprogs; i++)
		for (m = 0; m < NMODES; m++)
			if (strcmp(progs[i].name, "large") && progs[i].v[m].fd >= 0)
				print_image(&progs[i], m, progs[i].v[m].fd);
}

static void print_json(const char *kernel, const char *clocksource)
{
	int i, m, r;

	printf("%s {\"type\":\"meta\",\"kernel\":\"%s\",\"rounds\":%d,"
	       "\"load_rounds\":%d,\"target_ms\":%d,\"large_insns\":%d,"
	       "\"clocksource\":\"%s\",\"sysctl_restored\":%d}\n", PREFIX,
	       kernel, rounds, load_rounds, target_ms, large_cnt, clocksource,
	       read_sysctl());
	for (i = 0; i < nprogs; i++) {
		struct prog *p = &progs[i];

		for (m = 0; m < NMODES; m++) {
			struct variant *v = &p->v[m];

			printf("%s {\"type\":\"prog\",\"name\":\"%s\","
			       "\"kind\":\"%s\",\"mode\":%d,\"insns\":%u,"
			       "\"jited_len\":%u,\"kasan_checks\":%ld,"
			       "\"kasan_slow_path\":%ld,"
			       "\"repeat\":%d,\"ns_per_run\":%.1f,\"ns_rounds\":[",
			       PREFIX, p->name, p->kind, m, v->xlated_insns,
			       v->jited_len, v->kasan_checks,
			       v->fd >= 0 ? fdinfo_field(v->fd, "kasan_slow_path") : -1,
			       v->repeat, median(v->ns, rounds));
			for (r = 0; r < rounds; r++)
				printf("%s%llu", r ? "," : "",
				       (unsigned long long)v->ns[r]);
			printf("],\"load_ns\":");
			if (v->nload) {
				printf("%.0f,\"load_ns_rounds\":[",
				       median(v->load_ns, v->nload));
				for (r = 0; r < v->nload; r++)
					printf("%s%llu", r ? "," : "",
					       (unsigned long long)v->load_ns[r]);
				printf("]");
				printf(",\"verify_ns\":%.0f,\"verify_ns_rounds\":[",
				       median(v->verify_ns, v->nverify));
				for (r = 0; r < v->nverify; r++)
					printf("%s%llu", r ? "," : "",
					       (unsigned long long)v->verify_ns[r]);
				printf("]");
			} else {
				printf("null");
			}
			printf("}\n");
		}
	}
	fflush(stdout);
}

static void print_table(void)
{
	int i, m;

	printf("\nkasan_ebpf_bench: modes 0 none, 1 inline, 2 outline; times are "
	       "guest (TCG) ns, median of %d rounds\n", rounds);
	printf("%-10s %-8s %6s %8s %7s %9s %13s %8s %20s\n", "program", "mode",
	       "insns", "jited", "checks", "B/check", "ns/run (TCG)", "x none",
	       "load ms (TCG)");
	for (i = 0; i < nprogs; i++) {
		struct prog *p = &progs[i];
		double ns0 = median(p->v[0].ns, rounds);

		for (m = 0; m < NMODES; m++) {
			struct variant *v = &p->v[m];
			double ns = median(v->ns, rounds);
			char bpc[16] = "-", load[24] = "-";

			if (m && v->kasan_checks > 0)
				snprintf(bpc, sizeof(bpc), "%.1f",
					 ((double)v->jited_len - p->v[0].jited_len) /
					 v->kasan_checks);
			if (v->nload)
				snprintf(load, sizeof(load), "%.1f (v %.1f)",
					 median(v->load_ns, v->nload) / 1e6,
					 median(v->verify_ns, v->nverify) / 1e6);
			printf("%-10s %-8s %6u %8u %7ld %9s %13.0f %8.3f %20s\n",
			       m ? "" : p->name, mode_name[m], v->xlated_insns,
			       v->jited_len, v->kasan_checks, bpc, ns,
			       ns0 > 0 ? ns / ns0 : 0, load);
		}
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bpf_object *objs[NMODES][2];
	struct prog *large = NULL;
	char kernel[256], clocksource[64];
	struct utsname u;
	size_t sz;
	int opt, m, r, i, j;
	__u64 t0 = now_ns();

#ifdef BENCH_DEFAULT_ARGS
	static char defargs[] = BENCH_DEFAULT_ARGS;
	static char *dargv[32];

	if (argc == 1 && defargs[0]) {
		char *tok, *save = NULL;

		dargv[argc = 0] = argv[0];
		for (tok = strtok_r(defargs, " \t", &save); tok && argc < 30;
		     tok = strtok_r(NULL, " \t", &save))
			dargv[++argc] = tok;
		dargv[++argc] = NULL;
		argv = dargv;
	}
#endif
	while ((opt = getopt(argc, argv, "r:l:t:n:f:v")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'l': load_rounds = atoi(optarg); break;
		case 't': target_ms = atoi(optarg); break;
		case 'n': large_pairs = atoi(optarg); break;
		case 'f': filter = optarg; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-r rounds] [-l load_rounds] "
				"[-t target_ms] [-n large_pairs] [-f filter] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || load_rounds < 1 ||
	    load_rounds > MAX_ROUNDS || target_ms < 1 || large_pairs < 1 ||
	    large_pairs > 400000)
		die("bad arguments");
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);
	uname(&u);
	snprintf(kernel, sizeof(kernel), "%s %s", u.release, u.version);
	for (i = 0; kernel[i]; i++)	/* it goes into JSON strings */
		if (kernel[i] == '"' || kernel[i] == '\\' ||
		    (unsigned char)kernel[i] < 0x20)
			kernel[i] = ' ';

	read_clocksource(clocksource, sizeof(clocksource));
	for (i = 0; clocksource[i]; i++)
		if (clocksource[i] == '"' || clocksource[i] == '\\')
			clocksource[i] = ' ';
	if (strcmp(clocksource, "tsc"))
		fprintf(stderr, "kasan_ebpf_bench: WARNING: clocksource %s, not tsc: "
			"times are coarse (jiffies: 1 ms); each call lasts ~%d ms\n",
			clocksource, target_ms);
	orig_sysctl = read_sysctl();
	if (orig_sysctl < 0)
		die("%s is missing: not a kasan-ebpf kernel?", SYSCTL);
	atexit(restore_sysctl);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "kasan_ebpf_bench: %s, sysctl was %d\n", kernel,
		orig_sysctl);

	/* Phase 1: load every program once per mode. */
	if (!filter || strstr("large", filter))
		build_large();
	for (m = 0; m < NMODES; m++) {
		const void *elf;

		write_sysctl(m);
		elf = loops__elf_bytes(&sz);
		objs[m][0] = load_object("loops", elf, sz, m);
		elf = mixed__elf_bytes(&sz);
		objs[m][1] = load_object("mixed", elf, sz, m);
		if (large_insns) {
			__u64 ns;
			int fd = load_large(&ns);

			large = find_or_add("large", "large");
			record_variant(large, m, fd);
		}
	}
	restore_sysctl();
	if (!nprogs)
		die("no program matches the filter");
	fprintf(stderr, "kasan_ebpf_bench: %d programs loaded in 3 modes at %.1f s\n",
		nprogs, (now_ns() - t0) / 1e9);

	/* Phase 2: time per run, modes alternating round by round. */
	for (i = 0; i < nprogs; i++)
		for (m = 0; m < NMODES; m++)
			calibrate(&progs[i].v[m]);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nprogs; i++) {
			for (j = 0; j < NMODES; j++) {
				m = (r + j) % NMODES;
				progs[i].v[m].ns[r] = test_run(progs[i].v[m].fd,
							       progs[i].v[m].repeat);
			}
		}
		fprintf(stderr, "kasan_ebpf_bench: run round %d/%d done at %.1f s\n",
			r + 1, rounds, (now_ns() - t0) / 1e9);
	}

	/* Phase 3: load time of the large program, modes alternating. */
	for (r = 0; large && r < load_rounds; r++) {
		for (j = 0; j < NMODES; j++) {
			struct variant *v;
			__u64 ns;
			int fd;

			m = (r + j) % NMODES;
			v = &large->v[m];
			write_sysctl(m);
			fd = load_large(&ns);
			if (fdinfo_field(fd, "kasan_mode") != m)
				die("large: kasan_mode is not %d", m);
			v->load_ns[v->nload++] = ns;
			close(fd);
			/* The verifier's share, from separate (untimed) loads. */
			if (r < 3)
				v->verify_ns[v->nverify++] = verify_time_large();
		}
		fprintf(stderr, "kasan_ebpf_bench: load round %d/%d done at %.1f s\n",
			r + 1, load_rounds, (now_ns() - t0) / 1e9);
	}
	restore_sysctl();

	print_json(kernel, clocksource);
	print_images();
	print_table();
	fprintf(stderr, "kasan_ebpf_bench: done in %.1f s (guest time)\n",
		(now_ns() - t0) / 1e9);

	for (m = 0; m < NMODES; m++) {
		bpf_object__close(objs[m][0]);
		bpf_object__close(objs[m][1]);
		if (large)
			close(large->v[m].fd);
	}
	return 0;
}
