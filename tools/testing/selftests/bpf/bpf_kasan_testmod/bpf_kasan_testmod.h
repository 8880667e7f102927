/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between the two halves of bpf_kasan_testmod: the Rust core
 * (bpf_kasan_core.rs) implements the bpf_kasan_rs_*() functions, and the C
 * part (bpf_kasan_kfuncs.c) implements bpf_kasan_register_kfuncs().
 *
 * Every bpf_kasan_rs_*() function that returns a pointer returns one whose
 * range [ptr, ptr + buf_size) BPF programs may access, or NULL if the
 * arguments are out of range or memory is short. See bpf_kasan_core.rs for
 * what each range holds and why a bad access to it harms nothing, except
 * for bpf_kasan_rs_wild(), whose pointer is wild on purpose.
 */
#ifndef _BPF_KASAN_TESTMOD_H
#define _BPF_KASAN_TESTMOD_H

#include <linux/types.h>

/* Implemented in Rust (bpf_kasan_core.rs). */
u8 *bpf_kasan_rs_uaf(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_kmalloc_oob(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_vmalloc_oob(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_kmalloc_valid(int buf_size);
u8 *bpf_kasan_rs_wild(u64 addr, int buf_size);
u32 bpf_kasan_rs_free_all(void);

/* Implemented in C (bpf_kasan_kfuncs.c), called from the Rust module init. */
int bpf_kasan_register_kfuncs(void);

#endif /* _BPF_KASAN_TESTMOD_H */
