#!/usr/bin/env bash
# Installs what the test suites need when it is missing, so `make test` works
# on a fresh Debian machine (as root) and costs nothing afterwards:
#   git                     the lint step lists files with it
#   redis-server, postgres  examples/shop's tests start their own, on loopback
#   iptables, iproute2      the iptables injector's tests, in network
#                           namespaces they create themselves
#   scram                   the fault-tree tool the cut-set engine is checked
#                           against (with the sample trees it ships)
#   chromium                the dashboard's browser tests drive it headless
#                           (any of $CHROME, chromium-browser or
#                           google-chrome will do instead)
# PostgreSQL counts as present when postgres, initdb and pg_ctl are on PATH or
# in /usr/lib/postgresql/*/bin (Debian keeps them there, off PATH).
# `test-deps.sh demo` installs only what the demo shop needs (make demo).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

have_postgres() {
  if have postgres && have initdb && have pg_ctl; then return 0; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
  done
  return 1
}

need=()
have redis-server || [ -x /usr/bin/redis-server ] || need+=(redis-server)
have_postgres || need+=(postgresql)
if [ "${1:-}" != demo ]; then # `test-deps.sh demo`: what the demo shop needs, only
  have git || need+=(git)
  have iptables || [ -x /usr/sbin/iptables ] || need+=(iptables)
  have ip || [ -x /usr/sbin/ip ] || need+=(iproute2)
  have scram || need+=(scram) # the reference the cut-set engine is checked against
  [ -n "${CHROME:-}" ] || have chromium || have chromium-browser || have google-chrome || need+=(chromium)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing ${need[*]}; run as root, or install them (apt-get install ${need[*]})" >&2
  exit 1
fi
echo "test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if ! have redis-server || ! have_postgres; then
  echo "test-deps: redis-server or postgres still missing after apt-get install ${need[*]}" >&2
  exit 1
fi
