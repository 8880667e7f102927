// SPDX-License-Identifier: GPL-2.0

//! Decodes what the emitter produces with iced-x86 and checks the exact
//! instructions and their sizes; checks which BPF instructions are
//! instrumented.

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use kasan_ebpf_host::asm::Asm;
use kasan_ebpf_host::emit::{self, Config, Mode, Plain, Site};
use kasan_ebpf_host::insn::{op, Access, BpfInsn, BpfReg};

const IP: u64 = 0xffff_ffff_c000_1000;
const TAIL: u64 = IP + 0x800;
const SLOW: u64 = 0xffff_ffff_8100_0000;
const SHADOW: u64 = 0xdfff_fc00_0000_0000;

fn cfg(mode: Mode, r12_free: bool, checks: u32) -> Config {
    let mut outline = [[0u64; 4]; 2];
    for (w, row) in outline.iter_mut().enumerate() {
        for (s, e) in row.iter_mut().enumerate() {
            *e = 0xffff_ffff_8200_0000 + (w as u64) * 0x100 + (s as u64) * 0x10;
        }
    }
    Config {
        shadow_offset: SHADOW,
        slow_path: SLOW,
        outline,
        stack_only: core::ptr::null(),
        checks,
        nr_ldst: 0,
        call_len: emit::CALL_REL32_LEN,
        mode: mode as u8,
        r12_free: r12_free as u8,
    }
}

fn disasm(code: &[u8], ip: u64) -> Vec<String> {
    let mut dec = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    fmt.options_mut().set_uppercase_hex(false);
    fmt.options_mut().set_hex_prefix("0x");
    fmt.options_mut().set_hex_suffix("");
    let mut out = Vec::new();
    while dec.can_decode() {
        let insn = dec.decode();
        assert!(!insn.is_invalid(), "invalid instruction in {code:02x?}");
        let mut s = String::new();
        fmt.format(&insn, &mut s);
        out.push(s);
    }
    out
}

fn check(c: &Config, base: u8, off: i16, size: u8, write: bool) -> (Vec<u8>, Site) {
    let a = Access {
        base: BpfReg::new(base).unwrap(),
        off,
        size,
        write,
    };
    let mut buf = [0u8; 128];
    let mut asm = Asm::new(&mut buf, IP);
    let site = emit::emit_check(&mut asm, &mut Plain, c, &a, TAIL).unwrap();
    (buf[..site.len as usize].to_vec(), site)
}

#[test]
fn inline_fast_path_is_five_instructions() {
    let c = cfg(Mode::Inline, true, 10);
    // R1 (rdi) + 16, 8 bytes: the common case.
    let (code, site) = check(&c, 1, 16, 8, false);
    assert_eq!(
        disasm(&code, IP),
        [
            "lea r11,[rdi+0x10]",
            "shr r11,3",
            "cmp word ptr [r11+r12],0",
            format!("je short 0x{:x}", IP + 21).as_str(),
            format!("call 0x{:x}", TAIL + 8).as_str(),
        ]
    );
    assert_eq!(code.len(), 21);
    // The exception table covers the shadow read (6 bytes at 8); a fault
    // there skips it and the jz (2 bytes) and lands on the call.
    assert_eq!((site.fault_off, site.fault_len), (8, 8));
    assert_eq!(
        disasm(&code[16..], IP + 16)[0],
        format!("call 0x{:x}", TAIL + 8)
    );
    // One-byte accesses read one shadow byte.
    let (code, _) = check(&c, 7, -4, 1, true); // R7 = r13
    assert_eq!(
        disasm(&code, IP)[..3],
        ["lea r11,[r13-4]", "shr r11,3", "cmp byte ptr [r11+r12],0"]
    );
    assert_eq!(code.len(), 20);
    // AX (r10), a 32-bit displacement.
    let (code, _) = check(&c, 11, i16::MIN, 4, false);
    assert_eq!(disasm(&code, IP)[0], "lea r11,[r10-0x8000]");
}

#[test]
fn inline_without_r12_adds_the_offset_from_the_tail() {
    // An arena program (r12 taken), and one with too few checks for r12.
    for c in [cfg(Mode::Inline, false, 10), cfg(Mode::Inline, true, 2)] {
        inline_without_r12(&c);
    }
}

fn inline_without_r12(c: &Config) {
    let c = *c;
    let (code, site) = check(&c, 6, 8, 4, true); // R6 = rbx
    assert_eq!(
        disasm(&code, IP),
        [
            "lea r11,[rbx+8]",
            "shr r11,3",
            format!("add r11,[0x{TAIL:x}]").as_str(),
            "cmp word ptr [r11],0",
            format!("je short 0x{:x}", IP + code.len() as u64).as_str(),
            format!("call 0x{:x}", TAIL + 8).as_str(),
        ]
    );
    // The shadow read (5 bytes) and the jz: a fault lands on the call.
    assert_eq!(site.fault_len, 5 + 2);
    let resume = (site.fault_off + site.fault_len) as usize;
    assert_eq!(
        disasm(&code[resume..], IP + resume as u64)[0],
        format!("call 0x{:x}", TAIL + 8)
    );
}

#[test]
fn outline_calls_the_entry_point_with_caller_saved_registers_pushed() {
    let c = cfg(Mode::Outline, true, 10);
    let (code, site) = check(&c, 2, 24, 2, true); // R2 = rsi
    let text = disasm(&code, IP);
    let end = IP + code.len() as u64;
    let pushes = ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"];
    let mut want: Vec<String> = pushes.iter().map(|r| format!("push {r}")).collect();
    want.push("lea rdi,[rsi+0x18]".into());
    want.push(format!("lea rsi,[0x{end:x}]"));
    want.push(format!("call 0x{:x}", c.outline[1][1]));
    want.extend(pushes.iter().rev().map(|r| format!("pop {r}")));
    assert_eq!(text, want);
    assert_eq!(site.fault_len, 0, "outline mode reads no shadow inline");
}

#[test]
fn thunk_saves_everything_and_keeps_a_frame() {
    let c = cfg(Mode::Inline, true, 10);
    let mut buf = [0u8; 256];
    let mut asm = Asm::new(&mut buf, TAIL);
    emit::emit_tail(&mut asm, &mut Plain, &c).unwrap();
    let n = asm.len();
    // The shadow offset constant, then the thunk.
    assert_eq!(buf[..8], SHADOW.to_le_bytes());
    let text = disasm(&buf[8..n], TAIL + 8);
    assert_eq!(text[..2], ["push rbp", "mov rbp,rsp"]);
    assert_eq!(text[2], "push r15");
    assert_eq!(text[15], "push rax");
    assert_eq!(text[16], "mov rdi,rsp");
    assert_eq!(text[17], format!("call 0x{SLOW:x}"));
    assert_eq!(text[18], "pop rax");
    assert_eq!(text[31], "pop r15");
    assert_eq!(text[32..], ["pop rbp", "ret", "int3"]);
}

#[test]
fn prologue_loads_the_shadow_offset_only_when_r12_is_used() {
    let mut buf = [0u8; 16];
    for (c, want) in [
        (
            cfg(Mode::Inline, true, 10),
            vec![format!("mov r12,0x{SHADOW:x}")],
        ),
        (cfg(Mode::Inline, false, 10), vec![]),
        (cfg(Mode::Inline, true, 2), vec![]),
        (cfg(Mode::Outline, true, 10), vec![]),
    ] {
        let mut asm = Asm::new(&mut buf, IP);
        emit::emit_prologue(&mut asm, &c).unwrap();
        let n = asm.len();
        assert_eq!(disasm(&buf[..n], IP), want);
        assert_eq!(c.uses_r12(), n > 0);
    }
}

#[test]
fn which_instructions_are_checked() {
    let sizes = [(op::B, 1), (op::H, 2), (op::W, 4), (op::DW, 8)];
    for (sz, n) in sizes {
        let ldx = BpfInsn::new(op::LDX | op::MEM | sz, 0, 3, 12, 0);
        assert_eq!(
            Access::of(&ldx),
            Some(Access {
                base: BpfReg::new(3).unwrap(),
                off: 12,
                size: n,
                write: false
            })
        );
        let stx = BpfInsn::new(op::STX | op::MEM | sz, 4, 5, -2, 0);
        let st = BpfInsn::new(op::ST | op::MEM | sz, 4, 0, -2, 77);
        for i in [stx, st] {
            assert_eq!(
                Access::of(&i),
                Some(Access {
                    base: BpfReg::new(4).unwrap(),
                    off: -2,
                    size: n,
                    write: true
                })
            );
        }
        // Sign-extending loads exist for 1, 2 and 4 bytes.
        let ldsx = BpfInsn::new(op::LDX | op::MEMSX | sz, 0, 3, 0, 0);
        assert_eq!(Access::of(&ldsx).is_some(), n < 8);
        // PROBE modes are never checked.
        for mode in [op::PROBE_MEM, op::PROBE_MEMSX, op::PROBE_MEM32] {
            assert_eq!(
                Access::of(&BpfInsn::new(op::LDX | mode | sz, 0, 3, 0, 0)),
                None
            );
            assert_eq!(
                Access::of(&BpfInsn::new(op::STX | mode | sz, 3, 0, 0, 0)),
                None
            );
        }
    }
    // Atomics: every operation on W and DW, as writes.
    for imm in [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1] {
        for (sz, n) in [(op::W, 4), (op::DW, 8)] {
            let a = BpfInsn::new(op::STX | op::ATOMIC | sz, 2, 1, 8, imm);
            assert_eq!(
                Access::of(&a),
                Some(Access {
                    base: BpfReg::new(2).unwrap(),
                    off: 8,
                    size: n,
                    write: true
                })
            );
            let p = BpfInsn::new(op::STX | op::PROBE_ATOMIC | sz, 2, 1, 8, imm);
            assert_eq!(Access::of(&p), None);
        }
    }
    // Not memory accesses through a register: ALU, jumps, LD_IMM64, LD_ABS.
    for code in [0x07, 0xbf, 0x05, 0x85, 0x95, 0x18, 0x20, 0x30, 0x40] {
        assert_eq!(
            Access::of(&BpfInsn::new(code, 1, 2, 0, 0)),
            None,
            "{code:#x}"
        );
    }
    // A register the JIT does not have.
    assert_eq!(
        Access::of(&BpfInsn::new(op::LDX | op::MEM | op::W, 0, 12, 0, 0)),
        None
    );
}
