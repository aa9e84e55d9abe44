#!/bin/bash
# First-start initialisation for the makerdeck-rig influxdb image, then `exec influxd "$@"`.
# Variables (as the official influxdb:1.x image):
#   INFLUXDB_HTTP_AUTH_ENABLED=true   influxd reads this itself; with INFLUXDB_ADMIN_USER set, users are created
#   INFLUXDB_ADMIN_USER / INFLUXDB_ADMIN_PASSWORD   admin with ALL PRIVILEGES (password random + printed if unset)
#   INFLUXDB_DB                       database to create
#   INFLUXDB_USER / INFLUXDB_USER_PASSWORD, INFLUXDB_WRITE_USER / _PASSWORD, INFLUXDB_READ_USER / _PASSWORD
#                                     users with ALL / WRITE / READ on INFLUXDB_DB
#   /docker-entrypoint-initdb.d/*.sh (sourced) and *.iql (sent as one query)
# Runs only when /var/lib/influxdb/meta/meta.db does not exist yet. The init instance listens on
# 127.0.0.1 only, so nothing outside sees the database before it is initialised.
set -euo pipefail

meta_db="${INFLUXDB_META_DIR:-/var/lib/influxdb/meta}/meta.db"
auth_enabled="${INFLUXDB_HTTP_AUTH_ENABLED:-}"
if [ -z "$auth_enabled" ] && grep -qiE '^\s*auth-enabled\s*=\s*true' /etc/influxdb/influxdb.conf; then
  auth_enabled=true
fi
[ "${auth_enabled,,}" = true ] || auth_enabled=
init_users=
if [ -n "$auth_enabled" ] && [ -n "${INFLUXDB_ADMIN_USER:-}" ]; then init_users=1; fi

have_initdb=
if [ -n "$(ls -A /docker-entrypoint-initdb.d 2>/dev/null)" ]; then have_initdb=1; fi

if [ -e "$meta_db" ] || { [ -z "$init_users" ] && [ -z "${INFLUXDB_DB:-}" ] && [ -z "$have_initdb" ]; }; then
  exec influxd "$@"
fi

port="${INFLUXDB_INIT_PORT:-8086}"
user= pass=
ident() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }   # InfluxQL identifier
str() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }         # InfluxQL string literal
randpw() { tr -dc '_A-Za-z0-9-' < /dev/urandom | head -c 32 || true; }
# POST one InfluxQL statement; prints the JSON answer; fails on HTTP errors and statement errors.
query() {
  local out
  out=$(curl -sS --fail-with-body --max-time 30 -XPOST "http://127.0.0.1:$port/query" \
    ${user:+-u "$user:$pass"} --data-urlencode "q=$1") || { echo "init-influxdb: query failed: $1: $out" >&2; return 1; }
  if [[ "$out" == *'"error"'* ]]; then echo "init-influxdb: $1: $out" >&2; return 1; fi
  printf '%s\n' "$out"
}

echo "init-influxdb: initialising (database: ${INFLUXDB_DB:-none}, auth: ${auth_enabled:-off}, admin: ${INFLUXDB_ADMIN_USER:-none})"
# Flux off for the init instance: initialising Flux costs influxd ~3-4 s of CPU at every start.
INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:$port" INFLUXDB_HTTP_HTTPS_ENABLED=false INFLUXDB_HTTP_LOG_ENABLED=false \
  INFLUXDB_HTTP_FLUX_ENABLED=false influxd "$@" &
pid=$!
for _ in $(seq 1 120); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/ping"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo 'init-influxdb: influxd exited during initialisation' >&2; exit 1; fi
  sleep 0.25
done

if [ -n "$init_users" ]; then
  if [ -z "${INFLUXDB_ADMIN_PASSWORD:-}" ]; then
    INFLUXDB_ADMIN_PASSWORD=$(randpw)
    echo "INFLUXDB_ADMIN_PASSWORD:$INFLUXDB_ADMIN_PASSWORD"
  fi
  query "CREATE USER $(ident "$INFLUXDB_ADMIN_USER") WITH PASSWORD $(str "$INFLUXDB_ADMIN_PASSWORD") WITH ALL PRIVILEGES" > /dev/null
  user=$INFLUXDB_ADMIN_USER pass=$INFLUXDB_ADMIN_PASSWORD
fi
if [ -n "${INFLUXDB_DB:-}" ]; then
  query "CREATE DATABASE $(ident "$INFLUXDB_DB")" > /dev/null
fi
if [ -n "$init_users" ]; then
  for kind in USER:ALL WRITE_USER:WRITE READ_USER:READ; do
    var="INFLUXDB_${kind%%:*}" priv=${kind#*:}
    name=${!var:-}
    [ -n "$name" ] || continue
    pwvar="${var}_PASSWORD"
    pw=${!pwvar:-}
    if [ -z "$pw" ]; then pw=$(randpw); echo "$pwvar:$pw"; fi
    query "CREATE USER $(ident "$name") WITH PASSWORD $(str "$pw")" > /dev/null
    query "REVOKE ALL PRIVILEGES FROM $(ident "$name")" > /dev/null
    if [ -n "${INFLUXDB_DB:-}" ]; then query "GRANT $priv ON $(ident "$INFLUXDB_DB") TO $(ident "$name")" > /dev/null; fi
  done
fi
for f in /docker-entrypoint-initdb.d/*; do
  case "$f" in
    *.sh) echo "init-influxdb: running $f"; . "$f" ;;
    *.iql) echo "init-influxdb: running $f"; query "$(cat "$f")" > /dev/null ;;
    *) if [ -e "$f" ]; then echo "init-influxdb: ignoring $f"; fi ;;
  esac
done

kill -TERM "$pid"
wait "$pid" || true
echo 'init-influxdb: done'
exec influxd "$@"
