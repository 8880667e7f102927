#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the pipeline needs, if it is missing. Idempotent: a second run
# installs nothing and takes a second.
. "$(dirname "$0")/common.sh"

# Everything the pipeline runs, for a plain Debian bookworm (even a minbase
# debootstrap: `make fresh-check`), installed without recommends, so each
# tool is named here: git (prepare-src applies the series with git apply,
# export-patches), rsync (selftests/bpf copies test_progs-extras with it),
# python3 (libbpf's bpf_doc.py, check-console.py, the corpus parser),
# ca-certificates (cargo fetches crates.io over https), patch (jit-identity).
PKGS=(rustc-web rust-web-src libclang-dev clang lld llvm clang-19 llvm-19
      lld-19 libclang-19-dev llvm-19-dev flex bison bc libelf-dev libssl-dev zlib1g-dev
      libzstd-dev pkg-config libcap-dev dwarves cpio busybox-static kmod
      qemu-system-x86 xz-utils python3 python3-matplotlib make gcc libc6-dev
      rsync git ca-certificates patch)

# cargo: rustup's if there is one (common.sh puts ~/.cargo/bin on PATH),
# else Debian's cargo-web, the cargo of rustc-web (same version; it installs
# /usr/bin/cargo and conflicts with rustup, so never both).
command -v cargo >/dev/null || PKGS+=(cargo-web)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "ok installed" >/dev/null ||
		missing+=("$p")
done
have_src=$(dpkg-query -W -f='${Version}' "$KSRC_PKG" 2>/dev/null || true)

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ] || [ "$have_src" != "$KSRC_VERSION" ]; then
	log "apt: installing ${missing[*]} $KSRC_PKG"
	$SUDO apt-get update -q >/dev/null
	if apt-cache madison "$KSRC_PKG" | grep -F "| $KSRC_VERSION |" >/dev/null; then
		src="$KSRC_PKG=$KSRC_VERSION"
	else
		warn "$KSRC_PKG $KSRC_VERSION is gone from the archive:"
		warn "falling back to the newest 6.12; the series was tested on $KSRC_VERSION"
		src=$KSRC_PKG
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends --allow-downgrades \
		"${missing[@]}" "$src" >/dev/null
fi

if ! "$BINDGEN" --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	log "cargo: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
