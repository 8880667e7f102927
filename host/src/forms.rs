// SPDX-License-Identifier: GPL-2.0

//! The access forms the tests emit checks for, and the BPF instructions
//! that make them, written from the kernel's definitions
//! (include/uapi/linux/bpf.h, include/linux/filter.h of Linux 7.3) rather
//! than from [`Access::of`], so that the tests can hold it to them.

use crate::insn::{op, Access, BpfInsn, BpfReg};

/// `BPF_REG_PARAMS` (`MAX_BPF_REG`): the pseudo register through which a
/// program reads its incoming stack arguments (`LDX DW`, `off > 0`) and
/// writes the outgoing ones (`ST`/`STX DW`, `off < 0`). The JIT turns
/// these into `r9` moves and `rbp`/`rsp` accesses; they are never checked.
pub const PARAMS: u8 = 11;

/// `BPF_REG_AX` (`MAX_BPF_REG + 1`), the constant-blinding register, which
/// the x86 JIT maps to `r10`.
pub const AX: u8 = 12;

/// `BPF_ADD`, `BPF_AND`, `BPF_OR`, `BPF_XOR`, each with and without
/// `BPF_FETCH`, `BPF_XCHG` and `BPF_CMPXCHG`: the read-modify-write
/// operations of `BPF_ATOMIC`, W and DW only.
pub const RMW_OPS: [i32; 10] = [0x00, 0x01, 0x40, 0x41, 0xa0, 0xa1, 0x50, 0x51, 0xe1, 0xf1];

/// Offsets: zero, small, negative, the disp8 edges and the s16 extremes
/// (every displacement class: none, disp8, disp32).
pub const OFFSETS: [i16; 8] = [0, 8, -8, 127, -128, 128, i16::MAX, i16::MIN];

/// Access sizes.
pub const SIZES: [u8; 4] = [1, 2, 4, 8];

/// Every access form: base register (all of [`BpfReg::ALL`]), offset
/// ([`OFFSETS`]), size ([`SIZES`]) and direction.
pub fn accesses() -> impl Iterator<Item = Access> + Clone {
    BpfReg::ALL.into_iter().flat_map(|base| {
        OFFSETS.into_iter().flat_map(move |off| {
            SIZES.into_iter().flat_map(move |size| {
                [false, true].map(|write| Access {
                    base,
                    off,
                    size,
                    write,
                    probe: false,
                    aligned: false,
                })
            })
        })
    })
}

/// The `BPF_SIZE()` bits of an access of `size` bytes.
pub fn size_code(size: u8) -> u8 {
    match size {
        1 => op::B,
        2 => op::H,
        4 => op::W,
        8 => op::DW,
        _ => panic!("no BPF size of {size} bytes"),
    }
}

/// `BPF_LOAD_ACQ`: `dst = smp_load_acquire((size *)(src + off))`.
pub fn load_acq(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(
        op::STX | op::ATOMIC | size_code(size),
        dst,
        src,
        off,
        op::LOAD_ACQ,
    )
}

/// `BPF_STORE_REL`: `smp_store_release((size *)(dst + off), src)`.
pub fn store_rel(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(
        op::STX | op::ATOMIC | size_code(size),
        dst,
        src,
        off,
        op::STORE_REL,
    )
}

/// A BPF instruction that KASAN checks, with the access it makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Form {
    /// What the instruction is (`"ldx"`, `"load_acq"`, ...).
    pub name: &'static str,
    /// The instruction.
    pub insn: BpfInsn,
    /// The access it makes: through `src_reg` for the loads (`LDX`,
    /// `BPF_LOAD_ACQ`), through `dst_reg` for everything else.
    pub access: Access,
    /// Its other register (`dst_reg` of a load, `src_reg` of a store;
    /// `ST` has none), which is never the base: a check through it is
    /// wrong.
    pub other: Option<BpfReg>,
}

/// A register other than `base`, and not the frame pointer, to give the
/// instructions of [`forms`] as their other register.
pub fn other_reg(base: BpfReg) -> BpfReg {
    let n = match base.num() {
        n @ 0..=8 => n + 1,
        9 => AX,
        _ => 0,
    };
    BpfReg::new(n).expect("a register the JIT maps")
}

/// Every instruction that makes `access`, with [`other_reg`] as its other
/// register: for a read, `LDX MEM`, `LDX MEMSX` (1, 2 and 4 bytes) and
/// `BPF_LOAD_ACQ`; for a write, `STX MEM`, `ST MEM`, `BPF_STORE_REL` and
/// the read-modify-write atomics ([`RMW_OPS`], 4 and 8 bytes).
pub fn forms(access: Access) -> Vec<Form> {
    let Access {
        base,
        off,
        size,
        write,
        ..
    } = access;
    let (b, o) = (base.num(), other_reg(base));
    let sz = size_code(size);
    let form = |name, insn, other| Form {
        name,
        insn,
        access,
        other: Some(other),
    };
    let mut out = Vec::new();
    if write {
        out.push(form(
            "stx",
            BpfInsn::new(op::STX | op::MEM | sz, b, o.num(), off, 0),
            o,
        ));
        out.push(Form {
            other: None,
            ..form(
                "st",
                BpfInsn::new(op::ST | op::MEM | sz, b, 0, off, 0x5a5a),
                o,
            )
        });
        out.push(form("store_rel", store_rel(size, b, o.num(), off), o));
        if size >= 4 {
            for imm in RMW_OPS {
                let insn = BpfInsn::new(op::STX | op::ATOMIC | sz, b, o.num(), off, imm);
                out.push(form("atomic", insn, o));
            }
        }
    } else {
        out.push(form(
            "ldx",
            BpfInsn::new(op::LDX | op::MEM | sz, o.num(), b, off, 0),
            o,
        ));
        if size < 8 {
            out.push(form(
                "ldsx",
                BpfInsn::new(op::LDX | op::MEMSX | sz, o.num(), b, off, 0),
                o,
            ));
        }
        out.push(form("load_acq", load_acq(size, o.num(), b, off), o));
    }
    out
}

/// `BPF_LOAD_ACQ` and `BPF_STORE_REL` of every size, through every base
/// register but the frame pointer, at every offset of [`OFFSETS`].
pub fn acquire_release() -> impl Iterator<Item = Form> {
    accesses()
        .filter(|a| a.base != BpfReg::FP)
        .flat_map(forms)
        .filter(|f| f.name == "load_acq" || f.name == "store_rel")
}

/// The stack-argument accesses of Linux 7.3 (`is_stack_arg_ldx()`,
/// `is_stack_arg_st()`, `is_stack_arg_stx()` in include/linux/filter.h):
/// `LDX DW` from `PARAMS + off`, `off > 0` (8: argument 6, in `r9`; 16
/// up: arguments 7 on, above the return address), and `ST`/`STX DW` to
/// `PARAMS + off`, `off < 0` (-8: argument 6; -16 down: the outgoing
/// arguments on the stack).
pub fn stack_args() -> Vec<BpfInsn> {
    let mut out = Vec::new();
    for k in [1i16, 2, 3, 4, 8, 100, 4095] {
        out.push(BpfInsn::new(
            op::LDX | op::MEM | op::DW,
            0,
            PARAMS,
            8 * k,
            0,
        ));
        out.push(BpfInsn::new(
            op::LDX | op::MEM | op::DW,
            AX,
            PARAMS,
            8 * k,
            0,
        ));
        for src in [1, 6, 9, AX] {
            out.push(BpfInsn::new(
                op::STX | op::MEM | op::DW,
                PARAMS,
                src,
                -8 * k,
                0,
            ));
        }
        out.push(BpfInsn::new(
            op::ST | op::MEM | op::DW,
            PARAMS,
            0,
            -8 * k,
            7,
        ));
    }
    out
}

/// `LDX | BPF_PROBE_MEM32SX` (the sign-extending arena load, kernel
/// internal; the same mode bits as `BPF_ATOMIC`) of every size the JIT
/// knows (1, 2 and 4 bytes) and the 8-byte one, through every register,
/// with the `imm` of an ordinary load and those of `BPF_LOAD_ACQ` and
/// `BPF_STORE_REL` (an `LDX`, whatever its `imm`, is no atomic).
pub fn probe_mem32sx() -> Vec<BpfInsn> {
    let mut out = Vec::new();
    for size in SIZES {
        for src in 0..16 {
            for imm in [0, op::LOAD_ACQ, op::STORE_REL] {
                out.push(BpfInsn::new(
                    op::LDX | op::PROBE_MEM32SX | size_code(size),
                    1,
                    src,
                    16,
                    imm,
                ));
            }
        }
    }
    out
}

/// Whether the accesses of `group`, through one base, lie within
/// `granules` granules wherever their alignment marks let the base point
/// (and the marks can all hold): by trying every base position.
pub fn fits_granules(group: &[Access], granules: i64) -> bool {
    let allowed: Vec<i64> = (0..8)
        .filter(|p| {
            group
                .iter()
                .all(|a| !a.aligned || (p + i64::from(a.off)).rem_euclid(a.size.into()) == 0)
        })
        .collect();
    let lo = group.iter().map(|a| i64::from(a.off)).min().unwrap();
    let hi = group
        .iter()
        .map(|a| i64::from(a.off) + i64::from(a.size))
        .max()
        .unwrap();
    !allowed.is_empty()
        && allowed
            .iter()
            .all(|p| (p + hi - 1).div_euclid(8) - (p + lo).div_euclid(8) < granules)
}

/// xorshift64: the same random programs in every run, without a
/// dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
