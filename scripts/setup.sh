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
# ca-certificates (cargo fetches crates.io over https), patch (jit-identity),
# debian-archive-keyring (verifies the kernel source's suite, below).
PKGS=(rustc-web rust-web-src libclang-dev clang lld llvm clang-19 llvm-19
      lld-19 libclang-19-dev llvm-19-dev flex bison bc libelf-dev libssl-dev zlib1g-dev
      libzstd-dev pkg-config libcap-dev dwarves cpio busybox-static kmod
      qemu-system-x86 xz-utils python3 python3-matplotlib make gcc libc6-dev
      rsync git ca-certificates patch debian-archive-keyring)

# cargo: rustup's if there is one (common.sh puts ~/.cargo/bin on PATH),
# else Debian's cargo-web, the cargo of rustc-web (same version; it installs
# /usr/bin/cargo and conflicts with rustup, so never both).
command -v cargo >/dev/null || PKGS+=(cargo-web)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "ok installed" >/dev/null ||
		missing+=("$p")
done

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
	log "apt: installing ${missing[*]}"
	$SUDO apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel source: $KSRC_PKG from $KSRC_SUITE, downloaded (not installed)
# into $KSRC_DL with an apt configuration of our own, so neither the
# system's apt sources nor root are needed. apt verifies the suite's
# Release signature (Debian's archive keyring: bookworm's has the trixie
# keys) and the .deb's hash; the hash is kept beside the .deb for
# prepare-src.sh. Once the pinned version is here, nothing is fetched.
ksrc_apt() {
	local cmd=$1
	shift
	"$cmd" -q -o Dir::Etc::sourcelist="$KSRC_DL/apt/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$KSRC_DL/apt/lists" \
		-o Dir::Cache="$KSRC_DL/apt/cache" \
		-o APT::Sandbox::User="$(id -un)" "$@"
}
# ksrc_have VERSION: its .deb is here and complete (the .sha256 beside it is
# written once the download is verified).
ksrc_have() {
	[ -f "$(ksrc_deb "$1")" ] && [ -f "$(ksrc_deb "$1").sha256" ]
}

if ! ksrc_have "$KSRC_VERSION"; then
	log "apt: looking up $KSRC_PKG $KSRC_VERSION in $KSRC_MIRROR $KSRC_SUITE"
	mkdir -p "$KSRC_DL/apt/lists/partial" "$KSRC_DL/apt/cache/archives/partial"
	echo "deb [signed-by=$KSRC_KEYRING] $KSRC_MIRROR $KSRC_SUITE main" \
		> "$KSRC_DL/apt/sources.list"
	ksrc_apt apt-get update >/dev/null ||
		die "apt-get update of $KSRC_SUITE failed (see above)"
	mapfile -t avail < <(ksrc_apt apt-cache madison "$KSRC_PKG" |
		awk -F' *[|] *' '{ print $2 }' | sort -u)
	ver=$KSRC_VERSION
	if ! printf '%s\n' "${avail[@]}" | grep -qxF "$KSRC_VERSION"; then
		ver=
		for v in "${avail[@]}"; do
			case $v in 7.3|7.3.*|7.3-*) ;; *) continue ;; esac
			[ -z "$ver" ] || dpkg --compare-versions "$v" gt "$ver" && ver=$v
		done
		[ -n "$ver" ] || die "$KSRC_SUITE has no $KSRC_PKG 7.3.x at all"
		warn "$KSRC_PKG $KSRC_VERSION is gone from $KSRC_SUITE:"
		warn "falling back to the newest 7.3.x, $ver; the series was tested on $KSRC_VERSION"
	fi
	deb=$(ksrc_deb "$ver")
	if ! ksrc_have "$ver"; then
		sha=$(ksrc_apt apt-cache show "$KSRC_PKG=$ver" |
			awk '$1 == "SHA256:" { print $2; exit }')
		[ -n "$sha" ] || die "no SHA256 for $KSRC_PKG $ver in $KSRC_SUITE's index"
		log "apt: downloading $KSRC_PKG $ver into $KSRC_DL"
		(cd "$KSRC_DL" && ksrc_apt apt-get download "$KSRC_PKG=$ver" >/dev/null) ||
			die "apt-get download $KSRC_PKG=$ver failed"
		[ -f "$deb" ] || die "apt-get download did not write $deb"
		echo "$sha  $(basename "$deb")" > "$deb.sha256.new"
		if ! (cd "$KSRC_DL" && sha256sum -c --quiet "$deb.sha256.new"); then
			rm -f "$deb" "$deb.sha256.new"
			die "$deb does not match its SHA256 in $KSRC_SUITE's index"
		fi
		mv "$deb.sha256.new" "$deb.sha256"
	fi
	echo "$ver" > "$KSRC_DL/$KSRC_PKG.version"
elif [ "$(cat "$KSRC_DL/$KSRC_PKG.version" 2>/dev/null)" != "$KSRC_VERSION" ]; then
	echo "$KSRC_VERSION" > "$KSRC_DL/$KSRC_PKG.version"
fi

if ! "$BINDGEN" --version 2>/dev/null | grep -qF "$BINDGEN_VERSION"; then
	log "cargo: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi
