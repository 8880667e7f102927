// SPDX-License-Identifier: GPL-2.0
/*
 * Print the host's TSC frequency in kHz, measured against CLOCK_MONOTONIC_RAW:
 * the median of five 40 ms windows, so that a window in which this process
 * was preempted at the wrong moment does not count.
 *
 * Under TCG, QEMU gives the guest the host's TSC as it is, but the guest
 * calibrates it against an emulated PIT: on a loaded host that calibration
 * can be off by an order of magnitude (99 MHz for a 2.6 GHz TSC was seen),
 * and guest time then runs many times too fast, which breaks tests that
 * wait a fixed time. scripts/run-guest.sh passes this figure as
 * tsc_early_khz= so that the guest does not calibrate at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

/* A (time, TSC) pair: the TSC read on both sides of the clock read. */
static void sample(uint64_t *ns, uint64_t *tsc)
{
	struct timespec ts;
	uint64_t a, b;

	a = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	b = __rdtsc();
	*ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	*tsc = a + (b - a) / 2;
}

int main(void)
{
	double khz[5], t;
	int i, j;

	for (i = 0; i < 5; i++) {
		struct timespec d = { 0, 40 * 1000 * 1000 };
		uint64_t t0, c0, t1, c1;

		sample(&t0, &c0);
		nanosleep(&d, NULL);
		sample(&t1, &c1);
		khz[i] = (double)(c1 - c0) * 1e6 / (double)(t1 - t0);
	}
	for (i = 1; i < 5; i++)
		for (j = i; j > 0 && khz[j - 1] > khz[j]; j--) {
			t = khz[j];
			khz[j] = khz[j - 1];
			khz[j - 1] = t;
		}
	if (khz[2] < 1e5 || khz[2] > 1e7) {
		fprintf(stderr, "host-tsc-khz: implausible TSC rate %.0f kHz\n", khz[2]);
		return 1;
	}
	printf("%.0f\n", khz[2]);
	return 0;
}
