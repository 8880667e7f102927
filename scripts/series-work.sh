#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Work on the patch series as git commits.
#
#   scripts/series-work.sh init     out/work: a git repository of the pristine
#                                   files the series touches, one commit per
#                                   patch (git am)
#   scripts/series-work.sh export   rewrite patches/*.patch from out/work
#
# Edit files in out/work, commit with `git commit --fixup=<commit>` and
# `git rebase -i --autosquash`, export, then scripts/prepare-src.sh. New
# files of ours stay in this repo's kernel-path tree, listed in patches/series.
. "$(dirname "$0")/common.sh"

WORK=$OUT/work
ID=(-c user.name=kasan-ebpf -c user.email=kasan-ebpf@example.org)
mapfile -t PATCHES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' \
	"$TOP/patches/series" | awk '{print $1}')

case ${1:-} in
init)
	[ -e "$WORK" ] && die "$WORK exists: remove it first"
	[ -d "$PRISTINE" ] || "$TOP/scripts/prepare-src.sh"
	mkdir -p "$WORK"
	git -C "$WORK" init -q
	for p in "${PATCHES[@]}"; do
		sed -n 's#^--- a/##p' "$TOP/patches/$p"
	done | sort -u | while read -r f; do
		mkdir -p "$WORK/$(dirname "$f")"
		cp "$PRISTINE/$f" "$WORK/$f"
	done
	git -C "$WORK" add -A
	git "${ID[@]}" -C "$WORK" commit -q -m "pristine $KSRC_VERSION (files touched by the series)"
	for p in "${PATCHES[@]}"; do
		git "${ID[@]}" -C "$WORK" am -q "$TOP/patches/$p"
	done
	log "$WORK: ${#PATCHES[@]} commits on the pristine files"
	;;
export)
	rm -f "$TOP"/patches/0*.patch
	git -C "$WORK" format-patch -q --zero-commit -o "$TOP/patches" \
		"HEAD~${#PATCHES[@]}"
	ls "$TOP/patches"/*.patch | sed 's#.*/##' | diff - <(printf '%s\n' "${PATCHES[@]}") ||
		warn "patch names changed: update patches/series"
	;;
*)
	die "usage: $0 init|export"
	;;
esac
