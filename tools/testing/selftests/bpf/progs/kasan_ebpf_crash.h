/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by progs/kasan_ebpf_crash.c and prog_tests/kasan_ebpf_crash.c: what
 * the crash programs access, so that the test can predict KASAN's reports
 * and find each access in the xlated program.
 */
#ifndef __KASAN_EBPF_CRASH_H
#define __KASAN_EBPF_CRASH_H

/*
 * Checked accesses of wild_r12 and wild_few: their .bss accesses and the
 * wild one. wild_r12 has enough for the inline checks to keep the shadow
 * offset in r12 (3 or more), wild_few too few.
 */
#define KASAN_CRASH_R12_CHECKS	3
#define KASAN_CRASH_FEW_CHECKS	2
/*
 * wild_merged: the wild_addr load, then two stores through the wild
 * pointer whose checks merge into one (inline mode).
 */
#define KASAN_CRASH_MERGED_CHECKS	2

/* The size bpf_kasan_wild() is asked for. */
#define KASAN_CRASH_WILD_BUF	8

/* crash_uaf: a kmalloc-512 object, freed; an 8-byte read at 64 + 24. */
#define KASAN_CRASH_UAF_OBJ	512
#define KASAN_CRASH_UAF_OFF	64
#define KASAN_CRASH_UAF_BUF	256
#define KASAN_CRASH_UAF_READ	24

#endif /* __KASAN_EBPF_CRASH_H */
