// Sensor reading and the one telemetry format: InfluxDB line protocol, one point per line.
#pragma once
#include <Arduino.h>

#define TELEMETRY_LINE_MAX 192

void sensorsBegin();
// Writes e.g. "telemetry,device=bench-1 seq=12i,a0=512i,temp_c=23.5" into out.
void formatTelemetry(char *out, size_t size, const char *device, unsigned long sequence);
