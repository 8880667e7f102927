#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make corpus`: upstream's own BPF tests as a false-positive and
# behaviour-change check. In one boot, upstream test_verifier and the
# test_progs tests named in scripts/corpus/progs.txt run with
# net.core.bpf_jit_kasan at 0, then 1, then 2 (scripts/guest/jobs/corpus.sh).
# scripts/corpus/parse.py then reads the console log and writes
# out/corpus/summary.json, out/corpus/table.txt, each binary's output per
# mode (out/corpus/mode-<m>/) and every KASAN report (out/corpus/reports/).
#
# The corpus needs ~800 BPF objects and other files from out/selftests that
# the everyday initramfs does not carry: they go into a second cpio
# appended to a copy of out/initramfs.cpio (the kernel unpacks concatenated
# archives in order), booted through scripts/run-guest.sh with OUT pointed
# at out/corpus/guest. out/initramfs.cpio itself is not touched.
#
# Knobs (environment):
#   CORPUS_MODES     modes to run, in order (default "0 1 2")
#   CORPUS_TESTS     test_progs tests to run instead of progs.txt (names,
#                    comma- or space-separated; "none" for none)
#   CORPUS_VERIFIER  1 (default) to run test_verifier, 0 not to
#   CORPUS_SPLIT     1: one test_progs process per test, to measure each
#                    test's time and program count (slower)
#   CORPUS_TIMEOUT   limit in seconds for each binary in the guest (3000)
#   CORPUS_RERUNS    rounds of reruns of the test_progs tests whose results
#                    differ between modes, each alone in every mode (3; 0:
#                    none); see "Reruns" below
#   CORPUS_RERUN_MAX at most this many tests are rerun (20)
#   CORPUS_RERUN_ALSO  test_progs tests to rerun whatever their results
#                    (names, comma- or space-separated; for checking the
#                    reruns themselves)
#   GUEST_TIMEOUT    limit for the whole boot (default 5400 s)
#   CORPUS_NO_BUILD  1: fail rather than run `make initramfs` when
#                    out/initramfs.cpio is stale
#
# Reruns: a test that waits a fixed time for asynchronous kernel work (an
# RCU-deferred free, a timer callback) can fail under TCG in whichever mode
# the host happened to be busiest. So each test_progs test whose results
# differ between modes is run again, alone, CORPUS_RERUNS rounds of every
# mode, in the same boot. The difference is dismissed only if every rerun in
# every mode gives the same result for it (a result caused by the mode
# comes back in every round); otherwise it stands, and the reruns' results
# are listed with it. A dismissed difference is a flaky test, reported as
# such (summary.json "flaky", table.txt) with its reruns: if it passed in
# every rerun, its main-run failures are flakes, at mode 0 too; if it
# failed in every rerun, it is a failure to document like any other.
# Nothing is dismissed without a rerun; test_verifier is deterministic and
# not rerun.
#
# Exit status 0 iff the guest finished every mode, no difference between
# modes stands, every stable failure at mode 0 is on
# scripts/corpus/known-failures.txt, and the kernel printed no KASAN report
# (naming a BPF program or not), no kasan_ebpf: line outside one and no
# other splat (oops, warning, panic, stall), in any mode, at boot or in the
# reruns (scripts/corpus/parse.py, scripts/corpus/kernlog.py).
. "$(dirname "$0")/common.sh"

T_START=$(date +%s)
CDIR=$TOP/scripts/corpus
COUT=$OUT/corpus
GOUT=$COUT/guest	# the OUT that run-guest.sh sees
STAGE=$COUT/stage	# the appended archive's tree
IMG=$OUT/initramfs.cpio
KERNEL=$BUILD/arch/x86/boot/bzImage
CORPUS_MODES=${CORPUS_MODES:-0 1 2}
CORPUS_VERIFIER=${CORPUS_VERIFIER:-1}
CORPUS_SPLIT=${CORPUS_SPLIT:-0}
CORPUS_TIMEOUT=${CORPUS_TIMEOUT:-3000}
CORPUS_RERUNS=${CORPUS_RERUNS:-3}
CORPUS_RERUN_MAX=${CORPUS_RERUN_MAX:-20}
CORPUS_RERUN_ALSO=$(tr ',' ' ' <<< "${CORPUS_RERUN_ALSO:-}")
export GUEST_TIMEOUT=${GUEST_TIMEOUT:-5400}
PY=/usr/bin/python3

[[ "$CORPUS_MODES" =~ ^[012\ ]+$ ]] || die "CORPUS_MODES: modes are 0, 1, 2"
[[ "$CORPUS_VERIFIER$CORPUS_SPLIT" =~ ^[01][01]$ ]] || die "CORPUS_VERIFIER, CORPUS_SPLIT: 0 or 1"
[[ "$CORPUS_TIMEOUT" =~ ^[0-9]+$ ]] || die "CORPUS_TIMEOUT: seconds"
[[ "$CORPUS_RERUNS$CORPUS_RERUN_MAX" =~ ^[0-9]+$ ]] || die "CORPUS_RERUNS, CORPUS_RERUN_MAX: numbers"
[[ "$CORPUS_RERUN_ALSO" =~ ^[a-zA-Z0-9_\ ]*$ ]] || die "CORPUS_RERUN_ALSO: test names only"

# The base initramfs: rebuilt (make initramfs) only if it is missing or
# older than what it carries. The kernel is one of its inputs in effect:
# bpf_testmod.ko must match it.
inputs=("$KERNEL" "$SELFTESTS/test_progs" "$SELFTESTS/test_verifier"
	"$SELFTESTS/bpf_testmod.ko" "$SELFTESTS/tools/sbin/bpftool"
	"$TOP/scripts/guest/init" "$TOP/scripts/mkinitramfs.sh")
stale=
if [ ! -f "$IMG" ]; then
	stale="$IMG is missing"
else
	for f in "${inputs[@]}"; do
		if [ ! -e "$f" ] || [ "$f" -nt "$IMG" ]; then
			stale="$f is newer than $IMG (or missing)"
			break
		fi
	done
fi
if [ -n "$stale" ]; then
	[ "${CORPUS_NO_BUILD:-0}" = 1 ] && die "corpus: $stale (CORPUS_NO_BUILD=1)"
	log "corpus: $stale: make initramfs"
	make -C "$TOP" initramfs
fi
for f in "${inputs[@]}"; do
	[ -e "$f" ] || die "$f is missing: make initramfs"
done

# The test_progs list: progs.txt without comments, or CORPUS_TESTS.
rm -rf "$STAGE" "$GOUT"
K=$STAGE/kasan-ebpf
mkdir -p "$K/jobs" "$K/corpus" "$GOUT" "$COUT"
if [ -n "${CORPUS_TESTS:-}" ]; then
	[[ "$CORPUS_TESTS" =~ ^[a-zA-Z0-9_,\ *]*$ ]] || die "CORPUS_TESTS: test names only"
	[ "$CORPUS_TESTS" = none ] && CORPUS_TESTS=
	tr ', ' '\n\n' <<< "$CORPUS_TESTS" | grep . > "$K/corpus/progs.list" || true
else
	sed 's/#.*//; s/[[:space:]]//g' "$CDIR/progs.txt" | grep . > "$K/corpus/progs.list"
fi
# Names test_progs does not know would silently select nothing.
known=$("$SELFTESTS/test_progs" -l 2>/dev/null) || die "test_progs -l failed on the host"
while read -r t; do
	[[ "$t" == *'*'* ]] && continue
	grep -qx -- "$t" <<< "$known" || die "test_progs has no test '$t' (scripts/corpus/progs.txt)"
done < "$K/corpus/progs.list"
for t in $CORPUS_RERUN_ALSO; do
	grep -qx -- "$t" <<< "$known" || die "test_progs has no test '$t' (CORPUS_RERUN_ALSO)"
done
cat > "$K/corpus/config" <<EOF
CORPUS_MODES="$CORPUS_MODES"
CORPUS_VERIFIER=$CORPUS_VERIFIER
CORPUS_SPLIT=$CORPUS_SPLIT
CORPUS_TIMEOUT=$CORPUS_TIMEOUT
CORPUS_RERUNS=$CORPUS_RERUNS
CORPUS_RERUN_MAX=$CORPUS_RERUN_MAX
CORPUS_RERUN_ALSO="$CORPUS_RERUN_ALSO"
EOF
cp "$TOP/scripts/guest/jobs/corpus.sh" "$K/jobs/corpus.sh"

# The probe that counts programs (their IDs) and shows the mode they got.
gcc -O2 -Wall -static -I"$SRC/tools/include/uapi" -o "$K/corpus_probe" \
	"$CDIR/probe.c" || die "building the corpus probe failed"

# What the tests open from their working directory: the BPF objects, the
# uprobe targets, the extra modules, btf_dump's expected outputs.
add_file() {
	local f=$1 lib
	cp -L "$f" "$K/"
	file -L "$f" | grep -q 'ELF.*dynamically linked' || return 0
	for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$STAGE$lib" ] && continue
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$lib" "$STAGE$lib"
	done
}
n=0
for f in "$SELFTESTS"/*.bpf.o "$SELFTESTS"/*.ko "$SELFTESTS"/btf_dump_test_case_*.c \
	 "$SELFTESTS"/urandom_read "$SELFTESTS"/liburandom_read.so \
	 "$SELFTESTS"/uprobe_multi; do
	[ -e "$f" ] || continue
	add_file "$f"
	n=$((n + 1))
done
# iproute2's ip and tc in place of busybox's: many tests set up veth pairs,
# namespaces and qdiscs with them through system(). That runs /bin/sh, and
# Debian's busybox sh runs its own applets for bare command names whatever
# PATH says, so /bin/sh is dash. /init's `busybox --install` leaves files
# that exist alone; /init itself and the jobs keep running busybox sh.
mkdir -p "$STAGE/bin"
for f in ip tc dash; do
	p=$(command -v "$f" || true)
	[ -n "$p" ] && [ "$(readlink -f "$p")" != /bin/busybox ] || {
		warn "no $f on the host: tests that set up networks will fail"; continue; }
	add_file "$p"
	dst=$f
	[ "$f" = dash ] && dst=sh
	mv "$K/$f" "$STAGE/bin/$dst"
done
# test_local_storage runs a copy of /bin/rm under another name: busybox's
# would not know that applet.
[ -x /bin/rm ] && [ "$(readlink -f /bin/rm)" != /bin/busybox ] && add_file /bin/rm &&
	mv "$K/rm" "$STAGE/bin/rm"
# The network helpers open /var/run/netns/<name>; iproute2 makes /run/netns.
mkdir -p "$STAGE/var"
ln -s ../run "$STAGE/var/run"
log "corpus: $n files from out/selftests, $(grep -c . "$K/corpus/progs.list" || true) test_progs tests"

(cd "$STAGE" && find . | cpio -o -H newc --quiet) > "$COUT/extra.cpio"
cat "$IMG" "$COUT/extra.cpio" > "$GOUT/initramfs.cpio"
rm -rf "$COUT/extra.cpio" "$STAGE"
ln -s "$BUILD" "$GOUT/build"
mkdir -p "$OUT/logs"
ln -s "$OUT/logs" "$GOUT/logs"
log "corpus: initramfs $GOUT/initramfs.cpio ($(du -h "$GOUT/initramfs.cpio" | cut -f1))"

# The console log lands in out/logs/guest-corpus-<time>.log like any job's;
# the terminal is spared the base64.
T_BOOT=$(date +%s)
set +e
OUT=$GOUT "$TOP/scripts/run-guest.sh" corpus | grep -av --line-buffered '^CORPUS_B64 '
grc=${PIPESTATUS[0]}
set -e
T_END=$(date +%s)
[ "$grc" = 0 ] || warn "the corpus guest job exited with $grc; parsing what it printed"
rm -f "$GOUT/initramfs.cpio"

LOGF=$(readlink -f "$OUT/logs/guest-corpus.log")
prc=0
"$PY" "$CDIR/parse.py" --log "$LOGF" --out "$COUT" \
	--known "$CDIR/known-failures.txt" --modes "$CORPUS_MODES" \
	--wall-total $((T_END - T_START)) --wall-guest $((T_END - T_BOOT)) \
	--guest-rc "$grc" || prc=$?
log "corpus: $((T_END - T_START)) s in all; out/corpus/summary.json, out/corpus/table.txt"
[ "$grc" = 0 ] || exit 1
exit "$prc"
