#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make fresh-check`: the pipeline on a machine that has nothing installed.
# Builds a minimal Debian bookworm root (debootstrap --variant=minbase, from
# the mirror the host's apt uses), puts a clean clone of the repo's HEAD in
# it, and runs there, as root with a clean environment, `make setup` and
# then `make T` for each target T of $FRESH_TARGET in turn, up to the first
# that fails (default: test, which rebuilds everything; its own call of
# setup.sh then installs nothing). Ends with make test's summary line and
# exits with the status of the last target run. Not part of `make test`.
#
# The root gets `make` from debootstrap (--include=make) and nothing else:
# a user who types `make test` has make, and everything else must come from
# scripts/setup.sh. The clone is made on the host (the root has no git until
# setup installs it). proc, sys and dev are mounted in a private mount
# namespace (unshare), so the host never sees them, and they are unmounted
# on exit, failure included; rm -rf of the root cannot reach the host's /dev.
# QEMU runs under TCG, so the root needs no /dev/kvm. The root's apt gets
# the host's bookworm sources (with -updates and -security, where rustc-web
# 1.96 comes from) and the host's local CAs; setup.sh downloads the kernel
# source (linux-source-7.3, trixie-backports) itself, with its own apt
# configuration, verified with the root's debian-archive-keyring.
#
# Options (environment or make variables):
#   FRESH_DIR=<dir>      where the root and logs go (default out/fresh)
#   FRESH_TARGET=<t...>  make targets run after setup, in turn (default
#                        test; e.g. "test corpus bench")
#   FRESH_ENV=<names>    variables of the caller's environment passed into
#                        the root (e.g. CORPUS_MODES), which is otherwise
#                        given none
#   FRESH_SRC=head|worktree  a clone of the committed HEAD (default), or
#                        the working tree's tracked and new untracked files
#                        (git ls-files --cached --others --exclude-standard)
#   FRESH_MIRROR=<uri>   debootstrap mirror (default: the host's apt source
#                        for bookworm)
#   FRESH_JOBS=<n>       JOBS inside the root (default: the pipeline's,
#                        nproc + 1)
# Logs: <FRESH_DIR>/logs/{debootstrap,setup,<target>...}.log.
. "$(dirname "$0")/common.sh"

FRESH_DIR=$(realpath -m "${FRESH_DIR:-$OUT/fresh}")
FRESH_TARGET=${FRESH_TARGET:-test}
FRESH_SRC=${FRESH_SRC:-head}
ROOT=$FRESH_DIR/root
LOGS=$FRESH_DIR/logs
TIMES=$LOGS/times
REPO=/root/kasan-ebpf		# the clone's path inside the root
SUITE=bookworm
CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# stage NAME CMD...: runs CMD with its output in $LOGS/NAME.log (and on
# stdout if TEE=1), records "NAME SECONDS STATUS" in $TIMES.
stage() {
	local name=$1 t0=$SECONDS rc
	shift
	log "fresh-check: $name (log: $LOGS/$name.log)"
	set +e
	if [ "${TEE:-0}" = 1 ]; then
		"$@" 2>&1 | tee "$LOGS/$name.log"
		rc=${PIPESTATUS[0]}
	else
		"$@" > "$LOGS/$name.log" 2>&1
		rc=$?
	fi
	set -e
	echo "$name $((SECONDS - t0)) $rc" >> "$TIMES"
	log "fresh-check: $name: $((SECONDS - t0)) s, status $rc"
	if [ "$rc" != 0 ] && [ "${TEE:-0}" != 1 ]; then
		tail -30 "$LOGS/$name.log" >&2
	fi
	return "$rc"
}

# in_root CMD: runs the shell command CMD in the root's clone, as root, with
# nothing of the caller's environment.
in_root() {
	local extra=() v
	[ -z "${FRESH_JOBS:-}" ] || extra+=(JOBS="$FRESH_JOBS")
	for v in ${FRESH_ENV:-}; do
		extra+=("$v=${!v-}")
	done
	env -i HOME=/root PATH="$CLEAN_PATH" "${extra[@]}" \
		chroot "$ROOT" /bin/bash -c "cd $REPO && $1"
}

# Mounted file systems below the root, deepest first.
mounts_below() {
	awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' \
		/proc/self/mounts | sort -r
}

unmount_all() {
	local m
	for m in $(mounts_below); do
		umount -l "$m" || warn "could not unmount $m"
	done
}

# The part that runs inside the private mount namespace.
inner() {
	trap unmount_all EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mount -t proc proc "$ROOT/proc"
	mount --rbind /sys "$ROOT/sys"
	mount --rbind /dev "$ROOT/dev"
	[ -d "$ROOT/dev/pts" ] && ! mountpoint -q "$ROOT/dev/pts" &&
		mount --bind /dev/pts "$ROOT/dev/pts"
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"

	local t
	stage setup in_root "make setup" || return
	for t in $FRESH_TARGET; do
		[ "$t" != setup ] || continue
		TEE=1 stage "$t" in_root "make $t" || return
	done
}

if [ "${1:-}" = --inner ]; then
	inner
	exit
fi

[ "$(id -u)" = 0 ] || die "fresh-check needs root (debootstrap, chroot, mount)"
case $FRESH_SRC in
head|worktree) ;;
*) die "FRESH_SRC: head or worktree, not '$FRESH_SRC'" ;;
esac
for t in $FRESH_TARGET; do
	[[ $t =~ ^[a-z][a-z-]*$ ]] || die "FRESH_TARGET: '$t' is not a make target"
done
for v in ${FRESH_ENV:-}; do
	[[ $v =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "FRESH_ENV: '$v' is not a variable name"
	[ -n "${!v+set}" ] || die "FRESH_ENV: $v is not set"
done

# "URI suite" for every deb source of the host's apt (one-line and deb822).
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed 's/#.*//' "$f" | awk '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			print $i, $(i + 1) }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" } {
			t = u = s = ""; on = 1
			for (j = 1; j <= NF; j++) {
				if ($j ~ /^Types:/) t = $j
				else if ($j ~ /^URIs:/) u = $j
				else if ($j ~ /^Suites:/) s = $j
				else if ($j ~ /^Enabled:[ \t]*no/) on = 0
			}
			if (!on || t !~ /[ \t]deb([ \t]|$)/) next
			sub(/^URIs:[ \t]*/, "", u); sub(/^Suites:[ \t]*/, "", s)
			nu = split(u, U, /[ \t]+/); ns = split(s, S, /[ \t]+/)
			for (a = 1; a <= nu; a++)
				for (b = 1; b <= ns; b++) print U[a], S[b]
		}' "$f"
	done
}

mapfile -t SOURCES < <(host_sources | awk -v s="$SUITE" \
	'$2 == s || $2 == s "-updates" || $2 == s "-security"' | sort -u)
MIRROR=${FRESH_MIRROR:-$(printf '%s\n' "${SOURCES[@]}" |
	awk -v s="$SUITE" '$2 == s { print $1; exit }')}
[ -n "$MIRROR" ] ||
	die "the host's apt has no $SUITE source: set FRESH_MIRROR=<debian mirror>"

mkdir -p "$FRESH_DIR"
[ -z "$(mounts_below)" ] ||
	die "file systems are mounted below $ROOT: $(mounts_below | tr '\n' ' ')"
rm -rf --one-file-system "$ROOT" "$LOGS"
mkdir -p "$LOGS"
: > "$TIMES"
t_all=$SECONDS

if ! command -v debootstrap >/dev/null; then
	log "fresh-check: installing debootstrap on the host"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends debootstrap >/dev/null
fi

stage debootstrap debootstrap --variant=minbase --include=make "$SUITE" \
	"$ROOT" "$MIRROR" || die "debootstrap failed"

# The root's apt sees what the host's sees for bookworm (the point release
# and security updates rustc-web comes from).
{
	for s in "${SOURCES[@]}"; do
		echo "deb ${s% *} ${s#* } main"
	done
	[ ${#SOURCES[@]} -gt 0 ] || echo "deb $MIRROR $SUITE main"
} > "$ROOT/etc/apt/sources.list"
# The site's own certificate authorities (e.g. a TLS-inspecting egress
# proxy's) belong to the machine, not to the pipeline: the root trusts them
# too, once setup's ca-certificates runs update-ca-certificates.
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
	mkdir -p "$ROOT/usr/local/share/ca-certificates"
	cp -r /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
fi

if [ "$FRESH_SRC" = head ]; then
	git clone -q --no-hardlinks "$TOP" "$ROOT$REPO"
	what="clone of HEAD $(git -C "$ROOT$REPO" rev-parse --short HEAD)"
else
	# Tracked and new untracked files as they are now, committed in a new
	# repository: prepare-src.sh lists the overlay with git ls-files.
	mkdir -p "$ROOT$REPO"
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			case $f in out/*|host/target/*) continue ;; esac
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -C "$ROOT$REPO" -xf -
	git -C "$ROOT$REPO" init -q
	git -C "$ROOT$REPO" add -A
	git -C "$ROOT$REPO" -c user.name=fresh-check \
		-c user.email=fresh-check@localhost commit -q -m "working tree"
	what="working tree of $(git -C "$TOP" rev-parse --short HEAD) (FRESH_SRC=worktree)"
fi
log "fresh-check: $ROOT$REPO: $what"

set +e
unshare --mount --propagation private "$TOP/scripts/fresh-check.sh" --inner
rc=$?
set -e
[ -z "$(mounts_below)" ] || warn "still mounted: $(mounts_below | tr '\n' ' ')"

log "fresh-check: $what, make $FRESH_TARGET, $(date -u '+%F %H:%M UTC')"
while read -r name secs src; do
	printf '  %-12s %5d s (%d min %02d s), status %s\n' "$name" "$secs" \
		$((secs / 60)) $((secs % 60)) "$src"
done < "$TIMES"
total=$((SECONDS - t_all))
printf '  %-12s %5d s (%d min %02d s)\n' total "$total" $((total / 60)) $((total % 60))
[ "$rc" = 0 ] || warn "fresh-check: make $FRESH_TARGET failed (status $rc; logs in $LOGS)"
if [ -f "$LOGS/test.log" ]; then
	# make test's own last line: "N passed, N failed[, N skipped]".
	sum=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$LOGS/test.log" | tail -1 || true)
	[ -z "$sum" ] || echo "$sum"
fi
exit "$rc"
