//! Full-precision multiply-divide on 256-bit integers.

use alloy_primitives::{U256, U512};

use crate::VenueError;

/// `floor(a * b / denominator)` without intermediate overflow; `None` if the
/// denominator is zero or the result does not fit in 256 bits.
pub fn mul_div(a: U256, b: U256, denominator: U256) -> Option<U256> {
    if denominator.is_zero() {
        return None;
    }
    let product = U512::from(a) * U512::from(b);
    let quotient = product / U512::from(denominator);
    narrow(quotient)
}

/// `ceil(a * b / denominator)`, as [`mul_div`].
pub fn mul_div_rounding_up(a: U256, b: U256, denominator: U256) -> Option<U256> {
    if denominator.is_zero() {
        return None;
    }
    let product = U512::from(a) * U512::from(b);
    let denominator = U512::from(denominator);
    let quotient = product / denominator;
    let rounded = if (product % denominator).is_zero() {
        quotient
    } else {
        quotient + U512::from(1u8)
    };
    narrow(rounded)
}

/// The value as 256 bits, if it fits.
pub(crate) fn narrow(value: U512) -> Option<U256> {
    let limbs = value.as_limbs();
    if limbs[4..].iter().any(|limb| *limb != 0) {
        return None;
    }
    Some(U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
}

/// `ceil(a / b)` for `b > 0`.
pub(crate) fn div_rounding_up(a: U256, b: U256) -> U256 {
    let quotient = a / b;
    if (a % b).is_zero() {
        quotient
    } else {
        quotient + U256::from(1u8)
    }
}

/// Narrow to `u128`, naming the computation on overflow.
pub(crate) fn to_u128(value: U256, what: &'static str) -> Result<u128, VenueError> {
    u128::try_from(value).map_err(|_| VenueError::Overflow { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_survives_512_bit_intermediates() {
        let max = U256::MAX;
        assert_eq!(mul_div(max, max, max), Some(max));
        assert_eq!(
            mul_div(U256::from(7u8), U256::from(3u8), U256::from(2u8)),
            Some(U256::from(10u8))
        );
        assert_eq!(
            mul_div_rounding_up(U256::from(7u8), U256::from(3u8), U256::from(2u8)),
            Some(U256::from(11u8))
        );
        assert_eq!(mul_div(U256::from(1u8), U256::from(1u8), U256::ZERO), None);
        assert_eq!(
            mul_div(max, max, U256::from(1u8)),
            None,
            "overflows 256 bits"
        );
        assert_eq!(
            div_rounding_up(U256::from(10u8), U256::from(5u8)),
            U256::from(2u8)
        );
        assert_eq!(
            div_rounding_up(U256::from(11u8), U256::from(5u8)),
            U256::from(3u8)
        );
    }
}
