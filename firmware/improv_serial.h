// Improv Wi-Fi serial (improv-wifi.com/serial, version 1), the device side, plus one text query.
// Frames ("IMPROV" + version + type + length + data + checksum) share the serial line with log and
// telemetry lines: every frame the board sends is whole and ends with a newline, and bytes that are
// not a frame are ignored. Commands: Wi-Fi settings (ESP), current state, device info, scanned
// networks, and the device name (= the device id). A line "makerdeck info" is answered with one line
// "makerdeck-info {json}": the board's identity and non-secret config, never a password.
#pragma once
#include <Arduino.h>

// The Wi-Fi side, on boards that have it (mqtt_link.cpp; a host test brings a stand-in).
#if defined(ESP32) || defined(ESP8266) || defined(MAKERDECK_WIFI_STANDIN)
#define MAKERDECK_HAS_WIFI 1
bool wifiJoin(const char *ssid, const char *password);  // blocks until joined or given up (~15 s)
bool wifiJoined();
// Calls `each` for every network seen.
void wifiScan(void (*each)(const char *ssid, int rssi, bool secured));
#else
#define MAKERDECK_HAS_WIFI 0
#endif

// Starts answering; `buildHash` is the firmware version reported in the device info.
void improvBegin(const char *buildHash);
// Reads what arrived on Serial and answers it; call from loop().
void improvPoll();
// One byte from the host (improvPoll feeds Serial's bytes through here).
void improvFeed(uint8_t byte);
