// SPDX-License-Identifier: GPL-2.0

//! `native_bench --log <guest console log> --out <native.json>`: times the
//! bench programs' JIT images, dumped by the guest in every mode, natively
//! on this machine's CPU (see `kasan_ebpf_host::native`). Rounds
//! interleave the modes; each program's time per run is the median over
//! rounds, in TSC cycles. Images that cannot be relocated completely are
//! listed with the reason and not run.
//!
//! Options: `--rounds R` (9), `--batch-ms T` (20: the length of one timed
//! batch of runs of the mode-0 image, which sets the batch size). With
//! `NATIVE_BENCH_DEBUG` set, each image first runs once, announced on
//! stderr, to find one that crashes.

use kasan_ebpf_host::native::{
    relocate, HostMemory, KernelSyms, Relocated, HTAB_LOOKUPS, HTAB_UPDATES, SLOW_ENTRIES,
};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

const PREFIX: &str = "KASAN_EBPF_BENCH {";
const MODES: usize = 3;

/// The value of `"key":` in a one-line JSON object of ours: a string's
/// contents or a number's text.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let rest = &line[line.find(&pat)? + pat.len()..];
    if let Some(s) = rest.strip_prefix('"') {
        return s.find('"').map(|e| &s[..e]);
    }
    let e = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..e].trim())
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for q in b.chunks(4) {
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        let mut v = 0u32;
        for &c in &q[..4 - pad] {
            v = v << 6 | val(c)?;
        }
        v <<= 6 * pad as u32;
        out.extend(&v.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

/// One image being reassembled from its chunks.
#[derive(Default)]
struct Dump {
    addr: u64,
    funcs: u32,
    len: usize,
    chunks: BTreeMap<u32, String>,
    total: u32,
}

/// Where the verifier's rewrite of the mixed program's `__sk_buff`
/// accesses reads in a `struct sk_buff` (byte offsets, from the guest
/// kernel's BTF) and the packet the guest's test runs give it.
#[derive(Debug, Default, PartialEq)]
struct Skb {
    data: u64,
    data_end: u64,
    len: u64,
    pkt: Vec<u8>,
}

struct Parsed {
    syms: BTreeMap<String, u64>,
    images: BTreeMap<(String, usize), Dump>,
    skb: Option<Skb>,
}

/// A stand-in `struct sk_buff` for the mixed program, as
/// bpf_prog_test_run_skb() sets one up for a `tc` program: `data` at the
/// Ethernet header of a copy of the packet, `len` its length, and the
/// `data_end` that bpf_compute_data_pointers() keeps in `cb` at the end of
/// the (linear) packet. Both in `mem`, valid in the shadow.
fn fake_skb(mem: &mut HostMemory, s: &Skb) -> Result<u64, String> {
    let (ctx, pkt) = (mem.scratch()?, mem.scratch()?);
    for off in [s.data, s.data_end, s.len] {
        if off > 2048 {
            return Err(format!("sk_buff field offset {off} beyond the stand-in"));
        }
    }
    mem.write(pkt, &s.pkt)?;
    mem.write(ctx + s.data, &pkt.to_le_bytes())?;
    mem.write(ctx + s.data_end, &(pkt + s.pkt.len() as u64).to_le_bytes())?;
    mem.write(ctx + s.len, &(s.pkt.len() as u32).to_le_bytes())?;
    Ok(ctx)
}

fn parse(log: &str) -> Result<Parsed, String> {
    let mut syms = BTreeMap::new();
    let mut images: BTreeMap<(String, usize), Dump> = BTreeMap::new();
    let mut skb = None;
    for line in log.lines() {
        let Some(at) = line.find(PREFIX) else {
            continue;
        };
        let rec = &line[at + PREFIX.len() - 1..];
        match field(rec, "type") {
            Some("syms") => {
                let body = &rec[rec.find("\"syms\":{").ok_or("syms line")? + 8..];
                let body = &body[..body.find('}').ok_or("syms line end")?];
                for pair in body.split(',') {
                    let mut kv = pair.split(':');
                    let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                        return Err(format!("bad syms entry {pair}"));
                    };
                    let addr = hex(v.trim_matches('"')).ok_or(format!("bad address {v}"))?;
                    syms.insert(k.trim_matches('"').to_string(), addr);
                }
            }
            Some("skb") => {
                let num = |k: &str| -> Result<u64, String> {
                    field(rec, k)
                        .and_then(|v| v.parse().ok())
                        .ok_or(format!("skb line without {k}"))
                };
                skb = Some(Skb {
                    data: num("data")?,
                    data_end: num("data_end")?,
                    len: num("len")?,
                    pkt: field(rec, "pkt")
                        .and_then(base64)
                        .filter(|p| !p.is_empty())
                        .ok_or("skb line without pkt")?,
                });
            }
            Some("image") => {
                let get = |k: &str| field(rec, k).ok_or(format!("image line without {k}"));
                let name = get("name")?.to_string();
                let mode: usize = get("mode")?.parse().map_err(|_| "mode")?;
                let d = images.entry((name, mode)).or_default();
                d.addr = hex(get("addr")?).ok_or("addr")?;
                d.funcs = get("funcs")?.parse().map_err(|_| "funcs")?;
                d.len = get("len")?.parse().map_err(|_| "len")?;
                d.total = get("chunks")?.parse().map_err(|_| "chunks")?;
                let c: u32 = get("chunk")?.parse().map_err(|_| "chunk")?;
                d.chunks.insert(c, get("b64")?.to_string());
            }
            _ => {}
        }
    }
    Ok(Parsed { syms, images, skb })
}

fn rdtsc() -> u64 {
    // SAFETY: lfence and rdtsc have no preconditions on x86-64.
    unsafe {
        core::arch::x86_64::_mm_lfence();
        let t = core::arch::x86_64::_rdtsc();
        core::arch::x86_64::_mm_lfence();
        t
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn geomean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().replace('"', "'"))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn json_num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or("null".into(), |v| format!("{v:.4}"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(log), Some(out)) = (opt("--log"), opt("--out")) else {
        eprintln!("usage: native_bench --log <console log> --out <native.json> [--rounds R] [--batch-ms T]");
        std::process::exit(2);
    };
    let rounds: usize = opt("--rounds").map_or(9, |v| v.parse().expect("--rounds"));
    let batch_ms: f64 = opt("--batch-ms").map_or(20.0, |v| v.parse().expect("--batch-ms"));
    let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_else(|e| {
        eprintln!("native_bench: {log}: {e}");
        std::process::exit(1)
    }))
    .replace('\r', "");
    let parsed = parse(&text).unwrap_or_else(|e| {
        eprintln!("native_bench: {log}: {e}");
        std::process::exit(1)
    });
    let syms = KernelSyms::from_map(&parsed.syms).unwrap_or_else(|e| {
        eprintln!("native_bench: {log}: {e} (no syms line: a bench run before the image dump?)");
        std::process::exit(1)
    });

    // Relocate every image; a program runs only if all its modes do.
    let mut names: Vec<String> = parsed.images.keys().map(|(n, _)| n.clone()).collect();
    names.dedup();
    let mut mem = HostMemory::new();
    let mut progs: BTreeMap<String, Result<Vec<Relocated>, String>> = BTreeMap::new();
    for name in &names {
        let mut ok = Vec::new();
        let mut err = None;
        for m in 0..MODES {
            let r = parsed
                .images
                .get(&(name.clone(), m))
                .ok_or(format!("mode {m}: no image"))
                .and_then(|d| {
                    if d.funcs != 1 {
                        return Err(format!("mode {m}: {} functions", d.funcs));
                    }
                    if d.chunks.len() as u32 != d.total {
                        return Err(format!(
                            "mode {m}: {} of {} chunks",
                            d.chunks.len(),
                            d.total
                        ));
                    }
                    let b64: String = d.chunks.values().map(String::as_str).collect();
                    let code = base64(&b64).ok_or(format!("mode {m}: bad base64"))?;
                    if code.len() != d.len {
                        return Err(format!(
                            "mode {m}: {} bytes, {} expected",
                            code.len(),
                            d.len
                        ));
                    }
                    relocate(&code, d.addr, &syms, &mut mem).map_err(|e| format!("mode {m}: {e}"))
                });
            match r {
                Ok(x) => ok.push(x),
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        progs.insert(name.clone(), err.map_or(Ok(ok), Err));
    }

    // The context: the loops read none (a zeroed region); the packet
    // program a stand-in sk_buff (refused without the guest's skb line).
    let zero_ctx = mem.scratch().unwrap_or_else(|e| {
        eprintln!("native_bench: {e}");
        std::process::exit(1)
    });
    let mut ctxs = BTreeMap::new();
    for (name, p) in progs.iter_mut() {
        let ctx = if name == "mixed" {
            parsed
                .skb
                .as_ref()
                .ok_or("no skb line (a bench run before its native mixed figures)".to_string())
                .and_then(|s| fake_skb(&mut mem, s))
        } else {
            Ok(zero_ctx)
        };
        match ctx {
            Ok(c) => {
                ctxs.insert(name.clone(), c);
            }
            Err(e) => {
                if p.is_ok() {
                    *p = Err(e);
                }
            }
        }
    }
    let mut results: BTreeMap<String, [f64; MODES]> = BTreeMap::new();
    let mut slow: BTreeMap<String, u64> = BTreeMap::new();
    let updates0 = HTAB_UPDATES.load(Ordering::Relaxed);
    let mut mixed_lookups_per_run = None;
    for (name, p) in &progs {
        let Ok(imgs) = p else { continue };
        let ctx = ctxs[name] as *mut u8;
        let runs = std::cell::Cell::new(0u64);
        let lookups = HTAB_LOOKUPS.load(Ordering::Relaxed);
        let run = |m: usize, n: u64| {
            runs.set(runs.get() + n);
            let t0 = rdtsc();
            for _ in 0..n {
                // SAFETY: the images were relocated over `mem`, which lives
                // until the end of main; they access only it (their
                // context is in it too) and their stack.
                unsafe { imgs[m].run(ctx) };
            }
            rdtsc() - t0
        };
        if std::env::var_os("NATIVE_BENCH_DEBUG").is_some() {
            for m in 0..MODES {
                eprintln!("native_bench: {name} mode {m}: one run");
                run(m, 1);
            }
        }
        // Batch size: about batch_ms of the mode-0 image.
        let mut n = 1u64;
        loop {
            let t = Instant::now();
            run(0, n);
            if t.elapsed().as_secs_f64() * 1e3 >= batch_ms / 4.0 || n > 1 << 30 {
                let per = t.elapsed().as_secs_f64() * 1e3 / n as f64;
                n = ((batch_ms / per) as u64).max(1);
                break;
            }
            n *= 2;
        }
        let mut per_mode: [Vec<f64>; MODES] = Default::default();
        for r in 0..rounds {
            for j in 0..MODES {
                let m = (r + j) % MODES;
                let before_m = SLOW_ENTRIES.load(Ordering::Relaxed);
                let cycles = run(m, n);
                if m == 1 {
                    *slow.entry(name.clone()).or_insert(0) +=
                        SLOW_ENTRIES.load(Ordering::Relaxed) - before_m;
                }
                per_mode[m].push(cycles as f64 / n as f64);
            }
        }
        // The packet program must have parsed the packet up to its flow
        // lookup on every run, in every mode (not a drop path).
        if name == "mixed" {
            let l = HTAB_LOOKUPS.load(Ordering::Relaxed) - lookups;
            mixed_lookups_per_run = Some(l as f64 / runs.get() as f64);
            if l != runs.get() {
                eprintln!(
                    "native_bench: mixed: {l} flow lookups in {} runs: not the packet's path",
                    runs.get()
                );
                std::process::exit(1);
            }
        }
        results.insert(name.clone(), per_mode.map(median));
    }

    let is_loop = |n: &str| n.starts_with("ld") || n.starts_with("st");
    let ratio = |m: usize, pick: &dyn Fn(&str) -> bool| {
        let v: Vec<f64> = results
            .iter()
            .filter(|(n, c)| pick(n) && c[0] > 0.0)
            .map(|(_, c)| c[m] / c[0])
            .collect();
        geomean(&v)
    };
    let r1 = ratio(1, &is_loop);
    let r2 = ratio(2, &is_loop);
    let cut = match (r1, r2) {
        (Some(a), Some(b)) if a > 1.0 => Some((b - 1.0) / (a - 1.0)),
        _ => None,
    };
    let mixed = |m: usize| results.get("mixed").map(|c| c[m] / c[0]);

    let mut j = String::new();
    j += &format!(
        "{{\"cpu\":\"{}\",\"rounds\":{rounds},\"batch_ms\":{batch_ms},",
        cpu_model()
    );
    j += "\"programs\":{";
    for (i, (name, p)) in progs.iter().enumerate() {
        if i > 0 {
            j += ",";
        }
        match (p, results.get(name)) {
            (Ok(imgs), Some(c)) => {
                let relocs: BTreeMap<&str, usize> = imgs
                    .iter()
                    .flat_map(|r| r.relocs.clone())
                    .fold(BTreeMap::new(), |mut a, (k, v)| {
                        *a.entry(k).or_insert(0) += v;
                        a
                    });
                j += &format!(
                    "\"{name}\":{{\"cycles_per_run\":[{:.1},{:.1},{:.1}],\"ratio_inline\":{},\"ratio_upstream\":{},\"slow_path_entries_inline\":{},\"relocations\":{{{}}}}}",
                    c[0],
                    c[1],
                    c[2],
                    json_num(Some(c[1] / c[0])),
                    json_num(Some(c[2] / c[0])),
                    slow.get(name).copied().unwrap_or(0),
                    relocs
                        .iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
            (Err(e), _) => j += &format!("\"{name}\":{{\"refused\":\"{}\"}}", e.replace('"', "'")),
            _ => j += &format!("\"{name}\":{{\"refused\":\"not run\"}}"),
        }
    }
    j += "},\"summary\":{";
    j += &format!(
        "\"native_runtime_ratio_inline\":{},\"native_runtime_ratio_upstream\":{},\
         \"native_overhead_cut_vs_upstream\":{},\"native_runtime_ratio_inline_mixed\":{},\
         \"native_runtime_ratio_upstream_mixed\":{},\"native_slow_path_entries_valid\":{},\
         \"native_mixed_htab_updates\":{},\"native_mixed_flow_lookups_per_run\":{},\
         \"native_cpu\":\"{}\"",
        json_num(r1),
        json_num(r2),
        json_num(cut),
        json_num(mixed(1)),
        json_num(mixed(2)),
        slow.values().sum::<u64>(),
        HTAB_UPDATES.load(Ordering::Relaxed) - updates0,
        json_num(mixed_lookups_per_run),
        cpu_model()
    );
    j += "}}\n";
    std::fs::write(&out, &j).unwrap_or_else(|e| {
        eprintln!("native_bench: {out}: {e}");
        std::process::exit(1)
    });
    println!(
        "native (this CPU: {}), TSC cycles per run, median of {rounds} rounds:",
        cpu_model()
    );
    println!(
        "  {:<12} {:>12} {:>12} {:>12} {:>8} {:>9}",
        "program", "none", "inline", "upstream", "inline/", "upstream/"
    );
    for (name, p) in &progs {
        match (p, results.get(name)) {
            (Ok(_), Some(c)) => println!(
                "  {name:<12} {:>12.1} {:>12.1} {:>12.1} {:>8.3} {:>9.3}",
                c[0],
                c[1],
                c[2],
                c[1] / c[0],
                c[2] / c[0]
            ),
            (Err(e), _) => println!("  {name:<12} refused: {e}"),
            _ => {}
        }
    }
    println!(
        "  loops (geomean): inline {} upstream {}, overhead cut vs upstream {}",
        json_num(r1),
        json_num(r2),
        json_num(cut)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_every_padding() {
        assert_eq!(base64("").unwrap(), b"");
        assert_eq!(base64("TQ==").unwrap(), b"M");
        assert_eq!(base64("TWE=").unwrap(), b"Ma");
        assert_eq!(base64("TWFu").unwrap(), b"Man");
        assert_eq!(base64("/+8A").unwrap(), [0xff, 0xef, 0x00]);
        assert!(base64("TWF").is_none());
        assert!(base64("TW!u").is_none());
    }

    #[test]
    fn lines_of_the_loader_parse() {
        let log = "junk\n\
            [  1.0] KASAN_EBPF_BENCH {\"type\":\"syms\",\"syms\":{\"a\":\"0x10\",\"b\":\"0xffff\"}}\n\
            KASAN_EBPF_BENCH {\"type\":\"image\",\"name\":\"ld8\",\"mode\":1,\"addr\":\"0xffffffffc0000000\",\"funcs\":1,\"len\":3,\"chunk\":0,\"chunks\":1,\"b64\":\"TWFu\"}\n";
        let p = parse(log).unwrap();
        assert_eq!(p.syms["a"], 0x10);
        assert_eq!(p.syms["b"], 0xffff);
        let d = &p.images[&("ld8".to_string(), 1)];
        assert_eq!(
            (d.addr, d.funcs, d.len, d.total),
            (0xffff_ffff_c000_0000, 1, 3, 1)
        );
        assert_eq!(d.chunks[&0], "TWFu");
        assert_eq!(p.skb, None);
    }

    #[test]
    fn the_skb_line_gives_a_stand_in_sk_buff() {
        let log = "KASAN_EBPF_BENCH {\"type\":\"skb\",\"data\":200,\"data_end\":88,\"len\":112,\"pkt\":\"AgD/\"}\n";
        let s = parse(log).unwrap().skb.unwrap();
        assert_eq!(
            s,
            Skb {
                data: 200,
                data_end: 88,
                len: 112,
                pkt: vec![2, 0, 0xff]
            }
        );
        let mut mem = HostMemory::new();
        let ctx = fake_skb(&mut mem, &s).unwrap();
        // SAFETY: the fields are inside the stand-in's region.
        let (data, end, len) = unsafe {
            (
                ((ctx + 200) as *const u64).read_unaligned(),
                ((ctx + 88) as *const u64).read_unaligned(),
                ((ctx + 112) as *const u32).read_unaligned(),
            )
        };
        assert_eq!((end - data, len), (3, 3));
        // SAFETY: `data` is the packet's copy in `mem`.
        assert_eq!(unsafe { *((data + 2) as *const u8) }, 0xff);
        assert!(parse(&log.replace("\"pkt\":\"AgD/\"", "\"pkt\":\"\"")).is_err());
        let far = Skb { len: 4096, ..s };
        assert!(fake_skb(&mut mem, &far).is_err());
    }
}
