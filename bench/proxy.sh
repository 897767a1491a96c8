#!/bin/sh
# Compares spof proxy with a bare relay and Toxiproxy; flags: see README.md.
cd "$(dirname "$0")" && exec go run ./cmd/proxybench "$@"
