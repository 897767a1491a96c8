#!/usr/bin/env bash
# Installs what the test suites need when it is missing. Today the tests need
# only Go; later suites (chaos, store, web) add redis-server, postgresql and
# chromium here, started on loopback by the tests themselves.
set -euo pipefail

need=()
command -v git >/dev/null 2>&1 || need+=(git)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
