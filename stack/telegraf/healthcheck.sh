#!/bin/sh
# Telegraf's container health check. Telegraf starts beside the broker and keeps retrying until it
# answers, so "healthy" has to mean that it actually consumes telemetry: only then may `up` (or
# compose's service_healthy) return and a device publish without its first points being lost.
#  1. Telegraf runs: its outputs.health listener answers.
#  2. It holds its MQTT connection: an established TCP socket to port 1883 (hex 075B) in this
#     container (Telegraf is the only thing here that speaks MQTT).
#  3. The broker has its subscription: the queue of its persistent session (client_id
#     makerdeck-telegraf, QoS 1, see telegraf.conf) is bound to amq.topic, so a point published
#     now is kept for Telegraf even if it reconnects. RabbitMQ's management API tells; the
#     credentials reach curl on stdin, never its command line.
set -eu
curl -fsS -o /dev/null http://localhost:8080/
grep -qsE '^ *[0-9]+: [0-9A-F]+:[0-9A-F]{4} [0-9A-F]+:075B 01 ' /proc/net/tcp /proc/net/tcp6 || {
  echo 'telegraf holds no MQTT connection yet' >&2
  exit 1
}
printf 'user = "%s:%s"\n' "$MQTT_USER" "$MQTT_PASSWORD" |
  curl -fsS -K - http://rabbitmq:15672/api/queues/%2F/mqtt-subscription-makerdeck-telegrafqos1/bindings |
  grep -q '"source":"amq.topic"' || {
  echo 'the broker has no subscription for telegraf yet' >&2
  exit 1
}
