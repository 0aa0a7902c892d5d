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
# for https remotes. Two users: the app, and the one Codex runs as.
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
# Every directory a volume is mounted on exists here, owned by speckit: a new
# named volume takes its owner from the image (else it is root's, and Codex
# cannot write CODEX_HOME).
RUN mkdir -p /app/var/workspaces /app/var/mirrors /app/var/artifacts /app/var/codex-home \
 && chown -R speckit:speckit /app/var
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 \
    WORK_DIR=/app/var/workspaces MIRROR_DIR=/app/var/mirrors ARTIFACTS_DIR=/app/var/artifacts
USER speckit
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# npm start (web + workers); worker-only replicas: `node src/main.ts --worker`.
CMD ["node", "src/main.ts"]
