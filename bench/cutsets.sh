#!/bin/sh
# Compares spof cutsets with SCRAM on SCRAM's sample trees; flags: see README.md.
cd "$(dirname "$0")" && exec go run ./cmd/cutsetbench "$@"
