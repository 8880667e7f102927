#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build steps against the prepared source and config: kernel, modules,
# selftests. Each is incremental; logs go to out/logs/.
. "$(dirname "$0")/common.sh"

mkdir -p "$OUT/logs"
step=$1

KMOD_DIR=$SRC/tools/testing/selftests/bpf/bpf_kasan_testmod

# make in selftests/bpf, with our kernel and toolchain.
# KBUILD_OUTPUT: 7.3's test_kmods/Makefile builds bpf_testmod.ko against the
# kernel build dir it names (with KDIR alone it would use the source tree).
# CLANG_CFLAGS (kept recursive, so the Makefile's own value is expanded in
# it): 7.3's libarena is compiled without -mcpu, as a newer clang than
# clang-19 builds it; with clang-19's default BPF CPU it has neither 32-bit
# atomics nor signed division (v4). The test runners' own -mcpu (v3, v2 for
# no_alu32, v4 for cpuv4) comes later on their command lines and wins.
selftests_make() {
	mkdir -p "$SELFTESTS"
	make -C "$SRC/tools/testing/selftests/bpf" -j"$JOBS" LLVM=-19 \
		CLANG=clang-19 LLC=llc-19 LLVM_STRIP=llvm-strip-19 \
		LLVM_OBJCOPY=llvm-objcopy-19 "${KMAKE_VARS[@]}" KDIR="$BUILD" \
		KBUILD_OUTPUT="$BUILD" VMLINUX_BTF="$BUILD/vmlinux" \
		CLANG_CFLAGS='$(CLANG_SYS_INCLUDES) -mcpu=v4' \
		OUTPUT="$SELFTESTS" "$@"
}

case $step in
kernel)
	run_logged kernel kmake -j"$JOBS" all
	;;
modules)
	[ -d "$KMOD_DIR" ] || die "$KMOD_DIR is missing: run scripts/prepare-src.sh"
	# The selftests' Makefile builds the module (next to bpf_testmod.ko),
	# but kbuild does not rebuild an external module's objects when the
	# kernel changed (their BTF and the Rust crates they link must match
	# it): clean them then.
	if [ "$BUILD/vmlinux" -nt "$KMOD_DIR/bpf_kasan_testmod.ko" ]; then
		make -C "$BUILD" M="$KMOD_DIR" "${KMAKE_VARS[@]}" clean >/dev/null
	fi
	run_logged modules selftests_make "$SELFTESTS/bpf_kasan_testmod.ko"
	;;
selftests)
	# The dependency files name generated skeletons by their basenames;
	# 7.3's Makefile finds all three kinds in out/selftests (vpath), so
	# the .d files can stay between builds.
	run_logged selftests selftests_make test_progs test_verifier
	;;
*)
	die "usage: $0 kernel|modules|selftests"
	;;
esac
