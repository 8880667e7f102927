#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the guest's initramfs: busybox, our /init and jobs, the test binaries
# with the shared libraries they link, and the modules.
. "$(dirname "$0")/common.sh"

ROOT=$OUT/initramfs
IMG=$OUT/initramfs.cpio
CMD=${1:-}
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,run,kasan-ebpf/jobs}
cp /bin/busybox "$ROOT/bin/busybox"
install -m 755 "$TOP/scripts/guest/init" "$ROOT/init"
cp "$TOP/scripts/guest/lib.sh" "$ROOT/kasan-ebpf/"
cp "$TOP"/scripts/guest/jobs/*.sh "$ROOT/kasan-ebpf/jobs/"
echo "root:x:0:0:root:/root:/bin/sh" > "$ROOT/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$ROOT/etc/passwd"
echo "root:x:0:" > "$ROOT/etc/group"
printf '%s\n' "$CMD" > "$ROOT/kasan-ebpf/cmd"

add_bin() {
	local f=$1 dst=$ROOT/kasan-ebpf/$(basename "$1")
	cp "$f" "$dst"
	# The shared libraries it needs, at their host paths (none for
	# modules and BPF objects, which ldd rejects).
	local libs lib
	libs=$(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true)
	for lib in $libs; do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

for f in test_progs test_verifier bpf_testmod.ko bpf_kasan_testmod.ko \
	 tools/sbin/bpftool kasan_ebpf.bpf.o; do
	[ -e "$SELFTESTS/$f" ] && add_bin "$SELFTESTS/$f"
done
# Extra binaries (e.g. the benchmark's) that scripts put in out/guest-extra/.
for f in "$OUT"/guest-extra/*; do
	[ -f "$f" ] && add_bin "$f"
done

(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$IMG"
log "initramfs: $IMG ($(du -h "$IMG" | cut -f1))"
