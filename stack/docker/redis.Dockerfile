# Redis of the local stack (scripts/stack/docker.sh builds it; context: the repo files it names).
# BASE_IMAGE: debian:bookworm-slim where a registry is reachable, else the imported debootstrap base.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY stack/docker/entrypoint-redis.sh /opt/mis/entrypoint.sh
ENTRYPOINT ["/opt/mis/entrypoint.sh"]
