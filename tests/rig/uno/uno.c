/*
 * uno.c - an emulated Arduino Uno for tests.
 *
 * An ATmega328P at 16 MHz (Debian's simavr) runs a real bootloader (optiboot)
 * and its UART0 is bridged to a pseudo-terminal, so a flasher (avrdude or
 * Makerdeck's STK500v1 code) talks to it exactly as to a board on a serial
 * port, and the flashed sketch's serial output comes back on the same pty.
 *
 *   uno-harness --firmware optiboot_atmega328.hex --pty-link /tmp/x/uno.pty
 *               [--flash-image app.hex] [--reset-delay-ms 65] [--spm-us 4500]
 *               [--unpaced] [-v]
 *
 * Prints "ready <pty path>" on stdout once listening; SIGTERM/SIGINT end it.
 *
 * Board behaviour emulated:
 *  - BOOTRST fuse: every reset starts at the bootloader (--boot-start, 0x7E00).
 *  - Power-on sets MCUSR=PORF only, so optiboot jumps straight to the app.
 *  - "Auto-reset": when the first client opens the pty (a real Uno's USB
 *    serial chip asserts DTR on open, and DTR is capacitor-coupled to RESET)
 *    and whenever a client asserts DTR through the LD_PRELOAD shim
 *    (ptyshim.so sends SIGUSR1 with the pts number), the core is held in
 *    reset for --reset-delay-ms (the Uno's 65 ms start-up delay fuse; input
 *    arriving meanwhile is lost, as on the real board), then restarts with
 *    MCUSR=EXTRF so optiboot stays in the bootloader for its ~1 s window.
 *  - Flash (bootloader + whatever the bootloader wrote with SPM) survives
 *    every reset; only the process exit loses it.
 *  - The core is paced to wall-clock time: optiboot's timeouts are watchdog
 *    based and a free-running simavr is several times faster than 16 MHz.
 *  - Serial timing: host bytes enter the UART one per frame time (never
 *    dropped: they wait while the receive FIFO is full), frames are 10 bits
 *    for 8N1 (simavr alone counts 11), and a page erase/write keeps SPMEN set
 *    for --spm-us (4.5 ms, the datasheet maximum), so flashing takes as long
 *    as on a real board. The pty itself has no baud rate.
 *  - The boot section is write-protected (the Uno's lock bits), and a
 *    bootloader jumping into an empty application parks the core until the
 *    next reset instead of sliding through erased flash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sim_avr.h>
#include <sim_io.h>
#include <sim_irq.h>
#include <avr_uart.h>
#include <avr_flash.h>
#include <sim_cycle_timers.h>

/* avr_uart.h only declares the FIFO type; this defines its inline accessors. */
DEFINE_FIFO(uint16_t, uart_fifo);

/* ---------------------------------------------------------------- options */

static struct {
	const char *firmware;
	const char *flash_image;
	const char *pty_link;
	const char *mcu;
	uint32_t freq;
	uint32_t boot_start;
	int reset_delay_ms;
	int spm_us;
	int unpaced;
	int verbose;
} opt = {
	.mcu = "atmega328p",
	.freq = 16000000,
	.boot_start = 0x7E00,
	.reset_delay_ms = 65,
	.spm_us = 4500,
};

static void logmsg(int level, const char *fmt, ...)
{
	if (level > opt.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("uno-harness: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ state */

static avr_t *avr;
static avr_uart_t *uart0;      /* simavr's UART0 model, found by walking avr->io_port */
static avr_irq_t *uart_irq;    /* UART0's IRQ block (INPUT, OUTPUT, XON, XOFF) */

static int mfd = -1;           /* pty master */
static int ino = -1;           /* inotify fd watching the pty slave (or -1) */
static int pts_index = -1;     /* N in /dev/pts/N: DTR signals carry it */
static char slave_path[PATH_MAX];

static int client_open;        /* a client has the slave open */
static int openers;            /* open file descriptions of the slave (inotify) */

static uint64_t hold_until;    /* core held in reset until this cycle (0 = running) */
static int halted;             /* core parked: crash, sleep with interrupts off, or no app */
static uint64_t invalid_opcodes;

static volatile sig_atomic_t stop_req, dtr_req;

/* host -> AVR bytes, waiting for room in the UART's receive FIFO */
static uint8_t inbuf[4096];
static size_t in_head, in_len;
/* AVR -> host bytes, waiting to be written to the pty master */
static uint8_t outbuf[16384];
static size_t out_head, out_len;
static uint64_t out_dropped;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ------------------------------------------------------- firmware loading */

/* Put one block into flash; refuse anything past the end (Debian's prebuilt
 * optiboot_atmega328.hex, for one, runs past 0x8000). */
static int put_flash(const char *file, uint32_t addr, const uint8_t *data, uint32_t len)
{
	if ((uint64_t)addr + len > (uint64_t)avr->flashend + 1) {
		fprintf(stderr, "uno-harness: %s: data at 0x%x..0x%x lies beyond flash end 0x%x\n",
				file, addr, addr + len - 1, avr->flashend);
		return -1;
	}
	memcpy(avr->flash + addr, data, len);
	return 0;
}

static int hexval(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = s[i];
		int d = (c >= '0' && c <= '9') ? c - '0' :
				(c >= 'a' && c <= 'f') ? c - 'a' + 10 :
				(c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/* Intel HEX: records 00 (data), 01 (EOF), 02/04 (segment/linear base),
 * 03/05 (start address, ignored). */
static int load_ihex(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		return -1;
	}
	char line[600];
	uint32_t base = 0, total = 0;
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\r' || *p == '\n' || !*p)
			continue;
		int n = (*p == ':') ? hexval(p + 1, 2) : -1;
		if (n < 0 || (int)strlen(p + 1) < 10 + 2 * n) {
			fprintf(stderr, "uno-harness: %s:%d: not an Intel HEX record\n", file, lineno);
			rc = -1;
			break;
		}
		uint8_t rec[5 + 255];
		uint8_t sum = 0;
		for (int i = 0; i < 5 + n; i++) {
			int b = hexval(p + 1 + 2 * i, 2);
			if (b < 0) {
				fprintf(stderr, "uno-harness: %s:%d: bad hex digit\n", file, lineno);
				fclose(f);
				return -1;
			}
			rec[i] = b;
			sum += b;
		}
		if (sum) {
			fprintf(stderr, "uno-harness: %s:%d: checksum error\n", file, lineno);
			rc = -1;
			break;
		}
		uint32_t addr = (rec[1] << 8) | rec[2];
		uint8_t type = rec[3];
		if (type == 0) {
			if (put_flash(file, base + addr, rec + 4, n)) {
				rc = -1;
				break;
			}
			total += n;
		} else if (type == 1) {
			break;
		} else if (type == 2) {
			base = ((rec[4] << 8) | rec[5]) << 4;
		} else if (type == 4) {
			base = ((rec[4] << 8) | rec[5]) << 16;
		}
	}
	fclose(f);
	if (!rc)
		logmsg(1, "%s: %u bytes loaded\n", file, total);
	return rc;
}

/* ELF: copy the PT_LOAD segments whose load address lies in flash (what
 * `avr-objcopy -O ihex` would emit). No libelf needed for that. */
static int load_elf(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		perror(file);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(size);
	if (!b || fread(b, 1, size, f) != (size_t)size) {
		fprintf(stderr, "uno-harness: %s: read error\n", file);
		fclose(f);
		free(b);
		return -1;
	}
	fclose(f);
#define U16(o) ((uint32_t)b[o] | ((uint32_t)b[(o) + 1] << 8))
#define U32(o) (U16(o) | (U16((o) + 2) << 16))
	int rc = -1;
	if (size < 52 || b[4] != 1 /* ELFCLASS32 */ || b[5] != 1 /* little endian */) {
		fprintf(stderr, "uno-harness: %s: not a 32-bit little-endian ELF\n", file);
		goto out;
	}
	uint32_t phoff = U32(28), phentsize = U16(42), phnum = U16(44), total = 0;
	for (uint32_t i = 0; i < phnum; i++) {
		uint32_t ph = phoff + i * phentsize;
		if (ph + 32 > (uint32_t)size)
			goto out;
		uint32_t type = U32(ph), offset = U32(ph + 4), paddr = U32(ph + 12), filesz = U32(ph + 16);
		/* avr-ld puts flash at 0, SRAM at 0x800000, EEPROM at 0x810000 */
		if (type != 1 /* PT_LOAD */ || !filesz || paddr >= 0x800000)
			continue;
		if ((uint64_t)offset + filesz > (uint64_t)size || put_flash(file, paddr, b + offset, filesz))
			goto out;
		total += filesz;
	}
	logmsg(1, "%s: %u bytes loaded\n", file, total);
	rc = 0;
out:
	free(b);
	return rc;
#undef U16
#undef U32
}

static int load_image(const char *file)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		perror(file);
		return -1;
	}
	char magic[4] = {0};
	size_t n = fread(magic, 1, 4, f);
	fclose(f);
	if (n == 4 && !memcmp(magic, "\177ELF", 4))
		return load_elf(file);
	return load_ihex(file);
}

/* ------------------------------------------------------------------ logging */

/* simavr's own log lines, at its ERROR level (more with -v). Invalid
 * opcodes (firmware running into data) are counted, printed only at -vv. */
static void sim_logger(avr_t *a, const int level, const char *fmt, va_list ap)
{
	(void)a;
	if (strstr(fmt, "Invalid Opcode")) {
		invalid_opcodes++;
		if (opt.verbose < 2)
			return;
	}
	if (level > LOG_ERROR + opt.verbose)
		return;
	fputs("uno-harness: simavr: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------------- UART */

static int uart_rx_enabled(void)
{
	return uart0 && avr_regbit_get(avr, uart0->rxen);
}

/* The serial line, host -> AVR: one queued byte enters the UART every frame
 * time (a cycle timer), never faster, and only while the UART's receive FIFO
 * has room, so nothing is dropped even when the firmware is slow to read.
 * (simavr's UART also signals room with its XON/XOFF IRQs, but a watchdog
 * reset clears RXEN without an XOFF, so RXEN and the FIFO are checked
 * directly.) Feeding the FIFO in bursts instead would let the firmware read
 * faster than the line rate: simavr's UART hands out two bytes per frame
 * time when it has a backlog. */
static avr_cycle_count_t rx_line_tick(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)param;
	if (!in_len || !uart_rx_enabled())
		return 0;
	if (!uart_fifo_isfull(&uart0->input)) {
		uint8_t b = inbuf[in_head];
		in_head = (in_head + 1) % sizeof inbuf;
		in_len--;
		avr_raise_irq(uart_irq + UART_IRQ_INPUT, b);
	}
	return in_len ? when + uart0->cycles_per_byte : 0;
}

static void feed_uart(void)
{
	if (in_len && uart_rx_enabled() && !avr_cycle_timer_status(avr, rx_line_tick, NULL))
		avr_cycle_timer_register(avr, 1, rx_line_tick, NULL);
}

static void uart_out_hook(avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	/* Like the Uno's USB-serial chip: nobody listening, the byte is lost. */
	if (!client_open)
		return;
	if (out_len == sizeof outbuf) {
		out_dropped++;
		return;
	}
	outbuf[(out_head + out_len) % sizeof outbuf] = (uint8_t)value;
	out_len++;
}

/* simavr 1.6 always counts a parity bit in a UART frame (11 bits for 8N1),
 * which makes 115200 baud about 10% slow. Correct the byte time from the
 * registers whenever it still holds simavr's value. */
static void fix_uart_timing(void)
{
	if (!uart0)
		return;
	uint32_t ubrr = avr_regbit_get(avr, uart0->ubrrl) | (avr_regbit_get(avr, uart0->ubrrh) << 8);
	static const int databits[] = {5, 6, 7, 8, 8, 8, 8, 9};
	int db = databits[avr_regbit_get(avr, uart0->ucsz) | (avr_regbit_get(avr, uart0->ucsz2) << 2)];
	int sb = 1 + avr_regbit_get(avr, uart0->usbs);
	/* UPM01:0 are bits 5:4 of UCSRnC */
	int parity = uart0->r_ucsrc ? ((avr->data[uart0->r_ucsrc] >> 4) & 3) != 0 : 0;
	avr_cycle_count_t bit = (ubrr + 1) * 8 * (avr_regbit_get(avr, uart0->u2x) ? 1 : 2);
	avr_cycle_count_t simavr_val = bit * (1 + db + 1 + sb);
	if (uart0->cycles_per_byte == simavr_val)
		uart0->cycles_per_byte = bit * (1 + db + parity + sb);
}

static int setup_uart(void)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && !strcmp(io->kind, "uart") && ((avr_uart_t *)io)->name == '0')
			uart0 = (avr_uart_t *)io;
	uart_irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	if (!uart0 || !uart_irq) {
		fprintf(stderr, "uno-harness: no UART0 on %s\n", opt.mcu);
		return -1;
	}
	/* No console echo, and no usleep() on every status poll: that "poll
	 * sleep" would slow optiboot's getch() loop far below real time. */
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(uart_irq + UART_IRQ_OUTPUT, uart_out_hook, NULL);
	return 0;
}

/* ------------------------------------------------------------------ flash */

/* simavr erases/writes a flash page instantly. A real ATmega328P keeps SPMEN
 * set for up to 4.5 ms while it does, and optiboot busy-waits on that before
 * it answers, so each page costs the flasher that long. Wrap the flash
 * module's SPM handler to keep SPMEN set for --spm-us after an erase or a
 * write. */
static avr_flash_t *flash;
static int (*flash_ioctl_orig)(avr_io_t *io, uint32_t ctl, void *param);

static avr_cycle_count_t spm_done(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)when; (void)param;
	avr_regbit_clear(a, flash->selfprgen);
	return 0;
}

static int flash_ioctl_hook(avr_io_t *io, uint32_t ctl, void *param)
{
	int busy = ctl == AVR_IOCTL_FLASH_SPM && avr_regbit_get(avr, flash->selfprgen) &&
			(avr_regbit_get(avr, flash->pgers) || avr_regbit_get(avr, flash->pgwrt));
	uint32_t z = avr->data[30] | (avr->data[31] << 8);
	if (busy && z >= opt.boot_start) {
		/* The Uno's lock bits (0x0F) forbid SPM into the boot section:
		 * the bootloader cannot be overwritten, whatever the code does. */
		logmsg(1, "SPM erase/write at 0x%04x refused (boot section is locked)\n", z);
		avr_regbit_clear(avr, flash->selfprgen);
		return 0;
	}
	int r = flash_ioctl_orig(io, ctl, param);
	if (busy && opt.spm_us > 0) {
		avr_regbit_set(avr, flash->selfprgen);
		avr_cycle_timer_register_usec(avr, opt.spm_us, spm_done, NULL);
	}
	return r;
}

static void setup_flash(void)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && !strcmp(io->kind, "flash"))
			flash = (avr_flash_t *)io;
	if (!flash) {
		logmsg(0, "no self-programming module on %s; SPM timing not emulated\n", opt.mcu);
		return;
	}
	flash_ioctl_orig = flash->io.ioctl;
	flash->io.ioctl = flash_ioctl_hook;
}

/* ------------------------------------------------------------------ resets */

/* Start an external reset (RESET pin pulled low): the core stops now and
 * restarts after the start-up delay, see release_reset(). */
static void begin_external_reset(const char *why)
{
	logmsg(1, "reset (%s)\n", why);
	hold_until = avr->cycle + (uint64_t)opt.reset_delay_ms * (opt.freq / 1000) + 1;
	halted = 0;
	in_len = 0;   /* bytes that were on their way into the UART are lost */
}

static void release_reset(void)
{
	hold_until = 0;
	avr_reset(avr);   /* clears I/O registers (MCUSR too), keeps flash */
	avr_regbit_set(avr, avr->reset_flags.extrf);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGUSR1) {
		/* From ptyshim.so: sigqueue() with the pts number, so one client can
		 * drive several emulated boards. A plain kill -USR1 also resets. */
		if (si->si_code == SI_QUEUE && si->si_value.sival_int != pts_index)
			return;
		dtr_req = 1;
	} else {
		stop_req = 1;
	}
}

/* ------------------------------------------------------------------- pty */

static int setup_pty(void)
{
	int sfd;
	if (openpty(&mfd, &sfd, slave_path, NULL, NULL) < 0) {
		perror("uno-harness: openpty");
		return -1;
	}
	/* Raw line discipline on the slave, so bytes pass untouched even to a
	 * client that never calls tcsetattr (otherwise ECHO would loop the
	 * AVR's output straight back into its UART). Clients may change it. */
	struct termios tio;
	tcgetattr(sfd, &tio);
	cfmakeraw(&tio);
	cfsetispeed(&tio, B115200);
	cfsetospeed(&tio, B115200);
	tcsetattr(sfd, TCSANOW, &tio);
	/* Keep no slave fd open: then the master reports POLLHUP exactly while
	 * no client has the port open. */
	close(sfd);
	fcntl(mfd, F_SETFL, fcntl(mfd, F_GETFL) | O_NONBLOCK);
	fcntl(mfd, F_SETFD, FD_CLOEXEC);
	if (sscanf(slave_path, "/dev/pts/%d", &pts_index) != 1)
		pts_index = -1;

	/* inotify sees every open/close of the slave, even an open+close too
	 * quick for the POLLHUP check; events also wake the pacing sleep. */
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino >= 0 && inotify_add_watch(ino, slave_path, IN_OPEN | IN_CLOSE) < 0) {
		close(ino);
		ino = -1;
	}
	if (ino < 0)
		logmsg(1, "inotify unavailable, detecting opens by POLLHUP only\n");

	if (opt.pty_link) {
		struct stat st;
		if (lstat(opt.pty_link, &st) == 0) {
			if (!S_ISLNK(st.st_mode)) {
				fprintf(stderr, "uno-harness: %s exists and is not a symlink\n", opt.pty_link);
				return -1;
			}
			unlink(opt.pty_link);
		}
		if (symlink(slave_path, opt.pty_link) < 0) {
			fprintf(stderr, "uno-harness: symlink %s: %s\n", opt.pty_link, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void remove_link(void)
{
	char target[PATH_MAX];
	ssize_t n;
	if (!opt.pty_link)
		return;
	n = readlink(opt.pty_link, target, sizeof target - 1);
	if (n > 0) {
		target[n] = 0;
		if (!strcmp(target, slave_path))
			unlink(opt.pty_link);
	}
}

/* Track whether a client holds the port; an open while nobody held it is a
 * DTR rise, i.e. a reset. POLLHUP on the master tells "anyone has it open"
 * at the moment of the check; inotify adds the opens that came and went (or
 * closed and reopened) between two checks. The kernel clears POLLHUP before
 * it queues IN_OPEN, so an open first seen through POLLHUP is remembered
 * (open_seen_by_hup) to avoid counting its late IN_OPEN as a second open. */
static void check_client(void)
{
	static int open_seen_by_hup;
	int opened = 0;   /* a 0 -> 1 transition of the openers count */
	int overflow = 0;
	if (ino >= 0) {
		char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t n;
		while ((n = read(ino, buf, sizeof buf)) > 0) {
			for (char *p = buf; p < buf + n;) {
				struct inotify_event *ev = (struct inotify_event *)p;
				if (ev->mask & IN_Q_OVERFLOW)
					overflow = 1;
				if ((ev->mask & IN_OPEN) && openers++ == 0) {
					if (open_seen_by_hup)
						open_seen_by_hup = 0;
					else
						opened = 1;
				}
				if ((ev->mask & IN_CLOSE) && openers > 0)
					openers--;
				p += sizeof *ev + ev->len;
			}
		}
	}
	struct pollfd p = {.fd = mfd, .events = POLLIN};
	poll(&p, 1, 0);
	int open_now = !(p.revents & POLLHUP);
	if (!open_now || overflow) {
		openers = open_now;
		open_seen_by_hup = 0;
	}

	if (!client_open && (open_now || opened)) {
		/* Stale bytes in both directions go with the reset. */
		tcflush(mfd, TCIOFLUSH);
		out_len = 0;
		begin_external_reset("port opened");
		if (ino >= 0 && open_now && !opened && openers == 0)
			open_seen_by_hup = 1;
	} else if (client_open && opened) {
		tcflush(mfd, TCIOFLUSH);
		out_len = 0;
		begin_external_reset("port closed and reopened");
	}
	if (client_open && !open_now)
		logmsg(1, "port closed\n");
	client_open = open_now;
}

static void pump_pty(void)
{
	if (!client_open)
		return;
	/* host -> AVR */
	while (in_len < sizeof inbuf) {
		size_t tail = (in_head + in_len) % sizeof inbuf;
		size_t room = sizeof inbuf - in_len;
		if (room > sizeof inbuf - tail)
			room = sizeof inbuf - tail;
		ssize_t n = read(mfd, inbuf + tail, room);
		if (n <= 0)
			break;
		in_len += n;
	}
	if (hold_until || halted || !uart_rx_enabled())
		in_len = 0;   /* in reset / RX off: the bytes fall on the floor */
	else
		feed_uart();
	/* AVR -> host */
	while (out_len) {
		size_t chunk = out_len;
		if (chunk > sizeof outbuf - out_head)
			chunk = sizeof outbuf - out_head;
		ssize_t n = write(mfd, outbuf + out_head, chunk);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				out_len = 0;   /* EIO: the client went away */
			break;
		}
		out_head = (out_head + n) % sizeof outbuf;
		out_len -= n;
	}
}

/* ------------------------------------------------------------------- main */

static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	/* The main loop paces the whole core; simavr's own sleep is not used. */
	(void)a; (void)how_long;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: uno-harness --firmware BOOT.hex|.elf [--pty-link PATH] [--flash-image APP.hex|.elf]\n"
		"                   [--mcu atmega328p] [--freq 16000000] [--boot-start 0x7E00]\n"
		"                   [--reset-delay-ms 65] [--spm-us 4500] [--unpaced] [-v]...\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"firmware", required_argument, 0, 'f'},
		{"flash-image", required_argument, 0, 'i'},
		{"pty-link", required_argument, 0, 'l'},
		{"mcu", required_argument, 0, 'm'},
		{"freq", required_argument, 0, 'F'},
		{"boot-start", required_argument, 0, 'b'},
		{"reset-delay-ms", required_argument, 0, 'r'},
		{"spm-us", required_argument, 0, 's'},
		{"unpaced", no_argument, 0, 'u'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "f:i:l:m:F:b:r:s:uvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': opt.firmware = optarg; break;
		case 'i': opt.flash_image = optarg; break;
		case 'l': opt.pty_link = optarg; break;
		case 'm': opt.mcu = optarg; break;
		case 'F': opt.freq = strtoul(optarg, NULL, 0); break;
		case 'b': opt.boot_start = strtoul(optarg, NULL, 0); break;
		case 'r': opt.reset_delay_ms = atoi(optarg); break;
		case 's': opt.spm_us = atoi(optarg); break;
		case 'u': opt.unpaced = 1; break;
		case 'v': opt.verbose++; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!opt.firmware || optind != argc || opt.freq < 1000) {
		usage();
		return 2;
	}

	avr_global_logger_set(sim_logger);
	avr = avr_make_mcu_by_name(opt.mcu);
	if (!avr) {
		fprintf(stderr, "uno-harness: unknown mcu %s\n", opt.mcu);
		return 1;
	}
	avr_init(avr);
	avr->frequency = opt.freq;
	avr->sleep = no_sleep;
	avr->log = LOG_ERROR + opt.verbose;
	if (opt.boot_start > avr->flashend) {
		fprintf(stderr, "uno-harness: boot start 0x%x beyond flash\n", opt.boot_start);
		return 1;
	}
	/* The application first, so the bootloader wins where both have data. */
	if (opt.flash_image && load_image(opt.flash_image))
		return 1;
	if (load_image(opt.firmware))
		return 1;
	avr->reset_pc = opt.boot_start;   /* plays the BOOTRST fuse */
	avr->codeend = avr->flashend;
	if (setup_uart())
		return 1;
	setup_flash();

	struct sigaction sa = {0};
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (setup_pty()) {
		remove_link();
		return 1;
	}

	/* Power-on: straight into the application (PORF, no EXTRF). */
	avr_reset(avr);
	avr_regbit_set(avr, avr->reset_flags.porf);

	printf("ready %s\n", opt.pty_link ? opt.pty_link : slave_path);
	fflush(stdout);
	logmsg(1, "pty %s, %s @ %u Hz, reset vector 0x%04x\n",
			slave_path, opt.mcu, opt.freq, opt.boot_start);

	const uint64_t slice = opt.freq / 1000;   /* run 1 ms of AVR time per step */
	uint64_t t0 = now_ns(), c0 = avr->cycle, started_ns = t0;
	uint64_t resyncs = 0, max_lag_ns = 0;

	while (!stop_req) {
		check_client();
		if (dtr_req) {
			dtr_req = 0;
			begin_external_reset("DTR");
		}

		if (!opt.unpaced) {
			/* Pace: AVR time may run at most one slice ahead of wall-clock
			 * time. While ahead, only move bytes and wait (waking early for
			 * host input or open/close events). */
			uint64_t dc = avr->cycle - c0;
			uint64_t emu = dc / opt.freq * 1000000000ull + dc % opt.freq * 1000000000ull / opt.freq;
			uint64_t wall = now_ns() - t0;
			if (emu > wall) {
				pump_pty();
				struct pollfd fds[2];
				int nfds = 0;
				if (client_open && in_len < sizeof inbuf)
					fds[nfds++] = (struct pollfd){.fd = mfd, .events = POLLIN};
				if (ino >= 0)
					fds[nfds++] = (struct pollfd){.fd = ino, .events = POLLIN};
				uint64_t d = emu - wall;
				struct timespec ts = {.tv_sec = d / 1000000000ull, .tv_nsec = d % 1000000000ull};
				ppoll(fds, nfds, &ts, NULL);
				continue;
			}
			if (wall - emu > max_lag_ns)
				max_lag_ns = wall - emu;
			if (wall - emu > 100000000ull) {
				/* More than 100 ms behind (a starved process): don't catch
				 * up in a burst, which would squeeze the bootloader's window. */
				if (!resyncs++)
					logmsg(0, "emulation fell %llu ms behind real time; resynchronised\n",
							(unsigned long long)((wall - emu) / 1000000));
				t0 = now_ns();
				c0 = avr->cycle;
			}
		}

		uint64_t target = avr->cycle + slice;
		if (hold_until) {
			avr->cycle = target;            /* time passes, the core doesn't run */
			if (avr->cycle >= hold_until)
				release_reset();
		} else if (!halted) {
			while (avr->cycle < target) {
				int st = avr_run(avr);
				if (st == cpu_Done || st == cpu_Crashed) {
					logmsg(0, "core stopped (%s) at pc 0x%04x; waiting for a reset\n",
							st == cpu_Done ? "sleep with interrupts off" : "crash", avr->pc);
					halted = 1;
					break;
				}
				if (avr->pc == 0 && avr->flash[0] == 0xFF && avr->flash[1] == 0xFF) {
					/* The bootloader started an empty application. A real
					 * chip slides through erased flash (0xFFFF) back into
					 * optiboot, which calls appStart() again, each round
					 * pushing a return address until the stack runs over
					 * the I/O registers. Park the core until a reset. */
					logmsg(1, "no application in flash; idle until the next reset\n");
					halted = 1;
					break;
				}
			}
			fix_uart_timing();
		}
		if (halted)
			avr->cycle = target;
		pump_pty();
	}

	double wall_s = (now_ns() - started_ns) / 1e9;
	logmsg(1, "stopping: %.1f s emulated in %.1f s (max lag %.1f ms, %llu resyncs), "
			"%llu invalid opcodes skipped, %llu output bytes dropped\n",
			(double)avr->cycle / opt.freq, wall_s, max_lag_ns / 1e6, (unsigned long long)resyncs,
			(unsigned long long)invalid_opcodes, (unsigned long long)out_dropped);
	remove_link();
	close(mfd);
	if (ino >= 0)
		close(ino);
	avr_terminate(avr);
	return 0;
}
