/// Why a venue refused an operation. Every variant is a value a strategy
/// can receive as a failed action outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VenueError {
    /// The pool or market cannot provide that much.
    #[error("insufficient liquidity: {detail}")]
    InsufficientLiquidity {
        /// What ran out.
        detail: String,
    },
    /// The account does not hold enough.
    #[error("insufficient balance: need {needed}, have {available}")]
    InsufficientBalance {
        /// Required amount, base units.
        needed: u128,
        /// Held amount, base units.
        available: u128,
    },
    /// An amount was zero where it must be positive.
    #[error("amount must be positive")]
    ZeroAmount,
    /// A result does not fit in 128 bits.
    #[error("arithmetic overflow in {what}")]
    Overflow {
        /// Which computation.
        what: &'static str,
    },
    /// A tick or price outside the allowed range, or misaligned.
    #[error("invalid range: {detail}")]
    InvalidRange {
        /// What is wrong.
        detail: String,
    },
    /// The operation would leave the account below its health factor or
    /// above its loan-to-value.
    #[error("undercollateralized: {detail}")]
    Undercollateralized {
        /// Which bound.
        detail: String,
    },
    /// Unknown asset, pool, position or vault.
    #[error("unknown {what}: {name}")]
    Unknown {
        /// Kind of thing.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A supply or borrow would take a reserve past its cap (Aave's
    /// `SUPPLY_CAP_EXCEEDED` / `BORROW_CAP_EXCEEDED`).
    #[error("the {asset} {cap} cap of {limit_tokens} tokens would be exceeded")]
    CapExceeded {
        /// Which cap.
        cap: CapKind,
        /// The reserve's asset.
        asset: String,
        /// The cap, whole tokens.
        limit_tokens: u128,
    },
    /// A redemption was claimed before its waiting period ended.
    #[error("not claimable before {claimable_at_ms} (now {now_ms})")]
    NotYetClaimable {
        /// When it becomes claimable.
        claimable_at_ms: u64,
        /// Now.
        now_ms: u64,
    },
}

/// Which cap of a lending reserve ([`VenueError::CapExceeded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapKind {
    /// Total supplied, treasury's share included.
    Supply,
    /// Total borrowed.
    Borrow,
}

impl std::fmt::Display for CapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CapKind::Supply => "supply",
            CapKind::Borrow => "borrow",
        })
    }
}
