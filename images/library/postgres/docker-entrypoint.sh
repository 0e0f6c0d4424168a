#!/bin/bash
# First start: create the cluster with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD,
# create POSTGRES_DB (default: the user's name), run /docker-entrypoint-initdb.d/*.sql|*.sh.
# Later starts find PG_VERSION in $PGDATA and go straight to the server.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    cat >&2 <<'MSG'
Error: the database is not initialised and no superuser password is set.
  Pass one with -e POSTGRES_PASSWORD=secret (and optionally POSTGRES_USER and POSTGRES_DB).
  To allow every connection without a password (never in production) use
  -e POSTGRES_HOST_AUTH_METHOD=trust.
MSG
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  echo "Initialising the database in $PGDATA for user \"$user\"..."
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") -D "$PGDATA" \
    --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host="$auth" >/dev/null
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$user" --no-password --quiet)
  if [ "$db" != postgres ]; then
    "${psql[@]}" --dbname postgres -c "CREATE DATABASE \"$db\";"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "Running $f"; . "$f" ;;
      *.sql) echo "Running $f"; "${psql[@]}" --dbname "$db" -f "$f" ;;
      *.sql.gz) echo "Running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$db" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
