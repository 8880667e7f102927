// SPDX-License-Identifier: GPL-2.0

//! The plan of merged checks (merge.rs): which accesses share their
//! leader's check. Hand-made programs for each rule (what merges, what
//! closes a group), then random programs against the rules written out
//! independently here: a member has its leader's base, no jump lands and
//! no insn leaves the block or writes the base between them, no other
//! checked access comes between them, the group fits eight granules, and
//! the slow path's walk from each leader finds exactly the members the
//! plan made.

use kasan_ebpf_host::asm::Asm;
use kasan_ebpf_host::emit::{self, Config, Mode, Plain};
use kasan_ebpf_host::forms::{self, Rng};
use kasan_ebpf_host::insn::{is_ldst, op, Access, BpfInsn, BpfReg, Checker, StackOnly};
use kasan_ebpf_host::merge;

const ALU64: u8 = 0x07;
const ADD_K: u8 = ALU64; // BPF_ALU64 | BPF_ADD | BPF_K
const MOV_X: u8 = ALU64 | 0xb0 | 0x08;
const MOV_K: u8 = ALU64 | 0xb0;
const JEQ_K: u8 = 0x05 | 0x10;
const JNE_X: u8 = 0x05 | 0x50 | 0x08;
const JA: u8 = 0x05;
const GOTOX: u8 = 0x05 | 0x08;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;
const LD_IMM64: u8 = 0x18;
const LD_ABS_W: u8 = 0x20;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    BpfInsn::new(code, dst, src, off, imm)
}

fn ldx(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    insn(op::LDX | op::MEM | forms::size_code(size), dst, src, off, 0)
}

fn stx(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    insn(op::STX | op::MEM | forms::size_code(size), dst, src, off, 0)
}

fn atomic(size_code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
    insn(op::STX | op::ATOMIC | size_code, dst, src, off, imm)
}

/// The `imm` of every atomic operation: add, or, and, xor, each without
/// and with `BPF_FETCH`, xchg, cmpxchg, load-acquire, store-release.
const ATOMIC_OPS: [i32; 12] = [
    0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0x100, 0x110,
];

fn probe(size: u8, dst: u8, src: u8, off: i16) -> BpfInsn {
    insn(
        op::LDX | op::PROBE_MEM | forms::size_code(size),
        dst,
        src,
        off,
        0,
    )
}

/// Bitmap words over the loads and stores of `insns` with bit `k` set for
/// each `k` in `set`.
fn marks(set: &[u32]) -> Vec<u64> {
    let mut w = vec![0u64; 4];
    for &k in set {
        w[k as usize / 64] |= 1 << (k % 64);
    }
    w
}

struct Marks {
    stack: Vec<u64>,
    trusted: Vec<u64>,
    aligned: Vec<u64>,
}

impl Marks {
    fn none() -> Self {
        Marks {
            stack: marks(&[]),
            trusted: marks(&[]),
            aligned: marks(&[]),
        }
    }

    fn checker<'a>(&'a self, insns: &[BpfInsn]) -> Checker<'a> {
        let n = insns.iter().filter(|i| is_ldst(i)).count() as u32;
        let m = |w: &'a [u64]| StackOnly::new(w, n).unwrap();
        Checker::with_marks(m(&self.stack), m(&self.trusted), m(&self.aligned), 0)
    }
}

/// The plan: (checks left, members, the plan's words).
fn plan(insns: &[BpfInsn], marks: &Marks) -> (u32, Vec<usize>, Vec<u64>) {
    let words = insns.len().div_ceil(64);
    let (mut t, mut m) = (vec![0; words], vec![0; merge::plan_words(insns.len())]);
    // Not planned (indirect jumps): every checked access keeps its check.
    let checks = merge::plan_program(insns, marks.checker(insns), &mut t, &mut m)
        .unwrap()
        .unwrap_or_else(|| {
            let mut walk = marks.checker(insns);
            insns.iter().filter(|i| walk.next(i).is_some()).count() as u32
        });
    let members = (0..insns.len())
        .filter(|&i| m[i / 64] >> (i % 64) & 1 != 0)
        .collect();
    (checks, members, m)
}

fn plan_plain(insns: &[BpfInsn]) -> (u32, Vec<usize>) {
    let (c, m, _) = plan(insns, &Marks::none());
    (c, m)
}

#[test]
fn neighbouring_fields_share_a_check() {
    // r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); *(u8 *)(r1 + 7) = r3
    let p = [
        ldx(4, 2, 1, 0),
        ldx(4, 3, 1, 4),
        stx(1, 1, 3, 7),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(plan_plain(&p), (1, vec![1, 2]));
    // A member below the leader, and stack accesses (r10) in between.
    let p = [
        ldx(4, 2, 1, 4),
        stx(8, 10, 2, -8),
        ldx(2, 3, 1, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(plan_plain(&p), (1, vec![2]));
    // Other registers written in between do not matter.
    let p = [
        ldx(4, 2, 1, 0),
        insn(ADD_K, 2, 0, 0, 1),
        stx(4, 1, 2, 4),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(plan_plain(&p), (1, vec![2]));
}

#[test]
fn groups_span_at_most_eight_granules() {
    assert_eq!(merge::MAX_GRANULES, 8);
    // Without alignment marks: 57 bytes may span eight granules, 58 nine.
    let p = [ldx(8, 2, 1, 0), ldx(1, 3, 1, 56), ldx(1, 4, 1, 57)];
    assert_eq!(plan_plain(&p), (2, vec![1]));
    // Nine u64 at 0, 8, ..., 64, the first marked aligned: the first eight
    // are exactly eight granules, the ninth starts a group.
    let p: Vec<BpfInsn> = (0..9).map(|k| ldx(8, 2, 1, 8 * k)).collect();
    let m = Marks {
        aligned: marks(&[0]),
        ..Marks::none()
    };
    assert_eq!(plan(&p, &m).0, 2);
    assert_eq!(plan(&p, &m).1, (1..8).collect::<Vec<_>>());
    // Unmarked, seven of them (56 bytes) may already touch eight
    // granules: the eighth starts a group, which the ninth joins.
    assert_eq!(plan_plain(&p), (2, vec![1, 2, 3, 4, 5, 6, 8]));
}

#[test]
fn what_closes_a_group() {
    let end = insn(EXIT, 0, 0, 0, 0);
    let cases: [(&str, BpfInsn); 11] = [
        ("call", insn(CALL, 0, 0, 0, 1)),
        ("base written", insn(ADD_K, 1, 0, 0, 8)),
        ("base moved into", insn(MOV_X, 1, 2, 0, 0)),
        ("base loaded into", ldx(8, 1, 3, 0)),
        ("another pointer's access", ldx(4, 3, 2, 0)),
        ("conditional jump", insn(JEQ_K, 3, 0, 0, 0)),
        ("ja", insn(JA, 0, 0, 0, 0)),
        ("ld_abs", insn(LD_ABS_W, 0, 0, 0, 0)),
        (
            "atomic fetch into base",
            insn(op::STX | op::ATOMIC | op::DW, 3, 1, 0, 0x01),
        ),
        ("xchg into base", atomic(op::DW, 3, 1, 0, 0xe1)),
        ("load-acquire into base", atomic(op::DW, 1, 3, 0, 0x100)),
    ];
    for (name, between) in cases {
        let p = [ldx(4, 2, 1, 0), between, ldx(4, 3, 1, 4), end];
        assert_eq!(plan_plain(&p).1, Vec::<usize>::new(), "{name}");
    }
    // A load through the base into the base ends the group after it.
    let p = [ldx(4, 2, 1, 0), ldx(4, 1, 1, 4), ldx(4, 3, 1, 0), end];
    assert_eq!(plan_plain(&p), (2, vec![1]));
    // A 64-bit immediate into another register does not.
    let p = [
        ldx(4, 2, 1, 0),
        insn(LD_IMM64, 3, 0, 0, 7),
        insn(0, 0, 0, 0, 0),
        ldx(4, 3, 1, 4),
    ];
    assert_eq!(plan_plain(&p), (1, vec![3]));
    // Into the base, it does.
    let p = [
        ldx(4, 2, 1, 0),
        insn(LD_IMM64, 1, 0, 0, 7),
        insn(0, 0, 0, 0, 0),
        ldx(4, 3, 1, 4),
    ];
    assert_eq!(plan_plain(&p), (2, vec![]));
}

/// Two loads through `base`, at 0 and 4, with `between` between them.
fn around(base: u8, between: BpfInsn) -> [BpfInsn; 4] {
    [
        ldx(4, 3, base, 0),
        between,
        ldx(4, 4, base, 4),
        insn(EXIT, 0, 0, 0, 0),
    ]
}

#[test]
fn atomics_close_a_group_only_if_they_write_its_base() {
    // Through the base r1, each a member: the plain read-modify-writes and
    // store-release write memory only, the fetching ones and xchg write
    // src_reg (r2), cmpxchg writes r0.
    for imm in ATOMIC_OPS.into_iter().filter(|&imm| imm != 0x100) {
        let p = around(1, atomic(op::DW, 1, 2, 8, imm));
        assert_eq!(plan_plain(&p), (1, vec![1, 2]), "imm {imm:#x}");
    }
    // Load-acquire reads through src_reg into dst_reg.
    let p = around(1, atomic(op::DW, 2, 1, 8, 0x100));
    assert_eq!(plan_plain(&p), (1, vec![1, 2]));
    // An atomic through another pointer that writes the base: a member of
    // nothing, and the base's group ends.
    let p = around(1, atomic(op::DW, 2, 1, 0, 0x01));
    assert_eq!(plan_plain(&p), (3, vec![]));
    // Through the base r0, cmpxchg is the group's last member.
    let p = around(0, atomic(op::DW, 0, 2, 8, 0xf1));
    assert_eq!(plan_plain(&p), (2, vec![1]));
    // So is a fetch whose src_reg is the base.
    let p = around(1, atomic(op::DW, 1, 1, 8, 0x01));
    assert_eq!(plan_plain(&p), (2, vec![1]));
    // And an operation the ISA does not define, whatever it would write.
    let p = around(1, atomic(op::DW, 1, 2, 8, 0x31));
    assert_eq!(plan_plain(&p), (2, vec![1]));
}

#[test]
fn jump_targets_and_indirect_jumps() {
    // 0: r2 = *(r1 + 0); 1: r3 = *(r1 + 4) <- target of 3; 2: r2 += 1;
    // 3: if r2 != r3 goto 1
    let p = [
        ldx(4, 2, 1, 0),
        ldx(4, 3, 1, 4),
        insn(ADD_K, 2, 0, 0, 1),
        insn(JNE_X, 2, 3, -3, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(plan_plain(&p), (2, vec![]));
    // The same with the jump going elsewhere: merged.
    let mut q = p;
    q[3] = insn(JNE_X, 2, 3, -4, 0);
    assert_eq!(plan_plain(&q), (1, vec![1]));
    // gotol (JMP32 | JA) has its offset in imm.
    q[3] = insn(0x06, 0, 0, 0, -3);
    assert_eq!(plan_plain(&q), (2, vec![]));
    // Any indirect jump: no merging at all.
    let p = [
        ldx(4, 2, 1, 0),
        ldx(4, 3, 1, 4),
        insn(GOTOX, 2, 0, 0, 0),
        insn(EXIT, 0, 0, 0, 0),
    ];
    assert_eq!(plan_plain(&p), (2, vec![]));
    let (mut t, mut m) = ([0u64], [0u64; 2]);
    let none = Marks::none();
    assert_eq!(
        merge::plan_program(&p, none.checker(&p), &mut t, &mut m),
        Ok(None)
    );
    assert_eq!(m, [0, 0]);
}

/// The insns the plan in `words` skips.
fn skipped(insns: &[BpfInsn], words: &[u64]) -> Vec<usize> {
    let plan = merge::Plan::new(words, insns.len() as u32).unwrap();
    (0..insns.len()).filter(|&i| plan.skipped(i)).collect()
}

#[test]
fn unchecked_accesses_stay_in_groups_and_trusted_probes_merge() {
    let end = insn(EXIT, 0, 0, 0, 0);
    // The middle load (ldst 1) through r2 is stack-only: not checked, it
    // reports nothing, and the group of r1 goes on past it; the slow
    // path's walk steps over it to the member.
    let p = [ldx(4, 3, 1, 0), ldx(4, 4, 2, 0), ldx(4, 5, 1, 4), end];
    let m = Marks {
        stack: marks(&[1]),
        ..Marks::none()
    };
    let (checks, members, words) = plan(&p, &m);
    assert_eq!((checks, members), (1, vec![2]));
    assert_eq!(skipped(&p, &words), [1]);
    let walked: Vec<usize> = merge::group(&p, merge::Plan::new(&words, 4).unwrap(), 0).collect();
    assert_eq!(walked, [2]);
    // A store through the frame pointer (a field copied into a key) is no
    // checkable access at all: the group goes on, nothing to skip.
    let p = [ldx(4, 3, 1, 0), stx(4, 10, 3, -8), ldx(4, 5, 1, 4), end];
    let (checks, members, words) = plan(&p, &Marks::none());
    assert_eq!((checks, members), (1, vec![2]));
    assert_eq!(skipped(&p, &words), []);
    // An unchecked load into the base still writes it: the group ends.
    let p = [ldx(4, 3, 1, 0), ldx(8, 1, 2, 0), ldx(4, 5, 1, 4), end];
    assert_eq!((plan(&p, &m).0, plan(&p, &m).1), (2, vec![]));
    // Nothing skipped without an open group.
    let p = [ldx(4, 4, 2, 0), ldx(4, 5, 1, 4), end];
    let m0 = Marks {
        stack: marks(&[0]),
        ..Marks::none()
    };
    let (checks, members, words) = plan(&p, &m0);
    assert_eq!((checks, members, skipped(&p, &words)), (1, vec![], vec![]));
    // Trusted fault-tolerant loads merge like the others; an untrusted
    // one is not checked, and the group goes on past it.
    let p = [probe(4, 3, 1, 0), probe(4, 4, 1, 4), probe(8, 5, 1, 8), end];
    let m = Marks {
        trusted: marks(&[0, 2]),
        ..Marks::none()
    };
    let (checks, members, words) = plan(&p, &m);
    assert_eq!((checks, members), (1, vec![2]));
    assert_eq!(skipped(&p, &words), [1]);
}

/// The walk the slow path makes from every leader finds the plan's
/// members, each once.
fn walks(
    insns: &[BpfInsn],
    words: &[u64],
    checked: &[bool],
    members: &[usize],
) -> Vec<(usize, Vec<usize>)> {
    let plan = merge::Plan::new(words, insns.len() as u32).unwrap();
    let mut groups = Vec::new();
    for (i, &c) in checked.iter().enumerate() {
        if c && !members.contains(&i) {
            groups.push((i, merge::group(insns, plan, i).collect::<Vec<_>>()));
        }
    }
    groups
}

/// Registers `insn` writes, written out from the BPF ISA for this test:
/// None if it leaves the block (jumps, calls, exits, LD_ABS/IND).
fn writes(insn: &BpfInsn) -> Option<Vec<u8>> {
    let class = insn.code & 7;
    Some(match class {
        0x05 | 0x06 => return None,
        0x04 | 0x07 => vec![insn.dst()],
        0x00 if insn.code == LD_IMM64 => vec![insn.dst()],
        0x00 if insn.code == 0 => vec![],
        0x00 => return None,
        0x01 => vec![insn.dst()],
        0x02 => vec![],
        _ if insn.code & 0xe0 == op::ATOMIC => match insn.imm {
            // add, or, and, xor, store-release: memory only.
            0x00 | 0x40 | 0x50 | 0xa0 | 0x110 => vec![],
            // Their fetching forms and xchg: the old value into src_reg.
            0x01 | 0x41 | 0x51 | 0xa1 | 0xe1 => vec![insn.src()],
            // cmpxchg: the old value into r0.
            0xf1 => vec![0],
            // load-acquire: into dst_reg.
            0x100 => vec![insn.dst()],
            _ => return None,
        },
        _ => vec![],
    })
}

fn random_program(rng: &mut Rng, len: usize) -> Vec<BpfInsn> {
    let mut p = Vec::new();
    while p.len() < len {
        let reg = |rng: &mut Rng| 1 + rng.below(3) as u8;
        let size = forms::SIZES[rng.below(4) as usize];
        let off = rng.below(16) as i16 - 4;
        let at = p.len() as i64;
        match rng.below(16) {
            0..=4 => p.push(ldx(size, reg(rng), reg(rng), off)),
            5..=7 => p.push(stx(size, reg(rng), reg(rng), off)),
            8 => p.push(probe(size, reg(rng), reg(rng), off)),
            9 => p.push(insn(ADD_K, reg(rng), 0, 0, 8)),
            10 => p.push(insn(MOV_K, 4 + rng.below(2) as u8, 0, 0, 1)),
            11 => {
                // A jump forward or back, within the program.
                let t = rng.below(len as u64) as i64;
                p.push(insn(JEQ_K, reg(rng), 0, (t - at - 1) as i16, 0));
            }
            12 => p.push(insn(CALL, 0, 0, 0, 1)),
            13 => {
                p.push(insn(LD_IMM64, reg(rng), 0, 0, 1));
                p.push(insn(0, 0, 0, 0, 0));
            }
            14 => {
                let ops = ATOMIC_OPS;
                let r0 = if rng.below(4) == 0 { 0 } else { reg(rng) };
                let (dst, src) = if rng.below(2) == 0 {
                    (r0, reg(rng))
                } else {
                    (reg(rng), r0)
                };
                p.push(atomic(
                    op::W,
                    dst,
                    src,
                    off & !3,
                    ops[rng.below(ops.len() as u64) as usize],
                ));
            }
            _ => p.push(stx(size, 10, reg(rng), -8)),
        }
    }
    p.truncate(len);
    // A truncated LD_IMM64 loses its second half: make it a move.
    if p[len - 1].code == LD_IMM64 {
        p[len - 1] = insn(MOV_K, 4, 0, 0, 1);
    }
    p
}

#[test]
fn random_programs_follow_the_rules() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cfg = Config::host(
        Mode::Inline,
        0xdfff_fc00_0000_0000,
        0x2000,
        [[0x3000; 4]; 3],
        10,
    );
    let (mut programs, mut merged) = (0, 0);
    for _ in 0..50_000 {
        let len = 4 + rng.below(20) as usize;
        let p = random_program(&mut rng, len);
        let nldst = p.iter().filter(|i| is_ldst(i)).count() as u32;
        let pick =
            |rng: &mut Rng| -> Vec<u32> { (0..nldst).filter(|_| rng.below(4) == 0).collect() };
        let m = Marks {
            stack: marks(&pick(&mut rng)),
            trusted: marks(&pick(&mut rng)),
            aligned: marks(&pick(&mut rng)),
        };
        let (checks, members, words) = plan(&p, &m);
        // Which insns are checked, and with what access.
        let mut walk = m.checker(&p);
        let accesses: Vec<Option<Access>> = p.iter().map(|i| walk.next(i)).collect();
        let checked: Vec<bool> = accesses.iter().map(Option::is_some).collect();
        let n_checked = checked.iter().filter(|&&c| c).count();
        assert_eq!(checks as usize, n_checked - members.len(), "{p:?}");
        // Jump targets, from the ISA.
        let mut targets = vec![false; len + 1];
        for (i, x) in p.iter().enumerate() {
            if x.code == JEQ_K {
                targets[(i as i64 + 1 + i64::from(x.off)) as usize] = true;
            }
        }
        let mut found = Vec::new();
        for (l, group) in walks(&p, &words, &checked, &members) {
            let leader = accesses[l].unwrap();
            let mut all = vec![leader];
            for &j in &group {
                let a = accesses[j].unwrap_or_else(|| panic!("{p:?}: member {j} not checked"));
                assert_eq!(a.base, leader.base, "{p:?}: {l} {j}");
                assert!(
                    !(l + 1..=j).any(|k| targets[k]),
                    "{p:?}: jump target in {l}..={j}"
                );
                for k in l..j {
                    let w = writes(&p[k]).unwrap_or_else(|| panic!("{p:?}: {k} leaves the block"));
                    assert!(
                        !w.contains(&leader.base.num()),
                        "{p:?}: {k} writes the base"
                    );
                    if k > l && checked[k] {
                        assert!(group.contains(&k), "{p:?}: access {k} between {l} and {j}");
                    }
                }
                all.push(a);
            }
            assert!(
                forms::fits_granules(&all, merge::MAX_GRANULES.into()) || all.len() == 1,
                "{p:?}: {all:?}"
            );
            found.extend(group);
        }
        found.sort();
        assert_eq!(found, members, "{p:?}: walks and plan differ");
        // The JIT's walk (bpf_jit_kasan_emit_check()): a check for each
        // checked access but the members, as many as the plan counted,
        // each of a span the emitter takes.
        let bits = merge::Plan::new(&words, len as u32).unwrap();
        let mut walk = m.checker(&p);
        let mut emitted = 0;
        for (i, x) in p.iter().enumerate() {
            let Some(a) = walk.next(x) else { continue };
            match merge::check_span(&p, bits, i, &a, walk).unwrap() {
                None => assert!(members.contains(&i)),
                Some(span) => {
                    emitted += 1;
                    let mut buf = [0u8; 128];
                    let mut asm = Asm::new(&mut buf, 0x1000);
                    emit::emit_check_span(&mut asm, &mut Plain, &cfg, &a, &span, 0x4000)
                        .unwrap_or_else(|e| panic!("{p:?}: {i}: {e:?}"));
                }
            }
        }
        assert_eq!(emitted, checks, "{p:?}");
        programs += 1;
        merged += (!members.is_empty()) as usize;
    }
    assert_eq!(programs, 50_000);
    assert!(merged > 5_000, "only {merged} programs merged anything");
}

/// Accesses through the frame pointer are never checked, so never merged;
/// and a group never spans a base that is not a register the JIT maps.
#[test]
fn frame_pointer_accesses_stay_out() {
    let p = [ldx(4, 2, 10, -8), ldx(4, 3, 10, -4), insn(EXIT, 0, 0, 0, 0)];
    assert_eq!(plan_plain(&p), (0, vec![]));
    assert!(BpfReg::new(11).is_none());
}
