# PostgreSQL from Debian's packages, for compose.yaml (any Debian-based BASE_IMAGE).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# No cluster at install time: the entrypoint makes one on the data volume at first start.
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confold postgresql \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && ln -s /usr/lib/postgresql/*/bin /usr/lib/postgresql/bin \
    && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data
COPY --chmod=0755 postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
VOLUME /var/lib/postgresql/data
HEALTHCHECK --interval=5s --timeout=3s --retries=5 CMD ["pg_isready", "-q", "-h", "127.0.0.1"]
# SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected, not waited for.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
