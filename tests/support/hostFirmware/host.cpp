// main() for the sketch built for this computer (tests only). Serial is a pty whose path is printed
// first on stdout. Environment: HOST_STORE (the file standing in for EEPROM/NVS), HOST_BOOT_MS
// (silent that long first, input dropped, like a board still booting), HOST_NOISE=1 (a log line
// every 20 ms, some with binary bytes), HOST_WIFI_SSID / HOST_WIFI_PASSWORD (the one network the
// Wi-Fi stand-in joins).
#include "Arduino.h"
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "config_override.h"
#include "improv_serial.h"

void setup();
void loop();

HostSerial Serial;
static int master = -1;
static uint8_t input[256];
static size_t inputStart = 0, inputEnd = 0;

unsigned long millis() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (unsigned long)(now.tv_sec * 1000UL + now.tv_nsec / 1000000UL);
}
void delay(unsigned long ms) { usleep(ms * 1000); }
int analogRead(int) { return 512; }
char *dtostrf(double value, signed char width, unsigned char precision, char *out) {
  sprintf(out, "%*.*f", width, precision, value);
  return out;
}

int HostSerial::available() {
  if (inputStart == inputEnd) {
    ssize_t n = ::read(master, input, sizeof input);  // non-blocking; EIO/EAGAIN: nothing
    inputStart = 0;
    inputEnd = n > 0 ? (size_t)n : 0;
  }
  return (int)(inputEnd - inputStart);
}
int HostSerial::read() { return available() ? input[inputStart++] : -1; }
size_t HostSerial::write(const uint8_t *bytes, size_t size) {
  for (size_t done = 0; done < size;) {
    ssize_t n = ::write(master, bytes + done, size - done);
    if (n > 0) done += (size_t)n;
    else if (errno == EAGAIN) usleep(1000);  // nobody reads yet: the pty's buffer is full
    else return done;
  }
  return size;
}
size_t HostSerial::write(uint8_t byte) { return write(&byte, 1); }
void HostSerial::print(unsigned long value) {
  char text[24];
  snprintf(text, sizeof text, "%lu", value);
  print(text);
}
void HostSerial::print(long value) {
  char text[24];
  snprintf(text, sizeof text, "%ld", value);
  print(text);
}

// The board's storage: one file.
bool overrideStoreRead(void *record, size_t size) {
  FILE *file = fopen(getenv("HOST_STORE"), "rb");
  if (!file) return false;
  bool ok = fread(record, 1, size, file) == size;
  fclose(file);
  return ok;
}
bool overrideStoreWrite(const void *record, size_t size) {
  FILE *file = fopen(getenv("HOST_STORE"), "wb");
  if (!file) return false;
  bool ok = fwrite(record, 1, size, file) == size;
  return fclose(file) == 0 && ok;
}

#if MAKERDECK_HAS_WIFI
// The Wi-Fi stand-in: one network that takes one password, and a scan that sees two networks.
static bool joined = false;
bool wifiJoin(const char *ssid, const char *password) {
  const char *want = getenv("HOST_WIFI_PASSWORD");
  joined = strcmp(ssid, getenv("HOST_WIFI_SSID")) == 0 && want && strcmp(password, want) == 0;
  return joined;
}
bool wifiJoined() { return joined; }
void wifiScan(void (*each)(const char *ssid, int rssi, bool secured)) {
  each(getenv("HOST_WIFI_SSID"), -48, true);
  each("caf\xc3\xa9 open", -71, false);
}
#endif

static void openPty() {
  master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) exit(2);
  // Held open and raw, so the pty neither echoes nor hangs up while no client has it open.
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  struct termios raw;
  tcgetattr(slave, &raw);
  cfmakeraw(&raw);
  tcsetattr(slave, TCSANOW, &raw);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  printf("%s\n", ptsname(master));
  fflush(stdout);
}

int main() {
  openPty();
  const char *boot = getenv("HOST_BOOT_MS");
  for (unsigned long start = millis(); boot && millis() - start < strtoul(boot, nullptr, 10); delay(5))
    while (Serial.read() >= 0) {
    }
  bool noise = getenv("HOST_NOISE") != nullptr;
  unsigned long lastNoise = 0, count = 0;
  setup();
  for (;;) {
    loop();
    if (noise && millis() - lastNoise >= 20) {
      lastNoise = millis();
      if (++count % 3 == 0) Serial.println("wifi: \x01\x02\xff retry IMPRO");
      else Serial.println("mqtt connect failed, state -2");
    }
    delay(2);
  }
}
