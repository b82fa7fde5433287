# Airbyte connector image for destination-hubspot.
#
#   docker build -t airbyte/destination-hubspot-rs:0.1.0 .
#   docker run --rm airbyte/destination-hubspot-rs:0.1.0 spec
#
# The image name and tag must match dockerRepository / dockerImageTag in
# metadata.yaml, and the tag must equal the package version in Cargo.toml:
# integration_tests/metadata_check.py and tests/packaging.rs check that.
#
# No `# syntax=` line on purpose: it makes BuildKit pull a frontend image, which
# fails without a container registry; the built-in frontend handles RUN --mount.
# integration_tests/image/check.sh builds this image and runs it end to end.

# The toolchain this repo is developed with. The build and runtime stages must
# share a Debian release (glibc): bookworm <-> cc-debian12 here; to move to
# trixie, change both FROM lines together (rust:*-slim-trixie, cc-debian13).
ARG RUST_VERSION=1.95

# ---- build stage -----------------------------------------------------------
FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
# The whole workspace (the emulator is a workspace member, so cargo needs its
# manifest); .dockerignore keeps target/, venvs and .git out of the context.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p destination-hubspot \
    && install -D -m 0755 target/release/destination-hubspot /out/destination-hubspot

# ---- runtime stage ---------------------------------------------------------
# glibc + libgcc + CA certificates, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /out/destination-hubspot /usr/local/bin/destination-hubspot
# 65532 is the distroless "nonroot" user; numeric so runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /home/nonroot
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/destination-hubspot"
LABEL io.airbyte.name="airbyte/destination-hubspot-rs" \
      io.airbyte.version="0.1.0" \
      org.opencontainers.image.title="destination-hubspot" \
      org.opencontainers.image.description="Airbyte destination that upserts contacts into HubSpot" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["/usr/local/bin/destination-hubspot"]
