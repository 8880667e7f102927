// SPDX-License-Identifier: GPL-2.0

//! Memory with a known KASAN state, for testing KASAN checks in JIT-compiled BPF programs.
//!
//! This is the core of `bpf_kasan_testmod`. Its kfuncs hand a BPF program a pointer, and the
//! selftest knows what KASAN must say about every access through it:
//!
//! - [`uaf`]: into a `kmalloc` object that was just freed: it sits in KASAN's quarantine, poisoned,
//!   so every access is a slab-use-after-free.
//! - [`kmalloc_oob`]: into a live `kmalloc` object, placed so that accesses can run past the
//!   requested size into the rest of the slab object: slab-out-of-bounds, including the partial
//!   last granule when the size is not a multiple of 8.
//! - [`vmalloc_oob`]: the same in a `vmalloc` area: vmalloc-out-of-bounds past the requested size.
//! - [`kmalloc_valid`]: a live buffer, where no access may ever report.
//! - [`wild`]: any address the program asks for (NULL plus a small offset, a user address, a
//!   non-canonical one), deliberately: the wild pointer a verifier or JIT bug would produce.
//!
//! It also hands out kernel objects, [`Obj`] (`struct bpf_kasan_obj` in C), with a reference count
//! and lifetime bugs on purpose: [`obj_new_freed`] returns a reference to an object whose count it
//! dropped twice, so it is already freed; [`obj_free_now`] frees an object while the program still
//! holds another reference to it; [`obj_rcu_freed`] returns an RCU-protected pointer to an object
//! it freed without waiting for a grace period. Their correct counterparts ([`obj_new`],
//! [`obj_get`], [`obj_put`]) never let a program see freed memory.
//!
//! Live allocations are kept in the [`Registry`] in [`REGISTRY`](static@REGISTRY) until
//! `bpf_kasan_free_all()` or module unload.
//!
//! # Why the bad accesses are harmless
//!
//! The verifier lets a program access `[p, p + rdwr_buf_size)` of a returned pointer `p`, and the
//! selftests also run their bad accesses with the KASAN checks switched off. So each window is
//! checked here to lie in memory that nobody else uses, whatever the program writes there:
//!
//! - `kmalloc`: within the slab object, whose bytes past the requested size are unused slack
//!   (`kmalloc_size_roundup()`); KASAN's own metadata lies outside the object.
//! - `vmalloc`: within the last mapped page of the area, whose tail is unused.
//! - freed `kmalloc`: past [`UAF_MIN_OFFSET`], where KASAN keeps the quarantine link of a freed
//!   object, and the quarantine keeps the object from being reused while the program runs.
//!
//! [`wild`] is the exception, on purpose: an access through its pointer oopses the kernel after
//! KASAN's report. Only the crash selftests call it, each access in a child process of a guest
//! booted for them.
//!
//! # Why there is C in this module
//!
//! The kfuncs are C functions in `bpf_kasan_kfuncs.c` that forward to the `extern "C"` functions
//! at the bottom of this file. Kbuild runs pahole with `--lang_exclude=rust` when it generates BTF
//! (6.12 and 7.3 alike), so a Rust function has no BTF `FUNC` record and the verifier cannot call
//! it; and the kernel crate has no API for kfunc sets or `register_btf_kfunc_id_set()`.

use core::ptr;
use kernel::bindings;
use kernel::error::to_result;
use kernel::page::PAGE_SIZE;
use kernel::prelude::*;
use kernel::sync::{global_lock, Refcount};

module! {
    type: BpfKasanTestmod,
    name: "bpf_kasan_testmod",
    authors: ["kasan-ebpf"],
    description: "kfuncs returning freed or out-of-bounds memory to test KASAN in BPF programs",
    license: "GPL",
}

/// Largest `kmalloc` object handed out: larger ones come from the page allocator, not a slab.
const KMALLOC_MAX_OBJ: usize = PAGE_SIZE;

/// Largest `vmalloc` area handed out.
const VMALLOC_MAX_OBJ: usize = 16 * PAGE_SIZE;

/// Smallest offset into a freed object that a use-after-free pointer may have.
///
/// Generic KASAN stores `struct kasan_free_meta` (the quarantine link and the free stack, 16 or 24
/// bytes) at the start of a freed `kmalloc` object. A store there would corrupt the quarantine.
const UAF_MIN_OFFSET: usize = 32;

/// Most allocations kept live at once, so that a looping program cannot exhaust memory.
const MAX_LIVE: usize = 4096;

/// A reference-counted object: `struct bpf_kasan_obj` in bpf_kasan_testmod.h, which the C side
/// checks has this layout (48 bytes; `ref` at 0, `tag` at 4, `d` at 8, `next` at 40).
#[repr(C)]
pub struct Obj {
    /// The references held: the registry frees the object when the last one is put.
    refcount: Refcount,
    /// The tag it was made with.
    tag: u32,
    /// `tag`, `tag + 1`, `tag + 2`, `tag + 3`: what the programs read.
    d: [u64; 4],
    /// The address of a freed object (a `struct bpf_kasan_obj *` for the programs).
    next: usize,
}

impl Obj {
    /// A new object with one reference, allocated with `flags`, whose `next` is dangling.
    fn new(tag: u32, flags: kernel::alloc::Flags) -> Result<KBox<Obj>> {
        let t = u64::from(tag);
        let freed = KBox::new(
            Obj {
                refcount: Refcount::new(1),
                tag,
                d: [t; 4],
                next: 0,
            },
            flags,
        )?;
        // Freed right away: `next` points into KASAN's quarantine.
        let next = ptr::from_ref::<Obj>(&freed) as usize;
        drop(freed);
        Ok(KBox::new(
            Obj {
                refcount: Refcount::new(1),
                tag,
                d: [t, t + 1, t + 2, t + 3],
                next,
            },
            flags,
        )?)
    }

    /// The address the programs see.
    fn as_ptr(&self) -> *mut Obj {
        ptr::from_ref(self).cast_mut()
    }
}

/// The allocations handed out that are still live.
///
/// Dropping a buffer frees it with the allocator it came from.
struct Registry {
    /// Buffers from `kmalloc`.
    kmalloc: KVec<KVec<u8>>,
    /// Buffers from `vmalloc`.
    vmalloc: KVec<VVec<u8>>,
    /// Live objects, each with at least one reference.
    objs: KVec<KBox<Obj>>,
}

impl Registry {
    /// Creates an empty registry (`const`: it initialises [`REGISTRY`](static@REGISTRY)).
    const fn new() -> Self {
        Self {
            kmalloc: KVec::new(),
            vmalloc: KVec::new(),
            objs: KVec::new(),
        }
    }

    /// The index of the live object at `obj`, if there is one.
    fn find_obj(&self, obj: *mut Obj) -> Option<usize> {
        self.objs.iter().position(|o| o.as_ptr() == obj)
    }

    /// Returns the number of live allocations.
    fn len(&self) -> usize {
        self.kmalloc.len() + self.vmalloc.len() + self.objs.len()
    }

    /// Fails with `ENOSPC` if another allocation would exceed [`MAX_LIVE`].
    fn check_room(&self) -> Result {
        if self.len() >= MAX_LIVE {
            return Err(ENOSPC);
        }
        Ok(())
    }

    /// Frees every live allocation and returns how many there were.
    fn free_all(&mut self) -> usize {
        let freed = self.len();
        self.kmalloc = KVec::new();
        self.vmalloc = KVec::new();
        self.objs = KVec::new();
        freed
    }
}

global_lock! {
    /// The allocations handed out that are still live, for the kfuncs, which get no context
    /// argument. The kfuncs that allocate may sleep, so this is a mutex.
    // SAFETY: `BpfKasanTestmod::init()` initialises the lock before it registers the kfuncs; they
    // and `BpfKasanTestmod::drop()` are all that use it.
    unsafe(uninit) static REGISTRY: Mutex<Registry> = Registry::new();
}

/// Checks that the window `[offset, offset + buf_size)` is not empty and lies within `limit`
/// bytes, and returns `(offset, buf_size)` as `usize`.
fn window(offset: u32, buf_size: c_int, limit: usize) -> Result<(usize, usize)> {
    let offset = usize::try_from(offset)?;
    let buf_size = usize::try_from(buf_size)?;
    let end = offset.checked_add(buf_size).ok_or(EINVAL)?;
    if buf_size == 0 || end > limit {
        return Err(EINVAL);
    }
    Ok((offset, buf_size))
}

/// Converts and checks an object size: at least one byte, at most `max`.
fn obj_size(size: u32, max: usize) -> Result<usize> {
    let size = usize::try_from(size)?;
    if size == 0 || size > max {
        return Err(EINVAL);
    }
    Ok(size)
}

/// Allocates and frees a `kmalloc` object of `size` bytes, and returns a pointer `offset` bytes
/// into it, valid for the verifier for `buf_size` bytes.
///
/// Neither sleeps nor takes a lock, so that non-sleepable (tc) programs can call it too.
fn uaf(size: u32, offset: u32, buf_size: c_int) -> Result<*mut u8> {
    let size = obj_size(size, KMALLOC_MAX_OBJ)?;
    let (offset, _) = window(offset, buf_size, size)?;
    if offset < UAF_MIN_OFFSET {
        return Err(EINVAL);
    }
    let mut obj = KVec::from_elem(0u8, size, GFP_ATOMIC)?;
    let dangling = obj.as_mut_ptr().wrapping_add(offset);
    // Frees the object: KASAN poisons it and puts it in its quarantine.
    drop(obj);
    Ok(dangling)
}

/// Allocates a `kmalloc` object of `size` bytes, keeps it live, and returns a pointer `offset`
/// bytes into it, valid for the verifier for `buf_size` bytes, which may run past `size` up to the
/// end of the slab object.
fn kmalloc_oob(size: u32, offset: u32, buf_size: c_int) -> Result<*mut u8> {
    let size = obj_size(size, KMALLOC_MAX_OBJ)?;
    // SAFETY: `kmalloc_size_roundup()` only computes the size of the slab object that `kmalloc()`
    // would use for `size` bytes; it accepts any size.
    let slab_size = unsafe { bindings::kmalloc_size_roundup(size) };
    let (offset, _) = window(offset, buf_size, slab_size)?;
    let mut registry = REGISTRY.lock();
    registry.check_room()?;
    let mut obj = KVec::from_elem(0u8, size, GFP_KERNEL)?;
    let ptr = obj.as_mut_ptr().wrapping_add(offset);
    registry.kmalloc.push(obj, GFP_KERNEL)?;
    Ok(ptr)
}

/// Allocates a `vmalloc` area of `size` bytes, keeps it live, and returns a pointer `offset` bytes
/// into it, valid for the verifier for `buf_size` bytes, which may run past `size` up to the end of
/// the last page.
fn vmalloc_oob(size: u32, offset: u32, buf_size: c_int) -> Result<*mut u8> {
    let size = obj_size(size, VMALLOC_MAX_OBJ)?;
    let mapped = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let (offset, _) = window(offset, buf_size, mapped)?;
    let mut registry = REGISTRY.lock();
    registry.check_room()?;
    let mut obj = VVec::from_elem(0u8, size, GFP_KERNEL)?;
    let ptr = obj.as_mut_ptr().wrapping_add(offset);
    registry.vmalloc.push(obj, GFP_KERNEL)?;
    Ok(ptr)
}

/// Allocates a zeroed `kmalloc` buffer of `buf_size` bytes, keeps it live, and returns it.
fn kmalloc_valid(buf_size: c_int) -> Result<*mut u8> {
    let (_, size) = window(0, buf_size, KMALLOC_MAX_OBJ)?;
    let mut registry = REGISTRY.lock();
    registry.check_room()?;
    let mut buf = KVec::from_elem(0u8, size, GFP_KERNEL)?;
    let ptr = buf.as_mut_ptr();
    registry.kmalloc.push(buf, GFP_KERNEL)?;
    Ok(ptr)
}

/// Returns `addr` as a pointer, valid for the verifier for `buf_size` bytes, without checking it.
///
/// The faulty kfunc `bpf_kasan_wild()`: the pointer is never dereferenced here, only handed to the
/// BPF program, so it carries no provenance. Fails only if `buf_size` is not in `1..=PAGE_SIZE`.
fn wild(addr: u64, buf_size: c_int) -> Result<*mut u8> {
    window(0, buf_size, PAGE_SIZE)?;
    let addr = usize::try_from(addr)?;
    Ok(ptr::without_provenance_mut(addr))
}

/// Returns the pointer in `res`, or null on error.
fn ptr_or_null(res: Result<*mut u8>) -> *mut u8 {
    res.unwrap_or(ptr::null_mut())
}

/// Makes a live object with one reference, for the program that called `bpf_kasan_obj_acquire()`.
fn obj_new(tag: u32) -> Result<*mut Obj> {
    let mut registry = REGISTRY.lock();
    registry.check_room()?;
    let obj = Obj::new(tag, GFP_KERNEL)?;
    let ptr = obj.as_ptr();
    registry.objs.push(obj, GFP_KERNEL)?;
    Ok(ptr)
}

/// The bug of `bpf_kasan_obj_acquire_freed()`: takes a reference for the caller, then drops the
/// count twice (once for the caller's reference, once for the object's own), which frees the
/// object, and returns the reference anyway.
fn obj_new_freed(tag: u32) -> Result<*mut Obj> {
    let obj = Obj::new(tag, GFP_KERNEL)?;
    obj.refcount.inc();
    obj.refcount.dec();
    if !obj.refcount.dec_and_test() {
        return Err(EINVAL);
    }
    let dangling = obj.as_ptr();
    // Frees the object: KASAN poisons it and puts it in its quarantine.
    drop(obj);
    Ok(dangling)
}

/// Takes another reference to the live object at `obj`, or returns NULL if it is not one of ours
/// or not live.
fn obj_get(obj: *mut Obj) -> *mut Obj {
    let registry = REGISTRY.lock();
    match registry.find_obj(obj) {
        Some(i) => {
            registry.objs[i].refcount.inc();
            obj
        }
        None => ptr::null_mut(),
    }
}

/// Puts a reference to `obj`, freeing it with the last one. An object that is not live (a faulty
/// kfunc freed it already, on purpose) is left alone.
fn obj_put(obj: *mut Obj) {
    let mut registry = REGISTRY.lock();
    if let Some(i) = registry.find_obj(obj) {
        if registry.objs[i].refcount.dec_and_test() {
            drop(registry.objs.remove(i));
        }
    }
}

/// The bug of `bpf_kasan_obj_release_buggy()`: frees the object whatever its count, while other
/// references to it are still held.
fn obj_free_now(obj: *mut Obj) {
    let mut registry = REGISTRY.lock();
    if let Some(i) = registry.find_obj(obj) {
        drop(registry.objs.remove(i));
    }
}

/// The bug of `bpf_kasan_obj_rcu_freed()`: makes an object and frees it at once, where an RCU
/// reader may still use it and the free should wait for a grace period, and returns the pointer
/// as an RCU-protected one. Neither sleeps nor locks: RCU readers call it.
fn obj_rcu_freed(tag: u32) -> Result<*mut Obj> {
    let obj = Obj::new(tag, GFP_ATOMIC)?;
    let dangling = obj.as_ptr();
    drop(obj);
    Ok(dangling)
}

/// The module instance. The state the kfuncs share lives in [`REGISTRY`](static@REGISTRY);
/// dropping the instance at module unload frees what is left there.
struct BpfKasanTestmod;

extern "C" {
    /// Registers the kfuncs for syscall programs, `bpf_kasan_uaf()` also for tc programs and
    /// `bpf_kasan_wild()` also for tracing programs (`bpf_kasan_kfuncs.c`). Returns 0 or a
    /// negative errno.
    fn bpf_kasan_register_kfuncs() -> c_int;
}

impl kernel::Module for BpfKasanTestmod {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: Module init runs once per load, each load has its own `REGISTRY`, and nothing
        // uses it before the kfuncs are registered below.
        unsafe { REGISTRY.init() };
        // SAFETY: `bpf_kasan_register_kfuncs()` has no requirements; the kfuncs it makes callable
        // use `REGISTRY`, initialised above. Should it fail, the module fails to load, and no
        // program can have called a kfunc: programs only get a module's kfuncs once it is live.
        to_result(unsafe { bpf_kasan_register_kfuncs() })?;
        Ok(Self)
    }
}

impl Drop for BpfKasanTestmod {
    fn drop(&mut self) {
        // No kfunc can run any more: every program that calls one holds a reference on the module.
        let freed = REGISTRY.lock().free_all();
        pr_info!("unloading, freed {} live allocations\n", freed);
    }
}

/// Backs the kfunc `bpf_kasan_uaf()`: see [`uaf`]. Returns null on error.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_uaf(obj_size: u32, offset: u32, buf_size: c_int) -> *mut u8 {
    ptr_or_null(uaf(obj_size, offset, buf_size))
}

/// Backs the kfunc `bpf_kasan_kmalloc_oob()`: see [`kmalloc_oob`]. Returns null on error.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_kmalloc_oob(obj_size: u32, offset: u32, buf_size: c_int) -> *mut u8 {
    ptr_or_null(kmalloc_oob(obj_size, offset, buf_size))
}

/// Backs the kfunc `bpf_kasan_vmalloc_oob()`: see [`vmalloc_oob`]. Returns null on error.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_vmalloc_oob(obj_size: u32, offset: u32, buf_size: c_int) -> *mut u8 {
    ptr_or_null(vmalloc_oob(obj_size, offset, buf_size))
}

/// Backs the kfunc `bpf_kasan_kmalloc_valid()`: see [`kmalloc_valid`]. Returns null on error.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_kmalloc_valid(buf_size: c_int) -> *mut u8 {
    ptr_or_null(kmalloc_valid(buf_size))
}

/// Backs the kfunc `bpf_kasan_wild()`: see [`wild`]. Returns null on error.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_wild(addr: u64, buf_size: c_int) -> *mut u8 {
    ptr_or_null(wild(addr, buf_size))
}

/// Backs the kfunc `bpf_kasan_obj_acquire()`: a new live object with one reference, or NULL.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_new(tag: u32) -> *mut Obj {
    obj_new(tag).unwrap_or(ptr::null_mut())
}

/// Backs the faulty kfunc `bpf_kasan_obj_acquire_freed()`: a reference to a freed object.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_new_freed(tag: u32) -> *mut Obj {
    obj_new_freed(tag).unwrap_or(ptr::null_mut())
}

/// Backs the kfunc `bpf_kasan_obj_get()`: another reference to `obj`, or NULL.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_get(obj: *mut Obj) -> *mut Obj {
    obj_get(obj)
}

/// Backs the kfunc `bpf_kasan_obj_release()`: puts a reference to `obj`.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_put(obj: *mut Obj) {
    obj_put(obj)
}

/// Backs the faulty kfunc `bpf_kasan_obj_release_buggy()`: frees `obj` whatever its count.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_free_now(obj: *mut Obj) {
    obj_free_now(obj)
}

/// Backs the faulty kfunc `bpf_kasan_obj_rcu_freed()`: an object freed without a grace period.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_obj_rcu_freed(tag: u32) -> *mut Obj {
    obj_rcu_freed(tag).unwrap_or(ptr::null_mut())
}

/// Backs the kfunc `bpf_kasan_free_all()`: frees every live allocation, returns how many.
#[no_mangle]
pub extern "C" fn bpf_kasan_rs_free_all() -> u32 {
    // At most `MAX_LIVE` allocations are live, so the count fits.
    u32::try_from(REGISTRY.lock().free_all()).unwrap_or(u32::MAX)
}
