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


def make_log(main, reruns=None, rounds=3, report_in=None):
    """main: {mode: results}; reruns: {test: {(round, mode): results}}."""
    log = Log()
    pid = 100
    for mode in (0, 1, 2):
        log.kmsg(f'kasan_ebpf_corpus: mode={mode} begin')
        log.probe(mode, 'begin', pid)
        log.run(mode, 'test_progs', tp_output(main[mode]))
        if report_in == mode:
            for l in UAF:
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
        d = s['differences_dismissed_by_reruns']
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
        self.assertEqual(s['differences_dismissed_by_reruns'], [])
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
        self.assertEqual([x['test'] for x in s['differences_dismissed_by_reruns']],
                         ['test_progs/wq (the test itself)'])
        # Failing in every mode and round of the reruns: the result does
        # not depend on the mode either.
        rc, s, _ = parse(make_log({0: bad, 1: GOOD, 2: GOOD},
                                  {'wq': every({'wq': 'FAIL', 'wq/simple': 'OK'})}))
        self.assertEqual(rc, 0)
        self.assertEqual(s['differences_dismissed_by_reruns'][0]['reruns']['mode1'],
                         ['FAIL'] * 3)
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
        self.assertIn('KASAN reports naming a BPF program in modes 1-2: 1', out)

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
