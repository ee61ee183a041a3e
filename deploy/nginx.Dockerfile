# nginx from Debian's packages, in front of proc-service (deploy/nginx.conf); not root.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx.conf proc-proxy.conf proc-errors.conf /etc/nginx/
COPY --chmod=0755 nginx-entrypoint.sh /usr/local/bin/nginx-entrypoint.sh
USER www-data
EXPOSE 8080
# SIGQUIT: finish the requests in flight, then stop.
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/usr/local/bin/nginx-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
