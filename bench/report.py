#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""kasan-ebpf benchmark report.

Reads the KASAN_EBPF_BENCH lines that bench/kasan_ebpf_bench.c printed on the
guest's console, writes results.json, prints a table and the targets, and
draws bench.svg and bench.png (matplotlib, Debian's python3-matplotlib).

Definitions (also written into results.json under "definitions"):
- bytes per check of a program in mode m = (jited_len in m - jited_len in 0)
  / kasan_checks in m; the summary is the median over programs with checks.
- runtime ratio of mode m = geometric mean, over the eight ld/st loop
  programs, of ns_per_run in m / ns_per_run in 0.
- overhead cut vs outline = (outline - none) / (inline - none) on the same
  loop programs, from those geometric means: (ratio_outline - 1) /
  (ratio_inline - 1).
- load time ratio = median bpf_prog_load wall time of the large program in
  mode 1 / the same in mode 0.

The guest runs under TCG: absolute times are emulated; compare ratios.
"""
import argparse
import datetime
import json
import math
import os
import re
import statistics
import sys

PREFIX = "KASAN_EBPF_BENCH"
MODES = {0: "none", 1: "inline", 2: "outline"}
TARGETS = {
    "bytes_per_access_inline_median": ("<=", 12.0,
                                       "inline bytes per access (median; merged: 0)"),
    "bytes_per_access_corpus_median": ("<=", 12.0,
                                       "inline bytes per access, selftests corpus"),
    "runtime_ratio_inline": ("<=", 1.25, "inline run time / none (loops, geomean)"),
    "overhead_cut_vs_outline": (">=", 3.0, "overhead cut vs outline (loops)"),
    "load_time_ratio_inline": ("<=", 1.3, "inline load time / none (large)"),
    "slow_path_entries_valid": ("<=", 0, "slow-path entries of valid accesses (inline)"),
    "native_runtime_ratio_inline": ("<=", 1.25, "NATIVE inline run time / none (loops)"),
    "native_overhead_cut_vs_upstream": (">=", 3.0, "NATIVE overhead cut vs upstream (loops)"),
    "native_runtime_ratio_inline_mixed": ("<=", 1.05, "NATIVE inline / none (mixed)"),
}


def parse_log(path):
    meta, rows, bad = None, [], 0
    line_re = re.compile(re.escape(PREFIX) + r" (\{.*\})")
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            m = line_re.search(line)
            if not m:
                continue
            try:
                rec = json.loads(m.group(1))
            except json.JSONDecodeError:
                bad += 1
                continue
            if rec.get("type") == "meta":
                meta = rec
            elif rec.get("type") == "prog":
                rows.append(rec)
    if bad:
        print(f"report: {bad} garbled result line(s) skipped (console interleaving?)",
              file=sys.stderr)
    return meta, rows


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def summarize(progs):
    by = {}
    for p in progs:
        by.setdefault(p["name"], {})[p["mode"]] = p
    complete = {n: v for n, v in by.items() if all(m in v for m in MODES)}

    def bpc(v, m):
        c = v[m]["kasan_checks"]
        if c is None or c <= 0:
            return None
        return (v[m]["jited_len"] - v[0]["jited_len"]) / c

    def bpa(v):
        # Per checked access: mode 2 never merges, so its checks are the
        # accesses; a member of a merged group counts with 0 bytes.
        a = v[2]["kasan_checks"]
        if a is None or a <= 0:
            return None
        return (v[1]["jited_len"] - v[0]["jited_len"]) / a

    def cpa(v):
        a = v[2]["kasan_checks"]
        if a is None or a <= 0 or v[1]["kasan_checks"] is None:
            return None
        return v[1]["kasan_checks"] / a

    per = {}
    for n, v in complete.items():
        ns0 = v[0]["ns_per_run"]
        per[n] = {
            "kind": v[0]["kind"],
            "checks": v[1]["kasan_checks"],
            "accesses": v[2]["kasan_checks"],
            "bytes_per_check_inline": bpc(v, 1),
            "bytes_per_check_outline": bpc(v, 2),
            "bytes_per_access_inline": bpa(v),
            "checks_per_access_inline": cpa(v),
            "runtime_ratio_inline": v[1]["ns_per_run"] / ns0 if ns0 > 0 else None,
            "runtime_ratio_outline": v[2]["ns_per_run"] / ns0 if ns0 > 0 else None,
        }
        ov1 = v[1]["ns_per_run"] - ns0
        ov2 = v[2]["ns_per_run"] - ns0
        per[n]["overhead_cut_vs_outline"] = ov2 / ov1 if ov1 > 0 else None

    def med(key):
        xs = [p[key] for p in per.values() if p[key] is not None]
        return statistics.median(xs) if xs else None

    loops = [n for n, p in per.items() if p["kind"] == "loop"]
    r1 = geomean([per[n]["runtime_ratio_inline"] for n in loops])
    r2 = geomean([per[n]["runtime_ratio_outline"] for n in loops])
    cut = None
    if r1 is not None and r2 is not None and r1 > 1:
        cut = (r2 - 1) / (r1 - 1)

    s = {
        "bytes_per_check_inline_median": med("bytes_per_check_inline"),
        "bytes_per_check_outline_median": med("bytes_per_check_outline"),
        "bytes_per_access_inline_median": med("bytes_per_access_inline"),
        "checks_per_access_inline": (
            sum(p["checks"] for p in per.values() if p["checks_per_access_inline"] is not None)
            / sum(p["accesses"] for p in per.values() if p["checks_per_access_inline"] is not None)
            if any(p["checks_per_access_inline"] is not None for p in per.values()) else None),
        "runtime_ratio_inline": r1,
        "runtime_ratio_outline": r2,
        "overhead_cut_vs_outline": cut,
        "load_time_ratio_inline": None,
        "load_time_ratio_outline": None,
        "runtime_ratio_method": "geometric mean over the ld/st loop programs: "
        + (", ".join(sorted(loops)) or "none measured"),
        "runtime_ratio_inline_median_loops": statistics.median(
            [per[n]["runtime_ratio_inline"] for n in loops]) if loops else None,
        "runtime_ratio_outline_median_loops": statistics.median(
            [per[n]["runtime_ratio_outline"] for n in loops]) if loops else None,
        "programs_with_checks": sorted(n for n, p in per.items()
                                       if p["bytes_per_check_inline"] is not None),
    }
    if r1 is not None and r1 <= 1 and r2 is not None:
        s["overhead_cut_note"] = ("inline showed no measurable overhead over none "
                                  "on the loops: the cut is unbounded")
    if "large" in complete:
        v = complete["large"]
        if v[0].get("load_ns"):
            s["load_time_ratio_inline"] = v[1]["load_ns"] / v[0]["load_ns"]
            s["load_time_ratio_outline"] = v[2]["load_ns"] / v[0]["load_ns"]
        # Where the load time goes: the verifier (BPF_LOG_STATS of separate
        # loads; it does not depend on the mode, so the median of all of
        # them) and everything else, mostly the JIT.
        vns = [x for m in MODES for x in (v[m].get("verify_ns_rounds") or [])]
        if vns and v[0].get("load_ns"):
            vmed = statistics.median(vns)
            rest = [v[m]["load_ns"] - vmed for m in MODES]
            s["large_load_ms"] = [round(v[m]["load_ns"] / 1e6, 1) for m in MODES]
            s["large_verify_ms_median"] = round(vmed / 1e6, 1)
            s["large_load_minus_verifier_ms"] = [round(x / 1e6, 1) for x in rest]
            if rest[0] > 0:
                s["load_time_minus_verifier_ratio_inline"] = rest[1] / rest[0]
                s["load_time_minus_verifier_ratio_outline"] = rest[2] / rest[0]
        # Marginal bytes per check: thousands of checks amortize the fixed
        # cost (the thunk at the end of the image, r12 in the prologue).
        b = per["large"]["bytes_per_check_inline"]
        if b is not None:
            s["bytes_per_check_inline_large"] = b
            fixed = [complete[n][1]["jited_len"] - complete[n][0]["jited_len"]
                     - p["checks"] * b for n, p in per.items()
                     if n != "large" and p["checks"]]
            if fixed:
                s["inline_fixed_bytes_estimate"] = statistics.median(fixed)
    # Every access of the bench is valid: in mode 1 none should leave the
    # fast path (issue 14's target 0). The counter is the program's total
    # since load, over every run of every round.
    slow = {n: v[1].get("kasan_slow_path") for n, v in complete.items()
            if v[1].get("kasan_checks")}
    if slow and all(x is not None and x >= 0 for x in slow.values()):
        s["slow_path_entries_valid"] = sum(slow.values())
        s["slow_path_entries_valid_by_program"] = {
            n: x for n, x in sorted(slow.items()) if x}
    if "mixed" in per:
        s["runtime_ratio_inline_mixed"] = per["mixed"]["runtime_ratio_inline"]
        s["runtime_ratio_outline_mixed"] = per["mixed"]["runtime_ratio_outline"]
    if "alu_only" in complete:
        v = complete["alu_only"]
        s["alu_only_zero_cost"] = {
            "kasan_checks": [v[m]["kasan_checks"] for m in MODES],
            "jited_len": [v[m]["jited_len"] for m in MODES],
            "same_image_size": len({v[m]["jited_len"] for m in MODES}) == 1,
            "runtime_ratio_inline": per["alu_only"]["runtime_ratio_inline"],
            "runtime_ratio_outline": per["alu_only"]["runtime_ratio_outline"],
        }
    return s, per, complete


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def verdict(key, value, cut_note=False):
    op, target, _ = TARGETS[key]
    if value is None:
        if key == "overhead_cut_vs_outline" and cut_note:
            return "met (no measurable inline overhead)"
        return "not measured"
    ok = value <= target if op == "<=" else value >= target
    return "met" if ok else "NOT MET"


def print_report(res, per, complete):
    s = res["summary"]
    print()
    print(f"kasan-ebpf benchmark, kernel {res['kernel']}, accel {res['accel']}, {res['date']}")
    print("modes: 0 none, 1 inline (fast path + out-of-line slow path), 2 outline "
          "(the upstream series' sequence: __asan_{load,store}N per access)")
    n = res.get("native")
    if n:
        print(f"NATIVE (the guest's JIT images run on this CPU: {n['cpu']}), TSC cycles per "
              f"run, median of {n['rounds']} rounds:")
        for name, p in sorted(n["programs"].items()):
            if "refused" in p:
                print(f"  {name:<12} not run: {p['refused']}")
            else:
                c = p["cycles_per_run"]
                print(f"  {name:<12} none {c[0]:>10.1f}  inline {c[1]:>10.1f} "
                      f"({p['ratio_inline']:.3f})  upstream {c[2]:>10.1f} "
                      f"({p['ratio_upstream']:.3f})")
    else:
        print("NATIVE: no native.json (host/src/bin/native_bench.rs did not run)")
    c = res.get("corpus_bytes")
    if c:
        print(f"CORPUS (make corpus-bytes, {c['date']}, {c['sample']}; {c['guest']}): "
              f"{c['programs_with_accesses']} of {c['programs_loaded_both']} programs with "
              f"accesses; {c['accesses']} accesses, {c['checks']} checks, {c['merged']} "
              f"merged; bytes per access median {fmt(c['bytes_per_access_corpus_median'], '.1f')}, "
              f"mean {fmt(c['bytes_per_access_corpus_mean'], '.1f')}; checks per access "
              f"{fmt(c['checks_per_access_corpus'])}")
    else:
        print("CORPUS: no corpus-bytes.json (make corpus-bytes did not run)")
    print("All times are guest times under TCG (emulated): compare the ratios, "
          "not the absolute times.")
    if res["clocksource"] != "tsc":
        print(f"WARNING: the guest's clocksource was {res['clocksource']}, not tsc (TSC "
              "calibration fails under TCG on a loaded host): times have jiffy "
              "resolution (1 ms); every measured call lasts ~target_ms to keep the "
              "error small.")
    print()
    hdr = (f"{'program':<10} {'kind':<6} {'mode':<8} {'jited B':>8} {'checks':>6} "
           f"{'B/check':>8} {'ns/run (TCG)':>13} {'x none':>7} {'load ms (TCG)':>14} "
           f"{'verify ms (TCG)':>15}")
    print(hdr)
    print("-" * len(hdr))
    for name, v in complete.items():
        for m in MODES:
            r = v[m]
            b = per[name][f"bytes_per_check_{MODES[m]}"] if m else None
            ratio = r["ns_per_run"] / v[0]["ns_per_run"] if v[0]["ns_per_run"] > 0 else None
            load = r["load_ns"] / 1e6 if r.get("load_ns") else None
            vfy = r["verify_ns"] / 1e6 if r.get("verify_ns") else None
            print(f"{name if m == 0 else '':<10} {r['kind'] if m == 0 else '':<6} "
                  f"{MODES[m]:<8} {r['jited_len']:>8} {r['kasan_checks']:>6} "
                  f"{fmt(b, '.1f'):>8} {fmt(r['ns_per_run'], '.0f'):>13} "
                  f"{fmt(ratio):>7} {fmt(load, '.1f'):>14} {fmt(vfy, '.1f'):>15}")
    print()
    print("Summary (runtime ratios: " + s["runtime_ratio_method"] + ")")
    rows = [
        ("bytes per check, inline (median)", s["bytes_per_check_inline_median"], ".1f", ""),
        ("bytes per check, outline (median)", s["bytes_per_check_outline_median"], ".1f", ""),
        ("bytes per access, inline (median; merged: 0)", s.get("bytes_per_access_inline_median"), ".1f", ""),
        ("checks per access, inline (merged groups)", s.get("checks_per_access_inline"), ".3f", ""),
        ("run time ratio inline / none (TCG)", s["runtime_ratio_inline"], ".3f", ""),
        ("run time ratio outline / none (TCG)", s["runtime_ratio_outline"], ".3f", ""),
        ("overhead cut vs outline (TCG)", s["overhead_cut_vs_outline"], ".2f", "x"),
        ("load time ratio inline / none (TCG)", s["load_time_ratio_inline"], ".3f", ""),
        ("load time ratio outline / none (TCG)", s["load_time_ratio_outline"], ".3f", ""),
        ("  same without the verifier, inline", s.get("load_time_minus_verifier_ratio_inline"), ".3f", ""),
        ("  same without the verifier, outline", s.get("load_time_minus_verifier_ratio_outline"), ".3f", ""),
        ("bytes per check, inline, large program", s.get("bytes_per_check_inline_large"), ".1f", ""),
        ("inline fixed cost per image (estimate)", s.get("inline_fixed_bytes_estimate"), ".0f", " B"),
        ("mixed program: inline / none (TCG)", s.get("runtime_ratio_inline_mixed"), ".3f", ""),
        ("mixed program: outline / none (TCG)", s.get("runtime_ratio_outline_mixed"), ".3f", ""),
    ]
    for label, val, spec, unit in rows:
        print(f"  {label:<40} {fmt(val, spec)}{unit if val is not None else ''}")
    z = s.get("alu_only_zero_cost")
    if z:
        print(f"  {'alu_only: checks per mode':<40} {z['kasan_checks']}")
        print(f"  {'alu_only: jited bytes per mode':<40} {z['jited_len']} "
              f"({'identical' if z['same_image_size'] else 'DIFFERENT'})")
        print(f"  {'alu_only: inline / none (TCG)':<40} {fmt(z['runtime_ratio_inline'])}")
    print()
    print("Targets (inline mode; reported, not enforced):")
    for key, (op, target, label) in TARGETS.items():
        v = s.get(key)
        print(f"  {label:<42} {fmt(v, '.3f'):>8} {op} {target:<5} "
              f"{verdict(key, v, 'overhead_cut_note' in s)}")
    if z:
        ok = z["same_image_size"] and all(c == 0 for c in z["kasan_checks"])
        print(f"  {'ALU-only program: no checks, same image':<42} {'':>8} {'':<8} "
              f"{'met' if ok else 'NOT MET'}")


def chart(res, per, complete, outdir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(complete)
    colors = {0: "#7f7f7f", 1: "#1f77b4", 2: "#d62728"}
    native = res.get("native")
    nat = {n: p for n, p in (native or {}).get("programs", {}).items()
           if "cycles_per_run" in p}
    fig, axes = plt.subplots(4 if nat else 3, 1, figsize=(11, 14.5 if nat else 11))
    w = 0.27
    xs = range(len(names))

    ax = axes[0]
    for m in MODES:
        ax.bar([x + (m - 1) * w for x in xs],
               [complete[n][m]["ns_per_run"] / 1e3 for n in names], w,
               label=f"{m}: {MODES[m]}", color=colors[m])
    ax.set_yscale("log")
    ax.set_ylabel("µs per run (TCG, log)")
    ax.set_title("Time per run by mode (guest under TCG: compare ratios, not absolute times)")
    ax.set_xticks(list(xs), names)
    ax.legend(loc="upper left", ncol=3, fontsize=9)

    ax = axes[1]
    for m in (1, 2):
        vals = [per[n][f"runtime_ratio_{MODES[m]}"] or 0 for n in names]
        bars = ax.bar([x + (m - 1.5) * w for x in xs], vals, w,
                      label=f"{m}: {MODES[m]}", color=colors[m])
        ax.bar_label(bars, labels=[f"{v:.2f}" if v < 10 else f"{v:.0f}" for v in vals],
                     fontsize=7, padding=1)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(TARGETS["runtime_ratio_inline"][1], color=colors[1], ls="--", lw=1,
               label="inline target 1.25")
    ax.set_ylabel("run time / mode 0 (TCG, log)")
    ax.set_title("Run time relative to no checks")
    ax.set_xticks(list(xs), names)
    ax.legend(loc="upper left", ncol=3, fontsize=9)

    ax = axes[2]
    wn = [n for n in names if per[n]["bytes_per_access_inline"] is not None]
    xw = range(len(wn))
    # Per access: mode 2 checks every access (no merging), so its checks
    # count the accesses; inline's merged accesses add 0 bytes.
    keys = {1: "bytes_per_access_inline", 2: "bytes_per_check_outline"}
    for m in (1, 2):
        ax.bar([x + (m - 1.5) * w for x in xw],
               [per[n][keys[m]] for n in wn], w,
               label=f"{m}: {MODES[m]}", color=colors[m])
    target = TARGETS["bytes_per_access_inline_median"][1]
    ax.axhline(target, color=colors[1], ls="--", lw=1,
               label=f"inline target {target:g} B")
    ax.set_ylabel("JIT bytes per checked access")
    ax.set_title("Code size per access: (jited_len(m) - jited_len(0)) / accesses "
                 "(merged ones add 0 B)")
    ax.set_xticks(list(xw), wn)
    ax.set_ylim(0, max(per[n]["bytes_per_check_outline"] or 0 for n in wn) * 1.3)
    ax.legend(loc="upper left", ncol=3, fontsize=9)

    if nat:
        ax = axes[3]
        nn = sorted(nat)
        xn = range(len(nn))
        for m, key in ((1, "ratio_inline"), (2, "ratio_upstream")):
            vals = [nat[n][key] for n in nn]
            bars = ax.bar([x + (m - 1.5) * w for x in xn], vals, w,
                          label=f"{m}: {'inline' if m == 1 else 'upstream sequence'}",
                          color=colors[m])
            ax.bar_label(bars, labels=[f"{v:.2f}" if v < 10 else f"{v:.0f}" for v in vals],
                         fontsize=7, padding=1)
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_ylim(0.8, max(nat[n]["ratio_upstream"] for n in nn) * 2.5)
        ax.set_ylabel("run time / mode 0 (native, log)")
        ax.set_title(f"NATIVE: the same JIT images on the host CPU ({native['cpu']}), "
                     "TSC cycles")
        ax.set_xticks(list(xn), nn)
        ax.legend(loc="upper left", ncol=3, fontsize=9)

    fig.suptitle(f"kasan-ebpf: KASAN checks in JIT-compiled BPF, kernel "
                 f"{res['kernel'].split()[0]}, TCG" + (" and native" if nat else ""),
                 fontsize=12)
    fig.tight_layout()
    for ext in ("svg", "png"):
        fig.savefig(os.path.join(outdir, f"bench.{ext}"), dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True, help="guest console log")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--accel", default="tcg")
    a = ap.parse_args()

    meta, rows = parse_log(a.log)
    if not rows:
        sys.exit(f"report: no {PREFIX} result lines in {a.log}")
    os.makedirs(a.out, exist_ok=True)
    progs = [{
        "name": r["name"], "mode": r["mode"], "kind": r["kind"],
        "jited_len": r["jited_len"], "kasan_checks": r["kasan_checks"],
        "ns_per_run": r["ns_per_run"], "load_ns": r.get("load_ns"),
        "insns": r.get("insns"), "repeat": r.get("repeat"),
        "ns_rounds": r.get("ns_rounds"), "load_ns_rounds": r.get("load_ns_rounds"),
        "verify_ns": r.get("verify_ns"), "verify_ns_rounds": r.get("verify_ns_rounds"),
        "kasan_slow_path": r.get("kasan_slow_path"),
    } for r in rows]
    summary, per, complete = summarize(progs)
    # The same images natively on the host CPU (host/src/bin/native_bench.rs,
    # run by scripts/bench.sh before this): the headline figures.
    native = None
    npath = os.path.join(a.out, "native.json")
    if os.path.exists(npath):
        with open(npath) as f:
            native = json.load(f)
        summary.update(native["summary"])
    # Bytes and checks per access over the selftests' programs, from the
    # last `make corpus-bytes` (scripts/jit-identity.sh bytes): its own
    # kernel, date and sample travel with it.
    corpus = None
    cpath = os.path.join(a.out, "corpus-bytes.json")
    if os.path.exists(cpath):
        with open(cpath) as f:
            corpus = json.load(f)
        for k in ("bytes_per_access_corpus_median", "checks_per_access_corpus"):
            summary[k] = corpus[k]
    res = {
        "kernel": meta["kernel"] if meta else "unknown",
        "accel": a.accel,
        "clocksource": meta.get("clocksource", "unknown") if meta else "unknown",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "log": os.path.basename(a.log),
        "params": {k: meta[k] for k in ("rounds", "load_rounds", "target_ms", "large_insns")
                   if meta and k in meta},
        "definitions": {
            "bytes_per_check": "(jited_len(mode) - jited_len(0)) / kasan_checks(mode); "
                               "median over programs with checks",
            "bytes_per_access_inline": "(jited_len(1) - jited_len(0)) / kasan_checks(2): "
                                       "per checked access, since mode 2 never merges; "
                                       "members of merged groups count with 0 bytes; "
                                       "median over programs with checks",
            "bytes_per_access_corpus_median": "make corpus-bytes (corpus_bytes below): every "
                                              "selftests program loaded at modes 0 and 1; per "
                                              "program (jited_len(1) - jited_len(0)) / "
                                              "(kasan_checks + kasan_merged)(1), median over "
                                              "programs with accesses "
                                              "(scripts/jit-identity/jitcmp/src/access.rs)",
            "checks_per_access_corpus": "the same programs: sum of kasan_checks(1) / sum of "
                                        "(kasan_checks + kasan_merged)(1)",
            "checks_per_access_inline": "sum of kasan_checks(1) / sum of kasan_checks(2) "
                                        "over the programs with checks",
            "runtime_ratio": "geometric mean over the ld/st loop programs of "
                             "ns_per_run(mode) / ns_per_run(0); ns_per_run is the "
                             "median over rounds of BPF_PROG_TEST_RUN duration",
            "overhead_cut_vs_outline": "(runtime_ratio_outline - 1) / "
                                       "(runtime_ratio_inline - 1), i.e. "
                                       "(outline - none) / (inline - none) on the loops",
            "load_time_ratio": "median wall time of bpf_prog_load of the large "
                               "program, mode / mode 0",
            "times": "guest time under TCG (emulated); compare ratios only",
        },
        "programs": progs,
        "native": native,
        "corpus_bytes": corpus,
        "summary": summary,
        "targets": {k: {"op": op, "target": t, "value": summary.get(k),
                        "verdict": verdict(k, summary.get(k), "overhead_cut_note" in summary)}
                    for k, (op, t, _) in TARGETS.items()},
    }
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print_report(res, per, complete)
    try:
        chart(res, per, complete, a.out)
        print(f"\nwrote {a.out}/results.json, {a.out}/bench.svg, {a.out}/bench.png")
    except ImportError as e:
        print(f"\nwrote {a.out}/results.json; no chart: {e} (apt install python3-matplotlib)",
              file=sys.stderr)


if __name__ == "__main__":
    main()
