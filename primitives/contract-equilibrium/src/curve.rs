//! An agent's demand: the paper's log-utility agent, a quantity, or a line through points the
//! agent reported from off-chain (the paper's Algorithm 1, see [`DemandCurve::after_report`]).

use crate::fixed::{div, mul, mul_div};
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
/// The largest accepted slope of a [`DemandCurve::Linear`] curve, in units per token: 10¹², the
/// steepest a log-utility agent within the accepted ranges can be.
pub const MAX_SLOPE: FixedU128 =
	FixedU128::from_inner(1_000_000_000_000 * 1_000_000_000_000_000_000);
/// The smallest fall in demand between two reports from which a slope is measured: 10⁻¹²
/// units, so that the reports' rounding (10⁻¹⁸) moves the slope by at most a few parts in 10⁶.
pub const MIN_CHORD_FALL: FixedU128 = FixedU128::from_inner(1_000_000);
/// The largest accepted reported price, in tokens per unit: 10⁹ (the highest price ceiling).
pub const MAX_REPORT_PRICE: FixedU128 = FixedU128::from_u32(1_000_000_000);

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
	/// A fixed quantity: the agent demands `x` units whatever the price (as far as its budget
	/// pays for them), until it changes its order.
	Quantity {
		/// The demanded quantity, in resource units (`≤ 10⁹`).
		x: FixedU128,
	},
	/// A straight demand line through the point (`price`, `quantity`): the agent demands
	/// `x(μ) = quantity + slope·(price − μ)`, never less than zero nor more than 10⁹ units.
	///
	/// This is how the chain holds a best response reported from off-chain: each report is a
	/// point of the agent's demand curve, and the line runs through its last two points (see
	/// [`DemandCurve::after_report`]). Unlike a [`DemandCurve::Quantity`], a line demands
	/// nothing above its limit price `price + quantity/slope`, and tells the price rules how
	/// demand responds to the price, so a report that answers an old price cannot make them
	/// overshoot.
	Linear {
		/// The demanded quantity at `price`, in resource units (`≤ 10⁹`).
		quantity: FixedU128,
		/// The price the quantity answers, in tokens per unit (`≤ 10⁹`).
		price: FixedU128,
		/// How many units less the agent demands per token the price rises, in units per token
		/// (`0 < slope ≤ 10¹²`; zero only with a zero quantity).
		slope: FixedU128,
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
	/// A line's price is above [`MAX_REPORT_PRICE`].
	PriceOutOfRange,
	/// A line's slope is above [`MAX_SLOPE`], or zero with a positive quantity.
	SlopeOutOfRange,
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
			Self::Linear { quantity, price, slope } => {
				if quantity > MAX_QUANTITY {
					return Err(CurveError::QuantityOutOfRange);
				}
				if price > MAX_REPORT_PRICE {
					return Err(CurveError::PriceOutOfRange);
				}
				if slope > MAX_SLOPE || (slope.is_zero() && !quantity.is_zero()) {
					return Err(CurveError::SlopeOutOfRange);
				}
				Ok(())
			},
		}
	}

	/// The curve an agent's order has after it reports demanding `quantity` units at `price`,
	/// given the curve it had (`previous`). The result is a [`DemandCurve::Linear`] through the
	/// new point, whose slope is:
	/// - the chord's, `(q₀ − quantity)/(price − p₀)` rounded up, when the previous curve is a
	///   line through (`p₀`, `q₀`) at a lower price and demand fell between the two;
	/// - the previous line's, when the report answers the same price, or a higher one at which
	///   demand fell by less than [`MIN_CHORD_FALL`] (too little to measure a slope from: the
	///   quantities are exact only to 10⁻¹⁸) — unless that slope is zero;
	/// - otherwise (a first report, a price that fell, a demand that rose) the *probe* slope
	///   `quantity/probe_width` rounded down: the line then falls to zero `probe_width` above the
	///   price, so the report is, in effect, a limit order at its own price.
	///
	/// Why these slopes: for an agent whose demand is convex and non-increasing in the price
	/// (the paper's agents are), a chord taken to the left of the new point is at least as steep
	/// as the demand at that point, so the line lies below the agent's demand at every price above
	/// the point. A book of such lines never shows more demand above the reported prices than the
	/// agents have: `docs/mechanism.md` shows this is why the price then climbs to `μ*` without
	/// crossing it, whatever the reports' lag and whatever governance's parameters. The probe is
	/// steep for the same reason; the next report then measures the slope over a short step.
	///
	/// The slope is at most [`MAX_SLOPE`] (inputs are expected to be valid: `quantity ≤ 10⁹`,
	/// `price ≤ 10⁹`).
	pub fn after_report(
		previous: &DemandCurve,
		quantity: FixedU128,
		price: FixedU128,
		probe_width: FixedU128,
	) -> DemandCurve {
		let chord = match *previous {
			Self::Linear { quantity: previous_quantity, price: previous_price, slope } => {
				let fall = previous_quantity.saturating_sub(quantity);
				if price < previous_price || quantity > previous_quantity || slope.is_zero() {
					// The price fell or demand rose (a shift, or noise), or there is no slope to
					// keep: nothing measured applies; probe.
					None
				} else if price == previous_price || fall < MIN_CHORD_FALL {
					// No new information, or a fall too small to measure a slope from: the
					// previous line's slope, which was at least as steep at a lower price.
					Some(slope)
				} else {
					Some(div(fall, price.saturating_sub(previous_price), Rounding::Up))
				}
			},
			_ => None,
		};
		let slope = chord
			.unwrap_or_else(|| {
				if probe_width.is_zero() {
					MAX_SLOPE
				} else {
					// Rounded down, so that the line ends at or just beyond the next grid price
					// and the book holds it whole (`GridOrder::new`).
					div(quantity, probe_width, Rounding::Down)
				}
			})
			.min(MAX_SLOPE);
		let slope = if quantity.is_zero() || !slope.is_zero() { slope } else { MAX_SLOPE };
		Self::Linear { quantity, price, slope }
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
			Self::Linear { quantity, price: at, slope } => {
				if price <= at {
					quantity
						.saturating_add(mul(slope, at.saturating_sub(price), Rounding::Down))
						.min(MAX_QUANTITY)
				} else {
					quantity.saturating_sub(mul(slope, price.saturating_sub(at), Rounding::Up))
				}
			},
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
			Self::Linear { slope, .. } => {
				// Sloped where the line is strictly between zero and the cap on each side.
				let level = self.demand_at(unit_fee, price);
				let left = if level < MAX_QUANTITY { slope } else { FixedU128::zero() };
				let right = if level.is_zero() { FixedU128::zero() } else { slope };
				let exit = self.exit_price(unit_fee).unwrap_or_else(FixedU128::zero);
				if price > exit {
					(FixedU128::zero(), FixedU128::zero())
				} else {
					(left, right)
				}
			},
		}
	}

	/// The price at and above which the agent demands nothing: `α − β − τ` (zero if negative)
	/// for a log-utility agent, the limit price `price + quantity/slope` (rounded up) for a line;
	/// `None` for a fixed quantity.
	pub fn exit_price(&self, unit_fee: FixedU128) -> Option<FixedU128> {
		match *self {
			Self::LogUtility { alpha, beta } => {
				Some(alpha.saturating_sub(beta).saturating_sub(unit_fee))
			},
			Self::Quantity { .. } => None,
			Self::Linear { quantity, price, slope } => {
				if quantity.is_zero() {
					Some(price)
				} else {
					Some(price.saturating_add(div(quantity, slope, Rounding::Up)))
				}
			},
		}
	}

	/// A bound on `|x'(μ)|` at every price at or above `floor`: the slope at the floor for a
	/// log-utility agent (it falls with the price), a line's slope while it demands something
	/// above the floor, zero for a fixed quantity.
	pub fn steepest_slope_from(&self, unit_fee: FixedU128, floor: FixedU128) -> FixedU128 {
		match *self {
			Self::LogUtility { .. } => self.slopes_at(unit_fee, floor).0,
			Self::Quantity { .. } => FixedU128::zero(),
			Self::Linear { slope, .. } => {
				if self.exit_price(unit_fee).is_some_and(|exit| exit > floor) {
					slope
				} else {
					FixedU128::zero()
				}
			},
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
	fn a_report_whose_demand_rose_or_that_has_no_slope_probes() {
		let width = fixed(0.1);
		// Demand rose at a higher price (a shift, or noise): no chord applies, the line probes.
		let previous =
			DemandCurve::Linear { quantity: fixed(1.0), price: fixed(1.0), slope: fixed(3.0) };
		assert_eq!(
			DemandCurve::after_report(&previous, fixed(2.0), fixed(2.0), width),
			DemandCurve::Linear { quantity: fixed(2.0), price: fixed(2.0), slope: fixed(20.0) }
		);
		// After a zero report there is no slope to keep: a positive report probes rather than
		// becoming a line so steep that the book drops it.
		let zero = DemandCurve::Linear {
			quantity: FixedU128::zero(),
			price: fixed(1.0),
			slope: FixedU128::zero(),
		};
		assert_eq!(
			DemandCurve::after_report(&zero, fixed(2.0), fixed(2.0), width),
			DemandCurve::Linear { quantity: fixed(2.0), price: fixed(2.0), slope: fixed(20.0) }
		);
		// A fall at a higher price measures the chord, rounded steeper.
		assert_eq!(
			DemandCurve::after_report(&previous, fixed(0.5), fixed(2.0), width),
			DemandCurve::Linear { quantity: fixed(0.5), price: fixed(2.0), slope: fixed(0.5) }
		);
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
