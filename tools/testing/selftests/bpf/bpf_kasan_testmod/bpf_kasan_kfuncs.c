// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_kasan_testmod: kfuncs that hand BPF programs memory with a known KASAN
 * state (freed, out of bounds, or valid), so that selftests can check the
 * KASAN instrumentation of JIT-compiled BPF programs.
 *
 * The module is written in Rust (bpf_kasan_core.rs): allocation, freeing,
 * pointer offsetting and the bookkeeping of live allocations all live there.
 * This file holds only what cannot be Rust, in 6.12 as in 7.3:
 *
 *  - the kfuncs themselves. A kfunc must have a BTF FUNC record in the
 *    module's BTF, and pahole skips Rust compilation units when it generates
 *    BTF (scripts/Makefile.btf passes --lang_exclude=rust), so a Rust
 *    function would be invisible to the verifier. Each kfunc here is a
 *    one-line C wrapper that forwards to Rust.
 *  - the kfunc set. BTF_KFUNCS_START() and BTF_ID_FLAGS() emit .BTF_ids
 *    entries that resolve_btfids patches at link time, and there is no Rust
 *    API for them nor for register_btf_kfunc_id_set().
 *
 * The Rust module init calls bpf_kasan_register_kfuncs() below.
 *
 * Every kfunc that returns memory returns u8 * and takes a constant
 * rdwr_buf_size argument: the verifier then types the result as PTR_TO_MEM
 * of that size (or NULL, KF_RET_NULL), and programs access it with ordinary
 * loads, stores and atomics, the instructions that KASAN instruments.
 * All kfuncs are registered for BPF_PROG_TYPE_SYSCALL, whose programs are
 * all sleepable. Those that keep allocations take a mutex or call vmalloc,
 * hence KF_SLEEPABLE. bpf_kasan_uaf() neither sleeps nor locks, and is also
 * registered for BPF_PROG_TYPE_SCHED_CLS: sleepable programs cannot use a
 * prog array, so the tail call selftest runs tc programs.
 *
 * bpf_kasan_wild() is faulty on purpose: it hands out any address as
 * memory, like a verifier, JIT or kfunc bug would. A program that uses it
 * oopses the kernel; only the crash selftests (prog_tests/kasan_ebpf_crash.c)
 * call it, in guests booted for them. It is also registered for
 * BPF_PROG_TYPE_TRACING: those tests run fentry programs, whose task an oops
 * can kill without taking the kernel down (BPF_PROG_TEST_RUN runs tc
 * programs with bottom halves disabled, where an oops always panics, and
 * syscall programs in an RCU tasks trace read-side critical section, which
 * a killed task leaves with a warning).
 */

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/cfi.h>
#include <linux/module.h>

#include "bpf_kasan_testmod.h"

__bpf_kfunc_start_defs();

/**
 * bpf_kasan_uaf() - Get a pointer into a freed kmalloc object.
 * @obj_size: size of the object to allocate and free, at most PAGE_SIZE.
 * @offset: offset of the returned pointer into the object, at least 32 (the
 *	start of a freed object holds KASAN's quarantine metadata).
 * @rdwr_buf_size: bytes the program may access; offset + rdwr_buf_size
 *	must not exceed obj_size.
 *
 * The object stays in KASAN's quarantine, poisoned: every access through the
 * result is a slab-use-after-free. Allocates with GFP_ATOMIC and keeps no
 * state, so tc programs may call it too.
 *
 * Return: the dangling pointer, or NULL.
 */
__bpf_kfunc u8 *bpf_kasan_uaf(u32 obj_size, u32 offset, const int rdwr_buf_size)
{
	return bpf_kasan_rs_uaf(obj_size, offset, rdwr_buf_size);
}

/**
 * bpf_kasan_kmalloc_oob() - Get a pointer into a live kmalloc object.
 * @obj_size: size of the object to allocate, at most PAGE_SIZE.
 * @offset: offset of the returned pointer into the object.
 * @rdwr_buf_size: bytes the program may access; offset + rdwr_buf_size
 *	must not exceed kmalloc_size_roundup(obj_size).
 *
 * Bytes from obj_size up to the end of the slab object are poisoned: an
 * access that touches them is a slab-out-of-bounds. With an obj_size that is
 * not a multiple of 8, the last granule of the object is partially valid.
 * The object stays allocated until bpf_kasan_free_all() or module unload.
 *
 * Return: the object's address plus @offset, or NULL.
 */
__bpf_kfunc u8 *bpf_kasan_kmalloc_oob(u32 obj_size, u32 offset,
				      const int rdwr_buf_size)
{
	return bpf_kasan_rs_kmalloc_oob(obj_size, offset, rdwr_buf_size);
}

/**
 * bpf_kasan_vmalloc_oob() - Get a pointer into a live vmalloc area.
 * @obj_size: size of the area to allocate, at most 16 pages.
 * @offset: offset of the returned pointer into the area.
 * @rdwr_buf_size: bytes the program may access; offset + rdwr_buf_size
 *	must not exceed obj_size rounded up to a page.
 *
 * Bytes from obj_size up to the end of the last page are poisoned: an access
 * that touches them is a vmalloc-out-of-bounds. The area stays allocated
 * until bpf_kasan_free_all() or module unload.
 *
 * Return: the area's address plus @offset, or NULL.
 */
__bpf_kfunc u8 *bpf_kasan_vmalloc_oob(u32 obj_size, u32 offset,
				      const int rdwr_buf_size)
{
	return bpf_kasan_rs_vmalloc_oob(obj_size, offset, rdwr_buf_size);
}

/**
 * bpf_kasan_kmalloc_valid() - Get a live, zeroed kmalloc buffer.
 * @rdwr_buf_size: size of the buffer, at most PAGE_SIZE.
 *
 * No access within the buffer may ever report. The buffer stays allocated
 * until bpf_kasan_free_all() or module unload.
 *
 * Return: the buffer, or NULL.
 */
__bpf_kfunc u8 *bpf_kasan_kmalloc_valid(const int rdwr_buf_size)
{
	return bpf_kasan_rs_kmalloc_valid(rdwr_buf_size);
}

/**
 * bpf_kasan_wild() - Get a wild pointer that the verifier trusts.
 * @addr: the address to return, not checked in any way.
 * @rdwr_buf_size: bytes the program may access through the result, at most
 *	PAGE_SIZE.
 *
 * A deliberately faulty kfunc: the verifier types the result as PTR_TO_MEM
 * of @rdwr_buf_size bytes whatever @addr is, so a program can access NULL
 * plus a small offset, a user address or a non-canonical address with an
 * ordinary load or store, as if a verifier or JIT bug had let a wild pointer
 * through. KASAN must report such an access (null-ptr-deref,
 * user-memory-access, wild-memory-access), and the access itself then
 * oopses: the calling task dies. Keeps no state and takes no lock.
 *
 * Return: @addr as a pointer, or NULL if @rdwr_buf_size is out of range.
 */
__bpf_kfunc u8 *bpf_kasan_wild(u64 addr, const int rdwr_buf_size)
{
	return bpf_kasan_rs_wild(addr, rdwr_buf_size);
}

/**
 * bpf_kasan_obj_acquire() - Get the only reference to a new object.
 * @tag: its tag; its data is @tag, @tag + 1, @tag + 2, @tag + 3.
 *
 * The verifier trusts the result (a referenced kfunc result) until the
 * program releases it with bpf_kasan_obj_release(). Its ->next is a freed
 * object, which a program reaches only through an untrusted pointer.
 *
 * Return: the object, or NULL.
 */
__bpf_kfunc struct bpf_kasan_obj *bpf_kasan_obj_acquire(u32 tag)
{
	return bpf_kasan_rs_obj_new(tag);
}

/**
 * bpf_kasan_obj_acquire_freed() - Get a reference to a freed object.
 * @tag: its tag.
 *
 * A deliberately faulty kfunc: it drops the object's count twice, which
 * frees it, and returns the reference anyway, like a kfunc with a
 * refcounting bug. Every load through the result is a use-after-free that
 * the verifier cannot see. Releasing it does nothing.
 *
 * Return: the freed object, or NULL.
 */
__bpf_kfunc struct bpf_kasan_obj *bpf_kasan_obj_acquire_freed(u32 tag)
{
	return bpf_kasan_rs_obj_new_freed(tag);
}

/**
 * bpf_kasan_obj_get() - Take another reference to an object.
 * @obj: a live object the program holds a reference to.
 *
 * Return: @obj, or NULL if it is not a live object of this module.
 */
__bpf_kfunc struct bpf_kasan_obj *bpf_kasan_obj_get(struct bpf_kasan_obj *obj)
{
	return bpf_kasan_rs_obj_get(obj);
}

/**
 * bpf_kasan_obj_release() - Put a reference to an object.
 * @obj: the object; freed with its last reference.
 */
__bpf_kfunc void bpf_kasan_obj_release(struct bpf_kasan_obj *obj)
{
	bpf_kasan_rs_obj_put(obj);
}

/**
 * bpf_kasan_obj_release_buggy() - Put a reference, and free the object.
 * @obj: the object.
 *
 * A deliberately faulty kfunc: it frees @obj whatever its count, so other
 * references the program holds now point to freed memory.
 */
__bpf_kfunc void bpf_kasan_obj_release_buggy(struct bpf_kasan_obj *obj)
{
	bpf_kasan_rs_obj_free_now(obj);
}

/**
 * bpf_kasan_obj_dtor() - Put the reference a map holds to an object.
 * @obj: the object in a map's kptr field.
 *
 * struct bpf_kasan_obj's destructor, which lets programs keep references
 * in maps (bpf_kptr_xchg()): BPF calls it for a reference left in a map
 * that is freed, from the map's deferred free work.
 */
__bpf_kfunc void bpf_kasan_obj_dtor(void *obj)
{
	bpf_kasan_rs_obj_put(obj);
}
CFI_NOSEAL(bpf_kasan_obj_dtor);

/*
 * The object bpf_kasan_obj_rcu() hands out: it lives as long as the module,
 * so RCU readers can always read it.
 */
static struct bpf_kasan_obj bpf_kasan_static_obj = {
	.ref = REFCOUNT_INIT(1),
	.tag = 40,
	.d = { 40, 41, 42, 43 },
};

/**
 * bpf_kasan_obj_rcu() - Get an RCU-protected pointer to a live object.
 *
 * Callable in an RCU read-side critical section only; the verifier trusts
 * the result there (MEM_RCU). The object is never freed while the module
 * is loaded.
 *
 * Return: the object.
 */
__bpf_kfunc struct bpf_kasan_obj *bpf_kasan_obj_rcu(void)
{
	return &bpf_kasan_static_obj;
}

/**
 * bpf_kasan_obj_rcu_freed() - Get an RCU-protected pointer to a freed object.
 * @tag: its tag.
 *
 * A deliberately faulty kfunc: it frees the object without waiting for an
 * RCU grace period, while the caller, an RCU reader, still gets it.
 * Neither sleeps nor locks.
 *
 * Return: the freed object, or NULL.
 */
__bpf_kfunc struct bpf_kasan_obj *bpf_kasan_obj_rcu_freed(u32 tag)
{
	return bpf_kasan_rs_obj_rcu_freed(tag);
}

/**
 * bpf_kasan_free_all() - Free every live allocation of this module.
 *
 * Return: the number of allocations freed.
 */
__bpf_kfunc u32 bpf_kasan_free_all(void)
{
	return bpf_kasan_rs_free_all();
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(bpf_kasan_syscall_kfunc_ids)
BTF_ID_FLAGS(func, bpf_kasan_uaf, KF_RET_NULL)
BTF_ID_FLAGS(func, bpf_kasan_kmalloc_oob, KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_vmalloc_oob, KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_kmalloc_valid, KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_free_all, KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_wild, KF_RET_NULL)
BTF_ID_FLAGS(func, bpf_kasan_obj_acquire, KF_ACQUIRE | KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_obj_acquire_freed, KF_ACQUIRE | KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_obj_get, KF_ACQUIRE | KF_RET_NULL | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_obj_release, KF_RELEASE | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_obj_release_buggy, KF_RELEASE | KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_kasan_obj_rcu, KF_RCU_PROTECTED)
BTF_ID_FLAGS(func, bpf_kasan_obj_rcu_freed, KF_RCU_PROTECTED | KF_RET_NULL)
BTF_KFUNCS_END(bpf_kasan_syscall_kfunc_ids)

static const struct btf_kfunc_id_set bpf_kasan_syscall_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_kasan_syscall_kfunc_ids,
};

BTF_ID_LIST(bpf_kasan_dtor_ids)
BTF_ID(struct, bpf_kasan_obj)
BTF_ID(func, bpf_kasan_obj_dtor)

BTF_KFUNCS_START(bpf_kasan_tc_kfunc_ids)
BTF_ID_FLAGS(func, bpf_kasan_uaf, KF_RET_NULL)
BTF_KFUNCS_END(bpf_kasan_tc_kfunc_ids)

static const struct btf_kfunc_id_set bpf_kasan_tc_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_kasan_tc_kfunc_ids,
};

BTF_KFUNCS_START(bpf_kasan_tracing_kfunc_ids)
BTF_ID_FLAGS(func, bpf_kasan_wild, KF_RET_NULL)
BTF_KFUNCS_END(bpf_kasan_tracing_kfunc_ids)

static const struct btf_kfunc_id_set bpf_kasan_tracing_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_kasan_tracing_kfunc_ids,
};

/**
 * bpf_kasan_register_kfuncs() - Make the kfuncs callable from BPF programs.
 *
 * Called once, from the Rust module init, after the Rust core is ready to
 * serve calls. A kfunc set cannot be unregistered; it goes away with the
 * module's BTF, and programs that use it hold a reference on the module.
 * Should a later registration fail, the module fails to load and the sets
 * registered before go away with it as well.
 *
 * Return: 0 or a negative errno.
 */
int bpf_kasan_register_kfuncs(void)
{
	const struct btf_id_dtor_kfunc dtors[] = {
		{
			.btf_id = bpf_kasan_dtor_ids[0],
			.kfunc_btf_id = bpf_kasan_dtor_ids[1],
		},
	};
	int ret;

	ret = register_btf_id_dtor_kfuncs(dtors, ARRAY_SIZE(dtors), THIS_MODULE);
	if (ret)
		return ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL,
					&bpf_kasan_syscall_kfunc_set);
	if (ret)
		return ret;
	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_SCHED_CLS,
					&bpf_kasan_tc_kfunc_set);
	if (ret)
		return ret;
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING,
					 &bpf_kasan_tracing_kfunc_set);
}
