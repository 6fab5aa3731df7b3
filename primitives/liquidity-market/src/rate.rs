//! Rate models: the price of liquidity as a function of utilization.
//!
//! Rates are **per block**, as [`FixedU128`] fractions of the amount (`0.00000001` is 10⁻⁶ % a
//! block, about 5.3 % a year at 6-second blocks, simple). Utilization `U` is a fraction in
//! `[0, 1]`.
//!
//! - [`KinkedRate`] (Compound v2, Aave v3): `base + slope_low·U/kink` below the kink, plus
//!   `slope_high·(U − kink)/(1 − kink)` above it. The rate is a fixed function of `U`.
//! - [`AdaptiveRate`] (after Morpho's AdaptiveCurveIrm): the same kinked shape around a *rate at
//!   target* `r*`, and `r*` is a price that moves one dual-ascent step per block,
//!   `r* ← clamp(r* + η·(U − U_target))` — the resource market's rule with utilization for
//!   demand and the target for capacity (`contract_equilibrium_primitives::step::dual_ascent_step`,
//!   one formula for both). While borrowers keep `U` above the target the rate climbs until some
//!   repay; below it, it falls until some borrow.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use contract_equilibrium_primitives::fixed::{div, mul};
use contract_equilibrium_primitives::step::dual_ascent_step;
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Rounding,
};

/// The highest rate any model may charge: 10⁻³ a block (100 % every 1 000 blocks, about 100 min
/// at 6-second blocks). Above it interest would double a debt faster than liquidations can act.
pub fn max_rate_per_block() -> FixedU128 {
	FixedU128::saturating_from_rational(1u32, 1_000u32)
}

/// Why a rate model's parameters are refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RateError {
	/// The kink or the target utilization is not strictly between 0 and 1.
	KinkOutOfRange,
	/// A rate or the sum of a model's slopes exceeds [`max_rate_per_block`].
	RateTooHigh,
	/// The adaptive model's minimum exceeds its maximum, or its starting rate lies outside them.
	BoundsInverted,
	/// The adaptive model's steepness is below 1 (the rate would fall as utilization rises).
	SteepnessBelowOne,
}

/// The kinked (jump) model: the rate rises gently up to the kink and steeply after it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct KinkedRate {
	/// The rate at zero utilization, per block.
	pub base: FixedU128,
	/// What the rate adds from zero utilization to the kink, per block.
	pub slope_low: FixedU128,
	/// What the rate adds from the kink to full utilization, per block.
	pub slope_high: FixedU128,
	/// The utilization where the slope changes, strictly between 0 and 1.
	pub kink: FixedU128,
}

impl KinkedRate {
	/// Checks the parameters: a kink in `(0, 1)`, and a rate at full utilization of at most
	/// [`max_rate_per_block`].
	pub fn validate(&self) -> Result<(), RateError> {
		if self.kink.is_zero() || self.kink >= FixedU128::one() {
			return Err(RateError::KinkOutOfRange);
		}
		let top = self.base.saturating_add(self.slope_low).saturating_add(self.slope_high);
		if top > max_rate_per_block() {
			return Err(RateError::RateTooHigh);
		}
		Ok(())
	}

	/// The borrow rate per block at `utilization` (clamped into `[0, 1]`), rounded up: the
	/// protocol never charges less than the model says.
	pub fn borrow_rate(&self, utilization: FixedU128) -> FixedU128 {
		kinked(self.base, self.slope_low, self.slope_high, self.kink, utilization)
	}
}

/// `base + slope_low·min(U, kink)/kink + slope_high·max(U − kink, 0)/(1 − kink)`, rounded up.
fn kinked(
	base: FixedU128,
	slope_low: FixedU128,
	slope_high: FixedU128,
	kink: FixedU128,
	utilization: FixedU128,
) -> FixedU128 {
	let utilization = utilization.min(FixedU128::one());
	let below = utilization.min(kink);
	let low = mul(slope_low, div(below, kink, Rounding::Up), Rounding::Up);
	let high = if utilization > kink {
		let above = utilization.saturating_sub(kink);
		let room = FixedU128::one().saturating_sub(kink);
		mul(slope_high, div(above, room, Rounding::Up).min(FixedU128::one()), Rounding::Up)
	} else {
		FixedU128::zero()
	};
	base.saturating_add(low).saturating_add(high)
}

/// The adaptive model: a kinked curve around the rate at target, which moves every block.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct AdaptiveRate {
	/// The utilization the rate steers towards, strictly between 0 and 1 (Morpho: 0.9).
	pub target_utilization: FixedU128,
	/// `η`: how far the rate at target moves per block per unit of utilization error, in rate
	/// per block (a step of `η·(U − U_target)`).
	pub step_size: FixedU128,
	/// `C ≥ 1`: the rate at zero utilization is `r*/C`, at full utilization `r*·C` (Morpho: 4).
	pub steepness: FixedU128,
	/// The lowest the rate at target may fall, per block.
	pub min_rate_at_target: FixedU128,
	/// The highest the rate at target may rise, per block; `r*·C` stays within
	/// [`max_rate_per_block`].
	pub max_rate_at_target: FixedU128,
	/// The rate at target a new market starts from, per block.
	pub initial_rate_at_target: FixedU128,
}

impl AdaptiveRate {
	/// Checks the parameters: a target in `(0, 1)`, `C ≥ 1`, `min ≤ initial ≤ max`, and
	/// `max·C` at most [`max_rate_per_block`].
	pub fn validate(&self) -> Result<(), RateError> {
		if self.target_utilization.is_zero() || self.target_utilization >= FixedU128::one() {
			return Err(RateError::KinkOutOfRange);
		}
		if self.steepness < FixedU128::one() {
			return Err(RateError::SteepnessBelowOne);
		}
		if self.min_rate_at_target > self.initial_rate_at_target
			|| self.initial_rate_at_target > self.max_rate_at_target
		{
			return Err(RateError::BoundsInverted);
		}
		if mul(self.max_rate_at_target, self.steepness, Rounding::Up) > max_rate_per_block() {
			return Err(RateError::RateTooHigh);
		}
		Ok(())
	}

	/// The borrow rate per block at `utilization` for the rate at target `rate_at_target`:
	/// `r*/C` at zero utilization, `r*` at the target, `r*·C` at full utilization, linear in
	/// between; rounded up.
	pub fn borrow_rate(&self, rate_at_target: FixedU128, utilization: FixedU128) -> FixedU128 {
		let floor = div(rate_at_target, self.steepness, Rounding::Up);
		kinked(
			floor,
			rate_at_target.saturating_sub(floor),
			mul(rate_at_target, self.steepness, Rounding::Up).saturating_sub(rate_at_target),
			self.target_utilization,
			utilization,
		)
	}

	/// The rate at target after one block at `utilization`: one projected dual-ascent step,
	/// `clamp(r* + η·(U − U_target), min, max)`.
	pub fn next_rate_at_target(
		&self,
		rate_at_target: FixedU128,
		utilization: FixedU128,
	) -> FixedU128 {
		dual_ascent_step(
			rate_at_target,
			utilization.min(FixedU128::one()),
			self.target_utilization,
			self.step_size,
		)
		.max(self.min_rate_at_target)
		.min(self.max_rate_at_target)
	}
}

/// A market's rate model.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum RateModel {
	/// A fixed kinked curve.
	Kinked(KinkedRate),
	/// A kinked curve around a rate at target that adapts every block.
	Adaptive(AdaptiveRate),
}

impl RateModel {
	/// Checks the model's parameters.
	pub fn validate(&self) -> Result<(), RateError> {
		match self {
			Self::Kinked(model) => model.validate(),
			Self::Adaptive(model) => model.validate(),
		}
	}

	/// The rate at target a market with this model starts from (zero for a kinked model, which
	/// has none).
	pub fn initial_rate_at_target(&self) -> FixedU128 {
		match self {
			Self::Kinked(_) => FixedU128::zero(),
			Self::Adaptive(model) => model.initial_rate_at_target,
		}
	}

	/// The borrow rate per block at `utilization` (`rate_at_target` is the adaptive model's
	/// state; a kinked model ignores it).
	pub fn borrow_rate(&self, rate_at_target: FixedU128, utilization: FixedU128) -> FixedU128 {
		match self {
			Self::Kinked(model) => model.borrow_rate(utilization),
			Self::Adaptive(model) => model.borrow_rate(rate_at_target, utilization),
		}
	}

	/// The rate at target after `blocks` blocks at a constant `utilization`: as many
	/// dual-ascent steps, which add up to one step of `blocks` times the size until a bound
	/// stops them (unchanged for a kinked model). A market that nobody touches keeps its
	/// utilization, so stepping lazily at the next interaction equals stepping every block.
	pub fn rate_at_target_after(
		&self,
		rate_at_target: FixedU128,
		utilization: FixedU128,
		blocks: u32,
	) -> FixedU128 {
		match self {
			Self::Kinked(_) => rate_at_target,
			Self::Adaptive(model) => {
				let scaled = AdaptiveRate {
					step_size: model
						.step_size
						.saturating_mul(FixedU128::saturating_from_integer(blocks)),
					..*model
				};
				scaled.next_rate_at_target(rate_at_target, utilization)
			},
		}
	}

	/// The rate at target after one block at `utilization` (unchanged for a kinked model).
	pub fn next_rate_at_target(
		&self,
		rate_at_target: FixedU128,
		utilization: FixedU128,
	) -> FixedU128 {
		match self {
			Self::Kinked(_) => rate_at_target,
			Self::Adaptive(model) => model.next_rate_at_target(rate_at_target, utilization),
		}
	}
}

/// The rate lenders earn per block: `U·borrow_rate·(1 − reserve_factor)`, rounded down (what
/// lenders are promised never exceeds what borrowers pay less the reserves' share).
pub fn supply_rate(
	utilization: FixedU128,
	borrow_rate: FixedU128,
	reserve_factor: sp_arithmetic::Perbill,
) -> FixedU128 {
	let paid = mul(utilization.min(FixedU128::one()), borrow_rate, Rounding::Down);
	let kept = FixedU128::from_perbill(reserve_factor.left_from_one());
	mul(paid, kept, Rounding::Down)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use proptest::prelude::*;
	use sp_arithmetic::Perbill;

	fn fixed(value: f64) -> FixedU128 {
		FixedU128::from_float(value)
	}

	/// Aave-like: 0 % at zero, 4e-7 at the 80 % kink, 4e-7 + 3e-5 at full utilization.
	fn kinked_model() -> KinkedRate {
		KinkedRate {
			base: FixedU128::zero(),
			slope_low: fixed(4e-7),
			slope_high: fixed(3e-5),
			kink: fixed(0.8),
		}
	}

	fn adaptive_model() -> AdaptiveRate {
		AdaptiveRate {
			target_utilization: fixed(0.9),
			step_size: fixed(1e-7),
			steepness: fixed(4.0),
			min_rate_at_target: fixed(1e-9),
			max_rate_at_target: fixed(1e-4),
			initial_rate_at_target: fixed(5e-7),
		}
	}

	fn close(a: FixedU128, b: f64) -> bool {
		(a.to_float() - b).abs() <= b.abs() * 1e-9 + 1e-17
	}

	#[test]
	fn kinked_matches_the_formula_at_its_corners() {
		let model = kinked_model();
		assert!(model.validate().is_ok());
		assert!(close(model.borrow_rate(FixedU128::zero()), 0.0));
		assert!(close(model.borrow_rate(fixed(0.4)), 2e-7));
		assert!(close(model.borrow_rate(fixed(0.8)), 4e-7));
		assert!(close(model.borrow_rate(fixed(0.9)), 4e-7 + 1.5e-5));
		assert!(close(model.borrow_rate(FixedU128::one()), 4e-7 + 3e-5));
		// Above full utilization (impossible with the cash ledger) it stays at the top.
		assert_eq!(model.borrow_rate(fixed(1.5)), model.borrow_rate(FixedU128::one()));
	}

	#[test]
	fn bad_parameters_are_refused() {
		let mut model = kinked_model();
		model.kink = FixedU128::one();
		assert_eq!(model.validate(), Err(RateError::KinkOutOfRange));
		model.kink = FixedU128::zero();
		assert_eq!(model.validate(), Err(RateError::KinkOutOfRange));
		let mut model = kinked_model();
		model.slope_high = fixed(1e-3);
		assert_eq!(model.validate(), Err(RateError::RateTooHigh));
		let mut adaptive = adaptive_model();
		adaptive.steepness = fixed(0.5);
		assert_eq!(adaptive.validate(), Err(RateError::SteepnessBelowOne));
		let mut adaptive = adaptive_model();
		adaptive.initial_rate_at_target = fixed(1e-3);
		assert_eq!(adaptive.validate(), Err(RateError::BoundsInverted));
		let mut adaptive = adaptive_model();
		adaptive.max_rate_at_target = fixed(1e-3);
		adaptive.initial_rate_at_target = fixed(1e-3);
		assert_eq!(adaptive.validate(), Err(RateError::RateTooHigh));
	}

	#[test]
	fn adaptive_curve_spans_r_over_c_to_r_times_c() {
		let model = adaptive_model();
		assert!(model.validate().is_ok());
		let r = fixed(1e-6);
		assert!(close(model.borrow_rate(r, FixedU128::zero()), 2.5e-7));
		assert!(close(model.borrow_rate(r, fixed(0.45)), 6.25e-7));
		assert!(close(model.borrow_rate(r, fixed(0.9)), 1e-6));
		assert!(close(model.borrow_rate(r, FixedU128::one()), 4e-6));
	}

	#[test]
	fn rate_at_target_climbs_above_target_and_falls_below() {
		let model = adaptive_model();
		let r = fixed(5e-7);
		// U = 1: +η·0.1 per block.
		assert!(close(model.next_rate_at_target(r, FixedU128::one()), 5e-7 + 1e-8));
		// U = 0.5: −η·0.4 per block.
		assert!(close(model.next_rate_at_target(r, fixed(0.5)), 5e-7 - 4e-8));
		// At the target it stays.
		assert_eq!(model.next_rate_at_target(r, fixed(0.9)), r);
		// Clamped at both ends.
		assert_eq!(
			model.next_rate_at_target(model.min_rate_at_target, FixedU128::zero()),
			model.min_rate_at_target
		);
		assert_eq!(
			model.next_rate_at_target(model.max_rate_at_target, FixedU128::one()),
			model.max_rate_at_target
		);
		// A kinked model has no state.
		assert_eq!(RateModel::Kinked(kinked_model()).next_rate_at_target(r, FixedU128::one()), r);
	}

	#[test]
	fn lazy_steps_equal_per_block_steps_until_a_bound() {
		let model = RateModel::Adaptive(adaptive_model());
		let start = fixed(5e-7);
		for utilization in [fixed(0.5), fixed(0.95), FixedU128::one()] {
			let mut stepped = start;
			for blocks in 1..=5_000u32 {
				stepped = model.next_rate_at_target(stepped, utilization);
				let lazy = model.rate_at_target_after(start, utilization, blocks);
				let gap = if lazy > stepped { lazy - stepped } else { stepped - lazy };
				// Rounding: one unit of 10⁻¹⁸ per step at most.
				assert!(
					gap.into_inner() <= u128::from(blocks),
					"after {blocks}: {lazy:?} vs {stepped:?}"
				);
			}
		}
	}

	#[test]
	fn supply_rate_keeps_the_reserve_share() {
		let rate = supply_rate(fixed(0.5), fixed(1e-6), Perbill::from_percent(10));
		assert!(close(rate, 0.5 * 1e-6 * 0.9));
	}

	proptest! {
		/// The kinked rate never falls as utilization rises, and stays within its bounds.
		#[test]
		fn kinked_is_monotone_and_bounded(a in 0u64..=1_000_000, b in 0u64..=1_000_000) {
			let model = kinked_model();
			let (low, high) = (a.min(b), a.max(b));
			let u = |x: u64| FixedU128::saturating_from_rational(x, 1_000_000u64);
			prop_assert!(model.borrow_rate(u(low)) <= model.borrow_rate(u(high)));
			prop_assert!(model.borrow_rate(u(high)) <= max_rate_per_block());
		}

		/// The adaptive rate never falls as utilization rises, and never exceeds the cap.
		#[test]
		fn adaptive_is_monotone_and_bounded(
			a in 0u64..=1_000_000,
			b in 0u64..=1_000_000,
			r in 1u64..=100_000,
		) {
			let model = adaptive_model();
			let (low, high) = (a.min(b), a.max(b));
			let u = |x: u64| FixedU128::saturating_from_rational(x, 1_000_000u64);
			let rate_at_target = FixedU128::saturating_from_rational(r, 1_000_000_000u64);
			prop_assert!(model.borrow_rate(rate_at_target, u(low)) <= model.borrow_rate(rate_at_target, u(high)));
			prop_assert!(model.borrow_rate(model.max_rate_at_target, u(high)) <= max_rate_per_block());
		}

		/// The rate at target moves towards the target's side and never leaves its bounds, and
		/// lenders never earn more than borrowers pay.
		#[test]
		fn adaptive_step_is_a_projected_dual_ascent_step(u in 0u64..=1_000_000, r in 0u64..=200_000) {
			let model = adaptive_model();
			let utilization = FixedU128::saturating_from_rational(u, 1_000_000u64);
			let rate_at_target = FixedU128::saturating_from_rational(r, 1_000_000_000u64)
				.max(model.min_rate_at_target)
				.min(model.max_rate_at_target);
			let next = model.next_rate_at_target(rate_at_target, utilization);
			prop_assert!(next >= model.min_rate_at_target && next <= model.max_rate_at_target);
			if utilization > model.target_utilization {
				prop_assert!(next >= rate_at_target);
			} else {
				prop_assert!(next <= rate_at_target);
			}
			let borrow = model.borrow_rate(next, utilization);
			let lend = supply_rate(utilization, borrow, Perbill::from_percent(10));
			prop_assert!(mul(lend, FixedU128::one(), Rounding::Down) <= mul(utilization, borrow, Rounding::Up));
		}
	}
}
