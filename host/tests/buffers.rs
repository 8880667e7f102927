// SPDX-License-Identifier: GPL-2.0

//! What the emitter does with the JIT's buffers: how much room a check
//! needs ([`emit::max_check_len`], the `cap` the JIT passes) for calls of
//! any length, and that it only writes to them, since they are
//! uninitialised stack memory in the kernel.
//!
//! The tests also run under Miri, which reports any read of an
//! uninitialised byte: `cargo +nightly miri test --test buffers` (with
//! fewer cases there; Miri is slow).

use core::mem::MaybeUninit;
use kasan_ebpf_host::asm::{self, Asm};
use kasan_ebpf_host::emit::{self, Arch, Config, Mode, CALL_REL32_LEN};
use kasan_ebpf_host::forms;
use kasan_ebpf_host::insn::{Access, BpfReg};

const IP: u64 = 0xffff_ffff_c000_1000;
const TAIL: u64 = IP + 0x800;

/// A call of exactly `len` bytes (`call rel32`, then `int3` padding, where
/// the kernel has call depth accounting), written through
/// [`Asm::spare`] and [`Asm::advance`] as the kernel's C call emitter is.
struct FixedCall {
    len: usize,
}

impl FixedCall {
    fn external(asm: &mut Asm<'_>, code: &[u8]) -> asm::Result {
        let (p, room) = asm.spare();
        if room < code.len() {
            return Err(asm::Error::NoSpace);
        }
        for (i, &b) in code.iter().enumerate() {
            // SAFETY: `p` points to `room` writable bytes, and i < room.
            unsafe { p.add(i).write(b) };
        }
        // SAFETY: the bytes were just written.
        unsafe { asm.advance(code.len()) }
    }
}

impl Arch for FixedCall {
    fn call(&mut self, asm: &mut Asm<'_>, target: u64) -> asm::Result {
        let pad = self.len - CALL_REL32_LEN as usize;
        let rel = target.wrapping_sub(asm.pc() + self.len as u64) as i32;
        let mut code = vec![0xcc; pad];
        code.push(0xe8);
        code.extend_from_slice(&rel.to_le_bytes());
        Self::external(asm, &code)
    }

    fn ret(&mut self, asm: &mut Asm<'_>) -> asm::Result {
        Self::external(asm, &[0xc3, 0xcc])
    }
}

/// Inline with r12, without (an arena program, too few checks), outline.
const VARIANTS: [(Mode, u8, u32); 4] = [
    (Mode::Inline, 1, 10),
    (Mode::Inline, 0, 10),
    (Mode::Inline, 1, 1),
    (Mode::Outline, 1, 10),
];

fn cfg((mode, r12_free, checks): (Mode, u8, u32), call_len: usize) -> Config {
    Config {
        call_len: call_len as u32,
        r12_free,
        ..Config::host(
            mode,
            0xdfff_fc00_0000_0000,
            0xffff_ffff_8100_0000,
            [[0xffff_ffff_8200_0000; 4]; 3],
            checks,
        )
    }
}

/// Every access form (under Miri, the longest offset class and a register
/// of each encoding: Miri is slow).
fn accesses() -> impl Iterator<Item = Access> {
    forms::accesses()
        .filter(|a| !cfg!(miri) || (a.off == i16::MIN && [0, 7, 10].contains(&a.base.num())))
}

/// Call lengths: a plain call up to far more than call depth accounting
/// takes (10 bytes, 19 with CONFIG_CALL_THUNKS_DEBUG, before the call).
fn call_lens() -> std::ops::RangeInclusive<usize> {
    if cfg!(miri) {
        24..=24
    } else {
        5..=40
    }
}

#[test]
fn max_check_len_bounds_every_check_and_is_attained() {
    for call_len in call_lens() {
        let mut longest = 0;
        let max = emit::max_check_len(&cfg(VARIANTS[0], call_len));
        for v in VARIANTS {
            let c = cfg(v, call_len);
            // The mode does not matter: the bound covers them all.
            assert_eq!(emit::max_check_len(&c), max);
            for a in accesses() {
                let mut buf = [0u8; 256];
                let mut asm = Asm::new(&mut buf, IP);
                let mut arch = FixedCall { len: call_len };
                let site = emit::emit_check(&mut asm, &mut arch, &c, &a, TAIL).unwrap();
                let len = site.len as usize;
                assert_eq!(len, asm.len());
                assert!(len <= max, "{v:?} {a:?} call {call_len}: {len} > {max}");
                longest = longest.max(len);
            }
        }
        assert_eq!(longest, max, "call {call_len}: the bound is not attained");
        // Outline, disp32: 9 pushes and pops (13 bytes each way), the
        // 3-byte mov and 7-byte add of the address, and the call.
        assert_eq!(max, 13 + 3 + 7 + call_len + 13);
    }
}

#[test]
fn calls_shorter_than_a_call_rel32_count_as_one() {
    let c = cfg(VARIANTS[3], CALL_REL32_LEN as usize);
    for call_len in [0, CALL_REL32_LEN - 1] {
        let short = Config { call_len, ..c };
        assert_eq!(emit::max_check_len(&short), emit::max_check_len(&c));
    }
}

/// A call with more accounting than the old fixed cap of 64 bytes
/// (`BPF_MAX_INSN_SIZE / 2`) left room for: every check still fits in the
/// room the bound asks for.
#[test]
fn a_long_call_fits_the_cap() {
    let call_len = 30;
    for v in VARIANTS {
        let c = cfg(v, call_len);
        let cap = emit::max_check_len(&c);
        for a in accesses() {
            let mut buf = vec![MaybeUninit::uninit(); cap];
            let mut asm = Asm::new_uninit(&mut buf, IP);
            let mut arch = FixedCall { len: call_len };
            let site = emit::emit_check(&mut asm, &mut arch, &c, &a, TAIL);
            assert!(site.is_ok(), "{v:?} {a:?}: {site:?} in {cap} bytes");
        }
    }
}

/// Emits `f` into an uninitialised buffer and into initialised ones; the
/// bytes the assembler accounts for must be the same, and be all it wrote.
fn same_as_initialised(f: impl Fn(&mut Asm<'_>) -> asm::Result) -> Vec<u8> {
    let mut uninit = [MaybeUninit::<u8>::uninit(); 256];
    let mut asm = Asm::new_uninit(&mut uninit, IP);
    f(&mut asm).unwrap();
    let code = asm.code().to_vec();
    for fill in [0x00, 0xff] {
        let mut buf = [fill; 256];
        let mut asm = Asm::new(&mut buf, IP);
        f(&mut asm).unwrap();
        assert_eq!(asm.code(), code);
        let n = code.len();
        assert!(buf[n..].iter().all(|&b| b == fill), "wrote past {n}");
    }
    code
}

#[test]
fn emits_into_uninitialised_buffers() {
    for v in VARIANTS {
        let c = cfg(v, 24);
        let arch = || FixedCall { len: 24 };
        for a in accesses() {
            let code = same_as_initialised(|asm| {
                emit::emit_check(asm, &mut arch(), &c, &a, TAIL).map(|_| ())
            });
            assert!(!code.is_empty());
        }
        let code = same_as_initialised(|asm| emit::emit_prologue(asm, &c));
        assert_eq!(code.is_empty(), !c.uses_r12());
        let code = same_as_initialised(|asm| emit::emit_tail(asm, &mut arch(), &c));
        assert_eq!(code[..8], c.shadow_offset.to_le_bytes());
    }
}

#[test]
fn a_full_buffer_is_an_error_not_an_overrun() {
    let c = cfg(VARIANTS[3], 24);
    let a = Access {
        base: BpfReg::new(7).unwrap(),
        off: i16::MIN,
        size: 8,
        write: true,
        probe: false,
        aligned: false,
    };
    let max = emit::max_check_len(&c);
    for cap in 0..max {
        let mut buf = vec![MaybeUninit::uninit(); cap];
        let mut asm = Asm::new_uninit(&mut buf, IP);
        let r = emit::emit_check(&mut asm, &mut FixedCall { len: 24 }, &c, &a, TAIL);
        assert_eq!(r, Err(asm::Error::NoSpace), "cap {cap}");
        assert!(asm.len() <= cap);
    }
}
