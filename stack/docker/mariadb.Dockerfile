# MariaDB of the local stack: binlog ROW/FULL (stack/mariadb/my.cnf.in), the CDC and app users
# (stack/mariadb/provision.sql) and schemas/mis.sql loaded on first start.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/lib/mysql/*
COPY stack/mariadb/my.cnf.in stack/mariadb/provision.sql /opt/mis/
COPY schemas/mis.sql /opt/mis/mis.sql
COPY stack/docker/entrypoint-mariadb.sh /opt/mis/entrypoint.sh
ENTRYPOINT ["/opt/mis/entrypoint.sh"]
