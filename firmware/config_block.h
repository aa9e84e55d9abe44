// The config block: this board's identity, Wi-Fi and MQTT settings, carried in the image's flash and
// written by Makerdeck at flash time (a "release"), never compiled in. A build holds a blank block.
// The layout is fixed (version 1, 400 bytes, little-endian) and mirrored by the host in
// electron/core/firmware/release/configBlock.ts: change both together, and bump the version.
#pragma once
#include <Arduino.h>

#define MAKERDECK_CONFIG_VERSION 1
#define MAKERDECK_CONFIG_SIZE 400
#define MAKERDECK_FLAG_PROVISIONED 1
#define MAKERDECK_FLAG_MQTT_TLS 2

struct MakerdeckConfig {
  uint8_t magic[16];     //   0: "MAKERDECK:CONFIG"
  uint16_t version;      //  16
  uint16_t size;         //  18: the whole block, 400
  uint16_t flags;        //  20: provisioned, MQTT over TLS
  uint16_t mqttPort;     //  22
  uint32_t intervalS;    //  24: telemetry interval in seconds
  char deviceId[65];     //  28
  char wifiSsid[33];     //  93
  char wifiPassword[64]; // 126
  char mqttHost[64];     // 190
  char mqttUsername[64]; // 254
  char mqttPassword[64]; // 318
  uint8_t releaseStamp[8]; // 382: random per release, so every flash has its own CRC (voids Improv overrides)
  uint8_t reserved[6];   // 390
  uint32_t crc;          // 396: CRC-32 (IEEE) of bytes 0..395
};

enum ConfigStatus { CONFIG_OK, CONFIG_BLANK, CONFIG_INVALID, CONFIG_DAMAGED };

// Checks the block (magic, version, size, CRC) and copies it to RAM; says on serial what is wrong.
ConfigStatus configBegin();
// The board's configuration; all zeros unless configBegin() returned CONFIG_OK.
const MakerdeckConfig &config();
// The same, writable: values set on the board (config_override.h) replace the stamped ones in RAM.
MakerdeckConfig &configInRam();
