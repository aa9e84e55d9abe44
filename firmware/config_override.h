// Values set on the board itself (over Improv serial) that override the stamped config block: the
// device id, and the Wi-Fi SSID and password. They are kept in the board's own storage (ESP32 NVS,
// ESP8266 and AVR EEPROM) together with the CRC of the release they were made under; a board flashed
// with another release (every release has its own CRC) drops them, so a re-flash always wins.
#pragma once
#include "config_block.h"

#define OVERRIDE_DEVICE_ID 1
#define OVERRIDE_WIFI 2
#define OVERRIDE_VERSION 1

struct ConfigOverride {
  uint8_t magic[4];        //   0: "MDOV"
  uint8_t version;         //   4
  uint8_t fields;          //   5: OVERRIDE_* bits
  uint8_t pad[2];          //   6
  uint32_t releaseCrc;     //   8: the CRC of the config block these values override
  char deviceId[65];       //  12
  char wifiSsid[33];       //  77
  char wifiPassword[64];   // 110
  uint8_t pad2[2];         // 174
  uint32_t crc;            // 176: CRC-32 of bytes 0..175
};

// At boot, after configBegin() returned CONFIG_OK: applies this release's overrides to config() and
// erases those of an earlier release. Returns the OVERRIDE_* bits applied.
uint8_t overrideBegin();
// The OVERRIDE_* bits in effect.
uint8_t overrideFields();
// A device id is 1 to 64 letters, digits, - or _, starting with a letter or digit (an MQTT topic level).
bool overrideValidDeviceId(const char *id, size_t length);
// Stores a new device id (or Wi-Fi SSID and password) for this release and applies it to config().
// False when the board is not provisioned, the value does not fit, or the storage failed.
bool overrideSetDeviceId(const char *id, size_t length);
bool overrideSetWifi(const char *ssid, size_t ssidLength, const char *password, size_t passwordLength);

// The board's storage for one record (override_store.cpp; a host test brings its own).
bool overrideStoreRead(void *record, size_t size);
bool overrideStoreWrite(const void *record, size_t size);
