/*
 * testapp.c - the sketch the rig's self-test flashes: blinks the Uno's LED
 * (PB5) and prints one telemetry line every 200 ms at 115200 baud.
 * Built with -DPAD_BLOCKS=N it also carries N*4 KiB of table in flash, to make
 * images of a chosen size; a byte of it goes into every line so the table is
 * really there.
 */
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <stdio.h>
#include <util/delay.h>

#ifndef PAD_BLOCKS
#define PAD_BLOCKS 0   /* 4 KiB blocks of padding, 0..7 */
#endif

static int uart_putchar(char c, FILE *stream)
{
	(void)stream;
	if (c == '\n')
		uart_putchar('\r', stream);
	loop_until_bit_is_set(UCSR0A, UDRE0);
	UDR0 = c;
	return 0;
}

static FILE uart_out = FDEV_SETUP_STREAM(uart_putchar, NULL, _FDEV_SETUP_WRITE);

static void uart_init(void)
{
	/* 115200 at 16 MHz needs the double-speed mode (U2X) to stay within
	 * 2.1% error, exactly as Arduino's HardwareSerial does: UBRR = 16. */
	UCSR0A = _BV(U2X0);
	UBRR0H = 0;
	UBRR0L = (F_CPU / 4 / 115200 - 1) / 2;
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);   /* 8N1 */
	UCSR0B = _BV(RXEN0) | _BV(TXEN0);
	stdout = &uart_out;
}

#if PAD_BLOCKS > 0
/* Generated data, not zeros, so a broken page shows up in the verify. */
#define B1(i) (uint8_t)((((unsigned long)(i)) * 167u + (((unsigned long)(i)) >> 8) * 13u + 0x5Au) & 0xFF)
#define B4(i) B1(i), B1((i) + 1), B1((i) + 2), B1((i) + 3)
#define B16(i) B4(i), B4((i) + 4), B4((i) + 8), B4((i) + 12)
#define B64(i) B16(i), B16((i) + 16), B16((i) + 32), B16((i) + 48)
#define B256(i) B64(i), B64((i) + 64), B64((i) + 128), B64((i) + 192)
#define B1K(i) B256(i), B256((i) + 256), B256((i) + 512), B256((i) + 768)
#define B4K(i) B1K(i), B1K((i) + 1024), B1K((i) + 2048), B1K((i) + 3072)
#define PAD_BYTES (PAD_BLOCKS * 4096UL)
const uint8_t pad[PAD_BYTES] PROGMEM = {
#if PAD_BLOCKS > 0
	B4K(0),
#endif
#if PAD_BLOCKS > 1
	B4K(4096),
#endif
#if PAD_BLOCKS > 2
	B4K(8192),
#endif
#if PAD_BLOCKS > 3
	B4K(12288),
#endif
#if PAD_BLOCKS > 4
	B4K(16384),
#endif
#if PAD_BLOCKS > 5
	B4K(20480),
#endif
#if PAD_BLOCKS > 6
	B4K(24576),
#endif
};
#define PAD_AT(n) pgm_read_byte(&pad[(n) % PAD_BYTES])
#else
#define PAD_AT(n) 0
#endif

int main(void)
{
	unsigned int n = 0;
	DDRB |= _BV(PB5);
	uart_init();
	for (;;) {
		PORTB ^= _BV(PB5);
		printf("telemetry,device=uno-test counter=%ui,pad=%ui\n", n, (unsigned)PAD_AT(n * 97u));
		n++;
		_delay_ms(200);
	}
}
