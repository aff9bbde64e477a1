#!/usr/bin/env bash
# Builds the RSI example strategy into a sandboxed component and runs it over
# bundled real ETH/BTC candles, printing its actions and a summary.
# Extra arguments go to `stratbox demo` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --quiet -p stratbox -- demo "$@"
