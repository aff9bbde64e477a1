#!/usr/bin/env bash
# Runs everything CI runs: formatting, lints, and the whole test suite
# (guest components are built once, by the stratbox-test-artifacts crate).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The CLI's build and compiled-code cache, inside the repository so that
# tests neither read nor fill the user's own (~/.cache/stratbox).
export STRATBOX_CACHE_DIR="$PWD/target/stratbox-cache"

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked
