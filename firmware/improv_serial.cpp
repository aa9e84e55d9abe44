#include "improv_serial.h"
#include "config_block.h"
#include "config_override.h"
#include <string.h>

#if defined(ESP32) || defined(ESP8266)
#include "mqtt_link.h"
#endif

enum { TYPE_STATE = 1, TYPE_ERROR = 2, TYPE_RPC = 3, TYPE_RESULT = 4 };
enum { STATE_READY = 2, STATE_PROVISIONING = 3, STATE_PROVISIONED = 4 };
enum { ERROR_NONE = 0, ERROR_INVALID_RPC = 1, ERROR_UNKNOWN_RPC = 2, ERROR_UNABLE_TO_CONNECT = 3,
       ERROR_BAD_HOSTNAME = 5, ERROR_UNKNOWN = 0xFF };
enum { CMD_WIFI = 1, CMD_STATE = 2, CMD_INFO = 3, CMD_SCAN = 4, CMD_DEVICE_NAME = 6 };
enum { STAGE_SCAN, STAGE_VERSION, STAGE_TYPE, STAGE_LENGTH, STAGE_DATA, STAGE_CHECKSUM };

#define IMPROV_MAX_DATA 104  // Wi-Fi settings need 99 bytes: 2 + 1 + 32 + 1 + 63

static const char HEADER[] = "IMPROV";
static const char INFO_QUERY[] = "makerdeck info";
static const char *build = "unknown";
static uint8_t data[IMPROV_MAX_DATA];
static uint8_t stage = STAGE_SCAN, headerMatched = 0, infoMatched = 0;
static uint8_t version, type, length, received, sum;

#if defined(MAKERDECK_CHIP)
#define CHIP MAKERDECK_CHIP  // a host build names its stand-in
#elif defined(ESP32)
#define CHIP "ESP32"
#elif defined(ESP8266)
#define CHIP "ESP8266"
#elif defined(__AVR_ATmega328P__)
#define CHIP "ATmega328P"
#elif defined(__AVR__)
#define CHIP "AVR"
#else
#define CHIP "host"
#endif

void improvBegin(const char *buildHash) { build = buildHash; }

static bool provisioned() { return (config().flags & MAKERDECK_FLAG_PROVISIONED) != 0; }

// One frame: header, version 1, type, length, data, checksum (the low byte of the sum of all before
// it), then a newline so that a line-based reader sees it end.
class Frame {
 public:
  Frame(uint8_t type, uint8_t length) : sum(0) {
    for (uint8_t i = 0; i < 6; i++) put(HEADER[i]);
    put(1);
    put(type);
    put(length);
  }
  void put(uint8_t byte) {
    sum += byte;
    Serial.write(byte);
  }
  void end() {
    Serial.write(sum);
    Serial.write('\n');
  }

 private:
  uint8_t sum;
};

static void sendByte(uint8_t type, uint8_t value) {
  Frame frame(type, 1);
  frame.put(value);
  frame.end();
}

// An RPC result: the command, then the strings, each with its length. The client library's reader
// (improv-wifi-serial-sdk 2.8.1) takes a length byte of 10 for the end of a line and drops the frame:
// such a result gets an empty string appended, which makes it 11.
static void sendResult(uint8_t command, const char *const *strings, uint8_t count) {
  uint16_t total = 0;
  for (uint8_t i = 0; i < count; i++) total += 1 + strlen(strings[i]);
  bool pad = 2 + total == '\n';
  if (pad) total++;
  Frame frame(TYPE_RESULT, (uint8_t)(2 + total));
  frame.put(command);
  frame.put((uint8_t)total);
  for (uint8_t i = 0; i < count; i++) {
    uint8_t n = strlen(strings[i]);
    frame.put(n);
    for (uint8_t j = 0; j < n; j++) frame.put(strings[i][j]);
  }
  if (pad) frame.put(0);
  frame.end();
}

static uint8_t currentState() {
#if MAKERDECK_HAS_WIFI
  return wifiJoined() ? STATE_PROVISIONED : STATE_READY;
#else
  return provisioned() ? STATE_PROVISIONED : STATE_READY;  // no Wi-Fi: its config is all it needs
#endif
}

static bool requireProvisioned() {
  if (provisioned()) return true;
  Serial.println(F("not provisioned: flash it with Makerdeck first"));
  sendByte(TYPE_ERROR, ERROR_UNKNOWN);
  return false;
}

#if MAKERDECK_HAS_WIFI
static void sendNetwork(const char *ssid, int rssi, bool secured) {
  char level[8];
  snprintf(level, sizeof level, "%d", rssi);
  const char *strings[] = {ssid, level, secured ? "YES" : "NO"};
  sendResult(CMD_SCAN, strings, 3);
}

static void joinWifi(const uint8_t *args, uint8_t n) {
  uint8_t ssidLength = n > 0 ? args[0] : 0;
  uint8_t passwordLength = n > 1 + ssidLength ? args[1 + ssidLength] : 0xFF;
  if (n < 2 || 2 + ssidLength + passwordLength != n || ssidLength > 32 || passwordLength > 63) {
    sendByte(TYPE_ERROR, ERROR_INVALID_RPC);
    return;
  }
  if (!requireProvisioned()) return;
  char ssid[33] = {0}, password[64] = {0};
  memcpy(ssid, args + 1, ssidLength);
  memcpy(password, args + 2 + ssidLength, passwordLength);
  sendByte(TYPE_STATE, STATE_PROVISIONING);
  bool joined = wifiJoin(ssid, password) && overrideSetWifi(ssid, ssidLength, password, passwordLength);
  memset(password, 0, sizeof password);
  if (!joined) {
    sendByte(TYPE_ERROR, ERROR_UNABLE_TO_CONNECT);
    sendByte(TYPE_STATE, currentState());
    return;
  }
  sendByte(TYPE_STATE, STATE_PROVISIONED);
  sendResult(CMD_WIFI, nullptr, 0);  // no URL to open
}
#endif

static void deviceName(const uint8_t *args, uint8_t n) {
  if (n > 0) {
    if (!requireProvisioned()) return;
    if (!overrideSetDeviceId((const char *)args, n)) {
      sendByte(TYPE_ERROR, ERROR_BAD_HOSTNAME);
      return;
    }
#if defined(ESP32) || defined(ESP8266)
    mqttIdentityChanged();
#endif
    Serial.print(F("makerdeck device id set to "));
    Serial.println(config().deviceId);
  }
  const char *strings[] = {config().deviceId};
  sendResult(CMD_DEVICE_NAME, strings, 1);
}

static void handleRpc() {
  if (length < 2 || data[1] != length - 2) {
    sendByte(TYPE_ERROR, ERROR_INVALID_RPC);
    return;
  }
  sendByte(TYPE_ERROR, ERROR_NONE);
  const uint8_t *args = data + 2;
  uint8_t n = data[1];
  if (data[0] == CMD_STATE) {
    sendByte(TYPE_STATE, currentState());
    if (currentState() == STATE_PROVISIONED) sendResult(CMD_STATE, nullptr, 0);
  } else if (data[0] == CMD_INFO) {
    const char *strings[] = {"Makerdeck", build, CHIP, config().deviceId};
    sendResult(CMD_INFO, strings, 4);
  } else if (data[0] == CMD_SCAN) {
#if MAKERDECK_HAS_WIFI
    wifiScan(sendNetwork);
#endif
    sendResult(CMD_SCAN, nullptr, 0);  // the end of the list (at once where there is no Wi-Fi)
  } else if (data[0] == CMD_DEVICE_NAME) {
    deviceName(args, n);
#if MAKERDECK_HAS_WIFI
  } else if (data[0] == CMD_WIFI) {
    joinWifi(args, n);
#endif
  } else {
    sendByte(TYPE_ERROR, ERROR_UNKNOWN_RPC);
  }
}

static void printJsonString(const char *text) {
  Serial.print('"');
  for (; *text; text++) {
    uint8_t ch = (uint8_t)*text;
    if (ch == '"' || ch == '\\') {
      Serial.print('\\');
      Serial.print((char)ch);
    } else if (ch < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", ch);
      Serial.print(escaped);
    } else {
      Serial.print((char)ch);
    }
  }
  Serial.print('"');
}

static void printField(const __FlashStringHelper *name, const char *value) {
  Serial.print(name);
  printJsonString(value);
}

// One line, secrets left out: the passwords are never printed.
static void sendInfoLine() {
  const MakerdeckConfig &c = config();
  uint8_t fields = overrideFields();
  printField(F("makerdeck-info {\"deviceId\":"), c.deviceId);
  printField(F(",\"build\":"), build);
  printField(F(",\"chip\":"), CHIP);
  Serial.print(F(",\"provisioned\":"));
  Serial.print(provisioned() ? F("true") : F("false"));
  printField(F(",\"wifiSsid\":"), c.wifiSsid);
  printField(F(",\"mqttHost\":"), c.mqttHost);
  Serial.print(F(",\"mqttPort\":"));
  Serial.print((unsigned)c.mqttPort);
  printField(F(",\"mqttUser\":"), c.mqttUsername);
  Serial.print(F(",\"intervalS\":"));
  Serial.print((unsigned long)c.intervalS);
  Serial.print(F(",\"overridden\":{\"deviceId\":"));
  Serial.print(fields & OVERRIDE_DEVICE_ID ? F("true") : F("false"));
  Serial.print(F(",\"wifi\":"));
  Serial.print(fields & OVERRIDE_WIFI ? F("true") : F("false"));
  Serial.println(F("}}"));
}

// Text outside frames: only "makerdeck info" at the end of a line means something.
static void feedText(uint8_t byte) {
  if (infoMatched == sizeof INFO_QUERY - 1 && (byte == '\n' || byte == '\r')) sendInfoLine();
  if (infoMatched < sizeof INFO_QUERY - 1 && byte == (uint8_t)INFO_QUERY[infoMatched]) infoMatched++;
  else infoMatched = byte == (uint8_t)INFO_QUERY[0] ? 1 : 0;
}

void improvFeed(uint8_t byte) {
  switch (stage) {
    case STAGE_SCAN:
      feedText(byte);
      // "IMPROV" repeats none of its own prefixes, so a mismatch restarts at its first letter.
      headerMatched = byte == (uint8_t)HEADER[headerMatched] ? headerMatched + 1 : byte == 'I' ? 1 : 0;
      if (headerMatched == 6) {
        headerMatched = 0;
        sum = (uint8_t)('I' + 'M' + 'P' + 'R' + 'O' + 'V');
        stage = STAGE_VERSION;
      }
      return;
    case STAGE_VERSION:
      version = byte;
      stage = STAGE_TYPE;
      break;
    case STAGE_TYPE:
      type = byte;
      stage = STAGE_LENGTH;
      break;
    case STAGE_LENGTH:
      length = byte;
      received = 0;
      stage = length ? STAGE_DATA : STAGE_CHECKSUM;
      break;
    case STAGE_DATA:
      if (received < IMPROV_MAX_DATA) data[received] = byte;
      if (++received == length) stage = STAGE_CHECKSUM;
      break;
    default:
      stage = STAGE_SCAN;
      if (type != TYPE_RPC) return;  // the other types go from the board to the client
      if (version != 1 || byte != sum || length > IMPROV_MAX_DATA) sendByte(TYPE_ERROR, ERROR_INVALID_RPC);
      else handleRpc();
      memset(data, 0, sizeof data);  // it may have held a Wi-Fi password
      return;
  }
  sum += byte;
}

void improvPoll() {
  while (Serial.available() > 0) improvFeed((uint8_t)Serial.read());
}
