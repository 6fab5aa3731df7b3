//! Backed demand: a bid counts only as far as its budget pays for it.
//!
//! A [`DemandCurve`] says what an agent would like at each price. The market must never price or
//! ration against demand it will not be paid for, so what counts — in `S(μ)`, in the Lipschitz
//! bound `L`, in rationing and in settlement — is an [`Order`]'s *backed demand*:
//!
//! ```text
//! d(μ) = 0                                   if B ≤ g,
//! d(μ) = min(x(μ), (B − g)/(μ + τ))          otherwise,
//! ```
//!
//! where `x(μ)` is the curve's demand, `B` what is left of the order's budget and `g` the
//! market's fixed fee: `(B − g)/(μ + τ)` is the most the budget pays for at `μ`, `g` included.
//!
//! `d` is continuous and non-increasing in `μ` (both terms are), so the clearing price stays
//! well defined and dual ascent with `η ≤ 1/L` still never crosses it. It is no longer convex
//! where the cap takes over from the curve; `docs/mechanism.md` explains what that means for the
//! Newton rule.

use crate::{
	curve::DemandCurve,
	fixed::{div, mul, mul_div},
};
use sp_arithmetic::traits::{One, Saturating, Zero};
use sp_arithmetic::{FixedU128, Rounding};

/// What the price rules need of a bidder's demand: its level and slopes at a price, where it
/// leaves the market, and a bound on its steepness above a floor price.
///
/// Implemented by [`DemandCurve`] (demand as declared, whatever it costs) and by [`Order`]
/// (demand backed by a budget, as the chain counts it).
pub trait Demand {
	/// The demand at `price` under unit fee `unit_fee`, in units; non-increasing in `price`.
	fn demand_at(&self, unit_fee: FixedU128, price: FixedU128) -> FixedU128;
	/// `|d'|` from the left and from the right of `price` (zero where the demand is flat).
	fn slopes_at(&self, unit_fee: FixedU128, price: FixedU128) -> (FixedU128, FixedU128);
	/// An upper bound on the prices at which the demand is positive (`None`: no such bound).
	fn exit_price(&self, unit_fee: FixedU128) -> Option<FixedU128>;
	/// A bound on `|d'(μ)|` for every `μ ≥ floor`.
	fn steepest_slope_from(&self, unit_fee: FixedU128, floor: FixedU128) -> FixedU128;
	/// A bound on `|d'(μ)|` for every `μ` in `[low, high]` (prices at or above `floor`). By
	/// default the bound from the floor, which holds there too; a demand known piece by piece
	/// (a book on a price grid) bounds it over the interval alone.
	fn steepest_slope_between(
		&self,
		unit_fee: FixedU128,
		floor: FixedU128,
		_low: FixedU128,
		_high: FixedU128,
	) -> FixedU128 {
		self.steepest_slope_from(unit_fee, floor)
	}
	/// The demand and its slopes at `price` together (what a price step evaluates), for
	/// demands that can share the work.
	fn level_and_slopes_at(
		&self,
		unit_fee: FixedU128,
		price: FixedU128,
	) -> (FixedU128, (FixedU128, FixedU128)) {
		(self.demand_at(unit_fee, price), self.slopes_at(unit_fee, price))
	}
}

impl Demand for DemandCurve {
	fn demand_at(&self, unit_fee: FixedU128, price: FixedU128) -> FixedU128 {
		DemandCurve::demand_at(self, unit_fee, price)
	}
	fn slopes_at(&self, unit_fee: FixedU128, price: FixedU128) -> (FixedU128, FixedU128) {
		DemandCurve::slopes_at(self, unit_fee, price)
	}
	fn exit_price(&self, unit_fee: FixedU128) -> Option<FixedU128> {
		DemandCurve::exit_price(self, unit_fee)
	}
	/// A log-utility agent's slope `α/(β + τ + μ)²` is largest at the lowest price; a line's is
	/// the same everywhere it demands something.
	fn steepest_slope_from(&self, unit_fee: FixedU128, floor: FixedU128) -> FixedU128 {
		DemandCurve::steepest_slope_from(self, unit_fee, floor)
	}
}

/// A demand curve backed by a budget, in a market with fixed fee `g`: what the chain counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Order {
	/// What the agent would like at each price.
	pub curve: DemandCurve,
	/// The most the order pays in the epoch, `g` included, in tokens.
	pub budget: FixedU128,
	/// The market's fixed fee `g`, in tokens.
	pub fixed_fee: FixedU128,
}

impl Order {
	/// `B − g`: what the budget leaves for units, in tokens (zero when `B ≤ g`).
	fn spendable(&self) -> FixedU128 {
		self.budget.saturating_sub(self.fixed_fee)
	}

	/// The most units the budget pays for at `price`: `(B − g)/(μ + τ)`, rounded down
	/// (unbounded when `μ + τ = 0`).
	pub fn budget_cap(&self, unit_fee: FixedU128, price: FixedU128) -> FixedU128 {
		div(self.spendable(), price.saturating_add(unit_fee), Rounding::Down)
	}
}

impl Demand for Order {
	fn demand_at(&self, unit_fee: FixedU128, price: FixedU128) -> FixedU128 {
		if self.spendable().is_zero() {
			return FixedU128::zero();
		}
		DemandCurve::demand_at(&self.curve, unit_fee, price).min(self.budget_cap(unit_fee, price))
	}

	fn slopes_at(&self, unit_fee: FixedU128, price: FixedU128) -> (FixedU128, FixedU128) {
		self.level_and_slopes_at(unit_fee, price).1
	}

	/// The curve's demand and the budget cap are computed once for both.
	fn level_and_slopes_at(
		&self,
		unit_fee: FixedU128,
		price: FixedU128,
	) -> (FixedU128, (FixedU128, FixedU128)) {
		if self.spendable().is_zero() {
			return (FixedU128::zero(), (FixedU128::zero(), FixedU128::zero()));
		}
		let wanted = DemandCurve::demand_at(&self.curve, unit_fee, price);
		let cap = self.budget_cap(unit_fee, price);
		if cap < wanted {
			// The cap binds: d = k/c with c = μ + τ, so |d'| = k/c² = ⌊k/c⌋/c.
			let cost = price.saturating_add(unit_fee);
			let slope = mul_div(cap, FixedU128::one(), cost, Rounding::Down);
			(cap, (slope, slope))
		} else {
			(wanted, DemandCurve::slopes_at(&self.curve, unit_fee, price))
		}
	}

	fn exit_price(&self, unit_fee: FixedU128) -> Option<FixedU128> {
		if self.spendable().is_zero() {
			return Some(FixedU128::zero());
		}
		DemandCurve::exit_price(&self.curve, unit_fee)
	}

	/// With `c = floor + τ`, `k = B − g` and `w = x(floor)`:
	/// - where the cap is active, `d = k/μ'` with `μ' ≥ c` and `k/μ' ≤ w`, so
	///   `|d'| = k/μ'² ≤ min(k/c², w²/k)`;
	/// - where the curve is active, `|x'| = α/(β + μ')² = (x + 1)²/α ≤ (k/μ' + 1)²/α`, so
	///   `|d'| ≤ min(α/(β + c)², (k/c + 1)²/α)`.
	///
	/// Both bounds fall with the price, so their maximum at the floor bounds `|d'|` above it. A
	/// huge `α` with a tiny budget therefore adds almost nothing to `L`.
	fn steepest_slope_from(&self, unit_fee: FixedU128, floor: FixedU128) -> FixedU128 {
		let spendable = self.spendable();
		if spendable.is_zero() {
			return FixedU128::zero();
		}
		let cost = floor.saturating_add(unit_fee);
		let wanted = DemandCurve::demand_at(&self.curve, unit_fee, floor);
		let cap_piece =
			mul_div(spendable, FixedU128::one(), mul(cost, cost, Rounding::Down), Rounding::Up)
				.min(mul_div(wanted, wanted, spendable, Rounding::Up));
		let curve_piece = match self.curve {
			DemandCurve::LogUtility { alpha, .. } => {
				let per_unit = div(spendable, cost, Rounding::Up).saturating_add(FixedU128::one());
				DemandCurve::slopes_at(&self.curve, unit_fee, floor).0.min(mul_div(
					per_unit,
					per_unit,
					alpha,
					Rounding::Up,
				))
			},
			DemandCurve::Quantity { .. } => FixedU128::zero(),
			DemandCurve::Linear { .. } => self.curve.steepest_slope_from(unit_fee, floor),
		};
		cap_piece.max(curve_piece)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::settlement::payment_for;
	use crate::testing::{agent, fixed};

	fn order(curve: DemandCurve, budget: f64, fixed_fee: f64) -> Order {
		Order { curve, budget: fixed(budget), fixed_fee: fixed(fixed_fee) }
	}

	#[test]
	fn a_budget_at_or_below_g_backs_nothing() {
		let whale = DemandCurve::Quantity { x: fixed(1e9) };
		for budget in [0.0, 0.1, 1.0] {
			let order = order(whale, budget, 1.0);
			assert_eq!(Demand::demand_at(&order, fixed(0.5), fixed(1.0)), FixedU128::zero());
			assert_eq!(order.steepest_slope_from(fixed(0.5), FixedU128::zero()), FixedU128::zero());
		}
	}

	#[test]
	fn the_budget_caps_demand_at_what_it_pays() {
		// B = 3, g = 1, τ = 0.5, μ = 1.5: (3 − 1)/2 = 1 unit, whatever the report.
		let order = order(DemandCurve::Quantity { x: fixed(1e9) }, 3.0, 1.0);
		let demand = Demand::demand_at(&order, fixed(0.5), fixed(1.5));
		assert_eq!(demand, fixed(1.0));
		assert!(payment_for(demand, fixed(0.5), fixed(1.0), fixed(1.5)) <= fixed(3.0));
		// The cap's slope k/c² = 2/4.
		assert_eq!(order.slopes_at(fixed(0.5), fixed(1.5)), (fixed(0.5), fixed(0.5)));
	}

	#[test]
	fn a_huge_alpha_with_a_tiny_budget_adds_almost_nothing_to_l() {
		// The attack of issue 11: α = 10⁶, β = 10⁻³ declared with a 2-token budget (g = 1).
		let curve = agent(1e6, 1e-3);
		let unbacked = curve.steepest_slope_from(fixed(0.5), FixedU128::zero());
		let backed = order(curve, 2.0, 1.0).steepest_slope_from(fixed(0.5), FixedU128::zero());
		assert!(unbacked > fixed(1e6), "declared: {unbacked:?}");
		assert!(backed <= fixed(4.0), "backed: {backed:?}");
	}

	#[test]
	fn the_slope_bound_holds_above_the_floor() {
		let unit_fee = fixed(0.5);
		for (curve, budget) in [
			(agent(20.0, 0.5), 5.0),
			(agent(20.0, 0.5), 500.0),
			(agent(1e6, 1e-3), 3.0),
			(DemandCurve::Quantity { x: fixed(40.0) }, 10.0),
		] {
			let order = order(curve, budget, 1.0);
			let bound = order.steepest_slope_from(unit_fee, FixedU128::zero());
			for step in 0..2000u32 {
				let price = FixedU128::from_rational(u128::from(step), 100);
				let (below, above) = order.slopes_at(unit_fee, price);
				assert!(
					below <= bound && above <= bound,
					"{curve:?} at {price:?}: {below:?} > {bound:?}"
				);
			}
		}
	}

	#[test]
	fn backed_demand_never_rises_with_the_price() {
		let unit_fee = fixed(0.5);
		for (curve, budget, fee) in [
			(agent(20.0, 0.5), 5.0, 1.0),
			(agent(12.0, 2.0), 1000.0, 2.0),
			(agent(8.0, 4.0), 30.0, 0.5),
		] {
			let order = order(curve, budget, fee);
			let mut last = Demand::demand_at(&order, unit_fee, FixedU128::zero());
			for step in 1..3000u32 {
				let price = FixedU128::from_rational(u128::from(step), 100);
				let demand = Demand::demand_at(&order, unit_fee, price);
				assert!(demand <= last, "{curve:?} rose at {price:?}");
				last = demand;
			}
		}
	}

	mod properties {
		use super::*;
		use crate::{market::tests::paper_market, market::StepRule, settlement::allocate};
		use proptest::prelude::*;

		fn any_curve() -> impl Strategy<Value = DemandCurve> {
			prop_oneof![
				(1u128..=1_000_000_000, 1u128..=1_000_000_000).prop_map(|(alpha, beta)| {
					// α in (0, 10⁶], β in [10⁻³, 10⁶], in millionths of a token.
					DemandCurve::LogUtility {
						alpha: FixedU128::from_rational(alpha, 1_000),
						beta: FixedU128::from_rational(beta.max(1_000), 1_000_000)
							.min(crate::curve::MAX_BETA),
					}
				}),
				(0u128..=1_000_000_000)
					.prop_map(|x| DemandCurve::Quantity { x: FixedU128::from_rational(x, 1_000) }),
			]
		}

		fn tokens(thousandths: u128) -> FixedU128 {
			FixedU128::from_rational(thousandths, 1_000)
		}

		proptest! {
			/// Backed demand never rises with the price, never costs more than its budget, and
			/// its slope never exceeds the bound `L` is built from.
			#[test]
			fn backed_demand_is_monotone_affordable_and_within_its_slope_bound(
				curve in any_curve(),
				budget in 0u128..=10_000_000,
				fixed_fee in 0u128..=5_000,
				unit_fee in 0u128..=2_000,
				floor in 0u128..=5_000,
				steps in prop::collection::vec(0u128..=50_000, 1..8),
			) {
				let order = Order { curve, budget: tokens(budget), fixed_fee: tokens(fixed_fee) };
				let unit_fee = tokens(unit_fee);
				let floor = tokens(floor);
				let bound = order.steepest_slope_from(unit_fee, floor);
				let mut price = floor;
				let mut last = Demand::demand_at(&order, unit_fee, price);
				for step in steps {
					let demand = Demand::demand_at(&order, unit_fee, price);
					prop_assert!(demand <= last, "demand rose at {:?}", price);
					last = demand;
					// Rounding: the payment may exceed the budget by a few units of 10⁻¹⁸.
					let payment = payment_for(demand, unit_fee, order.fixed_fee, price);
					prop_assert!(
						demand.is_zero() ||
							payment <= order.budget.saturating_add(FixedU128::from_inner(10)),
						"{:?} costs {:?} > {:?}", demand, payment, order.budget
					);
					let (below, above) = order.slopes_at(unit_fee, price);
					// The bound is rounded up, each slope down: equal up to rounding.
					let slack = bound.saturating_add(FixedU128::from_inner(1_000));
					prop_assert!(below <= slack && above <= slack, "slope above L at {:?}", price);
					price = price.saturating_add(tokens(step));
				}
			}

			/// Settlement allocates at most the capacity, and each allocation fits its budget.
			#[test]
			fn allocations_fit_capacity_and_budgets(
				orders in prop::collection::vec((any_curve(), 0u128..=100_000), 1..30),
				capacity in 1u32..=200,
				price in 0u128..=20_000,
			) {
				let mut params = paper_market(StepRule::DualAscent { eta: tokens(100) });
				params.capacity = FixedU128::from_u32(capacity);
				let orders: alloc::vec::Vec<Order> = orders
					.into_iter()
					.map(|(curve, budget)| Order {
						curve,
						budget: tokens(budget),
						fixed_fee: params.fixed_fee,
					})
					.collect();
				let price = tokens(price);
				let allocations = allocate(&orders, &params, price);
				let total = allocations.iter().fold(FixedU128::zero(), |s, x| s.saturating_add(*x));
				prop_assert!(total <= params.capacity);
				for (order, allocation) in orders.iter().zip(allocations) {
					let payment = payment_for(allocation, params.unit_fee, params.fixed_fee, price);
					prop_assert!(
						allocation.is_zero() ||
							payment <= order.budget.saturating_add(FixedU128::from_inner(10))
					);
				}
			}
		}
	}
}
