#if defined(ESP32) || defined(ESP8266)
#include "mqtt_link.h"
#include "config_block.h"
#include "improv_serial.h"
#include <PubSubClient.h>
#if defined(ESP32)
#include <WiFi.h>
#else
#include <ESP8266WiFi.h>
#endif
#include <WiFiClient.h>
#include <WiFiClientSecure.h>

// Plain or TLS is the release's choice (the config block's flag), so both clients are built in.
static WiFiClient plainNet;
static WiFiClientSecure tlsNet;
static PubSubClient mqtt;
static char topicTelemetry[96];
static char topicStatus[96];
static unsigned long nextAttempt = 0;
static unsigned long backoffMs = 1000;

static void nameTopics() {
  const MakerdeckConfig &c = config();
  snprintf(topicTelemetry, sizeof topicTelemetry, "makerdeck/%s/telemetry", c.deviceId);
  snprintf(topicStatus, sizeof topicStatus, "makerdeck/%s/status", c.deviceId);
}

void mqttBegin() {
  const MakerdeckConfig &c = config();
  nameTopics();
  if (c.flags & MAKERDECK_FLAG_MQTT_TLS) {
    tlsNet.setInsecure();  // the lab broker usually has a self-signed certificate; pin it for production
    mqtt.setClient(tlsNet);
  } else {
    mqtt.setClient(plainNet);
  }
  WiFi.mode(WIFI_STA);
  WiFi.begin(c.wifiSsid, c.wifiPassword);
  mqtt.setServer(c.mqttHost, c.mqttPort);
  mqtt.setBufferSize(512);
}

static void connectWithBackoff() {
  unsigned long now = millis();
  if (now < nextAttempt || WiFi.status() != WL_CONNECTED) return;
  const MakerdeckConfig &c = config();
  // The last will marks the device offline if it drops; "online" is retained once connected.
  bool ok = mqtt.connect(c.deviceId, c.mqttUsername[0] ? c.mqttUsername : nullptr,
                         c.mqttPassword[0] ? c.mqttPassword : nullptr, topicStatus, 1, true, "offline");
  if (ok) {
    mqtt.publish(topicStatus, "online", true);
    backoffMs = 1000;
    Serial.println(F("mqtt connected"));
  } else {
    Serial.print(F("mqtt connect failed, state "));
    Serial.println(mqtt.state());
    nextAttempt = now + backoffMs;
    backoffMs = backoffMs < 60000 ? backoffMs * 2 : 60000;
  }
}

void mqttLoop() {
  if (!mqtt.connected()) connectWithBackoff();
  mqtt.loop();
}

void mqttPublishTelemetry(const char *line) {
  if (mqtt.connected()) mqtt.publish(topicTelemetry, line);
}

void mqttIdentityChanged() {
  if (mqtt.connected()) mqtt.disconnect();  // reconnects under the new id, with its own topics
  nameTopics();
  nextAttempt = 0;
}

// The Wi-Fi side of Improv serial (improv_serial.h).
bool wifiJoin(const char *ssid, const char *password) {
  WiFi.mode(WIFI_STA);
  WiFi.disconnect();
  WiFi.begin(ssid, password);
  for (unsigned long start = millis(); millis() - start < 15000UL; delay(100))
    if (WiFi.status() == WL_CONNECTED) return true;
  return false;
}

bool wifiJoined() { return WiFi.status() == WL_CONNECTED; }

void wifiScan(void (*each)(const char *ssid, int rssi, bool secured)) {
  WiFi.mode(WIFI_STA);
  int found = WiFi.scanNetworks();
  for (int i = 0; i < found; i++) {
#if defined(ESP32)
    bool secured = WiFi.encryptionType(i) != WIFI_AUTH_OPEN;
#else
    bool secured = WiFi.encryptionType(i) != ENC_TYPE_NONE;
#endif
    each(WiFi.SSID(i).c_str(), WiFi.RSSI(i), secured);
  }
  WiFi.scanDelete();
}
#endif
