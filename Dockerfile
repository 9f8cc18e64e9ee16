# One image for the four services: the service is chosen by the command,
#   docker run IMAGE serve credentials        (default: serve ingress)
#   docker run IMAGE topics create            (the topic job)

# --- builder: install the project (not editable) into a self-contained venv -------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, from pyproject's list, so a code change does not reinstall them;
# then the project itself (hatchling needs the sources for that).
COPY pyproject.toml README.md ./
RUN /opt/venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/venv/bin/pip install -r requirements.txt
COPY libs ./libs
COPY services ./services
RUN /opt/venv/bin/pip install --no-deps .

# --- runtime: the venv only, no compiler, no sources, no pip cache -----------------------
FROM python:3.11-slim AS runtime
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    # The root filesystem is read-only in Kubernetes: no .pyc files written at run time.
    PYTHONDONTWRITEBYTECODE=1 \
    # In a container the service must listen beyond loopback (the settings default).
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["integrations"]
CMD ["serve", "ingress"]
