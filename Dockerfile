# syntax=docker/dockerfile:1
# The bridge as a container: build with every dependency, run with production ones only.
# docs/deploy.md shows how to run it alone, with docker compose, and on Kubernetes.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# `npm run build` runs it after `nest build`: the console's files and vendored Preact/htm into dist/.
COPY scripts/copy-console-assets.mjs ./scripts/
# Build, then drop the dev dependencies (TypeScript, Jest, the Nest CLI...) from node_modules.
# --omit=optional too: TypeScript is also an optional peer of @nestjs/swagger (for its build-time
# plugin), which npm keeps under --omit=dev alone. The one optional production dependency,
# pg-cloudflare (pg's socket for Cloudflare Workers), is never loaded on Node.
RUN npm run build && npm prune --omit=dev --omit=optional --no-audit --no-fund
# An empty DATA_DIR for the runtime stage (copied there owned by the node user).
RUN mkdir -p data

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The call history's embedded database (and local recordings) live in /data, owned by the node
# user, the one place written at run time: mount a volume there to keep them. With DATABASE_URL
# (and recordings in S3) nothing is written, and the root filesystem may be read-only (deploy/k8s).
COPY --from=build --chown=node:node /app/data /data
VOLUME ["/data"]
# The image's unprivileged user (uid 1000): nothing here needs root.
USER node
EXPOSE 8080
# Liveness only (/health stays 200 during a drain); readiness (/health/ready) is the orchestrator's.
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form: node is PID 1's child-free process and gets SIGTERM itself, so calls drain.
CMD ["node", "dist/main.js"]
