#!/bin/sh
# Entrypoint of the makerdeck-rig rabbitmq image (Debian rabbitmq-server 3.10, see Dockerfile).
# Honors RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS / RABBITMQ_DEFAULT_VHOST like the official
# image, by writing them to a conf.d file that rabbitmq.conf's default_user/default_pass read.
# (They only take effect when the node initialises a fresh database, as upstream.)
set -eu

if [ "${1:-}" = rabbitmq-server ]; then
  shift
  conf=/etc/rabbitmq/conf.d/20-makerdeck-env.conf
  if [ "$(id -u)" != 0 ]; then conf=/dev/null; fi # non-root: /etc is not ours to write
  : > "$conf"
  for pair in default_user:RABBITMQ_DEFAULT_USER default_pass:RABBITMQ_DEFAULT_PASS default_vhost:RABBITMQ_DEFAULT_VHOST; do
    key=${pair%%:*}
    eval "val=\${${pair#*:}:-}"
    if [ -n "$val" ]; then
      case "$val" in
        *'
'*) echo "entrypoint: ${pair#*:} must not contain a newline" >&2; exit 1 ;;
      esac
      printf '%s = %s\n' "$key" "$val" >> "$conf"
    fi
  done
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then
    # the official image's admin user gets the administrator tag
    echo 'default_user_tags.administrator = true' >> "$conf"
  fi
  if [ "$(id -u)" = 0 ]; then
    chmod 0640 "$conf"
    chgrp rabbitmq "$conf"
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
    # Not Debian's /usr/sbin/rabbitmq-server wrapper (it runs the server under su, which does not
    # pass SIGTERM on): the real script, which traps TERM and stops the node cleanly.
    set -- setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
  else
    set -- /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
  fi
  echo "makerdeck-rig rabbitmq: Debian rabbitmq-server $(dpkg-query -W -f '${Version}' rabbitmq-server) (stands in for rabbitmq:4.1-management; MQTT 3.1.1 only)"
fi
exec "$@"
