// A small Arduino shim to build the firmware's sketch for this computer (tests only): Serial is the
// master side of a pseudo-terminal, millis() the monotonic clock.
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGMEM
class __FlashStringHelper;
#define F(text) (reinterpret_cast<const __FlashStringHelper *>(text))
#define A0 14

unsigned long millis();
void delay(unsigned long ms);
int analogRead(int pin);
char *dtostrf(double value, signed char width, unsigned char precision, char *out);

class HostSerial {
 public:
  void begin(long) {}
  int available();
  int read();
  size_t write(uint8_t byte);
  size_t write(const uint8_t *bytes, size_t size);
  void print(const char *text) { write((const uint8_t *)text, strlen(text)); }
  void print(const __FlashStringHelper *text) { print(reinterpret_cast<const char *>(text)); }
  void print(char ch) { write((uint8_t)ch); }
  void print(unsigned value) { print((unsigned long)value); }
  void print(int value) { print((long)value); }
  void print(unsigned long value);
  void print(long value);
  template <typename T>
  void println(T value) {
    print(value);
    print("\r\n");
  }
  void println() { print("\r\n"); }
};
extern HostSerial Serial;
