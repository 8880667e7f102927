# SPDX-License-Identifier: GPL-2.0
"""The kernel's messages in a guest's console log, and the KASAN reports,
oopses, warnings and other splats among them.

Shared by scripts/check-console.py (every guest job of `make test`) and
scripts/corpus/parse.py (`make corpus`).

A console line is the kernel's if it carries printk's timestamp,
"[ <secs>.<usecs>] " (the guest boots with printk.time=1); what user space
prints on the console has none and is not read. The timestamp is looked
for anywhere in the line: a kernel message can land in the middle of a line
that user space was printing. A kernel line seen a second time (the same
timestamp and text: a copy printed from dmesg, such as the corpus job's
CORPUS_KMSG lines) is read once.

A splat is a block of kernel lines that starts with a header line and
belongs to one kind:
  kasan    "BUG: KASAN: ..." from the "====" line before it to the closing
           "====" line (and the taint note after the first one), and the
           "kasan_ebpf: " lines (in the report, right after it, or alone);
  oops     "BUG: kernel NULL pointer dereference", "BUG: unable to handle
           page fault", "Oops: ..." (general protection fault, invalid
           opcode, ...), "kernel BUG at", up to "---[ end trace" (the
           register summary that follows has no splat line), and what a
           task killed that way leaves behind ("BUG: scheduling while
           atomic", "BUG: sleeping function called from invalid context");
  panic    "Kernel panic - not syncing" and everything after it;
  warning  "WARNING: ..." up to "---[ end trace";
  stall    RCU stalls, hung tasks, soft and hard lockups;
  other    any other "BUG: ", "UBSAN: ", and a "Call Trace:" outside any
           of the above.
"""
import re
from collections import namedtuple

# printk's prefix: "[%5lu.%06lu]", then the caller id with
# CONFIG_PRINTK_CALLER.
TIMESTAMP = re.compile(r'\[\s*\d+\.\d{6}\](?:\[\s*[TC]\d+\])?(?: |$)')
SEP = re.compile(r'^={20,}$')
END_TRACE = re.compile(r'^---\[ end trace ')
TAINT_NOTE = 'Disabling lock debugging due to kernel taint'

HEADERS = (
    ('kasan', re.compile(r'BUG: KASAN: ')),
    ('oops', re.compile(r'(BUG: kernel NULL pointer dereference|'
                        r'BUG: unable to handle |Oops: |Oops$|'
                        r'general protection fault|kernel BUG at |'
                        r'kernel tried to execute NX-protected page|'
                        r'unable to execute userspace code|'
                        r'BUG: scheduling while atomic|'
                        r'BUG: sleeping function called from invalid context)')),
    ('panic', re.compile(r'Kernel panic - not syncing')),
    ('warning', re.compile(r'WARNING: ')),
    ('stall', re.compile(r'(rcu: INFO: |INFO: rcu_|rcu: \S+ self-detected stall|'
                         r'INFO: task \S+ blocked for more than|'
                         r'watchdog: BUG: soft lockup|watchdog: Watchdog detected hard LOCKUP|'
                         r'BUG: workqueue lockup)')),
    ('other', re.compile(r'(BUG: |UBSAN: |Kernel panic)')),
)
# Splat lines that are not headers: they take the kind of the block they
# are in, or stand alone.
KASAN_EBPF = re.compile(r'kasan_ebpf: ')
CALL_TRACE = re.compile(r'Call Trace:')

KLine = namedtuple('KLine', 'n text msg')
KLine.__doc__ = """One kernel line: n, its line number in the log (from 1);
text, the line from the timestamp on; msg, the message after it."""


class Block:
    """One splat: its kind (its header's), the indices (into the list of
    messages it was found in) of its first and last lines and of its
    header, and its splat lines as (index, kind): the block's kind, but
    "kasan" for a kasan_ebpf: line outside a panic."""

    def __init__(self, kind, first, header, is_header=True):
        self.kind = kind
        self.first = first
        self.last = header
        self.header = header
        self.splats = [(header, kind)]
        self.closed = not is_header	# a lone kasan_ebpf: line or call trace

    def add(self, i, kind=None):
        self.splats.append((i, kind or self.kind))
        self.last = i

    def is_report(self, msgs):
        """A KASAN report (not a lone kasan_ebpf: line)."""
        return self.kind == 'kasan' and 'BUG: KASAN: ' in msgs[self.header]

    def __repr__(self):
        return f'Block({self.kind}, {self.first}-{self.last}, {self.splats})'


def read_log(path):
    """The log's lines, decoded leniently, without carriage returns."""
    with open(path, 'rb') as f:
        data = f.read().decode('utf-8', errors='replace')
    return [l.replace('\r', '') for l in data.split('\n')]


def kernel_lines(lines):
    """The kernel's lines of a console log, in order, as KLines."""
    seen = set()
    out = []
    for n, l in enumerate(lines, 1):
        m = TIMESTAMP.search(l)
        if not m:
            continue
        text = l[m.start():]
        if text in seen:
            continue
        seen.add(text)
        out.append(KLine(n, text, l[m.end():]))
    return out


def classify(msg):
    """(kind, is_header) of one kernel message; kind is None if the line
    is not a splat line."""
    s = msg.lstrip()
    for kind, rx in HEADERS:
        if rx.match(s):
            return kind, True
    if KASAN_EBPF.match(s):
        return 'kasan', False
    if CALL_TRACE.match(s):
        return 'other', False
    return None, False


def blocks(msgs):
    """The splats among kernel messages (a list of strings, timestamps
    stripped), as Blocks in order. Every splat line is in exactly one."""
    out = []
    cur = None	# the last block
    for i, msg in enumerate(msgs):
        s = msg.strip()
        is_open = cur is not None and not cur.closed
        if is_open and ((cur.kind == 'kasan' and SEP.match(s)) or
                        (cur.kind != 'kasan' and END_TRACE.match(s))):
            cur.last = i
            cur.closed = cur.kind != 'panic'
            continue
        kind, header = classify(msg)
        if kind is None:
            if is_open or (cur is not None and cur.kind == 'kasan' and
                           i == cur.last + 1 and s == TAINT_NOTE):
                cur.last = i	# the note after the first report is the report's
            continue
        if is_open and cur.kind == 'panic':
            cur.add(i)	# nothing after a panic is anything else
            continue
        if not header and kind == 'kasan':
            # A kasan_ebpf: line: in a report or right after one, or in
            # another open block (still of kind kasan), or alone.
            if cur is not None and cur.kind == 'kasan' and \
                    (is_open or i == cur.last + 1):
                cur.add(i)
            elif is_open:
                cur.add(i, 'kasan')
            else:
                cur = Block('kasan', i, i, False)
                out.append(cur)
            continue
        if is_open and (not header or (kind == cur.kind and kind in ('oops', 'stall'))):
            # A call trace in an open block, or the next header line of
            # the same oops ("BUG: kernel NULL pointer ..." then "Oops: ").
            cur.add(i)
            continue
        first = i
        if kind == 'kasan' and i > 0 and SEP.match(msgs[i - 1].strip()) and \
                (cur is None or cur.last < i - 1):
            first = i - 1
        cur = Block(kind, first, i, header)
        out.append(cur)
    return out
