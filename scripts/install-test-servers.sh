#!/usr/bin/env bash
# Installs the servers the backend tests start on loopback ports (Debian/Ubuntu, as root):
# redis-server, memcached, etcd; sasl2-bin for the memcached SASL test; openssl for TLS
# test certificates; iptables for the chaos suite's partitions between network namespaces.
# Nothing is started here: each test suite starts its own servers.
set -euo pipefail
packages=(redis-server memcached etcd-server etcd-client sasl2-bin openssl curl iptables)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
redis-server --version
memcached -V
etcd_version=$(etcd --version)
echo "${etcd_version%%$'\n'*}"
