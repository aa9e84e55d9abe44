// Makerdeck device firmware: reads sensors and reports them as telemetry.
// ESP32/ESP8266 publish over MQTT; AVR boards (no Wi-Fi) print the same lines on USB serial and
// Makerdeck acts as their gateway. Format and topics: see README.md.
//
// A build is config-free: the device id, Wi-Fi and MQTT settings come from the config block
// (config_block.h), which Makerdeck writes into the image when it flashes a board.
#include "config_block.h"
#include "config_override.h"
#include "improv_serial.h"
#include "telemetry.h"

#if defined(ESP32) || defined(ESP8266)
#include "mqtt_link.h"
#endif

// Makerdeck's build hash, from a header it writes next to a copy of the sketch; a hand build has none.
#if defined(__has_include)
#if __has_include("makerdeck_build.h")
#include "makerdeck_build.h"
#endif
#endif
#ifndef MAKERDECK_BUILD_HASH
#define MAKERDECK_BUILD_HASH "unknown"
#endif

static bool provisioned = false;
static unsigned long lastReport = 0;
static unsigned long sequence = 0;

void setup() {
  Serial.begin(115200);
  provisioned = configBegin() == CONFIG_OK;
  improvBegin(MAKERDECK_BUILD_HASH);
  if (provisioned) overrideBegin();  // values set over Improv under this release replace the stamped ones
  if (!provisioned) {
    Serial.print(F("makerdeck firmware build "));
    Serial.println(F(MAKERDECK_BUILD_HASH));
    return;
  }
  sensorsBegin();
#if defined(ESP32) || defined(ESP8266)
  mqttBegin();
#endif
  Serial.print(F("makerdeck firmware ready, device "));
  Serial.print(config().deviceId);
  Serial.print(F(", build "));
  Serial.println(F(MAKERDECK_BUILD_HASH));
}

void loop() {
  improvPoll();  // Improv frames and "makerdeck info" share the line with the telemetry
  unsigned long now = millis();
  if (!provisioned) {
    // Without a config there is nothing to run: repeat why, for a monitor opened later.
    if (now - lastReport >= 10000UL) {
      lastReport = now;
      Serial.println(F("not provisioned: flash it with Makerdeck"));
    }
    return;
  }
#if defined(ESP32) || defined(ESP8266)
  mqttLoop();
#endif
  if (now - lastReport < config().intervalS * 1000UL && lastReport != 0) return;
  lastReport = now == 0 ? 1 : now;

  char line[TELEMETRY_LINE_MAX];
  formatTelemetry(line, sizeof line, config().deviceId, sequence++);
#if defined(ESP32) || defined(ESP8266)
  mqttPublishTelemetry(line);
#endif
  Serial.println(line);  // on AVR this line *is* the telemetry; on ESP it is a copy for the monitor
}
