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

# planted_begin LABEL KINDS / planted_end LABEL: bracket kernel reports that
# the job causes on purpose. KINDS is a comma list of kasan, oops, panic.
# The lines go to /dev/kmsg, so that they sit in the kernel's log in order
# with the reports; on the host, scripts/check-console.py fails the job on
# any splat outside a region of its kind (see its header). Regions do not
# nest; one that allows oops or panic may stay open if the guest dies.
# "<3>": logged at KERN_ERR like KASAN's reports, so that the console shows
# the markers whenever it shows the reports.
planted_begin() {
	echo "<3>kasan_ebpf-planted: begin $1 $2" > /dev/kmsg
}

planted_end() {
	echo "<3>kasan_ebpf-planted: end $1" > /dev/kmsg
}
