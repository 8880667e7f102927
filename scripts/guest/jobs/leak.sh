#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-append: kmemleak=on
#
# Nothing leaks: test_progs loads bpf_kasan_testmod.ko, has it hand out
# valid, freed and out-of-bounds kmalloc and vmalloc buffers to the
# kasan_ebpf programs, reloads it in a loop (module_reload) and unloads it;
# five times over. Then kmemleak, which was told to forget everything
# allocated before, must find no unreferenced object. Exit status 0 iff so.
. /kasan-ebpf/lib.sh
KML=/sys/kernel/debug/kmemleak
SUBTESTS=valid_buffer,uaf_inline,kmalloc_oob_inline,vmalloc_oob_inline
SUBTESTS=$SUBTESTS,partial_granule,module_reload
ROUNDS=5

check "kmemleak is on" [ -w $KML ]
[ $rc = 0 ] || exit 1
# Report nothing that existed before the loop.
echo scan > $KML
echo clear > $KML

# The subtests plant KASAN reports and check each one themselves.
planted_begin leak kasan
i=1
while [ $i -le $ROUNDS ]; do
	tests=$(echo "$SUBTESTS" | sed 's#\([^,]*\)#kasan_ebpf/\1#g')
	check "round $i: test_progs -t $tests" \
		sh -c "./test_progs -t '$tests' > /tmp/round-$i.log 2>&1"
	# Indented: scripts/test.sh counts these subtests in the test job.
	sed -n "s/^#[0-9]*\/[0-9]* */  round $i: /p" /tmp/round-$i.log
	i=$((i + 1))
done
planted_end leak
check "bpf_kasan_testmod is unloaded" \
	sh -c '! grep -q "^bpf_kasan_testmod " /proc/modules'

# kmemleak reports objects older than 5 s that no scan found referenced.
sleep 6
echo scan > $KML
echo scan > $KML
cat $KML > /tmp/kmemleak.txt
n=$(grep -c "unreferenced object" /tmp/kmemleak.txt)
echo "kmemleak: $n unreferenced object(s) after $ROUNDS rounds"
cat /tmp/kmemleak.txt
check "kmemleak: no unreferenced object after $ROUNDS load/run/unload rounds" \
	[ "$n" = 0 ]
exit $rc
