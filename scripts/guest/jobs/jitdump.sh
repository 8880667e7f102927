#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of `make jit-identity` (scripts/jit-identity.sh packs it
# with jitdump and objs.tar, the BPF objects): every program of every object
# loaded alone and its JIT image dumped, then sent to the host through the
# console as gzip+base64 between markers:
#   JITDUMP_BEGIN <mode> <md5 of the .gz> <bytes of the dump>
#   <base64 lines>
#   JITDUMP_END <mode>
# and, first, the kernel's BTF (/sys/kernel/btf/vmlinux) as <mode> "btf".
# <mode> is the value of net.core.bpf_jit_kasan the programs were loaded
# with, one dump per mode of JITDUMP_MODES (written into the initramfs as
# jitdump.modes, default "0 1"); "none" on a kernel without the sysctl.
# A jitdump.sample file of k keeps only every k-th object.
# Kernel messages are kept off the console meanwhile; their BUG/WARNING
# lines are printed at the end.
cd /kasan-ebpf || exit 1
SYSCTL=/proc/sys/net/core/bpf_jit_kasan
for f in jitdump objs.tar; do
	[ -e $f ] || { echo "jitdump: $f is missing from the initramfs"; exit 1; }
done
modes="0 1"
[ -s jitdump.modes ] && modes=$(cat jitdump.modes)
[ -e $SYSCTL ] || modes=none
mkdir -p /tmp/objs
tar -xf objs.tar -C /tmp/objs || exit 1
# jitdump.sample = k: only every k-th object (sorted by name), for quicker
# control runs.
k=1
[ -s jitdump.sample ] && k=$(cat jitdump.sample)
if [ "$k" -gt 1 ]; then
	i=0
	for f in /tmp/objs/*.bpf.o; do
		[ $((i % k)) = 0 ] || rm -f "$f"
		i=$((i + 1))
	done
fi
# jitdump.skip: programs not to load (scripts/jit-identity/skip.txt).
skip=
[ -s jitdump.skip ] && skip="-s jitdump.skip"
# No address-space randomisation: what a program's image holds of the
# loader's address space (the user address of an arena, which the JIT
# puts in addr_space_cast and in arena pointers) is then the same on
# every kernel.
echo 0 > /proc/sys/kernel/randomize_va_space
dmesg -n 1
echo "JITDUMP_KERNEL $(uname -r) $(uname -v | tr ' ' _) objects=$(ls /tmp/objs | wc -l) sample=1/$k modes=$(echo $modes | tr ' ' ,)"
# The kernel's BTF first (as the dump named "btf"): the host's jitcmp needs
# it to tell BTF type IDs of the same type apart from other immediates.
if [ -r /sys/kernel/btf/vmlinux ]; then
	gzip -c /sys/kernel/btf/vmlinux > /tmp/btf.gz
	echo "JITDUMP_BEGIN btf $(md5sum < /tmp/btf.gz | cut -d' ' -f1) $(wc -c < /sys/kernel/btf/vmlinux)"
	base64 /tmp/btf.gz
	echo "JITDUMP_END btf"
	rm -f /tmp/btf.gz
fi
rc=0
for m in $modes; do
	if [ "$m" != none ]; then
		echo "$m" > $SYSCTL || { echo "jitdump: cannot set mode $m"; rc=1; continue; }
	fi
	echo "== jitdump: mode $m ($SYSCTL: $(cat $SYSCTL 2>/dev/null || echo absent)) at $(date +%s)"
	t0=$(date +%s)
	./jitdump $skip /tmp/objs/*.bpf.o > /tmp/dump 2> /tmp/progress &
	pid=$!
	n=0
	while kill -0 $pid 2>/dev/null; do
		sleep 5
		n=$((n + 1))
		[ $((n % 24)) = 0 ] &&
			echo "== jitdump: mode $m: $(grep -c '^O ' /tmp/dump) objects, $(grep -c '^P ' /tmp/dump) programs in $(($(date +%s) - t0)) s"
	done
	wait $pid
	jrc=$?
	t1=$(date +%s)
	[ $jrc = 0 ] || rc=1
	echo "JITDUMP_STATS mode=$m rc=$jrc secs=$((t1 - t0))" \
	     "objects=$(grep -c '^O ' /tmp/dump)" \
	     "ok=$(grep -c '^P .* ok ' /tmp/dump)" \
	     "fail=$(grep -c '^P .* fail ' /tmp/dump)" \
	     "skipped=$(grep -c '^P .* skip ' /tmp/dump)" \
	     "crashed=$(grep -c '^X ' /tmp/dump)"
	gzip -c /tmp/dump > /tmp/dump.gz
	echo "JITDUMP_BEGIN $m $(md5sum < /tmp/dump.gz | cut -d' ' -f1) $(wc -c < /tmp/dump)"
	base64 /tmp/dump.gz
	echo "JITDUMP_END $m"
	rm -f /tmp/dump /tmp/dump.gz
done
[ -e $SYSCTL ] && echo 1 > $SYSCTL
n=$(dmesg | grep -c -E 'BUG:|WARNING:|Oops')
echo "== jitdump: BUG/WARNING/Oops lines in dmesg: $n"
[ "$n" = 0 ] || dmesg | grep -A 20 -E 'BUG:|WARNING:|Oops' | head -80
exit $rc
