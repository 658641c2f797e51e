# Kafka broker (KRaft, single node) of the local stack. The jars are the ones stack/pom.xml
# resolves for the process stack (profile broker), so both engines run the same versions.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN mkdir -p /usr/share/man/man1 && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY lib/broker/ /opt/mis/lib/
COPY stack/kafka/ /opt/mis/conf/
COPY stack/docker/entrypoint-kafka.sh /opt/mis/entrypoint.sh
ENTRYPOINT ["/opt/mis/entrypoint.sh"]
