#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure out/build: tinyconfig, then selftests/bpf's config and
# config.x86_64 (so the real test_progs builds and runs), then our fragment
# last so that ours wins. Fails if Kconfig dropped any option we ask for.
. "$(dirname "$0")/common.sh"

FRAG=$SRC/kernel/configs/kasan_ebpf.config
BPFCFG=$SRC/tools/testing/selftests/bpf
STAMP=$BUILD/.kasan-ebpf-config

sum=$(cat "$0" "$BPFCFG/config" "$BPFCFG/config.x86_64" "$FRAG" | sha256sum)
if [ -f "$BUILD/.config" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$sum" ]; then
	exit 0
fi

mkdir -p "$BUILD"
out=$(kmake rustavailable 2>&1) || {
	echo "$out" >&2
	die "Rust is not available to kbuild (see above): run scripts/setup.sh"
}

log "configuring $BUILD"
kmake -s tinyconfig >/dev/null
"$SRC/scripts/kconfig/merge_config.sh" -m -O "$BUILD" "$BUILD/.config" \
	"$BPFCFG/config" "$BPFCFG/config.x86_64" "$FRAG" >/dev/null
kmake -s olddefconfig >/dev/null

bad=0
while read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$BUILD/.config" || {
			echo "  asked for $line, got: $(grep "^${line%%=*}=" \
				"$BUILD/.config" || echo 'not set')" >&2
			bad=1
		}
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$BUILD/.config"; then
			echo "  asked for $opt off, got: $(grep "^$opt=" \
				"$BUILD/.config")" >&2
			bad=1
		fi
		;;
	esac
done < "$FRAG"
[ $bad -eq 0 ] || die "Kconfig dropped options of $FRAG (see above)"
echo "$sum" > "$STAMP"
log "config ok: every option of kasan_ebpf.config is set as asked"
