#include "telemetry.h"
#include "sensor_options.h"

#if MAKERDECK_WITH_DHT22
#include <DHT.h>
static DHT dht(MAKERDECK_DHT_PIN, DHT22);
#endif
#if MAKERDECK_WITH_BME280
#include <Adafruit_BME280.h>
static Adafruit_BME280 bme;
static bool bmeFound = false;
#endif

void sensorsBegin() {
#if MAKERDECK_WITH_DHT22
  dht.begin();
#endif
#if MAKERDECK_WITH_BME280
  bmeFound = bme.begin(0x76) || bme.begin(0x77);
#endif
}

#if defined(__AVR_ATmega328P__)
// The ATmega328P's own temperature sensor: ADC channel 8 against the internal 1.1 V reference.
// Uncalibrated (±10 °C), but it needs no wiring and shows the pipeline works.
static bool chipTemperature(float *celsius) {
  ADMUX = _BV(REFS1) | _BV(REFS0) | _BV(MUX3);
  ADCSRA |= _BV(ADEN);
  delay(2);
  ADCSRA |= _BV(ADSC);
  for (uint16_t spin = 0; bit_is_set(ADCSRA, ADSC); spin++) {
    if (spin == 60000) return false;  // no conversion (an emulator may not model the ADC)
  }
  uint16_t raw = ADCW;
  *celsius = (raw - 324.31f) / 1.22f;
  return true;
}
#elif defined(ESP32) && !defined(CONFIG_IDF_TARGET_ESP32)
static bool chipTemperature(float *celsius) {
  *celsius = temperatureRead();
  return true;
}
#else
static bool chipTemperature(float *) { return false; }
#endif

// Appends ",name=value" (or "name=value" first) to out; returns the new length.
static size_t appendField(char *out, size_t size, size_t used, const char *name, const char *value) {
  if (used >= size) return used;
  int n = snprintf(out + used, size - used, "%s%s=%s", out[used - 1] == ' ' ? "" : ",", name, value);
  return n < 0 ? used : used + (size_t)n;
}

static void formatFloat(char *buffer, float value) {
  dtostrf(value, 1, 2, buffer);  // AVR's printf has no %f; always with a decimal point ("21.00")
  char *start = buffer;
  while (*start == ' ') start++;
  memmove(buffer, start, strlen(start) + 1);
}

// Each field keeps one type in every line: integers always end in `i`, floats never do (InfluxDB
// keeps a field's first type and refuses points of the other). A sensor that fails gives NaN, which
// would print as "nan" and make Telegraf drop the whole line: such a field is left out instead.
static size_t appendFloat(char *out, size_t size, size_t used, const char *name, float value) {
  if (isnan(value) || isinf(value)) return used;
  char text[24];
  formatFloat(text, value);
  return appendField(out, size, used, name, text);
}

void formatTelemetry(char *out, size_t size, const char *device, unsigned long sequence) {
  char value[24];
  size_t used = (size_t)snprintf(out, size, "telemetry,device=%s ", device);
  snprintf(value, sizeof value, "%lui", sequence);
  used = appendField(out, size, used, "seq", value);
  snprintf(value, sizeof value, "%di", analogRead(A0));
  used = appendField(out, size, used, "a0", value);
  float celsius;
  if (chipTemperature(&celsius)) used = appendFloat(out, size, used, "chip_temp_c", celsius);
#if MAKERDECK_WITH_DHT22
  float t = dht.readTemperature(), h = dht.readHumidity();
  if (!isnan(t) && !isnan(h)) {
    used = appendFloat(out, size, used, "temp_c", t);
    used = appendFloat(out, size, used, "humidity", h);
  }
#endif
#if MAKERDECK_WITH_BME280
  if (bmeFound) {
    used = appendFloat(out, size, used, "temp_c", bme.readTemperature());
    used = appendFloat(out, size, used, "pressure_hpa", bme.readPressure() / 100.0f);
  }
#endif
}
