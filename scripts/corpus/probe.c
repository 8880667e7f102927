// SPDX-License-Identifier: GPL-2.0
/*
 * corpus_probe: the `make corpus` guest's yardstick. Loads one small socket
 * filter that reads a map value (an access the JIT instruments), runs it
 * once, and prints
 *
 *   id=<prog id> kasan_mode=<m> kasan_checks=<n> retval=<r>
 *
 * with kasan_mode/kasan_checks as /proc/self/fdinfo shows them. BPF program
 * IDs are allocated cyclically and only to programs that passed the
 * verifier and were JIT-compiled, so the difference between the IDs of two
 * probes, minus one, is the number of programs loaded between them. Raw
 * bpf(2), no libbpf: the probe loads exactly one program (libbpf would add
 * its feature probes).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

int main(void)
{
	union bpf_attr a;
	char log[4096] = "", line[256], path[64];
	int map, prog, mode = -1;
	long checks = -1;
	FILE *f;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	map = sys_bpf(BPF_MAP_CREATE, &a);
	if (map < 0) {
		printf("corpus_probe: map create: %s\n", strerror(errno));
		return 1;
	}

	struct bpf_insn insns[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),	/* *(u32 *)(fp - 4) = 0 */
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0),	/* r1 = *(u64 *)value */
		INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_1, 0, 0),	/* *(u64 *)value = r1 */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)insns;
	a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	strcpy(a.prog_name, "corpus_probe");
	prog = sys_bpf(BPF_PROG_LOAD, &a);
	if (prog < 0) {
		printf("corpus_probe: prog load: %s\n%s\n", strerror(errno), log);
		return 1;
	}

	struct bpf_prog_info info;
	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = prog;
	a.info.info_len = sizeof(info);
	a.info.info = (unsigned long)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		printf("corpus_probe: get info: %s\n", strerror(errno));
		return 1;
	}

	unsigned char pkt[64] = { 0 };
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = prog;
	a.test.data_in = (unsigned long)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = 1;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a))
		a.test.retval = -errno;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", prog);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "kasan_mode: %d", &mode);
		sscanf(line, "kasan_checks: %ld", &checks);
	}
	if (f)
		fclose(f);
	printf("id=%u kasan_mode=%d kasan_checks=%ld retval=%d\n",
	       info.id, mode, checks, (int)a.test.retval);
	return 0;
}
