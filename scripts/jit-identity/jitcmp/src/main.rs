// SPDX-License-Identifier: GPL-2.0
//! jitcmp: compare two dumps of jitdump (scripts/jit-identity/jitdump.c),
//! the JIT images of the same BPF programs on two kernels, instruction by
//! instruction, for `make jit-identity`.
//!
//! Both images of a function are decoded in lock step (iced-x86, 64-bit,
//! each at its kernel address from jited_ksyms). Two instructions match if
//! they have the same length and the same bytes once these fields are
//! masked in both, because they legitimately differ between two kernels or
//! two boots:
//!
//! - a 64-bit immediate (movabs) that is a kernel address in both (>=
//!   0xffff800000000000): maps, BTF objects, kfuncs, the program itself;
//! - the rel8/rel32 of a call or jump whose target leaves the program in
//!   both (helpers, kfuncs, thunks, trampolines, the return thunk);
//! - the rel32 of a call to one of the program's own functions (the
//!   subprograms are separate allocations), if both go to the same function
//!   index at the same offset in it;
//! - the 32-bit displacement of a %gs-relative operand (a per-CPU variable's
//!   offset, e.g. this_cpu_off: it depends on the kernel's per-CPU layout);
//! - a 32-bit displacement or immediate that is, sign-extended, a kernel
//!   text/module address in both (0xffffffff80000000..0xffffffffff000000);
//! - with --btf, a 32-bit immediate that is in both a BTF type ID of the
//!   kernel, of the same kind and name in both (e.g. what CO-RE's
//!   bpf_core_type_id_kernel() resolves to: type IDs differ between any two
//!   builds, pahole numbers types in no stable order);
//! - a per-CPU address that the JIT turns into this CPU's pointer: `mov
//!   reg, imm` directly followed by `add reg, gs:[this_cpu_off]` (the same
//!   64-bit register). Linux 7.3 emits it for the program's private stack
//!   (emit_priv_frame_ptr(), into r9) and for an ld_imm64 of a per-CPU
//!   array's value (.percpu global data, then BPF_MOV64_PERCPU_REG): a
//!   __percpu pointer from the per-CPU allocator, whose value, and so the
//!   encoding emit_mov_imm64() picks for it (`mov r32, imm32`, `mov r64,
//!   simm32` or `movabs r64, imm64`), depends on the kernel's per-CPU
//!   allocations. The `add` is compared as usual. If the two encodings
//!   differ in length, a branch within the function over that `mov` still
//!   compares as different (its rel differs).
//!
//! Everything else must be equal: lengths, instruction boundaries, opcodes,
//! registers, immediates, displacements, in-function branch targets, and
//! the number and lengths of the functions and the xlated length.
//!
//! Usage: jitcmp [-n max_reported] [--b-subset] [--btf A.btf B.btf] A.dump B.dump
//!        jitcmp --access-bytes A.dump B.dump   (src/access.rs)
//! (the .btf files: the kernels' raw BTF, /sys/kernel/btf/vmlinux.)
//! (--b-subset: B dumped a sample of A's objects; compare on B's objects.)
//! Exit status: 0 if identical (same objects, same load-failure set, every
//! program the same), 1 if not, 2 on a usage or input error.

use iced_x86::{
    Code, Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, OpKind, Register,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::exit;

mod access;

#[derive(Default)]
struct Prog {
    ptype: i64,
    ok: bool,
    skipped: bool,
    err: i64,
    ms: u64,
    xlated: u64,
    lens: Vec<usize>,
    ksyms: Vec<u64>,
    image: Vec<u8>,
    /// The K record that followed it: (kasan_mode, kasan_checks,
    /// kasan_merged), on a kernel with the series.
    kasan: Option<(u32, u64, u64)>,
}

#[derive(Default)]
struct Dump {
    objects: BTreeMap<String, i64>,
    progs: BTreeMap<(String, String), Prog>,
    crashed: Vec<String>,
}

fn die(msg: &str) -> ! {
    eprintln!("jitcmp: {msg}");
    exit(2)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return Some(Vec::new());
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn parse(path: &str) -> Dump {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| die(&format!("{path}: {e}")));
    parse_text(&text, path).unwrap_or_else(|e| die(&e))
}

/// A jitdump dump (the text of `path`), or the first bad record.
fn parse_text(text: &str, path: &str) -> Result<Dump, String> {
    let mut d = Dump::default();
    for (n, line) in text.lines().enumerate() {
        parse_record(&mut d, line).map_err(|()| format!("{path}:{}: bad record", n + 1))?;
    }
    Ok(d)
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, ()> {
    s.parse().map_err(|_| ())
}

/// One record of a dump (jitdump.c's header lists them) into `d`.
fn parse_record(d: &mut Dump, line: &str) -> Result<(), ()> {
    let f: Vec<&str> = line.split(' ').collect();
    match f[0] {
        "O" if f.len() >= 3 => {
            d.objects.insert(f[1].to_string(), num(f[2])?);
        }
        "X" => d.crashed.push(line.to_string()),
        "P" if f.len() >= 7 => {
            let mut p = Prog {
                ptype: num(f[3])?,
                ms: num(f[5])?,
                ..Default::default()
            };
            match f[4] {
                "fail" => p.err = num(f[6])?,
                "skip" => p.skipped = true,
                "ok" if f.len() == 11 => {
                    p.ok = true;
                    p.xlated = num(f[6])?;
                    let nf: usize = num(f[7])?;
                    if f[8] != "-" {
                        p.lens = f[8].split(',').map(num).collect::<Result<_, _>>()?;
                    }
                    if f[9] != "-" {
                        p.ksyms = f[9]
                            .split(',')
                            .map(|x| u64::from_str_radix(x, 16).map_err(|_| ()))
                            .collect::<Result<_, _>>()?;
                    }
                    p.image = unhex(f[10]).ok_or(())?;
                    if p.lens.len() != nf {
                        return Err(());
                    }
                    // A program without subprograms may report no
                    // function lengths: then it is one function.
                    if p.lens.is_empty() {
                        p.lens.push(p.image.len());
                    }
                    if p.lens.iter().sum::<usize>() != p.image.len() {
                        return Err(());
                    }
                }
                _ => return Err(()),
            }
            // One record per program: a second would replace the first.
            let key = (f[1].to_string(), f[2].to_string());
            if d.progs.contains_key(&key) {
                return Err(());
            }
            d.progs.insert(key, p);
        }
        // The counters of the program loaded just before (P ... ok).
        "K" if f.len() == 6 => {
            let key = (f[1].to_string(), f[2].to_string());
            let p = d
                .progs
                .get_mut(&key)
                .filter(|p| p.ok && p.kasan.is_none())
                .ok_or(())?;
            p.kasan = Some((num(f[3])?, num(f[4])?, num(f[5])?));
        }
        _ => return Err(()),
    }
    Ok(())
}

/// A kernel's BTF, as much as jitcmp needs: the kind and name of each type
/// ID (index 0 is the void type).
struct Btf {
    types: Vec<(u32, String)>,
}

fn parse_btf(path: &str) -> Btf {
    let d = std::fs::read(path).unwrap_or_else(|e| die(&format!("{path}: {e}")));
    let bad = || -> ! { die(&format!("{path}: not BTF")) };
    let u32_at = |o: usize| -> u32 {
        if o + 4 > d.len() {
            bad()
        }
        u32::from_le_bytes(d[o..o + 4].try_into().unwrap())
    };
    if d.len() < 24 || u16::from_le_bytes([d[0], d[1]]) != 0xeb9f {
        bad()
    }
    let hdr_len = u32_at(4) as usize;
    let (type_off, type_len) = (u32_at(8) as usize, u32_at(12) as usize);
    let str_off = u32_at(16) as usize;
    let (t0, s0) = (hdr_len + type_off, hdr_len + str_off);
    let name = |off: u32| -> String {
        let start = s0 + off as usize;
        let end = d[start..]
            .iter()
            .position(|&c| c == 0)
            .map_or(d.len(), |n| start + n);
        String::from_utf8_lossy(&d[start..end]).into_owned()
    };
    let mut types = vec![(0, String::new())];
    let mut o = t0;
    while o < t0 + type_len {
        let (name_off, info) = (u32_at(o), u32_at(o + 4));
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        types.push((kind, name(name_off)));
        o += 12;
        o += match kind {
            1 | 14 | 17 => 4,             // INT, VAR, DECL_TAG
            3 => 12,                      // ARRAY
            4 | 5 | 15 | 19 => vlen * 12, // STRUCT, UNION, DATASEC, ENUM64
            6 | 13 => vlen * 8,           // ENUM, FUNC_PROTO
            _ => 0,
        };
    }
    Btf { types }
}

/// Whether a and b are the IDs of the same named type in the two kernels.
fn same_btf_type(a: u32, b: u32, btf: Option<&(Btf, Btf)>) -> bool {
    let Some((ba, bb)) = btf else { return false };
    match (ba.types.get(a as usize), bb.types.get(b as usize)) {
        (Some((ka, na)), Some((kb, nb))) => {
            a != 0 && b != 0 && ka == kb && !na.is_empty() && na == nb
        }
        _ => false,
    }
}

#[derive(Default)]
struct Stats {
    insns: u64,
    bytes_a: u64,
    bytes_b: u64,
    funcs: u64,
    m_imm64: u64,
    m_ext_branch: u64,
    m_subprog_call: u64,
    m_gs_disp: u64,
    m_kaddr32: u64,
    m_btf_id: u64,
    m_percpu_addr: u64,
}

const KADDR64_MIN: u64 = 0xffff_8000_0000_0000;

fn is_kaddr32(v: u32) -> bool {
    (0x8000_0000..0xff00_0000).contains(&v)
}

/// Whether `i`, decoded at the start of `code`, loads a per-CPU address that
/// the next instruction makes this CPU's: `mov reg, imm` in any encoding
/// emit_mov_imm64() may choose, directly followed by `add reg, gs:[disp32]`
/// on the same 64-bit register (the private stack's frame pointer,
/// emit_priv_frame_ptr(); a per-CPU array value's ld_imm64 followed by
/// BPF_MOV64_PERCPU_REG).
fn is_percpu_addr_load(i: &Instruction, code: &[u8]) -> bool {
    if !matches!(
        i.code(),
        Code::Mov_r32_imm32 | Code::Mov_rm64_imm32 | Code::Mov_r64_imm64
    ) || i.op0_kind() != OpKind::Register
        || code.len() < i.len()
    {
        return false;
    }
    let reg = i.op0_register().full_register();
    let mut d = Decoder::new(64, &code[i.len()..], DecoderOptions::NONE);
    if !d.can_decode() {
        return false;
    }
    let add = d.decode();
    add.code() == Code::Add_r64_rm64
        && add.op0_register() == reg
        && add.op_kind(1) == OpKind::Memory
        && add.segment_prefix() == Register::GS
        && add.memory_base() == Register::None
        && add.memory_index() == Register::None
}

/// Where a branch target lands: in function `k` at `off`, or outside.
#[derive(PartialEq, Eq, Debug, Clone, Copy)]
enum Target {
    Func(usize, u64),
    Outside,
}

fn classify(t: u64, bases: &[u64], lens: &[usize]) -> Target {
    for (k, (&b, &l)) in bases.iter().zip(lens).enumerate() {
        if t >= b && t < b + l as u64 {
            return Target::Func(k, t - b);
        }
    }
    Target::Outside
}

fn fmt_insn(i: &Instruction, bytes: &[u8], base: u64) -> String {
    let mut s = String::new();
    IntelFormatter::new().format(i, &mut s);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("+{:#x}: {s:<40} [{hex}]", i.ip() - base)
}

/// The function bases: the kernel addresses of jited_ksyms if there are as
/// many as functions, else made-up ones (then every call between functions
/// compares as "outside").
fn bases(p: &Prog, fake: u64) -> Vec<u64> {
    if p.ksyms.len() == p.lens.len() && p.ksyms.iter().all(|&k| k != 0) {
        p.ksyms.clone()
    } else {
        let mut v = Vec::new();
        let mut at = fake;
        for &l in &p.lens {
            v.push(at);
            at += l as u64 + 0x1000;
        }
        v
    }
}

/// Compare one program; None if identical, else a description of the first
/// difference.
fn compare_prog(a: &Prog, b: &Prog, st: &mut Stats, btf: Option<&(Btf, Btf)>) -> Option<String> {
    st.bytes_a += a.image.len() as u64;
    st.bytes_b += b.image.len() as u64;
    if a.ptype != b.ptype {
        return Some(format!("program type {} vs {}", a.ptype, b.ptype));
    }
    if a.xlated != b.xlated {
        return Some(format!("xlated length {} vs {}", a.xlated, b.xlated));
    }
    if a.lens.len() != b.lens.len() {
        return Some(format!("{} vs {} functions", a.lens.len(), b.lens.len()));
    }
    let (ba, bb) = (bases(a, 0x1_0000_0000), bases(b, 0x1_0000_0000));
    let mut first: Option<String> = None;
    let note = |s: String, first: &mut Option<String>| {
        if first.is_none() {
            *first = Some(s);
        }
    };
    let (mut oa, mut ob) = (0usize, 0usize);
    for f in 0..a.lens.len() {
        let ca = &a.image[oa..oa + a.lens[f]];
        let cb = &b.image[ob..ob + b.lens[f]];
        oa += a.lens[f];
        ob += b.lens[f];
        st.funcs += 1;
        let mut da = Decoder::with_ip(64, ca, ba[f], DecoderOptions::NONE);
        let mut db = Decoder::with_ip(64, cb, bb[f], DecoderOptions::NONE);
        let (mut ia, mut ib) = (Instruction::default(), Instruction::default());
        loop {
            match (da.can_decode(), db.can_decode()) {
                (false, false) => break,
                (true, true) => {}
                (more_a, _) => {
                    note(
                        format!(
                            "func {f}: image lengths {} vs {}: {} has more code",
                            ca.len(),
                            cb.len(),
                            if more_a { "A" } else { "B" }
                        ),
                        &mut first,
                    );
                    break;
                }
            }
            let pa = da.position();
            let pb = db.position();
            da.decode_out(&mut ia);
            db.decode_out(&mut ib);
            st.insns += 1;
            let xa = &ca[pa..pa + ia.len()];
            let xb = &cb[pb..pb + ib.len()];
            let describe = |why: &str| {
                format!(
                    "func {f} ({} vs {} bytes): {why}\n      A {}\n      B {}",
                    ca.len(),
                    cb.len(),
                    fmt_insn(&ia, xa, ba[f]),
                    fmt_insn(&ib, xb, bb[f])
                )
            };
            if ia.is_invalid() || ib.is_invalid() {
                if xa != xb {
                    note(describe("undecodable bytes differ"), &mut first);
                    break;
                }
                continue;
            }
            if is_percpu_addr_load(&ia, &ca[pa..]) && is_percpu_addr_load(&ib, &cb[pb..]) {
                st.m_percpu_addr += 1;
                continue;
            }
            if ia.len() != ib.len() || ia.code() != ib.code() {
                note(describe("different instruction"), &mut first);
                break;
            }
            let mut ma = xa.to_vec();
            let mut mb = xb.to_vec();
            let ka = da.get_constant_offsets(&ia);
            let kb = db.get_constant_offsets(&ib);
            if ka.immediate_offset() != kb.immediate_offset()
                || ka.displacement_offset() != kb.displacement_offset()
            {
                note(describe("different encoding"), &mut first);
                break;
            }
            let mut mask = |off: usize, size: usize| {
                ma[off..off + size].fill(0);
                mb[off..off + size].fill(0);
            };
            let is_branch = ia.is_call_near()
                || ia.is_jmp_short_or_near()
                || ia.is_jcc_short_or_near()
                || (0..ia.op_count()).any(|o| {
                    matches!(
                        ia.op_kind(o),
                        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
                    )
                });
            let mut why: Option<&str> = None;
            if is_branch && ka.has_immediate() {
                let ta = classify(ia.near_branch_target(), &ba, &a.lens);
                let tb = classify(ib.near_branch_target(), &bb, &b.lens);
                match (ta, tb) {
                    (Target::Outside, Target::Outside) => {
                        mask(ka.immediate_offset(), ka.immediate_size());
                        st.m_ext_branch += 1;
                    }
                    (Target::Func(x, xo), Target::Func(y, yo)) if x == y && xo == yo => {
                        if x != f {
                            mask(ka.immediate_offset(), ka.immediate_size());
                            st.m_subprog_call += 1;
                        }
                    }
                    _ => why = Some("branch targets differ"),
                }
            } else {
                if ka.has_immediate() && ka.immediate_size() == 8 {
                    let (va, vb) = (ia.immediate64(), ib.immediate64());
                    if va >= KADDR64_MIN && vb >= KADDR64_MIN {
                        mask(ka.immediate_offset(), 8);
                        st.m_imm64 += 1;
                    }
                }
                for (o, size) in [
                    (ka.immediate_offset(), ka.immediate_size()),
                    (ka.immediate_offset2(), ka.immediate_size2()),
                ] {
                    if size == 4 {
                        let va = u32::from_le_bytes(xa[o..o + 4].try_into().unwrap());
                        let vb = u32::from_le_bytes(xb[o..o + 4].try_into().unwrap());
                        if is_kaddr32(va) && is_kaddr32(vb) {
                            mask(o, 4);
                            st.m_kaddr32 += 1;
                        } else if va != vb && same_btf_type(va, vb, btf) {
                            mask(o, 4);
                            st.m_btf_id += 1;
                        }
                    }
                }
                if ka.has_displacement() {
                    let (o, s) = (ka.displacement_offset(), ka.displacement_size());
                    if ia.memory_base() == Register::RIP || ia.memory_base() == Register::EIP {
                        let ta = classify(ia.memory_displacement64(), &ba, &a.lens);
                        let tb = classify(ib.memory_displacement64(), &bb, &b.lens);
                        if ta == tb {
                            mask(o, s);
                            st.m_ext_branch += 1;
                        } else {
                            why = Some("rip-relative targets differ");
                        }
                    } else if ia.segment_prefix() == Register::GS
                        && ib.segment_prefix() == Register::GS
                        && s == 4
                    {
                        mask(o, s);
                        st.m_gs_disp += 1;
                    } else if s == 4 {
                        let va = u32::from_le_bytes(xa[o..o + 4].try_into().unwrap());
                        let vb = u32::from_le_bytes(xb[o..o + 4].try_into().unwrap());
                        if is_kaddr32(va) && is_kaddr32(vb) {
                            mask(o, 4);
                            st.m_kaddr32 += 1;
                        }
                    }
                }
            }
            if why.is_none() && ma != mb {
                why = Some("different operands");
            }
            if let Some(w) = why {
                note(describe(w), &mut first);
                break;
            }
        }
    }
    first
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 3 && args[0] == "--access-bytes" {
        let (a, b) = (parse(&args[1]), parse(&args[2]));
        match access::access_bytes(&a, &b) {
            Ok(f) => print!("{}", access::to_json(&f, &args[1], &args[2])),
            Err(e) => die(&e),
        }
        exit(0);
    }
    let mut max_report = 5usize;
    let mut b_subset = false;
    let mut btf_files: Option<(String, String)> = None;
    loop {
        if args.len() >= 2 && args[0] == "-n" {
            max_report = args[1].parse().unwrap_or_else(|_| die("-n takes a number"));
            args.drain(0..2);
        } else if args.len() >= 3 && args[0] == "--btf" {
            btf_files = Some((args[1].clone(), args[2].clone()));
            args.drain(0..3);
        } else if !args.is_empty() && args[0] == "--b-subset" {
            b_subset = true;
            args.remove(0);
        } else {
            break;
        }
    }
    if args.len() != 2 {
        die("usage: jitcmp [-n max_reported] [--b-subset] [--btf A.btf B.btf] A.dump B.dump\n       jitcmp --access-bytes MODE0.dump MODE1.dump");
    }
    let (mut a, b) = (parse(&args[0]), parse(&args[1]));
    let btf = btf_files
        .as_ref()
        .map(|(x, y)| (parse_btf(x), parse_btf(y)));
    // B dumped a sample of A's objects: compare on those only.
    let a_objects = a.objects.len();
    if b_subset {
        a.objects.retain(|o, _| b.objects.contains_key(o));
        a.progs.retain(|(o, _), _| b.objects.contains_key(o));
    }
    let mut bad = false;
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "jitcmp: A = {}", args[0]).unwrap();
    writeln!(w, "        B = {}", args[1]).unwrap();
    if b_subset {
        writeln!(
            w,
            "--b-subset:   B dumped {} of A's {a_objects} objects: A is compared on those only",
            b.objects.len()
        )
        .unwrap();
    }

    // Objects.
    let oa: BTreeSet<_> = a.objects.keys().collect();
    let ob: BTreeSet<_> = b.objects.keys().collect();
    let only_a: Vec<_> = oa.difference(&ob).collect();
    let only_b: Vec<_> = ob.difference(&oa).collect();
    let open_fail = |d: &Dump| d.objects.values().filter(|&&n| n < 0).count();
    writeln!(
        w,
        "objects:      A {} (failed to open: {}), B {} (failed to open: {}); in A only: {}, in B only: {}",
        oa.len(),
        open_fail(&a),
        ob.len(),
        open_fail(&b),
        only_a.len(),
        only_b.len()
    )
    .unwrap();
    if !only_a.is_empty() || !only_b.is_empty() {
        bad = true;
        for o in only_a.iter().take(max_report) {
            writeln!(w, "  only in A: {o}").unwrap();
        }
        for o in only_b.iter().take(max_report) {
            writeln!(w, "  only in B: {o}").unwrap();
        }
    }
    for (o, &n) in &a.objects {
        if let Some(&m) = b.objects.get(o) {
            if n != m {
                bad = true;
                writeln!(w, "  {o}: {n} programs in A, {m} in B").unwrap();
            }
        }
    }
    for x in a
        .crashed
        .iter()
        .map(|x| ("A", x))
        .chain(b.crashed.iter().map(|x| ("B", x)))
    {
        bad = true;
        writeln!(w, "  crashed/timed out in {}: {}", x.0, x.1).unwrap();
    }

    // Programs and the load-failure sets.
    let pa: BTreeSet<_> = a.progs.keys().collect();
    let pb: BTreeSet<_> = b.progs.keys().collect();
    let ok = |d: &Dump| d.progs.values().filter(|p| p.ok).count();
    let skip = |d: &Dump| d.progs.values().filter(|p| p.skipped).count();
    writeln!(
        w,
        "programs:     A {} listed, {} loaded, {} failed, {} skipped; B {} listed, {} loaded, {} failed, {} skipped",
        pa.len(),
        ok(&a),
        pa.len() - ok(&a) - skip(&a),
        skip(&a),
        pb.len(),
        ok(&b),
        pb.len() - ok(&b) - skip(&b),
        skip(&b)
    )
    .unwrap();
    let mut ok_a_only = Vec::new();
    let mut ok_b_only = Vec::new();
    let mut errno_diff = Vec::new();
    let mut not_in_both = 0;
    for k in pa.union(&pb) {
        match (a.progs.get(*k), b.progs.get(*k)) {
            (Some(x), Some(y)) => {
                if x.ok && !y.ok {
                    ok_a_only.push((*k, y.err));
                } else if !x.ok && y.ok {
                    ok_b_only.push((*k, x.err));
                } else if !x.ok && !y.ok && (x.err != y.err || x.skipped != y.skipped) {
                    errno_diff.push((*k, x.err, y.err));
                }
            }
            _ => not_in_both += 1,
        }
    }
    let secs = |d: &Dump| d.progs.values().map(|p| p.ms).sum::<u64>() as f64 / 1000.0;
    writeln!(
        w,
        "load time:    A {:.0} s, B {:.0} s (guest time, loads that succeeded or failed)",
        secs(&a),
        secs(&b)
    )
    .unwrap();
    writeln!(
        w,
        "load failures: loaded in A only: {}, loaded in B only: {}, failed in both with different errors: {}, listed in one dump only: {}",
        ok_a_only.len(),
        ok_b_only.len(),
        errno_diff.len(),
        not_in_both
    )
    .unwrap();
    if !ok_a_only.is_empty() || !ok_b_only.is_empty() || not_in_both > 0 {
        bad = true;
    }
    for ((o, p), e) in ok_a_only.iter().take(max_report) {
        writeln!(w, "  loaded in A only: {o}/{p} (B: error {e})").unwrap();
    }
    for ((o, p), e) in ok_b_only.iter().take(max_report) {
        writeln!(w, "  loaded in B only: {o}/{p} (A: error {e})").unwrap();
    }
    for ((o, p), x, y) in errno_diff.iter().take(max_report) {
        writeln!(w, "  different load errors: {o}/{p}: A {x}, B {y}").unwrap();
    }
    if !errno_diff.is_empty() {
        bad = true;
    }

    // The JIT images.
    let mut st = Stats::default();
    let (mut same, mut differ, mut differ_len) = (0u64, 0u64, 0u64);
    let mut reports = Vec::new();
    for (k, x) in &a.progs {
        let Some(y) = b.progs.get(k) else { continue };
        if !(x.ok && y.ok) {
            continue;
        }
        match compare_prog(x, y, &mut st, btf.as_ref()) {
            None => same += 1,
            Some(d) => {
                differ += 1;
                if x.image.len() != y.image.len() {
                    differ_len += 1;
                }
                if reports.len() < max_report {
                    reports.push(format!("  {}/{}: {d}", k.0, k.1));
                }
            }
        }
    }
    writeln!(
        w,
        "compared:     {} programs ({} functions): {} identical, {} different ({} of them with a different image size)",
        same + differ,
        st.funcs,
        same,
        differ,
        differ_len
    )
    .unwrap();
    writeln!(
        w,
        "              {} instructions decoded in lock step, {} bytes of A, {} bytes of B",
        st.insns, st.bytes_a, st.bytes_b
    )
    .unwrap();
    writeln!(
        w,
        "masked:       imm64 kernel addresses {}, branches leaving the program {}, calls between its functions {}, %gs per-CPU displacements {}, 32-bit kernel addresses {}, BTF type IDs of the same type {}, per-CPU addresses {}",
        st.m_imm64, st.m_ext_branch, st.m_subprog_call, st.m_gs_disp, st.m_kaddr32, st.m_btf_id, st.m_percpu_addr
    )
    .unwrap();
    if let (Some((fa, fb)), Some((ba, bb))) = (&btf_files, &btf) {
        writeln!(
            w,
            "BTF:          A {} ({} types), B {} ({} types)",
            fa,
            ba.types.len() - 1,
            fb,
            bb.types.len() - 1
        )
        .unwrap();
    }
    if differ > 0 {
        bad = true;
        writeln!(
            w,
            "first difference of {} of the {differ} different programs:",
            reports.len()
        )
        .unwrap();
        for r in &reports {
            writeln!(w, "{r}").unwrap();
        }
    }
    writeln!(w, "RESULT: {}", if bad { "DIFFERENT" } else { "IDENTICAL" }).unwrap();
    print!("{out}");
    exit(if bad { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-function program with this image, at a made-up address.
    fn prog(image: Vec<u8>) -> Prog {
        Prog {
            ok: true,
            lens: vec![image.len()],
            ksyms: vec![0xffff_ffff_c000_0000],
            image,
            ..Default::default()
        }
    }

    /// `add r9, gs:[disp32]`, as emit_priv_frame_ptr() writes it.
    fn add_r9_gs(disp: u32) -> Vec<u8> {
        let mut v = vec![0x65, 0x4c, 0x03, 0x0c, 0x25];
        v.extend_from_slice(&disp.to_le_bytes());
        v
    }

    /// prologue + body, the body being `ret`.
    fn image(prologue: &[u8], add: Vec<u8>) -> Vec<u8> {
        let mut v = prologue.to_vec();
        v.extend(add);
        v.push(0xc3);
        v
    }

    fn cmp(a: Vec<u8>, b: Vec<u8>) -> (Option<String>, Stats) {
        let mut st = Stats::default();
        let r = compare_prog(&prog(a), &prog(b), &mut st, None);
        (r, st)
    }

    // mov r9d, imm32 / mov r9, simm32 / movabs r9, imm64
    const MOV_R9D: [u8; 6] = [0x41, 0xb9, 0x40, 0x2c, 0x03, 0x00];
    const MOV_R9_S32: [u8; 7] = [0x49, 0xc7, 0xc1, 0x40, 0x2c, 0x03, 0x80];
    const MOV_R9_64: [u8; 10] = [0x49, 0xb9, 0x40, 0x2c, 0x03, 0x00, 0x88, 0x40, 0x00, 0x00];
    const MOV_R9_64_B: [u8; 10] = [0x49, 0xb9, 0x80, 0x91, 0x05, 0x00, 0x10, 0x41, 0x00, 0x00];

    #[test]
    fn private_stack_address_in_any_encoding_is_masked() {
        for (a, b) in [
            (&MOV_R9_64[..], &MOV_R9_64_B[..]),
            (&MOV_R9D[..], &MOV_R9_64[..]),
            (&MOV_R9_S32[..], &MOV_R9D[..]),
        ] {
            let (r, st) = cmp(
                image(a, add_r9_gs(0x8201_e030)),
                image(b, add_r9_gs(0x8202_e030)),
            );
            assert_eq!(r, None, "{a:02x?} vs {b:02x?}");
            assert_eq!(st.m_percpu_addr, 1);
            assert_eq!(st.m_gs_disp, 1);
        }
    }

    #[test]
    fn mov_r9_imm_without_the_gs_add_is_compared() {
        // mov r9, imm then `ret`: e.g. the 6th argument of a call.
        let (r, st) = cmp(image(&MOV_R9_64, vec![]), image(&MOV_R9_64_B, vec![]));
        assert!(r.is_some_and(|d| d.contains("different operands")));
        assert_eq!(st.m_percpu_addr, 0);
        let (r, _) = cmp(image(&MOV_R9D, vec![]), image(&MOV_R9_64, vec![]));
        assert!(r.is_some_and(|d| d.contains("different instruction")));
    }

    #[test]
    fn other_register_or_other_add_is_compared() {
        // movabs r8, imm64 then add r9, gs:[..]: not one per-CPU address.
        let mut r8a = MOV_R9_64;
        let mut r8b = MOV_R9_64_B;
        r8a[1] = 0xb8;
        r8b[1] = 0xb8;
        let (r, _) = cmp(
            image(&r8a, add_r9_gs(0x8201_e030)),
            image(&r8b, add_r9_gs(0x8201_e030)),
        );
        assert!(r.is_some());
        // add r9, [disp32] without %gs.
        let no_gs = add_r9_gs(0x8201_e030)[1..].to_vec();
        let (r, _) = cmp(image(&MOV_R9_64, no_gs.clone()), image(&MOV_R9_64_B, no_gs));
        assert!(r.is_some());
    }

    #[test]
    fn percpu_array_value_address_is_masked() {
        // movabs rax, imm64 / mov eax, imm32, then add rax, gs:[disp32].
        let add_rax_gs = |disp: u32| {
            let mut v = vec![0x65, 0x48, 0x03, 0x04, 0x25];
            v.extend_from_slice(&disp.to_le_bytes());
            v
        };
        let movabs_rax = [0x48, 0xb8, 0x40, 0x2c, 0x03, 0x00, 0x88, 0x40, 0x00, 0x00];
        let mov_eax = [0xb8, 0x40, 0x2c, 0x03, 0x00];
        let (r, st) = cmp(
            image(&movabs_rax, add_rax_gs(0x8201_e030)),
            image(&mov_eax, add_rax_gs(0x8202_e030)),
        );
        assert_eq!(r, None);
        assert_eq!(st.m_percpu_addr, 1);
        // The add on another register than the mov's: compared.
        let (r, st) = cmp(
            image(&movabs_rax, add_r9_gs(0x8201_e030)),
            image(&mov_eax, add_r9_gs(0x8201_e030)),
        );
        assert!(r.is_some_and(|d| d.contains("different instruction")));
        assert_eq!(st.m_percpu_addr, 0);
    }

    #[test]
    fn the_gs_add_itself_must_match() {
        // add r9, gs:[..] vs add r8, gs:[..] after the mov.
        let mut other = add_r9_gs(0x8201_e030);
        other[3] = 0x04;
        let (r, _) = cmp(
            image(&MOV_R9_64, add_r9_gs(0x8201_e030)),
            image(&MOV_R9_64_B, other),
        );
        assert!(r.is_some());
    }
}
