#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read the console log of a `make corpus` boot and write the results.

The log holds (see scripts/guest/jobs/corpus.sh):
  - kernel messages "[ sec.usec] ...", and the same from dmesg prefixed
    "CORPUS_KMSG " for the windows when the console was kept quiet;
  - the markers "kasan_ebpf_corpus: mode=<m> begin|end" among them;
  - CORPUS_PROBE / CORPUS_RUN / CORPUS_MODE_DONE lines;
  - each binary's output, gzip+base64 (CORPUS_B64 <n> ...) closed by
    "CORPUS_FILE <n> mode=<m> name=<binary> md5=<md5 of the gzip> bytes=<n>";
  - "CORPUS_RERUN rounds=<r> tests=<t1>,<t2>,... not_rerun=<n>" and the
    reruns' outputs, named "rerun<round>.<test>": each test_progs test whose
    results differed between modes, run again alone in every mode.

A difference between modes stands unless the reruns dismiss it: the test
was rerun, and in every round and every mode the result in question came
out the same. A result that depends on the mode comes back in every round;
one that depends on timing (a test that waits a fixed budget for
asynchronous kernel work) does not. A rerun result that differs, or is
missing, keeps the difference standing; test_verifier is not rerun. A
dismissed difference is a flaky test, and is reported as such everywhere
(summary.json "flaky", with its reruns; table.txt): if it passed in every
rerun, its main-run failures are flakes (at mode 0 too: "flaky", not
undocumented); if it failed in every rerun, it is a failure at mode 0 like
any other.

Failures at mode 0 are the leaf results, a test's own result where none
of its subtests failed ("test_progs/<test> (the test itself)"), and the
flaky tests that failed in every rerun; each must be on the known-failures
list, unless it is a flake.

Writes into --out:
  mode-<m>/<binary>.log   each binary's full output
  reports/                every KASAN report, one file each, and
                          kasan-bpf.txt / kasan-other.txt / splats.txt
  results.json            every test's status per mode
  summary.json            the counts per mode, the differences (standing),
                          the flaky tests, the lists, why it failed
  table.txt               the table that is also printed

Exit status: 0 iff every mode finished, no difference between modes
stands, every stable failure at mode 0 is on the known-failures list, and
the kernel printed no KASAN report, no other splat (oops, warning, panic,
stall: scripts/corpus/kernlog.py) and no kasan_ebpf: line outside a report,
in any mode, at boot or in the reruns.
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import re
import sys

import kernlog

MARK = re.compile(r'kasan_ebpf_corpus: mode=(\d) (begin|end)')
TV_LINE = re.compile(r'^#(\d+)/([up]) (.*)$')
TP_LINE = re.compile(r'^#(\d+)(?:/(\d+))?\s+(\S.*?):(OK|SKIP|FAIL)(?: \(SKIP: \d+/\d+\))?$')
KV = re.compile(r'(\w+)=(\S*)')


def kv(line):
    return dict(KV.findall(line))


def kernel_stream(lines):
    """The kernel's lines in console order (kernlog.kernel_lines: the
    CORPUS_KMSG copies of lines already on the console are read once), each
    with its mode (None outside the markers); the markers dropped."""
    out = []
    mode = None
    for k in kernlog.kernel_lines(lines):
        m = MARK.search(k.msg)
        if m:
            mode = int(m.group(1)) if m.group(2) == 'begin' else None
            continue
        out.append((mode, k))
    return out


# A BPF program without a kallsyms entry (loaded without CAP_BPF, or a
# classic BPF filter) has no bpf_prog_ symbol: KASAN names its code by the
# bare address, in the module/BPF area.
UNNAMED_JIT = re.compile(r'\b(in|at) 0xffffffff(a|b|c|d|e)[0-9a-f]{7}\b')


def is_bpf(header, text):
    """A report is the BPF program's if it names one, carries our
    kasan_ebpf: line, or happened at an address without a symbol where
    JIT-compiled code lives."""
    return (any('bpf_prog_' in s or 'kasan_ebpf: ' in s for s in text) or
            bool(UNNAMED_JIT.search(header)))


def find_splats(stream):
    """The KASAN reports (from the ==== line before "BUG: KASAN" to the
    closing ==== line, with the kasan_ebpf: lines in or right after it) and
    the other splats (kernlog.blocks: oopses, warnings, panics, stalls; the
    first 60 lines of each), each with the mode it happened in."""
    msgs = [k.msg for _, k in stream]
    reports, others = [], []
    for b in kernlog.blocks(msgs):
        mode = stream[b.header][0]
        text = [k.text for _, k in stream[b.first:b.last + 1]]
        header = msgs[b.header].strip()
        if b.is_report(msgs):
            reports.append({'mode': mode, 'header': header,
                            'bpf': is_bpf(header, text), 'text': '\n'.join(text)})
        elif b.kind != 'kasan':
            others.append({'mode': mode, 'kind': b.kind, 'header': header,
                           'bpf': any('bpf_prog_' in s for s in text[:60]),
                           'text': '\n'.join(text[:60])})
    return reports, others


def files(lines, outdir, errors):
    """Decode the CORPUS_B64 dumps; returns {(mode, name): text}."""
    chunks = {}
    res = {}
    for l in lines:
        if l.startswith('CORPUS_B64 '):
            parts = l.split(' ', 2)
            if len(parts) == 3:
                chunks.setdefault(parts[1], []).append(parts[2].strip())
        elif l.startswith('CORPUS_FILE '):
            seq = l.split()[1]
            a = kv(l)
            try:
                raw = base64.b64decode(''.join(chunks.get(seq, [])))
                if hashlib.md5(raw).hexdigest() != a['md5']:
                    raise ValueError('md5 mismatch')
                text = gzip.decompress(raw).decode('utf-8', errors='replace')
            except Exception as e:  # noqa: BLE001 - any damage is reported
                errors.append(f"output of {a.get('name')} at mode {a.get('mode')}: "
                              f"could not be decoded ({e})")
                continue
            mode = int(a['mode'])
            d = os.path.join(outdir, f'mode-{mode}')
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, a['name'] + '.log'), 'w') as f:
                f.write(text)
            res[(mode, a['name'])] = text
    return res


def parse_test_verifier(text):
    res = {}
    for l in text.split('\n'):
        m = TV_LINE.match(l)
        if not m:
            continue
        rest = m.group(3)
        if re.search(r' OK( \(NOTE: [^)]*\))?$', rest) or rest == 'OK':
            st = 'OK'
        elif re.search(r' SKIP( \([^)]*\))?$', rest):
            st = 'SKIP'
        else:
            st = 'FAIL'
        res[f'test_verifier/#{m.group(1)}/{m.group(2)}'] = st
    return res


def parse_test_progs(text):
    """Leaf results: subtests, and tests without subtests. The part after
    "All error logs:" repeats the failures and is skipped."""
    res = {}
    tops = {}
    subs = []
    with_subtests = set()
    for l in text.split('\n'):
        if l.startswith('All error logs:'):
            break
        m = TP_LINE.match(l)
        if not m:
            continue
        name, st = m.group(3), m.group(4)
        if m.group(2):
            subs.append((name, f'#{m.group(1)}/{m.group(2)}', st))
            with_subtests.add(name.split('/', 1)[0])
        else:
            tops[name] = st
    # A test may run two subtests of the same name (cpumask does): those
    # keys get the subtest's number.
    seen = {}
    for name, _, _ in subs:
        seen[name] = seen.get(name, 0) + 1
    for name, num, st in subs:
        res[f'test_progs/{name}' + (f' ({num})' if seen[name] > 1 else '')] = st
    for name, st in tops.items():
        if name not in with_subtests:
            res[f'test_progs/{name}'] = st
    return res, tops


def known_failures(path):
    """Lines "<test> :: <reason>": a test's key as in results.json (or a
    prefix of keys, ending in "*"), then why it fails at mode 0."""
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path) as f:
        for n, l in enumerate(f, 1):
            l = l.rstrip('\n')
            if not l.strip() or l.startswith('#'):
                continue
            pat, sep, reason = l.partition(' :: ')
            if not sep or not reason.strip():
                raise SystemExit(f'{path}:{n}: expected "<test> :: <reason>"')
            out.append((pat, reason.strip()))
    return out


def matches(pat, key):
    return key == pat or (pat.endswith('*') and key.startswith(pat[:-1]))


RERUN_NAME = re.compile(r'^rerun(\d+)\.(.+)$')
def rerun_verdict(test, result_of, modes, reruns, rounds):
    """The results the reruns of test_progs test `test` gave for one
    difference (result_of(leaf results, test-level results) picks it), and
    whether they dismiss it: every round, every mode, the same result."""
    if test not in reruns:
        return None, False
    seen = {}
    for mode in modes:
        seen[mode] = []
        for r in range(1, rounds + 1):
            run = reruns[test].get((r, mode))
            seen[mode].append(result_of(*run) if run else 'MISSING')
    flat = {st for sts in seen.values() for st in sts}
    return seen, len(flat) == 1 and 'MISSING' not in flat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--log', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--known')
    ap.add_argument('--modes', default='0 1 2')
    ap.add_argument('--wall-total', type=int)
    ap.add_argument('--wall-guest', type=int)
    ap.add_argument('--guest-rc', type=int)
    args = ap.parse_args()
    modes = [int(m) for m in args.modes.split()]
    os.makedirs(args.out, exist_ok=True)
    errors = []

    lines = kernlog.read_log(args.log)
    stream = kernel_stream(lines)
    out_files = files(lines, args.out, errors)

    # Probes, runs, mode times.
    probes = {m: [] for m in modes}
    runs = {m: {} for m in modes}
    msecs = {}
    uname = None
    done = False
    rerun_info = {'rounds': 0, 'tests': [], 'not_rerun': 0}
    for l in lines:
        a = kv(l)
        if l.startswith('CORPUS_PROBE '):
            m = int(a['mode'])
            if 'id' in a:
                probes.setdefault(m, []).append(
                    {'at': a['at'], 'id': int(a['id']),
                     'kasan_mode': int(a.get('kasan_mode', -1)),
                     'kasan_checks': int(a.get('kasan_checks', -1))})
            else:
                errors.append(f'probe failed at mode {m}: {l}')
        elif l.startswith('CORPUS_RUN '):
            runs.setdefault(int(a['mode']), {})[a['name']] = {
                'rc': int(a['rc']), 'secs': int(a['secs'])}
        elif l.startswith('CORPUS_MODE_DONE '):
            msecs[int(a['mode'])] = int(a['secs'])
        elif l.startswith('CORPUS_START '):
            uname = a.get('uname', '').replace('_', ' ')
        elif l.startswith('CORPUS_DONE'):
            done = True
        elif l.startswith('CORPUS_RERUN '):
            rerun_info = {'rounds': int(a['rounds']),
                          'tests': [t for t in a.get('tests', '').split(',') if t],
                          'not_rerun': int(a['not_rerun'])}

    # Results per mode; the reruns apart.
    results = {m: {} for m in modes}
    tp_tops = {m: {} for m in modes}
    reruns = {}
    for (m, name), text in sorted(out_files.items()):
        rr = RERUN_NAME.match(name)
        if rr:
            reruns.setdefault(rr.group(2), {})[(int(rr.group(1)), m)] = parse_test_progs(text)
        elif name == 'test_verifier':
            results.setdefault(m, {}).update(parse_test_verifier(text))
        elif name.startswith('test_progs'):
            r, tops = parse_test_progs(text)
            results.setdefault(m, {}).update(r)
            tp_tops.setdefault(m, {}).update(tops)

    reports, splats = find_splats(stream)
    rdir = os.path.join(args.out, 'reports')
    os.makedirs(rdir, exist_ok=True)
    for f in os.listdir(rdir):
        os.unlink(os.path.join(rdir, f))
    for i, r in enumerate(reports):
        kind = 'bpf' if r['bpf'] else 'other'
        r['file'] = f'reports/kasan-{i + 1:03d}-mode{r["mode"]}-{kind}.txt'
        with open(os.path.join(args.out, r['file']), 'w') as f:
            f.write(r['text'] + '\n')
    for kind, sel in (('bpf', True), ('other', False)):
        with open(os.path.join(rdir, f'kasan-{kind}.txt'), 'w') as f:
            for r in reports:
                if r['bpf'] == sel:
                    f.write(f'### mode {r["mode"]}: {r["header"]}\n{r["text"]}\n\n')
    with open(os.path.join(rdir, 'splats.txt'), 'w') as f:
        for s in splats:
            f.write(f'### mode {s["mode"]}: {s["header"]}\n{s["text"]}\n\n')
    kasan_ebpf_lines = [(m, k.text) for m, k in stream if 'kasan_ebpf: ' in k.msg]

    # Per mode counts.
    per_mode = {}
    for m in modes:
        r = results.get(m, {})
        p = probes.get(m, [])
        loaded = None
        per_bin = {}
        if len(p) >= 2:
            loaded = p[-1]['id'] - p[0]['id'] - (len(p) - 1)
            for prev, cur in zip(p, p[1:]):
                per_bin[cur['at'].replace('after_', '', 1)] = cur['id'] - prev['id'] - 1
        cnt = lambda st, pre='': sum(1 for k, v in r.items() if v == st and k.startswith(pre))
        per_mode[m] = {
            'finished': m in msecs,
            'secs': msecs.get(m),
            'programs_loaded': loaded,
            'programs_loaded_by': per_bin,
            'probe_kasan_mode': sorted({x['kasan_mode'] for x in p}),
            'probe_kasan_checks': sorted({x['kasan_checks'] for x in p}),
            'tests': len(r),
            'passed': cnt('OK'),
            'failed': cnt('FAIL'),
            'skipped': cnt('SKIP'),
            'test_verifier': {s: cnt(s, 'test_verifier/') for s in ('OK', 'FAIL', 'SKIP')},
            'test_progs': {s: cnt(s, 'test_progs/') for s in ('OK', 'FAIL', 'SKIP')},
            'test_progs_top_level': {
                s: sum(1 for v in tp_tops.get(m, {}).values() if v == s)
                for s in ('OK', 'FAIL', 'SKIP')},
            'runs': runs.get(m, {}),
            'kasan_reports_bpf': sum(1 for x in reports if x['mode'] == m and x['bpf']),
            'kasan_reports_other': sum(1 for x in reports if x['mode'] == m and not x['bpf']),
            'other_splats': sum(1 for x in splats if x['mode'] == m),
            'kasan_ebpf_lines': sum(1 for mm, _ in kasan_ebpf_lines if mm == m),
        }
        if p and any(x['kasan_mode'] != m for x in p):
            errors.append(f'mode {m}: the probe program got kasan_mode '
                          f'{per_mode[m]["probe_kasan_mode"]}')
        if not per_mode[m]['finished']:
            errors.append(f'mode {m} did not finish')

    # Differences between modes, each with its test_progs test (None for
    # test_verifier) and how to read its result from a rerun's output.
    keys = sorted(set().union(*[set(results.get(m, {})) for m in modes]))
    diffs = []
    for k in keys:
        sts = {m: results.get(m, {}).get(k, 'MISSING') for m in modes}
        if len(set(sts.values())) > 1:
            test = k.split('/')[1].split(' ')[0] if k.startswith('test_progs/') else None
            diffs.append(({'test': k, **{f'mode{m}': s for m, s in sts.items()}}, test,
                          lambda leaf, tops, k=k: leaf.get(k, 'MISSING')))
    # A test with subtests can also fail on its own assertions, outside any
    # subtest (wq does): compare the tests' own results too, where no
    # subtest of theirs already differs.
    tops = sorted(set().union(*[set(tp_tops.get(m, {})) for m in modes]))
    for t in tops:
        sts = {m: tp_tops.get(m, {}).get(t, 'MISSING') for m in modes}
        if len(set(sts.values())) > 1 and not any(test == t for _, test, _ in diffs):
            diffs.append(({'test': f'test_progs/{t} (the test itself)',
                           **{f'mode{m}': s for m, s in sts.items()}}, t,
                          lambda leaf, tops, t=t: tops.get(t, 'MISSING')))

    # The reruns' verdicts. A difference they dismiss is a flaky test: its
    # result changes from run to run, not with the mode. "result" is what
    # every rerun gave.
    standing, flaky = [], []
    for d, test, result_of in diffs:
        seen, ok = rerun_verdict(test, result_of, modes, reruns, rerun_info['rounds'])
        if seen is not None:
            d['reruns'] = {f'mode{m}': sts for m, sts in seen.items()}
        if ok:
            d['result'] = seen[modes[0]][0]
            flaky.append(d)
        else:
            standing.append(d)
    if rerun_info['not_rerun']:
        errors.append(f"{rerun_info['not_rerun']} differing tests were not rerun "
                      f"(CORPUS_RERUN_MAX)")
    # Main-run failures the reruns show to be flakes: the test passed (or
    # skipped) in every rerun in every mode.
    flaked = {d['test']: d for d in flaky if d['result'] != 'FAIL'}
    for m in modes:
        per_mode[m]['failed_flaky'] = sum(1 for k, v in results.get(m, {}).items()
                                          if v == 'FAIL' and k in flaked)

    # Failures at mode 0 against the documented list: the leaf results, the
    # own result of a test none of whose subtests failed, and a flaky test
    # that failed in every rerun (whatever its main-run result at mode 0).
    # A main-run failure at mode 0 that the reruns show to be a flake is
    # flaky, not undocumented; the list still documents it if it names it.
    base = modes[0]
    kf = known_failures(args.known)
    r0 = results.get(base, {})
    fail0 = {k for k, v in r0.items() if v == 'FAIL'}
    for t, st in tp_tops.get(base, {}).items():
        if st == 'FAIL' and f'test_progs/{t}' not in r0 and \
                not any(k.startswith(f'test_progs/{t}/') for k in fail0):
            fail0.add(f'test_progs/{t} (the test itself)')
    fail0 |= {d['test'] for d in flaky if d['result'] == 'FAIL'}
    documented, flaky0, undocumented = [], [], []
    used = set()
    for k in sorted(fail0):
        hit = next(((p, why) for p, why in kf if matches(p, k)), None)
        if hit:
            documented.append({'test': k, 'reason': hit[1]})
            used.add(hit[0])
        elif k in flaked:
            flaky0.append({'test': k, 'reruns': flaked[k].get('reruns')})
        else:
            undocumented.append(k)
    stale = [p for p, _ in kf if p not in used]

    # Any KASAN report, other splat or kasan_ebpf: line outside a report
    # is a problem, in any mode (mode 0 included: a helper or kfunc can
    # still hit freed memory) and outside the modes (boot, reruns).
    lone = [(m, l) for m, l in kasan_ebpf_lines
            if not any(l in r['text'] for r in reports)]
    failed_because = []
    if not done:
        failed_because.append('the guest did not finish (no CORPUS_DONE)')
    if errors:
        failed_because.append(f'{len(errors)} errors')
    if standing:
        failed_because.append(f'{len(standing)} differences between modes')
    if undocumented:
        failed_because.append(f'{len(undocumented)} undocumented failures at mode {base}')
    if reports:
        failed_because.append(f'{len(reports)} KASAN reports '
                              f'({sum(1 for r in reports if r["bpf"])} naming a BPF program)')
    if splats:
        failed_because.append(f'{len(splats)} other splats')
    if lone:
        failed_because.append(f'{len(lone)} kasan_ebpf: lines outside KASAN reports')

    summary = {
        'log': os.path.abspath(args.log),
        'kernel': uname,
        'guest_finished': done,
        'guest_rc': args.guest_rc,
        'modes': {str(m): per_mode[m] for m in modes},
        'differences': standing,
        'flaky': flaky,
        'reruns': rerun_info,
        'mode0_failures_documented': documented,
        'mode0_failures_flaky': flaky0,
        'mode0_failures_undocumented': undocumented,
        'known_failures_not_seen': stale,
        'kasan_reports': [{k: r[k] for k in ('mode', 'bpf', 'header', 'file')}
                          for r in reports],
        'kasan_ebpf_lines': [{'mode': m, 'line': l} for m, l in kasan_ebpf_lines],
        'kasan_ebpf_lines_outside_reports': [{'mode': m, 'line': l} for m, l in lone],
        'other_splats': [{k: s[k] for k in ('mode', 'kind', 'bpf', 'header')}
                         for s in splats],
        'seconds': {'total': args.wall_total, 'guest': args.wall_guest,
                    **{f'mode{m}': msecs.get(m) for m in modes}},
        'errors': errors,
        'failed_because': failed_because,
    }
    with open(os.path.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, 'results.json'), 'w') as f:
        json.dump({str(m): results.get(m, {}) for m in modes}, f, indent=0, sort_keys=True)

    # The table.
    rows = [
        ('programs loaded', lambda p: p['programs_loaded']),
        ('  by test_verifier', lambda p: p['programs_loaded_by'].get('test_verifier')),
        ('  by test_progs', lambda p: sum(v for k, v in p['programs_loaded_by'].items()
                                          if k != 'test_verifier') or None),
        ('probe: kasan_mode / checks', lambda p: f"{','.join(map(str, p['probe_kasan_mode']))}"
                                              f" / {','.join(map(str, p['probe_kasan_checks']))}"),
        ('test cases (leaf results)', lambda p: p['tests']),
        ('  passed', lambda p: p['passed']),
        ('  failed', lambda p: p['failed']),
        ('    of which flaky', lambda p: p['failed_flaky']),
        ('  skipped', lambda p: p['skipped']),
        ('test_verifier ok/fail/skip', lambda p: '/'.join(str(p['test_verifier'][s]) for s in ('OK', 'FAIL', 'SKIP'))),
        ('test_progs subtests ok/fail/skip', lambda p: '/'.join(str(p['test_progs'][s]) for s in ('OK', 'FAIL', 'SKIP'))),
        ('test_progs tests ok/fail/skip', lambda p: '/'.join(str(p['test_progs_top_level'][s]) for s in ('OK', 'FAIL', 'SKIP'))),
        ('KASAN reports naming bpf_prog_', lambda p: p['kasan_reports_bpf']),
        ('KASAN reports, other', lambda p: p['kasan_reports_other']),
        ('kasan_ebpf: lines (all)', lambda p: p['kasan_ebpf_lines']),
        ('other warnings/oopses', lambda p: p['other_splats']),
        ('time (s)', lambda p: p['secs']),
    ]
    w0 = max(len(r[0]) for r in rows)
    out = [f'{"":<{w0}}' + ''.join(f'{"mode " + str(m):>14}' for m in modes)]
    for label, fn in rows:
        out.append(f'{label:<{w0}}' + ''.join(f'{str(fn(per_mode[m])):>14}' for m in modes))
    out.append('')

    def diff_text(d):
        text = '  ' + d['test'] + ': ' + ', '.join(f'{m}={d[f"mode{m}"]}' for m in modes)
        if 'reruns' in d:
            text += '; reruns: ' + ', '.join(f'{m}=' + '/'.join(d['reruns'][f'mode{m}'])
                                             for m in modes)
        return text
    out.append(f'differences between modes: {len(standing)}')
    out += [diff_text(d) for d in standing[:50]]
    if len(standing) > 50:
        out.append(f'  ... {len(standing) - 50} more in summary.json')
    out.append(f'flaky (results differ between runs, not modes; {rerun_info["rounds"]} '
               f'reruns in every mode): {len(flaky)}')
    out += [diff_text(d) + ('' if d['result'] != 'FAIL' else ' (fails in every rerun)')
            for d in flaky]
    out.append(f'failing at mode {base}: {len(fail0)} ({len(documented)} on the '
               f'known-failures list, {len(flaky0)} flaky, {len(undocumented)} not)')
    for k in undocumented:
        out.append(f'  not documented: {k}')
    for p in stale:
        out.append(f'  listed but did not fail: {p}')
    out.append(f'KASAN reports: {len(reports)} '
               f'({sum(1 for r in reports if r["bpf"])} naming a BPF program)')
    for r in reports[:50]:
        out.append(f'  mode {r["mode"]}: {"BPF: " if r["bpf"] else ""}{r["header"]}  ({r["file"]})')
    out.append(f'other splats (oopses, warnings, panics, stalls): {len(splats)}')
    for sp in splats[:50]:
        out.append(f'  mode {sp["mode"]}: {sp["kind"]}: {sp["header"]}')
    if lone:
        out.append(f'kasan_ebpf: lines outside KASAN reports: {len(lone)}')
        for m, l in lone[:20]:
            out.append(f'  mode {m}: {l}')
    if args.wall_total is not None:
        out.append(f'time: {args.wall_total} s in all, {args.wall_guest} s in the guest')
    for e in errors:
        out.append(f'ERROR: {e}')
    out.append('corpus: ' + ('FAIL: ' + '; '.join(failed_because) if failed_because
                             else 'PASS'))
    table = '\n'.join(out)
    with open(os.path.join(args.out, 'table.txt'), 'w') as f:
        f.write(table + '\n')
    print(table)
    return 1 if failed_because else 0


if __name__ == '__main__':
    sys.exit(main())
