# nixa: multi-stage image on the Node 22 LTS line (oidc-provider 9 targets it).
# Build:  docker build -t nixa .
# Run:    see README ("Running in a container").

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild argon2
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json

FROM node:22-bookworm-slim AS runtime
# MALLOC_ARENA_MAX: glibc gives each thread (argon2 and crypto run on libuv's
# pool) an arena of its own that is never returned; two keep an instance's
# resident memory near its V8 heap (bench:two measured 182-215 MB against
# 263-302 MB without, on one loaded machine; README, Benchmarks).
ENV NODE_ENV=production \
    NIXA_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NIXA_HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm rebuild argon2 \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY views ./views
COPY bin ./bin
COPY keys/README.md ./keys/README.md
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
