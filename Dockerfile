# One image for the whole suite; the command picks what runs:
#   python -m services.topology serve --host 0.0.0.0 --port 8001   (contacts 8002, dispatch 8003,
#   receipts 8004, reconciliation 8006), or a simulator for development and demos:
#   python -m tools.carrier_sim --port 8005 (SMS), tools.webhook_sim 8007, tools.voice_sim 8008.
# Configuration and secrets come from the environment at run time, never from the image.
#
# Build: docker build -t outage-notice:<version> .
# Pin PYTHON_IMAGE to a digest (python:3.11-slim-bookworm@sha256:…) for reproducible releases;
# both stages must use the same base, because the virtualenv links to its interpreter.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:${PATH}

RUN python -m venv /opt/venv

WORKDIR /src
# Dependencies first, in their own layer: a code change does not reinstall them. The pins are
# exact and --no-deps keeps anything unpinned from sneaking in.
COPY requirements.txt ./
RUN pip install --no-deps -r requirements.txt

COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY tools ./tools
# pip compiles the bytecode at install time, so the read-only root filesystem of the running
# container never needs to write any. The import runs from / so that it checks what was
# installed, not the source tree next to it.
RUN pip install --no-deps . \
    && cd / && python -c "import services, shared, tools"


FROM ${PYTHON_IMAGE} AS runtime

# zoneinfo needs the IANA database for Asia/Shanghai; newer slim bases no longer ship it. The
# printable notices (door slips, posted notices, the newspaper digest) embed a CJK font.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install --yes --no-install-recommends \
       tzdata fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1

# Owned by root and not writable by the app user: without DATABASE_URL a service would fall
# back to SQLite under ./var, and that must fail loudly rather than keep data in a container.
WORKDIR /app
# The shipped channel policy; mount a ConfigMap over it (or set CHANNEL_POLICY) to
# change who is told on which channel.
COPY config ./config
ENV CHANNEL_POLICY=/app/config/channel-policy.yaml

USER 10001:10001

EXPOSE 8001 8002 8003 8004 8005 8006 8007 8008

# No default service: running the image without a command says how to choose one.
CMD ["python", "-c", "raise SystemExit('choose what to run: python -m services.<topology|contacts|dispatch|receipts|reconciliation> serve --host 0.0.0.0 --port <port>, or python -m tools.carrier_sim')"]
