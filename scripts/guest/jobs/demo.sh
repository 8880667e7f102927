#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demonstration `make run` ends with.
echo "== kernel: $(uname -r)"
echo "== net.core.bpf_jit_kasan = $(cat /proc/sys/net/core/bpf_jit_kasan)"
grep -o "kasan_multi_shot" /proc/cmdline
if [ -x ./test_progs ] && [ -f ./bpf_kasan_testmod.ko ]; then
	./test_progs -v -t kasan_ebpf/demo 2>&1 | tail -5
fi
exit 0
