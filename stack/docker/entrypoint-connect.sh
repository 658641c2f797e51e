#!/bin/sh
# Kafka Connect standalone on 127.0.0.1:$CONNECT_PORT (default 8083) with the Debezium MariaDB
# connector of stack/connect/mis-connector.properties.in, reading MariaDB on 127.0.0.1:$MYSQL_PORT
# (3306) and writing to Kafka on 127.0.0.1:$KAFKA_PORT (9092). Offsets in $CONNECT_OFFSETS
# (default /var/lib/mis/connect/offsets.dat). A command starting with java runs as given.
set -e
[ "${1:-}" = java ] && exec "$@"
offsets="${CONNECT_OFFSETS:-/var/lib/mis/connect/offsets.dat}"
mkdir -p "$(dirname "$offsets")"
sed -e "s|@KAFKA_PORT@|${KAFKA_PORT:-9092}|g" -e "s|@CONNECT_PORT@|${CONNECT_PORT:-8083}|g" \
  -e "s|@CONNECT_OFFSETS@|$offsets|g" /opt/mis/conf/worker.properties.in >/opt/mis/worker.properties
sed -e "s|@KAFKA_PORT@|${KAFKA_PORT:-9092}|g" -e "s|@MYSQL_PORT@|${MYSQL_PORT:-3306}|g" \
  /opt/mis/conf/mis-connector.properties.in >/opt/mis/mis-connector.properties
# shellcheck disable=SC2086
exec java ${CONNECT_HEAP:--Xms64m -Xmx256m -XX:MaxDirectMemorySize=128m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -XX:+ExitOnOutOfMemoryError -Djava.net.preferIPv4Stack=true -cp '/opt/mis/lib/*' \
  -Dlog4j2.configurationFile=/opt/mis/conf/log4j2.properties \
  -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager \
  org.apache.kafka.connect.cli.ConnectStandalone /opt/mis/worker.properties /opt/mis/mis-connector.properties
