#!/bin/sh
# nginx looks the app up through the container network's DNS server: the first nameserver
# in /etc/resolv.conf (Docker's 127.0.0.11, podman's network gateway).
set -eu
ns=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)
case "$ns" in *:*) ns="[$ns]" ;; esac
echo "resolver ${ns:?no nameserver in /etc/resolv.conf} valid=5s ipv6=off;" > /tmp/nginx-resolver.conf
exec "$@"
