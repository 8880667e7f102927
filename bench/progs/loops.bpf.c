// SPDX-License-Identifier: GPL-2.0
/*
 * kasan-ebpf benchmark: tight loops of loads, stores and atomics of each
 * size over an array map value, and an ALU-only loop with no memory access.
 *
 * Every loop runs ITERS iterations of eight accesses of one size at p + 0,
 * 8, ..., 56, where p walks the first 2 KB of a 4 KB map value (2048
 * accesses per run). The accesses are inline asm so that clang keeps them,
 * their sizes and their number exactly; "unroll(disable)" keeps one copy of
 * the body, so every loop program has the same 8 checks, and the run time
 * is dominated by the accesses the checks guard. (The map lookup's key is
 * on the stack: frame-pointer based, never checked.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ITERS 256
#define BUF_SIZE 4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[BUF_SIZE]);
} buf SEC(".maps");

/* One access of type T at p + off, as BPF assembly. */
#define LD(T, off)	"%[t] = *(" #T " *)(%[p] + " #off ")\n\t"
#define ST(T, off)	"*(" #T " *)(%[p] + " #off ") = %[v]\n\t"
#define XADD(off)	"lock *(u64 *)(%[p] + " #off ") += %[v]\n\t"

static __always_inline __u8 *get_buf(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&buf, &k);
}

#define LOAD_LOOP(name, T)						\
SEC("tc")								\
int name(struct __sk_buff *skb)						\
{									\
	__u8 *b = get_buf();						\
	__u64 t;							\
									\
	if (!b)								\
		return 0;						\
	_Pragma("clang loop unroll(disable)")				\
	for (__u32 i = 0; i < ITERS; i++) {				\
		__u8 *p = b + ((i & 31) << 6);				\
									\
		asm volatile(LD(T, 0) LD(T, 8) LD(T, 16) LD(T, 24)	\
			     LD(T, 32) LD(T, 40) LD(T, 48) LD(T, 56)	\
			     : [t] "=&r"(t) : [p] "r"(p) : "memory");	\
	}								\
	return 0;							\
}

#define STORE_LOOP(name, T)						\
SEC("tc")								\
int name(struct __sk_buff *skb)						\
{									\
	__u8 *b = get_buf();						\
									\
	if (!b)								\
		return 0;						\
	_Pragma("clang loop unroll(disable)")				\
	for (__u32 i = 0; i < ITERS; i++) {				\
		__u8 *p = b + ((i & 31) << 6);				\
		__u64 v = i;						\
									\
		asm volatile(ST(T, 0) ST(T, 8) ST(T, 16) ST(T, 24)	\
			     ST(T, 32) ST(T, 40) ST(T, 48) ST(T, 56)	\
			     : : [p] "r"(p), [v] "r"(v) : "memory");	\
	}								\
	return 0;							\
}

LOAD_LOOP(ld8, u8)
LOAD_LOOP(ld16, u16)
LOAD_LOOP(ld32, u32)
LOAD_LOOP(ld64, u64)
STORE_LOOP(st8, u8)
STORE_LOOP(st16, u16)
STORE_LOOP(st32, u32)
STORE_LOOP(st64, u64)

/* Atomic adds (BPF_STX | BPF_ATOMIC | BPF_DW, BPF_ADD): checked as writes. */
SEC("tc")
int xadd64(struct __sk_buff *skb)
{
	__u8 *b = get_buf();

	if (!b)
		return 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < ITERS; i++) {
		__u8 *p = b + ((i & 31) << 6);
		__u64 v = i;

		asm volatile(XADD(0) XADD(8) XADD(16) XADD(24)
			     XADD(32) XADD(40) XADD(48) XADD(56)
			     : : [p] "r"(p), [v] "r"(v) : "memory");
	}
	return 0;
}

/*
 * No memory access at all, not even to the context or the stack: the JIT
 * must emit exactly the same image in every mode, and it must cost nothing.
 */
SEC("tc")
int alu_only(struct __sk_buff *skb)
{
	__u64 a = 1, b = 2;

#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < ITERS; i++) {
		asm volatile("%[a] += %[b]\n\t"
			     "%[a] ^= %[i]\n\t"
			     "%[b] *= 3\n\t"
			     "%[b] += 7"
			     : [a] "+r"(a), [b] "+r"(b) : [i] "r"((__u64)i));
	}
	return a & 1;
}

char _license[] SEC("license") = "GPL";
