//! The simple form: a long-only spot position driven by the SDK's
//! `LongOnly`, entered and exited on two conditions.

use std::fmt::Write;

use super::{Form, condition};
use crate::spec::{LongOnlySpec, Spec};

pub(super) struct LongOnlyForm<'a> {
    pub spec: &'a Spec,
    pub long_only: &'a LongOnlySpec,
}

impl Form for LongOnlyForm<'_> {
    fn doc(&self, out: &mut String) {
        let market = &self.spec.market;
        let _ = writeln!(
            out,
            "//! Long-only on {}: buys {} with {} when the entry condition holds and the\n\
             //! position is flat, sells everything when the exit condition holds and it is\n\
             //! long, at most once per cooldown. The position moves only on fills.",
            market.name, market.base, market.quote
        );
    }

    fn items(&self, out: &mut String) {
        let market = &self.spec.market;
        let position = &self.long_only.position;
        let _ = writeln!(out, "const BASE: &str = {:?};", market.base);
        let _ = writeln!(out, "const QUOTE: &str = {:?};", market.quote);
        let _ = writeln!(out, "const QUOTE_DECIMALS: u8 = {};", market.quote_decimals);
        let _ = writeln!(out, "const COOLDOWN_MS: u64 = {};", position.cooldown_ms);
        let _ = writeln!(
            out,
            "const MAX_SLIPPAGE_BPS: u32 = {};",
            position.max_slippage_bps
        );
        match (&position.order_size, position.order_fraction) {
            (Some(size), _) => {
                let _ = writeln!(
                    out,
                    "/// Quote spent per entry.\nconst ORDER_SIZE: &str = {size:?};"
                );
            }
            (None, Some(fraction)) => {
                let ppm = (fraction * 1_000_000.0).round() as u64;
                let _ = writeln!(
                    out,
                    "/// Share of the quote balance spent per entry, in millionths.\nconst ORDER_PPM: u128 = {ppm};"
                );
            }
            (None, None) => {}
        }
    }

    fn fields(&self, out: &mut String) {
        out.push_str("    position: LongOnly,\n");
    }

    fn init(&self, out: &mut String) {
        out.push_str(
            "            position: LongOnly::new(BASE, QUOTE, COOLDOWN_MS, MAX_SLIPPAGE_BPS),\n",
        );
    }

    fn decide(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "            let entry = {};",
            condition(&self.long_only.entry)
        );
        let _ = writeln!(
            out,
            "            let exit = {};",
            condition(&self.long_only.exit)
        );
        out.push_str("            let attempt = if entry {\n");
        if self.long_only.position.order_size.is_some() {
            out.push_str(
                "                let spend = TokenAmount::parse(ORDER_SIZE, QUOTE_DECIMALS)?;\n\
                 \x20               self.position.enter(ctx, now_ms, spend.into())\n",
            );
        } else {
            out.push_str(
                "                let _ = QUOTE_DECIMALS;\n\
                 \x20               let balance = ctx.balance(QUOTE).map_err(|e| format!(\"balance: {e:?}\"))?;\n\
                 \x20               let spend = balance.to_u128() / 1_000_000 * ORDER_PPM\n\
                 \x20                   + balance.to_u128() % 1_000_000 * ORDER_PPM / 1_000_000;\n\
                 \x20               self.position.enter(ctx, now_ms, spend.into())\n",
            );
        }
        out.push_str(
            "            } else if exit {\n\
             \x20               self.position.exit(ctx, now_ms)\n\
             \x20           } else {\n\
             \x20               Attempt::Skipped\n\
             \x20           };\n\
             \x20           match attempt {\n\
             \x20               Attempt::Skipped => {}\n\
             \x20               Attempt::Accepted(id) => {\n\
             \x20                   ctx.info(&format!(\"action {id} ({:?})\", self.position.stage()));\n\
             \x20               }\n\
             \x20               Attempt::Rejected(Rejection::Denied(d) | Rejection::Invalid(d)) => {\n\
             \x20                   ctx.warn(&format!(\"rejected: {}\", d.detail));\n\
             \x20               }\n\
             \x20           }\n",
        );
    }

    fn on_action_result(&self, out: &mut String) {
        out.push_str(
            "        let now_ms = ctx.block().timestamp_ms;\n\
             \x20       self.position.on_result(id, outcome, now_ms);\n\
             \x20       Ok(())\n",
        );
    }

    fn helpers(&self, _out: &mut String) {}
}
