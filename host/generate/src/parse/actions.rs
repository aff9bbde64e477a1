//! Actions of `[[rules]]`: the fields each kind takes, the assets they name
//! and their amounts (a fixed decimal or a fraction of a balance).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::{Spanned, Value};

use super::{Checker, check_decimal};
use crate::error::SpecError;
use crate::format::{ActionFile, RangeFile};
use crate::spec::{
    ActionSpec, AmountSpec, Balance, Exact, LendingKind, MarketSpec, RangeSpec, VaultKind,
    default_slippage,
};

/// Balances named by a word rather than an asset (`of = "supplied"`).
pub(super) const BALANCE_WORDS: [&str; 3] = ["supplied", "borrowed", "shares"];

/// Every action kind, as the WIT and the spec name them.
const KINDS: &str = "swap, lp_open, lp_close, lp_collect, supply, withdraw, borrow, repay, \
                     vault_deposit, vault_request_redeem, hold";

/// The assets a spec knows: the market's two and those in `[assets]`, with
/// their decimals when known.
pub(super) struct Assets {
    decimals: BTreeMap<String, Option<u8>>,
    base: String,
    quote: String,
}

impl Assets {
    pub(super) fn new(market: &MarketSpec) -> Assets {
        let mut decimals = BTreeMap::new();
        decimals.insert(market.base.clone(), None);
        decimals.insert(market.quote.clone(), Some(market.quote_decimals));
        Assets {
            decimals,
            base: market.base.clone(),
            quote: market.quote.clone(),
        }
    }

    pub(super) fn insert(&mut self, name: &str, decimals: u8) {
        self.decimals.insert(name.to_owned(), Some(decimals));
    }

    fn unknown(&self, name: &str) -> String {
        let known: Vec<&str> = self.decimals.keys().map(String::as_str).collect();
        format!(
            "unknown asset `{name}` (assets: {}; list others in [assets])",
            known.join(", ")
        )
    }
}

/// What an amount counts, to check its `of` and find its decimals.
struct Counted<'a> {
    /// The asset counted; `None` for vault shares.
    asset: Option<&'a str>,
    /// The asset whose decimals a fixed amount is written in.
    decimals_of: &'a str,
    /// Lending market and asset, for `of = "supplied"` and `"borrowed"`.
    lending: Option<(&'a str, &'a str)>,
    /// Vault, for `of = "shares"`.
    vault: Option<&'a str>,
}

impl<'a> Counted<'a> {
    fn asset(asset: &'a str) -> Self {
        Counted {
            asset: Some(asset),
            decimals_of: asset,
            lending: None,
            vault: None,
        }
    }
}

/// Checks one action; `path` is its dotted place (`rules[0].actions[1]`).
struct ActionChecker<'c, 'a> {
    checker: &'c Checker<'a>,
    assets: &'c Assets,
    path: &'c str,
    kind: &'c str,
    span: Range<usize>,
}

impl Checker<'_> {
    pub(super) fn action(
        &self,
        written: &Spanned<ActionFile>,
        path: &str,
        rule: &str,
        assets: &Assets,
    ) -> Result<ActionSpec, SpecError> {
        let mut fields = written.get_ref().clone();
        let kind = fields.kind.get_ref().clone();
        let a = ActionChecker {
            checker: self,
            assets,
            path,
            kind: &kind,
            span: written.span(),
        };
        let action = match kind.as_str() {
            "swap" => a.swap(&mut fields)?,
            "lp_open" => a.lp_open(&mut fields)?,
            "lp_close" => ActionSpec::LpClose {
                pool: a.name(a.need(fields.pool.take(), "pool")?, "pool")?,
            },
            "lp_collect" => ActionSpec::LpCollect {
                pool: a.name(a.need(fields.pool.take(), "pool")?, "pool")?,
            },
            "supply" => a.lending(LendingKind::Supply, &mut fields)?,
            "withdraw" => a.lending(LendingKind::Withdraw, &mut fields)?,
            "borrow" => a.lending(LendingKind::Borrow, &mut fields)?,
            "repay" => a.lending(LendingKind::Repay, &mut fields)?,
            "vault_deposit" => a.vault(VaultKind::Deposit, &mut fields)?,
            "vault_request_redeem" => a.vault(VaultKind::RequestRedeem, &mut fields)?,
            "hold" => ActionSpec::Hold {
                reason: match fields.reason.take() {
                    Some(reason) => a.name(reason, "reason")?,
                    None => format!("rule {rule}"),
                },
            },
            other => {
                return Err(self.invalid(
                    &fields.kind.span(),
                    &format!("{path}.kind"),
                    format!("unknown action kind `{other}` (kinds: {KINDS})"),
                ));
            }
        };
        a.no_other_fields(&fields)?;
        Ok(action)
    }
}

/// Each kind takes the fields it needs out of the action; what is left
/// belongs to other kinds.
impl ActionChecker<'_, '_> {
    fn swap(&self, fields: &mut ActionFile) -> Result<ActionSpec, SpecError> {
        let sell = self.asset(self.need(fields.sell.take(), "sell")?, "sell")?;
        let buy_field = self.need(fields.buy.take(), "buy")?;
        let buy_span = buy_field.span();
        let buy = self.asset(buy_field, "buy")?;
        if buy == sell {
            return Err(self.invalid(&buy_span, "buy", "is the asset sold"));
        }
        let exact = match fields.exact.take() {
            None => Exact::In,
            Some(exact) => match exact.get_ref().as_str() {
                "in" => Exact::In,
                "out" => Exact::Out,
                _ => {
                    return Err(self.invalid(
                        &exact.span(),
                        "exact",
                        "`in` (the amount is what is sold, the default) or `out` (what is \
                         bought)",
                    ));
                }
            },
        };
        let counted = match exact {
            Exact::In => Counted::asset(&sell),
            Exact::Out => Counted::asset(&buy),
        };
        let amount = self.amount(
            self.need(fields.amount.take(), "amount")?,
            "amount",
            &counted,
        )?;
        let max_slippage_bps = match fields.max_slippage_bps.take() {
            None => default_slippage(),
            Some(bps) if *bps.get_ref() <= 10_000 => bps.into_inner(),
            Some(bps) => {
                return Err(self.invalid(&bps.span(), "max_slippage_bps", "at most 10000"));
            }
        };
        let venue = match fields.venue.take() {
            Some(venue) => Some(self.name(venue, "venue")?),
            None => None,
        };
        Ok(ActionSpec::Swap {
            sell,
            buy,
            exact,
            amount,
            max_slippage_bps,
            venue,
        })
    }

    fn lp_open(&self, fields: &mut ActionFile) -> Result<ActionSpec, SpecError> {
        let pool = self.name(self.need(fields.pool.take(), "pool")?, "pool")?;
        let token0 = self.asset(self.need(fields.token0.take(), "token0")?, "token0")?;
        let token1_field = self.need(fields.token1.take(), "token1")?;
        let token1_span = token1_field.span();
        let token1 = self.asset(token1_field, "token1")?;
        if token1 == token0 {
            return Err(self.invalid(&token1_span, "token1", "is token0"));
        }
        let range = self.range(self.need(fields.range.take(), "range")?, &token0, &token1)?;
        let amount0 = self.need(fields.amount0.take(), "amount0")?;
        let amount0 = self.amount(amount0, "amount0", &Counted::asset(&token0))?;
        let amount1 = self.need(fields.amount1.take(), "amount1")?;
        let amount1 = self.amount(amount1, "amount1", &Counted::asset(&token1))?;
        Ok(ActionSpec::LpOpen {
            pool,
            range,
            amount0,
            amount1,
        })
    }

    fn lending(&self, op: LendingKind, fields: &mut ActionFile) -> Result<ActionSpec, SpecError> {
        let market = self.name(self.need(fields.market.take(), "market")?, "market")?;
        let asset = self.asset(self.need(fields.asset.take(), "asset")?, "asset")?;
        let counted = Counted {
            lending: Some((&market, &asset)),
            ..Counted::asset(&asset)
        };
        let amount = self.amount(
            self.need(fields.amount.take(), "amount")?,
            "amount",
            &counted,
        )?;
        Ok(ActionSpec::Lending {
            op,
            market,
            asset,
            amount,
        })
    }

    fn vault(&self, op: VaultKind, fields: &mut ActionFile) -> Result<ActionSpec, SpecError> {
        let vault = self.name(self.need(fields.vault.take(), "vault")?, "vault")?;
        let asset = self.asset(self.need(fields.asset.take(), "asset")?, "asset")?;
        let counted = match op {
            VaultKind::Deposit => Counted::asset(&asset),
            // Shares are written with the decimals of the vault's asset, as
            // ERC-4626 vaults count them.
            VaultKind::RequestRedeem => Counted {
                asset: None,
                decimals_of: &asset,
                lending: None,
                vault: Some(&vault),
            },
        };
        let amount = self.amount(
            self.need(fields.amount.take(), "amount")?,
            "amount",
            &counted,
        )?;
        Ok(ActionSpec::Vault { op, vault, amount })
    }
}

impl ActionChecker<'_, '_> {
    fn invalid(&self, span: &Range<usize>, field: &str, reason: impl Into<String>) -> SpecError {
        self.checker
            .invalid(span, &format!("{}.{field}", self.path), reason)
    }

    fn need<T>(&self, value: Option<Spanned<T>>, field: &str) -> Result<Spanned<T>, SpecError> {
        value.ok_or_else(|| {
            self.invalid(
                &self.span,
                field,
                format!("missing: a `{}` action needs it", self.kind),
            )
        })
    }

    /// Fields left after the kind took its own belong to other kinds.
    fn no_other_fields(&self, left: &ActionFile) -> Result<(), SpecError> {
        match left.present().first() {
            Some((field, span)) => Err(self.invalid(
                span,
                field,
                format!("a `{}` action has no `{field}`", self.kind),
            )),
            None => Ok(()),
        }
    }

    /// A venue, pool, market or vault id, or a reason: any non-empty text.
    fn name(&self, value: Spanned<String>, field: &str) -> Result<String, SpecError> {
        if value.get_ref().trim().is_empty() {
            return Err(self.invalid(&value.span(), field, "is empty"));
        }
        Ok(value.into_inner())
    }

    fn asset(&self, value: Spanned<String>, field: &str) -> Result<String, SpecError> {
        if !self.assets.decimals.contains_key(value.get_ref()) {
            return Err(self.invalid(&value.span(), field, self.assets.unknown(value.get_ref())));
        }
        Ok(value.into_inner())
    }

    fn range(
        &self,
        value: Spanned<RangeFile>,
        token0: &str,
        token1: &str,
    ) -> Result<RangeSpec, SpecError> {
        let span = value.span();
        match value.into_inner() {
            RangeFile::Price([lower, upper])
                if lower.is_finite() && upper.is_finite() && 0.0 < lower && lower < upper =>
            {
                Ok(RangeSpec::Price { lower, upper })
            }
            RangeFile::Price(_) => Err(self.invalid(
                &span,
                "range.price",
                "two prices of token0 in token1 with 0 < lower < upper",
            )),
            RangeFile::Ticks([lower, upper])
                if -887_272 <= lower && lower < upper && upper <= 887_272 =>
            {
                Ok(RangeSpec::Ticks { lower, upper })
            }
            RangeFile::Ticks(_) => Err(self.invalid(
                &span,
                "range.ticks",
                "two ticks with -887272 <= lower < upper <= 887272",
            )),
            RangeFile::AroundClose(width) if !(width.is_finite() && width > 0.0) => {
                Err(self.invalid(&span, "range.around_close", "must be positive"))
            }
            RangeFile::AroundClose(_)
                if (token0, token1) != (&self.assets.base, &self.assets.quote) =>
            {
                Err(self.invalid(
                    &span,
                    "range.around_close",
                    format!(
                        "the close is the price of {} in {}, so token0 and token1 must be those",
                        self.assets.base, self.assets.quote
                    ),
                ))
            }
            RangeFile::AroundClose(width) => Ok(RangeSpec::AroundClose(width)),
        }
    }

    fn amount(
        &self,
        value: Spanned<Value>,
        field: &str,
        counted: &Counted<'_>,
    ) -> Result<AmountSpec, SpecError> {
        let span = value.span();
        let invalid = |subfield: &str, reason: String| {
            let path = if subfield.is_empty() {
                field.to_owned()
            } else {
                format!("{field}.{subfield}")
            };
            self.invalid(&span, &path, reason)
        };
        match value.into_inner() {
            Value::String(decimal) => {
                let asset = counted.decimals_of;
                let Some(Some(decimals)) = self.assets.decimals.get(asset) else {
                    return Err(invalid(
                        "",
                        format!(
                            "a fixed amount of {asset} needs its decimals: list them in \
                             [assets] ({asset} = {{ decimals = 18 }})"
                        ),
                    ));
                };
                check_decimal(&decimal, *decimals).map_err(|reason| invalid("", reason))?;
                Ok(AmountSpec::Fixed {
                    decimal,
                    decimals: *decimals,
                })
            }
            Value::Table(table) => {
                if let Some(key) = table
                    .keys()
                    .find(|key| !matches!(key.as_str(), "fraction" | "of"))
                {
                    return Err(invalid(
                        key,
                        "unknown field: a fraction is { fraction = 0.5, of = \"ETH\" }".to_owned(),
                    ));
                }
                let fraction = match table.get("fraction") {
                    Some(Value::Float(fraction)) => *fraction,
                    Some(Value::Integer(whole)) => *whole as f64,
                    Some(_) => return Err(invalid("fraction", "a number in (0, 1]".to_owned())),
                    None => return Err(invalid("fraction", "missing".to_owned())),
                };
                if !(fraction > 0.0 && fraction <= 1.0) {
                    return Err(invalid("fraction", "must be in (0, 1]".to_owned()));
                }
                let ppm = (fraction * 1_000_000.0).round() as u32;
                if ppm == 0 {
                    return Err(invalid("fraction", "at least 0.000001".to_owned()));
                }
                let of = match table.get("of") {
                    Some(Value::String(of)) => of,
                    Some(_) => return Err(invalid("of", "an asset or balance name".to_owned())),
                    None => return Err(invalid("of", "missing".to_owned())),
                };
                let of = self
                    .balance(of, counted)
                    .map_err(|reason| invalid("of", reason))?;
                Ok(AmountSpec::Fraction { ppm, of })
            }
            Value::Integer(_) | Value::Float(_) => Err(invalid(
                "",
                "write a fixed amount as a decimal string (\"0.5\"), which is exact".to_owned(),
            )),
            _ => Err(invalid(
                "",
                "a decimal string (\"0.5\") or { fraction = 0.5, of = \"ETH\" }".to_owned(),
            )),
        }
    }

    /// The balance `of` names, for an amount counting `counted`.
    fn balance(&self, of: &str, counted: &Counted<'_>) -> Result<Balance, String> {
        match (of, counted.lending, counted.vault) {
            ("supplied", Some((market, asset)), _) => Ok(Balance::Supplied {
                market: market.to_owned(),
                asset: asset.to_owned(),
            }),
            ("borrowed", Some((market, asset)), _) => Ok(Balance::Borrowed {
                market: market.to_owned(),
                asset: asset.to_owned(),
            }),
            ("supplied" | "borrowed", None, _) => Err(format!(
                "`{of}` is a balance of lending actions (supply, withdraw, borrow, repay)"
            )),
            ("shares", _, Some(vault)) => Ok(Balance::VaultShares(vault.to_owned())),
            ("shares", _, None) => {
                Err("`shares` is the balance of vault_request_redeem".to_owned())
            }
            (asset, _, _) if !self.assets.decimals.contains_key(asset) => {
                Err(self.assets.unknown(asset))
            }
            (asset, _, _) => match counted.asset {
                None => Err("a redemption counts vault shares: use of = \"shares\"".to_owned()),
                Some(counted) if counted != asset => Err(format!(
                    "a fraction of the {asset} balance is not an amount of {counted}"
                )),
                Some(_) => Ok(Balance::Wallet(asset.to_owned())),
            },
        }
    }
}
