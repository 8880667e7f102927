// SPDX-License-Identifier: GPL-2.0

//! Decodes what the emitter produces with iced-x86 and checks the exact
//! instructions and their sizes; checks which BPF instructions are
//! instrumented (Linux 7.3: `BPF_REG_AX` is 12, `BPF_REG_PARAMS` 11 is
//! never checked, `BPF_LOAD_ACQ` and `BPF_STORE_REL` are).

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use kasan_ebpf_host::asm::Asm;
use kasan_ebpf_host::emit::{self, Config, Mode, Plain, Site};
use kasan_ebpf_host::forms::{self, AX, PARAMS};
use kasan_ebpf_host::insn::{count_checks, op, Access, BpfInsn, BpfReg, StackOnly};
use kasan_ebpf_host::merge::Span;

const IP: u64 = 0xffff_ffff_c000_1000;
const TAIL: u64 = IP + 0x800;
const SLOW: u64 = 0xffff_ffff_8100_0000;
const SHADOW: u64 = 0xdfff_fc00_0000_0000;

fn cfg(mode: Mode, r12_free: bool, checks: u32) -> Config {
    let mut outline = [[0u64; 4]; 3];
    for (w, row) in outline.iter_mut().enumerate() {
        for (s, e) in row.iter_mut().enumerate() {
            *e = 0xffff_ffff_8200_0000 + (w as u64) * 0x100 + (s as u64) * 0x10;
        }
    }
    Config {
        r12_free: r12_free as u8,
        ..Config::host(mode, SHADOW, SLOW, outline, checks)
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
        probe: false,
        aligned: false,
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
    // AX (BPF register 12, r10), a 32-bit displacement.
    let (code, _) = check(&c, AX, i16::MIN, 4, false);
    assert_eq!(disasm(&code, IP)[0], "lea r11,[r10-0x8000]");
}

/// A merged group's check reads the shadow of every granule its span may
/// touch: a dword for three or four, a qword for five to eight (with and
/// without r12), and a span of nine is refused.
#[test]
fn merged_spans_compare_a_dword_or_a_qword() {
    let acc = |off: i16, size: u8, aligned: bool| Access {
        base: BpfReg::new(1).unwrap(),
        off,
        size,
        write: false,
        probe: false,
        aligned,
    };
    // Unaligned, 10 bytes may touch three granules, 49 seven; aligned, 32
    // bytes touch four, 40 five, 64 eight.
    let cases = [
        (
            vec![acc(0, 8, false), acc(9, 1, false)],
            "cmp dword ptr [r11+r12],0",
            3,
        ),
        (
            vec![acc(0, 8, true), acc(24, 8, false)],
            "cmp dword ptr [r11+r12],0",
            4,
        ),
        (
            vec![acc(0, 8, true), acc(32, 8, false)],
            "cmp qword ptr [r11+r12],0",
            5,
        ),
        (
            vec![acc(0, 8, false), acc(48, 1, false)],
            "cmp qword ptr [r11+r12],0",
            7,
        ),
        (
            vec![acc(0, 8, true), acc(56, 8, false)],
            "cmp qword ptr [r11+r12],0",
            8,
        ),
    ];
    for (g, cmp, granules) in cases {
        let span = g[1..]
            .iter()
            .try_fold(Span::of(&g[0]), |s, a| s.with(a))
            .unwrap();
        assert_eq!(span.granules(), granules, "{g:?}");
        for (r12, want) in [(true, cmp.to_string()), (false, cmp.replace("+r12", ""))] {
            let c = cfg(Mode::Inline, r12, 10);
            let mut buf = [0u8; 128];
            let mut asm = Asm::new(&mut buf, IP);
            let site = emit::emit_check_span(&mut asm, &mut Plain, &c, &g[0], &span, TAIL).unwrap();
            let text = disasm(&buf[..site.len as usize], IP);
            assert_eq!(text[0], "lea r11,[rdi]", "{g:?}");
            assert_eq!(text[if r12 { 2 } else { 3 }], want, "{g:?}");
            assert_eq!(text.len(), if r12 { 5 } else { 6 });
        }
    }
    // 58 bytes, unaligned: nine granules, no group.
    assert!(Span::of(&acc(0, 8, false))
        .with(&acc(57, 1, false))
        .is_none());
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
    want.push("mov rdi,rsi".into());
    want.push("add rdi,0x18".into());
    want.push(format!("call 0x{:x}", c.outline[1][1]));
    want.extend(pushes.iter().rev().map(|r| format!("pop {r}")));
    assert_eq!(text, want);
    assert_eq!(site.fault_len, 0, "outline mode reads no shadow inline");
    assert_eq!(site.len as usize, code.len());
    assert_eq!(IP + code.len() as u64, end);
}

/// Outline mode is the upstream series' sequence byte for byte: its
/// published example, `mov 0x0(%rsi),%rbx` (an 8-byte load through R2 at
/// offset 0), checked by nine pushes, `mov %rsi,%rdi`, `call __asan_load8`
/// and nine pops, 34 bytes; an offset adds `add rdi, imm8` (4 bytes, 38 in
/// all) or `add rdi, imm32` (7 bytes).
#[test]
fn outline_is_the_upstream_sequence_byte_for_byte() {
    let c = cfg(Mode::Outline, true, 10);
    let pushes = [
        0x50, 0x51, 0x52, 0x56, 0x57, 0x41, 0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53,
    ];
    let pops = [
        0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, 0x5f, 0x5e, 0x5a, 0x59, 0x58,
    ];
    for (off, add) in [
        (0i16, vec![]),
        (0x18, vec![0x48, 0x83, 0xc7, 0x18]),
        (-8, vec![0x48, 0x83, 0xc7, 0xf8]),
        (0x1000, vec![0x48, 0x81, 0xc7, 0x00, 0x10, 0x00, 0x00]),
        (i16::MIN, vec![0x48, 0x81, 0xc7, 0x00, 0x80, 0xff, 0xff]),
    ] {
        let (code, _) = check(&c, 2, off, 8, false);
        let mut want = pushes.to_vec();
        want.extend([0x48, 0x89, 0xf7]); // mov rdi, rsi
        want.extend(&add);
        let call_at = IP + want.len() as u64;
        let rel = (c.outline[0][3].wrapping_sub(call_at + 5) as i64) as i32;
        want.push(0xe8);
        want.extend(rel.to_le_bytes());
        want.extend(pops);
        assert_eq!(code, want, "offset {off}");
        assert_eq!(code.len(), 34 + add.len());
    }
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
                write: false,
                probe: false,
                aligned: false,
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
                    write: true,
                    probe: false,
                    aligned: false,
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
                    write: true,
                    probe: false,
                    aligned: false,
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
    // Registers the JIT does not have: BPF_REG_PARAMS, and 13 to 15.
    for reg in [PARAMS, 13, 14, 15] {
        let ldx = BpfInsn::new(op::LDX | op::MEM | op::W, 0, reg, 0, 0);
        let stx = BpfInsn::new(op::STX | op::MEM | op::W, reg, 0, 0, 0);
        let acq = forms::load_acq(4, 0, reg, 0);
        let rel = forms::store_rel(4, reg, 0, 0);
        for i in [ldx, stx, acq, rel] {
            assert_eq!(Access::of(&i), None, "{i:?}");
        }
    }
    // AX is one the JIT has.
    assert_eq!(
        Access::of(&BpfInsn::new(op::LDX | op::MEM | op::W, 0, AX, 0, 0)),
        Some(Access {
            base: BpfReg::AX,
            off: 0,
            size: 4,
            write: false,
            probe: false,
            aligned: false,
        })
    );
}

/// `include/linux/filter.h` of Linux 7.3: `BPF_REG_PARAMS` is
/// `MAX_BPF_REG` (11), `BPF_REG_AX` `MAX_BPF_REG + 1` (12), and the x86
/// JIT maps AX to r10 (`reg2hex[BPF_REG_AX] = 2`, with the REX.B bit).
#[test]
fn register_numbers_are_those_of_linux_7_3() {
    assert_eq!(BpfReg::AX.num(), 12);
    assert_eq!(BpfReg::AX.num(), AX);
    assert_eq!(BpfReg::new(AX), Some(BpfReg::AX));
    assert_eq!(BpfReg::FP.num(), 10);
    assert_eq!(BpfReg::new(PARAMS), None);
    let nums: Vec<u8> = BpfReg::ALL.iter().map(|r| r.num()).collect();
    assert_eq!(nums, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]);
    for n in 0..=255u8 {
        let want = n <= 10 || n == 12;
        assert_eq!(BpfReg::new(n).is_some(), want, "register {n}");
    }
    // The x86 registers, by name, as iced-x86 decodes them.
    for r in BpfReg::ALL {
        let (code, _) = check(&cfg(Mode::Inline, true, 10), r.num(), 8, 8, false);
        let want = format!("lea r11,[{}+8]", x86_name(r.num()));
        assert_eq!(disasm(&code, IP)[0], want, "BPF register {}", r.num());
    }
}

#[test]
fn opcode_constants_are_the_kernels() {
    // include/uapi/linux/bpf.h, include/linux/filter.h.
    assert_eq!(op::LOAD_ACQ, 0x100);
    assert_eq!(op::STORE_REL, 0x110);
    assert_eq!(op::PROBE_MEM32SX, 0xc0);
    assert_eq!(op::ATOMIC, 0xc0);
    assert_eq!(
        (
            op::PROBE_MEM,
            op::PROBE_MEMSX,
            op::PROBE_MEM32,
            op::PROBE_ATOMIC
        ),
        (0x20, 0x40, 0xa0, 0xe0)
    );
}

/// `reg2hex[]` of arch/x86/net/bpf_jit_comp.c, by register name.
fn x86_name(bpf: u8) -> &'static str {
    match bpf {
        0 => "rax",
        1 => "rdi",
        2 => "rsi",
        3 => "rdx",
        4 => "rcx",
        5 => "r8",
        6 => "rbx",
        7 => "r13",
        8 => "r14",
        9 => "r15",
        10 => "rbp",
        12 => "r10",
        _ => panic!("BPF register {bpf} has no x86 register"),
    }
}

/// `[reg+off]` as iced-x86 formats it (small numbers in decimal).
fn mem(bpf: u8, off: i16) -> String {
    let n = x86_name(bpf);
    let (sign, abs) = if off < 0 {
        ('-', -(off as i32))
    } else {
        ('+', off as i32)
    };
    match abs {
        0 => format!("[{n}]"),
        1..=9 => format!("[{n}{sign}{abs}]"),
        _ => format!("[{n}{sign}0x{abs:x}]"),
    }
}

/// A sign-extended 64-bit immediate as iced-x86 formats it.
fn imm(v: i16) -> String {
    match v as i64 as u64 {
        n @ 0..=9 => format!("{n}"),
        n => format!("0x{n:x}"),
    }
}

/// The exact check sequence for `a` in `c`, written out.
fn expected(c: &Config, a: &Access, len: usize) -> Vec<String> {
    let end = IP + len as u64;
    let m = mem(a.base.num(), a.off);
    let ptr = if a.size == 1 || a.aligned {
        "byte"
    } else {
        "word"
    };
    match Mode::new(c.mode).unwrap() {
        Mode::Inline if c.uses_r12() => vec![
            format!("lea r11,{m}"),
            "shr r11,3".into(),
            format!("cmp {ptr} ptr [r11+r12],0"),
            format!("je short 0x{end:x}"),
            format!("call 0x{:x}", TAIL + 8),
        ],
        Mode::Inline => vec![
            format!("lea r11,{m}"),
            "shr r11,3".into(),
            format!("add r11,[0x{TAIL:x}]"),
            format!("cmp {ptr} ptr [r11],0"),
            format!("je short 0x{end:x}"),
            format!("call 0x{:x}", TAIL + 8),
        ],
        Mode::Outline => {
            let regs = ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"];
            let mut v: Vec<String> = regs.iter().map(|r| format!("push {r}")).collect();
            v.push(format!("mov rdi,{}", x86_name(a.base.num())));
            if a.off != 0 {
                v.push(format!("add rdi,{}", imm(a.off)));
            }
            let kind = if a.probe { 2 } else { a.write as usize };
            let entry = c.outline[kind][a.size.trailing_zeros() as usize];
            v.push(format!("call 0x{entry:x}"));
            v.extend(regs.iter().rev().map(|r| format!("pop {r}")));
            v
        }
        Mode::Off => vec![],
    }
}

const CONFIGS: [(Mode, bool, u32); 4] = [
    (Mode::Inline, true, 10),
    (Mode::Inline, false, 10),
    (Mode::Inline, true, 2),
    (Mode::Outline, true, 10),
];

/// Every access form (base register R0-R10 and AX, offset class, size,
/// direction) in every mode decodes to exactly the sequence it should.
#[test]
fn every_access_form_decodes() {
    let mut n = 0;
    for (mode, r12, checks) in CONFIGS {
        let c = cfg(mode, r12, checks);
        for a in forms::accesses() {
            let (code, site) = check(&c, a.base.num(), a.off, a.size, a.write);
            assert_eq!(
                disasm(&code, IP),
                expected(&c, &a, code.len()),
                "{mode:?} r12 {r12} {a:?}"
            );
            assert_eq!(site.fault_len == 0, mode == Mode::Outline);
            n += 1;
        }
    }
    assert_eq!(n, 4 * 12 * 8 * 4 * 2);
}

/// An access the verifier proved naturally aligned compares one shadow
/// byte, whatever its size: the check is the same but for the compare,
/// which loses its operand-size prefix (one byte shorter for sizes 2 to 8).
#[test]
fn aligned_forms_compare_one_shadow_byte() {
    let mut n = 0;
    for (mode, r12, checks) in CONFIGS {
        let c = cfg(mode, r12, checks);
        for plain in forms::accesses() {
            let a = Access {
                aligned: true,
                ..plain
            };
            let emit_len = |a: &Access| {
                let mut buf = [0u8; 128];
                let mut asm = Asm::new(&mut buf, IP);
                let site = emit::emit_check(&mut asm, &mut Plain, &c, a, TAIL).unwrap();
                (buf[..site.len as usize].to_vec(), site)
            };
            let (code, site) = emit_len(&a);
            let (plain_code, plain_site) = emit_len(&plain);
            assert_eq!(disasm(&code, IP), expected(&c, &a, code.len()), "{a:?}");
            let saved = usize::from(mode == Mode::Inline && a.size > 1);
            assert_eq!(code.len() + saved, plain_code.len(), "{mode:?} {a:?}");
            // The fault entry still skips exactly the compare and the jz.
            assert_eq!(
                site.fault_len as usize + saved,
                plain_site.fault_len as usize
            );
            n += 1;
        }
    }
    assert_eq!(n, 4 * 12 * 8 * 4 * 2);
}

/// Emits the check for `insn` as the JIT does (for [`Access::of`] it):
/// the decoded code and its length.
fn check_insn(c: &Config, insn: &BpfInsn) -> Option<(Vec<String>, usize)> {
    let a = Access::of(insn)?;
    let (code, _) = check(c, a.base.num(), a.off, a.size, a.write);
    Some((disasm(&code, IP), code.len()))
}

/// `BPF_LOAD_ACQ` and `BPF_STORE_REL`, every size and every base register,
/// from the instruction to the decoded check: the load-acquire computes
/// its address from `src_reg` and calls the read entry point of its size,
/// the store-release from `dst_reg` and the write entry point; the inline
/// check compares one shadow byte for one byte, a word for more.
#[test]
fn load_acquire_and_store_release_decode() {
    let mut n = 0;
    for form in forms::acquire_release() {
        let insn = form.insn;
        // include/linux/filter.h: dst = load_acquire(src + off),
        // store_release(dst + off, src).
        let (base, write) = match insn.imm {
            0x100 => (insn.src(), false),
            0x110 => (insn.dst(), true),
            imm => panic!("imm {imm:#x}"),
        };
        let size = match insn.code & 0x18 {
            0x00 => 4,
            0x08 => 2,
            0x10 => 1,
            _ => 8,
        };
        let a = Access {
            base: BpfReg::new(base).unwrap(),
            off: insn.off,
            size,
            write,
            probe: false,
            aligned: false,
        };
        for (mode, r12, checks) in CONFIGS {
            let c = cfg(mode, r12, checks);
            let (text, len) = check_insn(&c, &insn).expect("not checked");
            assert_eq!(text, expected(&c, &a, len), "{mode:?} r12 {r12} {insn:?}");
        }
        n += 1;
    }
    assert_eq!(n, 11 * 8 * 4 * 2);
}

/// Which access the kernel's definitions say `insn` makes, if KASAN checks
/// it: `(base register, size, write)`. Written from include/linux/filter.h
/// and include/uapi/linux/bpf.h of Linux 7.3, not from insn.rs.
fn reference(insn: &BpfInsn) -> Option<(u8, u8, bool)> {
    let (class, mode) = (insn.code & 0x07, insn.code & 0xe0);
    let size = [4, 2, 1, 8][(insn.code as usize >> 3) & 3];
    let (dst, src) = (insn.regs & 0xf, insn.regs >> 4);
    let (base, write) = match (class, mode) {
        // LDX MEM, LDX MEMSX (B, H, W; MEMSX DW does not exist). Not the
        // PROBE modes 0x20, 0x40, 0xa0 and 0xc0 (PROBE_MEM32SX).
        (0x01, 0x60) => (src, false),
        (0x01, 0x80) if size < 8 => (src, false),
        // ST MEM, STX MEM.
        (0x02, 0x60) | (0x03, 0x60) => (dst, true),
        // STX ATOMIC: load-acquire reads through src_reg, store-release
        // writes through dst_reg, any size; the read-modify-write
        // operations write through dst_reg, W and DW only. Not
        // PROBE_ATOMIC (0xe0).
        (0x03, 0xc0) if insn.imm == 0x100 => (src, false),
        (0x03, 0xc0) if insn.imm == 0x110 => (dst, true),
        (0x03, 0xc0) if size >= 4 => (dst, true),
        _ => return None,
    };
    // R0-R9 and AX (12); not the frame pointer (10), not BPF_REG_PARAMS
    // (11), not 13-15.
    (base < 10 || base == 12).then_some((base, size, write))
}

/// Every opcode, register pair, atomic operation and a few offsets:
/// [`Access::of`] checks exactly what the kernel's definitions say
/// ([`reference`]), with the offset of the instruction.
#[test]
fn every_instruction_decodes_as_the_kernel_defines_it() {
    let imms = [
        0, 1, 7, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, 0xf0, 0x100, 0x110, 0x101,
        0x111, 0x120, 0x10, -1,
    ];
    let mut checked = [0u32; 2];
    for code in 0..=255u8 {
        for regs in 0..=255u8 {
            for imm in imms {
                for off in [0, -8, 24] {
                    let insn = BpfInsn {
                        code,
                        regs,
                        off,
                        imm,
                    };
                    let got = Access::of(&insn).map(|a| {
                        assert_eq!(a.off, off, "{insn:?}");
                        (a.base.num(), a.size, a.write)
                    });
                    assert_eq!(got, reference(&insn), "{insn:?}");
                    if let Some((_, _, w)) = got {
                        checked[w as usize] += 1;
                    }
                }
            }
        }
    }
    // Reads: LDX MEM (4 sizes) and MEMSX (3), with any imm; load-acquire
    // (4 sizes, 1 imm). Writes: ST and STX MEM (4 sizes each, any imm),
    // store-release (4 sizes, 1 imm), the other STX ATOMIC imms on W and
    // DW. Each for 11 base registers x 16 other registers x 3 offsets.
    let per = 11 * 16 * 3;
    let n = imms.len() as u32;
    assert_eq!(checked[0], per * (7 * n + 4));
    assert_eq!(checked[1], per * (8 * n + 4 + 2 * (n - 2)));
}

/// Linux 7.3's stack-argument accesses through `BPF_REG_PARAMS` (11) and
/// `LDX | BPF_PROBE_MEM32SX` loads are never checked: no access, nothing
/// emitted, nothing counted, though the stack-only marks count them as
/// loads and stores.
#[test]
fn stack_arguments_and_probe_mem32sx_are_not_checked() {
    let mut prog = forms::stack_args();
    prog.extend(forms::probe_mem32sx());
    for insn in &prog {
        assert_eq!(Access::of(insn), None, "{insn:?}");
        assert!(check_insn(&cfg(Mode::Inline, true, 10), insn).is_none());
    }
    assert_eq!(count_checks(&prog, StackOnly::NONE), Ok(0));
    // In a program, around checked accesses: only those are counted.
    let ldx = |src, off| BpfInsn::new(op::LDX | op::MEM | op::DW, 0, src, off, 0);
    let mixed = [
        ldx(PARAMS, 16),
        ldx(1, 16),
        BpfInsn::new(op::STX | op::MEM | op::DW, PARAMS, 1, -16, 0),
        BpfInsn::new(op::LDX | op::PROBE_MEM32SX | op::W, 0, 1, 0, 0),
        forms::load_acq(8, 0, 2, 0),
        BpfInsn::new(op::ST | op::MEM | op::DW, PARAMS, 0, -8, 3),
        forms::store_rel(2, 3, 4, 0),
    ];
    assert_eq!(count_checks(&mixed, StackOnly::NONE), Ok(3));
    let bases: Vec<u8> = mixed
        .iter()
        .filter_map(Access::of)
        .map(|a| a.base.num())
        .collect();
    assert_eq!(bases, [1, 2, 3]);
}

/// A fault-tolerant load that the verifier marked trusted (LDX PROBE_MEM,
/// PROBE_MEMSX) gets the same check as an ordinary load, through its
/// `src_reg`, but outline mode calls the third row of entry points,
/// `kasan_bpf_probe_load{1,2,4,8}()`, which tolerate addresses without
/// shadow; the slow path recomputes it from the insn alone.
#[test]
fn trusted_fault_tolerant_loads_decode() {
    let mut n = 0;
    for &(mode, r12, checks) in &CONFIGS {
        let c = cfg(mode, r12, checks);
        for (code, size) in [(op::B, 1u8), (op::H, 2), (op::W, 4), (op::DW, 8)] {
            for probe_mode in [op::PROBE_MEM, op::PROBE_MEMSX] {
                let insn = BpfInsn::new(op::LDX | probe_mode | code, 0, 6, -24, 0);
                let Some(a) = Access::of_probe(&insn) else {
                    assert!(probe_mode == op::PROBE_MEMSX && size == 8);
                    continue;
                };
                assert_eq!(Access::of(&insn), None, "unchecked without the mark");
                assert_eq!(Access::of_checked(&insn), Some(a));
                assert!(a.probe && !a.write && a.size == size && a.base.num() == 6);
                let mut buf = [0u8; 128];
                let mut asm = Asm::new(&mut buf, IP);
                let site = emit::emit_check(&mut asm, &mut Plain, &c, &a, TAIL).unwrap();
                let len = site.len as usize;
                assert_eq!(disasm(&buf[..len], IP), expected(&c, &a, len));
                if mode == Mode::Outline {
                    let entry = 0xffff_ffff_8200_0200 + u64::from(size.trailing_zeros()) * 0x10;
                    assert!(expected(&c, &a, len).contains(&format!("call 0x{entry:x}")));
                }
                n += 1;
            }
        }
    }
    assert_eq!(n, CONFIGS.len() * 7);
}
