#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prepare out/linux: the pristine Debian source, our patch series (patches/
# series) applied, and our new files (the repo's kernel-path tree) copied in.
#
# Incremental by design: the patched versions of every file our series or
# overlay touches are generated in a scratch tree from pristine copies, and
# only files whose content changed are written into out/linux. Unchanged
# files keep their mtime, so kbuild rebuilds only what really changed, and
# re-running never applies a patch twice. A file that we stop touching is
# restored from pristine (or removed, if it was new).
. "$(dirname "$0")/common.sh"

# The kernel source setup.sh downloaded: the pinned version, or the newest
# 7.3.x if the pin is gone from the archive (setup.sh warned then).
have=$(cat "$KSRC_DL/$KSRC_PKG.version" 2>/dev/null || echo "$KSRC_VERSION")
DEB=$(ksrc_deb "$have")
[ "$have" = "$KSRC_VERSION" ] ||
	warn "kernel source is $KSRC_PKG $have, the series is tested on $KSRC_VERSION"

# Top-level directories of the repo that mirror kernel paths.
KPATHS=(arch kernel mm lib net tools Documentation include)
# Files removed from the prepared tree, each for a reason given here:
# (none on 7.3: Debian's 6.12.117 shipped prog_tests/bpf_attr_size.c without
# the progs/cgroup_skb_direct_packet_access.c it includes; 7.3 has both.)
DROP=()

if [ "$(cat "$PRISTINE/.kasan-ebpf-pkg" 2>/dev/null)" != "$have" ]; then
	[ -f "$DEB" ] && [ -f "$DEB.sha256" ] ||
		die "$DEB is missing: run scripts/setup.sh"
	(cd "$KSRC_DL" && sha256sum -c --quiet "$DEB.sha256") ||
		die "$DEB does not match $DEB.sha256: delete both and run scripts/setup.sh"
	log "unpacking usr/src/$KSRC_PKG.tar.xz of $DEB into $PRISTINE"
	rm -rf "$PRISTINE" "$SRC"
	mkdir -p "$PRISTINE"
	dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - "./usr/src/$KSRC_PKG.tar.xz" |
		tar -xJf - -C "$PRISTINE" --strip-components=1
	echo "$have" > "$PRISTINE/.kasan-ebpf-pkg"
fi
if [ ! -f "$SRC/.kasan-ebpf-touched" ]; then
	log "copying pristine source to $SRC"
	rm -rf "$SRC"
	# The tree's contents, not $PRISTINE itself: were out/pristine a
	# symlink, cp -a would copy the link, and the series would then be
	# applied to the pristine tree through it (seen 2026-12-06).
	mkdir -p "$SRC"
	cp -a "$PRISTINE/." "$SRC/"
	: > "$SRC/.kasan-ebpf-touched"
fi

# The series: one patch per line, '#' comments; the first word is the file.
mapfile -t PATCHES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' \
	"$TOP/patches/series" | awk '{print $1}')
mapfile -t OVERLAY < <(cd "$TOP" && git ls-files --cached --others \
	--exclude-standard -- "${KPATHS[@]}" | sort -u | while read -r f; do
		[ -f "$f" ] && echo "$f"; done)

for f in "${OVERLAY[@]}"; do
	[ -e "$PRISTINE/$f" ] &&
		die "$f exists upstream: change it with a patch, not an overlay"
done

patched_files() {
	sed -n -e 's#^+++ b/##p' -e 's#^--- a/##p' "$@" | sort -u
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mapfile -t TOUCHED < <({
	cat "$SRC/.kasan-ebpf-touched"
	printf '%s\n' "${OVERLAY[@]}" "${DROP[@]}"
	for p in "${PATCHES[@]}"; do patched_files "$TOP/patches/$p"; done
} | sed '/^$/d' | sort -u)

for f in "${TOUCHED[@]}"; do
	if [ -f "$PRISTINE/$f" ]; then
		mkdir -p "$scratch/$(dirname "$f")"
		cp -p "$PRISTINE/$f" "$scratch/$f"
	fi
done
for p in "${PATCHES[@]}"; do
	(cd "$scratch" && git apply --whitespace=nowarn "$TOP/patches/$p") ||
		die "patches/$p does not apply to the pristine $KSRC_PKG $have"
done
for f in "${OVERLAY[@]}"; do
	mkdir -p "$scratch/$(dirname "$f")"
	cp "$TOP/$f" "$scratch/$f"
done
for f in "${DROP[@]}"; do
	rm -f "$scratch/$f"
done

changed=0
for f in "${TOUCHED[@]}"; do
	if [ -f "$scratch/$f" ]; then
		if ! cmp -s "$scratch/$f" "$SRC/$f"; then
			mkdir -p "$SRC/$(dirname "$f")"
			cp "$scratch/$f" "$SRC/$f"
			changed=$((changed + 1))
		fi
	elif [ -e "$SRC/$f" ]; then
		rm -f "$SRC/$f"
		changed=$((changed + 1))
	fi
done
# Remember what we manage, so that a file dropped from the series or the
# overlay is restored next time.
(cd "$scratch" && for f in "${TOUCHED[@]}"; do
	[ -f "$PRISTINE/$f" ] || [ -f "$f" ] && echo "$f"; done) \
	> "$SRC/.kasan-ebpf-touched"
log "source ready: ${#PATCHES[@]} patches, ${#OVERLAY[@]} new files, $changed files updated"
