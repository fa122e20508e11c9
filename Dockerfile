# The precision-kg API image: GraphQL on uvicorn, talking to Neo4j at NEO4J_URI.

# The explorer's and GraphiQL's browser assets from the npm registry, at web/package-lock.json's
# exact versions; the app serves them itself (api/browser.py), so no page needs the internet.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KG_WEB_DIR=/app/web
COPY --from=web /web /app/web
COPY pyproject.toml README.md ./
COPY kg ./kg
COPY api ./api
COPY seeds ./seeds
COPY requirements.lock ./
# pango: WeasyPrint's text layout for the patient report's PDF
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system --uid 10001 kg
USER kg
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"
# Apply the schema and load the seeds (idempotent), then serve.
CMD ["sh", "-c", "kg schema apply && kg load seeds /app/seeds --no-progress && kg serve --host 0.0.0.0 --port 8000"]
