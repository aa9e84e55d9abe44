// Where the board keeps its override record (config_override.h): ESP32 NVS, ESP8266 and AVR EEPROM.
#include "config_override.h"

#if defined(ESP32)
#include <Preferences.h>

bool overrideStoreRead(void *record, size_t size) {
  Preferences prefs;
  if (!prefs.begin("makerdeck", true)) return false;
  bool ok = prefs.getBytes("override", record, size) == size;
  prefs.end();
  return ok;
}

bool overrideStoreWrite(const void *record, size_t size) {
  Preferences prefs;
  if (!prefs.begin("makerdeck", false)) return false;
  bool ok = prefs.putBytes("override", record, size) == size;
  prefs.end();
  return ok;
}

#elif defined(ESP8266)
#include <EEPROM.h>

bool overrideStoreRead(void *record, size_t size) {
  EEPROM.begin(size);
  for (size_t i = 0; i < size; i++) ((uint8_t *)record)[i] = EEPROM.read(i);
  EEPROM.end();
  return true;
}

bool overrideStoreWrite(const void *record, size_t size) {
  EEPROM.begin(size);
  for (size_t i = 0; i < size; i++) EEPROM.write(i, ((const uint8_t *)record)[i]);
  bool ok = EEPROM.commit();
  EEPROM.end();
  return ok;
}

#elif defined(__AVR__)
#include <avr/eeprom.h>

bool overrideStoreRead(void *record, size_t size) {
  eeprom_read_block(record, (const void *)0, size);
  return true;
}

bool overrideStoreWrite(const void *record, size_t size) {
  eeprom_update_block(record, (void *)0, size);  // writes only the bytes that differ
  return true;
}
#endif
