/*
 * timer.c - wall-clock time for the few places that need it: the waits
 * of INIT-SIPI-SIPI and the benchmark figures.
 *
 * The time-stamp counter counts at a constant rate, but nothing says
 * which rate.  So we count its ticks across a known span of the 8254
 * PIT (1.193182 MHz since the IBM PC): channel 2, one-shot, gate on,
 * speaker off; bit 5 of port 0x61 goes high when it has counted down.
 * Under QEMU's TCG both clocks follow the host's, so waits keep their
 * length; the loops are bounded all the same.
 */
#include "kernel.h"
#include "cpu.h"

#define PIT_HZ        1193182u
#define PIT_CH2       0x42
#define PIT_CMD       0x43
#define PIT_GATE_PORT 0x61
#define PIT_GATE      0x01 /* port 0x61 bit 0: channel 2 counts */
#define PIT_SPEAKER   0x02 /* bit 1: speaker on (kept off) */
#define PIT_OUT2      0x20 /* bit 5: channel 2's output */
#define CALIBRATE_MS  20
#define FALLBACK_MHZ  1000u/* no PIT answered: a guess, said out loud */

static uint64_t ticks_per_us = FALLBACK_MHZ;

/* Count TSC ticks across ms milliseconds of PIT channel 2; 0 when the
 * PIT never counted down (no PIT at 0x40-0x43). */
static uint64_t tsc_ticks_across(unsigned ms)
{
	uint32_t count = PIT_HZ / 1000 * ms;
	uint64_t start, spins = 0;

	outb(PIT_GATE_PORT, (uint8_t)((inb(PIT_GATE_PORT) & ~PIT_SPEAKER) | PIT_GATE));
	outb(PIT_CMD, 0xB0); /* channel 2, low then high byte, mode 0, binary */
	outb(PIT_CH2, (uint8_t)count);
	outb(PIT_CH2, (uint8_t)(count >> 8));
	start = rdtsc();
	while (!(inb(PIT_GATE_PORT) & PIT_OUT2))
		if (++spins > 100000000)
			return 0;
	return spins < 10 ? 0 : rdtsc() - start; /* output high at once: no PIT */
}

void timer_init(void)
{
	uint64_t ticks = tsc_ticks_across(CALIBRATE_MS);

	if (ticks == 0) {
		kprintf("timer: no PIT answered; guessing the TSC runs at %u MHz\n", FALLBACK_MHZ);
		return;
	}
	ticks_per_us = ticks / (CALIBRATE_MS * 1000u);
	if (ticks_per_us == 0)
		ticks_per_us = 1;
	kprintf("timer: TSC at %lu MHz (measured against the PIT)\n", ticks_per_us);
}

uint64_t timer_us(void)
{
	return rdtsc() / ticks_per_us;
}

void timer_delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + us * ticks_per_us;

	while (rdtsc() < end)
		cpu_relax();
}
