#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of scripts/check-console.py (and scripts/corpus/kernlog.py, which
it shares with parse.py) on made-up guest console logs: kernel lines with
printk timestamps, user-space output without, planted regions. Run by
`make test` (host part) and by `python3 -m unittest discover -s
scripts/corpus`."""
import os
import subprocess
import sys
import tempfile
import unittest

import kernlog

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, '..', 'check-console.py')

SEP = '=' * 66
KASAN = [SEP,
         'BUG: KASAN: slab-use-after-free in bpf_prog_0123456789abcdef_uaf+0x4e/0x80',
         'Read of size 8 at addr ffff888001234560 by task test_progs/99',
         'kasan_ebpf: bpf_prog_0123456789abcdef_uaf insn 5',
         '',
         'CPU: 0 UID: 0 PID: 99 Comm: test_progs Tainted: G    B      O 6.12.117 #1',
         'Call Trace:',
         ' <TASK>',
         ' dump_stack_lvl+0x5d/0x80',
         ' kasan_report+0xb9/0xf0',
         ' bpf_prog_0123456789abcdef_uaf+0x4e/0x80',
         ' </TASK>',
         '',
         'Memory state around the buggy address:',
         ' ffff888001234500: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb',
         '>ffff888001234580: fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc fc',
         '                   ^',
         SEP,
         'Disabling lock debugging due to kernel taint']
OOPS = ['BUG: unable to handle page fault for address: ffffc90000000000',
        '#PF: supervisor read access in kernel mode',
        '#PF: error_code(0x0000) - not-present page',
        'Oops: Oops: 0000 [#1] PREEMPT SMP KASAN NOPTI',
        'CPU: 1 UID: 0 PID: 99 Comm: test_progs Tainted: G    B      O 6.12.117 #1',
        'RIP: 0010:bpf_prog_0123456789abcdef_wild+0x1e/0x40',
        'Call Trace:',
        ' <TASK>',
        ' </TASK>',
        'Modules linked in: bpf_kasan_testmod(O)',
        'CR2: ffffc90000000000',
        '---[ end trace 0000000000000000 ]---',
        'RIP: 0010:bpf_prog_0123456789abcdef_wild+0x1e/0x40',
        'note: test_progs[99] exited with irqs disabled']
WARN = ['------------[ cut here ]------------',
        'WARNING: CPU: 1 PID: 99 at kernel/bpf/core.c:123 bpf_prog_free+0x10/0x20',
        'Modules linked in:',
        'Call Trace:',
        ' <TASK>',
        ' </TASK>',
        '---[ end trace 0000000000000000 ]---']
PANIC = ['Kernel panic - not syncing: kasan.fault=panic set ...',
         'CPU: 0 UID: 0 PID: 99 Comm: test_progs Tainted: G    B      O 6.12.117 #1',
         'Call Trace:',
         ' <TASK>',
         ' panic+0x4d4/0x560',
         ' </TASK>',
         'Kernel Offset: disabled',
         '---[ end Kernel panic - not syncing: kasan.fault=panic set ... ]---']


class Log:
    """A guest console log under construction: kernel lines get printk's
    timestamp, user-space lines none."""

    def __init__(self):
        self.lines = []
        self.t = 0.0
        self.kernel('Linux version 6.12.117 (kasan-ebpf) #1 SMP PREEMPT')
        self.user('kasan-ebpf guest: 6.12.117, job: test')

    def kernel(self, *msgs):
        for m in msgs:
            self.t += 0.000125
            self.lines.append(f'[{self.t:12.6f}] {m}')
        return self

    def user(self, *lines):
        self.lines += lines
        return self

    def begin(self, label, kinds):
        return self.kernel(f'kasan_ebpf-planted: begin {label} {kinds}')

    def end(self, label):
        return self.kernel(f'kasan_ebpf-planted: end {label}')

    def done(self, rc=0):
        self.user(f'KASAN_EBPF_GUEST_EXIT={rc}')
        return self

    def text(self):
        return '\r\n'.join(self.lines) + '\r\n'


def check(log, *opts):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, 'guest-test.log')
        with open(f, 'w') as fh:
            fh.write(log.text() if isinstance(log, Log) else log)
        p = subprocess.run([sys.executable, CHECK, *opts, f],
                           capture_output=True, text=True, check=False)
        return p.returncode, p.stdout + p.stderr


class TestCheckConsole(unittest.TestCase):

    def assertFails(self, log, *texts):
        rc, out = check(log)
        self.assertEqual(rc, 1, out)
        for t in texts:
            self.assertIn(t, out)
        return out

    def assertPasses(self, log, *opts):
        rc, out = check(log, *opts)
        self.assertEqual(rc, 0, out)
        self.assertIn(': OK (', out)
        return out

    def test_clean_log(self):
        log = Log().user('#1/1 kasan_ebpf/uaf_inline:OK').kernel('random: crng init done')
        out = self.assertPasses(log.done())
        self.assertIn('(2 kernel lines, 0 planted regions)', out)

    def test_kasan_report_outside_a_region(self):
        log = Log().user('#12 atomics:OK').kernel(*KASAN).done()
        out = self.assertFails(log, 'unplanted kasan', 'outside any planted region',
                               'BUG: KASAN: slab-use-after-free in bpf_prog_')
        # The offending line with its context, and the further ones.
        self.assertIn('>      5 | [', out)
        self.assertIn('kasan_ebpf: bpf_prog_0123456789abcdef_uaf insn 5', out)

    def test_kasan_report_in_a_kasan_region(self):
        log = (Log().begin('kasan_ebpf', 'kasan').user('#1/1 kasan_ebpf/uaf_inline:OK')
               .kernel(*KASAN, *KASAN).end('kasan_ebpf').done())
        out = self.assertPasses(log, '--summary')
        self.assertIn("region 'kasan_ebpf' (kasan): log lines 3-", out)
        self.assertIn(': kasan 2; 0 offending lines', out)
        # The same report after the region ended fails.
        log.kernel(*KASAN)
        self.assertFails(log, 'unplanted kasan', 'outside any planted region')

    def test_oops_in_a_kasan_only_region(self):
        log = Log().begin('k', 'kasan').kernel(*KASAN, *OOPS).end('k').done()
        out = self.assertFails(log, "unplanted oops", "region 'k' (kasan)",
                               'BUG: unable to handle page fault')
        self.assertNotIn('unplanted kasan', out)
        # Allowed where the region says oops; the killed task's notes too.
        log = Log().begin('wild', 'kasan,oops').kernel(*KASAN, *OOPS).end('wild').done()
        self.assertPasses(log)

    def test_warning_is_never_allowed(self):
        self.assertFails(Log().kernel(*WARN).done(), 'a WARNING is never allowed',
                         'outside any planted region')
        log = Log().begin('all', 'kasan,oops,panic').kernel(*WARN).end('all').done()
        self.assertFails(log, 'a WARNING is never allowed', "region 'all'")
        # Lockdep's form, without "CPU:".
        self.assertFails(Log().kernel('WARNING: suspicious RCU usage').done(),
                         'a WARNING is never allowed')
        # __warn()'s form on Linux 7.3 (kernel/panic.c), without "CPU: ".
        warn73 = [WARN[0], 'WARNING: kernel/bpf/core.c:123 at bpf_prog_free+0x10/0x20, '
                  'CPU#1: test_progs/99', *WARN[2:]]
        self.assertFails(Log().kernel(*warn73).done(), 'a WARNING is never allowed')
        self.assertEqual([b.kind for b in kernlog.blocks(warn73)], ['warning'])

    def test_kasan_ebpf_line_outside(self):
        log = Log().kernel('kasan_ebpf: no BPF insn at 0xffffffffa0001234: access '
                           'not checked').done()
        self.assertFails(log, 'unplanted kasan', 'kasan_ebpf: no BPF insn')
        log = (Log().begin('k', 'kasan')
               .kernel('kasan_ebpf: no BPF insn at 0xffffffffa0001234').end('k').done())
        self.assertPasses(log)

    def test_user_space_lines_are_ignored(self):
        log = Log().user(
            "uaf_inline: got 'kasan_ebpf: bpf_prog_1_x insn 4', expected "
            "'kasan_ebpf: bpf_prog_1_x insn 5'",
            'BUG: KASAN: this is test_progs quoting the log',
            'WARNING: test_progs says so', 'Kernel panic - not syncing: a quote',
            'kasan_ebpf-check: PASS something').done()
        self.assertPasses(log)

    def test_expected_panic_with_unclosed_region(self):
        log = Log().begin('panic', 'kasan,panic').kernel(*KASAN, *PANIC)
        out = self.assertPasses(log, '--summary')
        self.assertIn('to the end (never ended): kasan 1, panic 1', out)
        # Without panic in its kinds, the panic offends, and the region
        # may not stay open either.
        log = Log().begin('k', 'kasan').kernel(*KASAN, *PANIC)
        self.assertFails(log, 'unplanted panic', "region 'k' (kasan) begun at line 3 never ends")
        # A region that allows oops or panic may stay open with nothing in it.
        self.assertPasses(Log().begin('p', 'panic'))
        # A panic outside any region.
        self.assertFails(Log().kernel(*PANIC), 'unplanted panic')

    def test_unclosed_kasan_region(self):
        self.assertFails(Log().begin('k', 'kasan').kernel(*KASAN).done(),
                         'never ends')

    def test_protocol_errors(self):
        cases = [
            (Log().begin('a', 'kasan').begin('b', 'kasan').end('b').end('a'),
             'regions do not nest'),
            (Log().begin('a', 'kasan,warning').end('a'), 'unknown kind(s) warning'),
            (Log().begin('a', 'KASAN').kernel(*KASAN).end('a'), 'unknown kind(s) KASAN'),
            (Log().end('a'), "end of region 'a', which is not open"),
            (Log().begin('a', 'kasan').end('b').end('a'), "end of region 'b' inside"),
            (Log().kernel('kasan_ebpf-planted: begin a'), 'malformed marker'),
        ]
        for log, text in cases:
            with self.subTest(text):
                self.assertFails(log.done(), 'planted-region error', text)
        # An unknown kind does not allow what it would name.
        self.assertFails(Log().begin('a', 'KASAN').kernel(*KASAN).end('a').done(),
                         'unplanted kasan')

    def test_no_kernel_lines(self):
        self.assertFails('kasan-ebpf guest: job: test\nKASAN_EBPF_GUEST_EXIT=0\n',
                         'no kernel line')

    def test_kernel_line_in_the_middle_of_a_user_line(self):
        log = Log()
        log.kernel(*KASAN[:1])
        log.lines.append(f'#3/1 atomics/add:OK[{log.t + 0.1:12.6f}] {KASAN[1]}')
        log.t += 0.1
        log.kernel(*KASAN[2:]).done()
        self.assertFails(log, 'unplanted kasan: log line 4, outside any planted region: '
                         'BUG: KASAN: slab-use-after-free')

    def test_dmesg_copy_of_a_planted_report(self):
        # A job that prints dmesg after the region ended: the copies are
        # the same kernel lines, read once.
        log = Log().begin('k', 'kasan').kernel(*KASAN).end('k')
        log.user(*[l for l in log.lines if 'KASAN' in l or 'kasan_ebpf:' in l])
        self.assertPasses(log.done())

    def test_other_splats(self):
        for lines in (['BUG: scheduling while atomic: test_progs/99/0x00000002'],
                      ['rcu: INFO: rcu_preempt self-detected stall on CPU'],
                      ['INFO: task kworker/0:1:12 blocked for more than 122 seconds.',
                       'Call Trace:'],
                      ['watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [test_progs:99]'],
                      ['Call Trace:', ' <TASK>', ' dump_stack_lvl+0x5d/0x80'],
                      ['general protection fault, probably for non-canonical address']):
            with self.subTest(lines[0]):
                self.assertFails(Log().kernel(*lines).done(), 'unplanted')
        # A stall is not an oops: not even an oops region allows it.
        log = Log().begin('o', 'oops,kasan,panic').kernel(
            'rcu: INFO: rcu_preempt self-detected stall on CPU').end('o').done()
        self.assertFails(log, 'unplanted stall')


class TestKernlog(unittest.TestCase):

    def test_blocks(self):
        msgs = [*KASAN, 'random: crng init done', *OOPS, *WARN, *PANIC]
        b = kernlog.blocks(msgs)
        self.assertEqual([x.kind for x in b], ['kasan', 'oops', 'warning', 'panic'])
        self.assertEqual((b[0].first, b[0].last), (0, len(KASAN) - 1))  # with the taint note
        self.assertTrue(b[0].is_report(msgs))
        # Every splat line of the oops (its two headers, the call trace).
        self.assertEqual([msgs[i] for i, _ in b[1].splats],
                         [OOPS[0], OOPS[3], 'Call Trace:'])
        self.assertEqual(b[3].last, len(msgs) - 1)

    def test_kasan_ebpf_line_after_the_report(self):
        # The line as patch 1 printed it before: after the closing line.
        msgs = [*KASAN, 'kasan_ebpf: bpf_prog_1_x insn 5', 'other message',
                'kasan_ebpf: no BPF insn at 0xffffffffa0001234']
        msgs.remove('kasan_ebpf: bpf_prog_0123456789abcdef_uaf insn 5')
        b = kernlog.blocks(msgs)
        self.assertEqual([(x.kind, x.is_report(msgs)) for x in b],
                         [('kasan', True), ('kasan', False)])
        self.assertIn((len(KASAN) - 1, 'kasan'), b[0].splats)

    def test_kernel_lines(self):
        lines = ['[    1.000000] one', 'user', 'CORPUS_KMSG [    1.000000] one',
                 'CORPUS_KMSG [    2.000000] two', 'abc[    3.000000] three',
                 '[    4.000000]', '[ 5.1] not printk']
        k = kernlog.kernel_lines(lines)
        self.assertEqual([(x.n, x.msg) for x in k],
                         [(1, 'one'), (4, 'two'), (5, 'three'), (6, '')])


if __name__ == '__main__':
    unittest.main()
