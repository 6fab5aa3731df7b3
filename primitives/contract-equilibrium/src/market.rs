//! A market's parameters and the rule that moves its price.

use crate::curve::MAX_QUANTITY;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::traits::Zero;
use sp_arithmetic::{FixedU128, Perbill};

/// The smallest accepted `patience` of [`StepRule::RobbinsMonro`]: with fewer blocks a run of
/// equal signs is too common to mean a demand shift, and restarts would keep the steps large.
pub const MIN_PATIENCE: u32 = 4;

/// The highest accepted price ceiling, in tokens per unit: 10⁹.
pub const MAX_PRICE: FixedU128 = FixedU128::from_u32(1_000_000_000);

/// How the price moves each block. Both rules take exactly one step per block from the current
/// price `μ` using only the demand the chain sees at `μ`; both stay within the price bounds.
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
#[cfg_attr(feature = "serde", serde(rename_all_fields = "camelCase"))]
pub enum StepRule {
	/// The paper's projected dual ascent: `μ ← clamp(μ + η·(S(μ) − m))`.
	///
	/// The step size used is `min(eta, 1/L)`, where `L` bounds `|S'|` over the price range (see
	/// [`crate::lipschitz_bound`]). Any step size below `2/L` converges; at most `1/L` the price
	/// also never crosses `μ*`, so it approaches the equilibrium from one side without
	/// oscillating.
	DualAscent {
		/// The step size `η`, in (tokens per unit) per unit of excess demand; must be positive.
		eta: FixedU128,
	},
	/// A Newton step from below and a Newton–secant bracket step from above, which never cross
	/// `μ*` because `S` is convex and decreasing for the log family (see `docs/mechanism.md`).
	/// Each block's change is capped at `max(max_relative_change · μ, min_change)`.
	SafeguardedNewton {
		/// The largest relative price change per block, e.g. 12.5 %; must be positive.
		max_relative_change: Perbill,
		/// The largest change per block allowed whatever the price (so that a price of zero can
		/// rise), in tokens per unit; must be positive.
		min_change: FixedU128,
	},
	/// Stochastic approximation for noisy reports (Robbins–Monro, with Kesten's acceleration):
	/// `μ ← clamp(μ + η_k·(S(μ) − m))` with `η_k = eta/(offset + k)^exponent`, where `k` counts
	/// the times the excess demand changed sign since the rule last restarted. Like dual ascent,
	/// the step is cut to `1/L` where the book is steep, so it never crosses the book's root.
	///
	/// The step sizes shrink to zero but add up to infinity (`½ < exponent ≤ 1`), which averages
	/// the noise out: the price converges for *any* `eta`, whatever the reports' lag. The rule
	/// restarts (`k = 0`) when governance changes the market and when the excess keeps one sign
	/// for `patience` blocks in a row, plus `2·⌊log₂(1 + k)⌋` (demand has shifted). An epoch
	/// settles at an average of the prices of its sealed half, later prices weighing more
	/// (polynomial-decay averaging, [`crate::StepMemory`]); see `docs/mechanism.md`.
	RobbinsMonro {
		/// `η₀`, in (tokens per unit) per unit of excess demand; must be positive.
		eta: FixedU128,
		/// `t₀ ≥ 1`: how many sign changes' worth of shrinking the first step already has.
		offset: u32,
		/// `a`, with `½ < a ≤ 1`: how fast the step shrinks.
		exponent: Perbill,
		/// Blocks of excess demand of one sign after which the rule restarts (`≥ 4`); the
		/// threshold grows by `2·⌊log₂(1 + k)⌋` as sign changes accumulate.
		patience: u32,
	},
}

/// What governance sets for a market. Every field is checked by [`MarketParams::validate`].
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct MarketParams<AccountId> {
	/// `m`: the resource units allocated per epoch (`0 < m ≤ 10⁹`).
	pub capacity: FixedU128,
	/// `τ`: the per-unit contract fee, in tokens per unit, paid to the chain's fee destination.
	pub unit_fee: FixedU128,
	/// `g`: the fixed fee of a bidder who receives an allocation, in tokens per epoch, paid to
	/// the chain's fee destination.
	pub fixed_fee: FixedU128,
	/// How the price moves each block.
	pub step_rule: StepRule,
	/// `μ_min`: the lowest price, in tokens per unit.
	pub price_floor: FixedU128,
	/// `μ_max`: the highest price, in tokens per unit (`μ_min ≤ μ_max ≤ 10⁹`).
	pub price_ceiling: FixedU128,
	/// Blocks per epoch: allocations and payments are settled once per epoch (`≥ 1`).
	pub epoch_length: u32,
	/// The price has converged when it moved by at most this much in a block and the excess
	/// demand is at most this much (or the price sits at a bound it is pushed against), in the
	/// units of each. Must be positive.
	pub tolerance: FixedU128,
	/// The account that receives `μ·x` for the resource.
	pub payee: AccountId,
}

/// Why a [`MarketParams`] is not accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamsError {
	/// The capacity is zero or above 10⁹ units.
	CapacityOutOfRange,
	/// The price floor is above the price ceiling.
	PriceBoundsInverted,
	/// The price ceiling is above 10⁹ tokens per unit.
	PriceCeilingTooHigh,
	/// A fee is above 10⁹ tokens (per unit).
	FeeTooHigh,
	/// The epoch length is zero.
	ZeroEpochLength,
	/// The tolerance is zero.
	ZeroTolerance,
	/// The step rule's parameters are zero.
	InvalidStepRule,
}

impl<AccountId> MarketParams<AccountId> {
	/// Checks every parameter.
	pub fn validate(&self) -> Result<(), ParamsError> {
		if self.capacity.is_zero() || self.capacity > MAX_QUANTITY {
			return Err(ParamsError::CapacityOutOfRange);
		}
		if self.price_floor > self.price_ceiling {
			return Err(ParamsError::PriceBoundsInverted);
		}
		if self.price_ceiling > MAX_PRICE {
			return Err(ParamsError::PriceCeilingTooHigh);
		}
		if self.unit_fee > MAX_PRICE || self.fixed_fee > MAX_PRICE {
			return Err(ParamsError::FeeTooHigh);
		}
		if self.epoch_length == 0 {
			return Err(ParamsError::ZeroEpochLength);
		}
		if self.tolerance.is_zero() {
			return Err(ParamsError::ZeroTolerance);
		}
		match self.step_rule {
			StepRule::DualAscent { eta } if eta.is_zero() => Err(ParamsError::InvalidStepRule),
			StepRule::SafeguardedNewton { max_relative_change, min_change }
				if max_relative_change.is_zero() || min_change.is_zero() =>
			{
				Err(ParamsError::InvalidStepRule)
			},
			StepRule::RobbinsMonro { eta, offset, exponent, patience }
				if eta.is_zero()
					|| offset == 0 || patience < MIN_PATIENCE
					|| exponent <= Perbill::from_percent(50) =>
			{
				Err(ParamsError::InvalidStepRule)
			},
			_ => Ok(()),
		}
	}

	/// `price` clamped into `[price_floor, price_ceiling]`.
	pub fn clamp_price(&self, price: FixedU128) -> FixedU128 {
		price.max(self.price_floor).min(self.price_ceiling)
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use sp_arithmetic::traits::One;

	/// The paper's default market (`m = 100`, `τ = 0.5`, `g = 1`) with prices in `[0, 100]`.
	pub(crate) fn paper_market(step_rule: StepRule) -> MarketParams<u64> {
		MarketParams {
			capacity: FixedU128::from_u32(100),
			unit_fee: FixedU128::from_rational(1, 2),
			fixed_fee: FixedU128::one(),
			step_rule,
			price_floor: FixedU128::zero(),
			price_ceiling: FixedU128::from_u32(100),
			epoch_length: 10,
			tolerance: FixedU128::from_rational(1, 1_000),
			payee: 7,
		}
	}

	#[test]
	fn nonsense_is_rejected_by_name() {
		let good = paper_market(StepRule::DualAscent { eta: FixedU128::from_rational(1, 10) });
		assert_eq!(good.validate(), Ok(()));

		let mut bad = good.clone();
		bad.capacity = FixedU128::zero();
		assert_eq!(bad.validate(), Err(ParamsError::CapacityOutOfRange));

		let mut bad = good.clone();
		bad.price_floor = FixedU128::from_u32(101);
		assert_eq!(bad.validate(), Err(ParamsError::PriceBoundsInverted));

		let mut bad = good.clone();
		bad.price_ceiling = FixedU128::from_u32(2_000_000_000);
		assert_eq!(bad.validate(), Err(ParamsError::PriceCeilingTooHigh));

		let mut bad = good.clone();
		bad.fixed_fee = FixedU128::from_u32(2_000_000_000);
		assert_eq!(bad.validate(), Err(ParamsError::FeeTooHigh));

		let mut bad = good.clone();
		bad.epoch_length = 0;
		assert_eq!(bad.validate(), Err(ParamsError::ZeroEpochLength));

		let mut bad = good.clone();
		bad.tolerance = FixedU128::zero();
		assert_eq!(bad.validate(), Err(ParamsError::ZeroTolerance));

		let mut bad = good.clone();
		bad.step_rule = StepRule::DualAscent { eta: FixedU128::zero() };
		assert_eq!(bad.validate(), Err(ParamsError::InvalidStepRule));

		let mut bad = good.clone();
		bad.step_rule = StepRule::SafeguardedNewton {
			max_relative_change: Perbill::zero(),
			min_change: FixedU128::one(),
		};
		assert_eq!(bad.validate(), Err(ParamsError::InvalidStepRule));

		let robbins_monro = |exponent: u32, offset: u32, patience: u32| StepRule::RobbinsMonro {
			eta: FixedU128::one(),
			offset,
			exponent: Perbill::from_percent(exponent),
			patience,
		};
		for (rule, accepted) in [
			(robbins_monro(75, 1, 8), true),
			(robbins_monro(100, 1, 8), true),
			(robbins_monro(50, 1, 8), false),
			(robbins_monro(75, 0, 8), false),
			(robbins_monro(75, 1, 0), false),
			(robbins_monro(75, 1, 3), false),
			(robbins_monro(75, 1, 4), true),
		] {
			let mut params = good.clone();
			params.step_rule = rule;
			assert_eq!(params.validate().is_ok(), accepted, "{rule:?}");
		}
	}

	#[test]
	fn equal_bounds_pin_the_price() {
		let mut params = paper_market(StepRule::DualAscent { eta: FixedU128::one() });
		params.price_floor = FixedU128::from_u32(3);
		params.price_ceiling = FixedU128::from_u32(3);
		assert_eq!(params.validate(), Ok(()));
		assert_eq!(params.clamp_price(FixedU128::zero()), FixedU128::from_u32(3));
		assert_eq!(params.clamp_price(FixedU128::from_u32(50)), FixedU128::from_u32(3));
	}
}
