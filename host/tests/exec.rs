// SPDX-License-Identifier: GPL-2.0

//! Executes the emitted checks against a simulated shadow and compares the
//! verdict with the reference model of KASAN generic, for every access
//! size, address alignment (0..15), pair of shadow values, base register
//! and offset class, in every mode; checks that all other registers are
//! preserved and that the slow path sees the right address and registers.

use kasan_ebpf_host::asm::Asm;
use kasan_ebpf_host::emit::{self, Config, Mode, Plain, Site};
use kasan_ebpf_host::exec::{self, Call, Image, Regs};
use kasan_ebpf_host::forms;
use kasan_ebpf_host::insn::{op, Access, BpfInsn, BpfReg};
use kasan_ebpf_host::kasan_model::{self, SHADOW_VALUES};

/// A kernel-like address for granule 0 of the simulated memory window.
const MEM_BASE: u64 = 0xffff_8880_1234_5000;
/// Granules in the simulated window.
const WINDOW: usize = 64;
/// Granule of the window where accesses start.
const AT: u64 = 16;

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
        shadow_offset: shadow.offset(),
        slow_path: exec::slow_path_entry(),
        outline: exec::outline_entries(),
        stack_only: core::ptr::null(),
        checks: v.checks,
        nr_ldst: 0,
        call_len: emit::CALL_REL32_LEN,
        mode: v.mode as u8,
        r12_free: v.r12_free as u8,
    }
}

/// Code for one access: the check, a `ret` where the access would be, and
/// the tail. Returns the image, the access's address in it, and the site.
fn build(cfg: &Config, access: &Access) -> (Image, u64, Site) {
    let mut img = Image::new(4096);
    let base = img.addr();
    let tail = base + 2048;
    let bytes = img.bytes();
    let (check, rest) = bytes.split_at_mut(2048);
    let mut asm = Asm::new(check, base);
    let site = emit::emit_check(&mut asm, &mut Plain, cfg, access, tail).unwrap();
    let access_ip = asm.pc();
    asm.bytes(&[0xc3]).unwrap();
    let mut tasm = Asm::new(rest, tail);
    emit::emit_tail(&mut tasm, &mut Plain, cfg).unwrap();
    (img, access_ip, site)
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
fn check_slow_call(
    ctx: &str,
    call: Call,
    access: &Access,
    addr: u64,
    access_ip: u64,
    before: &Regs,
) {
    let Call::Slow(saved) = call else {
        panic!("{ctx}: unexpected {call:?}");
    };
    assert_eq!(saved.ip, access_ip, "{ctx}: slow path ip");
    assert_eq!(saved.address(access), addr, "{ctx}: address");
    assert_eq!(saved.rbp, before[5], "{ctx}: saved rbp");
    for (i, r) in emit::THUNK_SAVED.iter().enumerate() {
        if *r as usize != 11 {
            assert_eq!(saved.gpr[i], before[*r as usize], "{ctx}: saved {r:?}");
        }
    }
}

/// Checks that an outline entry point was called for `access` at `addr`.
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
        (addr, access_ip, access.size, access.write),
        "{ctx}"
    );
}

/// Every checked access form: base register (R0-R9, AX), offset, size and
/// direction.
fn accesses() -> impl Iterator<Item = Access> {
    forms::accesses().filter(|a| a.base != BpfReg::FP)
}

fn run_case(v: &Variant, access: &Access) -> usize {
    let mut shadow = Shadow::new();
    let cfg = config(v, &shadow);
    let &Access {
        base,
        off,
        size,
        write,
    } = access;
    let (img, access_ip, site) = build(&cfg, access);
    assert!(site.len > 0, "{access:?} emitted nothing");
    let mut cases = 0;
    for align in 0..16u64 {
        let addr = MEM_BASE + AT * 8 + align;
        let g = addr / 8;
        for &s0 in &SHADOW_VALUES {
            for &s1 in &SHADOW_VALUES {
                shadow.bytes.fill(0xfc);
                let rel = (g - (MEM_BASE >> 3)) as usize;
                shadow.bytes[rel] = s0;
                shadow.bytes[rel + 1] = s1;

                let mut regs = initial_regs(&cfg);
                let hw = base.x86() as usize;
                regs[hw] = addr.wrapping_sub(off as i64 as u64);
                let before = regs;
                // SAFETY: the code reads only the shadow we mapped and
                // calls only the recording shims.
                unsafe { exec::run(&mut regs, img.addr()) };
                let calls = exec::take_calls();

                let ctx = format!(
                    "mode {:?} r12_free {} checks {} base r{} off {off} size {size} \
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
                        let fast_ok = s0 == 0 && (size == 1 || s1 == 0);
                        if fast_ok {
                            assert!(calls.is_empty(), "{ctx}: slow path on valid shadow");
                        } else {
                            assert_eq!(calls.len(), 1, "{ctx}: slow path not taken");
                        }
                        if bad {
                            assert!(!calls.is_empty(), "{ctx}: bad access let through");
                        }
                        if let Some(&call) = calls.first() {
                            check_slow_call(&ctx, call, access, addr, access_ip, &before);
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
                check_slow_call(&ctx, calls[0], access, addr, access_ip, &before);
            }
            None => check_outline_call(&ctx, calls[0], access, addr, access_ip),
        }
    }
    WILD.len()
}
