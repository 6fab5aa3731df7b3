//! An agent's demand: the paper's log-utility agent, or a quantity reported from off-chain.

use crate::fixed::{div, mul_div};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::traits::{One, Saturating, Zero};
use sp_arithmetic::{FixedU128, Rounding};

/// The largest accepted `α`, in tokens: 10⁶.
pub const MAX_ALPHA: FixedU128 = FixedU128::from_u32(1_000_000);
/// The smallest accepted `β`, in tokens per unit: 10⁻³. With `α ≤ 10⁶` it bounds every
/// best response by 10⁹ units and every slope `α/(β+τ+μ)²` by 10¹², far from overflow.
pub const MIN_BETA: FixedU128 = FixedU128::from_inner(1_000_000_000_000_000);
/// The largest accepted `β`, in tokens per unit: 10⁶.
pub const MAX_BETA: FixedU128 = FixedU128::from_u32(1_000_000);
/// The largest accepted quantity (a reported demand or a capacity), in resource units: 10⁹.
pub const MAX_QUANTITY: FixedU128 = FixedU128::from_u32(1_000_000_000);

/// How an agent demands the resource.
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
pub enum DemandCurve {
	/// The paper's agent: value `V(x) = α·ln(1 + x)`, cost `C(x) = β·x`. The chain computes its
	/// best response to every price, `x(μ) = max(0, α/(β + τ + μ) − 1)`, on its behalf.
	LogUtility {
		/// `α`, the scale of the agent's value, in tokens (`0 < α ≤ 10⁶`).
		alpha: FixedU128,
		/// `β`, the agent's own marginal cost, in tokens per unit (`10⁻³ ≤ β ≤ 10⁶`).
		beta: FixedU128,
	},
	/// A best response computed off-chain and reported (the paper's Algorithm 1): the agent
	/// demands `x` units whatever the price, until it reports again.
	Quantity {
		/// The demanded quantity, in resource units (`≤ 10⁹`).
		x: FixedU128,
	},
}

/// Why a [`DemandCurve`] is not accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CurveError {
	/// `α` is zero or above [`MAX_ALPHA`].
	AlphaOutOfRange,
	/// `β` is below [`MIN_BETA`] or above [`MAX_BETA`].
	BetaOutOfRange,
	/// The reported quantity is above [`MAX_QUANTITY`].
	QuantityOutOfRange,
}

impl DemandCurve {
	/// Checks the curve's parameters against the documented ranges.
	pub fn validate(&self) -> Result<(), CurveError> {
		match *self {
			Self::LogUtility { alpha, beta } => {
				if alpha.is_zero() || alpha > MAX_ALPHA {
					return Err(CurveError::AlphaOutOfRange);
				}
				if beta < MIN_BETA || beta > MAX_BETA {
					return Err(CurveError::BetaOutOfRange);
				}
				Ok(())
			},
			Self::Quantity { x } if x > MAX_QUANTITY => Err(CurveError::QuantityOutOfRange),
			Self::Quantity { .. } => Ok(()),
		}
	}

	/// The agent's demand at price `price` under unit fee `unit_fee`: its best response
	/// `max(0, α/(β + τ + μ) − 1)` for a log-utility agent, its report for a quantity.
	/// Rounded down.
	pub fn demand_at(&self, unit_fee: FixedU128, price: FixedU128) -> FixedU128 {
		match *self {
			Self::LogUtility { alpha, beta } => {
				let marginal_cost = beta.saturating_add(unit_fee).saturating_add(price);
				div(alpha, marginal_cost, Rounding::Down).saturating_sub(FixedU128::one())
			},
			Self::Quantity { x } => x,
		}
	}

	/// `|x'(μ)|` from the left and from the right of `price`: `α/(β + τ + μ)²` where the agent
	/// demands something on that side, zero elsewhere. The two differ only at the kink
	/// `μ = α − β − τ`, where the agent enters or leaves. Reported quantities do not respond to
	/// the price: zero. Rounded down.
	pub fn slopes_at(&self, unit_fee: FixedU128, price: FixedU128) -> (FixedU128, FixedU128) {
		match *self {
			Self::LogUtility { alpha, beta } => {
				let marginal_cost = beta.saturating_add(unit_fee).saturating_add(price);
				if alpha < marginal_cost {
					return (FixedU128::zero(), FixedU128::zero());
				}
				let slope = mul_div(
					div(alpha, marginal_cost, Rounding::Down),
					FixedU128::one(),
					marginal_cost,
					Rounding::Down,
				);
				if alpha == marginal_cost {
					(slope, FixedU128::zero())
				} else {
					(slope, slope)
				}
			},
			Self::Quantity { .. } => (FixedU128::zero(), FixedU128::zero()),
		}
	}

	/// The price at and above which a log-utility agent demands nothing, `α − β − τ` (zero if
	/// negative); `None` for a reported quantity.
	pub fn exit_price(&self, unit_fee: FixedU128) -> Option<FixedU128> {
		match *self {
			Self::LogUtility { alpha, beta } => {
				Some(alpha.saturating_sub(beta).saturating_sub(unit_fee))
			},
			Self::Quantity { .. } => None,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{agent, fixed};

	#[test]
	fn best_response_is_the_papers_formula() {
		// α = 10, β = 1, τ = 0.5, μ = 0.5: x = 10/2 − 1 = 4.
		assert_eq!(agent(10.0, 1.0).demand_at(fixed(0.5), fixed(0.5)), fixed(4.0));
		// At and above the exit price α − β − τ = 8.5 the agent demands nothing.
		assert_eq!(agent(10.0, 1.0).demand_at(fixed(0.5), fixed(8.5)), FixedU128::zero());
		assert_eq!(agent(10.0, 1.0).demand_at(fixed(0.5), fixed(100.0)), FixedU128::zero());
		assert_eq!(agent(10.0, 1.0).exit_price(fixed(0.5)), Some(fixed(8.5)));
	}

	#[test]
	fn slopes_differ_only_at_the_kink() {
		let curve = agent(10.0, 1.0);
		// Inside: |x'| = α/c² = 10/4 at c = 2.
		assert_eq!(curve.slopes_at(fixed(0.5), fixed(0.5)), (fixed(2.5), fixed(2.5)));
		// At the kink c = α = 10: active from the left only.
		assert_eq!(curve.slopes_at(fixed(0.5), fixed(8.5)), (fixed(0.1), FixedU128::zero()));
		// Beyond: no slope.
		assert_eq!(curve.slopes_at(fixed(0.5), fixed(9.0)), (FixedU128::zero(), FixedU128::zero()));
	}

	#[test]
	fn reported_quantities_ignore_the_price() {
		let curve = DemandCurve::Quantity { x: fixed(7.0) };
		assert_eq!(curve.demand_at(fixed(2.0), fixed(1000.0)), fixed(7.0));
		assert_eq!(curve.slopes_at(fixed(2.0), fixed(0.0)), (FixedU128::zero(), FixedU128::zero()));
		assert_eq!(curve.exit_price(fixed(2.0)), None);
	}

	#[test]
	fn validation_names_the_bad_parameter() {
		assert_eq!(agent(0.0, 1.0).validate(), Err(CurveError::AlphaOutOfRange));
		assert_eq!(agent(2e6, 1.0).validate(), Err(CurveError::AlphaOutOfRange));
		assert_eq!(agent(10.0, 0.0).validate(), Err(CurveError::BetaOutOfRange));
		assert_eq!(agent(10.0, 2e6).validate(), Err(CurveError::BetaOutOfRange));
		assert_eq!(
			DemandCurve::Quantity { x: fixed(2e9) }.validate(),
			Err(CurveError::QuantityOutOfRange)
		);
		assert_eq!(agent(1e6, 1e-3).validate(), Ok(()));
		assert_eq!(DemandCurve::Quantity { x: FixedU128::zero() }.validate(), Ok(()));
	}

	#[test]
	fn extreme_accepted_curves_do_not_overflow() {
		let curve = DemandCurve::LogUtility { alpha: MAX_ALPHA, beta: MIN_BETA };
		let demand = curve.demand_at(FixedU128::zero(), FixedU128::zero());
		assert_eq!(demand, FixedU128::from_u32(999_999_999));
		let (left, right) = curve.slopes_at(FixedU128::zero(), FixedU128::zero());
		assert_eq!(
			left,
			FixedU128::from_u32(1_000_000).saturating_mul(FixedU128::from_u32(1_000_000))
		);
		assert_eq!(left, right);
	}
}
