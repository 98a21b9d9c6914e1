# The access index: projector and API in one process (`access-index start`).
# TypeScript runs through tsx (a runtime dependency), so there is no build step.
FROM node:24-slim
WORKDIR /app
COPY package.json package-lock.json ./
# Full install (dev dependencies too), the same install as CI.
RUN npm ci && npm cache clean --force
COPY . .
ENV NODE_ENV=production
USER node
EXPOSE 8080
CMD ["node", "bin/access-index.js", "start", "--host", "0.0.0.0"]
