# syntax=docker/dockerfile:1
#
# lava-crm-mcp: one image, two transports (style.md §4.15).
#
#   stdio (default, e.g. Claude Desktop: manifests/claude-desktop/docker.json):
#     docker run -i --rm -e LAVA_SECRET_KEY ghcr.io/lava-so/lava-crm-mcp:0.1.0 stdio
#   stdio against the embedded sandbox CRM (no credentials; data lives in the container):
#     docker run -i --rm ghcr.io/lava-so/lava-crm-mcp:0.1.0 stdio --sandbox
#   streamable HTTP (bind 0.0.0.0 inside the container; the server refuses a non-loopback host without auth):
#     docker run --rm -p 8000:8000 -e LAVA_SECRET_KEY -e LAVA_MCP_AUTH_TOKENS \
#       ghcr.io/lava-so/lava-crm-mcp:0.1.0 http --host 0.0.0.0 --port 8000
#
# No secret is baked in: every credential (LAVA_SECRET_KEY, LAVA_CRM_TOKEN, LAVA_MCP_AUTH_TOKENS) comes from
# the runtime environment. The build context is an allow-list (.dockerignore), so a stray .env never gets in.
#
# CI (.ci/image.sh) builds this file with --format docker on a Debian bookworm base bootstrapped with mmdebstrap
# (--build-arg PYTHON_IMAGE=localhost/bookworm-python:local: no registry image can be pulled there), runs the image
# over stdio and HTTP, runs its HEALTHCHECK and scans its layers for credentials. Users get the default base below.

# Pinned by tag; to pin by digest as well, build with
#   --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:<digest>
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# ---------------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv /opt/venv

# Step 1, the dependency layer: only pyproject.toml, so this layer is reused until the dependencies change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-compile -r /tmp/requirements.txt

# Step 2, the project: build the wheel (hatchling, in pip's isolated build env) and install it without deps.
# LICENSE is pyproject's license-files: the wheel carries it in its .dist-info/licenses/.
COPY README.md LICENSE ./
COPY lava_crm_mcp ./lava_crm_mcp
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install --no-deps --no-compile /tmp/dist/lava_crm_mcp-*.whl \
    && /opt/venv/bin/lava-crm-mcp --version

# ---------------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="lava-crm-mcp" \
      org.opencontainers.image.description="MCP server for the Lava CRM: contacts, accounts, leads, deals, pipelines, tasks, cases, invoices." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/lava-so/lava-crm-mcp" \
      org.opencontainers.image.url="https://github.com/lava-so/lava-crm-mcp" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="Lava" \
      io.modelcontextprotocol.server.name="io.github.lava-so/lava-crm-mcp"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app

# Fixed uid/gid 10001 so Kubernetes can assert runAsUser/runAsNonRoot without a name lookup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/app --create-home --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
# The MIT license (org.opencontainers.image.licenses) at a fixed path, besides the copy in the venv's .dist-info.
COPY LICENSE /usr/share/licenses/lava-crm-mcp/LICENSE

USER 10001:10001
WORKDIR /home/app

# Streamable HTTP (`http --host 0.0.0.0 --port 8000`); unused in stdio mode.
EXPOSE 8000

# `lava-crm-mcp health` GETs /healthz on 127.0.0.1:8000 and exits 0 on a 200; where nothing listens there (stdio, as
# for Claude Desktop) it has nothing to check and exits 0, so a stdio container is never marked "unhealthy". Serving
# http on another --port? Give the check that port: --health-cmd "lava-crm-mcp health --port 9000".
# Kubernetes ignores HEALTHCHECK and uses the probes in manifests/kubernetes/deployment.yaml instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["lava-crm-mcp", "health"]

ENTRYPOINT ["lava-crm-mcp"]
CMD ["stdio"]
