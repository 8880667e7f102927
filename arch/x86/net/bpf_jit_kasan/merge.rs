// SPDX-License-Identifier: GPL-2.0

//! Merged checks: one check for neighbouring accesses through one pointer.
//!
//! Compiled code reads a structure field by field: `r2 = *(u64 *)(r1 + 0);
//! r3 = *(u32 *)(r1 + 8)`. Inline mode gives such accesses a single check,
//! in front of the first of them (the leader): the shadow of every granule
//! the group's accesses can touch, read at once. When it shows them all
//! valid, no access of the group can be bad, and the others (the members)
//! need no check of their own. Otherwise the slow path walks the group and
//! lets KASAN judge each access, in program order, with the address and
//! the instruction of each: the reports are those the accesses would have
//! had one by one.
//!
//! That holds because, from the leader to its last member, nothing changes
//! the shadow or the addresses:
//!  - the group lies within one basic block: no jump lands after the leader
//!    (a jump target closes the group), and no jump, call (helper, kfunc,
//!    subprogram, tail call), exit or `LD_ABS`/`LD_IND` leaves it, so every
//!    member runs once the leader has, and no function that could free or
//!    poison memory runs in between;
//!  - the base register is not written in between, so each member's
//!    address is the base value at the leader plus the member's offset;
//!  - no other access KASAN checks comes in between (it would close the
//!    group), so the reports stay in program order. Accesses that are not
//!    checked (stack-only ones, loads through untrusted pointers) may come
//!    in between: they report nothing, so the order of reports is that of
//!    the checked accesses still (for example a store to the stack
//!    through a register other than r10, or a tracing program's load
//!    through an untrusted pointer between two trusted ones; accesses
//!    through r10 itself are never part of the plan). The plan marks them
//!    as skipped, so that the slow path can find the group's end from the
//!    instructions and the plan alone.
//!
//! A group whose accesses span at most [`MAX_GRANULES`] granules, wherever
//! the base points within a granule as far as the verifier's alignment
//! marks tell, is checked like one access of that span: one compare of the
//! shadow bytes of its granules with zero, a byte, word, dword or qword
//! (three granules read four shadow bytes, five to seven read eight: a
//! shadow byte after the span that is not zero only sends the group to the
//! slow path, which judges the accesses themselves). Programs with indirect
//! jumps (whose targets the instructions do not say) are not merged.
//!
//! [`plan`] decides the groups once per JIT pass and records the members
//! and the skipped accesses in two bitmaps over the insns ([`Plan`]),
//! which the program keeps for its slow path; [`group`] walks a group's
//! members from its leader, for the JIT (the span of the check) and the
//! slow path (the accesses to judge) alike.

use crate::insn::{op, Access, BpfInsn, BpfReg, Checker, StackOnly};

/// `BPF_LD`, `BPF_ALU`, `BPF_JMP`, `BPF_JMP32`, `BPF_ALU64`.
const LD: u8 = 0x00;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
/// `BPF_LD | BPF_IMM | BPF_DW`: a 64-bit immediate, two insns.
const LD_IMM64: u8 = 0x18;
/// `BPF_CALL`, `BPF_EXIT`, `BPF_JA` (operation of a `BPF_JMP` insn).
const CALL: u8 = 0x80;
const EXIT: u8 = 0x90;
const JA: u8 = 0x00;
/// `BPF_X`: a register operand (for `BPF_JA`: an indirect jump).
const X: u8 = 0x08;

/// The most granules a group's check covers: one qword of shadow.
pub const MAX_GRANULES: u32 = 8;

/// A bitmap over a program's insns that this module writes: the members
/// of merged groups, or jump targets.
#[derive(Debug)]
pub struct BitsMut<'a> {
    words: &'a mut [u64],
    bits: u32,
}

/// A bitmap has fewer words than the program has insns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooSmall;

impl<'a> BitsMut<'a> {
    /// A bitmap of `bits` bits over `words`, cleared.
    pub fn new(words: &'a mut [u64], bits: u32) -> Result<Self, TooSmall> {
        if words.len() < (bits as usize).div_ceil(64) {
            return Err(TooSmall);
        }
        words.iter_mut().for_each(|w| *w = 0);
        Ok(BitsMut { words, bits })
    }

    /// Sets bit `k`, if there is one.
    pub fn set(&mut self, k: usize) {
        if k < self.bits as usize {
            self.words[k / 64] |= 1 << (k % 64);
        }
    }

    /// The bitmap, to read.
    pub fn get(&self) -> StackOnly<'_> {
        StackOnly::new(self.words, self.bits).unwrap_or(StackOnly::NONE)
    }
}

/// Words of a plan ([`Plan`]) for a program of `len` insns: the members'
/// bitmap, then the skipped accesses', each in whole words.
pub fn plan_words(len: usize) -> usize {
    2 * len.div_ceil(64)
}

/// A program's plan of merged groups, as [`plan_program`] wrote it into
/// [`plan_words`] words: the members (accesses that their leader's check
/// covers), and the skipped accesses (accesses without a check inside a
/// group, which its walk steps over).
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    members: StackOnly<'a>,
    skips: StackOnly<'a>,
}

impl<'a> Plan<'a> {
    /// The plan in `words` for a program of `len` insns.
    pub fn new(words: &'a [u64], len: u32) -> Result<Self, TooSmall> {
        let half = (len as usize).div_ceil(64);
        if words.len() < 2 * half {
            return Err(TooSmall);
        }
        let (m, s) = words.split_at(half);
        Ok(Plan {
            members: StackOnly::new(m, len).map_err(|_| TooSmall)?,
            skips: StackOnly::new(s, len).map_err(|_| TooSmall)?,
        })
    }

    /// Whether the insn at `i` is a member of a group.
    pub fn member(&self, i: usize) -> bool {
        u32::try_from(i).is_ok_and(|i| self.members.get(i))
    }

    /// Whether the insn at `i` is an access without a check that a group's
    /// walk steps over.
    pub fn skipped(&self, i: usize) -> bool {
        u32::try_from(i).is_ok_and(|i| self.skips.get(i))
    }
}

/// Marks in `targets` (one bit per insn) every insn that a jump lands on.
/// Returns `false`, and marks nothing useful, if the program has an
/// indirect jump (`BPF_JA | BPF_X`): its targets are not in the insns, and
/// such a program is not merged.
pub fn jump_targets(insns: &[BpfInsn], targets: &mut BitsMut<'_>) -> bool {
    let mut i = 0;
    while i < insns.len() {
        let insn = &insns[i];
        let class = insn.code & 0x07;
        if class == JMP || class == JMP32 {
            let operation = insn.code & 0xf0;
            if operation == JA && insn.code & X != 0 {
                return false;
            }
            if operation != CALL && operation != EXIT {
                // `gotol` (JMP32 | JA) has its offset in imm.
                let off = if class == JMP32 && operation == JA {
                    i64::from(insn.imm)
                } else {
                    i64::from(insn.off)
                };
                let t = i as i64 + 1 + off;
                if let Ok(t) = usize::try_from(t) {
                    targets.set(t);
                }
            }
        }
        i += if insn.code == LD_IMM64 { 2 } else { 1 };
    }
    true
}

/// Whether `insn`, executed after a group's leader, closes the group of
/// accesses through `base`: it leaves the basic block (any jump, call or
/// exit), calls into the kernel (`LD_ABS`, `LD_IND`), or writes `base`.
/// Unknown forms close it too.
pub fn ends_group(insn: &BpfInsn, base: BpfReg) -> bool {
    let b = base.num();
    match insn.code & 0x07 {
        JMP | JMP32 => true,
        // ALU and ALU64 write dst_reg, whatever the operation (a move, an
        // address space cast, a byte swap, ...).
        ALU | ALU64 => insn.dst() == b,
        LD => match insn.code {
            LD_IMM64 => insn.dst() == b,
            // The second half of an LD_IMM64 (code 0): no effect.
            0 => false,
            _ => true,
        },
        // Loads write dst_reg, in every mode.
        op::LDX => insn.dst() == b,
        op::ST => false,
        op::STX => match insn.code & 0xe0 {
            op::MEM | op::PROBE_MEM32 => false,
            op::ATOMIC | op::PROBE_ATOMIC => match atomic_writes(insn.imm) {
                AtomicWrites::Memory => false,
                AtomicWrites::Src => insn.src() == b,
                AtomicWrites::Dst => insn.dst() == b,
                AtomicWrites::R0 => b == 0,
                AtomicWrites::Unknown => true,
            },
            _ => true,
        },
        _ => true,
    }
}

/// The register an atomic operation writes, besides memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AtomicWrites {
    /// None: `BPF_ADD`, `BPF_AND`, `BPF_OR`, `BPF_XOR`, `BPF_STORE_REL`.
    Memory,
    /// `src_reg` gets the old value: the same with `BPF_FETCH`, `BPF_XCHG`.
    Src,
    /// `dst_reg` gets the value read: `BPF_LOAD_ACQ`.
    Dst,
    /// `r0` gets the old value: `BPF_CMPXCHG`.
    R0,
    /// An operation the ISA does not define.
    Unknown,
}

/// What the atomic operation `imm` writes (include/uapi/linux/bpf.h).
fn atomic_writes(imm: i32) -> AtomicWrites {
    /// `BPF_ADD`, `BPF_OR`, `BPF_AND`, `BPF_XOR`, `BPF_XCHG`, `BPF_CMPXCHG`,
    /// `BPF_FETCH`.
    const ADD: i32 = 0x00;
    const OR: i32 = 0x40;
    const AND: i32 = 0x50;
    const XOR: i32 = 0xa0;
    const FETCH: i32 = 0x01;
    const XCHG: i32 = 0xe0 | FETCH;
    const CMPXCHG: i32 = 0xf0 | FETCH;
    match imm {
        ADD | OR | AND | XOR | op::STORE_REL => AtomicWrites::Memory,
        XCHG => AtomicWrites::Src,
        CMPXCHG => AtomicWrites::R0,
        op::LOAD_ACQ => AtomicWrites::Dst,
        _ if matches!(imm & !FETCH, ADD | OR | AND | XOR) => AtomicWrites::Src,
        _ => AtomicWrites::Unknown,
    }
}

/// The bytes a check covers, relative to a base register, and what the
/// verifier's alignment marks say of where the base points in a granule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The base register.
    pub base: BpfReg,
    /// Lowest offset accessed.
    pub lo: i32,
    /// One past the highest offset accessed.
    pub hi: i32,
    /// The base is known modulo `modulus` (1, 2, 4 or 8)...
    modulus: u8,
    /// ... to be `phase`.
    phase: u8,
}

impl Span {
    /// The span of `access` alone.
    pub fn of(access: &Access) -> Span {
        let (modulus, phase) = if access.aligned {
            // base + off is a multiple of size.
            let m = access.size;
            (m, (-i32::from(access.off)).rem_euclid(i32::from(m)) as u8)
        } else {
            (1, 0)
        };
        Span {
            base: access.base,
            lo: access.off.into(),
            hi: i32::from(access.off) + i32::from(access.size),
            modulus,
            phase,
        }
    }

    /// Number of granules the span may touch, wherever the base points as
    /// far as is known of it.
    pub fn granules(&self) -> u32 {
        let m = i32::from(self.modulus);
        // Where base + lo lies in its granule: known modulo m; the worst
        // case is the highest such position below 8.
        let p = (i32::from(self.phase) + self.lo).rem_euclid(m);
        let p_max = p + m * ((7 - p) / m);
        ((p_max + (self.hi - self.lo) - 1) / 8 + 1) as u32
    }

    /// The span of this group with `access` added, if it has the same base,
    /// is consistent with what is known of the base, and still lies within
    /// [`MAX_GRANULES`] granules (one shadow qword).
    pub fn with(&self, access: &Access) -> Option<Span> {
        if access.base != self.base {
            return None;
        }
        let other = Span::of(access);
        // Alignments are powers of two: the larger modulus says more, and
        // must agree with the smaller.
        let (small, large) = if other.modulus <= self.modulus {
            (&other, self)
        } else {
            (self, &other)
        };
        if large.phase % small.modulus != small.phase {
            return None;
        }
        let merged = Span {
            base: self.base,
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
            modulus: large.modulus,
            phase: large.phase,
        };
        (merged.granules() <= MAX_GRANULES).then_some(merged)
    }
}

/// Decides the merged groups of a program for one JIT pass: sets the bit
/// of every member (an access that its leader's check covers, and that
/// gets none of its own) in `members`, and of every access without a check
/// that comes while a group is open in `skips`, bitmaps over `insns`.
/// `checker` walks the program from its first insn with the verifier's
/// marks; `targets` has the jump targets ([`jump_targets`]). Returns the
/// number of checks that remain: the checked accesses that are not
/// members.
pub fn plan(
    insns: &[BpfInsn],
    mut checker: Checker<'_>,
    targets: StackOnly<'_>,
    members: &mut BitsMut<'_>,
    skips: &mut BitsMut<'_>,
) -> u32 {
    let mut open: Option<Span> = None;
    let mut checks = 0;
    for (i, insn) in insns.iter().enumerate() {
        if targets.get(i as u32) {
            open = None;
        }
        // Every insn goes through the checker, to keep its count of loads
        // and stores.
        let checked = checker.next(insn);
        if Access::of_checked(insn).is_some() {
            open = match checked {
                Some(a) => match open.and_then(|s| s.with(&a)) {
                    Some(s) => {
                        members.set(i);
                        Some(s)
                    }
                    None => {
                        checks += 1;
                        Some(Span::of(&a))
                    }
                },
                // An access that is not checked reports nothing: the
                // group stays open, and its walk steps over it.
                None => {
                    if open.is_some() {
                        skips.set(i);
                    }
                    open
                }
            };
        }
        if open.is_some_and(|s| ends_group(insn, s.base)) {
            open = None;
        }
    }
    checks
}

/// Plans the merged groups of a whole program ([`jump_targets`], then
/// [`plan`]) with `targets`, a bitmap of at least one bit per insn
/// (scratch), into `words`, at least [`plan_words`] words (read them with
/// [`Plan::new`]). Returns the number of checks that remain, or `None` for
/// a program with indirect jumps, which gets no groups (its checks are all
/// its checked accesses, which the caller has counted).
pub fn plan_program(
    insns: &[BpfInsn],
    checker: Checker<'_>,
    targets: &mut [u64],
    words: &mut [u64],
) -> Result<Option<u32>, TooSmall> {
    let bits = u32::try_from(insns.len()).map_err(|_| TooSmall)?;
    let half = insns.len().div_ceil(64);
    if words.len() < plan_words(insns.len()) {
        return Err(TooSmall);
    }
    let (members, skips) = words.split_at_mut(half);
    let mut targets = BitsMut::new(targets, bits)?;
    let mut members = BitsMut::new(members, bits)?;
    let mut skips = BitsMut::new(&mut skips[..half], bits)?;
    if !jump_targets(insns, &mut targets) {
        return Ok(None);
    }
    Ok(Some(plan(
        insns,
        checker,
        targets.get(),
        &mut members,
        &mut skips,
    )))
}

/// The members of the group that the access at `leader` leads, in program
/// order, from the plan: the insns after it that are members, up to the
/// first that closes the group or is an access that is neither a member
/// nor skipped. Empty if `leader` is not a checked access.
pub fn group<'a>(insns: &'a [BpfInsn], plan: Plan<'a>, leader: usize) -> Group<'a> {
    let (base, next) = match insns.get(leader).and_then(Access::of_checked) {
        Some(a) if !ends_group(&insns[leader], a.base) => (a.base, leader + 1),
        _ => (BpfReg::FP, insns.len()),
    };
    Group {
        insns,
        plan,
        base,
        next,
    }
}

/// Iterator over a group's members: see [`group`].
#[derive(Clone, Debug)]
pub struct Group<'a> {
    insns: &'a [BpfInsn],
    plan: Plan<'a>,
    base: BpfReg,
    next: usize,
}

impl Iterator for Group<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.next < self.insns.len() {
            let j = self.next;
            let insn = &self.insns[j];
            self.next += 1;
            if self.plan.member(j) {
                if ends_group(insn, self.base) {
                    self.next = self.insns.len();
                }
                return Some(j);
            }
            let skipped = self.plan.skipped(j);
            if (Access::of_checked(insn).is_some() && !skipped) || ends_group(insn, self.base) {
                break;
            }
            if insn.code == LD_IMM64 {
                self.next += 1;
            }
        }
        self.next = self.insns.len();
        None
    }
}

/// The plan does not match the insns and marks it is used with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inconsistent;

/// What the JIT emits for `access`, the checked access at `idx`: nothing
/// if it is a member of a group (`Ok(None)`), else a check of the span
/// that [`leader_span`] finds. `walk` is the checker right after the
/// access.
pub fn check_span(
    insns: &[BpfInsn],
    plan: Plan<'_>,
    idx: usize,
    access: &Access,
    walk: Checker<'_>,
) -> Result<Option<Span>, Inconsistent> {
    if plan.member(idx) {
        return Ok(None);
    }
    leader_span(insns, plan, idx, access, walk)
        .map(Some)
        .ok_or(Inconsistent)
}

/// The span the check of the access at `leader` must cover: its own and
/// its members'. `checker` is the walk right after the leader (its count
/// of loads and stores past it), for the members' alignment marks.
/// `None` if a member is not a checked access or does not fit: the plan
/// that wrote `members` was not made from these insns and marks.
pub fn leader_span(
    insns: &[BpfInsn],
    plan: Plan<'_>,
    leader: usize,
    access: &Access,
    mut checker: Checker<'_>,
) -> Option<Span> {
    let mut span = Span::of(access);
    let mut k = leader + 1;
    for m in group(insns, plan, leader) {
        let mut got = None;
        while k <= m {
            got = checker.next(&insns[k]);
            k += 1;
        }
        span = span.with(&got?)?;
    }
    Some(span)
}
