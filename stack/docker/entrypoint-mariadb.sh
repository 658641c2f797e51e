#!/bin/sh
# MariaDB on 127.0.0.1:$MYSQL_PORT (default 3306), data in $MYSQL_DIR (default /var/lib/mis).
# First start: initialise the datadir, then run /opt/mis/provision.sql (database mis, users cdc
# and app) and /opt/mis/mis.sql, or instead of the latter the /docker-entrypoint-initdb.d/*.sql
# files, against database mis on a socket-only server; then start the real server.
# A command starting with mariadbd runs as given.
set -e
[ "${1:-}" = mariadbd ] && exec "$@"
port="${MYSQL_PORT:-3306}"
dir="${MYSQL_DIR:-/var/lib/mis}"
mkdir -p "$dir/binlog"
sed -e "s|@MYSQL_PORT@|$port|g" -e "s|@MYSQL_SOCKET@|$dir/mariadbd.sock|g" -e "s|@MYSQL_DATA@|$dir/data|g" \
  -e "s|@MYSQL_PID@|$dir/mariadbd.pid|g" -e "s|@MYSQL_BINLOG@|$dir/binlog/mariadb-bin|g" \
  -e '/@MYSQL_LOG@/d' /opt/mis/my.cnf.in >"$dir/my.cnf"
root() { mariadb --defaults-file="$dir/my.cnf" -uroot --protocol=socket --socket="$dir/init.sock" "$@"; }
if [ ! -d "$dir/data/mysql" ]; then
  echo "[entrypoint] initialising $dir/data"
  mariadb-install-db --defaults-file="$dir/my.cnf" --user=root --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  # the same server options as the final one (a binlog path given on the command line included):
  # the GTIDs of the init transactions must be in the binlog Debezium reads
  mariadbd --defaults-file="$dir/my.cnf" "$@" --skip-networking --socket="$dir/init.sock" &
  pid=$!
  i=0
  until root -e 'SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 240 ] || { echo "[entrypoint] init server did not start" >&2; exit 1; }
    sleep 0.25
  done
  root -e 'CREATE DATABASE IF NOT EXISTS mis CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'
  # mounted init files (docker-compose.yml mounts schemas/mis.sql there) replace the baked schema
  schema=/opt/mis/mis.sql
  ls /docker-entrypoint-initdb.d/*.sql >/dev/null 2>&1 && schema=
  for f in /opt/mis/provision.sql $schema /docker-entrypoint-initdb.d/*.sql; do
    [ -f "$f" ] || continue
    echo "[entrypoint] running $f"
    root --default-character-set=utf8mb4 mis <"$f"
  done
  root -e 'SHUTDOWN'
  wait "$pid" || true
  rm -f "$dir/init.sock"
fi
echo "[entrypoint] starting mariadbd on 127.0.0.1:$port"
exec mariadbd --defaults-file="$dir/my.cnf" "$@"
