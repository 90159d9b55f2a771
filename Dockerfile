# syntax=docker/dockerfile:1
#
# The `sgdsm` image: one image runs every pipeline step (ingest, train, fill, publish) and the
# dask scheduler and workers of the fill (`dask scheduler`, `dask worker`, from distributed).
#
#   docker build -t sgdsm:cpu .                                   # CPU torch (default)
#   docker build -t sgdsm:cuda --build-arg VARIANT=cuda .         # CUDA torch for GPU nodes
#
# VARIANT=cpu installs torch from the PyTorch CPU index (no CUDA libraries, ~1 GB smaller).
# VARIANT=cuda installs the PyPI torch wheel, which is built against CUDA 13 and brings the CUDA
# runtime as nvidia-* wheels; the node only needs the NVIDIA driver (>= 580) and the device plugin.
# For older drivers pick another CUDA build with --build-arg TORCH_INDEX_URL=<PyTorch cuXYZ index>.
#
# Credentials never enter the image: S3 keys come from a Kubernetes Secret at run time
# (see deploy/README.md).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- builder: build the sgdsm_cloud wheel from the source tree ---------------------------------
FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sgdsm_cloud ./sgdsm_cloud
RUN pip install --no-cache-dir --disable-pip-version-check "setuptools==84.2.1" \
    && pip wheel --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation \
       --wheel-dir /wheels .

# ---- runtime: torch for the chosen variant, then the wheel and its dependencies ----------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VARIANT=cpu
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=""
# Extras of sgdsm_cloud to install: publish (STAC) and export (NetCDF files); add "validate" for
# `sgdsm validate` (matplotlib, scipy, ismn).
ARG EXTRAS=publish,export
# bokeh serves the dask dashboard on the scheduler's port 8787 (/health works without it).
ARG BOKEH_VERSION=3.9.2

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SGDSM_IMAGE_VARIANT=${VARIANT}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN python -m venv "$VIRTUAL_ENV"

# torch first, from the index of the variant, so the wheel's `torch>=` requirement is already met
# and pip never swaps in another build.
RUN case "$VARIANT" in \
        cpu)  index="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" ;; \
        cuda) index="${TORCH_INDEX_URL:-https://pypi.org/simple}" ;; \
        *)    echo "VARIANT must be 'cpu' or 'cuda', got '$VARIANT'" >&2; exit 1 ;; \
    esac \
    && pip install --no-cache-dir --index-url "$index" "torch==${TORCH_VERSION}" \
    && echo "torch==${TORCH_VERSION}" > /opt/venv/torch-constraint.txt

COPY --from=builder /wheels /wheels
RUN wheel="$(echo /wheels/sgdsm_cloud-*.whl)" \
    && pip install --no-cache-dir --constraint /opt/venv/torch-constraint.txt \
       "${wheel}[${EXTRAS}]" "bokeh==${BOKEH_VERSION}" \
    && rm -rf /wheels \
    && sgdsm --help > /dev/null

# A fixed numeric UID/GID so Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN groupadd --gid 1000 sgdsm \
    && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/sgdsm --shell /usr/sbin/nologin sgdsm
WORKDIR /home/sgdsm
USER 1000:1000

ENTRYPOINT ["sgdsm"]
CMD ["--help"]
