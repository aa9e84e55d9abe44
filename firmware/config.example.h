// An example of the config.h Makerdeck generates for each build from a device profile.
// Dummy values only: the real file is written to a private temporary folder and removed after the
// build. Never commit a real config.h (it is in .gitignore).
#pragma once

#define MAKERDECK_DEVICE_ID "bench-1"
#define MAKERDECK_TELEMETRY_INTERVAL_MS 10000UL

#define MAKERDECK_WIFI_SSID "example-network"
#define MAKERDECK_WIFI_PASSWORD "example-password"

#define MAKERDECK_MQTT_HOST "192.168.1.10"
#define MAKERDECK_MQTT_PORT 1883
#define MAKERDECK_MQTT_TLS 0
#define MAKERDECK_MQTT_USERNAME "device"
#define MAKERDECK_MQTT_PASSWORD "example-mqtt-password"

// Optional sensors (need the libraries pinned in sketch.yaml).
#define MAKERDECK_WITH_DHT22 0
#define MAKERDECK_DHT_PIN 4
#define MAKERDECK_WITH_BME280 0
