// SPDX-License-Identifier: GPL-2.0

//! A small x86-64 encoder for the instructions the KASAN checks need.
//!
//! This module owns every REX, ModRM and SIB detail, so that the check
//! sequences in `emit.rs` read as assembly. It does not depend on the
//! `kernel` crate: the same source is compiled into the host test crate,
//! which decodes and executes what it emits.

use core::mem::MaybeUninit;

/// An x86-64 general-purpose register; the discriminant is its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reg {
    /// `rax`
    Rax = 0,
    /// `rcx`
    Rcx = 1,
    /// `rdx`
    Rdx = 2,
    /// `rbx`
    Rbx = 3,
    /// `rsp`
    Rsp = 4,
    /// `rbp`
    Rbp = 5,
    /// `rsi`
    Rsi = 6,
    /// `rdi`
    Rdi = 7,
    /// `r8`
    R8 = 8,
    /// `r9`
    R9 = 9,
    /// `r10`
    R10 = 10,
    /// `r11`
    R11 = 11,
    /// `r12`
    R12 = 12,
    /// `r13`
    R13 = 13,
    /// `r14`
    R14 = 14,
    /// `r15`
    R15 = 15,
}

impl Reg {
    /// The low three bits, as they go into ModRM, SIB or the opcode.
    fn low(self) -> u8 {
        self as u8 & 7
    }

    /// Whether the register needs a REX extension bit (`r8`..`r15`).
    fn ext(self) -> bool {
        self as u8 >= 8
    }
}

/// Operand size of a memory compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// One byte.
    Byte,
    /// Two bytes.
    Word,
    /// Four bytes.
    Dword,
    /// Eight bytes.
    Qword,
}

/// A memory operand: `[base + index + disp]` (scale 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mem {
    /// `[base + index + disp]`; `index` may not be `rsp`.
    Base {
        /// Base register.
        base: Reg,
        /// Optional index register, scale 1.
        index: Option<Reg>,
        /// Displacement.
        disp: i32,
    },
    /// `[rip + disp]`, where the target is an absolute address.
    Rip {
        /// Address of the operand.
        target: u64,
    },
}

impl Mem {
    /// `[base + disp]`.
    pub fn base(base: Reg, disp: i32) -> Self {
        Mem::Base {
            base,
            index: None,
            disp,
        }
    }
}

/// Errors of the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The output buffer is full.
    NoSpace,
    /// A relative target is out of rel32 (or rel8) range.
    Range,
    /// An operand that has no encoding (for example `rsp` as index).
    Operand,
}

/// Result type of the encoder.
pub type Result<T = ()> = core::result::Result<T, Error>;

/// An assembler writing into a caller-provided buffer.
///
/// `ip` is the address the first byte of `buf` will have when the code
/// runs, so that relative branches and RIP-relative operands are right.
///
/// The buffer may be uninitialised (the JIT's are): the assembler only ever
/// writes to it, and counts in [`Asm::len`] only bytes that were written,
/// so the first `len()` bytes are initialised ([`Asm::code`]).
pub struct Asm<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    len: usize,
    ip: u64,
}

impl<'a> Asm<'a> {
    /// Creates an assembler over `buf`, whose first byte runs at `ip`; the
    /// bytes in `buf` need not be initialised.
    pub fn new_uninit(buf: &'a mut [MaybeUninit<u8>], ip: u64) -> Self {
        Asm { buf, len: 0, ip }
    }

    /// Creates an assembler over the initialised `buf`, whose first byte
    /// runs at `ip`.
    pub fn new(buf: &'a mut [u8], ip: u64) -> Self {
        let len = buf.len();
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the slice
        // is borrowed for as long as `buf`. Viewing initialised bytes as
        // possibly uninitialised is sound as long as nothing writes an
        // uninitialised byte through the view: `Asm` writes only `u8`
        // values, and [`Asm::advance`] requires whoever writes through
        // [`Asm::spare`] to write initialised bytes.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), len) };
        Asm { buf, len: 0, ip }
    }

    /// Number of bytes emitted so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was emitted yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes emitted so far.
    pub fn code(&self) -> &[u8] {
        // SAFETY: every byte below `len` was written, by `Asm` or by an
        // external emitter as [`Asm::advance`] requires, so it is
        // initialised; `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { core::slice::from_raw_parts(self.buf.as_ptr().cast(), self.len) }
    }

    /// Address of the next byte to be emitted.
    pub fn pc(&self) -> u64 {
        self.ip.wrapping_add(self.len as u64)
    }

    /// The unused rest of the buffer, for an external emitter: a pointer to
    /// it and its length in bytes. Whatever is written there counts only
    /// after [`Asm::advance`], and must be initialised bytes.
    pub fn spare(&mut self) -> (*mut u8, usize) {
        let spare = &mut self.buf[self.len..];
        (spare.as_mut_ptr().cast(), spare.len())
    }

    /// Accounts for `n` bytes that an external emitter wrote into
    /// [`Asm::spare`].
    ///
    /// # Safety
    ///
    /// The first `n` bytes at the pointer [`Asm::spare`] returned must have
    /// been written with initialised bytes since, with nothing emitted in
    /// between.
    pub unsafe fn advance(&mut self, n: usize) -> Result {
        if n > self.buf.len() - self.len {
            return Err(Error::NoSpace);
        }
        self.len += n;
        Ok(())
    }

    /// Emits raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result {
        for &x in b {
            self.byte(x)?;
        }
        Ok(())
    }

    /// Emits one byte. The JIT calls this for every byte of every check in
    /// every pass, so it stores directly instead of copying a slice (in the
    /// kernel, a KASAN-checked memcpy).
    fn byte(&mut self, b: u8) -> Result {
        let slot = self.buf.get_mut(self.len).ok_or(Error::NoSpace)?;
        slot.write(b);
        self.len += 1;
        Ok(())
    }

    /// Overwrites the emitted bytes that end at `end` with `b`.
    fn patch(&mut self, end: usize, b: &[u8]) -> Result {
        let start = end.checked_sub(b.len()).ok_or(Error::Operand)?;
        if end > self.len {
            return Err(Error::Operand);
        }
        for (slot, &x) in self.buf[start..end].iter_mut().zip(b) {
            slot.write(x);
        }
        Ok(())
    }

    fn imm32(&mut self, v: i32) -> Result {
        self.bytes(&v.to_le_bytes())
    }

    /// Emits a REX prefix if any bit is set or `force` is true.
    fn rex(&mut self, w: bool, r: bool, x: bool, b: bool, force: bool) -> Result {
        let rex = 0x40 | (w as u8) << 3 | (r as u8) << 2 | (x as u8) << 1 | b as u8;
        if rex != 0x40 || force {
            self.byte(rex)?;
        }
        Ok(())
    }

    /// REX for a `reg` field and a memory operand.
    fn rex_mem(&mut self, w: bool, reg: u8, mem: &Mem) -> Result {
        let r = reg >= 8;
        match *mem {
            Mem::Base { base, index, .. } => {
                let x = index.is_some_and(Reg::ext);
                self.rex(w, r, x, base.ext(), false)
            }
            Mem::Rip { .. } => self.rex(w, r, false, false, false),
        }
    }

    /// ModRM (+ SIB + displacement) for a memory operand. `tail` is the
    /// number of immediate bytes that follow, needed for RIP-relative
    /// displacements.
    fn modrm_mem(&mut self, reg: u8, mem: &Mem, tail: usize) -> Result {
        let reg = (reg & 7) << 3;
        match *mem {
            Mem::Rip { target } => {
                let next = self.pc().wrapping_add(5 + tail as u64);
                let rel = target.wrapping_sub(next) as i64;
                let rel = i32::try_from(rel).map_err(|_| Error::Range)?;
                self.byte(reg | 0b101)?;
                self.imm32(rel)
            }
            Mem::Base { base, index, disp } => {
                // rbp and r13 as base have no mod=00 form: use disp8 0.
                let md = if disp == 0 && base.low() != 5 {
                    0b00
                } else if i8::try_from(disp).is_ok() {
                    0b01
                } else {
                    0b10
                };
                match index {
                    Some(Reg::Rsp) => return Err(Error::Operand),
                    Some(idx) => {
                        self.byte(md << 6 | reg | 0b100)?;
                        self.byte(idx.low() << 3 | base.low())?;
                    }
                    // rsp and r12 as base need a SIB byte.
                    None if base.low() == 4 => {
                        self.byte(md << 6 | reg | 0b100)?;
                        self.byte(0x24)?;
                    }
                    None => self.byte(md << 6 | reg | base.low())?,
                }
                match md {
                    0b01 => self.byte(disp as u8),
                    0b10 => self.imm32(disp),
                    _ => Ok(()),
                }
            }
        }
    }

    /// `lea dst, mem` (64-bit).
    pub fn lea(&mut self, dst: Reg, mem: Mem) -> Result {
        self.rex_mem(true, dst as u8, &mem)?;
        self.byte(0x8d)?;
        self.modrm_mem(dst as u8, &mem, 0)
    }

    /// `mov dst, mem` (64-bit load).
    pub fn mov_load(&mut self, dst: Reg, mem: Mem) -> Result {
        self.rex_mem(true, dst as u8, &mem)?;
        self.byte(0x8b)?;
        self.modrm_mem(dst as u8, &mem, 0)
    }

    /// `add dst, mem` (64-bit).
    pub fn add_load(&mut self, dst: Reg, mem: Mem) -> Result {
        self.rex_mem(true, dst as u8, &mem)?;
        self.byte(0x03)?;
        self.modrm_mem(dst as u8, &mem, 0)
    }

    /// `mov dst, src` (64-bit).
    pub fn mov(&mut self, dst: Reg, src: Reg) -> Result {
        self.rex(true, src.ext(), false, dst.ext(), false)?;
        self.byte(0x89)?;
        self.byte(0xc0 | src.low() << 3 | dst.low())
    }

    /// `add reg, imm` (64-bit): the sign-extended imm8 form when `imm`
    /// fits, else imm32, as the kernel's JIT encodes `BPF_ADD | BPF_K`
    /// for registers other than `rax`.
    pub fn add_imm(&mut self, reg: Reg, imm: i32) -> Result {
        self.rex(true, false, false, reg.ext(), false)?;
        match i8::try_from(imm) {
            Ok(imm8) => {
                self.byte(0x83)?;
                self.byte(0xc0 | reg.low())?;
                self.byte(imm8 as u8)
            }
            Err(_) => {
                self.byte(0x81)?;
                self.byte(0xc0 | reg.low())?;
                self.imm32(imm)
            }
        }
    }

    /// `movabs dst, imm64`.
    pub fn mov_imm64(&mut self, dst: Reg, imm: u64) -> Result {
        self.rex(true, false, false, dst.ext(), false)?;
        self.byte(0xb8 + dst.low())?;
        self.bytes(&imm.to_le_bytes())
    }

    /// `shr reg, imm8` (64-bit).
    pub fn shr(&mut self, reg: Reg, imm: u8) -> Result {
        self.rex(true, false, false, reg.ext(), false)?;
        self.byte(0xc1)?;
        self.byte(0xc0 | 5 << 3 | reg.low())?;
        self.byte(imm)
    }

    /// `cmp byte|word|dword|qword ptr mem, imm8` (the immediate
    /// sign-extended to the operand size).
    pub fn cmp_mem_imm8(&mut self, width: Width, mem: Mem, imm: i8) -> Result {
        let op = match width {
            Width::Byte => 0x80,
            Width::Word => {
                self.byte(0x66)?;
                0x83
            }
            Width::Dword | Width::Qword => 0x83,
        };
        self.rex_mem(width == Width::Qword, 0, &mem)?;
        self.byte(op)?;
        self.modrm_mem(7, &mem, 1)?;
        self.byte(imm as u8)
    }

    /// `push reg`.
    pub fn push(&mut self, reg: Reg) -> Result {
        self.rex(false, false, false, reg.ext(), false)?;
        self.byte(0x50 + reg.low())
    }

    /// `pop reg`.
    pub fn pop(&mut self, reg: Reg) -> Result {
        self.rex(false, false, false, reg.ext(), false)?;
        self.byte(0x58 + reg.low())
    }

    /// `jz rel8` with a placeholder displacement; returns the position to
    /// pass to [`Asm::bind_rel8`].
    pub fn jz_rel8(&mut self) -> Result<usize> {
        self.bytes(&[0x74, 0])?;
        Ok(self.len)
    }

    /// Points the rel8 branch ending at `at` to the current position.
    pub fn bind_rel8(&mut self, at: usize) -> Result {
        let dist = self.len.checked_sub(at).ok_or(Error::Operand)?;
        let rel = i8::try_from(dist).map_err(|_| Error::Range)?;
        self.patch(at, &[rel as u8])
    }

    /// `call rel32` to an absolute target, with no mitigation accounting
    /// (see `emit::Arch::call` for calls that need it).
    pub fn call_rel32(&mut self, target: u64) -> Result {
        let rel = target.wrapping_sub(self.pc().wrapping_add(5)) as i64;
        let rel = i32::try_from(rel).map_err(|_| Error::Range)?;
        self.byte(0xe8)?;
        self.imm32(rel)
    }

    /// A plain `ret`, followed by `int3` against straight-line speculation.
    pub fn ret(&mut self) -> Result {
        self.bytes(&[0xc3, 0xcc])
    }
}
