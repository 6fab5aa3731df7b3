//! The liquidation queue's keys and buckets.
//!
//! A position with debt shares `s` and collateral `c` (smallest units) is liquidatable when
//! `value(debt) > value(c)·threshold`. Its debt is `s·B/S` (the market's total borrows `B` over
//! its debt shares `S`), so the condition reads
//!
//! ```text
//! s / c  >  K* = P_c·threshold·u_l·S / (P_l·u_c·B)
//! ```
//!
//! with `P` the oracle prices and `u = 10^decimals`. The left side — the position's **key**,
//! its debt shares per unit of collateral — depends on the position alone: interest raises `B`
//! and a price move changes `P`, for every position alike, and both only move the market-wide
//! threshold `K*`. So a position is filed once, when its own shares or collateral change, and
//! after any price move or accrual the liquidatable positions are exactly those whose key
//! exceeds `K*`: the highest keys, found without looking at the others.
//!
//! Keys are filed in [`BUCKETS`] logarithmic buckets: a bucket is an exponent of two and the
//! next six bits of the mantissa ([`bucket_of_ratio`]), so a bucket spans a factor of at most
//! `1 + 1/64` (1.6 %) and bucket order is key order. The exponents run from `2^-128` to `2^127`:
//! every ratio of two `u128` has a bucket of its own, whatever the assets' decimals and prices.
//! Everything in a bucket two or more above the threshold's bucket
//! ([`first_liquidatable_bucket`]) is liquidatable with a margin of at least one bucket's width,
//! which no rounding of the exact health test, nor of the threshold (computed to 60 bits,
//! [`threshold_bucket`]), can undo.

use crate::{Priced, RiskParams};
use sp_arithmetic::{helpers_128bit::multiply_by_rational_with_rounding, Rounding};

/// How many buckets there are: 256 exponents (`2^-128` to `2^127`) of 64 mantissa steps each.
pub const BUCKETS: u16 = 16_384;

/// How many 64-bit words the occupancy bitmap has: one bit a bucket.
pub const WORDS: u16 = BUCKETS / 64;

/// The lowest exponent filed apart; smaller ratios share the lowest bucket.
const MIN_EXPONENT: i32 = -128;
/// The highest exponent filed apart; larger ratios share the highest bucket.
const MAX_EXPONENT: i32 = 127;

/// The position of the most significant bit of a non-zero `x`.
fn msb(x: u128) -> i32 {
	127i32.saturating_sub(x.leading_zeros() as i32)
}

/// The bucket of the ratio `numerator / denominator`, exactly (no rounding beyond the
/// bucket's own): the exponent `e = ⌊log₂ r⌋` and the six bits after the leading one. The
/// largest bucket for a zero denominator, the smallest for a zero numerator; ratios outside
/// `[2^-64, 2^64)` share the end buckets. Monotone: a larger ratio never has a smaller bucket.
pub fn bucket_of_ratio(numerator: u128, denominator: u128) -> u16 {
	if denominator == 0 {
		return BUCKETS.saturating_sub(1);
	}
	if numerator == 0 {
		return 0;
	}
	let (n_msb, d_msb) = (msb(numerator), msb(denominator));
	// Both normalized to a leading one at bit 127 (a shift of 0 to 127): their ratio is in
	// (1/2, 2).
	let normalized =
		|x: u128, top: i32| x.checked_shl(127i32.saturating_sub(top) as u32).unwrap_or(x);
	let (n, d) = (normalized(numerator, n_msb), normalized(denominator, d_msb));
	// ⌊128·n/d⌋ is in [64, 256): eight bits of the ratio, floored exactly.
	let eight = multiply_by_rational_with_rounding(n, 128, d, Rounding::Down).unwrap_or(255);
	let (exponent, mantissa) = if eight >= 128 {
		(n_msb.saturating_sub(d_msb), (eight >> 1).saturating_sub(64))
	} else {
		(n_msb.saturating_sub(d_msb).saturating_sub(1), eight.saturating_sub(64))
	};
	bucket_at_exponent(exponent, mantissa as u32)
}

/// The bucket of exponent `exponent` and six-bit mantissa `mantissa`, clamped to the range.
fn bucket_at_exponent(exponent: i32, mantissa: u32) -> u16 {
	if exponent < MIN_EXPONENT {
		return 0;
	}
	if exponent > MAX_EXPONENT {
		return BUCKETS.saturating_sub(1);
	}
	let row = exponent.saturating_sub(MIN_EXPONENT) as u32;
	// row < 256 and mantissa < 64: the bucket is below 16 384.
	u16::try_from(row.saturating_mul(64).saturating_add(mantissa & 63))
		.unwrap_or(BUCKETS.saturating_sub(1))
}

/// A positive number `mantissa·2^exponent` with a 64-bit mantissa (its bit 63 set), for
/// products and quotients of `u128` factors that would overflow: each operation is exact to
/// `2^-62` relative, far inside a bucket.
#[derive(Clone, Copy, Debug)]
struct Wide {
	mantissa: u128,
	exponent: i32,
}

impl Wide {
	/// `x`, or `None` for zero.
	fn new(x: u128) -> Option<Self> {
		if x == 0 {
			return None;
		}
		let top = msb(x);
		let mantissa = if top >= 63 {
			x.checked_shr(top.saturating_sub(63) as u32).unwrap_or(0)
		} else {
			x.checked_shl(63i32.saturating_sub(top) as u32).unwrap_or(0)
		};
		Some(Self { mantissa, exponent: top.saturating_sub(63) })
	}

	/// Brings the mantissa back to 64 bits (its bit 63 set).
	fn normalized(mut self) -> Self {
		let top = msb(self.mantissa);
		if top > 63 {
			let shift = top.saturating_sub(63) as u32;
			self.mantissa = self.mantissa.checked_shr(shift).unwrap_or(0);
			self.exponent = self.exponent.saturating_add(shift as i32);
		}
		self
	}

	fn mul(self, other: Self) -> Self {
		// Both mantissas are below 2^64: the product fits.
		Self {
			mantissa: self.mantissa.saturating_mul(other.mantissa),
			exponent: self.exponent.saturating_add(other.exponent),
		}
		.normalized()
	}

	fn div(self, other: Self) -> Self {
		// (m₁·2^63)/m₂ is in (2^62, 2^64): 63 or 64 bits.
		let mantissa =
			self.mantissa.checked_shl(63).unwrap_or(0).checked_div(other.mantissa).unwrap_or(0);
		Self { mantissa, exponent: self.exponent.saturating_sub(other.exponent).saturating_sub(63) }
			.normalized()
	}

	/// `10^power`.
	fn power_of_ten(power: u8) -> Self {
		let ten = Self::new(10).unwrap_or(Self { mantissa: 1 << 63, exponent: -60 });
		let mut result = Self { mantissa: 1 << 63, exponent: -63 };
		for _ in 0..power {
			result = result.mul(ten);
		}
		result
	}

	/// The bucket of this value.
	fn bucket(self) -> u16 {
		let top = msb(self.mantissa);
		let exponent = self.exponent.saturating_add(top);
		// The six bits after the leading one.
		let mantissa = self.mantissa.checked_shr(top.saturating_sub(6) as u32).unwrap_or(0) as u32;
		bucket_at_exponent(exponent, mantissa)
	}
}

/// The bucket a position is filed in: that of its debt shares per unit of collateral. `None`
/// without debt (nothing to liquidate); the highest bucket without collateral.
pub fn position_bucket(borrow_shares: u128, collateral: u128) -> Option<u16> {
	(borrow_shares > 0).then(|| bucket_of_ratio(borrow_shares, collateral))
}

/// The bucket of the market-wide threshold
/// `K* = P_c·threshold·u_l·S / (P_l·u_c·B)`, computed in [`Wide`] numbers (no overflow, no
/// loss of precision for any decimals or prices). `None` when the market has no debt shares;
/// the lowest bucket for a worthless collateral, the highest for a worthless loan asset or no
/// borrows.
pub fn threshold_bucket(
	collateral_asset: Priced,
	debt_asset: Priced,
	total_borrows: u128,
	borrow_shares: u128,
	params: &RiskParams,
) -> Option<u16> {
	let shares = Wide::new(borrow_shares)?;
	let top = BUCKETS.saturating_sub(1);
	let (Some(loan_price), Some(borrows)) =
		(Wide::new(debt_asset.price.into_inner()), Wide::new(total_borrows))
	else {
		return Some(top);
	};
	let (Some(collateral_price), Some(threshold)) = (
		Wide::new(collateral_asset.price.into_inner()),
		Wide::new(u128::from(params.liquidation_threshold.deconstruct())),
	) else {
		return Some(0);
	};
	let billion = Wide::new(1_000_000_000).unwrap_or(threshold);
	let numerator =
		collateral_price.mul(threshold).mul(Wide::power_of_ten(debt_asset.decimals)).mul(shares);
	let denominator =
		loan_price.mul(billion).mul(Wide::power_of_ten(collateral_asset.decimals)).mul(borrows);
	Some(numerator.div(denominator).bucket())
}

/// The lowest bucket whose positions are all liquidatable: two above the threshold's. `None`
/// when no bucket is (the threshold is in one of the two highest, or the market has no debt).
pub fn first_liquidatable_bucket(threshold: Option<u16>) -> Option<u16> {
	threshold.and_then(|bucket| bucket.checked_add(2)).filter(|bucket| *bucket < BUCKETS)
}

/// Where a bucket's bit lives in the occupancy bitmap: its word (of 64 bits) and its bit.
pub fn bucket_bit(bucket: u16) -> (u8, u64) {
	let word = u8::try_from(bucket >> 6).unwrap_or(u8::MAX);
	(word, 1u64 << (bucket & 63))
}

/// Where a word's bit lives in the two-word summary of non-zero words: its half and its bit.
pub fn word_bit(word: u8) -> (usize, u128) {
	(usize::from(word >> 7), 1u128 << (word & 127))
}

/// The highest non-zero word of a two-word summary.
pub fn highest_word(summary: [u128; 2]) -> Option<u8> {
	match (highest_bit(summary[1]), highest_bit(summary[0])) {
		(Some(bit), _) => Some(bit | 128),
		(None, bit) => bit,
	}
}

/// The highest set bit of a non-zero 128-bit half-summary or 64-bit word.
pub fn highest_bit(bits: u128) -> Option<u8> {
	(bits != 0).then(|| u8::try_from(msb(bits)).unwrap_or(u8::MAX))
}

/// The bucket at `bit` of `word`.
pub fn bucket_at(word: u8, bit: u8) -> u16 {
	(u16::from(word) << 6) | u16::from(bit & 63)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use crate::{debt_of, health, is_liquidatable, to_debt_shares};
	use proptest::prelude::*;
	use sp_arithmetic::FixedU128;
	use sp_arithmetic::{traits::One, FixedPointNumber, Perbill};

	fn params() -> RiskParams {
		RiskParams {
			collateral_factor: Perbill::from_percent(75),
			liquidation_threshold: Perbill::from_percent(80),
			liquidation_bonus: Perbill::from_percent(5),
			close_factor: Perbill::from_percent(50),
			full_close_health: FixedU128::saturating_from_rational(95u32, 100u32),
			dust_value: FixedU128::saturating_from_integer(1u32),
		}
	}

	#[test]
	fn buckets_of_known_ratios() {
		// 1 = 2^0, mantissa 0: row 128.
		assert_eq!(bucket_of_ratio(7, 7), 128 * 64);
		// 1.5 = 2^0·1.5: mantissa 32.
		assert_eq!(bucket_of_ratio(3, 2), 128 * 64 + 32);
		// 0.75 = 2^-1·1.5.
		assert_eq!(bucket_of_ratio(3, 4), 127 * 64 + 32);
		// Every ratio of two u128 has its own bucket: the extremes are the end rows.
		assert_eq!(bucket_of_ratio(u128::MAX, 1), BUCKETS - 1);
		assert_eq!(bucket_of_ratio(1, u128::MAX), 0);
		assert_eq!(bucket_of_ratio(1, 1 << 127), 64);
		assert_eq!(bucket_of_ratio(1 << 127, 1), 255 * 64);
		assert_eq!(bucket_of_ratio(5, 0), BUCKETS - 1);
		assert_eq!(bucket_of_ratio(0, 5), 0);
		assert_eq!(position_bucket(0, 5), None);
		assert_eq!(first_liquidatable_bucket(Some(BUCKETS - 2)), None);
		assert_eq!(first_liquidatable_bucket(Some(10)), Some(12));
	}

	#[test]
	fn the_bitmap_addresses_every_bucket() {
		for bucket in [0u16, 63, 64, 4095, 8191, 8192, BUCKETS - 1] {
			let (word, bit) = bucket_bit(bucket);
			assert_eq!(bucket_at(word, highest_bit(bit as u128).unwrap()), bucket);
			let (half, word_bit) = word_bit(word);
			let mut summary = [0u128; 2];
			summary[half] |= word_bit;
			assert_eq!(highest_word(summary), Some(word));
		}
		assert_eq!(highest_word([0, 0]), None);
		assert_eq!(highest_word([1, 1]), Some(128));
		assert_eq!(highest_bit(0), None);
		assert_eq!(highest_bit(1 << 127), Some(127));
	}

	/// The review's case: WBTC (8 decimals, 100 000) lent against… and DAI (18 decimals) lent
	/// against WBTC: thresholds far outside 2^±64 still have their own buckets, and the queue
	/// still finds the unhealthy positions.
	#[test]
	fn extreme_decimals_and_prices_keep_a_threshold() {
		let p = params();
		let wbtc = Priced { price: FixedU128::saturating_from_integer(100_000u32), decimals: 8 };
		let dai = Priced { price: FixedU128::one(), decimals: 18 };
		for (collateral, loan) in [(wbtc, dai), (dai, wbtc)] {
			let (borrows, shares) = (1_000_000u128, 1_000_000_000_000u128);
			let first =
				first_liquidatable_bucket(threshold_bucket(collateral, loan, borrows, shares, &p));
			assert!(first.is_some());
			// A position at 90 % of its collateral's value is filed above it, one at 50 % below.
			let c = 10u128.pow(u32::from(collateral.decimals));
			let owed = |share: u128| {
				loan.amount(
					collateral.value(c, Rounding::Down)
						* FixedU128::saturating_from_rational(share, 100u128),
					Rounding::Down,
				)
			};
			let filed = |debt: u128| {
				position_bucket(to_debt_shares(debt, borrows, shares, Rounding::Up).unwrap(), c)
					.unwrap()
			};
			assert!(filed(owed(90)) >= first.unwrap());
			assert!(filed(owed(50)) < first.unwrap());
		}
	}

	proptest! {
		/// Buckets are monotone in the ratio, and a bucket spans at most a factor 1 + 1/64.
		#[test]
		fn buckets_are_ordered_and_narrow(
			a in 1u128..u128::MAX, b in 1u128..u128::MAX, c in 1u128..u128::MAX,
		) {
			// a/b against c/b: the larger numerator never has the smaller bucket.
			let (low, high) = if a <= c { (a, c) } else { (c, a) };
			prop_assert!(bucket_of_ratio(low, b) <= bucket_of_ratio(high, b));
			// Two ratios in one (inner) bucket differ by less than 1/64 of the smaller.
			let bucket = bucket_of_ratio(a, b);
			if bucket > 0 && bucket < BUCKETS - 1 && bucket_of_ratio(c, b) == bucket {
				let (x, y) = (low as f64 / b as f64, high as f64 / b as f64);
				prop_assert!(y / x < 1.0 + 1.0 / 64.0 + 1e-12);
			}
		}

		/// Every position filed in the first liquidatable bucket or above is liquidatable by
		/// the exact health test, and every position that is liquidatable with a margin of 4 %
		/// is filed there: the queue finds all, and only, the unhealthy positions.
		#[test]
		fn the_queue_agrees_with_health(
			collateral in 1_000u128..=1_000_000_000_000_000,
			debt in 1_000u128..=1_000_000_000_000,
			price in 1u64..=10_000_000,
			accrued in 0u128..=1_000_000_000,
		) {
			let p = params();
			let c = Priced { price: FixedU128::saturating_from_rational(price, 1_000u64), decimals: 12 };
			let stable = Priced { price: FixedU128::one(), decimals: 6 };
			// A market whose debt per share grew by interest: 2·10^12 shares owe 2·10^6 + accrued.
			let (total_shares, total_borrows) = (2_000_000_000_000u128, 2_000_000 + accrued);
			let shares = to_debt_shares(debt, total_borrows, total_shares, Rounding::Up).unwrap();
			let owed = debt_of(shares, total_borrows, total_shares, Rounding::Up).unwrap();
			let h = health(collateral, c, owed, stable, &p);
			let first = first_liquidatable_bucket(
				threshold_bucket(c, stable, total_borrows, total_shares, &p),
			);
			let filed = position_bucket(shares, collateral).unwrap();
			if first.is_some_and(|first| filed >= first) {
				prop_assert!(is_liquidatable(h));
			}
			if h.is_some_and(|h| h < FixedU128::saturating_from_rational(96u32, 100u32)) {
				prop_assert!(first.is_some_and(|first| filed >= first));
			}
		}
	}
}
