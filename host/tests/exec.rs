// SPDX-License-Identifier: GPL-2.0

//! Executes the emitted checks against a simulated shadow and compares the
//! verdict with the reference model of KASAN generic, for every access
//! size, address alignment (0..15), pair of shadow values, base register
//! and offset class, in every mode; checks that all other registers are
//! preserved and that the slow path sees the right address and registers.
//! Then does the same from BPF instructions, as the JIT does
//! ([`Access::of`]), with the instruction's other register pointing at a
//! decoy whose shadow gives the opposite verdict: the check must go through
//! the right register (`src_reg` for `LDX` and `BPF_LOAD_ACQ`, `dst_reg`
//! for the stores and the other atomics), as a read or write of the right
//! size.

use kasan_ebpf_host::asm::Asm;
use kasan_ebpf_host::emit::{self, Config, Mode, Plain, Site};
use kasan_ebpf_host::exec::{self, Call, Image, Regs};
use kasan_ebpf_host::forms::{self, Form};
use kasan_ebpf_host::insn::{op, Access, BpfInsn, BpfReg};
use kasan_ebpf_host::kasan_model::{self, SHADOW_VALUES};
use kasan_ebpf_host::merge::{Span, MAX_GRANULES as MAX};

/// A kernel-like address for granule 0 of the simulated memory window.
const MEM_BASE: u64 = 0xffff_8880_1234_5000;
/// Granules in the simulated window.
const WINDOW: usize = 64;
/// Granule of the window where accesses start.
const AT: u64 = 16;
/// Granule of the window where an instruction's other register points.
const DECOY: u64 = 40;

/// A simulated shadow for [MEM_BASE, MEM_BASE + 8 * WINDOW).
struct Shadow {
    bytes: Box<[u8; WINDOW]>,
}

impl Shadow {
    fn new() -> Self {
        Shadow {
            bytes: Box::new([0; WINDOW]),
        }
    }

    /// KASAN_SHADOW_OFFSET such that (MEM_BASE >> 3) + offset = &bytes[0].
    fn offset(&self) -> u64 {
        (self.bytes.as_ptr() as u64).wrapping_sub(MEM_BASE >> 3)
    }

    /// Shadow byte of absolute granule `g` (`addr / 8`).
    fn get(&self, g: u64) -> u8 {
        self.bytes[(g - (MEM_BASE >> 3)) as usize]
    }
}

struct Variant {
    mode: Mode,
    r12_free: bool,
    checks: u32,
}

/// Inline with the offset in r12; inline adding it from the tail (an arena
/// program, and a program with too few checks for r12); outline.
const VARIANTS: [Variant; 4] = [
    Variant {
        mode: Mode::Inline,
        r12_free: true,
        checks: 10,
    },
    Variant {
        mode: Mode::Inline,
        r12_free: false,
        checks: 10,
    },
    Variant {
        mode: Mode::Inline,
        r12_free: true,
        checks: 1,
    },
    Variant {
        mode: Mode::Outline,
        r12_free: true,
        checks: 10,
    },
];

fn config(v: &Variant, shadow: &Shadow) -> Config {
    Config {
        r12_free: v.r12_free as u8,
        ..Config::host(
            v.mode,
            shadow.offset(),
            exec::slow_path_entry(),
            exec::outline_entries(),
            v.checks,
        )
    }
}

/// Code for one access: the check, a `ret` where the access would be, and
/// the tail. Returns the image, the access's address in it, and the site.
fn build(cfg: &Config, access: &Access) -> (Image, u64, Site) {
    build_span(cfg, access, &Span::of(access))
}

/// Distinct, recognisable register values.
fn initial_regs(cfg: &Config) -> Regs {
    let mut r = [0u64; 16];
    for (i, v) in r.iter_mut().enumerate() {
        *v = 0x1111_0000_0000_0000 | (i as u64) << 40 | 0x5a5a_0000 | i as u64;
    }
    if cfg.uses_r12() {
        r[12] = cfg.shadow_offset; // what the prologue loads
    }
    r
}

/// Checks that the thunk called the slow path for `access` at `addr`,
/// returning to `access_ip`, with the registers in `before` (but `r11`).
/// `found` is what the slow path recomputes from the instruction at
/// `access_ip` ([`Access::of`]), to find the address, size and direction
/// it asks KASAN about.
fn check_slow_call(
    ctx: &str,
    call: Call,
    (access, found): (&Access, &Access),
    addr: u64,
    access_ip: u64,
    before: &Regs,
) {
    let Call::Slow(saved) = call else {
        panic!("{ctx}: unexpected {call:?}");
    };
    assert_eq!(saved.ip, access_ip, "{ctx}: slow path ip");
    assert_eq!(
        (saved.address(found), found.size, found.write),
        (addr, access.size, access.write),
        "{ctx}: address, size, write"
    );
    assert_eq!(saved.rbp, before[5], "{ctx}: saved rbp");
    for (i, r) in emit::THUNK_SAVED.iter().enumerate() {
        if *r as usize != 11 {
            assert_eq!(saved.gpr[i], before[*r as usize], "{ctx}: saved {r:?}");
        }
    }
}

/// Bytes of the nine pops after an outline call: rax, rcx, rdx, rsi and
/// rdi take one each, r8 to r11 two.
const OUTLINE_POPS_LEN: u64 = 13;

/// Checks that an outline entry point was called for `access` at `addr`,
/// from the check in front of the access at `access_ip`: its return
/// address (the `ip` KASAN reports) is that of the pops, inside the check
/// and so inside the code of the access's BPF instruction.
fn check_outline_call(ctx: &str, call: Call, access: &Access, addr: u64, access_ip: u64) {
    let Call::Outline {
        addr: a,
        ip,
        size,
        write,
        ..
    } = call
    else {
        panic!("{ctx}: unexpected {call:?}");
    };
    assert_eq!(
        (a, ip, size, write),
        (
            addr,
            access_ip - OUTLINE_POPS_LEN,
            access.size,
            access.write
        ),
        "{ctx}"
    );
}

/// Every checked access form: base register (R0-R9 and AX, BPF register
/// 12 since Linux 7.3), offset, size and direction.
fn accesses() -> impl Iterator<Item = Access> {
    forms::accesses().filter(|a| a.base != BpfReg::FP)
}

/// Alignments, shadow values and the instruction the check is for.
struct Grid<'a> {
    aligns: &'a [u64],
    shadow: &'a [u8],
    /// The instruction, if the check is emitted for it (as the JIT does:
    /// for [`Access::of`] it) rather than for the access itself.
    form: Option<&'a Form>,
}

/// All alignments 0..15.
const ALIGNS: [u64; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn run_case(v: &Variant, access: &Access) -> usize {
    let grid = Grid {
        aligns: &ALIGNS,
        shadow: &SHADOW_VALUES,
        form: None,
    };
    run_grid(v, access, &grid)
}

/// Runs the check for `access` (or for `grid.form`, which must make
/// `access`) over `grid`; returns the number of runs.
fn run_grid(v: &Variant, access: &Access, grid: &Grid<'_>) -> usize {
    let mut shadow = Shadow::new();
    let cfg = config(v, &shadow);
    let &Access {
        base,
        off,
        size,
        write,
        ..
    } = access;
    let name = grid.form.map_or("access", |f| f.name);
    // What the JIT checks, and the slow path finds, for the instruction.
    let found = match grid.form {
        Some(f) => {
            Access::of(&f.insn).unwrap_or_else(|| panic!("{name} {:?} is not checked", f.insn))
        }
        None => *access,
    };
    let decoy = grid.form.and_then(|f| f.other);
    let (img, access_ip, site) = build(&cfg, &found);
    assert!(site.len > 0, "{access:?} emitted nothing");
    let mut cases = 0;
    for &align in grid.aligns {
        let addr = MEM_BASE + AT * 8 + align;
        let g = addr / 8;
        let decoy_addr = MEM_BASE + DECOY * 8 + align;
        for &s0 in grid.shadow {
            for &s1 in grid.shadow {
                let one_byte = size == 1 || access.aligned;
                let fast_ok = s0 == 0 && (one_byte || s1 == 0);
                shadow.bytes.fill(0xfc);
                let rel = (g - (MEM_BASE >> 3)) as usize;
                shadow.bytes[rel] = s0;
                shadow.bytes[rel + 1] = s1;

                let mut regs = initial_regs(&cfg);
                let hw = base.x86() as usize;
                regs[hw] = addr.wrapping_sub(off as i64 as u64);
                if let Some(d) = decoy {
                    // The decoy gets the opposite verdict: a check through
                    // the wrong register takes the wrong path.
                    let rel = (decoy_addr / 8 - (MEM_BASE >> 3)) as usize;
                    shadow.bytes[rel..rel + 2].fill(if fast_ok { 0xfb } else { 0 });
                    regs[d.x86() as usize] = decoy_addr.wrapping_sub(off as i64 as u64);
                }
                let before = regs;
                // SAFETY: the code reads only the shadow we mapped and
                // calls only the recording shims.
                unsafe { exec::run(&mut regs, img.addr()) };
                let calls = exec::take_calls();

                let ctx = format!(
                    "mode {:?} r12_free {} checks {} {name} base r{} off {off} size {size} \
                     write {write} addr&15={align} shadow {s0:#x},{s1:#x}",
                    v.mode,
                    v.r12_free,
                    v.checks,
                    base.num()
                );
                // Every register but r11 (the JIT's scratch) is preserved.
                for i in (0..16).filter(|&i| i != 4 && i != 11) {
                    assert_eq!(regs[i], before[i], "{ctx}: register {i} changed");
                }
                let bad = kasan_model::poisoned(|g| shadow.get(g), addr, size as u64);
                match v.mode {
                    Mode::Inline => {
                        if fast_ok {
                            assert!(calls.is_empty(), "{ctx}: slow path on valid shadow");
                        } else {
                            assert_eq!(calls.len(), 1, "{ctx}: slow path not taken");
                        }
                        if bad {
                            assert!(!calls.is_empty(), "{ctx}: bad access let through");
                        }
                        if let Some(&call) = calls.first() {
                            let a = (access, &found);
                            check_slow_call(&ctx, call, a, addr, access_ip, &before);
                        }
                    }
                    Mode::Outline => {
                        assert_eq!(calls.len(), 1, "{ctx}: outline must call every time");
                        check_outline_call(&ctx, calls[0], access, addr, access_ip);
                    }
                    Mode::Off => unreachable!(),
                }
                cases += 1;
            }
        }
    }
    cases
}

#[test]
fn verdicts_match_kasan_generic_for_every_case() {
    let mut cases = 0;
    for v in &VARIANTS {
        for access in accesses() {
            cases += run_case(v, &access);
        }
    }
    // 4 variants, 11 registers, 8 offsets, 4 sizes, 2 directions, 16
    // alignments, 15 x 15 shadow pairs.
    assert_eq!(cases, 4 * 11 * 8 * 4 * 2 * 16 * 15 * 15);
}

/// An access the verifier proved naturally aligned reads one shadow byte:
/// at every aligned address and every pair of shadow values, it still lets
/// no bad access through (the model's verdict), enters the slow path
/// exactly when its granule is not fully valid, and so never for a valid
/// access to a whole granule before a redzone or freed granule (which the
/// two-byte read sends to the slow path).
#[test]
fn aligned_accesses_read_one_shadow_byte_and_miss_nothing() {
    let mut cases = 0;
    for v in &VARIANTS {
        for access in accesses() {
            let access = Access {
                aligned: true,
                ..access
            };
            let aligns: Vec<u64> = ALIGNS
                .iter()
                .copied()
                .filter(|a| a % u64::from(access.size) == 0)
                .collect();
            let grid = Grid {
                aligns: &aligns,
                shadow: &SHADOW_VALUES,
                form: None,
            };
            cases += run_grid(v, &access, &grid);
        }
    }
    // 4 variants, 11 registers, 8 offsets, 2 directions, 15 x 15 shadow
    // pairs, and 16 + 8 + 4 + 2 aligned addresses for sizes 1, 2, 4, 8.
    assert_eq!(cases, 4 * 11 * 8 * 2 * 15 * 15 * (16 + 8 + 4 + 2));
}

/// Shadow values for the runs from instructions: valid, partial granules
/// and poison, on both granules. (Every pair, with the verdict the model
/// gives, is run above for each access; what an instruction adds is which
/// access it makes.)
const INSN_SHADOW: [u8; 6] = [0, 1, 4, 7, 0xfb, 0xf8];

/// `BPF_LOAD_ACQ` and `BPF_STORE_REL` of every size, through every base
/// register (R0-R9, AX) at every offset, in every variant and alignment:
/// the load-acquire is checked through `src_reg` as a read, the
/// store-release through `dst_reg` as a write, of the operand size, and
/// never through the other register, which points at a decoy.
#[test]
fn load_acquire_and_store_release_are_checked_through_the_right_register() {
    let mut runs = 0;
    let mut seen = [[0; 4]; 2];
    for form in forms::acquire_release() {
        let a = form.access;
        // What the kernel defines, independently of forms.rs.
        let (want_base, want_write) = if form.insn.imm == op::LOAD_ACQ {
            (form.insn.src(), false)
        } else {
            assert_eq!(form.insn.imm, op::STORE_REL);
            (form.insn.dst(), true)
        };
        assert_eq!((a.base.num(), a.write), (want_base, want_write));
        assert_ne!(form.other.map(BpfReg::num), Some(want_base));
        seen[a.write as usize][a.size_log2()] += 1;
        let grid = Grid {
            aligns: &ALIGNS,
            shadow: &INSN_SHADOW,
            form: Some(&form),
        };
        for v in &VARIANTS {
            runs += run_grid(v, &a, &grid);
        }
    }
    // 11 registers x 8 offsets, per direction and size.
    assert_eq!(seen, [[11 * 8; 4]; 2]);
    // 4 variants, 11 registers, 8 offsets, 4 sizes, 2 operations, 16
    // alignments, 6 x 6 shadow pairs.
    assert_eq!(runs, 4 * 11 * 8 * 4 * 2 * 16 * 6 * 6);
}

/// Every checked instruction form (LDX MEM and MEMSX, LOAD_ACQ; STX MEM,
/// ST MEM, STORE_REL, the read-modify-write atomics), every size, base
/// register and two offset classes, in every variant: checked through its
/// base register with the right size and direction.
#[test]
fn every_instruction_form_is_checked_through_its_base_register() {
    let mut runs = 0;
    let mut insns = 0;
    let mut names = std::collections::BTreeMap::new();
    for a in accesses().filter(|a| a.off == -8 || a.off == i16::MIN) {
        for form in forms::forms(a) {
            *names.entry(form.name).or_insert(0) += 1;
            insns += 1;
            let grid = Grid {
                aligns: &[0, 7, 12],
                shadow: &[0, 3, 0xfb],
                form: Some(&form),
            };
            for v in &VARIANTS {
                runs += run_grid(v, &a, &grid);
            }
        }
    }
    // Per register and offset: reads 4 ldx, 3 ldsx, 4 load_acq; writes 4
    // stx, 4 st, 4 store_rel, 2 x 10 atomics.
    let per = 11 * 2;
    let want = [
        ("atomic", 20 * per),
        ("ldsx", 3 * per),
        ("ldx", 4 * per),
        ("load_acq", 4 * per),
        ("st", 4 * per),
        ("store_rel", 4 * per),
        ("stx", 4 * per),
    ];
    assert_eq!(names.into_iter().collect::<Vec<_>>(), want);
    assert_eq!(insns, 43 * per);
    assert_eq!(runs, insns * 4 * 3 * 3 * 3);
}

#[test]
fn frame_pointer_accesses_are_not_checked() {
    for code in [
        op::LDX | op::MEM | op::DW,
        op::STX | op::MEM | op::W,
        op::ST | op::MEM | op::B,
        op::STX | op::ATOMIC | op::DW,
    ] {
        let base = if code & 7 == op::LDX {
            (0, 10)
        } else {
            (10, 1)
        };
        let insn = BpfInsn::new(code, base.0, base.1, -8, 0);
        assert_eq!(Access::of(&insn), None, "{insn:?}");
    }
    // The load-acquire reads through src_reg, the store-release writes
    // through dst_reg: the frame pointer there is not checked, elsewhere
    // it does not matter.
    for size in forms::SIZES {
        let fp = BpfReg::FP.num();
        assert_eq!(Access::of(&forms::load_acq(size, 1, fp, -8)), None);
        assert_eq!(Access::of(&forms::store_rel(size, fp, 1, -8)), None);
        let acq = Access::of(&forms::load_acq(size, fp, 1, -8)).unwrap();
        let rel = Access::of(&forms::store_rel(size, 1, fp, -8)).unwrap();
        for (a, write) in [(acq, false), (rel, true)] {
            assert_eq!((a.base.num(), a.size, a.write), (1, size, write));
        }
    }
}

#[test]
fn check_sequences_have_fixed_length() {
    // Passes converge only if a check's length does not depend on where
    // the tail is.
    let shadow = Shadow::new();
    for v in &VARIANTS {
        let cfg = config(v, &shadow);
        let a = Access {
            base: BpfReg::new(1).unwrap(),
            off: 16,
            size: 8,
            write: false,
            probe: false,
            aligned: false,
        };
        let mut lens = Vec::new();
        let ip = exec::slow_path_entry();
        for tail in [0u64, 0x1000, 0x7ff0_0000] {
            let mut buf = [0u8; 128];
            let mut asm = Asm::new(&mut buf, ip);
            let site = emit::emit_check(&mut asm, &mut Plain, &cfg, &a, ip.wrapping_add(tail));
            lens.push(site.unwrap().len);
        }
        assert!(lens.windows(2).all(|w| w[0] == w[1]), "{lens:?}");
    }
}

/// `KASAN_SHADOW_OFFSET` of x86-64 with 4-level paging. Every shadow address
/// it yields, `offset + (addr >> 3)` for any `addr`, lies in
/// [0xdfff_fc00_0000_0000, 0xffff_fc00_0000_0000): non-canonical or in the
/// kernel half, so in this process every shadow read through it faults, as
/// it does in the kernel for an address that has no shadow mapped.
const KERNEL_SHADOW_OFFSET: u64 = 0xdfff_fc00_0000_0000;

/// Pointers that no KASAN shadow covers: NULL and the bytes after it
/// (`shr r11, 3` leaves 0), the first address past them, a user address
/// and non-canonical ones.
const WILD: [u64; 13] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    0x0000_7fff_dead_b000,
    0x8000_0000_0000_0000,
    0xdead_beef_0000_0000,
    0xffff_ffff_ffff_fff8,
];

/// A wild pointer reaching a check makes its shadow read fault; the
/// exception-table entry the JIT adds for it (emulated by [`exec::Fixup`] as
/// `ex_handler_bpf()` handles it) must land on the call to the slow path,
/// so that KASAN reports the access instead of the access oopsing. In
/// every variant, for every base register, offset, size and direction.
#[test]
fn wild_pointers_reach_the_slow_path() {
    let shadow = Shadow::new();
    let mut runs = 0;
    for v in &VARIANTS {
        let mut cfg = config(v, &shadow);
        cfg.shadow_offset = KERNEL_SHADOW_OFFSET;
        for access in accesses() {
            runs += run_wild(v, &cfg, &access);
        }
    }
    assert_eq!(runs, 4 * 11 * 8 * 4 * 2 * WILD.len());
}

fn run_wild(v: &Variant, cfg: &Config, access: &Access) -> usize {
    let (img, access_ip, site) = build(cfg, access);
    // As the JIT does: an entry for each check that reads shadow inline.
    let fixup = (site.fault_len != 0)
        .then(|| exec::Fixup::new(img.addr() + site.fault_off as u64, site.fault_len));
    assert_eq!(fixup.is_some(), v.mode == Mode::Inline);
    for (i, &addr) in WILD.iter().enumerate() {
        let mut regs = initial_regs(cfg);
        regs[access.base.x86() as usize] = addr.wrapping_sub(access.off as i64 as u64);
        let before = regs;
        // SAFETY: the code reads only the tail and the (faulting) shadow,
        // whose fault the emulated exception table fixes up, and calls
        // only the recording shims.
        unsafe { exec::run(&mut regs, img.addr()) };
        let calls = exec::take_calls();
        let ctx = format!(
            "mode {:?} r12_free {} checks {} {access:?} addr {addr:#x}",
            v.mode, v.r12_free, v.checks
        );
        for r in (0..16).filter(|&r| r != 4 && r != 11) {
            assert_eq!(regs[r], before[r], "{ctx}: register {r} changed");
        }
        assert_eq!(calls.len(), 1, "{ctx}: the access was not checked");
        match &fixup {
            Some(f) => {
                assert_eq!(f.hits(), i as u64 + 1, "{ctx}: shadow read did not fault");
                let a = (access, access);
                check_slow_call(&ctx, calls[0], a, addr, access_ip, &before);
            }
            None => check_outline_call(&ctx, calls[0], access, addr, access_ip),
        }
    }
    WILD.len()
}

/// Code for the check of `access` covering `span` (a merged group's, led
/// by `access`; or the access's own), a `ret` where the access would be,
/// and the tail. Returns the image, the access's address in it, and the
/// site.
fn build_span(cfg: &Config, access: &Access, span: &Span) -> (Image, u64, Site) {
    let mut img = Image::new(4096);
    let base = img.addr();
    let tail = base + 2048;
    let bytes = img.bytes();
    let (check, rest) = bytes.split_at_mut(2048);
    let mut asm = Asm::new(check, base);
    let site = emit::emit_check_span(&mut asm, &mut Plain, cfg, access, span, tail).unwrap();
    let access_ip = asm.pc();
    asm.bytes(&[0xc3]).unwrap();
    let mut tasm = Asm::new(rest, tail);
    emit::emit_tail(&mut tasm, &mut Plain, cfg).unwrap();
    (img, access_ip, site)
}

/// The shadows of `n` granules that [`run_group`] tries, from `values`:
/// every combination if there are at most 125, else all valid, every
/// granule alone at every value (the rest valid), every two granules with a
/// partial and a freed one, and 64 random ones.
fn shadow_patterns(n: usize, values: &[u8], seed: u64) -> Vec<Vec<u8>> {
    let total = values.len().pow(n as u32);
    if total <= 125 {
        return (0..total)
            .map(|mut k| {
                (0..n)
                    .map(|_| {
                        let v = values[k % values.len()];
                        k /= values.len();
                        v
                    })
                    .collect()
            })
            .collect();
    }
    let mut out = vec![vec![0; n]];
    for j in 0..n {
        for &v in values.iter().filter(|&&v| v != 0) {
            let mut s = vec![0; n];
            s[j] = v;
            out.push(s);
        }
        for k in (0..n).filter(|&k| k != j) {
            let mut s = vec![0; n];
            (s[j], s[k]) = (4, 0xfb);
            out.push(s);
        }
    }
    let mut rng = forms::Rng(seed | 1);
    for _ in 0..64 {
        out.push(
            (0..n)
                .map(|_| values[rng.below(values.len() as u64) as usize])
                .collect(),
        );
    }
    out
}

/// Runs the check of the group `accesses` (leader first, all through one
/// base register) at every base position its alignment marks allow and
/// the shadows of [`shadow_patterns`] over the granules the check reads
/// from the lowest byte on (a power of two of them, at least the span's)
/// and one more, in the inline variants: when the fast path lets the group
/// through, KASAN's model finds none of its accesses bad, and it does let
/// it through when those granules are all valid; when it does not, the
/// thunk calls the slow path from the leader's access with registers from
/// which each member's address is recomputed (as the slow path does, from
/// the base register and the member's offset). Returns the runs, or 0 if
/// the group does not merge.
fn run_group(accesses: &[Access], positions: &[u64], values: &[u8]) -> usize {
    let leader = accesses[0];
    let Some(span) = accesses[1..]
        .iter()
        .try_fold(Span::of(&leader), |s, a| s.with(a))
    else {
        return 0;
    };
    let read = span.granules().next_power_of_two() as usize;
    let seed = accesses.iter().fold(0u64, |h, a| {
        h.wrapping_mul(31) ^ (a.off as u64) << 8 ^ u64::from(a.size)
    });
    let patterns = shadow_patterns(read + 1, values, seed);
    let mut runs = 0;
    for v in VARIANTS.iter().filter(|v| v.mode == Mode::Inline) {
        let mut shadow = Shadow::new();
        let cfg = config(v, &shadow);
        let (img, access_ip, _) = build_span(&cfg, &leader, &span);
        let hw = leader.base.x86() as usize;
        for &p in positions {
            let base = MEM_BASE + AT * 8 + p;
            let aligned_ok = accesses.iter().all(|a| {
                !a.aligned || base.wrapping_add(a.off as i64 as u64) % u64::from(a.size) == 0
            });
            if !aligned_ok {
                continue;
            }
            let first = base.wrapping_add(span.lo as i64 as u64) / 8;
            let rel = (first - (MEM_BASE >> 3)) as usize;
            for pat in &patterns {
                {
                    {
                        shadow.bytes.fill(0xfc);
                        shadow.bytes[rel..rel + pat.len()].copy_from_slice(pat);
                        let mut regs = initial_regs(&cfg);
                        regs[hw] = base;
                        let before = regs;
                        // SAFETY: the code reads only the shadow we mapped
                        // and calls only the recording shims.
                        unsafe { exec::run(&mut regs, img.addr()) };
                        let calls = exec::take_calls();
                        let ctx = format!(
                            "{:?} r12_free {} group {accesses:?} base&15={p} \
                             shadow {pat:x?}",
                            v.mode, v.r12_free
                        );
                        for i in (0..16).filter(|&i| i != 4 && i != 11) {
                            assert_eq!(regs[i], before[i], "{ctx}: register {i} changed");
                        }
                        let bad: Vec<bool> = accesses
                            .iter()
                            .map(|a| {
                                let addr = base.wrapping_add(a.off as i64 as u64);
                                kasan_model::poisoned(|g| shadow.get(g), addr, a.size.into())
                            })
                            .collect();
                        if pat[..read].iter().all(|&s| s == 0) {
                            assert!(calls.is_empty(), "{ctx}: valid group sent to the slow path");
                        }
                        match calls.as_slice() {
                            [] => assert!(
                                !bad.contains(&true),
                                "{ctx}: bad access {bad:?} let through"
                            ),
                            [Call::Slow(saved)] => {
                                assert_eq!(saved.ip, access_ip, "{ctx}: slow path ip");
                                for a in accesses {
                                    let want = base.wrapping_add(a.off as i64 as u64);
                                    assert_eq!(saved.address(a), want, "{ctx}: {a:?}");
                                }
                            }
                            _ => panic!("{ctx}: calls {calls:?}"),
                        }
                        runs += 1;
                    }
                }
            }
        }
    }
    runs
}

fn acc(off: i16, size: u8, write: bool, aligned: bool) -> Access {
    Access {
        base: BpfReg::new(1).unwrap(),
        off,
        size,
        write,
        probe: false,
        aligned,
    }
}

/// Every pair of accesses (sizes; the member from 64 bytes below to 64
/// above the leader, densely near it and at the edges of one, two, four
/// and eight granules; each with or without an alignment mark), at every
/// base position and the shadows of [`shadow_patterns`] from five values
/// (valid, partial, freed): a pair merges exactly when it fits
/// [`MAX_GRANULES`] granules at every allowed base position, and the one
/// check lets nothing bad through and sends everything else to the slow
/// path with what it needs.
#[test]
fn merged_pairs_let_no_bad_access_through() {
    let values = [0, 1, 4, 7, 0xfb];
    let offsets: Vec<i16> = (-56..-46)
        .chain(-33..-30)
        .chain(0..24)
        .chain([31, 32, 33, 40, 48, 55, 56, 57, 58, 60, 63, 64, 65, 66, 72])
        .collect();
    let (mut runs, mut pairs, mut rejected) = (0, 0, 0);
    for sa in forms::SIZES {
        for sb in forms::SIZES {
            for &ob in &offsets {
                for (aa, ab) in [(false, false), (true, false), (false, true), (true, true)] {
                    let g = [acc(8, sa, false, aa), acc(ob, sb, ob % 2 == 0, ab)];
                    let r = run_group(&g, &ALIGNS, &values);
                    assert_eq!(r > 0, forms::fits_granules(&g, MAX as i64), "{g:?}");
                    if r == 0 {
                        rejected += 1;
                    } else {
                        pairs += 1;
                    }
                    runs += r;
                }
            }
        }
    }
    // Each pair merged exactly when it fits (above); both kinds occur.
    assert_eq!(pairs + rejected, 4 * 4 * offsets.len() * 4);
    assert!(pairs > 0 && rejected > 0, "{pairs} merged, {rejected} not");
    eprintln!("{pairs} pairs merged, {rejected} not, {runs} runs");
}

/// Groups of three (no alignment marks), close together and spread over
/// up to nine granules, at three base positions and the shadows of
/// [`shadow_patterns`] from three values: the same.
#[test]
fn merged_triples_let_no_bad_access_through() {
    let (mut runs, mut groups) = (0, 0);
    let near = (4..12).flat_map(|b| (4..12).map(move |c| (b, c)));
    let far = [8, 24, 36]
        .into_iter()
        .flat_map(|b| [40, 52, 56, 60, 61, 64].map(|c| (b, c)));
    let offsets: Vec<(i16, i16)> = near.chain(far).collect();
    for sa in forms::SIZES {
        for sb in forms::SIZES {
            for sc in forms::SIZES {
                for &(ob, oc) in &offsets {
                    {
                        let g = [
                            acc(4, sa, false, false),
                            acc(ob, sb, true, false),
                            acc(oc, sc, false, false),
                        ];
                        let r = run_group(&g, &[0, 3, 7], &[0, 4, 0xfb]);
                        assert_eq!(r > 0, forms::fits_granules(&g, MAX as i64), "{g:?}");
                        groups += (r > 0) as usize;
                        runs += r;
                    }
                }
            }
        }
    }
    assert!(groups > 0, "no group merged");
    eprintln!("{groups} triples merged, {runs} runs");
}
