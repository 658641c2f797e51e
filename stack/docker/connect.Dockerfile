# Kafka Connect standalone + Debezium MariaDB connector of the local stack. The jars are the ones
# stack/pom.xml resolves for the process stack (profile connect).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN mkdir -p /usr/share/man/man1 && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY lib/connect/ /opt/mis/lib/
COPY stack/connect/ /opt/mis/conf/
COPY stack/docker/entrypoint-connect.sh /opt/mis/entrypoint.sh
ENTRYPOINT ["/opt/mis/entrypoint.sh"]
