//! Amounts and prices as people read them: the one rule every form of a
//! report (the trade summaries, the terminal table, the HTML page and its
//! chart axes) formats numbers with.

/// Significant digits an amount is shown with (`1.02346`, `0.0994766`,
/// `12,345.7`): finer than any fee or price move a report is read for,
/// coarse enough that an 18-decimal token's dust and floating-point noise
/// do not show.
pub const AMOUNT_SIGNIFICANT_DIGITS: i32 = 6;

/// Most decimals an amount is shown with: a satoshi's.
pub const MAX_AMOUNT_DECIMALS: usize = 8;

/// Decimals [`format_amount`] shows `value` with: enough for
/// [`AMOUNT_SIGNIFICANT_DIGITS`] significant digits, none beyond the
/// integer part for large values, at most [`MAX_AMOUNT_DECIMALS`].
pub fn amount_decimals(value: f64) -> usize {
    if !value.is_finite() || value == 0.0 {
        return 0;
    }
    // Digits before the decimal point; zero or negative below 1 (0.05: -1).
    let magnitude = value.abs().log10().floor() as i32 + 1;
    (AMOUNT_SIGNIFICANT_DIGITS - magnitude).clamp(0, MAX_AMOUNT_DECIMALS as i32) as usize
}

/// `value` rounded to [`amount_decimals`], trailing zeros left out, the
/// integer part grouped by thousands: `1,234,567.9`, `0.0994766`, `-12.5`,
/// `0`. A value too small to show at [`MAX_AMOUNT_DECIMALS`] (dust) is
/// written in scientific notation (`3.1e-11`) rather than as a zero.
pub fn format_amount(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = amount_decimals(value);
    let fixed = format!("{:.decimals$}", value.abs());
    let trimmed = if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.')
    } else {
        &fixed
    };
    if trimmed == "0" {
        return if value == 0.0 {
            "0".to_owned()
        } else {
            format!("{value:.1e}")
        };
    }
    let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, ""));
    let mut out = String::with_capacity(trimmed.len() + whole.len() / 3 + 1);
    if value < 0.0 {
        out.push('-');
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// [`format_amount`] with its sign always shown (`+0.0123`, `-4.5`, `0`):
/// for profits and losses.
pub fn format_signed_amount(value: f64) -> String {
    let text = format_amount(value);
    if value > 0.0 && !text.starts_with('-') {
        format!("+{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_six_significant_digits_at_most_eight_decimals() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (20.0, "20"),
            (0.5, "0.5"),
            (0.099_476_6, "0.0994766"),
            (0.099_469_990_000_000_01, "0.09947"),
            (1.023_456_789, "1.02346"),
            (12_345.678, "12,345.7"),
            (1_234_567.891, "1,234,568"),
            (999.5, "999.5"),
            (123_456.0, "123,456"),
            (-0.000_123_456_7, "-0.00012346"),
            (0.000_000_01, "0.00000001"),
            (0.523_456_789_012_345_6, "0.523457"),
            (-1_000.0, "-1,000"),
            (3.1e-11, "3.1e-11"),
        ];
        for (value, text) in cases {
            assert_eq!(format_amount(value), text, "{value}");
        }
        assert_eq!(format_amount(f64::NAN), "NaN");
        assert_eq!(format_amount(f64::INFINITY), "inf");
    }

    #[test]
    fn signed_amounts_show_their_sign() {
        assert_eq!(format_signed_amount(0.012_3), "+0.0123");
        assert_eq!(format_signed_amount(-4.5), "-4.5");
        assert_eq!(format_signed_amount(0.0), "0");
        assert_eq!(format_signed_amount(1_500.0), "+1,500");
    }

    #[test]
    fn decimals_follow_the_magnitude() {
        assert_eq!(amount_decimals(0.0994), 7);
        assert_eq!(amount_decimals(1.0), 5);
        assert_eq!(amount_decimals(150_000.0), 0);
        assert_eq!(amount_decimals(1e-12), MAX_AMOUNT_DECIMALS);
        assert_eq!(amount_decimals(0.0), 0);
    }
}
