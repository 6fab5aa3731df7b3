//! Who bids: the fixed fee `g` decides participation.
//!
//! In the paper an agent pays `g` only when `x > 0`, so an agent whose best payoff does not cover
//! `g` stays out. On chain a declared agent is never charged `g` for an allocation not worth it
//! (settlement allocates it nothing), but it still counts in the price while it bids, so it is
//! the agent who decides whether to place a bid. The simulator models that decision: agent `i`
//! bids at price `μ` iff its best payoff covers the fees,
//!
//! ```text
//! α·ln(1 + x) − β·x − (μ + τ)·x − g ≥ 0,   x = x_i(μ) the chain's best response,
//! ```
//!
//! computed with the chain's own test, which the chain's settlement applies too: an agent that
//! bids where this fails is allocated nothing.
//!
//! Who bids moves the clearing price, and the clearing price moves who bids. The simulator takes
//! the participation equilibrium reached by exits: start with every agent who would bid at the
//! price floor; compute the clearing price `μ*` of the bidders (the chain's [`clearing_price`]);
//! drop the bidders who do not cover `g` at `μ*`; repeat until nobody drops. Dropping bidders
//! only lowers `μ*`, so the remaining bidders keep covering `g`. An agent dropped early might
//! cover `g` again at the final, lower price; such agents are counted
//! ([`Entry::would_reenter`]) and reported rather than hidden.

use contract_equilibrium_primitives::{clearing_price, DemandCurve, FixedU128, MarketParams};

/// Whether an agent with demand `curve` bids in `market` at `price`: its best response is worth
/// its payment, fees included — the chain's own test
/// ([`contract_equilibrium_primitives::covers_fixed_fee`]), which settlement also applies.
pub fn covers_fixed_fee(curve: &DemandCurve, market: &MarketParams<u64>, price: FixedU128) -> bool {
	contract_equilibrium_primitives::covers_fixed_fee(
		curve,
		curve.demand_at(market.unit_fee, price),
		market.unit_fee,
		market.fixed_fee,
		price,
	)
}

/// The outcome of the entry process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
	/// The indices of the agents who bid, ascending.
	pub bidders: Vec<usize>,
	/// The clearing price `μ*` of the bidders' demand.
	pub clearing_price: FixedU128,
	/// How many rounds of exits it took (one when nobody left after the first clearing price).
	pub rounds: u32,
	/// Agents who do not bid but would cover `g` at the final clearing price.
	pub would_reenter: usize,
}

impl Entry {
	/// The bidders' demand curves.
	pub fn curves(&self, agents: &[DemandCurve]) -> Vec<DemandCurve> {
		self.bidders.iter().map(|&index| agents[index]).collect()
	}
}

/// The participation equilibrium reached by exits (see the module's documentation).
pub fn entry_equilibrium(agents: &[DemandCurve], market: &MarketParams<u64>) -> Entry {
	let mut bidders: Vec<usize> = (0..agents.len())
		.filter(|&index| covers_fixed_fee(&agents[index], market, market.price_floor))
		.collect();
	let mut rounds = 0u32;
	let price = loop {
		rounds += 1;
		let curves: Vec<DemandCurve> = bidders.iter().map(|&index| agents[index]).collect();
		let price = clearing_price(&curves, market);
		let staying: Vec<usize> = bidders
			.iter()
			.copied()
			.filter(|&index| covers_fixed_fee(&agents[index], market, price))
			.collect();
		if staying.len() == bidders.len() {
			break price;
		}
		bidders = staying;
	};
	let would_reenter = (0..agents.len())
		.filter(|index| bidders.binary_search(index).is_err())
		.filter(|&index| covers_fixed_fee(&agents[index], market, price))
		.count();
	Entry { bidders, clearing_price: price, rounds, would_reenter }
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::scenarios::Scenario;

	fn agent(alpha: f64, beta: f64) -> DemandCurve {
		DemandCurve::LogUtility {
			alpha: FixedU128::from_float(alpha),
			beta: FixedU128::from_float(beta),
		}
	}

	/// The payoff `α ln(α/c) − (α − c) − g` of the best response at marginal cost `c = β+τ+μ`.
	fn payoff(alpha: f64, beta: f64, tau: f64, g: f64, price: f64) -> f64 {
		let cost = beta + tau + price;
		alpha * (alpha / cost).ln() - (alpha - cost) - g
	}

	#[test]
	fn the_fixed_fee_decides_who_bids() {
		let market = Scenario::paper_defaults().market();
		// α = 5, β = 3.5, τ = 0.5: x(0) = 0.25 and a payoff of 5 ln 1.25 − 1 − 1 < 0: out.
		assert!(payoff(5.0, 3.5, 0.5, 1.0, 0.0) < 0.0);
		assert!(!covers_fixed_fee(&agent(5.0, 3.5), &market, FixedU128::from_inner(0)));
		// α = 20, β = 0.5: payoff 20 ln 20 − 19 − 1 ≈ 39.9: in, and still in at μ = 5.
		assert!(covers_fixed_fee(&agent(20.0, 0.5), &market, FixedU128::from_inner(0)));
		assert!(covers_fixed_fee(&agent(20.0, 0.5), &market, FixedU128::from_u32(5)));
		// Nobody bids at a price beyond its exit price.
		assert!(!covers_fixed_fee(&agent(20.0, 0.5), &market, FixedU128::from_u32(19)));
	}

	#[test]
	fn the_decision_matches_the_closed_form_payoff() {
		let market = Scenario::paper_defaults().market();
		for alpha in [5.0, 6.5, 8.0, 12.0, 19.0] {
			for beta in [0.5, 1.0, 2.5, 4.9] {
				for price in [0.0, 0.5, 2.0] {
					let expected = payoff(alpha, beta, 0.5, 1.0, price);
					if expected.abs() < 1e-9 {
						continue;
					}
					assert_eq!(
						covers_fixed_fee(
							&agent(alpha, beta),
							&market,
							FixedU128::from_float(price)
						),
						expected > 0.0,
						"α {alpha}, β {beta}, μ {price}: payoff {expected}"
					);
				}
			}
		}
	}

	#[test]
	fn exits_lower_the_price_and_the_stayers_still_cover_the_fee() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		for replication in 0..50 {
			let agents = scenario.draw(crate::agents::DrawSeed { master: 11, replication });
			let entry = entry_equilibrium(&agents, &market);
			let curves = entry.curves(&agents);
			assert_eq!(entry.clearing_price, clearing_price(&curves, &market));
			for &index in &entry.bidders {
				assert!(covers_fixed_fee(&agents[index], &market, entry.clearing_price));
			}
			let everyone = clearing_price(&agents, &market);
			assert!(entry.clearing_price <= everyone);
		}
	}
}
