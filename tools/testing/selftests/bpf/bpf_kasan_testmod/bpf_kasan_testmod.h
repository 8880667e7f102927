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

#include <linux/build_bug.h>
#include <linux/refcount.h>
#include <linux/stddef.h>
#include <linux/types.h>

/**
 * struct bpf_kasan_obj - a reference-counted kernel object for BPF programs
 * @ref: the references held; the object is freed when the last one goes
 * @tag: the tag it was made with
 * @d: data for programs to read: @tag, @tag + 1, ...
 * @next: a pointer to a freed object: a program that walks it gets an
 *	untrusted pointer, through which reading freed memory is allowed
 *
 * Defined here, in C, so that the module's BTF describes it (Rust units get
 * no BTF); struct Obj in bpf_kasan_core.rs has the same layout, and the
 * lifetime logic is there.
 */
struct bpf_kasan_obj {
	refcount_t ref;
	u32 tag;
	u64 d[4];
	struct bpf_kasan_obj *next;
};

static_assert(sizeof(struct bpf_kasan_obj) == 48);
static_assert(offsetof(struct bpf_kasan_obj, ref) == 0);
static_assert(offsetof(struct bpf_kasan_obj, tag) == 4);
static_assert(offsetof(struct bpf_kasan_obj, d) == 8);
static_assert(offsetof(struct bpf_kasan_obj, next) == 40);

/* Implemented in Rust (bpf_kasan_core.rs). */
u8 *bpf_kasan_rs_uaf(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_kmalloc_oob(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_vmalloc_oob(u32 obj_size, u32 offset, int buf_size);
u8 *bpf_kasan_rs_kmalloc_valid(int buf_size);
u8 *bpf_kasan_rs_wild(u64 addr, int buf_size);
u32 bpf_kasan_rs_free_all(void);
struct bpf_kasan_obj *bpf_kasan_rs_obj_new(u32 tag);
struct bpf_kasan_obj *bpf_kasan_rs_obj_new_freed(u32 tag);
struct bpf_kasan_obj *bpf_kasan_rs_obj_get(struct bpf_kasan_obj *obj);
void bpf_kasan_rs_obj_put(struct bpf_kasan_obj *obj);
void bpf_kasan_rs_obj_free_now(struct bpf_kasan_obj *obj);
struct bpf_kasan_obj *bpf_kasan_rs_obj_rcu_freed(u32 tag);

/* Implemented in C (bpf_kasan_kfuncs.c), called from the Rust module init. */
int bpf_kasan_register_kfuncs(void);

#endif /* _BPF_KASAN_TESTMOD_H */
