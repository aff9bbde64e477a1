//! What the differential tests (`erc4626.rs`, `aave.rs`) share: a seeded
//! generator of operations and their environment knobs.

/// A number from the environment variable `name` (decimal or `0x` hex).
pub fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={value}: {e}")))
}

/// splitmix64: a seeded, dependency-free generator.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (`n > 0`; the modulo bias does not matter).
    pub fn below(&mut self, n: u128) -> u128 {
        ((u128::from(self.next()) << 64) | u128::from(self.next())) % n
    }

    /// True `p` percent of the time.
    pub fn percent(&mut self, p: u128) -> bool {
        self.below(100) < p
    }

    /// Uniform-ish in `0..n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u128) as usize
    }

    /// An amount of `0..=max_digits` digits, each digit count equally
    /// likely: 1 wei to `10^(max_digits + 1) - 1`.
    pub fn amount(&mut self, max_digits: u32) -> u128 {
        let low = 10u128.pow(self.below(u128::from(max_digits) + 1) as u32);
        low + self.below(9 * low)
    }

    /// An amount in `1..=max` (`max > 0`), spread over its digit counts.
    pub fn up_to(&mut self, max: u128) -> u128 {
        let value = self.amount(max.ilog10());
        if value <= max {
            value
        } else {
            1 + self.below(max)
        }
    }
}
