// SPDX-License-Identifier: GPL-2.0

//! KASAN checks in x86-64 JIT-compiled BPF programs.
//!
//! The BPF verifier proves what a program does with its own memory, but the
//! program still trusts the pointers that helpers and kfuncs hand it, and
//! the verifier and the JIT can be wrong. Compiled kernel code has KASAN;
//! without this, JIT-compiled BPF code escapes it.
//!
//! The JIT (`do_jit()` in bpf_jit_comp.c, through bpf_jit_comp_kasan.c)
//! calls the functions at the bottom of this file: once for the prologue,
//! once before every instruction, and once at boot for the out-of-line tail
//! that all programs share. They decide what is checked and emit the checks
//! (see `emit.rs` for the sequences); C keeps the exception table and the
//! bookkeeping. The thunk in the tail calls
//! [`bpf_jit_kasan_slow_path`], which recomputes the address of the access
//! and asks KASAN for its verdict through `kasan_bpf_check_access()`.
//!
//! Everything in `bpf_jit_kasan/` is free of the `kernel` crate and is also
//! compiled into a host crate whose tests decode and execute the emitted
//! code. This file is the only kernel-specific part.
//!
//! Limits: the emitters run in the JIT, in process context, with no locks
//! of their own and no allocation; the slow path runs wherever BPF programs
//! run, including NMI and hard-IRQ context, so it must not sleep, allocate
//! or take locks either.

#[path = "bpf_jit_kasan/asm.rs"]
pub mod asm;
#[path = "bpf_jit_kasan/emit.rs"]
pub mod emit;
#[path = "bpf_jit_kasan/insn.rs"]
pub mod insn;
#[path = "bpf_jit_kasan/merge.rs"]
pub mod merge;

use asm::{Asm, Error};
use core::ffi::c_int;
use core::mem::{offset_of, size_of, MaybeUninit};
use core::sync::atomic::{AtomicBool, Ordering};
use emit::{Arch, Config, SavedRegs, Site};
use insn::{Access, BpfInsn, Checker, Mismatch, StackOnly};
use kernel::error::code::{EFAULT, EINVAL, ENOSPC, ERANGE};

/// Prefix of this file's kernel log messages.
const __LOG_PREFIX: &[u8] = b"bpf_jit_kasan\0";

/// Most bytes `bpf_jit_kasan_arch_ret()` emits: `jmp __x86_return_thunk`
/// (`ret; int3` otherwise).
const RET_LEN: usize = 5;

/// The program behind a slow-path entry, as the slow path needs it;
/// `struct bpf_jit_kasan_where` in C.
#[repr(C)]
struct Where {
    /// The insns of the (sub)program whose image holds the entry.
    insns: *const BpfInsn,
    /// Its merged groups' members (`aux->kasan_members`), or null.
    members: *const u64,
    /// `aux->kasan_jit_off`: where the code of each insn starts, from
    /// `func`; `len + 1` entries.
    off: *const u32,
    /// `bpf_func`.
    func: u64,
    /// Number of insns.
    len: u32,
    /// The insn whose check called the slow path.
    idx: u32,
}

const _: () = {
    assert!(size_of::<Where>() == 40);
    assert!(offset_of!(Where, insns) == 0);
    assert!(offset_of!(Where, members) == 8);
    assert!(offset_of!(Where, off) == 16);
    assert!(offset_of!(Where, func) == 24);
    assert!(offset_of!(Where, len) == 32);
    assert!(offset_of!(Where, idx) == 36);
};

extern "C" {
    fn bpf_jit_kasan_arch_call(pprog: *mut *mut u8, func: u64, ip: u64) -> c_int;
    fn bpf_jit_kasan_arch_ret(pprog: *mut *mut u8, ip: u64);
    fn bpf_jit_kasan_find_group(ip: u64, w: *mut Where) -> c_int;
    fn kasan_bpf_check_access(addr: u64, size: usize, write: bool, ip: u64) -> bool;
    fn kasan_bpf_check_probe(addr: u64, size: usize, ip: u64) -> bool;
    fn kasan_bpf_addr_has_shadow(addr: u64, size: usize) -> bool;
}

/// Calls and returns as the rest of the JIT emits them, so that call depth
/// accounting and return thunks are honoured.
struct KernelArch {
    /// [`Config::call_len`]: the most bytes the C call emitter writes.
    call_len: usize,
}

impl KernelArch {
    /// The arch for `cfg`, whose `call_len` must be at least a `call
    /// rel32`.
    fn new(cfg: &Config) -> Result<Self, Error> {
        if cfg.call_len < emit::CALL_REL32_LEN {
            return Err(Error::Operand);
        }
        Ok(KernelArch {
            call_len: cfg.call_len as usize,
        })
    }

    /// Lets the C emitter `f`, which writes at most `room` bytes and does
    /// not check it, emit at the assembler's position.
    fn emit(
        asm: &mut Asm<'_>,
        room: usize,
        f: impl FnOnce(*mut *mut u8, u64) -> c_int,
    ) -> asm::Result {
        let ip = asm.pc();
        let (start, spare) = asm.spare();
        if spare < room {
            return Err(Error::NoSpace);
        }
        let mut p = start;
        if f(&mut p, ip) != 0 {
            return Err(Error::Range);
        }
        // SAFETY: the C emitter advanced `p` by at most `room` bytes from
        // `start`, within the spare part of the buffer.
        let n = unsafe { p.offset_from(start) };
        let n = usize::try_from(n).map_err(|_| Error::Range)?;
        if n > room {
            return Err(Error::Range);
        }
        // SAFETY: the C emitter wrote these `n` bytes, with instructions.
        unsafe { asm.advance(n) }
    }
}

impl Arch for KernelArch {
    fn call(&mut self, asm: &mut Asm<'_>, target: u64) -> asm::Result {
        // SAFETY: `p` points to at least `call_len` writable bytes, the
        // most the JIT measured `emit_rsb_call()` to emit.
        Self::emit(asm, self.call_len, |p, ip| unsafe {
            bpf_jit_kasan_arch_call(p, target, ip)
        })
    }

    fn ret(&mut self, asm: &mut Asm<'_>) -> asm::Result {
        Self::emit(asm, RET_LEN, |p, ip| {
            // SAFETY: `p` points to at least RET_LEN writable bytes, the
            // most a return takes.
            unsafe { bpf_jit_kasan_arch_ret(p, ip) };
            0
        })
    }
}

fn errno(e: Error) -> c_int {
    match e {
        Error::NoSpace => ENOSPC.to_errno(),
        Error::Range => ERANGE.to_errno(),
        Error::Operand => EINVAL.to_errno(),
    }
}

/// Runs `f` on an assembler over the C buffer; returns the length emitted
/// or a negative errno.
///
/// # Safety
///
/// `cfg` must point to a valid config and `buf` to `cap` writable bytes
/// (initialised or not).
unsafe fn with_asm(
    cfg: *const Config,
    buf: *mut u8,
    cap: u32,
    ip: u64,
    f: impl FnOnce(&mut Asm<'_>, &Config) -> asm::Result,
) -> c_int {
    if cfg.is_null() || buf.is_null() {
        return EFAULT.to_errno();
    }
    // SAFETY: the caller promises `buf` has `cap` writable bytes that
    // nothing else uses while we emit. They may be uninitialised (the JIT's
    // stack buffers are), which `MaybeUninit<u8>` allows: it has the
    // layout of `u8` and no validity requirement, so any memory is a valid
    // value of it. The assembler only writes to the buffer and never reads
    // a byte it did not write (see `Asm`).
    let buf =
        unsafe { core::slice::from_raw_parts_mut(buf.cast::<MaybeUninit<u8>>(), cap as usize) };
    // SAFETY: the caller promises `cfg` is valid for reads.
    let cfg = unsafe { &*cfg };
    let mut asm = Asm::new_uninit(buf, ip);
    match f(&mut asm, cfg) {
        Ok(()) => asm.len() as c_int,
        Err(e) => errno(e),
    }
}

/// The verifier's marks at `map`, a bitmap of `cfg.nr_ldst` bits, or none.
///
/// # Safety
///
/// `map` must be null or point to a bitmap of `cfg.nr_ldst` bits that
/// lives as long as `cfg`.
unsafe fn bitmap(cfg: &Config, map: *const u64) -> StackOnly<'_> {
    if map.is_null() || cfg.nr_ldst == 0 {
        return StackOnly::NONE;
    }
    let words = (cfg.nr_ldst as usize).div_ceil(64);
    // SAFETY: the caller promises a bitmap of `nr_ldst` bits, which the
    // kernel allocates in whole `unsigned long`s (64 bits on x86-64).
    let words = unsafe { core::slice::from_raw_parts(map, words) };
    StackOnly::new(words, cfg.nr_ldst).unwrap_or(StackOnly::NONE)
}

/// The checker of a program with the verifier's marks that `cfg` points
/// to, from its `ldst`-th load or store.
///
/// # Safety
///
/// `cfg.stack_only`, `cfg.trusted` and `cfg.aligned` must each be null or
/// point to a bitmap of `cfg.nr_ldst` bits that lives as long as `cfg`.
unsafe fn checker(cfg: &Config, ldst: u32) -> Checker<'_> {
    // SAFETY: forwarded from our caller.
    let (marks, trusted, aligned) = unsafe {
        (
            bitmap(cfg, cfg.stack_only),
            bitmap(cfg, cfg.trusted),
            bitmap(cfg, cfg.aligned),
        )
    };
    Checker::with_marks(marks, trusted, aligned, ldst)
}

/// Plans the checks of `insns`: returns the number of checks the JIT will
/// emit, so that it can leave a program with none exactly as it would
/// without KASAN, or -EINVAL if the verifier's marks in `cfg` do not
/// describe `insns`. In inline mode, with `members` (the plan: twice `len`
/// bits rounded up to whole `unsigned long`s, [`merge::plan_words`]) and
/// `targets` (`len` bits, scratch), merges the checks of neighbouring
/// accesses and records each group's members and skipped accesses in
/// `members` (see `merge.rs`); `cfg.members` must then point to it when
/// the JIT emits.
/// `*merged` is set to the number of members: checked accesses without a
/// check of their own.
///
/// # Safety
///
/// `cfg` must point to a valid config whose marks are valid (see
/// [`checker`]), `insns` to `len` valid instructions, `members` and
/// `targets` each be null or point to writable `unsigned long`s that
/// nothing else uses meanwhile (as many as said above), and `merged` to a
/// writable `u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_plan(
    cfg: *const Config,
    insns: *const BpfInsn,
    len: u32,
    members: *mut u64,
    targets: *mut u64,
    merged: *mut u32,
) -> c_int {
    if cfg.is_null() || insns.is_null() || merged.is_null() {
        return EFAULT.to_errno();
    }
    // SAFETY: the caller promises `merged` is valid for writes.
    unsafe { merged.write(0) };
    // SAFETY: the caller promises `insns` has `len` instructions.
    let insns = unsafe { core::slice::from_raw_parts(insns, len as usize) };
    // SAFETY: the caller promises `cfg` and its marks are valid.
    let cfg = unsafe { &*cfg };
    // SAFETY: as above.
    let (marks, trusted, aligned) = unsafe {
        (
            bitmap(cfg, cfg.stack_only),
            bitmap(cfg, cfg.trusted),
            bitmap(cfg, cfg.aligned),
        )
    };
    let count = match insn::count_checks_marked(insns, marks, trusted, aligned) {
        Ok(n) => n,
        Err(Mismatch) => return EINVAL.to_errno(),
    };
    if members.is_null() || targets.is_null() || cfg.mode != emit::Mode::Inline as u8 {
        return c_int::try_from(count).unwrap_or(ERANGE.to_errno());
    }
    let words = (len as usize).div_ceil(64);
    // SAFETY: the caller promises the plan's words at `members` and `len`
    // bits at `targets`, writable, for us alone; the kernel allocates
    // bitmaps in whole `unsigned long`s.
    let (members, targets) = unsafe {
        (
            core::slice::from_raw_parts_mut(members, merge::plan_words(len as usize)),
            core::slice::from_raw_parts_mut(targets, words),
        )
    };
    let walk = Checker::with_marks(marks, trusted, aligned, 0);
    match merge::plan_program(insns, walk, targets, members) {
        Ok(Some(n)) => {
            // SAFETY: as above.
            unsafe { merged.write(count.saturating_sub(n)) };
            c_int::try_from(n).unwrap_or(ERANGE.to_errno())
        }
        // Indirect jumps: nothing merged.
        Ok(None) => c_int::try_from(count).unwrap_or(ERANGE.to_errno()),
        Err(merge::TooSmall) => EINVAL.to_errno(),
    }
}

/// Whether the program keeps the shadow offset in `r12`: the JIT must then
/// save `r12` in the prologue and restore it on every exit and tail call.
///
/// # Safety
///
/// `cfg` must point to a valid config.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_uses_r12(cfg: *const Config) -> bool {
    // SAFETY: the caller promises `cfg` is valid for reads.
    !cfg.is_null() && unsafe { &*cfg }.uses_r12()
}

/// The room the JIT must give [`bpf_jit_kasan_emit_check`] (`cap`): the
/// length of the longest check, with calls of `cfg.call_len` bytes (see
/// [`emit::max_check_len`]). -EINVAL if `call_len` is shorter than a `call
/// rel32`.
///
/// # Safety
///
/// `cfg` must point to a valid config.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_max_check_len(cfg: *const Config) -> c_int {
    if cfg.is_null() {
        return EFAULT.to_errno();
    }
    // SAFETY: the caller promises `cfg` is valid for reads.
    let cfg = unsafe { &*cfg };
    if cfg.call_len < emit::CALL_REL32_LEN {
        return EINVAL.to_errno();
    }
    c_int::try_from(emit::max_check_len(cfg)).unwrap_or(ERANGE.to_errno())
}

/// Emits the end of the prologue (after `r12` is saved) into `buf`, which
/// runs at `ip`. Returns the length or a negative errno.
///
/// # Safety
///
/// `cfg` must point to a valid config and `buf` to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_emit_prologue(
    cfg: *const Config,
    buf: *mut u8,
    cap: u32,
    ip: u64,
) -> c_int {
    // SAFETY: forwarded from our caller.
    unsafe { with_asm(cfg, buf, cap, ip, emit::emit_prologue) }
}

/// The program's insns and merged groups from `cfg`, and the index of
/// `insn` among them, if the program is merged and `insn` is one of them.
///
/// # Safety
///
/// `cfg.insns` and `cfg.members` must each be null or point to `cfg.len`
/// insns and the plan of as many (see [`bpf_jit_kasan_plan`]) that live as
/// long as `cfg`.
unsafe fn merged<'a>(
    cfg: &'a Config,
    insn: *const BpfInsn,
) -> Option<(&'a [BpfInsn], merge::Plan<'a>, usize)> {
    if cfg.insns.is_null() || cfg.members.is_null() {
        return None;
    }
    let len = cfg.len as usize;
    let at = (insn as usize).wrapping_sub(cfg.insns as usize);
    let idx = at / size_of::<BpfInsn>();
    if at % size_of::<BpfInsn>() != 0 || idx >= len {
        return None;
    }
    // SAFETY: the caller promises `len` insns at `cfg.insns`, and their
    // plan at `cfg.members`, in whole `unsigned long`s.
    let (insns, words) = unsafe {
        (
            core::slice::from_raw_parts(cfg.insns, len),
            core::slice::from_raw_parts(cfg.members, merge::plan_words(len)),
        )
    };
    let plan = merge::Plan::new(words, cfg.len).ok()?;
    Some((insns, plan, idx))
}

/// Emits the check for `insn`, if it is checked, into `buf`, which runs at
/// `ip`; `tail` is the address of the out-of-line tail. `*ldst` counts the
/// loads and stores before `insn` (the JIT starts it at 0 in every pass and
/// calls this for every insn in order); it is advanced past `insn`. Fills
/// `site` and returns the length (0: not checked) or a negative errno.
///
/// # Safety
///
/// `cfg` (and its marks, see [`marks`]), `insn` and `ldst` must point to
/// valid objects, `buf` to `cap` writable bytes and `site` to writable
/// memory for one `struct bpf_jit_kasan_site`.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_emit_check(
    cfg: *const Config,
    insn: *const BpfInsn,
    ldst: *mut u32,
    buf: *mut u8,
    cap: u32,
    ip: u64,
    tail: u64,
    site: *mut Site,
) -> c_int {
    if cfg.is_null() || insn.is_null() || ldst.is_null() || site.is_null() {
        return EFAULT.to_errno();
    }
    // SAFETY: the caller promises `cfg` and its marks are valid, and
    // `ldst` valid for reads and writes.
    let mut walk = unsafe { checker(&*cfg, *ldst) };
    // SAFETY: the caller promises `insn` is valid for reads.
    let access = walk.next(unsafe { &*insn });
    // SAFETY: as above.
    unsafe { *ldst = walk.ldst };
    let Some(access) = access else {
        // SAFETY: the caller promises `site` is valid for writes.
        unsafe { site.write(Site::default()) };
        return 0;
    };
    // A member of a merged group has no check: its leader's covers it.
    // SAFETY: the caller promises `cfg` (with its merge fields) is valid.
    let span = match unsafe { merged(&*cfg, insn) } {
        None => merge::Span::of(&access),
        Some((insns, plan, idx)) => {
            match merge::check_span(insns, plan, idx, &access, walk) {
                Ok(Some(span)) => span,
                Ok(None) => {
                    // SAFETY: the caller promises `site` is valid for
                    // writes.
                    unsafe { site.write(Site::default()) };
                    return 0;
                }
                Err(merge::Inconsistent) => return EINVAL.to_errno(),
            }
        }
    };
    let mut out = Site::default();
    // SAFETY: forwarded from our caller.
    let ret = unsafe {
        with_asm(cfg, buf, cap, ip, |asm, cfg| {
            let mut arch = KernelArch::new(cfg)?;
            out = emit::emit_check_span(asm, &mut arch, cfg, &access, &span, tail)?;
            Ok(())
        })
    };
    // SAFETY: the caller promises `site` is valid for writes.
    unsafe { site.write(out) };
    ret
}

/// Emits the out-of-line tail all programs share (shadow offset constant,
/// thunk) into `buf`, which runs at `ip`. Returns the length or a negative
/// errno.
///
/// # Safety
///
/// `cfg` must point to a valid config and `buf` to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_emit_tail(
    cfg: *const Config,
    buf: *mut u8,
    cap: u32,
    ip: u64,
) -> c_int {
    // SAFETY: forwarded from our caller.
    unsafe {
        with_asm(cfg, buf, cap, ip, |asm, cfg| {
            emit::emit_tail(asm, &mut KernelArch::new(cfg)?, cfg)
        })
    }
}

/// Asks KASAN about `access` at `ip`, with the registers of the check.
/// Returns whether the accesses after it are still worth judging: not
/// after a report of an address without shadow, whose access faults.
fn judge(regs: &SavedRegs, access: &Access, ip: u64) -> bool {
    let addr = regs.address(access);
    let size = access.size.into();
    // SAFETY: KASAN's range checks take any address and size.
    unsafe {
        if access.probe {
            kasan_bpf_check_probe(addr, size, ip);
            true
        } else {
            kasan_bpf_check_access(addr, size, access.write, ip)
                || kasan_bpf_addr_has_shadow(addr, size)
        }
    }
}

/// The slow path: called by the thunk when the fast path could not prove an
/// access valid. Recomputes the access from the BPF instruction at the
/// faulting address and the saved registers, and lets KASAN judge it; if
/// that access leads a merged group, then each member in program order,
/// at its own instruction (see `merge.rs`).
///
/// # Safety
///
/// `regs` must point to the registers the thunk saved on its stack.
#[no_mangle]
pub unsafe extern "C" fn bpf_jit_kasan_slow_path(regs: *const SavedRegs) {
    // SAFETY: the thunk passes a pointer to the frame it just pushed, which
    // lives until we return.
    let regs = unsafe { &*regs };
    let mut w = Where {
        insns: core::ptr::null(),
        members: core::ptr::null(),
        off: core::ptr::null(),
        func: 0,
        len: 0,
        idx: 0,
    };
    // SAFETY: `w` is a valid `struct bpf_jit_kasan_where` to write to.
    if unsafe { bpf_jit_kasan_find_group(regs.ip, &mut w) } != 0 || w.insns.is_null() {
        return;
    }
    // SAFETY: the program is running (its check called us), so it is not
    // freed before we return: its insns, members and offsets stay.
    let insns = unsafe { core::slice::from_raw_parts(w.insns, w.len as usize) };
    let idx = w.idx as usize;
    let Some(access) = insns.get(idx).and_then(Access::of_checked) else {
        // The JIT only calls the thunk before a checked access: this is a
        // bug in the offset table, and the access goes unchecked.
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            kernel::pr_warn!(
                "no checked access at {:#x} (insn {}): not checked\n",
                regs.ip,
                idx
            );
        }
        return;
    };
    if !judge(regs, &access, regs.ip) || w.members.is_null() || w.off.is_null() {
        return;
    }
    // SAFETY: as above; the plan of `len` insns in whole `unsigned long`s
    // (see `bpf_jit_kasan_plan()`), and `len + 1` offsets.
    let (words, off) = unsafe {
        (
            core::slice::from_raw_parts(w.members, merge::plan_words(w.len as usize)),
            core::slice::from_raw_parts(w.off, w.len as usize + 1),
        )
    };
    let Ok(plan) = merge::Plan::new(words, w.len) else {
        return;
    };
    for m in merge::group(insns, plan, idx) {
        let Some(member) = Access::of_checked(&insns[m]) else {
            break;
        };
        // The member's own code: the report names its insn.
        let ip = w.func.wrapping_add(off[m].into());
        if !judge(regs, &member, ip) {
            break;
        }
    }
}
