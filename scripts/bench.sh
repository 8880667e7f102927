#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: build the benchmark (BPF programs, skeletons, the loader)
# against what `make selftests` left in out/selftests, pack it into the
# initramfs, run it in one boot of the guest (modes 0, 1 and 2 of
# net.core.bpf_jit_kasan side by side), then write out/bench/results.json,
# print the table and the targets, and draw out/bench/bench.{svg,png}.
#
# BENCH_ARGS are the loader's arguments in the guest (e.g. "-r 9 -t 200";
# see bench/kasan_ebpf_bench.c), built into it as its defaults since the
# guest job passes none. The guest runs under TCG: compare ratios, not
# absolute times.
. "$(dirname "$0")/common.sh"

BENCH=$TOP/bench
BOUT=$OUT/bench
BB=$BOUT/build
BENCH_ARGS=${BENCH_ARGS:-}
PY=/usr/bin/python3		# Debian's, with python3-matplotlib

# What the selftests build left: bpftool, libbpf.a and its headers, and
# vmlinux.h of our kernel.
BPFTOOL=$SELFTESTS/tools/sbin/bpftool
LIBBPF_A=$SELFTESTS/tools/build/libbpf/libbpf.a
INC=$SELFTESTS/tools/include
for f in "$BPFTOOL" "$LIBBPF_A" "$INC/bpf/bpf_helpers.h" "$INC/bpf/libbpf.h"; do
	[ -e "$f" ] || die "$f is missing: make selftests first"
done
[[ "$BENCH_ARGS" =~ ^[-a-zA-Z0-9_\ ]*$ ]] || die "BENCH_ARGS: only options, numbers, names"
UAPI=$SRC/tools/include/uapi	# the kernel's uapi headers, as libbpf uses
[ -f "$UAPI/linux/bpf.h" ] || die "$UAPI/linux/bpf.h is missing: make source"

mkdir -p "$BB" "$OUT/guest-extra" "$OUT/logs"
blog=$OUT/logs/bench-build.log
: > "$blog"
run() {
	echo "+ $*" >> "$blog"
	"$@" >> "$blog" 2>&1 || { tail -30 "$blog" >&2; die "failed: $*"; }
}

log "bench: building BPF programs, skeletons and the loader in $BB"
# vmlinux.h: the selftests' one, else dumped from our kernel's BTF.
VMLINUX_H_DIR=$INC
if [ ! -f "$INC/vmlinux.h" ]; then
	[ -f "$BUILD/vmlinux" ] || die "no $INC/vmlinux.h and no $BUILD/vmlinux"
	warn "no $INC/vmlinux.h: dumping one from $BUILD/vmlinux"
	mkdir -p "$BB/vmlinux"
	"$BPFTOOL" btf dump file "$BUILD/vmlinux" format c > "$BB/vmlinux/vmlinux.h"
	VMLINUX_H_DIR=$BB/vmlinux
fi
for src in "$BENCH"/progs/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	run clang-19 -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
		-I"$VMLINUX_H_DIR" -I"$INC" -c "$src" -o "$BB/$name.bpf.o"
	"$BPFTOOL" gen skeleton "$BB/$name.bpf.o" name "$name" \
		> "$BB/$name.skel.h" 2>> "$blog" ||
		{ tail -30 "$blog" >&2; die "bpftool gen skeleton $name failed"; }
done
run gcc -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-I"$BB" -I"$INC" -I"$UAPI" -DBENCH_DEFAULT_ARGS="\"$BENCH_ARGS\"" \
	"$BENCH/kasan_ebpf_bench.c" \
	"$LIBBPF_A" -lelf -lz -lzstd -o "$BB/kasan_ebpf_bench"

install -m 755 "$BB/kasan_ebpf_bench" "$OUT/guest-extra/kasan_ebpf_bench"
"$TOP/scripts/mkinitramfs.sh"

# ~1-3 minutes of guest time under TCG with the defaults.
set +e
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900} "$TOP/scripts/run-guest.sh" bench
grc=$?
set -e
[ "$grc" = 0 ] || warn "the bench guest job exited with $grc; reporting what it printed"

LOGF=$(readlink -f "$OUT/logs/guest-bench.log")
# The same images natively, on this machine's CPU (host/src/native.rs):
# out/bench/native.json, which report.py folds into results.json.
rm -f "$BOUT/native.json"
log "bench: the guest's JIT images natively on this CPU (host/src/bin/native_bench.rs)"
if ! (cd "$TOP/host" && cargo run --quiet --release --bin native_bench -- \
	--log "$LOGF" --out "$BOUT/native.json"); then
	warn "native_bench failed: no native figures"
	[ "$grc" = 0 ] && grc=1
fi
"$PY" "$BENCH/report.py" --log "$LOGF" --out "$BOUT"
exit "$grc"
