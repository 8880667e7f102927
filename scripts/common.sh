# SPDX-License-Identifier: GPL-2.0
# Shared settings for the kasan-ebpf pipeline scripts. Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$TOP/out}
PRISTINE=$OUT/pristine		# the unpacked Debian tarball, never modified
SRC=$OUT/linux			# pristine + our series + our new files
BUILD=$OUT/build		# kbuild O= directory
SELFTESTS=$OUT/selftests	# selftests/bpf OUTPUT= directory

# The kernel base the series is tested on (issue: pin it, warn on fallback):
# Debian's linux-source-7.3 from trixie-backports (arch all, installable on
# bookworm). setup.sh downloads its .deb into $KSRC_DL with a private apt
# configuration (the system's apt sources are left alone) and records the
# version it got in $KSRC_DL/$KSRC_PKG.version; prepare-src.sh unpacks the
# tarball (usr/src/$KSRC_PKG.tar.xz) from that .deb.
KSRC_PKG=linux-source-7.3
KSRC_VERSION=7.3.4-1~bpo13+1
KSRC_SUITE=trixie-backports
KSRC_MIRROR=${KSRC_MIRROR:-http://deb.debian.org/debian}
KSRC_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
KSRC_DL=$OUT/dl

# ksrc_deb VERSION: the path of the downloaded .deb of $KSRC_PKG VERSION.
ksrc_deb() {
	echo "$KSRC_DL/${KSRC_PKG}_${1//:/%3a}_all.deb"
}
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
