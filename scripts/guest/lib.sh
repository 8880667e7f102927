# SPDX-License-Identifier: GPL-2.0
# Shared by the guest jobs: sourced, not run.

rc=0

# check NAME CMD...: runs CMD and prints "kasan_ebpf-check: PASS|FAIL NAME",
# which scripts/test.sh counts; a failure sets rc=1.
check() {
	name=$1
	shift
	if "$@"; then
		echo "kasan_ebpf-check: PASS $name"
	else
		echo "kasan_ebpf-check: FAIL $name"
		rc=1
	fi
}
