# tenantctl for pipelines: docker run --rm -e DATABASE_URL=... tenantctl migrate --json
# Stage 1 builds the TypeScript; stage 2 carries only what runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
RUN chmod +x /app/bin/tenantctl.js && ln -s /app/bin/tenantctl.js /usr/local/bin/tenantctl
# The user's project (tenantctl.config.json, migrations/) is mounted here.
WORKDIR /work
ENTRYPOINT ["node", "/app/bin/tenantctl.js"]
CMD ["--help"]
