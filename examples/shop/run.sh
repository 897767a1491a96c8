#!/usr/bin/env bash
# Starts the demo shop on loopback: redis-server, a throwaway PostgreSQL,
# shop-config, shop-payments, `spof proxy` with one proxy per dependency, and
# the shop talking through the proxies; prints the URLs and the proxy API,
# and stops everything on exit or Ctrl-C.
#
#   examples/shop/run.sh           # run until Ctrl-C (also: make demo)
#   examples/shop/run.sh --check   # start, run every flow once, stop; exit 0 if all answered 200
#   examples/shop/run.sh --keep    # keep data and logs after stopping
#
# The start-up itself is examples/shop/internal/demo (shared with the tests),
# run by cmd/shop-demo; this script builds the programs and runs it.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# As root, install redis-server and PostgreSQL when they are missing;
# otherwise shop-demo says what is missing and how to install it.
if [ "$(id -u)" -eq 0 ]; then
  ./scripts/test-deps.sh demo
fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/spof-shop-bin-XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$bin/" ./cmd/spof ./examples/shop/cmd/shop ./examples/shop/cmd/shop-config \
  ./examples/shop/cmd/shop-payments ./examples/shop/cmd/shop-demo

# In the background, so that the traps run while it works; shop-demo stops
# every process it started when it gets SIGINT or SIGTERM.
"$bin/shop-demo" --bin-dir "$bin" "$@" &
pid=$!
status=0
wait "$pid" || status=$?
pid=
exit "$status"
