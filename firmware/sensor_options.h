// Optional sensors (they need the libraries pinned in sketch.yaml): a build option, not config.
#pragma once
#ifndef MAKERDECK_WITH_DHT22
#define MAKERDECK_WITH_DHT22 0
#endif
#ifndef MAKERDECK_DHT_PIN
#define MAKERDECK_DHT_PIN 4
#endif
#ifndef MAKERDECK_WITH_BME280
#define MAKERDECK_WITH_BME280 0
#endif
