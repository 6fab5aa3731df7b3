//! Fixed-point helpers with explicit rounding.
//!
//! `FixedU128`'s own operators round to nearest and panic on overflow; the market needs to know
//! which way each result rounds (so that rationing never exceeds capacity and a price step never
//! crosses the equilibrium) and must never panic. Every helper here works on the inner `u128`
//! (value × 10¹⁸) and saturates at `FixedU128::max_value()`.

use sp_arithmetic::traits::{One, Saturating, Zero};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::Bounded, FixedPointNumber,
	FixedU128, Perbill, Rounding,
};

/// `a · b / c`, rounded as asked; `FixedU128::max_value()` on overflow or when `c` is zero.
pub fn mul_div(a: FixedU128, b: FixedU128, c: FixedU128, rounding: Rounding) -> FixedU128 {
	multiply_by_rational_with_rounding(a.into_inner(), b.into_inner(), c.into_inner(), rounding)
		.map(FixedU128::from_inner)
		.unwrap_or_else(FixedU128::max_value)
}

/// `a · b`, rounded as asked; saturates.
pub fn mul(a: FixedU128, b: FixedU128, rounding: Rounding) -> FixedU128 {
	mul_div(a, b, FixedU128::one(), rounding)
}

/// `a / b`, rounded as asked; saturates (also when `b` is zero).
pub fn div(a: FixedU128, b: FixedU128, rounding: Rounding) -> FixedU128 {
	mul_div(a, FixedU128::one(), b, rounding)
}

/// `|a − b|`.
pub fn abs_diff(a: FixedU128, b: FixedU128) -> FixedU128 {
	if a >= b {
		a.saturating_sub(b)
	} else {
		b.saturating_sub(a)
	}
}

/// `base^exponent` for `base ≥ 1` and an exponent in `[0, 1]`, rounded down, to about one part
/// in 10⁹ (a square root of a value above 340 is exact to nine digits only).
///
/// The exponent's binary digits `a = Σ bᵢ·2⁻ⁱ` pick the factors `base^(2⁻ⁱ)`, each the square
/// root of the one before; forty digits resolve a [`Perbill`] to better than 10⁻¹².
pub fn pow_fraction(base: FixedU128, exponent: Perbill) -> FixedU128 {
	const WHOLE: u64 = 1_000_000_000;
	let mut digits = u64::from(exponent.deconstruct());
	if digits >= WHOLE {
		return base;
	}
	let mut result = FixedU128::one();
	let mut root = base;
	for _ in 0..40 {
		if digits == 0 {
			break;
		}
		root = root.checked_sqrt().unwrap_or_else(FixedU128::one);
		digits = digits.saturating_mul(2);
		if digits >= WHOLE {
			digits = digits.saturating_sub(WHOLE);
			result = mul(result, root, Rounding::Down);
		}
	}
	result
}

/// `ln 2` to 18 decimals (0.693147180559945309…).
const LN_2: FixedU128 = FixedU128::from_inner(693_147_180_559_945_309);

/// `ln(1 + x)` for `x ≥ 0`, to within a few units of 10⁻¹⁸ per unit of the result.
///
/// `1 + x` is written as `2ᵏ · z` with `z ∈ [1, 2)`; then `ln(1 + x) = k·ln 2 + ln z` and
/// `ln z = 2·atanh(t) = 2·(t + t³/3 + t⁵/5 + …)` with `t = (z − 1)/(z + 1) ∈ [0, 1/3)`, a series
/// whose terms shrink ninefold each step.
pub fn ln_1p(x: FixedU128) -> FixedU128 {
	let two = FixedU128::saturating_from_integer(2u32);
	let mut z = FixedU128::one().saturating_add(x);
	let mut halvings: u32 = 0;
	while z >= two {
		z = div(z, two, Rounding::NearestPrefDown);
		halvings = halvings.saturating_add(1);
	}
	let t = div(
		z.saturating_sub(FixedU128::one()),
		z.saturating_add(FixedU128::one()),
		Rounding::NearestPrefDown,
	);
	let t_squared = mul(t, t, Rounding::NearestPrefDown);
	let mut power = t;
	let mut series = FixedU128::zero();
	let mut denominator: u32 = 1;
	while !power.is_zero() {
		series = series.saturating_add(div(
			power,
			FixedU128::saturating_from_integer(denominator),
			Rounding::NearestPrefDown,
		));
		power = mul(power, t_squared, Rounding::NearestPrefDown);
		denominator = denominator.saturating_add(2);
	}
	LN_2.saturating_mul(FixedU128::saturating_from_integer(halvings))
		.saturating_add(series.saturating_mul(two))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::fixed;

	#[test]
	fn fractional_powers_match_floats() {
		for base in [1.0, 1.5, 2.0, 10.0, 1234.5, 4.0e9] {
			for percent in [0u32, 50, 51, 75, 99, 100] {
				let got = pow_fraction(fixed(base), Perbill::from_percent(percent)).to_float();
				let expected = base.powf(f64::from(percent) / 100.0);
				assert!(
					(got - expected).abs() <= expected * 1e-9,
					"{base}^{percent}%: {got} vs {expected}"
				);
			}
		}
	}

	#[test]
	fn rounding_is_explicit() {
		let one = FixedU128::one();
		let three = FixedU128::saturating_from_integer(3u32);
		assert_eq!(div(one, three, Rounding::Down).into_inner(), 333_333_333_333_333_333);
		assert_eq!(div(one, three, Rounding::Up).into_inner(), 333_333_333_333_333_334);
	}

	#[test]
	fn division_by_zero_and_overflow_saturate() {
		assert_eq!(
			div(FixedU128::one(), FixedU128::zero(), Rounding::Down),
			FixedU128::max_value()
		);
		assert_eq!(
			mul(FixedU128::max_value(), FixedU128::saturating_from_integer(2u32), Rounding::Down),
			FixedU128::max_value()
		);
	}

	#[test]
	fn ln_1p_matches_the_float_logarithm() {
		for value in [0.0, 1e-9, 0.25, 0.5, 1.0, 2.0, 9.0, 99.5, 1234.5678, 1e6, 1e9] {
			let expected = (1.0f64 + value).ln();
			let got = ln_1p(fixed(value)).to_float();
			assert!(
				(got - expected).abs() <= 1e-12 * expected.max(1.0),
				"ln(1 + {value}) = {got}, expected {expected}"
			);
		}
	}

	#[test]
	fn ln_1p_of_the_largest_value_does_not_panic() {
		let largest = ln_1p(FixedU128::max_value()).to_float();
		assert!((largest - (FixedU128::max_value().to_float()).ln()).abs() < 1e-6);
	}
}
