#!/bin/sh
# Redis Sentinel's client-reconfig-script for the Redis behind Nomad Shell (docs/cluster/redis.md).
# Sentinel calls it when it switches to a new primary:
#   <primary-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
# The data nodes run with min-replicas-to-write 1, so that a deposed primary refuses writes the moment
# its replica is promoted. The promoted one has no replica yet (the old primary rejoins as one about
# 10 s later): it takes writes at once, and refuses them again without a replica once one is back in
# sync. A primary with no replica has nothing to fail over to, so nothing is lost meanwhile.
# REDISCLI_AUTH in Sentinel's environment carries the data nodes' password, if they have one.
set -u
to_ip=$6
to_port=$7
cli() { redis-cli --no-auth-warning -h "$to_ip" -p "$to_port" "$@"; }
cli CONFIG SET min-replicas-to-write 0 >/dev/null || exit 1
# Sentinel stops a script after 60 s.
i=0
while [ "$i" -lt 100 ]; do
  if cli INFO replication | grep -q '^slave[0-9]*:.*state=online'; then
    cli CONFIG SET min-replicas-to-write 1 >/dev/null
    exit 0
  fi
  sleep 0.5
  i=$((i + 1))
done
exit 0
