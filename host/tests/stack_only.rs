// SPDX-License-Identifier: GPL-2.0

//! The verifier's stack-only marks (`aux->kasan_stack_only`): which
//! accesses they take out of instrumentation, that marks which do not
//! describe the program are refused, and that constant blinding, which the
//! JIT applies after the verifier made the marks, does not change which
//! accesses are checked.

use kasan_ebpf_host::forms::{self, Rng, AX, PARAMS};
use kasan_ebpf_host::insn::{
    count_checks, is_ldst, op, Access, BpfInsn, Checker, Mismatch, StackOnly,
};
const ALU64: u8 = 0x07;
const JMP: u8 = 0x05;
const LD: u8 = 0x00;
const K: u8 = 0x00;
const X: u8 = 0x08;
const MOV: u8 = 0xb0;
const XOR: u8 = 0xa0;
const ADD: u8 = 0x00;
const JEQ: u8 = 0x10;
const IMM: u8 = 0x00;
const NOSPEC: u8 = 0xc0;

fn ldx(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(op::LDX | op::MEM | size, dst, src, off, 0)
}

fn stx(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    BpfInsn::new(op::STX | op::MEM | size, dst, src, off, 0)
}

fn st(size: u8, dst: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn::new(op::ST | op::MEM | size, dst, 0, off, imm)
}

fn atomic(size: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn::new(op::STX | op::ATOMIC | size, dst, src, off, imm)
}

fn alu_k(alu_op: u8, dst: u8, imm: i32) -> BpfInsn {
    BpfInsn::new(ALU64 | alu_op | K, dst, 0, 0, imm)
}

/// The accesses that are checked, in order, given `marks`.
fn checked(insns: &[BpfInsn], marks: StackOnly<'_>) -> Vec<Access> {
    let mut walk = Checker::new(marks, 0);
    insns.iter().filter_map(|i| walk.next(i)).collect()
}

#[test]
fn ldst_are_the_three_memory_classes() {
    for code in 0..=255u8 {
        let insn = BpfInsn::new(code, 1, 2, 0, 0);
        let class = code & 7;
        assert_eq!(
            is_ldst(&insn),
            class == op::LDX || class == op::STX || class == op::ST,
            "code {code:#04x}"
        );
        // Everything that may be checked is counted by the marks.
        if Access::of(&insn).is_some() {
            assert!(is_ldst(&insn), "code {code:#04x}");
        }
    }
}

#[test]
fn marks_take_accesses_out() {
    let prog = [
        ldx(op::DW, 0, 1, -8),                                     // ldst 0: marked
        stx(op::W, 10, 0, -16),                                    // ldst 1: r10, never checked
        st(op::B, 2, 3, 7),                                        // ldst 2: not marked
        alu_k(ADD, 1, 4),                                          // not a load or store
        BpfInsn::new(LD | IMM | op::DW, 3, 0, 0, 1),               // ld_imm64, first half
        BpfInsn::new(0, 0, 0, 0, 0),                               // second half
        atomic(op::DW, 3, 0, 0, 0x01),                             // ldst 3: marked (fetch add)
        BpfInsn::new(op::LDX | op::PROBE_MEM | op::W, 0, 4, 0, 0), // ldst 4: PROBE
        ldx(op::H, 0, 5, 2),                                       // ldst 5: not marked
        BpfInsn::new(op::ST | NOSPEC, 0, 0, 0, 0),                 // ldst 6: nospec, marked
    ];
    let all = checked(&prog, StackOnly::NONE);
    let bases: Vec<u8> = all.iter().map(|a| a.base.num()).collect();
    assert_eq!(bases, [1, 2, 3, 5]);
    assert_eq!(count_checks(&prog, StackOnly::NONE), Ok(4));

    // Bits 0, 3 and 6.
    let words = [0b100_1001u64];
    let marks = StackOnly::new(&words, 7).unwrap();
    let left: Vec<u8> = checked(&prog, marks).iter().map(|a| a.base.num()).collect();
    assert_eq!(left, [2, 5]);
    assert_eq!(count_checks(&prog, marks), Ok(2));

    // Every bit: nothing is checked.
    let words = [u64::MAX];
    let marks = StackOnly::new(&words, 7).unwrap();
    assert_eq!(count_checks(&prog, marks), Ok(0));
}

/// Linux 7.3's loads and stores that are never checked, stack arguments
/// through `BPF_REG_PARAMS` and `LDX | BPF_PROBE_MEM32SX`, still count as
/// loads and stores for the marks, and the load-acquire and store-release
/// are checked unless marked.
#[test]
fn unchecked_7_3_accesses_count_as_loads_and_stores() {
    let prog = [
        ldx(op::DW, 0, PARAMS, 16),   // ldst 0: never
        forms::load_acq(1, 0, 1, 0),  // ldst 1: marked
        stx(op::DW, PARAMS, 2, -8),   // ldst 2: never
        forms::store_rel(2, 3, 4, 2), // ldst 3
        st(op::DW, PARAMS, -16, 9),   // ldst 4: never
        BpfInsn::new(op::LDX | op::PROBE_MEM32SX | op::B, 0, 5, 0, 0), // ldst 5: never
        forms::load_acq(8, 0, AX, 8), // ldst 6
        forms::store_rel(4, 6, 7, 4), // ldst 7: marked
    ];
    assert!(prog.iter().all(is_ldst));
    let all: Vec<(u8, bool)> = checked(&prog, StackOnly::NONE)
        .iter()
        .map(|a| (a.base.num(), a.write))
        .collect();
    assert_eq!(all, [(1, false), (3, true), (AX, false), (6, true)]);
    // Bits 1 and 7; marks on the never-checked ones change nothing.
    for words in [[0b1000_0010u64], [0b1011_0111]] {
        let marks = StackOnly::new(&words, 8).unwrap();
        let left: Vec<u8> = checked(&prog, marks).iter().map(|a| a.base.num()).collect();
        assert_eq!(left, [3, AX]);
        assert_eq!(count_checks(&prog, marks), Ok(2));
    }
}

#[test]
fn marks_must_describe_the_program() {
    let prog = [ldx(op::DW, 0, 1, 0), stx(op::DW, 1, 0, 8), alu_k(MOV, 0, 0)];
    let words = [1u64];
    for bits in [1, 3, 64] {
        let marks = StackOnly::new(&words, bits).unwrap();
        assert_eq!(count_checks(&prog, marks), Err(Mismatch), "{bits} bits");
    }
    assert_eq!(
        count_checks(&prog, StackOnly::new(&words, 2).unwrap()),
        Ok(1)
    );
    // A bitmap shorter than its bits is refused outright.
    assert_eq!(StackOnly::new(&words, 65).unwrap_err(), Mismatch);
    assert_eq!(StackOnly::new(&[], 1).unwrap_err(), Mismatch);
}

#[test]
fn bits_beyond_the_first_word() {
    let prog: Vec<BpfInsn> = (0..130)
        .map(|i| ldx(op::B, 0, 1 + (i % 9) as u8, i))
        .collect();
    let mut words = [0u64; 3];
    let marked = [0u32, 63, 64, 100, 127, 128, 129];
    for k in marked {
        words[k as usize / 64] |= 1 << (k % 64);
    }
    let marks = StackOnly::new(&words, 130).unwrap();
    let left: Vec<i16> = checked(&prog, marks).iter().map(|a| a.off).collect();
    let want: Vec<i16> = (0..130)
        .filter(|k| !marked.contains(&(*k as u32)))
        .collect();
    assert_eq!(left, want);
}

/// What `bpf_jit_blind_insn()` (kernel/bpf/core.c, Linux 7.3) does to the
/// insns it rewrites, for the classes that matter here: immediates move
/// into AX (12); insns that already use AX are left alone.
fn blind(prog: &[BpfInsn], rnd: i32) -> Vec<BpfInsn> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < prog.len() {
        let insn = prog[i];
        let class = insn.code & 7;
        if insn.dst() == AX || insn.src() == AX {
            out.push(insn);
            i += 1;
            continue;
        }
        if insn.code == LD | IMM | op::DW {
            let next = prog[i + 1];
            out.push(alu_k(MOV, AX, rnd ^ insn.imm));
            out.push(alu_k(XOR, AX, rnd));
            out.push(BpfInsn::new(LD | IMM | op::DW, insn.dst(), 0, 0, 0));
            out.push(BpfInsn::new(0, 0, 0, 0, next.imm));
            i += 2;
            continue;
        }
        if insn.imm != 0 && (class == ALU64 || (class == JMP && insn.code & X == 0)) {
            out.push(alu_k(MOV, AX, rnd ^ insn.imm));
            out.push(alu_k(XOR, AX, rnd));
            out.push(BpfInsn::new(insn.code | X, insn.dst(), AX, insn.off, 0));
        } else if class == op::ST && insn.code & 0xe0 == op::MEM {
            out.push(alu_k(MOV, AX, rnd ^ insn.imm));
            out.push(alu_k(XOR, AX, rnd));
            out.push(stx(insn.code & 0x18, insn.dst(), AX, insn.off));
        } else if class == op::ST && insn.code & 0xe0 == op::PROBE_MEM32 {
            out.push(alu_k(MOV, AX, rnd ^ insn.imm));
            out.push(alu_k(XOR, AX, rnd));
            let code = op::STX | op::PROBE_MEM32 | insn.code & 0x18;
            out.push(BpfInsn::new(code, insn.dst(), AX, insn.off, 0));
        } else {
            out.push(insn);
        }
        i += 1;
    }
    out
}

fn random_insn(rng: &mut Rng, out: &mut Vec<BpfInsn>) {
    let size = [op::B, op::H, op::W, op::DW][rng.below(4) as usize];
    // R0-R10 mostly; now and then AX, which verifier rewrites use.
    let reg = |rng: &mut Rng| match rng.below(24) {
        0 => AX,
        n => (n % 11) as u8,
    };
    let off = (rng.below(512) as i16) - 256;
    let slot = 8 * (rng.below(8) as i16 + 1);
    match rng.below(14) {
        0 => out.push(ldx(size, reg(rng), reg(rng), off)),
        1 => out.push(stx(size, reg(rng), reg(rng), off)),
        2 => out.push(st(size, reg(rng), off, rng.next() as i32)),
        3 => out.push(atomic(
            [op::W, op::DW][rng.below(2) as usize],
            reg(rng),
            reg(rng),
            off,
            [0x00, 0x01, 0xe1, 0xf1][rng.below(4) as usize],
        )),
        4 => out.push(alu_k(
            [ADD, MOV, XOR][rng.below(3) as usize],
            reg(rng),
            rng.next() as i32,
        )),
        5 => out.push(BpfInsn::new(
            JMP | JEQ | K,
            reg(rng),
            0,
            1,
            rng.next() as i32,
        )),
        6 => {
            out.push(BpfInsn::new(
                LD | IMM | op::DW,
                reg(rng),
                0,
                0,
                rng.next() as i32,
            ));
            out.push(BpfInsn::new(0, 0, 0, 0, rng.next() as i32));
        }
        7 => out.push(BpfInsn::new(
            op::LDX | op::PROBE_MEM | size,
            reg(rng),
            reg(rng),
            off,
            0,
        )),
        // Linux 7.3: load-acquire and store-release of every size.
        8 => out.push(atomic(
            size,
            reg(rng),
            reg(rng),
            off,
            [op::LOAD_ACQ, op::STORE_REL][rng.below(2) as usize],
        )),
        // Stack arguments through BPF_REG_PARAMS, which blinding turns
        // from ST into STX of AX.
        9 => out.push(ldx(op::DW, reg(rng), PARAMS, slot)),
        10 => out.push(stx(op::DW, PARAMS, reg(rng), -slot)),
        11 => out.push(st(op::DW, PARAMS, -slot, rng.next() as i32)),
        12 => out.push(BpfInsn::new(
            op::LDX | op::PROBE_MEM32SX | size,
            reg(rng),
            reg(rng),
            off,
            0,
        )),
        _ => out.push(BpfInsn::new(
            op::ST | op::PROBE_MEM32 | size,
            reg(rng),
            0,
            off,
            rng.next() as i32,
        )),
    }
}

#[test]
fn blinding_keeps_the_checked_accesses() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2000 {
        let mut prog = Vec::new();
        for _ in 0..rng.below(64) + 1 {
            random_insn(&mut rng, &mut prog);
        }
        let n = prog.iter().filter(|i| is_ldst(i)).count() as u32;
        let words: Vec<u64> = (0..n.div_ceil(64).max(1)).map(|_| rng.next()).collect();
        let marks = if n == 0 {
            StackOnly::NONE
        } else {
            StackOnly::new(&words, n).unwrap()
        };
        let blinded = blind(&prog, rng.next() as i32 | 1);
        assert!(blinded.len() >= prog.len());
        assert_eq!(
            count_checks(&blinded, marks),
            count_checks(&prog, marks),
            "round {round}"
        );
        assert_eq!(
            checked(&blinded, marks),
            checked(&prog, marks),
            "round {round}"
        );
    }
}

/// The verifier's trusted-load marks (`aux->kasan_trusted`): a
/// fault-tolerant load (LDX PROBE_MEM, PROBE_MEMSX of 1, 2 and 4 bytes) is
/// checked, as a read through `src_reg` that KASAN judges only where there
/// is shadow (`probe`), if and only if its mark is set and it is not
/// stack-only; every other access is checked as without the marks.
#[test]
fn trusted_marks_check_fault_tolerant_loads() {
    use kasan_ebpf_host::insn::count_checks_trusted;
    let probe = |mode: u8, size: u8, dst: u8, src: u8, off: i16| {
        BpfInsn::new(op::LDX | mode | size, dst, src, off, 0)
    };
    let prog = [
        probe(op::PROBE_MEM, op::DW, 0, 1, 24),  // ldst 0: trusted
        probe(op::PROBE_MEM, op::W, 2, 3, 8),    // ldst 1: not marked
        ldx(op::DW, 4, 5, 0),                    // ldst 2: checked anyway
        probe(op::PROBE_MEMSX, op::H, 0, 6, -2), // ldst 3: trusted
        probe(op::PROBE_MEMSX, op::DW, 0, 6, 0), // ldst 4: no such load
        probe(op::PROBE_MEM, op::B, 0, 10, -8),  // ldst 5: via FP
        probe(op::PROBE_MEM32, op::W, 0, 1, 0),  // ldst 6: arena
        probe(op::PROBE_MEM, op::B, 7, 8, 3),    // ldst 7: trusted, stack-only
    ];
    // Bits 0, 3, 4, 5, 6 and 7 trusted; bit 7 also stack-only.
    let trusted_words = [0b1111_1001u64];
    let stack_words = [0b1000_0000u64];
    let trusted = StackOnly::new(&trusted_words, 8).unwrap();
    let stack = StackOnly::new(&stack_words, 8).unwrap();
    let mut walk = Checker::with_trusted(stack, trusted, 0);
    let got: Vec<Option<Access>> = prog.iter().map(|i| walk.next(i)).collect();
    let read = |base: u8, off: i16, size: u8, probe: bool| {
        Some(Access {
            base: kasan_ebpf_host::insn::BpfReg::new(base).unwrap(),
            off,
            size,
            write: false,
            probe,
            aligned: false,
        })
    };
    assert_eq!(got[0], read(1, 24, 8, true));
    assert_eq!(got[1], None, "unmarked PROBE_MEM load");
    assert_eq!(got[2], read(5, 0, 8, false));
    assert_eq!(got[3], read(6, -2, 2, true));
    assert_eq!(got[4], None, "PROBE_MEMSX of 8 bytes does not exist");
    assert_eq!(got[5], None, "through the frame pointer");
    assert_eq!(got[6], None, "arena loads are not checked");
    assert_eq!(got[7], None, "stack-only wins");
    assert_eq!(walk.ldst, 8);
    assert_eq!(count_checks_trusted(&prog, stack, trusted), Ok(3));
    assert_eq!(count_checks_trusted(&prog, stack, StackOnly::NONE), Ok(1));
    // Marks that count another number of loads and stores are refused.
    let short = StackOnly::new(&trusted_words, 7).unwrap();
    assert_eq!(count_checks_trusted(&prog, stack, short), Err(Mismatch));
    // The slow path recomputes any checked access from its insn alone.
    for (i, insn) in prog.iter().enumerate() {
        if let Some(a) = got[i] {
            assert_eq!(Access::of_checked(insn), Some(a), "insn {i}");
        }
    }
}

/// The verifier's alignment marks change how an access is checked (one
/// shadow byte), never whether: every marked access is still checked,
/// stack-only marks still win, and marks that do not count the program's
/// loads and stores are refused.
#[test]
fn aligned_marks_narrow_the_check_not_the_set() {
    use kasan_ebpf_host::insn::{count_checks_marked, count_checks_trusted};
    let prog = [
        ldx(op::DW, 0, 1, 8),                                    // ldst 0: aligned
        ldx(op::W, 2, 3, 2),                                     // ldst 1: not marked
        BpfInsn::new(op::ST | op::MEM | op::H, 4, 0, 6, 7),      // ldst 2: aligned
        BpfInsn::new(op::STX | op::ATOMIC | op::DW, 5, 6, 0, 0), // ldst 3: aligned
        ldx(op::B, 7, 8, 3),                                     // ldst 4: aligned, stack-only
        alu_k(MOV, 0, 1),                                        // not a load or store
    ];
    let aligned_words = [0b1_1101u64];
    let stack_words = [0b1_0000u64];
    let aligned = StackOnly::new(&aligned_words, 5).unwrap();
    let stack = StackOnly::new(&stack_words, 5).unwrap();
    let mut walk = Checker::with_marks(stack, StackOnly::NONE, aligned, 0);
    let got: Vec<Option<Access>> = prog.iter().map(|i| walk.next(i)).collect();
    let flags: Vec<Option<bool>> = got.iter().map(|a| a.map(|a| a.aligned)).collect();
    assert_eq!(
        flags,
        [Some(true), Some(false), Some(true), Some(true), None, None]
    );
    assert_eq!(walk.ldst, 5);
    // Apart from the flag, the access is the instruction's own.
    for (i, insn) in prog.iter().enumerate() {
        if let Some(a) = got[i] {
            let plain = Access::of(insn).unwrap();
            assert_eq!(
                Access {
                    aligned: false,
                    ..a
                },
                plain,
                "insn {i}"
            );
        }
    }
    assert_eq!(
        count_checks_marked(&prog, stack, StackOnly::NONE, aligned),
        count_checks_trusted(&prog, stack, StackOnly::NONE)
    );
    assert_eq!(
        count_checks_marked(&prog, stack, StackOnly::NONE, aligned),
        Ok(4)
    );
    let short = StackOnly::new(&aligned_words, 4).unwrap();
    assert_eq!(
        count_checks_marked(&prog, stack, StackOnly::NONE, short),
        Err(Mismatch)
    );
}
