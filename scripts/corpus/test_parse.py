#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of parse.py on console logs made up the way the guest job
(scripts/guest/jobs/corpus.sh) prints them: mode markers, CORPUS_* lines,
test outputs as gzip+base64, KASAN reports. Run by `make test` (host part)
and by `python3 -m unittest discover -s scripts/corpus`."""
import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PARSE = os.path.join(HERE, 'parse.py')


class Log:
    """A console log under construction."""

    def __init__(self):
        self.lines = ['CORPUS_START modes=0,1,2 uname=#1_SMP_test']
        self.seq = 0
        self.t = 1.0

    def kmsg(self, text):
        self.t += 0.5
        self.lines.append(f'[{self.t:12.6f}] {text}')

    def probe(self, mode, at, pid):
        self.lines.append(f'CORPUS_PROBE mode={mode} at={at} id={pid} '
                          f'kasan_mode={mode} kasan_checks={3 if mode else 0}')

    def dump(self, mode, name, text):
        self.seq += 1
        raw = gzip.compress(text.encode())
        b64 = base64.b64encode(raw).decode()
        for i in range(0, len(b64), 76):
            self.lines.append(f'CORPUS_B64 {self.seq} {b64[i:i + 76]}')
        self.lines.append(f'CORPUS_FILE {self.seq} mode={mode} name={name} '
                          f'md5={hashlib.md5(raw).hexdigest()} bytes={len(text)}')

    def run(self, mode, name, text):
        self.lines.append(f'CORPUS_RUN mode={mode} name={name} rc=0 secs=1')
        self.dump(mode, name, text)


def tp_output(results):
    """test_progs output for {"test": "OK", "test/sub": "FAIL", ...}."""
    out = []
    nums = {}
    for k, st in results.items():
        top = k.split('/', 1)[0]
        n = nums.setdefault(top, len(nums) + 1)
        if '/' in k:
            out.append(f'#{n}/{list(results).index(k) + 1}    {k}:{st}')
        else:
            out.append(f'#{n}       {k}:{st}')
    fails = sum(1 for v in results.values() if v == 'FAIL')
    out.append(f'Summary: {len(nums)}/{len(results)} PASSED, 0 SKIPPED, {fails} FAILED')
    return '\n'.join(out) + '\n'


UAF = ['==================================================================',
       'BUG: KASAN: slab-use-after-free in bpf_prog_0123456789abcdef_x+0x4e/0x80',
       'Read of size 8 at addr ffff888001234560 by task test_progs/99',
       '==================================================================',
       'kasan_ebpf: bpf_prog_0123456789abcdef_x (id 7): insn 5: r0 = *(u64 *)(r1 +0)']


def make_log(main, reruns=None, rounds=3, report_in=None, report=UAF):
    """main: {mode: results}; reruns: {test: {(round, mode): results}};
    the kernel lines `report` are logged in mode `report_in`'s window."""
    log = Log()
    pid = 100
    for mode in (0, 1, 2):
        log.kmsg(f'kasan_ebpf_corpus: mode={mode} begin')
        log.probe(mode, 'begin', pid)
        log.run(mode, 'test_progs', tp_output(main[mode]))
        if report_in == mode:
            for l in report:
                log.kmsg(l)
        pid += 11
        log.probe(mode, 'after_test_progs', pid)
        pid += 1
        log.kmsg(f'kasan_ebpf_corpus: mode={mode} end')
        log.lines.append(f'CORPUS_MODE_DONE mode={mode} secs=10')
    reruns = reruns or {}
    log.lines.append(f'CORPUS_RERUN rounds={rounds} tests={",".join(reruns)},'
                     f' not_rerun=0')
    for r in range(1, rounds + 1):
        for test, res in reruns.items():
            for mode in (0, 1, 2):
                if (r, mode) not in res:
                    continue
                log.kmsg(f'kasan_ebpf_corpus: mode={mode} begin')
                log.run(mode, f'rerun{r}.{test}', tp_output(res[(r, mode)]))
                log.kmsg(f'kasan_ebpf_corpus: mode={mode} end')
    log.lines.append('CORPUS_DONE')
    return '\n'.join(log.lines) + '\n'


def parse(text, known=''):
    with tempfile.TemporaryDirectory() as d:
        logf = os.path.join(d, 'console.log')
        with open(logf, 'w') as f:
            f.write(text)
        kf = os.path.join(d, 'known.txt')
        with open(kf, 'w') as f:
            f.write(known)
        p = subprocess.run([sys.executable, PARSE, '--log', logf, '--out', d,
                            '--known', kf, '--modes', '0 1 2'],
                           capture_output=True, text=True, check=False)
        with open(os.path.join(d, 'summary.json')) as f:
            return p.returncode, json.load(f), p.stdout


GOOD = {'maps': 'OK', 'wq': 'OK', 'wq/simple': 'OK', 'tls/exit_creds': 'OK', 'tls': 'OK'}


def with_(base, **changes):
    r = dict(base)
    for k, v in changes.items():
        r[k.replace('__', '/')] = v
    return r


def every(results, rounds=3):
    return {(r, m): results for r in range(1, rounds + 1) for m in (0, 1, 2)}


class TestParse(unittest.TestCase):

    def test_agreeing_modes_pass(self):
        rc, s, _ = parse(make_log({0: GOOD, 1: GOOD, 2: GOOD}))
        self.assertEqual(rc, 0)
        self.assertEqual(s['differences'], [])
        self.assertEqual(s['modes']['1']['programs_loaded'], 10)
        self.assertEqual(s['modes']['2']['passed'], 3)  # leaf results

    def test_difference_without_rerun_stands(self):
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        rc, s, out = parse(make_log({0: GOOD, 1: GOOD, 2: bad}))
        self.assertEqual(rc, 1)
        self.assertEqual([d['test'] for d in s['differences']],
                         ['test_progs/tls/exit_creds'])
        self.assertIn('differences between modes: 1', out)

    def test_timing_flake_dismissed_by_reruns(self):
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        alone = {'tls/exit_creds': 'OK', 'tls': 'OK'}
        rc, s, out = parse(make_log({0: GOOD, 1: GOOD, 2: bad}, {'tls': every(alone)}))
        self.assertEqual(rc, 0, out)
        self.assertEqual(s['differences'], [])
        d = s['flaky']
        self.assertEqual([x['test'] for x in d], ['test_progs/tls/exit_creds'])
        self.assertEqual(d[0]['reruns']['mode2'], ['OK', 'OK', 'OK'])

    def test_mode_dependent_result_stands(self):
        # Fails with instrumentation on in every round: a real difference.
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        ok = {'tls/exit_creds': 'OK', 'tls': 'OK'}
        ko = {'tls/exit_creds': 'FAIL', 'tls': 'FAIL'}
        res = {(r, m): (ko if m else ok) for r in (1, 2, 3) for m in (0, 1, 2)}
        rc, s, out = parse(make_log({0: GOOD, 1: bad, 2: bad}, {'tls': res}))
        self.assertEqual(rc, 1)
        self.assertEqual(s['differences'][0]['reruns']['mode1'], ['FAIL'] * 3)
        self.assertEqual(s['flaky'], [])
        self.assertIn('reruns: 0=OK/OK/OK, 1=FAIL/FAIL/FAIL', out)

    def test_one_failing_round_keeps_it(self):
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        ok = {'tls/exit_creds': 'OK', 'tls': 'OK'}
        res = every(ok)
        res[(3, 2)] = {'tls/exit_creds': 'FAIL', 'tls': 'FAIL'}
        rc, s, _ = parse(make_log({0: GOOD, 1: GOOD, 2: bad}, {'tls': res}))
        self.assertEqual(rc, 1)
        self.assertEqual(len(s['differences']), 1)

    def test_missing_rerun_keeps_it(self):
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        res = every({'tls/exit_creds': 'OK', 'tls': 'OK'})
        del res[(2, 1)]
        rc, s, _ = parse(make_log({0: GOOD, 1: GOOD, 2: bad}, {'tls': res}))
        self.assertEqual(rc, 1)
        self.assertEqual(s['differences'][0]['reruns']['mode1'], ['OK', 'MISSING', 'OK'])

    def test_test_level_result(self):
        # wq's own assertion fails while its subtests pass.
        bad = with_(GOOD, wq='FAIL')
        alone = {'wq': 'OK', 'wq/simple': 'OK'}
        rc, s, _ = parse(make_log({0: bad, 1: GOOD, 2: GOOD}, {'wq': every(alone)}))
        self.assertEqual(rc, 0)
        self.assertEqual([x['test'] for x in s['flaky']],
                         ['test_progs/wq (the test itself)'])
        # Failing in every mode and round of the reruns: the result does
        # not depend on the mode either, but the test fails at mode 0: it
        # must be documented like any stable failure.
        log = make_log({0: bad, 1: GOOD, 2: GOOD},
                       {'wq': every({'wq': 'FAIL', 'wq/simple': 'OK'})})
        rc, s, _ = parse(log)
        self.assertEqual(rc, 1)
        self.assertEqual(s['flaky'][0]['reruns']['mode1'], ['FAIL'] * 3)
        self.assertEqual(s['mode0_failures_undocumented'],
                         ['test_progs/wq (the test itself)'])
        rc, s, _ = parse(log, known='test_progs/wq (the test itself) :: times out\n')
        self.assertEqual(rc, 0)
        self.assertEqual(s['mode0_failures_documented'][0]['reason'], 'times out')
        # Passing alone at mode 0 only: it stands.
        res = every({'wq': 'FAIL', 'wq/simple': 'OK'})
        for r in (1, 2, 3):
            res[(r, 0)] = alone
        rc, s, _ = parse(make_log({0: bad, 1: GOOD, 2: GOOD}, {'wq': res}))
        self.assertEqual(rc, 1)

    def test_bpf_report_in_mode_1_fails(self):
        rc, s, out = parse(make_log({0: GOOD, 1: GOOD, 2: GOOD}, report_in=1))
        self.assertEqual(rc, 1)
        self.assertEqual(s['modes']['1']['kasan_reports_bpf'], 1)
        self.assertIn('KASAN reports: 1 (1 naming a BPF program)', out)
        self.assertIn('corpus: FAIL: 1 KASAN reports (1 naming a BPF program)', out)

    def test_any_report_or_splat_fails(self):
        # A BPF program's report at mode 0 (a helper handed it freed
        # memory), a KASAN report in kernel code, an oops, a warning, a
        # kasan_ebpf: line on its own, a splat before the first mode: each
        # fails the corpus whatever the mode.
        other = ['=' * 66,
                 'BUG: KASAN: slab-use-after-free in bpf_map_lookup_elem+0x4e/0x80',
                 'Read of size 8 at addr ffff888001234560 by task test_progs/99',
                 'Call Trace:', ' <TASK>', ' dump_stack_lvl+0x5d/0x80', ' </TASK>',
                 '=' * 66]
        oops = ['BUG: kernel NULL pointer dereference, address: 0000000000000000',
                '#PF: supervisor read access in kernel mode',
                'Oops: Oops: 0000 [#1] PREEMPT SMP KASAN NOPTI',
                'RIP: 0010:bpf_prog_0123456789abcdef_x+0x1e/0x40',
                'Call Trace:', ' <TASK>', ' </TASK>',
                '---[ end trace 0000000000000000 ]---']
        warn = ['------------[ cut here ]------------',
                'WARNING: CPU: 1 PID: 99 at kernel/bpf/core.c:123 bpf_prog_free+0x10/0x20',
                'Call Trace:', '---[ end trace 0000000000000000 ]---']
        lone = ['kasan_ebpf: no BPF insn at 0xffffffffa0001234: access not checked']
        cases = [(0, UAF, 'KASAN reports: 1 (1 naming a BPF program)', 'kasan_reports_bpf'),
                 (2, other, 'KASAN reports: 1 (0 naming a BPF program)',
                  'kasan_reports_other'),
                 (1, oops, 'other splats (oopses, warnings, panics, stalls): 1',
                  'other_splats'),
                 (0, warn, '  mode 0: warning: WARNING: CPU: 1 PID: 99', 'other_splats'),
                 (1, lone, 'kasan_ebpf: lines outside KASAN reports: 1', 'kasan_ebpf_lines')]
        for mode, lines, text, count in cases:
            with self.subTest(lines[1] if len(lines) > 1 else lines[0]):
                rc, s, out = parse(make_log({0: GOOD, 1: GOOD, 2: GOOD},
                                            report_in=mode, report=lines))
                self.assertEqual(rc, 1, out)
                self.assertIn(text, out)
                self.assertEqual(s['modes'][str(mode)][count], 1)
                self.assertIn('corpus: FAIL', out)
        # The oops names the BPF program it happened in.
        rc, s, _ = parse(make_log({0: GOOD, 1: GOOD, 2: GOOD}, report_in=1, report=oops))
        self.assertEqual([(x['kind'], x['bpf']) for x in s['other_splats']],
                         [('oops', True)])
        # Before the first mode began (boot): no mode, still a failure.
        text = make_log({0: GOOD, 1: GOOD, 2: GOOD})
        first = text.index('\n') + 1
        text = text[:first] + ''.join(f'[    0.500000] {l}\n' for l in warn) + text[first:]
        rc, s, out = parse(text)
        self.assertEqual(rc, 1)
        self.assertEqual([(x['mode'], x['kind']) for x in s['other_splats']],
                         [(None, 'warning')])
        self.assertIn('1 other splats', s['failed_because'][0])

    def test_own_failure_of_a_test_with_subtests(self):
        # wq fails on its own assertion in every mode while its subtests
        # pass: a mode-0 failure like any other.
        bad = with_(GOOD, wq='FAIL')
        rc, s, _ = parse(make_log({0: bad, 1: bad, 2: bad}))
        self.assertEqual(rc, 1)
        self.assertEqual(s['mode0_failures_undocumented'],
                         ['test_progs/wq (the test itself)'])
        # A failing subtest already accounts for the test's failure.
        bad = with_(GOOD, wq='FAIL', wq__simple='FAIL')
        rc, s, _ = parse(make_log({0: bad, 1: bad, 2: bad}))
        self.assertEqual(s['mode0_failures_undocumented'], ['test_progs/wq/simple'])

    def test_flaky_and_stable_failures_together(self):
        # A flake at mode 0 does not excuse a stable undocumented failure
        # next to it, nor a report.
        main = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL', maps='FAIL')
        rest = with_(GOOD, maps='FAIL')
        reruns = {'tls': every({'tls/exit_creds': 'OK', 'tls': 'OK'})}
        rc, s, out = parse(make_log({0: main, 1: rest, 2: rest}, reruns))
        self.assertEqual(rc, 1)
        self.assertEqual(s['mode0_failures_undocumented'], ['test_progs/maps'])
        self.assertEqual([x['test'] for x in s['mode0_failures_flaky']],
                         ['test_progs/tls/exit_creds'])
        known = 'test_progs/maps :: needs a network namespace\n'
        rc, s, out = parse(make_log({0: main, 1: rest, 2: rest}, reruns), known=known)
        self.assertEqual(rc, 0, out)
        rc, s, out = parse(make_log({0: main, 1: rest, 2: rest}, reruns, report_in=0),
                           known=known)
        self.assertEqual(rc, 1)
        # A flaky failure the list names counts as documented.
        rc, s, out = parse(make_log({0: main, 1: rest, 2: rest}, reruns),
                           known=known + 'test_progs/tls/exit_creds :: flaky\n')
        self.assertEqual(rc, 0)
        self.assertEqual(s['mode0_failures_flaky'], [])
        self.assertEqual(s['known_failures_not_seen'], [])

    def test_bpf_report_in_a_rerun_counts(self):
        bad = with_(GOOD, tls__exit_creds='FAIL', tls='FAIL')
        text = make_log({0: GOOD, 1: GOOD, 2: bad},
                        {'tls': every({'tls/exit_creds': 'OK', 'tls': 'OK'})})
        # A report inside the last rerun's mode-2 window.
        last_end = text.rindex('kasan_ebpf_corpus: mode=2 end')
        cut = text.rindex('\n', 0, last_end) + 1
        text = text[:cut] + ''.join(f'[ 999.000000] {l}\n' for l in UAF) + text[cut:]
        rc, s, _ = parse(text)
        self.assertEqual(rc, 1)
        self.assertEqual(s['modes']['2']['kasan_reports_bpf'], 1)

    def test_flaky_mode0_failure_is_flaky_everywhere(self):
        # The clean-clone run of 2026-11-26: bpf_cookie/perf_event failed
        # once at mode 0, passed at modes 1 and 2 and in all nine reruns.
        # The difference is dismissed, so the mode-0 failure is the same
        # flake: not an undocumented failure.
        main = {'bpf_cookie/perf_event': 'FAIL', 'bpf_cookie/kprobe': 'OK',
                'bpf_cookie': 'FAIL'}
        good = {'bpf_cookie/perf_event': 'OK', 'bpf_cookie/kprobe': 'OK',
                'bpf_cookie': 'OK'}
        rc, s, out = parse(make_log({0: main, 1: good, 2: good},
                                    {'bpf_cookie': every(good)}))
        self.assertEqual(rc, 0, out)
        self.assertEqual(s['differences'], [])
        self.assertEqual(s['mode0_failures_undocumented'], [])
        flaky = [x['test'] for x in s['flaky']]
        self.assertEqual(flaky, ['test_progs/bpf_cookie/perf_event'])
        self.assertEqual(s['flaky'][0]['reruns'],
                         {f'mode{m}': ['OK'] * 3 for m in (0, 1, 2)})
        self.assertEqual([x['test'] for x in s['mode0_failures_flaky']],
                         ['test_progs/bpf_cookie/perf_event'])
        self.assertEqual(s['modes']['0']['failed_flaky'], 1)
        self.assertIn('flaky (results differ between runs, not modes; '
                      '3 reruns in every mode): 1', out)
        self.assertIn('  test_progs/bpf_cookie/perf_event: 0=FAIL, 1=OK, 2=OK; '
                      'reruns: 0=OK/OK/OK, 1=OK/OK/OK, 2=OK/OK/OK', out)
        self.assertIn('failing at mode 0: 1 (0 on the known-failures list, '
                      '1 flaky, 0 not)', out)
        self.assertNotIn('not documented', out)

    def test_undocumented_mode0_failure(self):
        bad = with_(GOOD, maps='FAIL')
        rc, s, _ = parse(make_log({0: bad, 1: bad, 2: bad}))
        self.assertEqual(rc, 1)
        self.assertEqual(s['mode0_failures_undocumented'], ['test_progs/maps'])
        rc, s, _ = parse(make_log({0: bad, 1: bad, 2: bad}),
                         known='test_progs/maps :: needs a network namespace\n')
        self.assertEqual(rc, 0)


if __name__ == '__main__':
    unittest.main()
