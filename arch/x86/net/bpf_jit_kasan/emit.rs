// SPDX-License-Identifier: GPL-2.0

//! The KASAN check sequences for JIT-compiled BPF: policy over `asm.rs`.
//!
//! Inline mode (sysctl 1) puts a fast path before each checked access:
//!
//! ```text
//!     lea   r11, [base + off]        ; the address the access will use
//!     shr   r11, 3                   ; its shadow byte's offset
//!     cmp   byte..qword [r11+r12], 0 ; r12 holds KASAN_SHADOW_OFFSET
//!     jz    1f                       ; granule(s) fully valid: go on
//!     call  kasan_thunk              ; else ask KASAN (out of line)
//! 1:  <the access>
//! ```
//!
//! One-byte accesses, and wider ones that the verifier proved naturally
//! aligned (which cannot straddle), read one shadow byte; other wider ones
//! read the shadow of the access's granule and the next, so that an access
//! that straddles two granules is never let through on the first alone; a
//! merged group's check (`merge.rs`) reads the shadow of all the granules
//! its accesses may touch, a dword or a qword for three to eight. The fast path only
//! proves accesses valid: anything else (partial granules, poison, wild
//! addresses) goes to KASAN's own range check, whose verdict is final. The
//! shadow read is covered by an exception-table entry whose fixup skips it
//! and the `jz` ([`Site::fault_len`] bytes) and so lands on the call: a
//! wild pointer (NULL, a user or non-canonical address, anything without
//! shadow) gets KASAN's report rather than an oops in the check. The flags
//! at the fault cannot decide this: for addresses 0 to 7, `shr` leaves 0
//! and sets ZF, and `jz` would skip the slow path.
//!
//! `r12` is callee-saved and otherwise only used by arena programs. Loading
//! it costs the program 14 bytes (save, load, restore), so only programs
//! with [`R12_MIN_CHECKS`] checks or more, and no arena, keep the offset
//! there; the others add it from the constant in front of the thunk
//! (`add r11, [rip + offset]`, 5 bytes more per check). `r11` and the flags
//! are JIT temporaries, dead between BPF instructions; every other register
//! is preserved.
//!
//! One out-of-line tail, shared by every program and emitted once at boot,
//! holds that constant and the thunk. The thunk saves all registers, builds
//! a frame the unwinder can follow, and calls the slow path with the saved
//! registers, which end with the address of the access (its return
//! address). The slow path recomputes the address from the BPF instruction,
//! so sites need no per-site stub and cost only the bytes above.
//!
//! Outline mode (sysctl 2) emits, byte for byte, the sequence of the
//! upstream series (BPF_JIT_KASAN, bpf-next): every access calls KASAN's
//! own `__asan_{load,store}N()` with the caller-saved registers pushed and
//! popped around the call:
//!
//! ```text
//!     push  rax, rcx, rdx, rsi, rdi, r8, r9, r10, r11
//!     mov   rdi, base
//!     add   rdi, off                 ; imm8 or imm32; none if off is 0
//!     call  __asan_{load,store}N     ; KASAN's verdict, _RET_IP_ as ip
//!     pop   r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax
//! ```
//!
//! so that "versus upstream" is measured on upstream's code, not on an
//! approximation. The return address KASAN reports lies in the check,
//! within the code of the access's instruction, which is all the report's
//! `kasan_ebpf:` line needs. Fault-tolerant loads (which upstream does not
//! check) call `kasan_bpf_probe_loadN()` the same way.

use crate::asm::{Asm, Error, Mem, Reg, Result, Width};
use crate::insn::{Access, BpfInsn, BpfReg};
use crate::merge::{Span, MAX_GRANULES};
use core::mem::{offset_of, size_of, MaybeUninit};

/// log2 of the KASAN generic granule (`KASAN_SHADOW_SCALE_SHIFT`).
pub const SHADOW_SCALE_SHIFT: u8 = 3;

/// Fewest checks for which keeping the shadow offset in `r12` (14 bytes per
/// program) is smaller than adding it from memory (5 bytes per check).
pub const R12_MIN_CHECKS: u32 = 3;

/// Offset of the thunk in the tail, after the shadow offset constant.
pub const THUNK_OFFSET: u64 = 8;

/// Instrumentation modes, as `net.core.bpf_jit_kasan` numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// No checks.
    Off = 0,
    /// Inline fast path, out-of-line slow path.
    Inline = 1,
    /// Every access calls into KASAN.
    Outline = 2,
}

impl Mode {
    /// The mode numbered `n`.
    pub fn new(n: u8) -> Option<Mode> {
        match n {
            0 => Some(Mode::Off),
            1 => Some(Mode::Inline),
            2 => Some(Mode::Outline),
            _ => None,
        }
    }
}

/// What the JIT tells the emitter; `struct bpf_jit_kasan_cfg` in C.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Config {
    /// `KASAN_SHADOW_OFFSET`.
    pub shadow_offset: u64,
    /// Address of the slow path the thunk calls.
    pub slow_path: u64,
    /// Outline entry points, `[kind][log2 size]`: kind 0 loads
    /// (`__asan_loadN()`), 1 stores (`__asan_storeN()`), 2 fault-tolerant
    /// loads ([`Access::probe`](crate::insn::Access),
    /// `kasan_bpf_probe_loadN()`). Each takes the address in `rdi` and
    /// reports with its return address as the access's.
    pub outline: [[u64; 4]; 3],
    /// The verifier's stack-only marks (`aux->kasan_stack_only`), or null;
    /// see [`crate::insn::StackOnly`].
    pub stack_only: *const u64,
    /// The verifier's trusted-load marks (`aux->kasan_trusted`), or null;
    /// `nr_ldst` bits like `stack_only`.
    pub trusted: *const u64,
    /// The verifier's alignment marks (`aux->kasan_aligned`), or null;
    /// `nr_ldst` bits like `stack_only`.
    pub aligned: *const u64,
    /// Number of checked accesses in the program.
    pub checks: u32,
    /// Number of bits at `stack_only`: the program's loads and stores.
    pub nr_ldst: u32,
    /// Bytes of the longest call the arch emits ([`Arch::call`]: with call
    /// depth accounting, more than a `call rel32`); at least
    /// [`CALL_REL32_LEN`].
    pub call_len: u32,
    /// A [`Mode`] number.
    pub mode: u8,
    /// Nonzero if `r12` is free to hold the shadow offset (no arena).
    pub r12_free: u8,
    /// The program's insns, in which the emitter finds the merged group of
    /// an insn it checks (see `merge.rs`); null: no merging.
    pub insns: *const BpfInsn,
    /// The members of the merged groups (`aux->kasan_members`), one bit
    /// per insn at `insns`, as [`crate::merge::plan`] wrote them; null: no
    /// merging.
    pub members: *const u64,
    /// Number of insns at `insns`.
    pub len: u32,
}

impl Config {
    fn mode(&self) -> Result<Mode> {
        Mode::new(self.mode).ok_or(Error::Operand)
    }

    /// Whether the program keeps the shadow offset in `r12`, which the JIT
    /// must then save in the prologue and restore on every exit.
    pub fn uses_r12(&self) -> bool {
        self.mode == Mode::Inline as u8 && self.r12_free != 0 && self.checks >= R12_MIN_CHECKS
    }
}

const _: () = {
    assert!(size_of::<Config>() == 176);
    assert!(offset_of!(Config, shadow_offset) == 0);
    assert!(offset_of!(Config, slow_path) == 8);
    assert!(offset_of!(Config, outline) == 16);
    assert!(offset_of!(Config, stack_only) == 112);
    assert!(offset_of!(Config, trusted) == 120);
    assert!(offset_of!(Config, aligned) == 128);
    assert!(offset_of!(Config, checks) == 136);
    assert!(offset_of!(Config, nr_ldst) == 140);
    assert!(offset_of!(Config, call_len) == 144);
    assert!(offset_of!(Config, mode) == 148);
    assert!(offset_of!(Config, r12_free) == 149);
    assert!(offset_of!(Config, insns) == 152);
    assert!(offset_of!(Config, members) == 160);
    assert!(offset_of!(Config, len) == 168);
};

/// Length of `call rel32`, the shortest call [`Arch::call`] emits.
pub const CALL_REL32_LEN: u32 = 5;

/// Emission of calls and returns, which depend on the kernel's mitigations
/// (call depth accounting, return thunks).
pub trait Arch {
    /// Emits a call to `target` at the current position.
    fn call(&mut self, asm: &mut Asm<'_>, target: u64) -> Result;
    /// Emits a function return.
    fn ret(&mut self, asm: &mut Asm<'_>) -> Result;
}

/// Calls and returns with no mitigation: `call rel32`, `ret; int3`.
pub struct Plain;

impl Arch for Plain {
    fn call(&mut self, asm: &mut Asm<'_>, target: u64) -> Result {
        asm.call_rel32(target)
    }

    fn ret(&mut self, asm: &mut Asm<'_>) -> Result {
        asm.ret()
    }
}

/// What one check emitted; `struct bpf_jit_kasan_site` in C.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Site {
    /// Bytes emitted (0: the instruction is not checked).
    pub len: u32,
    /// Offset of the shadow read that may fault, for the exception table.
    pub fault_off: u32,
    /// Bytes a fault at `fault_off` skips: the shadow read and the `jz`
    /// after it, so that execution resumes at the call to the slow path
    /// (0: no exception-table entry).
    pub fault_len: u32,
}

const _: () = {
    assert!(size_of::<Site>() == 12);
    assert!(offset_of!(Site, len) == 0);
    assert!(offset_of!(Site, fault_off) == 4);
    assert!(offset_of!(Site, fault_len) == 8);
};

/// Registers the outline mode saves around its call: the caller-saved ones.
pub const OUTLINE_SAVED: [Reg; 9] = [
    Reg::Rax,
    Reg::Rcx,
    Reg::Rdx,
    Reg::Rsi,
    Reg::Rdi,
    Reg::R8,
    Reg::R9,
    Reg::R10,
    Reg::R11,
];

/// Registers as the thunk saves them, lowest address first; `rbp` and the
/// return address follow (see [`SavedRegs`]).
pub const THUNK_SAVED: [Reg; 14] = [
    Reg::Rax,
    Reg::Rbx,
    Reg::Rcx,
    Reg::Rdx,
    Reg::Rsi,
    Reg::Rdi,
    Reg::R8,
    Reg::R9,
    Reg::R10,
    Reg::R11,
    Reg::R12,
    Reg::R13,
    Reg::R14,
    Reg::R15,
];

/// The register file at a checked access, as the thunk leaves it on the
/// stack for the slow path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SavedRegs {
    /// [`THUNK_SAVED`], in order.
    pub gpr: [u64; 14],
    /// `rbp`, the BPF frame pointer.
    pub rbp: u64,
    /// Return address of the thunk: the checked access.
    pub ip: u64,
}

// The thunk pushes the return address, rbp and THUNK_SAVED: 16 words.
const _: () = {
    assert!(size_of::<SavedRegs>() == (THUNK_SAVED.len() + 2) * 8);
    assert!(offset_of!(SavedRegs, gpr) == 0);
    assert!(offset_of!(SavedRegs, rbp) == THUNK_SAVED.len() * 8);
    assert!(offset_of!(SavedRegs, ip) == (THUNK_SAVED.len() + 1) * 8);
};

impl SavedRegs {
    /// The value `reg` had at the access (`rsp` is not saved: 0).
    pub fn get(&self, reg: Reg) -> u64 {
        if reg == Reg::Rbp {
            return self.rbp;
        }
        THUNK_SAVED
            .iter()
            .position(|&r| r == reg)
            .map_or(0, |i| self.gpr[i])
    }

    /// The address `access` uses, with these registers.
    pub fn address(&self, access: &Access) -> u64 {
        self.get(access.base.x86())
            .wrapping_add(access.off as i64 as u64)
    }
}

/// Emits what goes at the end of the prologue, after the JIT saved `r12`.
pub fn emit_prologue(asm: &mut Asm<'_>, cfg: &Config) -> Result {
    if cfg.uses_r12() {
        asm.mov_imm64(Reg::R12, cfg.shadow_offset)?;
    }
    Ok(())
}

/// Emits the check for `access` before the instruction that makes it.
///
/// `tail` is the address of the shared out-of-line tail ([`emit_tail`]).
/// The sequence has the same length wherever the tail and the code are, so
/// the JIT's passes converge as before.
pub fn emit_check(
    asm: &mut Asm<'_>,
    arch: &mut dyn Arch,
    cfg: &Config,
    access: &Access,
    tail: u64,
) -> Result<Site> {
    emit_check_span(asm, arch, cfg, access, &Span::of(access), tail)
}

/// Emits the check of a merged group (see `merge.rs`) before its leader,
/// `access`: in inline mode, the fast path covers `span`, the bytes of the
/// whole group, which must lie within [`MAX_GRANULES`] granules, with one
/// compare of as many shadow bytes as the next power of two; outline mode
/// does not merge and checks `access` alone.
pub fn emit_check_span(
    asm: &mut Asm<'_>,
    arch: &mut dyn Arch,
    cfg: &Config,
    access: &Access,
    span: &Span,
    tail: u64,
) -> Result<Site> {
    let start = asm.len();
    let mut site = Site::default();

    match cfg.mode()? {
        Mode::Off => return Ok(site),
        Mode::Inline => {
            let width = match span.granules() {
                1 => Width::Byte,
                2 => Width::Word,
                3..=4 => Width::Dword,
                5..=MAX_GRANULES => Width::Qword,
                _ => return Err(Error::Operand),
            };
            let off = i16::try_from(span.lo).map_err(|_| Error::Operand)?;
            if span.base != access.base || span.lo > access.off.into() {
                return Err(Error::Operand);
            }
            asm.lea(Reg::R11, Mem::base(span.base.x86(), off.into()))?;
            asm.shr(Reg::R11, SHADOW_SCALE_SHIFT)?;
            let shadow = if cfg.uses_r12() {
                Mem::Base {
                    base: Reg::R11,
                    index: Some(Reg::R12),
                    disp: 0,
                }
            } else {
                asm.add_load(Reg::R11, Mem::Rip { target: tail })?;
                Mem::base(Reg::R11, 0)
            };
            site.fault_off = (asm.len() - start) as u32;
            asm.cmp_mem_imm8(width, shadow, 0)?;
            let valid = asm.jz_rel8()?;
            // A faulting shadow read resumes here, at the call.
            site.fault_len = (asm.len() - start) as u32 - site.fault_off;
            arch.call(asm, tail + THUNK_OFFSET)?;
            asm.bind_rel8(valid)?;
        }
        Mode::Outline => {
            for r in OUTLINE_SAVED {
                asm.push(r)?;
            }
            asm.mov(Reg::Rdi, access.base.x86())?;
            if access.off != 0 {
                asm.add_imm(Reg::Rdi, access.off.into())?;
            }
            let kind = if access.probe {
                2
            } else {
                access.write as usize
            };
            let entry = cfg.outline[kind][access.size_log2()];
            arch.call(asm, entry)?;
            for r in OUTLINE_SAVED.iter().rev() {
                asm.pop(*r)?;
            }
        }
    }
    site.len = (asm.len() - start) as u32;
    Ok(site)
}

/// An [`Arch`] that emits nothing and counts the calls, to measure.
struct Measure {
    calls: usize,
}

impl Arch for Measure {
    fn call(&mut self, _asm: &mut Asm<'_>, _target: u64) -> Result {
        self.calls += 1;
        Ok(())
    }

    fn ret(&mut self, _asm: &mut Asm<'_>) -> Result {
        Ok(())
    }
}

/// Length of the longest check [`emit_check`] emits with calls of
/// `cfg.call_len` bytes, whatever the mode and the access: the room the
/// JIT must give it (`cap`). Measured with the encoder on the longest forms
/// (disp32 offset, every base register, both compare widths and
/// directions; outline, and inline with and without `r12`), the calls
/// counted at `cfg.call_len` bytes (at least [`CALL_REL32_LEN`]).
/// `usize::MAX` if one of them cannot be emitted at all.
pub fn max_check_len(cfg: &Config) -> usize {
    let call_len = cfg.call_len.max(CALL_REL32_LEN) as usize;
    let modes = [
        (Mode::Outline, 1),
        (Mode::Inline, 1), // r12 holds the shadow offset
        (Mode::Inline, 0), // the offset is added from the tail
    ];
    let mut max = 0;
    for (mode, r12_free) in modes {
        let cfg = Config {
            mode: mode as u8,
            r12_free,
            checks: R12_MIN_CHECKS,
            ..*cfg
        };
        for base in BpfReg::ALL {
            // A byte and a word compare (sizes 2 to 8 differ in nothing).
            for size in [1, 8] {
                for write in [false, true] {
                    let access = Access {
                        base,
                        off: i16::MIN,
                        size,
                        write,
                        probe: false,
                        aligned: false,
                    };
                    let mut buf = [MaybeUninit::uninit(); 128];
                    let mut asm = Asm::new_uninit(&mut buf, 0);
                    let mut arch = Measure { calls: 0 };
                    let Ok(site) = emit_check(&mut asm, &mut arch, &cfg, &access, 0) else {
                        return usize::MAX;
                    };
                    let len = (site.len as usize).saturating_add(arch.calls * call_len);
                    max = max.max(len);
                }
            }
        }
    }
    max
}

/// Emits the out-of-line tail that all programs share: the shadow offset
/// (for programs that do not keep it in `r12`), then, at [`THUNK_OFFSET`],
/// the thunk that saves every register and calls the slow path with a
/// pointer to them ([`SavedRegs`], which ends with the thunk's return
/// address: the access).
pub fn emit_tail(asm: &mut Asm<'_>, arch: &mut dyn Arch, cfg: &Config) -> Result {
    asm.bytes(&cfg.shadow_offset.to_le_bytes())?;
    asm.push(Reg::Rbp)?;
    asm.mov(Reg::Rbp, Reg::Rsp)?;
    for r in THUNK_SAVED.iter().rev() {
        asm.push(*r)?;
    }
    asm.mov(Reg::Rdi, Reg::Rsp)?;
    arch.call(asm, cfg.slow_path)?;
    for r in THUNK_SAVED {
        asm.pop(r)?;
    }
    asm.pop(Reg::Rbp)?;
    arch.ret(asm)
}
