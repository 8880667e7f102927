#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demonstration `make run` ends with: a BPF program reads freed memory
# and writes past the end of a buffer. With net.core.bpf_jit_kasan at 1,
# KASAN reports both, naming the BPF program and instruction (the reports
# are on the console above the summary); loaded at 0, the same program is
# silent. Exit status 0 iff the demo subtest passed, which asserts all that.
echo "== kernel $(uname -r); net.core.bpf_jit_kasan = $(cat /proc/sys/net/core/bpf_jit_kasan)"
dmesg -n 8
./test_progs -v -t kasan_ebpf/demo > /tmp/demo.log 2>&1
rc=$?
grep '^demo:' /tmp/demo.log
echo "== what the kernel said (BPF-attributed lines of the KASAN reports):"
dmesg | grep -E 'BUG: KASAN: .* in bpf_prog_|(Read|Write) of size|kasan_ebpf: bpf_prog_'
grep -E '^#[0-9]+/[0-9]+ ' /tmp/demo.log
exit $rc
