#!/usr/bin/env bash
# Backtests the example strategies (Rust, Python and JavaScript) over bundled real
# ETH/BTC candles under the example policy, against simulated venues, and
# writes an HTML and a JSON report for each to target/stratbox/demo/.
# Extra arguments go to every `stratbox backtest` (see `--help`), e.g.
# `--limit 2000`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# Optimized: the RSI backtest runs ~300x faster than in a debug build.
echo "demo: building the stratbox CLI (release; the first build takes a while)" >&2
cargo build --quiet --release --locked -p stratbox
stratbox=target/release/stratbox
out=target/stratbox/demo
mkdir -p "$out"

backtest() {
    local name=$1
    shift
    echo
    echo "== $name"
    "$stratbox" backtest "$@" \
        --json-out "$out/$name.json" --html "$out/$name.html" "${extra[@]}"
}

extra=("$@")
policy=(--policy host/policy/example.policy.toml)
backtest rsi-momentum strategies/rust/rsi-momentum "${policy[@]}"
backtest ema-crossover strategies/rust/ema-crossover "${policy[@]}"
backtest bollinger strategies/python/bollinger "${policy[@]}"
backtest rsi-momentum-js strategies/js/rsi-momentum-js "${policy[@]}"
backtest dynamic-lp strategies/rust/dynamic-lp \
    --venues examples/venues/eth-btc-lp.toml \
    --config '{"pool":"ETH/BTC-0.3","token0":"ETH","token1":"BTC","token0_decimals":18,"token1_decimals":8,"rebalance_cost":0.002}'
backtest leverage-loop strategies/rust/leverage-loop \
    --venues examples/venues/eth-btc-lending.toml \
    --config '{"market":"aave","collateral":"ETH","debt":"BTC","collateral_decimals":18,"debt_decimals":8,"pool":"ETH/BTC-0.3","min_step":0.01,"target_health_factor":1.15,"unwind_below":1.1}'

echo
echo "reports (self-contained HTML, open in any browser; JSON beside each):"
for report in "$out"/*.html; do
    echo "  file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
done
echo "open one with: xdg-open $out/rsi-momentum.html   (macOS: open ...)"
