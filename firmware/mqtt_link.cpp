#if defined(ESP32) || defined(ESP8266)
#include "mqtt_link.h"
#include "config.h"
#include <PubSubClient.h>
#if defined(ESP32)
#include <WiFi.h>
#else
#include <ESP8266WiFi.h>
#endif
#if MAKERDECK_MQTT_TLS
#include <WiFiClientSecure.h>
static WiFiClientSecure net;
#else
#include <WiFiClient.h>
static WiFiClient net;
#endif

static PubSubClient mqtt(net);
static char topicTelemetry[96];
static char topicStatus[96];
static unsigned long nextAttempt = 0;
static unsigned long backoffMs = 1000;

void mqttBegin() {
  snprintf(topicTelemetry, sizeof topicTelemetry, "makerdeck/%s/telemetry", MAKERDECK_DEVICE_ID);
  snprintf(topicStatus, sizeof topicStatus, "makerdeck/%s/status", MAKERDECK_DEVICE_ID);
#if MAKERDECK_MQTT_TLS
  net.setInsecure();  // the lab broker usually has a self-signed certificate; pin it for production
#endif
  WiFi.mode(WIFI_STA);
  WiFi.begin(MAKERDECK_WIFI_SSID, MAKERDECK_WIFI_PASSWORD);
  mqtt.setServer(MAKERDECK_MQTT_HOST, MAKERDECK_MQTT_PORT);
  mqtt.setBufferSize(512);
}

static void connectWithBackoff() {
  unsigned long now = millis();
  if (now < nextAttempt || WiFi.status() != WL_CONNECTED) return;
  // The last will marks the device offline if it drops; "online" is retained once connected.
  bool ok = mqtt.connect(MAKERDECK_DEVICE_ID, MAKERDECK_MQTT_USERNAME[0] ? MAKERDECK_MQTT_USERNAME : nullptr,
                         MAKERDECK_MQTT_PASSWORD[0] ? MAKERDECK_MQTT_PASSWORD : nullptr, topicStatus, 1, true, "offline");
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
#endif
