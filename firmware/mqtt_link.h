// Wi-Fi and MQTT for ESP32/ESP8266: reconnect with backoff, retained "online" status, "offline" last will.
#pragma once

void mqttBegin();
void mqttLoop();
void mqttPublishTelemetry(const char *line);
// The device id changed (set over Improv): reconnect under it.
void mqttIdentityChanged();
