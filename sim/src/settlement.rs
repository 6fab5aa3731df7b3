//! The chain's epoch settlement of a draw, and the first-best benchmark.
//!
//! [`settle`] does what the pallet's settlement does for bids with ample budgets, with the
//! chain's own [`allocate`]: each bidder is allocated its demand at the posted price, the
//! allocations are scaled pro rata to capacity when they exceed it, and an agent whose allocation
//! is not worth its payment (`g` included) gets nothing; the epoch's metrics are the chain's
//! [`total_surplus`], [`fairness`] and [`participation_rate`]. The paper's metrics are over all `n` agents, so the simulator also
//! evaluates fairness and participation with the agents who do not bid counted at zero.

use crate::participation::Entry;
use contract_equilibrium_primitives::{
	allocate, clearing_price, fairness, participation_rate, total_surplus, DemandCurve, FixedU128,
	MarketParams, Order, Perbill,
};
use sp_arithmetic::traits::Saturating;

/// What an epoch settled at one price gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
	/// The posted price the epoch settled at.
	pub price: FixedU128,
	/// The bidders' demand at that price, before rationing.
	pub demand: FixedU128,
	/// The units allocated, after rationing.
	pub total_allocated: FixedU128,
	/// Efficiency: the total surplus `Σ α·ln(1 + x) − β·x` of the allocations, in tokens.
	pub surplus: FixedU128,
	/// `1 − Gini` of the allocations of all `n` agents (those who do not bid count as zero).
	pub fairness: Perbill,
	/// The share of all `n` agents with a positive allocation.
	pub participation: Perbill,
	/// `1 − Gini` over the bidders only: what the pallet records in its `EpochOutcome`.
	pub bidder_fairness: Perbill,
	/// The share of bidders with a positive allocation: what the pallet records.
	pub bidder_participation: Perbill,
	/// Whether demand exceeded capacity and allocations were rationed.
	pub rationed: bool,
	/// Whether the allocations exceed capacity after rationing. Must never happen.
	pub capacity_violation: bool,
}

/// A bid of `curve` whose budget never binds, as the simulator's bidders are.
pub fn ample_budget(curve: DemandCurve, market: &MarketParams<u64>) -> Order {
	Order { curve, budget: FixedU128::from_u32(u32::MAX), fixed_fee: market.fixed_fee }
}

/// Settles an epoch at `price`: the agents `bidders` (indices into `agents`) bid in `market`.
pub fn settle(
	agents: &[DemandCurve],
	bidders: &[usize],
	market: &MarketParams<u64>,
	price: FixedU128,
) -> Outcome {
	let curves: Vec<DemandCurve> = bidders.iter().map(|&index| agents[index]).collect();
	let demand = curves.iter().fold(FixedU128::from_inner(0), |total, curve| {
		total.saturating_add(curve.demand_at(market.unit_fee, price))
	});
	let orders: Vec<Order> = curves.iter().map(|&curve| ample_budget(curve, market)).collect();
	let allocations = allocate(&orders, market, price);
	let total_allocated = sum(&allocations);

	let mut everyone = vec![FixedU128::from_inner(0); agents.len()];
	for (&index, &allocation) in bidders.iter().zip(&allocations) {
		everyone[index] = allocation;
	}
	Outcome {
		price,
		demand,
		total_allocated,
		surplus: total_surplus(curves.iter().zip(allocations.iter().copied())),
		fairness: fairness(&everyone),
		participation: participation_rate(&everyone),
		bidder_fairness: fairness(&allocations),
		bidder_participation: participation_rate(&allocations),
		rationed: demand > market.capacity,
		capacity_violation: total_allocated > market.capacity,
	}
}

/// Settles at the bidders' clearing price from `entry`.
pub fn settle_at_equilibrium(
	agents: &[DemandCurve],
	entry: &Entry,
	market: &MarketParams<u64>,
) -> Outcome {
	settle(agents, &entry.bidders, market, entry.clearing_price)
}

/// The largest total surplus any allocation of the capacity achieves:
/// `max Σ α·ln(1 + x) − β·x` subject to `Σ x ≤ m`. Fees and payments are transfers and do not
/// count, so this is the chain's settlement at the clearing price of all agents with `τ = 0`
/// and `g = 0` (the Lagrange multiplier of the capacity constraint).
pub fn first_best_surplus(agents: &[DemandCurve], market: &MarketParams<u64>) -> FixedU128 {
	let zero = FixedU128::from_inner(0);
	let planner = MarketParams { unit_fee: zero, fixed_fee: zero, ..market.clone() };
	let everyone: Vec<usize> = (0..agents.len()).collect();
	settle(agents, &everyone, &planner, clearing_price(agents, &planner)).surplus
}

fn sum(values: &[FixedU128]) -> FixedU128 {
	values.iter().fold(FixedU128::from_inner(0), |total, value| total.saturating_add(*value))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{agents::DrawSeed, participation::entry_equilibrium, scenarios::Scenario};

	#[test]
	fn settlement_never_exceeds_capacity_and_rations_below_the_clearing_price() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		for replication in 0..30 {
			let agents = scenario.draw(DrawSeed { master: 9, replication });
			let entry = entry_equilibrium(&agents, &market);
			for price in [0.0, 0.2, 0.7, 1.5, 3.0] {
				let outcome =
					settle(&agents, &entry.bidders, &market, FixedU128::from_float(price));
				assert!(!outcome.capacity_violation);
				assert!(outcome.total_allocated <= market.capacity);
				assert_eq!(outcome.rationed, outcome.demand > market.capacity);
			}
			let at_equilibrium = settle_at_equilibrium(&agents, &entry, &market);
			assert!(!at_equilibrium.rationed, "S(μ*) ≤ m");
		}
	}

	#[test]
	fn the_first_best_bounds_every_settlement() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		for replication in 0..30 {
			let agents = scenario.draw(DrawSeed { master: 10, replication });
			let best = first_best_surplus(&agents, &market);
			let entry = entry_equilibrium(&agents, &market);
			for price in [0.0, 0.5, 1.0, 2.0] {
				let outcome =
					settle(&agents, &entry.bidders, &market, FixedU128::from_float(price));
				assert!(outcome.surplus.to_float() <= best.to_float() * (1.0 + 1e-15));
			}
		}
	}

	#[test]
	fn non_bidders_count_as_zero_in_the_papers_metrics() {
		let agent = |alpha: u32| DemandCurve::LogUtility {
			alpha: FixedU128::from_u32(alpha),
			beta: FixedU128::from_rational(1, 2),
		};
		let agents = [agent(10), agent(10), agent(10), agent(10)];
		let market = Scenario::paper_defaults().market();
		// Two identical bidders out of four: equal among bidders, half the population in.
		let outcome = settle(&agents, &[0, 2], &market, FixedU128::from_inner(0));
		assert_eq!(outcome.bidder_fairness, Perbill::one());
		assert_eq!(outcome.bidder_participation, Perbill::one());
		assert_eq!(outcome.participation, Perbill::from_percent(50));
		// Gini of [0, 0, x, x] = (−3·0 − 1·0 + 1·x + 3·x)/(4·2x) = 1/2.
		assert_eq!(outcome.fairness, Perbill::from_percent(50));
	}
}
