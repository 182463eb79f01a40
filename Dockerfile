# tenantctl for pipelines: docker run --rm -v "$PWD:/work" -e DATABASE_URL=... tenantctl migrate --json
# Stage 1 builds the TypeScript; stage 2 carries only what runs: no embedded server (pass a
# database URL), no dev tools, no example migrations, and a user that is not root.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
# The optional embedded server is not needed to compile; its install script is not either.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would rebuild, and nothing left here has an install script to run.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
RUN chmod +x /app/bin/tenantctl.js && ln -s /app/bin/tenantctl.js /usr/local/bin/tenantctl
# The user's project (tenantctl.config.json, migrations/) is mounted here.
WORKDIR /work
USER node
ENTRYPOINT ["node", "/app/bin/tenantctl.js"]
CMD ["--help"]
