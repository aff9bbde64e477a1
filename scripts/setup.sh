#!/usr/bin/env bash
# Installs what building and testing stratbox needs, idempotently: the
# WebAssembly targets and the rustfmt/clippy components. Sourced by demo.sh
# and test.sh; safe to run any number of times.
set -euo pipefail

if ! command -v rustup >/dev/null 2>&1; then
    echo "error: rustup is required (https://rustup.rs)" >&2
    exit 1
fi

installed_targets=$(rustup target list --installed)
for target in wasm32-unknown-unknown wasm32-wasip2; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        echo "setup: adding Rust target $target" >&2
        rustup target add "$target"
    fi
done

installed_components=$(rustup component list --installed)
for component in rustfmt clippy; do
    if ! grep -q "^$component" <<<"$installed_components"; then
        echo "setup: adding Rust component $component" >&2
        rustup component add "$component"
    fi
done
