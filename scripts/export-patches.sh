#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make patches`: the series as git-am-able patches, each with the new files
# patches/series assigns to it, in out/patches/. Then checks that they apply
# with `git am` to a repository of the pristine files and give exactly the
# prepared tree.
. "$(dirname "$0")/common.sh"

DEST=$OUT/patches
WORK=$OUT/patches-work
ID=(-c user.name=kasan-ebpf -c user.email=kasan-ebpf@example.org)
rm -rf "$WORK" "$DEST"
mkdir -p "$WORK" "$DEST"

mapfile -t LINES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/patches/series")
touched() {
	for l in "${LINES[@]}"; do
		set -- $l
		sed -n 's#^--- a/##p' "$TOP/patches/$1"
	done | sort -u
}

pristine_repo() {
	local dir=$1
	mkdir -p "$dir"
	git -C "$dir" init -q
	touched | while read -r f; do
		mkdir -p "$dir/$(dirname "$f")"
		cp "$PRISTINE/$f" "$dir/$f"
	done
	git -C "$dir" add -A
	git "${ID[@]}" -C "$dir" commit -q -m "pristine $KSRC_VERSION"
}

pristine_repo "$WORK"
for l in "${LINES[@]}"; do
	set -- $l
	p=$1
	shift
	git "${ID[@]}" -C "$WORK" am -q "$TOP/patches/$p" ||
		die "patches/$p does not apply with git am"
	for f in "$@"; do
		mkdir -p "$WORK/$(dirname "$f")"
		cp "$TOP/$f" "$WORK/$f"
	done
	if [ $# -gt 0 ]; then
		git -C "$WORK" add -- "$@"
		git "${ID[@]}" -C "$WORK" commit -q --amend --no-edit
	fi
done
git -C "$WORK" format-patch -q --zero-commit -o "$DEST" HEAD~${#LINES[@]}

# Check: git am onto a fresh pristine repository gives the prepared tree.
CHECK=$OUT/patches-check
rm -rf "$CHECK"
pristine_repo "$CHECK"
git "${ID[@]}" -C "$CHECK" am -q "$DEST"/*.patch || die "exported series does not apply"
git -C "$CHECK" ls-files | while read -r f; do
	cmp -s "$CHECK/$f" "$SRC/$f" || die "$f differs from the prepared tree"
done
rm -rf "$CHECK"
log "series exported to $DEST ($(ls "$DEST" | wc -l) patches); git am check passed"

# checkpatch --strict on every patch: the summary per patch goes to
# $DEST/checkpatch.txt (the full output next to it); errors fail the export.
# --no-tree: it runs from the prepared source, outside a git work tree.
CP=$SRC/scripts/checkpatch.pl
[ -f "$CP" ] || die "$CP is missing: make source"
errors=0
: > "$DEST/checkpatch.txt"
for p in "$DEST"/*.patch; do
	out=$DEST/$(basename "$p" .patch).checkpatch
	(cd "$DEST" && perl "$CP" --strict --no-tree "$p" > "$out" 2>&1) || true
	total=$(grep -E '^total: [0-9]+ errors' "$out" | tail -1)
	[ -n "$total" ] || die "checkpatch gave no verdict on $(basename "$p"); see $out"
	printf '%s: %s\n' "$(basename "$p")" "$total" | tee -a "$DEST/checkpatch.txt"
	errors=$((errors + $(sed -E 's/^total: ([0-9]+) errors.*/\1/' <<< "$total")))
done
[ "$errors" = 0 ] || die "checkpatch --strict: $errors errors (see $DEST/*.checkpatch)"
log "checkpatch --strict: no errors ($DEST/checkpatch.txt)"
