// SPDX-License-Identifier: GPL-2.0

//! The native harness (src/native.rs) on images built as the kernel's JIT
//! builds them, at kernel addresses: relocated, they run on this CPU with
//! the same verdicts, and anything it cannot relocate is refused.

use kasan_ebpf_host::asm::{Asm, Reg};
use kasan_ebpf_host::emit::{self, Config, Mode, Plain};
use kasan_ebpf_host::insn::{Access, BpfReg};
use kasan_ebpf_host::native::{
    relocate, HostMemory, KernelSyms, HTAB_ELEM, HTAB_UPDATES, KERNEL_SHADOW_OFFSET, REPORTS,
    SLOW_ENTRIES,
};
use std::sync::atomic::Ordering;

const IP: u64 = 0xffff_ffff_c000_1000;
const KTAIL: u64 = 0xffff_ffff_c100_0000;
const MAP: u64 = 0xffff_8881_0123_4000;

fn syms() -> KernelSyms {
    let f = |base: u64| [base, base + 0x10, base + 0x20, base + 0x30];
    KernelSyms {
        thunk: KTAIL + emit::THUNK_OFFSET,
        asan_load: f(0xffff_ffff_8120_0000),
        asan_store: f(0xffff_ffff_8120_1000),
        probe_load: f(0xffff_ffff_8120_2000),
        return_thunk: 0xffff_ffff_8130_0000,
        htab_lookup: HTAB_LOOKUP,
        htab_update: HTAB_UPDATE,
    }
}

const HTAB_LOOKUP: u64 = 0xffff_ffff_8140_0000;
const HTAB_UPDATE: u64 = 0xffff_ffff_8140_1000;

/// As the JIT lays out a hash map update then lookup (the verifier's
/// inlined `bpf_map_lookup_elem()`): a 16-byte key on the stack, `call
/// htab_map_update_elem`, `call __htab_map_lookup_elem(MAP, key)`, then
/// `if (r0) r0 = *(u64 *)(r0 + 64)`.
fn htab_program() -> Vec<u8> {
    let mut c = vec![0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10]; // push rbp; mov rbp, rsp; sub rsp, 16
    c.extend([0x48, 0xc7, 0x45, 0xf0, 1, 0, 0, 0]); // mov qword [rbp - 16], 1
    c.extend([0x48, 0xc7, 0x45, 0xf8, 2, 0, 0, 0]); // mov qword [rbp - 8], 2
    c.extend([0x48, 0xbf]); // movabs rdi, MAP
    c.extend(MAP.to_le_bytes());
    c.extend([0x48, 0x8d, 0x75, 0xf0]); // lea rsi, [rbp - 16]
    for target in [HTAB_UPDATE, HTAB_LOOKUP] {
        let rel = target.wrapping_sub(IP + c.len() as u64 + 5) as i32;
        c.push(0xe8);
        c.extend(rel.to_le_bytes());
        if target == HTAB_UPDATE {
            c.extend([0x48, 0x8d, 0x75, 0xf0]); // lea rsi, [rbp - 16] again
        }
    }
    c.extend([0x48, 0x85, 0xc0, 0x74, 0x07]); // test rax, rax; je +7
    c.extend([0x48, 0x83, 0xc0, 0x40, 0x48, 0x8b, 0x00]); // add rax, 64; mov rax, [rax]
    c.extend([0xc9, 0xc3]); // leave; ret
    c
}

fn cfg(mode: Mode, checks: u32) -> Config {
    let s = syms();
    Config::host(
        mode,
        KERNEL_SHADOW_OFFSET,
        0xffff_ffff_8100_0000,
        [s.asan_load, s.asan_store, s.probe_load],
        checks,
    )
}

/// A program as the JIT lays it out: frame, r12 when the config uses it,
/// a checked load from its stack, `r1 = MAP` (a map address, as `ld_imm64` loads it), the check of an
/// 8-byte load at `r1 + 8` (aligned as given), the load into `r0`, and the
/// return, through the return thunk if `rethunk`.
fn program(c: &Config, aligned: bool, rethunk: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut asm = Asm::new(&mut buf, IP);
    asm.push(Reg::Rbp).unwrap();
    asm.mov(Reg::Rbp, Reg::Rsp).unwrap();
    asm.push(Reg::R12).unwrap();
    emit::emit_prologue(&mut asm, c).unwrap();
    // A checked load from the stack, as the key load the verifier inserts
    // for an inlined array lookup: its shadow must exist on the host too.
    let stack = Access {
        base: BpfReg::FP,
        off: -8,
        size: 4,
        write: false,
        probe: false,
        aligned: false,
    };
    emit::emit_check(&mut asm, &mut Plain, c, &stack, KTAIL).unwrap();
    asm.mov_load(Reg::Rax, kasan_ebpf_host::asm::Mem::base(Reg::Rbp, -8))
        .unwrap();
    asm.mov_imm64(Reg::Rdi, MAP).unwrap();
    let access = Access {
        base: BpfReg::new(1).unwrap(),
        off: 8,
        size: 8,
        write: false,
        probe: false,
        aligned,
    };
    emit::emit_check(&mut asm, &mut Plain, c, &access, KTAIL).unwrap();
    asm.mov_load(Reg::Rax, kasan_ebpf_host::asm::Mem::base(Reg::Rdi, 8))
        .unwrap();
    asm.pop(Reg::R12).unwrap();
    asm.bytes(&[0xc9]).unwrap(); // leave
    if rethunk {
        let rel = (syms().return_thunk.wrapping_sub(IP + asm.len() as u64 + 5)) as i32;
        asm.bytes(&[0xe9]).unwrap();
        asm.bytes(&rel.to_le_bytes()).unwrap();
    } else {
        asm.ret().unwrap();
    }
    let n = asm.len();
    buf.truncate(n);
    buf
}

/// One test, as the harness's counters and shadow offset are global.
#[test]
fn relocated_images_run_natively_and_the_rest_is_refused() {
    let variants = [
        (Mode::Inline, 10, false), // r12 holds the shadow offset
        (Mode::Inline, 1, false),  // add r11, [rip + tail]
        (Mode::Inline, 10, true),  // one shadow byte
        (Mode::Outline, 10, false),
    ];
    for (mode, checks, aligned) in variants {
        for rethunk in [false, true] {
            let ctx = format!("{mode:?} checks {checks} aligned {aligned} rethunk {rethunk}");
            let c = cfg(mode, checks);
            let code = program(&c, aligned, rethunk);
            let mut mem = HostMemory::new();
            let r = relocate(&code, IP, &syms(), &mut mem).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(r.data.len(), 1, "{ctx}: one kernel data address");
            let host = mem.host_of(MAP).unwrap();
            let value = 0x1122_3344_5566_7788u64;
            // SAFETY: `host` is the start of a region of HostMemory.
            unsafe { *((host + 8) as *mut u64) = value };
            let mut fake_ctx = [0u8; 64];
            for poison in [None, Some(0xfbu8), Some(0x04)] {
                if let Some(p) = poison {
                    mem.poison(host + 8, p);
                }
                let (slow, rep) = (
                    SLOW_ENTRIES.load(Ordering::Relaxed),
                    REPORTS.load(Ordering::Relaxed),
                );
                // SAFETY: the image loads from the host region only.
                let ret = unsafe { r.run(fake_ctx.as_mut_ptr()) };
                assert_eq!(ret, value, "{ctx} poison {poison:?}");
                let slow = SLOW_ENTRIES.load(Ordering::Relaxed) - slow;
                let rep = REPORTS.load(Ordering::Relaxed) - rep;
                match mode {
                    Mode::Inline => {
                        assert_eq!(slow, u64::from(poison.is_some()), "{ctx} {poison:?}");
                        assert_eq!(rep, 0);
                    }
                    _ => assert_eq!(
                        (slow, rep),
                        (0, u64::from(poison.is_some())),
                        "{ctx} {poison:?}"
                    ),
                }
            }
            let want: &[&str] = match (mode, checks) {
                (Mode::Outline, _) => &["__asan_load call", "kernel data address"],
                (_, 1) => &["kernel data address", "tail shadow offset", "thunk call"],
                _ => &["kernel data address", "shadow offset", "thunk call"],
            };
            let mut got: Vec<&str> = r
                .relocs
                .keys()
                .copied()
                .filter(|k| *k != "return thunk")
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "{ctx}");
            assert_eq!(r.relocs.contains_key("return thunk"), rethunk, "{ctx}");
        }
    }

    // What has no host equivalent is refused, never run half relocated.
    let c = cfg(Mode::Inline, 10);
    let good = program(&c, false, false);
    let mut mem = HostMemory::new();
    let refuse = |code: &[u8], why: &str| {
        let mut mem = HostMemory::new();
        match relocate(code, IP, &syms(), &mut mem) {
            Ok(_) => panic!("{why}: relocated"),
            Err(e) => assert!(e.contains(why), "{why}: {e}"),
        }
    };
    assert!(relocate(&good, IP, &syms(), &mut mem).is_ok());
    // A call to a helper: call rel32 to a kernel function we do not know.
    let mut helper = good.clone();
    let rel = (0xffff_ffff_8150_0000u64.wrapping_sub(IP + good.len() as u64 + 5)) as i32;
    helper.push(0xe8);
    helper.extend(rel.to_le_bytes());
    refuse(&helper, "call to kernel address");
    // A per-CPU load: mov rax, gs:[rax].
    let mut percpu = good.clone();
    percpu.extend([0x65, 0x48, 0x8b, 0x00]);
    refuse(&percpu, "per-CPU");
    // A RIP-relative load from elsewhere in the kernel.
    let mut riprel = good.clone();
    riprel.extend([0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x10]);
    refuse(&riprel, "RIP-relative");
    // A kernel text address as a sign-extended immediate.
    let mut text = good.clone();
    text.extend([0x48, 0xc7, 0xc0, 0x00, 0x00, 0x40, 0x81]); // mov rax, imm32
    refuse(&text, "kernel text");
    // A tail call's indirect jump.
    let mut indirect = good;
    indirect.extend([0xff, 0xe0]); // jmp rax
    refuse(&indirect, "indirect");

    // The hash map's calls go to the stand-ins: the lookup returns the
    // map's one element, the update is counted.
    let code = htab_program();
    let mut mem = HostMemory::new();
    let r = relocate(&code, IP, &syms(), &mut mem).unwrap();
    let host = mem.host_of(MAP).unwrap();
    // SAFETY: the element's value is in the map's host region.
    unsafe { *((host + HTAB_ELEM + 64) as *mut u64) = 0x600d };
    let updates = HTAB_UPDATES.load(Ordering::Relaxed);
    let mut fake_ctx = [0u8; 64];
    // SAFETY: the image uses its stack and the host region only.
    assert_eq!(unsafe { r.run(fake_ctx.as_mut_ptr()) }, 0x600d);
    assert_eq!(HTAB_UPDATES.load(Ordering::Relaxed) - updates, 1);
    assert_eq!(r.relocs["hash map lookup call"], 1);
    assert_eq!(r.relocs["hash map update call"], 1);
    // Without the kernel's symbols, the calls are refused.
    let mut unknown = syms();
    unknown.htab_lookup = 0;
    let e = relocate(&code, IP, &unknown, &mut HostMemory::new())
        .err()
        .unwrap();
    assert!(e.contains("call to kernel address"), "{e}");
}
