# One image for every Nudge process; compose picks the command. Node 24 LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
# The root devDependency `node` (which pins Node 24 for npm scripts) is redundant here.
RUN npm ci --no-audit --no-fund && npx turbo run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
USER node
# Overridden per service: apps/worker/dist/main.js, packages/livechat-sandbox/dist/main.js, …
CMD ["node", "apps/ingest/dist/main.js"]
