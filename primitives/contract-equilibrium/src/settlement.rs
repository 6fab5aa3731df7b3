//! Epoch settlement: quotes, pro-rata rationing and the epoch's metrics.

use crate::{
	curve::DemandCurve,
	fixed::{ln_1p, mul},
	market::MarketParams,
	order::{Demand, Order},
};
use alloc::vec::Vec;
use sp_arithmetic::traits::{Saturating, Zero};
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding, FixedU128, Perbill, Rounding,
};

/// What a curve gets and pays at a price.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Quote {
	/// The allocation, in units: the curve's demand at the price (before any rationing).
	pub allocation: FixedU128,
	/// The payment, in tokens: `(μ + τ)·x + g` when `x > 0`, else nothing.
	pub payment: FixedU128,
}

/// What `curve` would get and pay at `price` under unit fee `unit_fee` and fixed fee
/// `fixed_fee`, if capacity is not rationed.
pub fn quote(
	curve: &DemandCurve,
	unit_fee: FixedU128,
	fixed_fee: FixedU128,
	price: FixedU128,
) -> Quote {
	let allocation = curve.demand_at(unit_fee, price);
	Quote { allocation, payment: payment_for(allocation, unit_fee, fixed_fee, price) }
}

/// `(μ + τ)·x + g` for `x > 0`, zero for `x = 0`, rounded up (in tokens).
pub fn payment_for(
	allocation: FixedU128,
	unit_fee: FixedU128,
	fixed_fee: FixedU128,
	price: FixedU128,
) -> FixedU128 {
	if allocation.is_zero() {
		return FixedU128::zero();
	}
	mul(price.saturating_add(unit_fee), allocation, Rounding::Up).saturating_add(fixed_fee)
}

/// Scales `allocations` down pro rata so that they sum to at most `capacity`; leaves them alone
/// when they already do. Each share is rounded down, so the sum never exceeds `capacity`.
pub fn ration(allocations: &mut [FixedU128], capacity: FixedU128) {
	let total = allocations.iter().fold(FixedU128::zero(), |sum, x| sum.saturating_add(*x));
	if total <= capacity {
		return;
	}
	for allocation in allocations.iter_mut() {
		let share = multiply_by_rational_with_rounding(
			allocation.into_inner(),
			capacity.into_inner(),
			total.into_inner(),
			Rounding::Down,
		)
		.unwrap_or(0);
		*allocation = FixedU128::from_inner(share);
	}
}

/// Whether an allocation `x` of `curve` at `price` is worth its price and fees to the agent, the
/// paper's participation decision: `α·ln(1 + x) − β·x ≥ (μ + τ)·x + g`, with the value rounded
/// down and the costs up. False for `x = 0`; true for a reported quantity with `x > 0` (its
/// value is not known to the chain: reporting it is the agent's decision). The simulator's
/// agents decide whether to bid with it; `docs/mechanism.md` explains why settlement does not
/// veto allocations with it.
pub fn covers_fixed_fee(
	curve: &DemandCurve,
	allocation: FixedU128,
	unit_fee: FixedU128,
	fixed_fee: FixedU128,
	price: FixedU128,
) -> bool {
	if allocation.is_zero() {
		return false;
	}
	match curve {
		DemandCurve::LogUtility { .. } => {
			total_surplus([(curve, allocation)])
				>= payment_for(allocation, unit_fee, fixed_fee, price)
		},
		DemandCurve::Quantity { .. } | DemandCurve::Linear { .. } => true,
	}
}

/// What each of `orders` is allocated when an epoch settles at `price`: its backed demand
/// ([`Order`]: what its budget pays for, `g` included), rationed pro rata to the capacity when
/// the total exceeds it ([`ration`]) — exactly the demand the price counted.
///
/// The sum never exceeds the capacity, and every positive allocation's payment
/// `(μ + τ)·x + g` fits in its order's budget (up to rounding of a unit of 10⁻¹⁸).
pub fn allocate<AccountId>(
	orders: &[Order],
	params: &MarketParams<AccountId>,
	price: FixedU128,
) -> Vec<FixedU128> {
	let mut allocations: Vec<FixedU128> =
		orders.iter().map(|order| order.demand_at(params.unit_fee, price)).collect();
	ration(&mut allocations, params.capacity);
	allocations
}

/// The total surplus the allocations create, `Σ α·ln(1 + x) − β·x` over log-utility agents
/// (in tokens). Payments and fees are transfers between agents, the payee and the chain, so they
/// do not change it; reported quantities carry no utility the chain knows and count zero.
pub fn total_surplus<'a>(
	allocations: impl IntoIterator<Item = (&'a DemandCurve, FixedU128)>,
) -> FixedU128 {
	allocations.into_iter().fold(FixedU128::zero(), |sum, (curve, allocation)| match *curve {
		DemandCurve::LogUtility { alpha, beta } => {
			let value = mul(alpha, ln_1p(allocation), Rounding::Down);
			sum.saturating_add(value.saturating_sub(mul(beta, allocation, Rounding::Up)))
		},
		DemandCurve::Quantity { .. } | DemandCurve::Linear { .. } => sum,
	})
}

/// Fairness `1 − Gini` of the allocations (one when all are equal, or when nobody got anything).
///
/// With the allocations sorted ascending, `Gini = Σᵢ (2i − n − 1)·xᵢ / (n·Σ x)` (i from 1).
pub fn fairness(allocations: &[FixedU128]) -> Perbill {
	let mut sorted: Vec<u128> = allocations.iter().map(|x| x.into_inner()).collect();
	sorted.sort_unstable();
	let count = sorted.len() as u128;
	let total = sorted.iter().fold(0u128, |sum, x| sum.saturating_add(*x));
	if count == 0 || total == 0 {
		return Perbill::one();
	}
	// Σ (2i − n − 1)·xᵢ splits into a positive and a negative part, each at most n·Σx.
	let (mut above, mut below) = (0u128, 0u128);
	for (index, allocation) in sorted.iter().enumerate() {
		let rank = (index as u128).saturating_add(1);
		let twice_rank = rank.saturating_mul(2);
		let midpoint = count.saturating_add(1);
		let weight_above = twice_rank.saturating_sub(midpoint);
		let weight_below = midpoint.saturating_sub(twice_rank);
		above = above.saturating_add(weight(allocation, weight_above, count, total));
		below = below.saturating_add(weight(allocation, weight_below, count, total));
	}
	// Each part was normalised by n·Σx into parts per billion.
	let gini = above.saturating_sub(below).min(1_000_000_000);
	Perbill::from_parts(1_000_000_000u32.saturating_sub(gini as u32))
}

/// `x·w / (n·total)` in parts per billion, rounded down.
fn weight(allocation: &u128, weight: u128, count: u128, total: u128) -> u128 {
	multiply_by_rational_with_rounding(
		*allocation,
		weight.saturating_mul(1_000_000_000),
		count.saturating_mul(total),
		Rounding::Down,
	)
	.unwrap_or(u128::MAX)
}

/// The share of bidders who received an allocation.
pub fn participation_rate(allocations: &[FixedU128]) -> Perbill {
	let participants = allocations.iter().filter(|x| !x.is_zero()).count();
	if allocations.is_empty() {
		return Perbill::zero();
	}
	Perbill::from_rational(participants as u64, allocations.len() as u64)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::fixed;

	#[test]
	fn quote_charges_price_plus_fee_per_unit_plus_the_fixed_fee() {
		let curve = DemandCurve::LogUtility { alpha: fixed(10.0), beta: fixed(1.0) };
		// τ = 0.5, μ = 0.5: x = 4, payment = (0.5 + 0.5)·4 + 1 = 5.
		let quote = quote(&curve, fixed(0.5), fixed(1.0), fixed(0.5));
		assert_eq!(quote, Quote { allocation: fixed(4.0), payment: fixed(5.0) });
		// Out of the market: nothing to pay, not even g.
		let quote = super::quote(&curve, fixed(0.5), fixed(1.0), fixed(50.0));
		assert_eq!(quote, Quote { allocation: FixedU128::zero(), payment: FixedU128::zero() });
	}

	#[test]
	fn rationing_keeps_the_sum_within_capacity() {
		let mut allocations = [fixed(30.0), fixed(60.0), fixed(10.0)];
		ration(&mut allocations, fixed(50.0));
		assert_eq!(allocations, [fixed(15.0), fixed(30.0), fixed(5.0)]);
		// Awkward ratios: the sum still never exceeds capacity.
		let mut allocations =
			[FixedU128::from_inner(1), FixedU128::from_inner(1), fixed(1.0 / 3.0)];
		let capacity = fixed(0.1);
		ration(&mut allocations, capacity);
		let total = allocations.iter().fold(FixedU128::zero(), |s, x| s.saturating_add(*x));
		assert!(total <= capacity);
		// Under capacity: untouched.
		let mut allocations = [fixed(1.0), fixed(2.0)];
		ration(&mut allocations, fixed(3.0));
		assert_eq!(allocations, [fixed(1.0), fixed(2.0)]);
	}

	#[test]
	fn allocations_are_backed_and_within_capacity() {
		use crate::{market::tests::paper_market, market::StepRule, testing::agent};
		// The attack of issue 11 (1): a report of 10⁹ units with a budget of 0.1 tokens (g = 1)
		// next to an honest agent (α = 10, β = 0.5: 9 units at μ = 0) gets nothing, and the
		// honest agent is not rationed.
		let params = paper_market(StepRule::DualAscent { eta: fixed(0.1) });
		let attacker = Order {
			curve: DemandCurve::Quantity { x: fixed(1e9) },
			budget: fixed(0.1),
			fixed_fee: params.fixed_fee,
		};
		let honest =
			Order { curve: agent(10.0, 0.5), budget: fixed(1e6), fixed_fee: params.fixed_fee };
		assert_eq!(
			allocate(&[attacker, honest], &params, FixedU128::zero()),
			[FixedU128::zero(), fixed(9.0)]
		);
		// With a 51-token budget it is backed for (51 − 1)/0.5 = 100 units: rationed with the
		// honest agent to capacity 100, and every payment fits its budget.
		let attacker = Order { budget: fixed(51.0), ..attacker };
		let allocations = allocate(&[attacker, honest], &params, FixedU128::zero());
		let total = allocations.iter().fold(FixedU128::zero(), |s, x| s.saturating_add(*x));
		assert!(total <= params.capacity);
		assert!(
			payment_for(allocations[0], params.unit_fee, params.fixed_fee, FixedU128::zero())
				<= fixed(51.0)
		);
	}

	#[test]
	fn covers_fixed_fee_is_the_papers_participation_test() {
		use crate::testing::agent;
		// α = 5, β = 3.5, τ = 0.5 at μ = 0: x = 0.25, worth 5·ln 1.25 − 0.875 ≈ 0.24 against a
		// payment of 0.125 + g.
		let curve = agent(5.0, 3.5);
		assert!(covers_fixed_fee(&curve, fixed(0.25), fixed(0.5), fixed(0.1), FixedU128::zero()));
		assert!(!covers_fixed_fee(&curve, fixed(0.25), fixed(0.5), fixed(0.2), FixedU128::zero()));
		assert!(!covers_fixed_fee(&curve, FixedU128::zero(), fixed(0.5), fixed(0.0), fixed(0.0)));
		let report = DemandCurve::Quantity { x: fixed(1.0) };
		assert!(covers_fixed_fee(&report, fixed(1.0), fixed(0.5), fixed(1e6), fixed(0.0)));
	}

	#[test]
	fn fairness_is_one_minus_gini() {
		assert_eq!(fairness(&[fixed(5.0); 4]), Perbill::one());
		assert_eq!(fairness(&[]), Perbill::one());
		// One agent takes everything among four: Gini = (n − 1)/n = 0.75.
		let unequal = [FixedU128::zero(), FixedU128::zero(), FixedU128::zero(), fixed(8.0)];
		assert_eq!(fairness(&unequal), Perbill::from_percent(25));
		// [1, 2, 3]: Gini = (−2·1 + 0·2 + 2·3)/(3·6) = 2/9.
		let gini = 1.0 - fairness(&[fixed(1.0), fixed(2.0), fixed(3.0)]).deconstruct() as f64 / 1e9;
		assert!((gini - 2.0 / 9.0).abs() < 1e-8);
	}

	#[test]
	fn participation_counts_positive_allocations() {
		assert_eq!(participation_rate(&[fixed(1.0), FixedU128::zero()]), Perbill::from_percent(50));
		assert_eq!(participation_rate(&[]), Perbill::zero());
	}

	#[test]
	fn surplus_counts_value_minus_own_cost() {
		let curve = DemandCurve::LogUtility { alpha: fixed(10.0), beta: fixed(1.0) };
		let quantity = DemandCurve::Quantity { x: fixed(3.0) };
		let surplus = total_surplus([(&curve, fixed(4.0)), (&quantity, fixed(3.0))]).to_float();
		assert!((surplus - (10.0 * 5f64.ln() - 4.0)).abs() < 1e-12);
	}
}
