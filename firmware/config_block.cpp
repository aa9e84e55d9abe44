#include "config_block.h"
#include <stddef.h>
#include <string.h>
#if defined(__AVR__)
#include <avr/pgmspace.h>
#endif

// volatile alone would put the block in .data (RAM): name a flash section explicitly.
#if defined(__AVR__) || defined(ESP8266)
#define MAKERDECK_FLASH PROGMEM
#else
#define MAKERDECK_FLASH __attribute__((section(".rodata.makerdeck_config")))
#endif

static_assert(sizeof(MakerdeckConfig) == MAKERDECK_CONFIG_SIZE, "the config block layout is 400 bytes");

// The blank block of a build. const: in flash (PROGMEM on AVR and ESP8266, rodata on ESP32);
// volatile: the compiler may not fold these placeholder values into the code, since Makerdeck
// rewrites them in the image; used: kept even though only its address is taken.
extern const volatile MakerdeckConfig makerdeckConfigBlock;
const volatile MakerdeckConfig makerdeckConfigBlock MAKERDECK_FLASH __attribute__((used, aligned(4))) = {
    {'M', 'A', 'K', 'E', 'R', 'D', 'E', 'C', 'K', ':', 'C', 'O', 'N', 'F', 'I', 'G'},
    MAKERDECK_CONFIG_VERSION,
    MAKERDECK_CONFIG_SIZE,
    0, 0, 0, {0}, {0}, {0}, {0}, {0}, {0}, {0}, {0}, 0};

// The magic, masked, so that the image spells it out in one place only (the host searches for it).
static const uint8_t MAGIC_MASKED[16] PROGMEM = {
    'M' ^ 0x5a, 'A' ^ 0x5a, 'K' ^ 0x5a, 'E' ^ 0x5a, 'R' ^ 0x5a, 'D' ^ 0x5a, 'E' ^ 0x5a, 'C' ^ 0x5a,
    'K' ^ 0x5a, ':' ^ 0x5a, 'C' ^ 0x5a, 'O' ^ 0x5a, 'N' ^ 0x5a, 'F' ^ 0x5a, 'I' ^ 0x5a, 'G' ^ 0x5a};

static MakerdeckConfig ram;

static uint8_t flashByte(const volatile void *base, size_t index) {
  const uint8_t *at = (const uint8_t *)(const void *)base + index;
#if defined(__AVR__) || defined(ESP8266)
  return pgm_read_byte(at);
#else
  return *(const volatile uint8_t *)at;
#endif
}

static uint32_t crc32Update(uint32_t crc, uint8_t byte) {
  crc ^= byte;
  for (uint8_t bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320UL : crc >> 1;
  return crc;
}

static ConfigStatus check(uint8_t *copy) {
  uint32_t crc = 0xFFFFFFFFUL;
  for (size_t i = 0; i < MAKERDECK_CONFIG_SIZE; i++) {
    copy[i] = flashByte(&makerdeckConfigBlock, i);
    if (i < offsetof(MakerdeckConfig, crc)) crc = crc32Update(crc, copy[i]);
  }
  for (uint8_t i = 0; i < 16; i++)
    if (copy[i] != (uint8_t)(flashByte(MAGIC_MASKED, i) ^ 0x5a)) return CONFIG_INVALID;
  const MakerdeckConfig *block = (const MakerdeckConfig *)copy;
  if (block->version != MAKERDECK_CONFIG_VERSION || block->size != MAKERDECK_CONFIG_SIZE) return CONFIG_INVALID;
  if (!(block->flags & MAKERDECK_FLAG_PROVISIONED)) return CONFIG_BLANK;
  if (block->crc != (crc ^ 0xFFFFFFFFUL)) return CONFIG_DAMAGED;
  return CONFIG_OK;
}

ConfigStatus configBegin() {
  ConfigStatus status = check((uint8_t *)&ram);
  if (status != CONFIG_OK) memset(&ram, 0, sizeof ram);
  if (status == CONFIG_BLANK) Serial.println(F("not provisioned: flash it with Makerdeck"));
  if (status == CONFIG_INVALID) Serial.println(F("config block unreadable: build and flash it with Makerdeck"));
  if (status == CONFIG_DAMAGED) Serial.println(F("config block damaged (CRC): flash it again with Makerdeck"));
  return status;
}

const MakerdeckConfig &config() { return ram; }

MakerdeckConfig &configInRam() { return ram; }
