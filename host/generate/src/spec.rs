//! A validated spec: what [`crate::parse`] returns and the generator
//! renders. The TOML a user writes is in `format`; this is its checked,
//! resolved meaning (names resolved, amounts with their decimals, fractions
//! in millionths).

use std::collections::BTreeMap;

use serde::Deserialize;

/// A validated strategy spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Crate name of the generated strategy.
    pub name: String,
    /// One line for the generated crate's documentation.
    pub description: Option<String>,
    /// The market whose candles drive the strategy.
    pub market: MarketSpec,
    /// Indicators by name, updated on every candle of the market.
    pub indicators: BTreeMap<String, IndicatorSpec>,
    /// What the strategy does on each candle.
    pub logic: Logic,
}

/// The two forms of a spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Logic {
    /// The simple form: `[entry]`, `[exit]` and `[position]`, a long-only
    /// spot position (the SDK's `LongOnly`).
    LongOnly(LongOnlySpec),
    /// Named states and `[[rules]]` emitting any action.
    Machine(MachineSpec),
}

/// Buy when `entry` holds and the position is flat, sell everything when
/// `exit` holds and it is long, at most once per cooldown.
#[derive(Debug, Clone, PartialEq)]
pub struct LongOnlySpec {
    /// When to buy.
    pub entry: Condition,
    /// When to sell.
    pub exit: Condition,
    /// Order sizing, cooldown and slippage.
    pub position: PositionSpec,
}

/// A state machine: on each candle the first rule that applies fires.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineSpec {
    /// State names (lowercase identifiers); the first is the initial state.
    pub states: Vec<String>,
    /// The rules, in the order they are checked.
    pub rules: Vec<RuleSpec>,
}

/// In one of `states`, when `when` holds and the cooldown has passed: emit
/// `actions` in order, then move to `to` once all of them have filled.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// Name for logs (`rules[i]` when the spec gives none).
    pub name: String,
    /// States in which the rule applies.
    pub states: Vec<String>,
    /// Condition; `None` always holds.
    pub when: Option<Condition>,
    /// Actions emitted, in order.
    pub actions: Vec<ActionSpec>,
    /// State after the actions filled; `None` stays in the current state.
    pub to: Option<String>,
    /// Candles of the market between two firings of this rule (0: none).
    pub cooldown_candles: u64,
    /// Milliseconds between two firings of this rule (0: none).
    pub cooldown_ms: u64,
}

/// One action of a rule: the WIT `action` variant, with amounts resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    /// Swap `sell` for `buy`.
    Swap {
        /// Asset sold.
        sell: String,
        /// Asset bought.
        buy: String,
        /// Whether `amount` is what is sold or what is bought.
        exact: Exact,
        /// Amount of `sell` (exact in) or of `buy` (exact out).
        amount: AmountSpec,
        /// Slippage tolerance, basis points.
        max_slippage_bps: u32,
        /// Venue to route through; the host picks when `None`.
        venue: Option<String>,
    },
    /// Open a concentrated-liquidity position.
    LpOpen {
        /// Pool id.
        pool: String,
        /// Price range.
        range: RangeSpec,
        /// Most of token0 to deposit.
        amount0: AmountSpec,
        /// Most of token1 to deposit.
        amount1: AmountSpec,
    },
    /// Close every liquidity position the deployment holds in `pool`.
    LpClose {
        /// Pool id.
        pool: String,
    },
    /// Collect the fees of every liquidity position in `pool`.
    LpCollect {
        /// Pool id.
        pool: String,
    },
    /// Supply, withdraw, borrow or repay in a lending market.
    Lending {
        /// Which operation.
        op: LendingKind,
        /// Lending market id.
        market: String,
        /// Asset lent or borrowed.
        asset: String,
        /// How much of `asset`.
        amount: AmountSpec,
    },
    /// Deposit into a vault or request a redemption.
    Vault {
        /// Which operation.
        op: VaultKind,
        /// Vault id.
        vault: String,
        /// Assets deposited, or shares redeemed.
        amount: AmountSpec,
    },
    /// Do nothing, deliberately, with a reason for the journal.
    Hold {
        /// The reason.
        reason: String,
    },
}

impl ActionSpec {
    /// The action's kind as the spec, policies and journals name it.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionSpec::Swap { .. } => "swap",
            ActionSpec::LpOpen { .. } => "lp_open",
            ActionSpec::LpClose { .. } => "lp_close",
            ActionSpec::LpCollect { .. } => "lp_collect",
            ActionSpec::Lending { op, .. } => op.kind(),
            ActionSpec::Vault { op, .. } => op.kind(),
            ActionSpec::Hold { .. } => "hold",
        }
    }
}

/// Which side of a swap is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exact {
    /// Sell exactly the amount.
    In,
    /// Buy exactly the amount.
    Out,
}

/// A lending operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LendingKind {
    /// Supply to the market.
    Supply,
    /// Withdraw what was supplied.
    Withdraw,
    /// Borrow from the market.
    Borrow,
    /// Repay what was borrowed.
    Repay,
}

impl LendingKind {
    /// The action kind's name.
    pub fn kind(self) -> &'static str {
        match self {
            LendingKind::Supply => "supply",
            LendingKind::Withdraw => "withdraw",
            LendingKind::Borrow => "borrow",
            LendingKind::Repay => "repay",
        }
    }
}

/// A vault operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultKind {
    /// Deposit assets.
    Deposit,
    /// Ask to redeem shares.
    RequestRedeem,
}

impl VaultKind {
    /// The action kind's name.
    pub fn kind(self) -> &'static str {
        match self {
            VaultKind::Deposit => "vault_deposit",
            VaultKind::RequestRedeem => "vault_request_redeem",
        }
    }
}

/// An amount, in the base units of the asset an action moves.
#[derive(Debug, Clone, PartialEq)]
pub enum AmountSpec {
    /// A fixed decimal amount (`"0.5"`), exact.
    Fixed {
        /// The decimal as written.
        decimal: String,
        /// Decimals of the asset counted.
        decimals: u8,
    },
    /// A share of a balance read when the rule fires, rounded down.
    Fraction {
        /// The share, in millionths (1 000 000 is the whole balance).
        ppm: u32,
        /// The balance.
        of: Balance,
    },
}

/// A balance an amount can be a fraction of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Balance {
    /// The account's balance of an asset.
    Wallet(String),
    /// What the account supplied of `asset` in lending market `market`.
    Supplied {
        /// Lending market id.
        market: String,
        /// The asset.
        asset: String,
    },
    /// What the account borrowed of `asset` in lending market `market`.
    Borrowed {
        /// Lending market id.
        market: String,
        /// The asset.
        asset: String,
    },
    /// The shares the account holds in a vault.
    VaultShares(String),
}

/// The price range of a new liquidity position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeSpec {
    /// Fixed prices of token0 in token1.
    Price {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// Fixed Uniswap v3 ticks.
    Ticks {
        /// Lower tick.
        lower: i32,
        /// Upper tick.
        upper: i32,
    },
    /// `[close / (1 + w), close * (1 + w)]` around the market's close.
    AroundClose(f64),
}

/// The traded market.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Market name as the candles carry it (`ETH/BTC`).
    pub name: String,
    /// Asset bought.
    pub base: String,
    /// Asset spent.
    pub quote: String,
    /// Decimals of the quote asset.
    pub quote_decimals: u8,
}

/// An indicator kind, as in the guest SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// Simple moving average of closes.
    Sma,
    /// Exponential moving average of closes.
    Ema,
    /// Wilder's RSI of closes.
    Rsi,
    /// Bollinger bands of closes: `.lower`, `.middle`, `.upper`.
    Bollinger,
    /// Wilder's average true range.
    Atr,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    /// Which indicator.
    pub kind: IndicatorKind,
    /// Its period, in candles.
    pub period: usize,
    /// Bollinger width in standard deviations (default 2).
    #[serde(default)]
    pub k: Option<f64>,
}

/// A condition: a comparison, or all / any of nested conditions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Every nested condition holds.
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one nested condition holds.
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// A comparison of two series or numbers.
    Compare(Comparison),
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// A series (`close`, `open`, `high`, `low`, an indicator, or a
    /// Bollinger band such as `bands.lower`) or a number.
    pub left: Operand,
    /// The comparison.
    pub op: Operator,
    /// Same as `left`.
    pub right: Operand,
}

/// A series name or a constant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Operand {
    /// A constant.
    Number(f64),
    /// A series.
    Series(String),
}

/// How two operands compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    /// `<`
    #[serde(rename = "<")]
    Less,
    /// `<=`
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `>`
    #[serde(rename = ">")]
    Greater,
    /// `>=`
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// `left` was at or below `right` at the previous candle and is above
    /// it now.
    #[serde(rename = "crosses_above")]
    CrossesAbove,
    /// `left` was at or above `right` at the previous candle and is below
    /// it now.
    #[serde(rename = "crosses_below")]
    CrossesBelow,
}

/// Order sizing of the simple form.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionSpec {
    /// Quote amount spent per entry, a decimal string (`"0.1"`).
    #[serde(default)]
    pub order_size: Option<String>,
    /// Or: this fraction of the quote balance per entry (0 < f <= 1).
    #[serde(default)]
    pub order_fraction: Option<f64>,
    /// Minimum time between two attempts, ms.
    #[serde(default)]
    pub cooldown_ms: u64,
    /// Slippage tolerance of each swap, basis points.
    #[serde(default = "default_slippage")]
    pub max_slippage_bps: u32,
}

/// Slippage tolerance when a spec gives none, basis points.
pub(crate) fn default_slippage() -> u32 {
    50
}
