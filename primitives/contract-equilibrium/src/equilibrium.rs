//! Aggregate demand `S(μ)`, its slope, the Lipschitz bound `L`, and the exact clearing price
//! `μ*` with `S(μ*) = m`.
//!
//! For the log family each best response `max(0, α/(β+τ+μ) − 1)` is continuous, non-increasing
//! and convex in `μ` (the maximum of two convex functions), so `S` is too. Reported quantities
//! add a constant. Hence `S(μ) − m` has a unique crossing when it changes sign, found here by
//! bisection.

use crate::{fixed::abs_diff, market::MarketParams, order::Demand};
use sp_arithmetic::traits::{Saturating, Zero};
use sp_arithmetic::FixedU128;

/// `S` and its slopes at one price, from one pass over the curves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DemandSnapshot {
	/// `S(μ)`, in units.
	pub demand: FixedU128,
	/// `|S'|` just below `μ` (counts agents at their exit price), in units per (token per unit).
	pub slope_below: FixedU128,
	/// `|S'|` just above `μ`.
	pub slope_above: FixedU128,
}

/// `S(μ)` and its one-sided slopes at `price` under unit fee `unit_fee`.
pub fn evaluate<D: Demand>(curves: &[D], unit_fee: FixedU128, price: FixedU128) -> DemandSnapshot {
	let mut snapshot = DemandSnapshot {
		demand: FixedU128::zero(),
		slope_below: FixedU128::zero(),
		slope_above: FixedU128::zero(),
	};
	for curve in curves {
		let (demand, (below, above)) = curve.level_and_slopes_at(unit_fee, price);
		snapshot.demand = snapshot.demand.saturating_add(demand);
		snapshot.slope_below = snapshot.slope_below.saturating_add(below);
		snapshot.slope_above = snapshot.slope_above.saturating_add(above);
	}
	snapshot
}

/// `S(μ)` alone.
pub fn aggregate_demand<D: Demand>(
	curves: &[D],
	unit_fee: FixedU128,
	price: FixedU128,
) -> FixedU128 {
	curves
		.iter()
		.fold(FixedU128::zero(), |sum, curve| sum.saturating_add(curve.demand_at(unit_fee, price)))
}

/// `L`, a sound bound on `|S'(μ)|` for every `μ ≥ floor`: `Σ α/(β+τ+floor)²` over the
/// log-utility agents active at `floor`.
///
/// Sound because each agent's `|x'(μ)| = α/(β+τ+μ)²` (zero once it leaves) is largest at the
/// lowest price, and an agent inactive at `floor` stays inactive above it; so the sum of the
/// terms at `floor` bounds the slope of `S` anywhere in `[floor, ∞)`. Reported quantities do not
/// depend on the price and add nothing. Orders backed by budgets use their own bound
/// ([`Demand::steepest_slope_from`]).
pub fn lipschitz_bound<D: Demand>(
	curves: &[D],
	unit_fee: FixedU128,
	floor: FixedU128,
) -> FixedU128 {
	curves.iter().fold(FixedU128::zero(), |sum, curve| {
		sum.saturating_add(curve.steepest_slope_from(unit_fee, floor))
	})
}

/// A bound on `|S'(μ)|` for every `μ` in `[low, high]` (prices at or above `floor`):
/// `Σ steepest_slope_between` — [`lipschitz_bound`] for declared curves and orders, the steepest
/// cell on the interval for a gridded book.
pub fn lipschitz_bound_between<D: Demand>(
	curves: &[D],
	unit_fee: FixedU128,
	floor: FixedU128,
	low: FixedU128,
	high: FixedU128,
) -> FixedU128 {
	curves.iter().fold(FixedU128::zero(), |sum, curve| {
		sum.saturating_add(curve.steepest_slope_between(unit_fee, floor, low, high))
	})
}

/// The exact contract-clearing price `μ*` within the market's bounds:
/// - `price_floor` when capacity does not bind there (`S(floor) ≤ m`);
/// - `price_ceiling` when demand exceeds capacity even there (`S(ceiling) > m`);
/// - otherwise the price where `S` crosses `m`, by bisection to one unit of 10⁻¹⁸ (the lowest
///   price with `S(μ) ≤ m`).
pub fn clearing_price<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
) -> FixedU128 {
	let clears = |price| aggregate_demand(curves, params.unit_fee, price) <= params.capacity;
	if clears(params.price_floor) {
		return params.price_floor;
	}
	if !clears(params.price_ceiling) {
		return params.price_ceiling;
	}
	// Invariant: S(low) > m ≥ S(high).
	let mut low = params.price_floor;
	let mut high = params.price_ceiling;
	// 2¹²⁸ ulps at most: 128 halvings always suffice.
	for _ in 0..128 {
		let half_width = FixedU128::from_inner(abs_diff(high, low).into_inner() / 2);
		if half_width.is_zero() {
			break;
		}
		let middle = low.saturating_add(half_width);
		if clears(middle) {
			high = middle;
		} else {
			low = middle;
		}
	}
	high
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::curve::DemandCurve;
	use crate::market::{tests::paper_market, StepRule};
	use crate::testing::{agent, fixed};

	fn market() -> MarketParams<u64> {
		paper_market(StepRule::DualAscent { eta: fixed(0.1) })
	}

	#[test]
	fn demand_adds_up_and_counts_kinks() {
		// τ = 0.5. Agent 1 (α 10, β 1.5) exits at μ = 8; agent 2 (α 4, β 1.5) at μ = 2.
		let curves = [agent(10.0, 1.5), agent(4.0, 1.5), DemandCurve::Quantity { x: fixed(3.0) }];
		let at_zero = evaluate(&curves, fixed(0.5), fixed(0.0));
		assert_eq!(at_zero.demand, fixed(4.0 + 1.0 + 3.0));
		assert_eq!(at_zero.slope_below, fixed(10.0 / 4.0 + 4.0 / 4.0));
		// At μ = 2 agent 2 sits on its kink: counted below, not above.
		let at_kink = evaluate(&curves, fixed(0.5), fixed(2.0));
		assert_eq!(at_kink.demand, fixed(10.0 / 4.0 - 1.0 + 3.0));
		assert_eq!(at_kink.slope_below, fixed(10.0 / 16.0 + 4.0 / 16.0));
		assert_eq!(at_kink.slope_above, fixed(10.0 / 16.0));
		assert_eq!(lipschitz_bound(&curves, fixed(0.5), fixed(0.0)), at_zero.slope_below);
	}

	#[test]
	fn floor_when_capacity_does_not_bind() {
		// S(0) = 4 + 1 = 5 < m = 100.
		let curves = [agent(10.0, 1.5), agent(4.0, 1.5)];
		assert_eq!(clearing_price(&curves, &market()), FixedU128::zero());
		// No demand at all.
		assert_eq!(clearing_price::<DemandCurve, u64>(&[], &market()), FixedU128::zero());
	}

	#[test]
	fn ceiling_when_demand_exceeds_capacity_at_any_price() {
		let curves = [DemandCurve::Quantity { x: fixed(150.0) }];
		assert_eq!(clearing_price(&curves, &market()), market().price_ceiling);
	}

	#[test]
	fn clearing_price_solves_s_equals_m() {
		// Two identical agents α = 100, β = 0.5, τ = 0.5: S(μ) = 2·(100/(1+μ) − 1) = 100 at
		// μ* = 100/51 − 1.
		let curves = [agent(100.0, 0.5), agent(100.0, 0.5)];
		let price = clearing_price(&curves, &market());
		assert!((price.to_float() - (100.0 / 51.0 - 1.0)).abs() < 1e-15);
		let demand = aggregate_demand(&curves, fixed(0.5), price);
		assert!(demand <= fixed(100.0));
		assert!(demand.to_float() > 100.0 - 1e-12);
	}

	#[test]
	fn clearing_price_is_exact_across_an_exit_kink() {
		// Agent B exits at μ = 1; at μ* only A demands. A: α = 50, β = 0.5. τ = 0.5.
		// m = 20 → A alone: 50/(1+μ) − 1 = 20 → μ = 50/21 − 1 ≈ 1.38 > 1 (B out).
		let mut params = market();
		params.capacity = fixed(20.0);
		let curves = [agent(50.0, 0.5), agent(2.0, 0.5)];
		let price = clearing_price(&curves, &params);
		assert!((price.to_float() - (50.0 / 21.0 - 1.0)).abs() < 1e-15);
	}

	#[test]
	fn extreme_accepted_values_do_not_overflow() {
		let mut params = market();
		params.price_ceiling = crate::market::MAX_PRICE;
		params.capacity = crate::curve::MAX_QUANTITY;
		let curves = [DemandCurve::LogUtility {
			alpha: crate::curve::MAX_ALPHA,
			beta: crate::curve::MIN_BETA,
		}; 256];
		let price = clearing_price(&curves, &params);
		assert!(aggregate_demand(&curves, params.unit_fee, price) <= params.capacity);
		// 256 agents with slope 10¹² each: exact, no saturation.
		let slope_each =
			FixedU128::from_u32(1_000_000).saturating_mul(FixedU128::from_u32(1_000_000));
		assert_eq!(
			lipschitz_bound(&curves, FixedU128::zero(), FixedU128::zero()),
			slope_each.saturating_mul(FixedU128::from_u32(256))
		);
	}
}
