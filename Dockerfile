# speckit-bot: the app runs its TypeScript sources directly on Node 24
# (type stripping), so the image needs no build step beyond `npm ci`.
FROM node:24-bookworm-slim

# git for workspaces; util-linux for setpriv (Codex dies with its worker and
# runs as an unprivileged user); ca-certificates for https remotes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 speckit \
 && useradd --create-home --uid 10002 codex

WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY app.yml ./

ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
RUN mkdir -p /app/var && chown speckit:speckit /app/var
USER speckit
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# `npm start` runs web + workers; override with `node src/main.ts --worker` for worker-only replicas.
CMD ["node", "src/main.ts"]
