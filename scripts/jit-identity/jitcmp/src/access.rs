// SPDX-License-Identifier: GPL-2.0
//! `jitcmp --access-bytes A.dump B.dump`: what the KASAN checks cost in JIT
//! bytes over a corpus, from two dumps of one kernel with the series, A at
//! net.core.bpf_jit_kasan=0 and B at =1 (`make corpus-bytes`).
//!
//! A program's accesses are its loads, stores and atomics that mode 1
//! instruments: kasan_checks + kasan_merged of its fdinfo (jitdump's K
//! record), i.e. those that are not stack-only and not untrusted PROBE_MEM
//! loads (the latter stay unchecked, and are not counted: counting them as
//! 0 bytes would flatter the figure). A merged-away access counts as an
//! access with 0 bytes. Per program, bytes per access = (jited length at
//! mode 1 minus jited length at mode 0) / accesses, so the shared slow-path
//! stubs and any
//! longer branch encodings are charged to the accesses too. The figures:
//! the median of that over the programs with accesses (the definition of
//! `make bench`'s bytes_per_access_inline_median, so the two compare), the
//! mean over all accesses, and checks per access (sum of checks / sum of
//! accesses).

use crate::Dump;

/// The corpus-wide figures; `None` where there is no program with
/// accesses to take them over.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    pub programs_loaded_both: usize,
    pub programs_load_differs: usize,
    pub programs_with_accesses: usize,
    /// Programs without accesses whose image still changed at mode 1.
    pub programs_grown_without_checks: usize,
    pub accesses: u64,
    pub checks: u64,
    pub merged: u64,
    pub bytes_added: u64,
    pub bytes_per_access_median: Option<f64>,
    pub bytes_per_access_mean: Option<f64>,
    pub checks_per_access: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The figures of dumps `a` (mode 0) and `b` (mode 1), or why they cannot
/// be taken: a loaded program without its counters, a dump of another
/// mode, checks at mode 0, or an image that shrank at mode 1.
pub fn access_bytes(a: &Dump, b: &Dump) -> Result<Figures, String> {
    for (d, name, mode) in [(a, "A", 0), (b, "B", 1)] {
        for ((o, p), x) in d.progs.iter().filter(|(_, x)| x.ok) {
            match x.kasan {
                None => {
                    return Err(format!(
                        "{name}: {o}/{p} has no K record: a kernel without the series, or an older jitdump"
                    ))
                }
                Some((m, ..)) if m != mode => {
                    return Err(format!("{name}: {o}/{p} was loaded at mode {m}, not {mode}"))
                }
                Some((0, c, m)) if c + m != 0 => {
                    return Err(format!("{name}: {o}/{p} has {c} checks, {m} merged at mode 0"))
                }
                _ => {}
            }
        }
    }
    let mut f = Figures::default();
    let mut per_prog = Vec::new();
    for (k, x) in &a.progs {
        let Some(y) = b.progs.get(k) else {
            continue;
        };
        if x.ok != y.ok {
            f.programs_load_differs += 1;
        }
        if !(x.ok && y.ok) {
            continue;
        }
        f.programs_loaded_both += 1;
        let (_, checks, merged) = y.kasan.expect("checked above");
        let accesses = checks + merged;
        let (l0, l1) = (x.image.len() as u64, y.image.len() as u64);
        if l1 < l0 {
            return Err(format!(
                "{}/{}: {l0} bytes at mode 0, {l1} at mode 1",
                k.0, k.1
            ));
        }
        if accesses == 0 {
            if l1 != l0 {
                f.programs_grown_without_checks += 1;
            }
            continue;
        }
        f.programs_with_accesses += 1;
        f.accesses += accesses;
        f.checks += checks;
        f.merged += merged;
        f.bytes_added += l1 - l0;
        per_prog.push((l1 - l0) as f64 / accesses as f64);
    }
    // Programs one dump has and the other has not: loaded differently.
    f.programs_load_differs += a.progs.keys().filter(|k| !b.progs.contains_key(*k)).count()
        + b.progs.keys().filter(|k| !a.progs.contains_key(*k)).count();
    f.bytes_per_access_median = median(per_prog);
    if f.accesses > 0 {
        f.bytes_per_access_mean = Some(f.bytes_added as f64 / f.accesses as f64);
        f.checks_per_access = Some(f.checks as f64 / f.accesses as f64);
    }
    Ok(f)
}

fn opt(x: Option<f64>) -> String {
    x.map_or("null".into(), |v| format!("{v:.3}"))
}

/// The figures as one JSON object (`make corpus-bytes` reads it).
pub fn to_json(f: &Figures, a: &str, b: &str) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    format!(
        "{{\n  \"a\": {},\n  \"b\": {},\n  \"programs_loaded_both\": {},\n  \"programs_load_differs\": {},\n  \"programs_with_accesses\": {},\n  \"programs_grown_without_checks\": {},\n  \"accesses\": {},\n  \"checks\": {},\n  \"merged\": {},\n  \"bytes_added\": {},\n  \"bytes_per_access_corpus_median\": {},\n  \"bytes_per_access_corpus_mean\": {},\n  \"checks_per_access_corpus\": {}\n}}\n",
        q(a),
        q(b),
        f.programs_loaded_both,
        f.programs_load_differs,
        f.programs_with_accesses,
        f.programs_grown_without_checks,
        f.accesses,
        f.checks,
        f.merged,
        f.bytes_added,
        opt(f.bytes_per_access_median),
        opt(f.bytes_per_access_mean),
        opt(f.checks_per_access)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_text;

    /// A dump line for a loaded one-function program of `len` bytes (all
    /// `nop`s), with its K record.
    fn ok(prog: &str, len: usize, k: Option<(u32, u64, u64)>) -> String {
        let mut s = format!(
            "P o.bpf.o {prog} 26 ok 1 64 1 {len} ffffffffc0000000 {}\n",
            "90".repeat(len)
        );
        if let Some((m, c, g)) = k {
            s += &format!("K o.bpf.o {prog} {m} {c} {g}\n");
        }
        s
    }

    fn dump(text: &str) -> Dump {
        parse_text(&format!("O o.bpf.o 4\n{text}"), "t").unwrap()
    }

    #[test]
    fn merged_accesses_count_with_zero_bytes() {
        let a = dump(
            &(ok("p", 100, Some((0, 0, 0)))
                + &ok("q", 50, Some((0, 0, 0)))
                + &ok("r", 40, Some((0, 0, 0)))),
        );
        // p: 2 checks + 2 merged, 48 bytes more: 12 per access.
        // q: 1 check, 20 more: 20. r: only stack accesses, unchanged.
        let b = dump(
            &(ok("p", 148, Some((1, 2, 2)))
                + &ok("q", 70, Some((1, 1, 0)))
                + &ok("r", 40, Some((1, 0, 0)))),
        );
        let f = access_bytes(&a, &b).unwrap();
        assert_eq!(f.programs_loaded_both, 3);
        assert_eq!(f.programs_with_accesses, 2);
        assert_eq!(
            (f.accesses, f.checks, f.merged, f.bytes_added),
            (5, 3, 2, 68)
        );
        assert_eq!(f.bytes_per_access_median, Some(16.0));
        assert_eq!(f.bytes_per_access_mean, Some(68.0 / 5.0));
        assert_eq!(f.checks_per_access, Some(0.6));
        assert_eq!(f.programs_grown_without_checks, 0);
        assert_eq!(f.programs_load_differs, 0);
        let j = to_json(&f, "a", "b");
        assert!(
            j.contains("\"bytes_per_access_corpus_median\": 16.000,"),
            "{j}"
        );
        assert!(j.contains("\"checks_per_access_corpus\": 0.600\n"), "{j}");
    }

    #[test]
    fn load_differences_and_growth_without_checks_are_counted() {
        let a = dump(
            &(ok("p", 10, Some((0, 0, 0)))
                + "P o.bpf.o q 26 fail 1 -13\n"
                + &ok("r", 10, Some((0, 0, 0)))),
        );
        let b = dump(
            &(ok("p", 10, Some((1, 0, 0)))
                + &ok("q", 10, Some((1, 1, 0)))
                + &ok("r", 12, Some((1, 0, 0)))),
        );
        let f = access_bytes(&a, &b).unwrap();
        assert_eq!(f.programs_load_differs, 1);
        assert_eq!(f.programs_grown_without_checks, 1);
        assert_eq!(f.bytes_per_access_median, None);
        assert!(to_json(&f, "a", "b").contains("\"checks_per_access_corpus\": null"));
    }

    #[test]
    fn wrong_inputs_are_refused() {
        let m0 = dump(&ok("p", 10, Some((0, 0, 0))));
        let m1 = dump(&ok("p", 14, Some((1, 1, 0))));
        // Swapped modes, no K record (a kernel without the series),
        // checks at mode 0, an image that shrank.
        assert!(access_bytes(&m1, &m0)
            .unwrap_err()
            .contains("mode 1, not 0"));
        let none = dump(&ok("p", 10, None));
        assert!(access_bytes(&none, &m1)
            .unwrap_err()
            .contains("no K record"));
        let c0 = dump(&ok("p", 10, Some((0, 1, 0))));
        assert!(access_bytes(&c0, &m1).unwrap_err().contains("at mode 0"));
        let shrunk = dump(&ok("p", 8, Some((1, 1, 0))));
        assert!(access_bytes(&m0, &shrunk)
            .unwrap_err()
            .contains("10 bytes at mode 0, 8"));
    }

    /// One record per program: jitdump once wrote a fail record after
    /// the ok one of a program whose counters it could not read, and the
    /// second silently replaced the first.
    #[test]
    fn a_program_has_one_p_record() {
        let again = ok("p", 4, None) + "P o.bpf.o p 26 fail 1 -71\n";
        assert!(parse_text(&again, "t").is_err());
        let skip = "P o.bpf.o p -1 skip 0 0\n";
        assert!(parse_text(&format!("{skip}{skip}"), "t").is_err());
        assert!(parse_text(&(ok("p", 4, None) + &ok("q", 4, None)), "t").is_ok());
    }

    #[test]
    fn k_records_must_follow_a_loaded_program() {
        assert!(parse_text("K o.bpf.o p 1 1 0\n", "t").is_err());
        assert!(parse_text("P o.bpf.o p 26 fail 1 -13\nK o.bpf.o p 1 1 0\n", "t").is_err());
        let twice = ok("p", 4, Some((1, 1, 0))) + "K o.bpf.o p 1 1 0\n";
        assert!(parse_text(&twice, "t").is_err());
        assert!(parse_text(
            &ok("p", 4, None).replace('\n', "\nK o.bpf.o p 1 x 0\n"),
            "t"
        )
        .is_err());
    }
}
