#!/usr/bin/env bash
# Installs what building and testing stratbox needs, idempotently: the
# WebAssembly targets, the rustfmt/clippy components and (in .venv) the
# pinned componentize-py that builds Python strategies. Sourced by demo.sh
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

# Python strategies are built with componentize-py, pinned (the Python SDK's
# sandbox shims depend on how it pre-initializes the interpreter) and
# installed into a virtual environment inside the repository (.venv,
# git-ignored). Must match COMPONENTIZE_PY_VERSION in host/builder.
componentize_py_version=0.25.1
stratbox_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv"
if [[ "$("$stratbox_venv/bin/componentize-py" --version 2>/dev/null)" != "componentize-py $componentize_py_version" ]]; then
    echo "setup: installing componentize-py $componentize_py_version into $stratbox_venv" >&2
    if [[ ! -x "$stratbox_venv/bin/python" ]]; then
        python3 -m venv "$stratbox_venv"
    fi
    "$stratbox_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$componentize_py_version"
fi
