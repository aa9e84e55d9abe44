#include "config_override.h"
#include <string.h>

static_assert(sizeof(ConfigOverride) == 180, "the override record is 180 bytes on every board");
static const char MAGIC[4] = {'M', 'D', 'O', 'V'};
static uint8_t applied = 0;

static uint32_t recordCrc(const ConfigOverride &record) {
  const uint8_t *bytes = (const uint8_t *)&record;
  uint32_t crc = 0xFFFFFFFFUL;
  for (size_t i = 0; i < offsetof(ConfigOverride, crc); i++) {
    crc ^= bytes[i];
    for (uint8_t bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320UL : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFUL;
}

// The stored record when it is whole and made under the running release.
static bool loadCurrent(ConfigOverride &record) {
  if (!overrideStoreRead(&record, sizeof record)) return false;
  return memcmp(record.magic, MAGIC, 4) == 0 && record.version == OVERRIDE_VERSION &&
         record.crc == recordCrc(record) && record.releaseCrc == config().crc;
}

static void apply(const ConfigOverride &record) {
  MakerdeckConfig &c = configInRam();
  if (record.fields & OVERRIDE_DEVICE_ID) memcpy(c.deviceId, record.deviceId, sizeof c.deviceId);
  if (record.fields & OVERRIDE_WIFI) {
    memcpy(c.wifiSsid, record.wifiSsid, sizeof c.wifiSsid);
    memcpy(c.wifiPassword, record.wifiPassword, sizeof c.wifiPassword);
  }
  applied |= record.fields;
}

uint8_t overrideBegin() {
  ConfigOverride record;
  if (loadCurrent(record)) {
    apply(record);
  } else if (memcmp(record.magic, MAGIC, 4) == 0) {
    // Values from an earlier release (or a damaged record): the release flashed since wins.
    memset(&record, 0, sizeof record);
    overrideStoreWrite(&record, sizeof record);
    Serial.println(F("settings made on the board under an earlier release: dropped"));
  }
  memset(&record, 0, sizeof record);  // it may hold the Wi-Fi password
  return applied;
}

uint8_t overrideFields() { return applied; }

bool overrideValidDeviceId(const char *id, size_t length) {
  if (length < 1 || length > 64) return false;
  for (size_t i = 0; i < length; i++) {
    char ch = id[i];
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (!alnum && (i == 0 || (ch != '-' && ch != '_'))) return false;
  }
  return true;
}

// Loads this release's record (or starts a new one), sets one field, stores and applies it.
static bool update(uint8_t field, const char *a, size_t aLength, const char *b, size_t bLength) {
  if (!(config().flags & MAKERDECK_FLAG_PROVISIONED)) return false;
  ConfigOverride record;
  if (!loadCurrent(record)) {
    memset(&record, 0, sizeof record);
    memcpy(record.magic, MAGIC, 4);
    record.version = OVERRIDE_VERSION;
    record.releaseCrc = config().crc;
  }
  if (field == OVERRIDE_DEVICE_ID) {
    memset(record.deviceId, 0, sizeof record.deviceId);
    memcpy(record.deviceId, a, aLength);
  } else {
    memset(record.wifiSsid, 0, sizeof record.wifiSsid);
    memset(record.wifiPassword, 0, sizeof record.wifiPassword);
    memcpy(record.wifiSsid, a, aLength);
    memcpy(record.wifiPassword, b, bLength);
  }
  record.fields |= field;
  record.crc = recordCrc(record);
  bool stored = overrideStoreWrite(&record, sizeof record);
  if (stored) apply(record);
  memset(&record, 0, sizeof record);
  return stored;
}

bool overrideSetDeviceId(const char *id, size_t length) {
  if (!overrideValidDeviceId(id, length)) return false;
  return update(OVERRIDE_DEVICE_ID, id, length, nullptr, 0);
}

bool overrideSetWifi(const char *ssid, size_t ssidLength, const char *password, size_t passwordLength) {
  if (ssidLength < 1 || ssidLength > 32 || passwordLength > 63) return false;
  if (memchr(ssid, 0, ssidLength) || memchr(password, 0, passwordLength)) return false;
  return update(OVERRIDE_WIFI, ssid, ssidLength, password, passwordLength);
}
