# SPDX-License-Identifier: GPL-2.0
#
# kasan-ebpf: KASAN for JIT-compiled BPF on x86-64. This Makefile drives
# everything: set-up, kernel, modules, selftests, QEMU guest, tests, bench.
# See README.md. Build output goes to out/ (git-ignored).

SHELL := /bin/bash
.DEFAULT_GOAL := run
S := scripts

.PHONY: run test setup source config kernel modules selftests initramfs vm \
	host-test guest-test patches bench corpus corpus-bytes jit-identity fresh-check clean help

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## run        set up, build, boot the kernel and show the demonstration
run: initramfs
	$(S)/run-guest.sh demo

## test       host tests (cargo), then the in-guest tests; ends in "N passed, N failed"
test:
	$(S)/test.sh

## setup      install missing packages and tools (idempotent)
setup:
	$(S)/setup.sh

## source     prepare out/linux: pristine source + patches/ + our new files
source: setup
	$(S)/prepare-src.sh

## config     configure out/build (tinyconfig + selftests/bpf config + ours)
config: source
	$(S)/configure.sh

## kernel     build the kernel (incremental)
kernel: config
	$(S)/build.sh kernel

## modules    build our Rust test module against the kernel
modules: kernel
	$(S)/build.sh modules

## selftests  build test_progs (with our tests), test_verifier, bpf_testmod.ko
selftests: modules
	$(S)/build.sh selftests

## initramfs  pack the guest's initramfs (busybox, test binaries, modules)
initramfs: selftests
	$(S)/mkinitramfs.sh

## vm         boot the guest: a shell, or CMD="..." to run one command
vm: initramfs
	$(S)/run-guest.sh shell $(if $(CMD),"$(CMD)")

## host-test  only the host tests of the emitter (cargo)
host-test: setup
	cd host && cargo test --release

## guest-test only the in-guest tests
guest-test: initramfs
	$(S)/run-guest.sh test

## patches    export the series with our new files as git-am-able patches
patches: source
	$(S)/export-patches.sh

## bench      measure the checks' cost in one boot: modes 0, 1, 2 side by side
bench: initramfs
	$(S)/bench.sh

## corpus     upstream test_verifier + a test_progs set at bpf_jit_kasan 0, 1, 2 (~1 h)
corpus: initramfs
	$(S)/corpus.sh

## corpus-bytes JIT bytes and checks per access over the selftests' programs (~1 h)
corpus-bytes: initramfs
	$(S)/jit-identity.sh bytes

## jit-identity JIT images with CONFIG_KASAN_EBPF off vs the unpatched kernel, byte for byte (~1.5 h)
jit-identity: selftests
	$(S)/jit-identity.sh

## fresh-check make setup + make test in a new debootstrapped Debian root (FRESH_TARGET=, FRESH_SRC=worktree)
fresh-check:
	$(S)/fresh-check.sh

## clean      remove out/ and cargo's target/
clean:
	rm -rf out host/target
