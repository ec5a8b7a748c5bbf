FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY adapters ./adapters
# The demo factory is package data: with no ESB_CONFIG the gateway runs it.
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/esb esb \
    && mkdir -p /var/lib/esb && chown esb /var/lib/esb

ENV ESB_DATA_DIR=/var/lib/esb \
    ESB_HOST=0.0.0.0 \
    ESB_PORT=8000
USER esb
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['ESB_PORT'], timeout=2)" || exit 1
CMD ["esb", "serve"]
