/*
 * ptyshim.c - LD_PRELOAD shim giving pseudo-terminals fake modem lines.
 *
 * A pty has no DTR/RTS: TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC fail with ENOTTY,
 * so a flasher cannot pulse DTR to reset an emulated board. Preloaded into
 * the client (avrdude, node, ...), this shim lets those ioctls succeed on pty
 * slaves (/dev/pts/N), keeps the line state per device in the process, and
 * when DTR goes from deasserted to asserted (what resets a real Uno) sends
 * SIGUSR1 via sigqueue() - value N - to every PID listed in
 * MAKERDECK_UNO_HARNESS_PID (comma separated). The harness ignores values that
 * are not its own pts number.
 *
 * Everything else (other ioctls, real serial ports, non-pty fds) passes
 * through untouched. MAKERDECK_PTYSHIM_DEBUG=1 logs to stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef int (*ioctl_fn)(int, unsigned long, ...);

static ioctl_fn real_ioctl;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Modem line state of the pty slaves this process has touched. A freshly
 * opened serial port has DTR and RTS asserted, hence the default. */
static struct {
	dev_t dev;
	int bits;
} lines[64];
static int nlines;

static int debug(void)
{
	const char *d = getenv("MAKERDECK_PTYSHIM_DEBUG");
	return d && *d && strcmp(d, "0");
}

/* UNIX98 pty slaves: majors 136..143, N = (major - 136) * 256 + minor */
static int pty_index(int fd, dev_t *dev)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return -1;
	unsigned maj = major(st.st_rdev);
	if (maj < 136 || maj > 143)
		return -1;
	*dev = st.st_rdev;
	return (int)((maj - 136) * 256 + minor(st.st_rdev));
}

static void notify_dtr_rise(int index)
{
	const char *list = getenv("MAKERDECK_UNO_HARNESS_PID");
	if (!list)
		return;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		long pid = strtol(tok, NULL, 10);
		if (pid <= 0)
			continue;
		union sigval v = {.sival_int = index};
		int r = sigqueue((pid_t)pid, SIGUSR1, v);
		if (debug())
			fprintf(stderr, "ptyshim: DTR rise on /dev/pts/%d -> pid %ld%s\n",
					index, pid, r ? " (failed)" : "");
	}
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);

	if (!real_ioctl)
		real_ioctl = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");

	if (request != TIOCMGET && request != TIOCMSET &&
			request != TIOCMBIS && request != TIOCMBIC)
		return real_ioctl(fd, request, arg);

	int saved_errno = errno;
	int r = real_ioctl(fd, request, arg);
	if (r == 0 || (errno != ENOTTY && errno != EINVAL))
		return r;
	dev_t dev;
	int index = pty_index(fd, &dev);
	if (index < 0 || !arg)
		return r;   /* not a pty: the real error stands */

	pthread_mutex_lock(&lock);
	int i;
	for (i = 0; i < nlines && lines[i].dev != dev; i++)
		;
	if (i == nlines) {
		if (nlines < (int)(sizeof lines / sizeof lines[0]))
			nlines++;
		else
			i = nlines - 1;   /* table full: recycle the last slot */
		lines[i].dev = dev;
		lines[i].bits = TIOCM_DTR | TIOCM_RTS;
	}
	int old = lines[i].bits, val = *(int *)arg;
	switch (request) {
	case TIOCMGET:
		/* the other end is always "there": DSR, CTS, carrier */
		*(int *)arg = old | TIOCM_DSR | TIOCM_CTS | TIOCM_CAR;
		break;
	case TIOCMSET: lines[i].bits = val & (TIOCM_DTR | TIOCM_RTS); break;
	case TIOCMBIS: lines[i].bits = old | (val & (TIOCM_DTR | TIOCM_RTS)); break;
	case TIOCMBIC: lines[i].bits = old & ~(val & (TIOCM_DTR | TIOCM_RTS)); break;
	}
	int now = lines[i].bits;
	pthread_mutex_unlock(&lock);

	if (debug() && request != TIOCMGET)
		fprintf(stderr, "ptyshim: /dev/pts/%d DTR=%d RTS=%d\n", index,
				!!(now & TIOCM_DTR), !!(now & TIOCM_RTS));
	if (!(old & TIOCM_DTR) && (now & TIOCM_DTR))
		notify_dtr_rise(index);
	errno = saved_errno;
	return 0;
}
