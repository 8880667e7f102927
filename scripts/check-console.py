#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check a guest's console log: no KASAN report, oops, warning, panic or
other splat that the job did not plant.

A guest job that means to cause kernel reports brackets them with lines
written to /dev/kmsg (scripts/guest/lib.sh: planted_begin, planted_end), so
that they sit in the kernel's own message stream, in order with what they
bracket:

    kasan_ebpf-planted: begin <label> <kinds>
    ...
    kasan_ebpf-planted: end <label>

<kinds> is a comma list of kasan, oops, panic (scripts/corpus/kernlog.py
says which kernel lines each covers). Inside a region only splats of its
kinds are allowed, outside any region none; a WARNING is never allowed.
Regions do not nest; a region may stay open at the end of the log only if
it allows oops or panic (the guest may die in it). Only kernel lines (with
printk's timestamp) are read: what user space prints is not.

Prints each offending line with a few lines of context and the region it
was in; --summary also prints one line per region. Exit status: 0 if there
is no offender, 1 if there is one (or the log has no kernel line at all:
the guest was not booted with printk.time=1), 2 if the log cannot be read.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus'))
import kernlog  # noqa: E402

KINDS = ('kasan', 'oops', 'panic')
MARKER = re.compile(r'kasan_ebpf-planted:\s*(.*)$')
LABEL = re.compile(r'^[A-Za-z0-9_.:/+-]+$')
# How many log lines of context around an offender, and how many further
# offending lines of the same splat to list.
BEFORE, AFTER, MORE = 3, 6, 8


class Region:
    def __init__(self, label, kinds, begin):
        self.label = label
        self.kinds = kinds
        self.begin = begin	# log line numbers
        self.end = None
        self.seen = {}		# kind -> splats
        self.offenders = 0

    def name(self):
        return f"region '{self.label}' ({','.join(self.kinds) or 'no kinds'})"


def regions_of(klines, problems):
    """The planted regions, and for each kernel line the region it is in
    (None outside). Protocol errors go to problems as (kline, text)."""
    regions = []
    where = []
    cur = None
    for k in klines:
        m = MARKER.match(k.msg.strip())
        if not m:
            where.append(cur)
            continue
        words = m.group(1).split()
        if words[:1] == ['begin'] and len(words) == 3 and LABEL.match(words[1]):
            kinds = words[2].split(',')
            bad = [x for x in kinds if x not in KINDS]
            if bad:
                problems.append((k, f"unknown kind(s) {','.join(bad)} "
                                    f"(known: {','.join(KINDS)})"))
            if cur is not None:
                problems.append((k, f'begin inside {cur.name()}: regions do not nest'))
            else:
                cur = Region(words[1], [x for x in kinds if x in KINDS], k.n)
                regions.append(cur)
        elif words[:1] == ['end'] and len(words) == 2:
            if cur is None:
                problems.append((k, f"end of region '{words[1]}', which is not open"))
            elif cur.label != words[1]:
                problems.append((k, f"end of region '{words[1]}' inside {cur.name()}"))
            else:
                cur.end = k.n
                cur = None
        else:
            problems.append((k, 'malformed marker: expected "begin <label> <kinds>" '
                                'or "end <label>"'))
        where.append(None if cur is None else cur)
    if cur is not None and not set(cur.kinds) & {'oops', 'panic'}:
        problems.append((None, f'{cur.name()} begun at line {cur.begin} never ends '
                               '(only a region that allows oops or panic may)'))
    return regions, where


def context(lines, n, mark):
    """Log lines around line n (1-based); those in mark are flagged."""
    out = []
    for i in range(max(1, n - BEFORE), min(len(lines), n + AFTER) + 1):
        out.append(f"  {'>' if i in mark else ' '} {i:6d} | {lines[i - 1]}")
    return out


def check(lines, out):
    """Checks a console log (its lines); prints to out; returns (number of
    offending lines, regions, number of kernel lines)."""
    klines = kernlog.kernel_lines(lines)
    problems = []
    regions, where = regions_of(klines, problems)
    msgs = [k.msg for k in klines]
    offending = 0
    for b in kernlog.blocks(msgs):
        bad = []
        for i, kind in b.splats:
            r = where[i]
            if r is not None and i == b.header:
                r.seen[kind] = r.seen.get(kind, 0) + 1
            if kind == 'warning' or r is None or kind not in r.kinds:
                bad.append((i, kind, r))
                if r is not None:
                    r.offenders += 1
        if not bad:
            continue
        offending += len(bad)
        i, kind, r = bad[0]
        where_text = r.name() if r is not None else 'outside any planted region'
        why = ('a WARNING is never allowed' if kind == 'warning' else
               f'unplanted {kind}')
        out.append(f'{why}: log line {klines[i].n}, {where_text}: {msgs[i].strip()}')
        n0 = klines[i].n
        out += context(lines, n0, {klines[j].n for j, _, _ in bad})
        # The further offending lines of this splat, past the context.
        rest = [(klines[j].n, kind2, r2) for j, kind2, r2 in bad[1:]
                if klines[j].n > n0 + AFTER]
        for n, kind2, r2 in rest[:MORE]:
            out.append(f'  > {n:6d} | {lines[n - 1]}'
                       f'    [{kind2}, {r2.name() if r2 else "outside any region"}]')
        if len(rest) > MORE:
            out.append(f'  ... and {len(rest) - MORE} more offending lines in this splat')
    for k, text in problems:
        offending += 1
        if k is None:
            out.append(f'planted-region error: {text}')
        else:
            out.append(f'planted-region error: log line {k.n}: {text}')
            out += context(lines, k.n, {k.n})
    return offending, regions, len(klines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('log', help='the console log (out/logs/guest-<job>.log)')
    ap.add_argument('--summary', action='store_true',
                    help='print one line per planted region')
    args = ap.parse_args()
    try:
        lines = kernlog.read_log(args.log)
    except OSError as e:
        print(f'check-console: {e}', file=sys.stderr)
        return 2
    out = []
    offending, regions, nk = check(lines, out)
    if nk == 0:
        out.append('no kernel line (printk timestamp "[ sec.usec] ") in the log: '
                   'nothing could be checked (boot with printk.time=1)')
        offending += 1
    if args.summary:
        for r in regions:
            seen = ', '.join(f'{k} {n}' for k, n in sorted(r.seen.items())) or 'no splat'
            end = f'-{r.end}' if r.end else ' to the end (never ended)'
            out.append(f'{r.name()}: log lines {r.begin}{end}: {seen}; '
                       f'{r.offenders} offending lines')
    print('\n'.join(out + [f'check-console: {args.log}: '
                           + (f'FAIL: {offending} offenders'
                              if offending else 'OK')
                           + f' ({nk} kernel lines, {len(regions)} planted regions)']))
    return 1 if offending else 0


if __name__ == '__main__':
    sys.exit(main())
