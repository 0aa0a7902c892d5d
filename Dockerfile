# speckit-bot: one image for both roles. The app runs its TypeScript sources
# directly on Node 24 (type stripping), so the build is `npm ci` plus Prisma
# client generation; the runtime stage holds production dependencies only.
#
#   docker build -t speckit-bot .
#   docker run speckit-bot                       # web + workers (npm start)
#   docker run speckit-bot node src/main.ts --worker   # workers only (npm run worker)
#
# test/ship/container-recipe.test.ts executes this recipe without Docker:
# keep the COPY lists of the stages in the form `COPY <sources...> <dest>`.

# --- build: full install (the Prisma CLI is a devDependency) and client generation
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && node scripts/prisma-generate.ts

# --- prod-deps: production dependencies only (the Codex CLI is one of them)
FROM node:24-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

# --- runtime
FROM node:24-bookworm-slim AS runtime
# git for workspaces; util-linux for setpriv (CODEX_RUN_AS); ca-certificates
# for https remotes. Two users: the app (`speckit`, the image's USER), and
# `codex` for CODEX_RUN_AS. CODEX_RUN_AS needs the worker to run as root
# (setpriv changes user), so as the image runs — non-root — Codex runs as
# `speckit`, and the commands Codex runs can read whatever `speckit` can,
# the App's private key file included. docs/operations.md ("Codex and the
# App's key in the image") weighs this and shows the root + CODEX_RUN_AS set-up.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 speckit \
 && useradd --create-home --uid 10002 codex
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/src/generated ./src/generated
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY src ./src
COPY app.yml ./
COPY scripts/healthcheck.ts ./scripts/
# Every directory a volume is mounted on exists here, owned by speckit: a new
# named volume takes its owner from the image (else it is root's, and Codex
# cannot write CODEX_HOME).
RUN mkdir -p /app/var/workspaces /app/var/mirrors /app/var/artifacts /app/var/codex-home \
 && chown -R speckit:speckit /app/var
# METRICS_PORT: a worker-only container (`--worker`) serves /healthz, /readyz
# and /metrics there, so the HEALTHCHECK has something to ask in either role
# (web processes serve them on PORT and ignore METRICS_PORT).
# NODE_OPTIONS: the same V8 settings as `npm start` / `npm run worker` — a 4 MB young
# generation and one V8 helper thread keep an idle worker near 130 MB instead of 150 MB
# (docs/benchmarks.md, memory); the app's work is I/O and child processes, not allocation.
ENV NODE_OPTIONS="--max-semi-space-size=4 --v8-pool-size=1"
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 METRICS_PORT=9464 \
    WORK_DIR=/app/var/workspaces MIRROR_DIR=/app/var/mirrors ARTIFACTS_DIR=/app/var/artifacts
USER speckit
EXPOSE 3000 9464
# Asks /healthz on the port of the role the container runs (PORT for web,
# METRICS_PORT for --worker), read from the speckit process's command line.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "scripts/healthcheck.ts"]
# npm start (web + workers); worker-only replicas: `node src/main.ts --worker`.
CMD ["node", "src/main.ts"]
