//! Conversions between ticks and Q64.96 square-root prices.

use alloy_primitives::U256;

use crate::VenueError;

/// Lowest tick: price 1.0001^-887272 ~ 2^-128.
pub const MIN_TICK: i32 = -887_272;
/// Highest tick.
pub const MAX_TICK: i32 = 887_272;

/// Square-root price at [`MIN_TICK`].
pub fn min_sqrt_ratio() -> U256 {
    U256::from(4_295_128_739u64)
}

/// Square-root price at [`MAX_TICK`].
pub fn max_sqrt_ratio() -> U256 {
    // 1461446703485210103287273052203988822378723970342
    U256::from_limbs([0x5d95_1d52_6398_8d26, 0xefd1_fc6a_5064_8849, 0xfffd_8963, 0])
}

/// `round(2^128 * 1.0001^(-2^i / 2))` for i = 0..19: the factor by which the
/// square-root price shrinks when bit i of |tick| is set. Computed with
/// 120-digit decimal arithmetic; they reproduce the protocol's published
/// MIN/MAX square-root ratios exactly (tested).
const FACTORS: [u128; 20] = [
    0xfffcb933bd6fad37aa2d162d1a594001,
    0xfff97272373d413259a46990580e213a,
    0xfff2e50f5f656932ef12357cf3c7fdcc,
    0xffe5caca7e10e4e61c3624eaa0941cd0,
    0xffcb9843d60f6159c9db58835c926644,
    0xff973b41fa98c081472e6896dfb254c0,
    0xff2ea16466c96a3843ec78b326b52861,
    0xfe5dee046a99a2a811c461f1969c3053,
    0xfcbe86c7900a88aedcffc83b479aa3a4,
    0xf987a7253ac413176f2b074cf7815e54,
    0xf3392b0822b70005940c7a398e4b70f3,
    0xe7159475a2c29b7443b29c7fa6e889d9,
    0xd097f3bdfd2022b8845ad8f792aa5825,
    0xa9f746462d870fdf8a65dc1f90e061e5,
    0x70d869a156d2a1b890bb3df62baf32f7,
    0x31be135f97d08fd981231505542fcfa6,
    0x9aa508b5b7a84e1c677de54f3e99bc9,
    0x5d6af8dedb81196699c329225ee604,
    0x2216e584f5fa1ea926041bedfe98,
    0x48a170391f7dc42444e8fa2,
];

/// `sqrt(1.0001^tick) * 2^96`, rounded up to the next Q64.96 value.
pub fn sqrt_ratio_at_tick(tick: i32) -> Result<U256, VenueError> {
    if !(MIN_TICK..=MAX_TICK).contains(&tick) {
        return Err(VenueError::InvalidRange {
            detail: format!("tick {tick} outside [{MIN_TICK}, {MAX_TICK}]"),
        });
    }
    let magnitude = tick.unsigned_abs();
    let mut ratio = if magnitude & 1 != 0 {
        U256::from(FACTORS[0])
    } else {
        U256::from(1u8) << 128
    };
    for (bit, factor) in FACTORS.iter().enumerate().skip(1) {
        if magnitude & (1 << bit) != 0 {
            ratio = (ratio * U256::from(*factor)) >> 128;
        }
    }
    if tick > 0 {
        ratio = U256::MAX / ratio;
    }
    // Q128.128 to Q64.96, rounding up so that the result is never below the
    // true ratio.
    let remainder = ratio & U256::from(u32::MAX);
    Ok((ratio >> 32) + U256::from(u8::from(!remainder.is_zero())))
}

/// The greatest tick whose square-root price is at most `sqrt_price_x96`.
pub fn tick_at_sqrt_ratio(sqrt_price_x96: U256) -> Result<i32, VenueError> {
    if sqrt_price_x96 < min_sqrt_ratio() || sqrt_price_x96 >= max_sqrt_ratio() {
        return Err(VenueError::InvalidRange {
            detail: format!("sqrt price {sqrt_price_x96} outside the tick range"),
        });
    }
    // The ratio is monotonic in the tick: binary search, ~21 steps.
    let (mut low, mut high) = (MIN_TICK, MAX_TICK);
    while low < high {
        let middle = low + (high - low + 1) / 2;
        if sqrt_ratio_at_tick(middle)? <= sqrt_price_x96 {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    Ok(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_match_the_protocol_constants() {
        assert_eq!(sqrt_ratio_at_tick(MIN_TICK).unwrap(), min_sqrt_ratio());
        assert_eq!(sqrt_ratio_at_tick(MAX_TICK).unwrap(), max_sqrt_ratio());
        assert_eq!(
            max_sqrt_ratio().to_string(),
            "1461446703485210103287273052203988822378723970342"
        );
        assert_eq!(sqrt_ratio_at_tick(0).unwrap(), U256::from(1u8) << 96);
        assert!(sqrt_ratio_at_tick(MAX_TICK + 1).is_err());
    }

    #[test]
    fn tick_and_ratio_invert_each_other() {
        for tick in [
            MIN_TICK,
            -200_000,
            -60,
            -1,
            0,
            1,
            59,
            60,
            12_345,
            200_000,
            MAX_TICK - 1,
        ] {
            let ratio = sqrt_ratio_at_tick(tick).unwrap();
            assert_eq!(tick_at_sqrt_ratio(ratio).unwrap(), tick, "tick {tick}");
            if tick > MIN_TICK {
                assert_eq!(
                    tick_at_sqrt_ratio(ratio - U256::from(1u8)).unwrap(),
                    tick - 1
                );
            }
        }
    }

    #[test]
    fn ratio_tracks_the_real_price() {
        // 1.0001^(6932/2) ~ sqrt(2): tick 6932 is price ~2.
        let ratio = sqrt_ratio_at_tick(6_932).unwrap();
        let price = (f64::from(ratio) / 2f64.powi(96)).powi(2);
        assert!((price - 1.0001f64.powi(6_932)).abs() < 1e-9, "{price}");
    }
}
