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
//! `1 + 1/64` (1.6 %) and bucket order is key order. Everything in a bucket two or more above
//! the threshold's bucket ([`first_liquidatable_bucket`]) is liquidatable with a margin of at
//! least one bucket's width, which no rounding of the exact health test can undo.

use crate::{shares::to_debt_shares, Priced, RiskParams};
use contract_equilibrium_primitives::fixed::mul;
use sp_arithmetic::{helpers_128bit::multiply_by_rational_with_rounding, FixedU128, Rounding};

/// How many buckets there are: 128 exponents (`2^-64` to `2^63`) of 64 mantissa steps each.
pub const BUCKETS: u16 = 8192;

/// The lowest exponent filed apart; smaller keys share the lowest bucket.
const MIN_EXPONENT: i32 = -64;
/// The highest exponent filed apart; larger keys share the highest bucket.
const MAX_EXPONENT: i32 = 63;

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
	if exponent < MIN_EXPONENT {
		return 0;
	}
	if exponent > MAX_EXPONENT {
		return BUCKETS.saturating_sub(1);
	}
	let row = exponent.saturating_sub(MIN_EXPONENT) as u32;
	// row < 128 and mantissa < 64: the bucket is below 8192.
	u16::try_from(row.saturating_mul(64).saturating_add(mantissa as u32))
		.unwrap_or(BUCKETS.saturating_sub(1))
}

/// The bucket a position is filed in: that of its debt shares per unit of collateral. `None`
/// without debt (nothing to liquidate); the highest bucket without collateral.
pub fn position_bucket(borrow_shares: u128, collateral: u128) -> Option<u16> {
	(borrow_shares > 0).then(|| bucket_of_ratio(borrow_shares, collateral))
}

/// The bucket of the market-wide threshold `K*`: the debt shares that a reference amount of
/// collateral (a million whole units) may carry at the liquidation threshold, per unit of that
/// collateral. `None` when the market has no debt.
pub fn threshold_bucket(
	collateral_asset: Priced,
	debt_asset: Priced,
	total_borrows: u128,
	borrow_shares: u128,
	params: &RiskParams,
) -> Option<u16> {
	if borrow_shares == 0 {
		return None;
	}
	let reference =
		10u128.saturating_pow(u32::from(collateral_asset.decimals)).saturating_mul(1_000_000);
	let covered = mul(
		collateral_asset.value(reference, Rounding::Down),
		FixedU128::from_perbill(params.liquidation_threshold),
		Rounding::Down,
	);
	let debt = debt_asset.amount(covered, Rounding::Down);
	let shares =
		to_debt_shares(debt, total_borrows, borrow_shares, Rounding::Down).unwrap_or(u128::MAX);
	Some(bucket_of_ratio(shares, reference))
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

/// The highest set bit of a non-zero 128-bit summary (a word index) or 64-bit word.
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
	use crate::{debt_of, health, is_liquidatable};
	use proptest::prelude::*;
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
		// 1 = 2^0, mantissa 0: row 64.
		assert_eq!(bucket_of_ratio(7, 7), 64 * 64);
		// 1.5 = 2^0·1.5: mantissa 32.
		assert_eq!(bucket_of_ratio(3, 2), 64 * 64 + 32);
		// 0.75 = 2^-1·1.5.
		assert_eq!(bucket_of_ratio(3, 4), 63 * 64 + 32);
		// 2^63·1.999… and beyond share the top; tiny ratios the bottom.
		assert_eq!(bucket_of_ratio(u128::MAX, 1), BUCKETS - 1);
		assert_eq!(bucket_of_ratio(1, u128::MAX), 0);
		assert_eq!(bucket_of_ratio(5, 0), BUCKETS - 1);
		assert_eq!(bucket_of_ratio(0, 5), 0);
		assert_eq!(position_bucket(0, 5), None);
		assert_eq!(first_liquidatable_bucket(Some(BUCKETS - 2)), None);
		assert_eq!(first_liquidatable_bucket(Some(10)), Some(12));
	}

	#[test]
	fn the_bitmap_addresses_every_bucket() {
		for bucket in [0u16, 63, 64, 4095, BUCKETS - 1] {
			let (word, bit) = bucket_bit(bucket);
			assert_eq!(bucket_at(word, highest_bit(bit as u128).unwrap()), bucket);
		}
		assert_eq!(highest_bit(0), None);
		assert_eq!(highest_bit(1 << 127), Some(127));
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
