# monolite container image: a statically linked binary (the `static` preset: only glibc and libpq
# shared) on debian:bookworm-slim with libpq5.
#   docker build -t monolite .
#   docker run -d --name monolite -p 8080:8080 -v monolite-data:/data \
#     -v ./auth.yaml:/etc/monolite/auth.yaml:ro -e MONOLITE_AUTH=/etc/monolite/auth.yaml \
#     -e MONOLITE_REPLICA='s3://bucket/app?region=eu-west-1' -e AWS_ACCESS_KEY_ID=... -e AWS_SECRET_ACCESS_KEY=... \
#     monolite
# An empty /data with MONOLITE_REPLICA set is restored from the replica before serving
# (scripts/entrypoint.sh). docs/operations.md has the whole story.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates g++ cmake ninja-build \
      libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev libsqlite3-dev libssl-dev \
      libyaml-cpp-dev liblz4-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the binary is built from: .dockerignore leaves out tests, docs and build folders.
COPY . .
ARG JOBS=2
RUN cmake --preset static >/dev/null \
 && nice cmake --build --preset static -j "${JOBS}" \
 && ./build/static/monolite version

FROM debian:bookworm-slim
# libpq5: `monolite move` talks to PostgreSQL through the shared libpq (deploy/static.cmake says why).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 monolite \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin monolite \
 && mkdir -p /data \
 && chown monolite:monolite /data
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/build/static/monolite /usr/local/bin/monolite
COPY scripts/entrypoint.sh /usr/local/bin/monolite-entrypoint
# The shutdown grace stays under `docker stop`'s default 10 s, so the drain and the final
# checkpoint finish before a SIGKILL could come.
ENV MONOLITE_DB=/data/app.db \
    MONOLITE_LISTEN=0.0.0.0:8080 \
    MONOLITE_SHUTDOWN_GRACE=8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
VOLUME /data
WORKDIR /data
EXPOSE 8080
USER monolite:monolite
STOPSIGNAL SIGTERM
# /readyz is 503 while a restore runs: a long restore shows as "starting", not "unhealthy".
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 CMD ["monolite-entrypoint", "healthcheck"]
ENTRYPOINT ["monolite-entrypoint"]
CMD ["serve"]
