#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build steps against the prepared source and config: kernel, modules,
# selftests. Each is incremental; logs go to out/logs/.
. "$(dirname "$0")/common.sh"

mkdir -p "$OUT/logs"
step=$1

KMOD_DIR=$SRC/tools/testing/selftests/bpf/bpf_kasan_testmod

# make in selftests/bpf, with our kernel and toolchain.
selftests_make() {
	mkdir -p "$SELFTESTS"
	make -C "$SRC/tools/testing/selftests/bpf" -j"$JOBS" LLVM=-19 \
		CLANG=clang-19 LLC=llc-19 LLVM_STRIP=llvm-strip-19 \
		LLVM_OBJCOPY=llvm-objcopy-19 "${KMAKE_VARS[@]}" KDIR="$BUILD" \
		VMLINUX_BTF="$BUILD/vmlinux" OUTPUT="$SELFTESTS" "$@"
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
	# patch 0006 gives light and sub-skeletons the rule that maps those
	# to out/selftests, as upstream had for plain skeletons, so the .d
	# files can stay (a second build used to stop at "No rule to make
	# target 'atomics.lskel.h'").
	run_logged selftests selftests_make test_progs test_verifier
	;;
*)
	die "usage: $0 kernel|modules|selftests"
	;;
esac
