#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make jit-identity`: measure that, with CONFIG_KASAN_EBPF off, the x86-64
# JIT emits byte for byte what the unpatched kernel emits for the same BPF
# program (up to addresses that legitimately differ between two kernels).
#
# Builds, incrementally, under out/ident/ (see IDENT below):
#  - pristine/build: the unpacked Debian source out/pristine, unpatched (an
#    O= build: the source tree is only read, and checked to stay so);
#  - off/build: the source with the series of the repo's HEAD commit,
#    prepared by a git worktree of HEAD (repo/) into off/linux, from
#    off/pristine, a copy of out/pristine (HEAD must target the same
#    kernel: commit a port before running this);
# both from the main kernel's .config (out/build/.config, copied when this
# runs) with CONFIG_KASAN_EBPF disabled, and fails unless the two .config
# files are equal apart from that symbol. Then boots each kernel (QEMU TCG)
# with one initramfs holding jitdump (scripts/jit-identity/jitdump.c) and the
# selftests' BPF objects: every program of every object is loaded alone and
# its JIT image dumped (but those of scripts/jit-identity/skip.txt); the
# dump and the kernel's BTF come back through the console as gzip+base64.
# jitcmp (scripts/jit-identity/jitcmp, iced-x86) decodes and compares the
# dumps instruction by instruction; out/ident/report.txt has its reports.
#
# Controls, so that the comparison is seen to fail: the main kernel (a copy
# of out/build's bzImage) is booted once and dumped with
# net.core.bpf_jit_kasan=1 (must differ from pristine) and =0 (must equal
# pristine).
#
# Usage: scripts/jit-identity.sh [all|build|dump|compare|bytes]   (default all;
# bytes: `make corpus-bytes`, section 8)
# Environment: JIT_IDENTITY_KERNELS (dump only these of "pristine off main"),
# JIT_IDENTITY_CONFIG (the .config to start from, default out/build/.config),
# JIT_IDENTITY_EXTRA_PATCH (a diff applied to off/linux after the series),
# JIT_IDENTITY_OBJS (directory of the *.bpf.o, default out/selftests),
# JIT_IDENTITY_MAIN_SAMPLE (k: the main kernel dumps every k-th object only;
# default 4, as its boot dumps each object twice), JIT_IDENTITY_SAMPLE (k:
# the pristine and off kernels too; default 1, every object),
# JIT_IDENTITY_MODES (modes dumped on the main kernel, default "0 1"),
# JIT_IDENTITY_TIMEOUT (seconds per guest), JOBS (make -j, default 3).
# Exit status: non-zero if the pristine/off comparison or the mode-0 control
# shows any difference, or the mode-1 control shows none.
. "$(dirname "$0")/common.sh"

IDENT=$OUT/ident
MAIN_BUILD=$OUT/build		# the main kernel: read only here
MAIN_CONFIG=${JIT_IDENTITY_CONFIG:-$MAIN_BUILD/.config}
OBJS_FROM=${JIT_IDENTITY_OBJS:-$SELFTESTS}
LIBBPF_A=$SELFTESTS/tools/build/libbpf/libbpf.a
LIBBPF_INC=$SELFTESTS/tools/include
LOGS=$IDENT/logs
JOBS=${JOBS:-3}
NICE=(nice -n 10)
# The LLVM the kernel and the selftests are built with (LLVM=-<version>).
LLVM_STRIP=llvm-strip
for v in "${KMAKE_VARS[@]}"; do
	[[ "$v" == LLVM=-* ]] && LLVM_STRIP=llvm-strip${v#LLVM=}
done

step() { log "jit-identity: $*"; }

# run_logged (common.sh) writes its logs here.
RUN_LOG_DIR=$LOGS

# --- 1. the patched source of HEAD, in our own worktree -------------------
prepare_off_source() {
	local head
	head=$(git -C "$TOP" rev-parse HEAD)
	if [ ! -e "$IDENT/repo/.git" ]; then
		git -C "$TOP" worktree prune
		git -C "$TOP" worktree add -q --detach "$IDENT/repo" "$head"
	fi
	git -C "$IDENT/repo" checkout -q --detach "$head"
	git -C "$IDENT/repo" reset -q --hard "$head"
	git -C "$IDENT/repo" clean -q -fdx
	echo "$head" > "$IDENT/off.commit"
	step "off: series of HEAD $head ($(git -C "$TOP" log -1 --format=%s "$head"))"
	if ! git -C "$TOP" diff --quiet HEAD -- patches arch kernel mm lib net include ||
	   [ -n "$(git -C "$TOP" ls-files --others --exclude-standard -- patches arch kernel mm lib net include)" ]; then
		warn "the repo has uncommitted changes to the series; off/ uses HEAD's, not them"
	fi
	# HEAD's prepare-src.sh prepares the kernel HEAD's common.sh names:
	# it must be the one pristine/ is built from.
	local head_pkg
	head_pkg=$(sed -n 's/^KSRC_PKG=//p' "$IDENT/repo/scripts/common.sh")
	[ "$head_pkg" = "$KSRC_PKG" ] ||
		die "HEAD's series targets ${head_pkg:-?}, out/pristine is $KSRC_PKG: commit the port first"
	# Its unpacked source (off/pristine, which prepare-src.sh copies to
	# off/linux) is a copy of out/pristine, when that is of another version
	# or missing: prepare-src.sh would otherwise unpack the .deb from
	# off/dl, which only setup.sh fills (out/dl). A copy, not hard links:
	# out/pristine must stay untouched whatever happens to off/.
	local want
	want=$(cat "$PRISTINE/.kasan-ebpf-pkg" 2>/dev/null) ||
		die "$PRISTINE/.kasan-ebpf-pkg is missing: make source"
	if [ "$(cat "$IDENT/off/pristine/.kasan-ebpf-pkg" 2>/dev/null)" != "$want" ]; then
		step "off: copying $PRISTINE ($want) to $IDENT/off/pristine"
		rm -rf "$IDENT/off/pristine" "$IDENT/off/linux"
		mkdir -p "$IDENT/off/pristine"
		cp -a "$PRISTINE/." "$IDENT/off/pristine/"
	fi
	# The version prepare-src.sh expects: the one setup.sh recorded, if any.
	if [ -d "$KSRC_DL" ]; then
		ln -sfn "$KSRC_DL" "$IDENT/off/dl"
	fi
	OUT=$IDENT/off run_logged prepare-off "$IDENT/repo/scripts/prepare-src.sh"
	# A fix to try on top of HEAD's series (a diff against the prepared
	# tree), e.g. to measure a proposed change before it is committed.
	# prepare-src.sh restores the file next time; it is applied again.
	if [ -n "${JIT_IDENTITY_EXTRA_PATCH:-}" ]; then
		warn "off: applying $JIT_IDENTITY_EXTRA_PATCH on top of HEAD's series"
		(cd "$IDENT/off/linux" && patch -s -p1 --no-backup-if-mismatch \
			< "$JIT_IDENTITY_EXTRA_PATCH") ||
			die "$JIT_IDENTITY_EXTRA_PATCH does not apply"
		echo "+ $(realpath "$JIT_IDENTITY_EXTRA_PATCH") ($(sha256sum < "$JIT_IDENTITY_EXTRA_PATCH" | cut -c1-16))" >> "$IDENT/off.commit"
	fi
}

# --- 2. one .config for both -------------------------------------------------
# Kbuild keeps include/config/auto.conf: copying an identical .config is a
# no-op for the build; a changed one rebuilds what depends on what changed.
configure_tree() {
	local name=$1 src=$2 bld=$3 pkg
	# A build directory of another kernel version goes: the new source's
	# files may be older than its objects, which kbuild would then keep.
	pkg=$(cat "$src/.kasan-ebpf-pkg" 2>/dev/null || echo unknown)
	if [ -d "$bld" ] && [ "$(cat "$bld/.kasan-ebpf-pkg" 2>/dev/null)" != "$pkg" ]; then
		step "$name: $bld was built from another source than $pkg: removing it"
		rm -rf "$bld"
	fi
	mkdir -p "$bld"
	echo "$pkg" > "$bld/.kasan-ebpf-pkg"
	if ! cmp -s "$IDENT/config.base" "$bld/.config.base"; then
		cp "$IDENT/config.base" "$bld/.config"
		cp "$IDENT/config.base" "$bld/.config.base"
	fi
	run_logged "olddefconfig-$name" "${NICE[@]}" make -C "$src" O="$bld" \
		"${KMAKE_VARS[@]}" olddefconfig
}

configure() {
	mkdir -p "$IDENT"
	[ -f "$MAIN_CONFIG" ] || die "$MAIN_CONFIG is missing: make config"
	cp "$MAIN_CONFIG" "$IDENT/config.main.tmp"
	"$PRISTINE/scripts/config" --file "$IDENT/config.main.tmp" --disable KASAN_EBPF
	if ! cmp -s "$IDENT/config.main.tmp" "$IDENT/config.base"; then
		mv "$IDENT/config.main.tmp" "$IDENT/config.base"
		step "config: out/build/.config with CONFIG_KASAN_EBPF disabled (new)"
	else
		rm "$IDENT/config.main.tmp"
	fi
	configure_tree pristine "$PRISTINE" "$IDENT/pristine/build"
	configure_tree off "$IDENT/off/linux" "$IDENT/off/build"
	# The same configuration, apart from CONFIG_KASAN_EBPF (which pristine
	# does not know) and the header comment naming the tree.
	local d
	d=$(diff <(grep -v 'KASAN_EBPF' "$IDENT/pristine/build/.config") \
		 <(grep -v 'KASAN_EBPF' "$IDENT/off/build/.config") || true)
	[ -z "$d" ] || { echo "$d" | head -40 >&2
		die "pristine and off .config differ beyond KASAN_EBPF"; }
	grep -q 'KASAN_EBPF' "$IDENT/pristine/build/.config" &&
		die "pristine .config has a KASAN_EBPF line"
	grep -qx '# CONFIG_KASAN_EBPF is not set' "$IDENT/off/build/.config" ||
		die "off .config: CONFIG_KASAN_EBPF is not off"
	grep -qx 'CONFIG_KASAN_EBPF=y' "$MAIN_CONFIG" ||
		warn "$MAIN_CONFIG does not have CONFIG_KASAN_EBPF=y"
	step "config: pristine and off .config equal apart from KASAN_EBPF ($(grep -c '^CONFIG_' "$IDENT/off/build/.config") options set)"
}

# --- 3. the two kernels ------------------------------------------------------
build_kernels() {
	local stamp=$IDENT/pristine/.build-start
	: > "$stamp"
	sleep 1
	run_logged kernel-pristine "${NICE[@]}" make -C "$PRISTINE" \
		O="$IDENT/pristine/build" "${KMAKE_VARS[@]}" -j"$JOBS" bzImage
	# An O= build must not write to its source tree.
	local w
	w=$(find "$PRISTINE" -newer "$stamp" -print -quit)
	[ -z "$w" ] || die "the O= build wrote into $PRISTINE: $w"
	[ ! -e "$PRISTINE/.config" ] && [ ! -e "$PRISTINE/include/config" ] ||
		die "$PRISTINE is not clean (.config or include/config present)"
	run_logged kernel-off "${NICE[@]}" make -C "$IDENT/off/linux" \
		O="$IDENT/off/build" "${KMAKE_VARS[@]}" -j"$JOBS" bzImage
	! grep -q ' kasan_bpf_check_access$' "$IDENT/off/build/System.map" ||
		die "off kernel has kasan_bpf_check_access: CONFIG_KASAN_EBPF is on?"
}

build() {
	mkdir -p "$LOGS"
	prepare_off_source
	configure
	build_kernels
}

# --- 4. the tools: jitdump (guest), jitcmp (host) ----------------------------
build_tools() {
	local t=$IDENT/tools
	mkdir -p "$t"
	for f in "$LIBBPF_A" "$LIBBPF_INC/bpf/libbpf.h"; do
		[ -e "$f" ] || die "$f is missing: make selftests first"
	done
	# libbpf and the uapi headers it was built with (jited_* fields are
	# upstream's: pristine's headers are enough).
	run_logged jitdump-build gcc -O2 -g -Wall -Wextra -Wno-unused-parameter \
		-Wno-missing-field-initializers -I"$LIBBPF_INC" \
		-I"$PRISTINE/tools/include/uapi" \
		"$TOP/scripts/jit-identity/jitdump.c" "$LIBBPF_A" -lelf -lz -lzstd \
		-o "$t/jitdump"
	(cd "$TOP/scripts/jit-identity/jitcmp" &&
		CARGO_TARGET_DIR=$t/cargo-target run_logged jitcmp-build \
			cargo build --offline --release --locked)
	JITCMP=$t/cargo-target/release/jitcmp
}

# --- 5. the guests' initramfs and the main kernel's snapshot -----------------
# One initramfs for all kernels: busybox, our init and jobs, jitdump, and
# objs.tar, the selftests' BPF objects (out/selftests/*.bpf.o) without their
# DWARF (llvm-strip -g: libbpf reads ELF, BTF and BTF.ext only).
# Every kernel must see the same objects and the same jitdump: `all` takes
# a new snapshot of both; `dump` alone reuses the last one if there is one.
make_initramfs() {
	local fresh=$1 g=$IDENT/guest objs=$IDENT/guest/objs sample=${2:-1}
	local n f
	if [ "$fresh" = 1 ] || [ ! -f "$g/snapshot/jitdump.skip" ]; then
		rm -rf "$objs" "$g/snapshot"
		mkdir -p "$objs" "$g/snapshot"
		for f in "$OBJS_FROM"/*.bpf.o; do
			[ -f "$f" ] || continue
			"$LLVM_STRIP" -g -o "$objs/$(basename "$f")" "$f"
		done
		n=$(ls "$objs" | wc -l)
		[ "$n" -gt 0 ] || die "no $OBJS_FROM/*.bpf.o: make selftests first"
		tar -cf "$g/snapshot/objs.tar" -C "$objs" .
		cp "$IDENT/tools/jitdump" "$g/snapshot/jitdump"
		cp "$TOP/scripts/jit-identity/skip.txt" "$g/snapshot/jitdump.skip"
		step "snapshot: $n objects of $OBJS_FROM, jitdump, skip list"
	else
		step "reusing the snapshot of objects and jitdump of $(stat -c %y "$g/snapshot/objs.tar")"
	fi
	(cd "$g/snapshot" && sha256sum objs.tar jitdump jitdump.skip) > "$g/snapshot.sha256"
	n=$(tar -tf "$g/snapshot/objs.tar" | grep -c '\.bpf\.o$')
	# The main kernel's control may dump a sample of the objects only:
	# its own initramfs, under guest/sample-<k>.
	if [ "$sample" != 1 ]; then
		g=$g/sample-$sample
		mkdir -p "$g"
	fi
	rm -rf "$g/guest-extra"
	mkdir -p "$g/guest-extra"
	cp "$IDENT"/guest/snapshot/{objs.tar,jitdump,jitdump.skip} "$g/guest-extra/"
	echo "${JIT_IDENTITY_MODES:-0 1}" > "$g/guest-extra/jitdump.modes"
	echo "$sample" > "$g/guest-extra/jitdump.sample"
	# run-guest.sh and mkinitramfs.sh run from a copy taken now: a script
	# that bash is reading must not change under it (they are being
	# edited in the repo meanwhile).
	local sc=$IDENT/tools/scripts
	rm -rf "$sc" && mkdir -p "$sc"
	cp -r "$TOP"/scripts/{common.sh,run-guest.sh,host-tsc-khz.c,mkinitramfs.sh,guest} "$sc/"
	OUT=$g "$sc/mkinitramfs.sh" 2> "$LOGS/initramfs.log" ||
		{ cat "$LOGS/initramfs.log" >&2; die "mkinitramfs failed"; }
	[ -e "$g/initramfs/kasan-ebpf/jobs/jitdump.sh" ] ||
		die "the initramfs has no jobs/jitdump.sh"
	step "initramfs: $n objects ($(du -sh "$g/guest-extra/objs.tar" | cut -f1) stripped), every ${sample}th dumped, $(du -h "$g/initramfs.cpio" | cut -f1)"
}

# The main kernel, as it is now: a copy of its bzImage, and what we know of
# the source it was built from.
snapshot_main() {
	local m=$IDENT/run/main
	local k=$MAIN_BUILD/arch/x86/boot/bzImage
	[ -f "$k" ] || die "$k is missing: make kernel"
	mkdir -p "$m/build/arch/x86/boot"
	cp "$k" "$m/build/arch/x86/boot/bzImage"
	{
		echo "bzImage: $k, $(stat -c %y "$k"), sha256 $(sha256sum < "$k" | cut -c1-16)"
		echo "repo HEAD when copied: $(git -C "$TOP" rev-parse HEAD)"
		local dirty
		dirty=$(git -C "$TOP" status --porcelain -- patches arch kernel mm lib net include | tr '\n' ' ')
		echo "uncommitted kernel-side changes in the repo then: ${dirty:-none}"
		echo "out/linux prepared: $(stat -c %y "$OUT/linux/.kasan-ebpf-touched" 2>/dev/null)"
		echo "vmlinux: $(stat -c %y "$MAIN_BUILD/vmlinux" 2>/dev/null)"
	} > "$m/info"
	sed 's/^/  main kernel: /' "$m/info" >&2
}

# --- 6. boot each kernel and collect its dumps ----------------------------------
# run-guest.sh with OUT=$IDENT/run/<name>: kernel at build/arch/x86/boot/,
# the initramfs linked in, console log under its logs/.
dump_kernel() {
	local name=$1 kernel=$2 img=${3:-$IDENT/guest/initramfs.cpio} r=$IDENT/run/$1
	mkdir -p "$r/build/arch/x86/boot" "$IDENT/dumps"
	[ "$kernel" = "$r/build/arch/x86/boot/bzImage" ] ||
		ln -sf "$kernel" "$r/build/arch/x86/boot/bzImage"
	ln -sf "$img" "$r/initramfs.cpio"
	rm -f "$IDENT"/dumps/"$name"-*.dump "$IDENT/dumps/$name".{inputs,btf}
	local t0=$SECONDS rc try con=$r/logs/guest-jitdump.log
	# A boot can fail under TCG on a loaded host before the job starts
	# (seen: "IO-APIC + timer doesn't work!"): boot again, twice at most.
	for try in 1 2 3; do
		step "$name: booting (console: $con)"
		rc=0
		OUT=$r GUEST_TIMEOUT=${JIT_IDENTITY_TIMEOUT:-5400} \
			"$IDENT/tools/scripts/run-guest.sh" jitdump \
			> "$LOGS/guest-$name.out" 2>&1 || rc=$?
		[ -f "$con" ] || die "$name: no console log"
		# (grep on the file: grep -q in a pipe would SIGPIPE the writer.)
		grep -aq '^JITDUMP_KERNEL' "$con" && break
		warn "$name: the guest did not reach the job (try $try): $(tr -d '\r' < "$con" | grep -a -m1 'Kernel panic' || tail -1 "$con")"
	done
	tr -d '\r' < "$con" | grep -a '^JITDUMP_\(KERNEL\|STATS\)' | sed "s/^/  $name: /" >&2 || true
	# Each dump: the base64 between its markers, checked against its md5.
	local modes m md5 got
	modes=$(tr -d '\r' < "$con" | sed -n 's/^JITDUMP_BEGIN \([^ ]*\) .*/\1/p')
	for m in $modes; do
		md5=$(tr -d '\r' < "$con" | sed -n "s/^JITDUMP_BEGIN $m \([0-9a-f]*\) .*/\1/p")
		tr -d '\r' < "$con" | sed -n "/^JITDUMP_BEGIN $m /,/^JITDUMP_END $m\$/p" |
			sed '1d;$d' | base64 -d > "$IDENT/dumps/$name-$m.gz" ||
			die "$name: mode $m: bad base64 on the console"
		got=$(md5sum < "$IDENT/dumps/$name-$m.gz" | cut -d' ' -f1)
		[ "$got" = "$md5" ] || die "$name: mode $m: md5 $got, the guest said $md5"
		gunzip -c "$IDENT/dumps/$name-$m.gz" > "$IDENT/dumps/$name-$m.dump"
		rm "$IDENT/dumps/$name-$m.gz"
	done
	[ -f "$IDENT/dumps/$name-btf.dump" ] ||
		die "$name: the guest sent no BTF (see $con)"
	mv "$IDENT/dumps/$name-btf.dump" "$IDENT/dumps/$name.btf"
	[ "$rc" = 0 ] || die "$name: the guest job failed ($rc): see $con"
	cp "$IDENT/guest/snapshot.sha256" "$IDENT/dumps/$name.inputs"
	step "$name: dumps $(cd "$IDENT/dumps" && ls "$name"-*.dump | tr '\n' ' ')in $((SECONDS - t0)) s"
}

dump_all() {
	build_tools
	make_initramfs "${1:-0}"
	local kernels=${JIT_IDENTITY_KERNELS:-pristine off main}
	local s=${JIT_IDENTITY_MAIN_SAMPLE:-4} img=$IDENT/guest/initramfs.cpio
	# pristine and off: every object, or every k-th (a quicker run that
	# still compares the same objects on both).
	local a=${JIT_IDENTITY_SAMPLE:-1} aimg=$IDENT/guest/initramfs.cpio
	if [ "$a" != 1 ]; then
		make_initramfs 0 "$a"
		aimg=$IDENT/guest/sample-$a/initramfs.cpio
	fi
	if [[ " $kernels " = *" main "* ]]; then
		snapshot_main
		if [ "$s" != 1 ]; then
			make_initramfs 0 "$s"
			img=$IDENT/guest/sample-$s/initramfs.cpio
		fi
	fi
	# All guests at once: each loads one program at a time (about one
	# core); the main kernel dumps twice (modes 0 and 1) in its boot.
	local pids=() names=() k fail=0 i
	for k in pristine off main; do
		[[ " $kernels " = *" $k "* ]] || continue
		if [ "$k" = main ]; then
			rm -f "$IDENT/dumps/main.sample"
			{ dump_kernel main "$IDENT/run/main/build/arch/x86/boot/bzImage" "$img" &&
			  echo "$s" > "$IDENT/dumps/main.sample"; } &
		else
			rm -f "$IDENT/dumps/$k.sample"
			{ dump_kernel "$k" "$IDENT/$k/build/arch/x86/boot/bzImage" "$aimg" &&
			  echo "$a" > "$IDENT/dumps/$k.sample"; } &
		fi
		pids+=($!) names+=("$k")
		sleep 2
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { warn "${names[$i]}: dump failed"; fail=1; }
	done
	[ $fail = 0 ] || die "a dump failed"
}

# --- 7. compare -------------------------------------------------------------------
compare() {
	local d=$IDENT/dumps rep=$IDENT/report.txt rc=0 r
	[ -x "${JITCMP:-}" ] || build_tools
	: > "$rep"
	cmp_one() {	# <title> <expect: same|different> A B [--b-subset]
		local title=$1 expect=$2 r=0
		{ echo; echo "=== $title (expected: $expect)"; } | tee -a "$rep"
		"$JITCMP" ${5:+"$5"} --btf "${3%-*}.btf" "${4%-*}.btf" "$3" "$4" |
			tee -a "$rep" || r=$?
		[ "$r" -le 1 ] || die "jitcmp failed on $3 $4"
		if { [ "$expect" = same ] && [ "$r" = 0 ]; } ||
		   { [ "$expect" = different ] && [ "$r" = 1 ]; }; then
			echo "=== as expected" | tee -a "$rep"
		else
			echo "=== NOT as expected" | tee -a "$rep"
			rc=1
		fi
	}
	for f in pristine-none off-none main-0 main-1; do
		[ -f "$d/$f.dump" ] || die "$d/$f.dump is missing: run the dump step"
	done
	for f in pristine off main; do
		[ -f "$d/$f.btf" ] || die "$d/$f.btf is missing: run the dump step"
	done
	# The same objects and the same jitdump on every kernel.
	for f in off main; do
		cmp -s "$d/pristine.inputs" "$d/$f.inputs" ||
			die "the $f dump was made from other objects or another jitdump than pristine's: run the dump step again"
	done
	# Both dump every k-th object (JIT_IDENTITY_SAMPLE), the same k.
	local ps
	ps=$(cat "$d/pristine.sample" 2>/dev/null || echo 1)
	[ "$ps" = "$(cat "$d/off.sample" 2>/dev/null || echo 1)" ] ||
		die "pristine and off dumped different samples of the objects: run the dump step again"
	cmp_one "pristine vs patched, CONFIG_KASAN_EBPF off" same "$d/pristine-none.dump" "$d/off-none.dump"
	# The main kernel may have dumped a sample of the objects only.
	local sub=
	[ "$(cat "$d/main.sample" 2>/dev/null || echo 1)" = "$ps" ] || sub=--b-subset
	cmp_one "control: pristine vs main kernel, net.core.bpf_jit_kasan=0" same "$d/pristine-none.dump" "$d/main-0.dump" $sub
	cmp_one "control: pristine vs main kernel, net.core.bpf_jit_kasan=1" different "$d/pristine-none.dump" "$d/main-1.dump" $sub
	{ echo; echo "main kernel:"; sed 's/^/  /' "$IDENT/run/main/info"
	  echo "off kernel: series of $(cat "$IDENT/off.commit")"; } | tee -a "$rep"
	step "report: $rep"
	return $rc
}

# --- 8. bytes per access over the corpus ------------------------------------------
# `make corpus-bytes` (`bytes`): the main kernel alone, every program of every
# k-th object (JIT_IDENTITY_MAIN_SAMPLE, default 1 here: the whole corpus)
# dumped at net.core.bpf_jit_kasan=0 and =1 with its fdinfo counters, then
# jitcmp --access-bytes (scripts/jit-identity/jitcmp/src/access.rs has the
# definitions): $OUT/bench/corpus-bytes.json, which bench/report.py folds
# into results.json (bytes_per_access_corpus_median, checks_per_access_corpus).
# It replaces the main kernel's dumps of `dump`: run `dump` again before
# `compare`.
corpus_bytes() {
	local s=${JIT_IDENTITY_MAIN_SAMPLE:-1} img=$IDENT/guest/initramfs.cpio
	local t0=$SECONDS d=$IDENT/dumps j=$OUT/bench/corpus-bytes.json
	mkdir -p "$LOGS" "$OUT/bench"
	build_tools
	JIT_IDENTITY_MODES="0 1" make_initramfs 1
	if [ "$s" != 1 ]; then
		JIT_IDENTITY_MODES="0 1" make_initramfs 0 "$s"
		img=$IDENT/guest/sample-$s/initramfs.cpio
	fi
	snapshot_main
	rm -f "$d/main.sample" "$j"
	dump_kernel main "$IDENT/run/main/build/arch/x86/boot/bzImage" "$img"
	echo "$s" > "$d/main.sample"
	# Loading every program must leave no KASAN report, oops or warning
	# (the job counts them in dmesg; the console has no kernel lines).
	local con=$IDENT/run/main/logs/guest-jitdump.log
	grep -aqx '== jitdump: BUG/WARNING/Oops lines in dmesg: 0' <(tr -d '\r' < "$con") ||
		die "the guest's kernel log has BUG/WARNING/Oops lines: see $con"
	"$JITCMP" --access-bytes "$d/main-0.dump" "$d/main-1.dump" > "$j.tmp" ||
		die "jitcmp --access-bytes failed"
	# Where the figures come from, for the report.
	python3 - "$j.tmp" "$IDENT/run/main/info" "$s" \
		"$(grep -a -m1 '^JITDUMP_KERNEL' <(tr -d '\r' < "$con"))" <<'PY'
import datetime, json, sys
path, info, sample, kernel = sys.argv[1:5]
with open(path) as f:
    r = json.load(f)
with open(info) as f:
    r["main_kernel"] = f.read().splitlines()
r["sample"] = f"every {sample}th object" if sample != "1" else "every object"
r["guest"] = kernel
r["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
with open(path, "w") as f:
    json.dump(r, f, indent=1)
    f.write("\n")
PY
	mv "$j.tmp" "$j"
	cat "$j"
	step "corpus-bytes: $j in $((SECONDS - t0)) s"
}

# Only the main function runs: the file can be edited while this runs.
main() {
	case ${1:-all} in
	build) build ;;
	dump) dump_all ;;
	compare) compare ;;
	bytes) corpus_bytes ;;
	all)
		local t0=$SECONDS
		build
		dump_all 1
		compare || { step "FAILED after $((SECONDS - t0)) s"; return 1; }
		step "passed in $((SECONDS - t0)) s"
		;;
	*) die "usage: $0 [all|build|dump|compare|bytes]" ;;
	esac
}
main "$@"; exit $?
