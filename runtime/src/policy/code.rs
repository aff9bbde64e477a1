//! The stable codes of policy denials, defined once. A denial's `code`
//! field is always one of [`DenialCode::ALL`] spelled by
//! [`DenialCode::as_str`]; hosts and strategies match on the code (or parse
//! it back with [`DenialCode::parse`]), never on the detail text.

use crate::types::Denial;

/// Why the policy engine refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DenialCode {
    /// The action's kind has no table in the policy.
    KindNotAllowed,
    /// The tick's chain is not in `chains`.
    ChainNotAllowed,
    /// The action names an asset the deployment does not know (an
    /// `invalid` verdict), or a rule needs the decimals of such an asset.
    UnknownAsset,
    /// A swap names (or lacks) a venue outside `swap.venues`.
    VenueNotAllowed,
    /// A liquidity position in a pool outside `lp_open.pools`.
    PoolNotAllowed,
    /// A vault outside the kind's `vaults`.
    VaultNotAllowed,
    /// A lending market outside the kind's `markets`.
    MarketNotAllowed,
    /// The action involves a token outside the kind's `tokens`.
    TokenNotAllowed,
    /// A swap's slippage tolerance is above `max_slippage_bps`.
    SlippageAboveMax,
    /// An amount the action names or can spend is above `max_amount`.
    AmountAboveMax,
    /// The action's value is above `max_value`.
    ValueAboveMax,
    /// The lending position's health factor would fall below
    /// `min_health_factor`.
    HealthFactorBelowMin,
    /// The lending position's loan-to-value would rise above `max_ltv`.
    LtvAboveMax,
    /// `max_per_tick` or `limits.max_actions_per_tick` is reached.
    TooManyPerTick,
    /// `max_per_day` or `limits.max_actions_per_day` is reached.
    TooManyPerDay,
    /// The kind's `cooldown` has not passed since its last accepted action.
    CooldownActive,
    /// A `require` condition does not hold.
    ConditionFailed,
    /// An allowance has less available than the action can spend.
    AllowanceExceeded,
    /// A pool, vault or lending market read a rule needs failed.
    OracleUnavailable,
    /// A rule needs a price the oracle does not have.
    PriceUnavailable,
    /// The most the action can spend cannot be worked out (an exact-out
    /// swap without a price of the bought token in the sold one, or a
    /// maximum beyond 128 bits), so nothing can be charged for it.
    MaxSpendUnknown,
    /// The portfolio's value-at-risk after the swap would be above
    /// `risk.max_var` (and above its VaR before the swap).
    VarAboveMax,
    /// `risk.max_var` cannot compute the portfolio's value-at-risk from the
    /// oracle's candles (too few, spaced differently across markets, a
    /// horizon the candles cannot make, an unusable close).
    VarUnavailable,
}

impl DenialCode {
    /// Every code, in declaration order.
    pub const ALL: [DenialCode; 23] = [
        DenialCode::KindNotAllowed,
        DenialCode::ChainNotAllowed,
        DenialCode::UnknownAsset,
        DenialCode::VenueNotAllowed,
        DenialCode::PoolNotAllowed,
        DenialCode::VaultNotAllowed,
        DenialCode::MarketNotAllowed,
        DenialCode::TokenNotAllowed,
        DenialCode::SlippageAboveMax,
        DenialCode::AmountAboveMax,
        DenialCode::ValueAboveMax,
        DenialCode::HealthFactorBelowMin,
        DenialCode::LtvAboveMax,
        DenialCode::TooManyPerTick,
        DenialCode::TooManyPerDay,
        DenialCode::CooldownActive,
        DenialCode::ConditionFailed,
        DenialCode::AllowanceExceeded,
        DenialCode::OracleUnavailable,
        DenialCode::PriceUnavailable,
        DenialCode::MaxSpendUnknown,
        DenialCode::VarAboveMax,
        DenialCode::VarUnavailable,
    ];

    /// The code as it appears in a [`Denial`] (`AMOUNT_ABOVE_MAX`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DenialCode::KindNotAllowed => "KIND_NOT_ALLOWED",
            DenialCode::ChainNotAllowed => "CHAIN_NOT_ALLOWED",
            DenialCode::UnknownAsset => "UNKNOWN_ASSET",
            DenialCode::VenueNotAllowed => "VENUE_NOT_ALLOWED",
            DenialCode::PoolNotAllowed => "POOL_NOT_ALLOWED",
            DenialCode::VaultNotAllowed => "VAULT_NOT_ALLOWED",
            DenialCode::MarketNotAllowed => "MARKET_NOT_ALLOWED",
            DenialCode::TokenNotAllowed => "TOKEN_NOT_ALLOWED",
            DenialCode::SlippageAboveMax => "SLIPPAGE_ABOVE_MAX",
            DenialCode::AmountAboveMax => "AMOUNT_ABOVE_MAX",
            DenialCode::ValueAboveMax => "VALUE_ABOVE_MAX",
            DenialCode::HealthFactorBelowMin => "HEALTH_FACTOR_BELOW_MIN",
            DenialCode::LtvAboveMax => "LTV_ABOVE_MAX",
            DenialCode::TooManyPerTick => "TOO_MANY_PER_TICK",
            DenialCode::TooManyPerDay => "TOO_MANY_PER_DAY",
            DenialCode::CooldownActive => "COOLDOWN_ACTIVE",
            DenialCode::ConditionFailed => "CONDITION_FAILED",
            DenialCode::AllowanceExceeded => "ALLOWANCE_EXCEEDED",
            DenialCode::OracleUnavailable => "ORACLE_UNAVAILABLE",
            DenialCode::PriceUnavailable => "PRICE_UNAVAILABLE",
            DenialCode::MaxSpendUnknown => "MAX_SPEND_UNKNOWN",
            DenialCode::VarAboveMax => "VAR_ABOVE_MAX",
            DenialCode::VarUnavailable => "VAR_UNAVAILABLE",
        }
    }

    /// The code a denial's `code` field spells, if it is a policy code.
    pub fn parse(code: &str) -> Option<DenialCode> {
        DenialCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// A denial with this code, the `rule` path that produced it and a
    /// `CODE: key=value` detail built from `fields`.
    pub fn deny(self, rule: &str, fields: &[(&str, &dyn std::fmt::Display)]) -> Denial {
        Denial::new(self.as_str(), rule, fields)
    }
}

impl std::fmt::Display for DenialCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::DenialCode;

    #[test]
    fn codes_are_distinct_screaming_names_that_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for code in DenialCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{text}"
            );
            assert_eq!(DenialCode::parse(text), Some(code));
        }
        assert_eq!(DenialCode::parse("amount_above_max"), None);
    }
}
