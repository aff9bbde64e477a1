#!/usr/bin/env bash
# Installs what building and testing stratbox needs, idempotently: the
# WebAssembly targets, the rustfmt/clippy components, (in .venv) the
# pinned componentize-py that builds Python strategies, (in node_modules)
# the pinned componentize-js that builds JavaScript ones, and (from Debian's
# packages) the PostgreSQL server the service's tests start and the headless
# Chromium the HTML report's test loads a report in. Sourced by
# demo.sh and test.sh; safe to run any number of times.
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
# The SDK requires CPython >= 3.11 (guest-sdk/python/pyproject.toml).
stratbox_python_min_major=3
stratbox_python_min_minor=11
# The interpreter that creates .venv (default: python3 on PATH).
stratbox_python="${STRATBOX_PYTHON:-python3}"
stratbox_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv"

# Whether interpreter $1 runs and is at least the SDK's minimum version.
stratbox_python_is_recent() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] >= ($stratbox_python_min_major, $stratbox_python_min_minor) else 1)" \
        >/dev/null 2>&1
}

# Whether .venv is complete: a recent enough Python whose pip works (a venv
# whose creation failed half-way has a python but no pip).
stratbox_venv_is_usable() {
    [[ -x "$stratbox_venv/bin/python" ]] &&
        stratbox_python_is_recent "$stratbox_venv/bin/python" &&
        "$stratbox_venv/bin/python" -m pip --version >/dev/null 2>&1
}

if [[ "$("$stratbox_venv/bin/componentize-py" --version 2>/dev/null)" != "componentize-py $componentize_py_version" ]] ||
    ! stratbox_python_is_recent "$stratbox_venv/bin/python"; then
    if ! stratbox_venv_is_usable; then
        if ! command -v "$stratbox_python" >/dev/null 2>&1; then
            echo "error: $stratbox_python not found: Python strategies need CPython >= $stratbox_python_min_major.$stratbox_python_min_minor" \
                "with its venv module (on Debian/Ubuntu: apt-get install python3 python3-venv;" \
                "or set STRATBOX_PYTHON to such an interpreter)" >&2
            exit 1
        fi
        if ! stratbox_python_is_recent "$stratbox_python"; then
            stratbox_found=$("$stratbox_python" -c 'import platform; print(platform.python_version())' 2>/dev/null) ||
                stratbox_found="of an unknown version"
            echo "error: $stratbox_python is Python $stratbox_found, but Python strategies need CPython >= $stratbox_python_min_major.$stratbox_python_min_minor" \
                "(guest-sdk/python/pyproject.toml); install a newer python3 with python3-venv, or set STRATBOX_PYTHON to one" >&2
            exit 1
        fi
        stratbox_no_venv="error: the venv module of $stratbox_python does not work, so $stratbox_venv cannot be created;
on Debian/Ubuntu install the python3-venv package (apt-get install python3-venv, or the
python3.X-venv package matching your Python version), then run scripts/setup.sh again"
        if ! "$stratbox_python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            echo "$stratbox_no_venv" >&2
            exit 1
        fi
        echo "setup: creating $stratbox_venv with $stratbox_python" >&2
        # --clear: a half-created or outdated .venv is replaced, not reused.
        if ! "$stratbox_python" -m venv --clear "$stratbox_venv" >&2 ||
            ! "$stratbox_venv/bin/python" -m pip --version >/dev/null 2>&1; then
            rm -rf "$stratbox_venv"
            echo "$stratbox_no_venv" >&2
            exit 1
        fi
    fi
    echo "setup: installing componentize-py $componentize_py_version into $stratbox_venv" >&2
    "$stratbox_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$componentize_py_version"
fi

# JavaScript strategies are built with componentize-js, and the live-chain
# tests run anvil and deploy Uniswap v3, Safe, OpenZeppelin, WETH9 and
# Chainlink contracts; all are pinned in package.json / package-lock.json
# and installed by npm into the repository's node_modules (git-ignored). Must match COMPONENTIZE_JS_VERSION
# in host/builder. npm runs again whenever the lock file changes. It is
# `npm install`, not `npm ci`: npm ci refuses this lock file because some
# platform-specific optional packages it names for other systems are not
# published, while `npm install` installs exactly the locked versions and
# leaves the lock file as it is.
stratbox_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stratbox_npm_stamp="$stratbox_root/node_modules/.stratbox-lock.sha256"
stratbox_lock_sum=$(sha256sum "$stratbox_root/package-lock.json" | cut -d' ' -f1)
if [[ ! -x "$stratbox_root/node_modules/.bin/componentize-js" ]] ||
    [[ "$(cat "$stratbox_npm_stamp" 2>/dev/null)" != "$stratbox_lock_sum" ]]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm not found: JavaScript strategies are built with componentize-js from npm" \
            "(Node.js >= 18; on Debian/Ubuntu: apt-get install nodejs npm)" >&2
        exit 1
    fi
    echo "setup: installing the npm packages of package-lock.json into $stratbox_root/node_modules" >&2
    (cd "$stratbox_root" && npm install --no-audit --no-fund --loglevel=error >&2)
    # The lock file as npm left it: npm may add entries the registry has
    # published since (platform packages of other systems), and the stamp
    # must match what the next run sees.
    sha256sum "$stratbox_root/package-lock.json" | cut -d' ' -f1 >"$stratbox_npm_stamp"
fi
# The price feed the live-chain tests deploy: Chainlink's MockV3Aggregator
# compiled by solc, both from npm (again whenever the lock file changes).
stratbox_aggregator="$stratbox_root/node_modules/.stratbox/MockV3Aggregator.json"
if [[ ! -s "$stratbox_aggregator" ]] || [[ "$stratbox_npm_stamp" -nt "$stratbox_aggregator" ]]; then
    echo "setup: compiling Chainlink's MockV3Aggregator with solc (npm)" >&2
    node "$stratbox_root/scripts/evm/compile-aggregator.cjs" "$stratbox_aggregator"
fi
# The ERC-4626 differential test's contracts: our TestAsset and
# VaultUnderTest (OpenZeppelin's ERC4626 from npm) compiled by solc (npm),
# again whenever the lock file or their source changes.
stratbox_vault="$stratbox_root/node_modules/.stratbox/VaultUnderTest.json"
if [[ ! -s "$stratbox_vault" ]] || [[ "$stratbox_npm_stamp" -nt "$stratbox_vault" ]] ||
    [[ "$stratbox_root/scripts/evm/VaultUnderTest.sol" -nt "$stratbox_vault" ]]; then
    echo "setup: compiling the ERC-4626 test vault (OpenZeppelin ERC4626) with solc (npm)" >&2
    node "$stratbox_root/scripts/evm/compile-vault.cjs" "$stratbox_vault"
fi

# What the tests need from Debian's packages, installed here when missing
# (one apt-get run for all of them): the service's scale-out tests run a
# real PostgreSQL server (a cluster in a temporary directory on a loopback
# port, started and stopped by the test harness), and the HTML report's
# test loads a rendered report in headless Chromium (the page must load
# without JavaScript errors and draw its charts).
stratbox_debian_packages=()
if ! command -v pg_ctl >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
    stratbox_debian_packages+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1; then
    stratbox_debian_packages+=(chromium)
fi
if [[ ${#stratbox_debian_packages[@]} -gt 0 ]]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        for stratbox_package in "${stratbox_debian_packages[@]}"; do
            case "$stratbox_package" in
            postgresql)
                echo "error: PostgreSQL server binaries (pg_ctl, initdb, postgres) not found and no apt-get:" \
                    "install PostgreSQL >= 13 and put its bin directory on PATH" >&2
                ;;
            chromium)
                echo "error: chromium not found and no apt-get: install Chromium (the HTML report's" \
                    "test runs it headless) and put the chromium command on PATH" >&2
                ;;
            esac
        done
        exit 1
    fi
    stratbox_sudo=""
    if [[ "$(id -u)" != 0 ]]; then
        stratbox_sudo="sudo"
    fi
    echo "setup: installing ${stratbox_debian_packages[*]} from Debian's packages (apt-get install)" >&2
    $stratbox_sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $stratbox_sudo apt-get install -y -qq --no-install-recommends \
        "${stratbox_debian_packages[@]}" >&2
    # PostgreSQL's own cluster is not needed: tests start their own.
    if [[ " ${stratbox_debian_packages[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null 2>&1; then
        $stratbox_sudo service postgresql stop >/dev/null 2>&1 || true
    fi
fi
