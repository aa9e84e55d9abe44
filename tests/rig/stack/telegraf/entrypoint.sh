#!/bin/bash
# Entrypoint of the makerdeck-rig telegraf image, as the official one: flags alone mean
# `telegraf <flags>`; as root, telegraf runs as the telegraf user. The config is
# /etc/telegraf/telegraf.conf (mount yours there) plus /etc/telegraf/telegraf.d/*.conf.
set -e
if [ "${1:0:1}" = '-' ]; then
  set -- telegraf "$@"
fi
if [ "$1" = telegraf ]; then
  echo "makerdeck-rig telegraf: $(telegraf --version) (trimmed build: $(telegraf plugins 2>/dev/null | tr '\n' ' '))"
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=telegraf --regid=telegraf --init-groups "$@"
  fi
fi
exec "$@"
