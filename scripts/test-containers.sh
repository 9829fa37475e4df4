#!/usr/bin/env bash
# A private Docker engine and local server images, for running the tests through testcontainers
# (LOCK_TEST_SERVERS=containers) on a machine that can pull no image (issue #14).
#
#   eval "$(bash scripts/test-containers.sh start)"   # prints the variables to export
#   LOCK_TEST_SERVERS=containers pnpm --filter @lock/redis exec jest test/conformance.test.ts
#   bash scripts/test-containers.sh stop "$LOCK_TEST_DOCKER_DIR"
#
# start: installs Debian's docker.io when dockerd is missing (as root), starts dockerd with
# everything under one new folder (vfs storage, its own data and exec roots and socket; no
# iptables, no bridge: containers use the host's network), and builds lock-test/redis,
# lock-test/etcd and lock-test/memcached images with `docker import` from a folder holding the
# server binary installed for the tests (scripts/install-test-servers.sh) and the libraries
# `ldd` lists. testcontainers' reaper image cannot be pulled either: it is disabled.
# stop: stops that engine (and its containers) and removes its folder.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

start() {
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  local dir
  dir=$(mktemp -d /tmp/lock-docker.XXXXXX)
  export DOCKER_HOST="unix://$dir/docker.sock"
  # setsid: the engine outlives this script; `stop` ends it by its pid file.
  setsid dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --data-root "$dir/data" --exec-root "$dir/exec" --host "$DOCKER_HOST" \
    --pidfile "$dir/dockerd.pid" --log-level warn >"$dir/dockerd.log" 2>&1 </dev/null &
  local waited=0
  until docker version >/dev/null 2>&1; do
    if [ "$waited" -ge 300 ] || ! kill -0 "$!" 2>/dev/null; then
      log "dockerd did not start; its log:"
      tail -20 "$dir/dockerd.log" >&2 || true
      stop "$dir"
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "dockerd $(docker version --format '{{.Server.Version}}') on $DOCKER_HOST"

  local redis_version etcd_version memcached_version
  redis_version=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')
  etcd_version=$(etcd --version | sed -n 's/^etcd Version: //p')
  memcached_version=$(memcached -V | awk '{print $2}')
  build_image "$dir" "lock-test/redis:$redis_version" redis-server
  build_image "$dir" "lock-test/etcd:$etcd_version" etcd
  build_image "$dir" "lock-test/memcached:$memcached_version" memcached

  cat <<VARS | tee "$dir/env"
export LOCK_TEST_DOCKER_DIR=$dir
export DOCKER_HOST=$DOCKER_HOST
export TESTCONTAINERS_RYUK_DISABLED=true
export LOCK_TEST_REDIS_IMAGE=lock-test/redis:$redis_version
export LOCK_TEST_ETCD_IMAGE=lock-test/etcd:$etcd_version
export LOCK_TEST_MEMCACHED_IMAGE=lock-test/memcached:$memcached_version
VARS
}

# build_image DIR NAME:TAG BINARY: an image holding BINARY as /usr/bin/BINARY, the libraries it
# links (copied to the paths ldd gives), /tmp, and an /etc/passwd naming root (memcached -u root).
build_image() {
  local dir=$1 image=$2 binary=$3
  local root="$dir/rootfs" path
  path=$(command -v "$binary")
  rm -rf "$root"
  mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp -L "$path" "$root/usr/bin/$binary"
  ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    while read -r lib; do cp -L --parents "$lib" "$root"; done
  echo 'root:x:0:0:root:/root:/usr/sbin/nologin' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/bin' - "$image" >/dev/null
  rm -rf "$root"
  log "built $image ($(docker image inspect --format '{{.Size}}' "$image" | numfmt --to=iec))"
}

stop() {
  local dir=${1:?usage: test-containers.sh stop DIR}
  case "$dir" in /tmp/lock-docker.*) ;; *) log "refusing to remove $dir"; exit 1 ;; esac
  [ -d "$dir" ] || return 0
  if [ -f "$dir/dockerd.pid" ]; then
    local pid waited=0
    pid=$(cat "$dir/dockerd.pid")
    if kill -0 "$pid" 2>/dev/null; then
      # Containers first (they would be stopped by the engine anyway, with a 10 s grace).
      DOCKER_HOST="unix://$dir/docker.sock" docker rm -f $(DOCKER_HOST="unix://$dir/docker.sock" docker ps -aq) >/dev/null 2>&1 || true
      kill -TERM "$pid"
      while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 200 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
        sleep 0.1
        waited=$((waited + 1))
      done
    fi
  fi
  # Anything the engine left mounted under its folder (none is expected), deepest first.
  { grep -o " $dir[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" || true; done
  rm -rf "$dir"
  log "stopped the engine and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-${LOCK_TEST_DOCKER_DIR:-}}" ;;
  *) log "usage: $0 start | stop DIR"; exit 2 ;;
esac
