#!/bin/sh
# ha-entrypoint.sh patroni|etcd|haproxy: the part this container plays in compose.ha.yaml.
#   patroni: PostgreSQL under Patroni; PROC_NODE is its name (and host name on the network).
#   etcd:    one member of the three-member etcd; PROC_NODE is its name (etcd1..etcd3).
#   haproxy: the write port 5000 (the leader only) and the read port 5001 (the synchronous
#            standby while there is one, else the leader), found through Patroni's REST checks.
set -eu
role=${1:?patroni, etcd or haproxy}
node=${PROC_NODE:-$(hostname)}
etcd_members=${PROC_ETCD_MEMBERS:-etcd1 etcd2 etcd3}

case "$role" in
etcd)
    cluster=""
    for m in $etcd_members; do cluster="${cluster:+$cluster,}$m=http://$m:2380"; done
    exec etcd --name "$node" --data-dir /var/lib/postgresql/etcd/data \
        --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://$node:2379" \
        --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls "http://$node:2380" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        --initial-cluster-token proc-service-etcd --logger zap --log-level warn
    ;;
haproxy)
    exec haproxy -W -db -f /etc/haproxy/haproxy.cfg
    ;;
patroni)
    : "${PROC_DB_PASSWORD:?set PROC_DB_PASSWORD}"
    : "${PROC_REPLICATION_PASSWORD:=$PROC_DB_PASSWORD}"
    hosts=""
    for m in $etcd_members; do hosts="${hosts:+$hosts,}$m:2379"; done
    conf=/var/lib/postgresql/patroni.yml
    umask 077
    # The timings (ttl, loop_wait, retry_timeout) are the cluster's, kept in etcd: these are
    # only its first values (README, "High availability", says what each costs).
    cat > "$conf" <<YAML
scope: proc-service
name: $node
restapi:
  listen: 0.0.0.0:8008
  connect_address: $node:8008
etcd3:
  hosts: $hosts
bootstrap:
  dcs:
    ttl: ${PROC_PATRONI_TTL:-10}
    loop_wait: ${PROC_PATRONI_LOOP_WAIT:-2}
    retry_timeout: ${PROC_PATRONI_RETRY_TIMEOUT:-3}
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: ${PROC_PATRONI_SYNC_STRICT:-false}
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        shared_buffers: 64MB
        synchronous_commit: ${PROC_SYNCHRONOUS_COMMIT:-remote_apply}
        # For the drill's proof that its read-your-writes check can fail: standbys that
        # apply late. Keep 0 in service.
        recovery_min_apply_delay: ${PROC_STANDBY_APPLY_DELAY:-0}
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
  post_bootstrap: /var/lib/postgresql/post-bootstrap.sh
postgresql:
  listen: 0.0.0.0:5432
  connect_address: $node:5432
  data_dir: /var/lib/postgresql/data/pg
  bin_dir: /usr/lib/postgresql/bin
  pgpass: /var/lib/postgresql/pgpass
  # A new replica copies the leader at once (the default waits for a spread checkpoint,
  # minutes on an idle leader).
  basebackup:
    - checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: "$PROC_DB_PASSWORD"
    replication:
      username: replicator
      password: "$PROC_REPLICATION_PASSWORD"
    rewind:
      username: rewinder
      password: "$PROC_REPLICATION_PASSWORD"
  pg_hba:
    - local all all trust
    - host replication replicator 0.0.0.0/0 scram-sha-256
    - host all all 0.0.0.0/0 scram-sha-256
tags:
  nofailover: false
  noloadbalance: false
YAML
    # Run once, on the node that makes the cluster: the application's database.
    cat > /var/lib/postgresql/post-bootstrap.sh <<'SH'
#!/bin/sh
exec psql -q -v ON_ERROR_STOP=1 -d "$1" -c 'CREATE DATABASE proc'
SH
    chmod 0700 /var/lib/postgresql/post-bootstrap.sh
    exec patroni "$conf"
    ;;
*)
    echo "unknown role $role (patroni, etcd or haproxy)" >&2
    exit 2
    ;;
esac
