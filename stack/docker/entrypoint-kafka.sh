#!/bin/sh
# Single-node KRaft broker on 127.0.0.1:$KAFKA_PORT (default 9092), controller on
# $KAFKA_CONTROLLER_PORT (9093), log dir $KAFKA_DATA (formatted on first start), config rendered
# from stack/kafka/server.properties.in. A command starting with java runs as given.
set -e
[ "${1:-}" = java ] && exec "$@"
data="${KAFKA_DATA:-/var/lib/mis/kafka}"
conf=/opt/mis/server.properties
mkdir -p "$data"
sed -e "s|@KAFKA_PORT@|${KAFKA_PORT:-9092}|g" -e "s|@KAFKA_CONTROLLER_PORT@|${KAFKA_CONTROLLER_PORT:-9093}|g" \
  -e "s|@KAFKA_DATA@|$data|g" /opt/mis/conf/server.properties.in >"$conf"
jvm="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.net.preferIPv4Stack=true"
if [ ! -f "$data/meta.properties" ]; then
  # shellcheck disable=SC2086
  java -Xmx128m $jvm -cp '/opt/mis/lib/*' -Dlog4j2.configurationFile=/opt/mis/conf/log4j2-tools.properties \
    kafka.tools.StorageTool format -t "$(java -Xmx128m $jvm -cp '/opt/mis/lib/*' \
      -Dlog4j2.configurationFile=/opt/mis/conf/log4j2-tools.properties kafka.tools.StorageTool random-uuid)" -c "$conf"
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP:--Xms64m -Xmx256m -XX:MaxDirectMemorySize=128m} $jvm -cp '/opt/mis/lib/*' \
  -Dlog4j2.configurationFile=/opt/mis/conf/log4j2.properties kafka.Kafka "$conf"
