# casedrop from this repository: build once, run one role per container if you scale out.
# Node 24: the current long-term-support line (Node 20 left LTS in April 2026); keep it in step with
# .nvmrc and "engines" in package.json (test/deploy/node-version.test.ts checks the three).
FROM node:24-bookworm-slim AS build
# ssh2 (and its cpu-features) compile their native crypto bindings at install; without a compiler
# the install quietly falls back to slower JavaScript paths for the SFTP/SCP door. The runtime
# stage has the same base image, so the bindings built here run there.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
# V8 sizes its heap for throughput and collects late: with its defaults an SMTP door grew to ~190 MiB
# under a burst of small messages and a worker to ~200 MiB on 20 MB messages. A 2 MiB young generation
# and a 128 MiB old generation keep both under ~150 MiB at no measurable speed cost; a 32 MiB initial
# old generation spares the upload doors a full collection every ~10 MiB received (see README).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--max-old-space-size=128", "--initial-old-space-size=32", "dist/cli/main.js"]
CMD ["serve"]
