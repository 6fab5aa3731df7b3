//! Checked fixed-point helpers with explicit rounding.
//!
//! `FixedU128`'s operators round to nearest and panic on overflow; the contract must know which
//! way each result rounds and must never panic. Every helper works on the inner `u128` (value ×
//! 10¹⁸) and returns `None` on overflow or division by zero.

use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::One, FixedI128, FixedU128, Rounding,
};

/// `a · b / c`, rounded as asked; `None` on overflow or when `c` is zero.
pub fn mul_div(a: FixedU128, b: FixedU128, c: FixedU128, rounding: Rounding) -> Option<FixedU128> {
	if c.into_inner() == 0 {
		return None;
	}
	multiply_by_rational_with_rounding(a.into_inner(), b.into_inner(), c.into_inner(), rounding)
		.map(FixedU128::from_inner)
}

/// `a · b`, rounded as asked; `None` on overflow.
pub fn mul(a: FixedU128, b: FixedU128, rounding: Rounding) -> Option<FixedU128> {
	mul_div(a, b, FixedU128::one(), rounding)
}

/// `a / b`, rounded as asked; `None` on overflow or when `b` is zero.
pub fn div(a: FixedU128, b: FixedU128, rounding: Rounding) -> Option<FixedU128> {
	mul_div(a, FixedU128::one(), b, rounding)
}

/// `a` as a signed fixed-point number; `None` above `FixedI128::max_value()`.
pub fn signed(a: FixedU128) -> Option<FixedI128> {
	i128::try_from(a.into_inner()).ok().map(FixedI128::from_inner)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_arithmetic::{
		traits::{Bounded, Zero},
		FixedPointNumber,
	};

	#[test]
	fn rounding_is_explicit() {
		let one = FixedU128::one();
		let three = FixedU128::saturating_from_integer(3u32);
		assert_eq!(
			div(one, three, Rounding::Down).map(|x| x.into_inner()),
			Some(333_333_333_333_333_333)
		);
		assert_eq!(
			div(one, three, Rounding::Up).map(|x| x.into_inner()),
			Some(333_333_333_333_333_334)
		);
	}

	#[test]
	fn overflow_and_division_by_zero_are_none() {
		assert_eq!(div(FixedU128::one(), FixedU128::zero(), Rounding::Down), None);
		assert_eq!(
			mul(FixedU128::max_value(), FixedU128::saturating_from_integer(2u32), Rounding::Down),
			None
		);
		assert_eq!(signed(FixedU128::max_value()), None);
		assert_eq!(signed(FixedU128::one()), Some(FixedI128::one()));
	}
}
