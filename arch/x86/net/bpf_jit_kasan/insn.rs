// SPDX-License-Identifier: GPL-2.0

//! BPF instructions as the JIT sees them, and which of them KASAN checks.
//!
//! [`Access::of`] is the single policy decision of what is instrumented. The
//! emitter uses it when it JITs an instruction, and the slow path uses it
//! again at run time to recompute the address from the saved registers, so
//! the two can never disagree. On top of it, [`Checker`] leaves out the
//! accesses that the verifier found to only ever touch the stack
//! ([`StackOnly`]). No dependency on the `kernel` crate.

use crate::asm::Reg;
use core::mem::{offset_of, size_of};

/// `struct bpf_insn` (include/uapi/linux/bpf.h), bit for bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct BpfInsn {
    /// Opcode.
    pub code: u8,
    /// `dst_reg` in the low nibble, `src_reg` in the high nibble.
    pub regs: u8,
    /// Signed offset.
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

const _: () = {
    assert!(size_of::<BpfInsn>() == 8);
    assert!(offset_of!(BpfInsn, code) == 0);
    assert!(offset_of!(BpfInsn, regs) == 1);
    assert!(offset_of!(BpfInsn, off) == 2);
    assert!(offset_of!(BpfInsn, imm) == 4);
};

/// Instruction classes, sizes and modes (uapi/linux/bpf_common.h, bpf.h,
/// linux/filter.h for the kernel-internal PROBE modes).
pub mod op {
    /// `BPF_LDX`
    pub const LDX: u8 = 0x01;
    /// `BPF_ST`
    pub const ST: u8 = 0x02;
    /// `BPF_STX`
    pub const STX: u8 = 0x03;
    /// `BPF_W`
    pub const W: u8 = 0x00;
    /// `BPF_H`
    pub const H: u8 = 0x08;
    /// `BPF_B`
    pub const B: u8 = 0x10;
    /// `BPF_DW`
    pub const DW: u8 = 0x18;
    /// `BPF_MEM`
    pub const MEM: u8 = 0x60;
    /// `BPF_MEMSX`
    pub const MEMSX: u8 = 0x80;
    /// `BPF_ATOMIC`
    pub const ATOMIC: u8 = 0xc0;
    /// `BPF_PROBE_MEM` (kernel internal)
    pub const PROBE_MEM: u8 = 0x20;
    /// `BPF_PROBE_MEMSX` (kernel internal)
    pub const PROBE_MEMSX: u8 = 0x40;
    /// `BPF_PROBE_MEM32` (kernel internal)
    pub const PROBE_MEM32: u8 = 0xa0;
    /// `BPF_PROBE_ATOMIC` (kernel internal)
    pub const PROBE_ATOMIC: u8 = 0xe0;
    /// `BPF_PROBE_MEM32SX` (kernel internal; an LDX mode, same value as
    /// the STX mode `BPF_ATOMIC`)
    pub const PROBE_MEM32SX: u8 = 0xc0;
    /// `BPF_LOAD_ACQ`: the `imm` of an STX ATOMIC insn that loads from
    /// `src_reg + off` into `dst_reg`, with acquire semantics
    pub const LOAD_ACQ: i32 = 0x100;
    /// `BPF_STORE_REL`: the `imm` of an STX ATOMIC insn that stores
    /// `src_reg` to `dst_reg + off`, with release semantics
    pub const STORE_REL: i32 = 0x110;
}

impl BpfInsn {
    /// Builds an instruction from its fields.
    pub fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        BpfInsn {
            code,
            regs: (src & 0xf) << 4 | (dst & 0xf),
            off,
            imm,
        }
    }

    /// `dst_reg`.
    pub fn dst(&self) -> u8 {
        self.regs & 0xf
    }

    /// `src_reg`.
    pub fn src(&self) -> u8 {
        self.regs >> 4
    }

    /// The access size in bytes that `BPF_SIZE(code)` names: 1, 2, 4 or 8.
    pub fn size(&self) -> u8 {
        match self.code & 0x18 {
            op::B => 1,
            op::H => 2,
            op::W => 4,
            _ => 8,
        }
    }
}

/// A BPF register that the x86 JIT maps to a hardware register: R0-R10 and
/// the blinding register AX. The type cannot hold anything else, in
/// particular not `BPF_REG_PARAMS` (11), through which programs address
/// the outgoing and incoming stack arguments: those accesses are stack
/// accesses, which the JIT rewrites, and are never checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpfReg(u8);

impl BpfReg {
    /// The frame pointer, R10.
    pub const FP: BpfReg = BpfReg(10);
    /// The constant-blinding register (`BPF_REG_AX`).
    pub const AX: BpfReg = BpfReg(12);

    /// Every register, R0 to R10, then AX.
    pub const ALL: [BpfReg; 12] = [
        BpfReg(0),
        BpfReg(1),
        BpfReg(2),
        BpfReg(3),
        BpfReg(4),
        BpfReg(5),
        BpfReg(6),
        BpfReg(7),
        BpfReg(8),
        BpfReg(9),
        BpfReg(10),
        BpfReg(12),
    ];

    /// The register numbered `n`, if the JIT has one.
    pub fn new(n: u8) -> Option<Self> {
        (n <= 10 || n == Self::AX.0).then_some(BpfReg(n))
    }

    /// The BPF register number.
    pub fn num(self) -> u8 {
        self.0
    }

    /// The x86-64 register, as `reg2hex[]` in bpf_jit_comp.c maps it.
    pub fn x86(self) -> Reg {
        match self.0 {
            0 => Reg::Rax,
            1 => Reg::Rdi,
            2 => Reg::Rsi,
            3 => Reg::Rdx,
            4 => Reg::Rcx,
            5 => Reg::R8,
            6 => Reg::Rbx,
            7 => Reg::R13,
            8 => Reg::R14,
            9 => Reg::R15,
            10 => Reg::Rbp,
            // AX; `new()` admits nothing else.
            _ => Reg::R10,
        }
    }
}

/// One memory access that KASAN checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Register holding the base address.
    pub base: BpfReg,
    /// Offset added to the base.
    pub off: i16,
    /// Access size in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Whether the access writes (stores, and the atomics but
    /// `BPF_LOAD_ACQ`).
    pub write: bool,
    /// Whether it is a fault-tolerant load (`BPF_PROBE_MEM`,
    /// `BPF_PROBE_MEMSX`) through a pointer the verifier trusts: KASAN
    /// reports it only where the kernel has shadow for it, and otherwise
    /// leaves the fault to the load's own exception table entry.
    pub probe: bool,
    /// Whether the verifier proved the address naturally aligned on every
    /// path (a multiple of `size` in a map value), so that the access lies
    /// in one granule and the fast path reads one shadow byte: exact for an
    /// access that cannot straddle. Set by [`Checker`] from the marks; the
    /// instruction alone never says so.
    pub aligned: bool,
}

impl Access {
    /// The access `insn` makes, if KASAN checks it.
    ///
    /// Checked: LDX MEM and MEMSX, STX MEM, ST MEM of every size; STX
    /// ATOMIC `BPF_LOAD_ACQ` (a read through `src_reg`) and `BPF_STORE_REL`
    /// (a write through `dst_reg`) of every size; and the other STX ATOMIC
    /// operations, W and DW, as writes of the operand size.
    /// Not checked: accesses based on the frame pointer (the stack has no
    /// redzones and guard pages already cover it; see [`Checker`] for the
    /// other stack-only accesses), the PROBE modes (they may fault by
    /// design and the exception table handles them), and everything else,
    /// which does not access memory through a register, or accesses the
    /// stack arguments through `BPF_REG_PARAMS`.
    pub fn of(insn: &BpfInsn) -> Option<Access> {
        let class = insn.code & 0x07;
        let mode = insn.code & 0xe0;
        let size = insn.size();
        let (base, write) = match (class, mode) {
            (op::LDX, op::MEM) => (insn.src(), false),
            (op::LDX, op::MEMSX) if size < 8 => (insn.src(), false),
            (op::ST, op::MEM) | (op::STX, op::MEM) => (insn.dst(), true),
            (op::STX, op::ATOMIC) if insn.imm == op::LOAD_ACQ => (insn.src(), false),
            (op::STX, op::ATOMIC) if insn.imm == op::STORE_REL => (insn.dst(), true),
            (op::STX, op::ATOMIC) if size >= 4 => (insn.dst(), true),
            _ => return None,
        };
        let base = BpfReg::new(base)?;
        if base == BpfReg::FP {
            return None;
        }
        Some(Access {
            base,
            off: insn.off,
            size,
            write,
            probe: false,
            aligned: false,
        })
    }

    /// The access of a fault-tolerant load: LDX `BPF_PROBE_MEM` of every
    /// size and `BPF_PROBE_MEMSX` of 1, 2 and 4 bytes, a read through
    /// `src_reg`. The verifier turns loads through BTF pointers into these;
    /// they are checked only if the verifier marked the pointer trusted on
    /// every path (see [`Checker`]).
    pub fn of_probe(insn: &BpfInsn) -> Option<Access> {
        let size = insn.size();
        match (insn.code & 0x07, insn.code & 0xe0) {
            (op::LDX, op::PROBE_MEM) => (),
            (op::LDX, op::PROBE_MEMSX) if size < 8 => (),
            _ => return None,
        }
        let base = BpfReg::new(insn.src())?;
        if base == BpfReg::FP {
            return None;
        }
        Some(Access {
            base,
            off: insn.off,
            size,
            write: false,
            probe: true,
            aligned: false,
        })
    }

    /// The access the check in front of `insn` guards, whichever kind:
    /// [`Access::of`], else [`Access::of_probe`]. The slow path uses it.
    pub fn of_checked(insn: &BpfInsn) -> Option<Access> {
        Self::of(insn).or_else(|| Self::of_probe(insn))
    }

    /// log2 of the size, 0 to 3.
    pub fn size_log2(&self) -> usize {
        self.size.trailing_zeros() as usize
    }
}

/// Whether `insn` is a load or store as the verifier's stack-only marks
/// count them (`bpf_jit_kasan_mark_insns()` in kernel/bpf/core.c): any
/// insn of class LDX, STX or ST. Constant blinding keeps these in number
/// and order.
pub fn is_ldst(insn: &BpfInsn) -> bool {
    matches!(insn.code & 0x07, op::LDX | op::STX | op::ST)
}

/// A bitmap of the verifier's marks over a program's loads and stores: the
/// stack-only marks (`aux->kasan_stack_only`), or the trusted-load marks
/// (`aux->kasan_trusted`: bit `k` set if the `k`-th load or store loads
/// through a pointer trusted on every path). For the stack-only marks:
/// bit `k` is set if the `k`-th load or store ([`is_ldst`]) only ever
/// accesses the BPF stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct StackOnly<'a> {
    words: &'a [u64],
    bits: u32,
}

/// The marks do not describe the program: they count another number of
/// loads and stores, or have fewer words than bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch;

impl<'a> StackOnly<'a> {
    /// No marks: every access is checked.
    pub const NONE: StackOnly<'static> = StackOnly {
        words: &[],
        bits: 0,
    };

    /// Marks for `bits` loads and stores, in the kernel's bitmap layout.
    pub fn new(words: &'a [u64], bits: u32) -> Result<Self, Mismatch> {
        if words.len() < (bits as usize).div_ceil(64) {
            return Err(Mismatch);
        }
        Ok(StackOnly { words, bits })
    }

    /// Whether there are marks at all.
    pub fn is_none(&self) -> bool {
        self.bits == 0
    }

    /// Whether the `k`-th load or store only accesses the stack.
    pub fn get(&self, k: u32) -> bool {
        k < self.bits && (self.words[k as usize / 64] >> (k % 64)) & 1 != 0
    }

    /// Checks that the marks describe `insns`.
    pub fn check(&self, insns: &[BpfInsn]) -> Result<(), Mismatch> {
        if self.is_none() {
            return Ok(());
        }
        let n = insns.iter().filter(|i| is_ldst(i)).count();
        if n == self.bits as usize {
            Ok(())
        } else {
            Err(Mismatch)
        }
    }
}

/// Walks a program's insns in order and tells which accesses are checked:
/// [`Access::of`], minus those the verifier marked stack-only, plus the
/// fault-tolerant loads ([`Access::of_probe`]) it marked trusted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checker<'a> {
    marks: StackOnly<'a>,
    trusted: StackOnly<'a>,
    aligned: StackOnly<'a>,
    /// Loads and stores seen so far.
    pub ldst: u32,
}

impl<'a> Checker<'a> {
    /// A walk from the first insn, or from the `ldst`-th load or store,
    /// with stack-only marks and no trusted loads.
    pub fn new(marks: StackOnly<'a>, ldst: u32) -> Self {
        Self::with_trusted(marks, StackOnly::NONE, ldst)
    }

    /// The same, with the verifier's trusted-load marks (bit `k` set: the
    /// `k`-th load or store loads through a pointer trusted on every path).
    pub fn with_trusted(marks: StackOnly<'a>, trusted: StackOnly<'a>, ldst: u32) -> Self {
        Self::with_marks(marks, trusted, StackOnly::NONE, ldst)
    }

    /// The same, with the verifier's alignment marks too (bit `k` set: the
    /// `k`-th load or store is naturally aligned on every path; see
    /// [`Access::aligned`]).
    pub fn with_marks(
        marks: StackOnly<'a>,
        trusted: StackOnly<'a>,
        aligned: StackOnly<'a>,
        ldst: u32,
    ) -> Self {
        Checker {
            marks,
            trusted,
            aligned,
            ldst,
        }
    }

    /// The access `insn`, the next insn of the program, makes, if checked.
    pub fn next(&mut self, insn: &BpfInsn) -> Option<Access> {
        let (mut trusted, mut aligned) = (false, false);
        if is_ldst(insn) {
            let k = self.ldst;
            self.ldst += 1;
            if self.marks.get(k) {
                return None;
            }
            trusted = self.trusted.get(k);
            aligned = self.aligned.get(k);
        }
        let access = Access::of(insn).or_else(|| {
            if trusted {
                Access::of_probe(insn)
            } else {
                None
            }
        })?;
        Some(Access { aligned, ..access })
    }
}

/// Number of accesses of `insns` that are checked, given the verifier's
/// stack-only marks.
pub fn count_checks(insns: &[BpfInsn], marks: StackOnly<'_>) -> Result<u32, Mismatch> {
    count_checks_trusted(insns, marks, StackOnly::NONE)
}

/// Number of accesses of `insns` that are checked, given the verifier's
/// stack-only and trusted-load marks, which must both count the program's
/// loads and stores.
pub fn count_checks_trusted(
    insns: &[BpfInsn],
    marks: StackOnly<'_>,
    trusted: StackOnly<'_>,
) -> Result<u32, Mismatch> {
    count_checks_marked(insns, marks, trusted, StackOnly::NONE)
}

/// The same with the alignment marks, which must count the program's
/// loads and stores too (they change how an access is checked, not
/// whether).
pub fn count_checks_marked(
    insns: &[BpfInsn],
    marks: StackOnly<'_>,
    trusted: StackOnly<'_>,
    aligned: StackOnly<'_>,
) -> Result<u32, Mismatch> {
    marks.check(insns)?;
    trusted.check(insns)?;
    aligned.check(insns)?;
    let mut walk = Checker::with_marks(marks, trusted, aligned, 0);
    Ok(insns.iter().filter(|i| walk.next(i).is_some()).count() as u32)
}
