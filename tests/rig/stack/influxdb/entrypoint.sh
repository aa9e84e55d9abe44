#!/bin/bash
# Entrypoint of the makerdeck-rig influxdb image (real InfluxDB 1.8.10), shaped like the official
# 1.x image's: `influxd` runs /init-influxdb.sh first (creates the admin user, the database and
# the optional users from INFLUXDB_* variables on a fresh data directory), then becomes influxd.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- influxd "$@"
fi

if [ "$1" = influxd ]; then
  shift # init-influxdb.sh takes influxd's arguments and runs influxd itself
  echo "makerdeck-rig influxdb: InfluxDB $(influxd version 2>/dev/null | awk '{print $2}') (stands in for influxdb:1.11; Flux enabled)"
  if [ "$(id -u)" = 0 ]; then
    chown -R influxdb:influxdb /var/lib/influxdb
    exec setpriv --reuid=influxdb --regid=influxdb --init-groups /init-influxdb.sh "$@"
  fi
  exec /init-influxdb.sh "$@"
fi

exec "$@"
