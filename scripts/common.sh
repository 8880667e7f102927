# SPDX-License-Identifier: GPL-2.0
# Shared settings for the kasan-ebpf pipeline scripts. Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$TOP/out}
PRISTINE=$OUT/pristine		# the unpacked Debian tarball, never modified
SRC=$OUT/linux			# pristine + our series + our new files
BUILD=$OUT/build		# kbuild O= directory
SELFTESTS=$OUT/selftests	# selftests/bpf OUTPUT= directory

# The kernel base the series is tested on (issue: pin it, warn on fallback).
KSRC_PKG=linux-source-6.12
KSRC_VERSION=6.12.117-1~deb12u1
BINDGEN_VERSION=0.73.2
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
# cargo: rustup's, even if the caller's PATH lacks ~/.cargo/bin, else
# Debian's cargo-web (/usr/bin/cargo), which setup.sh installs if needed.
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
	PATH=$HOME/.cargo/bin:$PATH
fi

# Rust with KASAN needs clang; clang-19 also compiles the BPF programs.
KMAKE_VARS=(LLVM=-19 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc
	    BINDGEN="$BINDGEN")
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
JOBS=${JOBS:-$(($(nproc) + 1))}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[1;33mWARNING: %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# run_logged NAME CMD...: runs CMD with its output in $RUN_LOG_DIR/NAME.log
# (default out/logs); on failure prints its errors and tail and dies.
run_logged() {
	local name=$1
	shift
	local logf=${RUN_LOG_DIR:-$OUT/logs}/$name.log
	local t0=$SECONDS
	mkdir -p "$(dirname "$logf")"
	log "$name: $* (log: $logf)"
	if ! "$@" > "$logf" 2>&1; then
		grep -E "error|Error|ERROR" "$logf" | head -40 >&2 || true
		tail -20 "$logf" >&2
		die "$name failed; see $logf"
	fi
	log "$name: done in $((SECONDS - t0)) s"
}

kmake() {
	make -C "$SRC" O="$BUILD" "${KMAKE_VARS[@]}" "$@"
}
