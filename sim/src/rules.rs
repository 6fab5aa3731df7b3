//! The price-update rules compared, each taking one step per block from the posted price.
//!
//! Three rules are the chain's own [`StepRule`]s, stepped by the chain's [`next_price`]. Two are
//! comparison baselines the chain does not offer, written here in the chain's fixed point:
//!
//! - [`StepRuleKind::FixedStepDualAscent`]: the paper's dual ascent with any step `η`, including
//!   `0.95·2/L`, beyond the chain's cap `1/L`. It mirrors the chain's dual-ascent step operation
//!   by operation (clamp, `S(μ)`, `η·|S − m|` rounded down, clamp) without the cap; a test checks
//!   it reproduces the chain's rule exactly when `η ≤ 1/L`.
//! - [`StepRuleKind::Eip1559`]: an EIP-1559-style multiplicative rule,
//!   `μ ← μ·(1 + (1/8)·(S − m)/m)` with the ratio clamped to `[−1, 1]` (at most ±12.5 % per
//!   block, as Ethereum's base fee with a block limit of twice the target). A multiplicative rule
//!   cannot leave a price of zero, so a rise starts from at least `min_price` (Ethereum has a
//!   minimum base fee for the same reason).
//!
//! Both baselines see the demand only through the chain's [`aggregate_demand`].

use contract_equilibrium_primitives::{
	equilibrium::aggregate_demand,
	fixed::{div, mul, mul_div},
	lipschitz_bound, next_price, Demand, DemandCurve, FixedU128, MarketParams, Perbill, StepRule,
};
use sp_arithmetic::{traits::Saturating, Rounding};

/// How the dual-ascent step `η` is chosen for a draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepSize {
	/// `η = c/L`, with `L` the chain's Lipschitz bound of the bidders' demand at the price floor
	/// (what the paper prescribes, computed once when the market is set up).
	TimesInverseLipschitz(FixedU128),
	/// A fixed `η`, whatever the bids.
	Fixed(FixedU128),
}

impl StepSize {
	/// `η` for the bidders `curves` in `market`.
	pub fn eta(&self, curves: &[DemandCurve], market: &MarketParams<u64>) -> FixedU128 {
		match *self {
			Self::TimesInverseLipschitz(factor) => {
				let bound = lipschitz_bound(curves, market.unit_fee, market.price_floor);
				div(factor, bound, Rounding::Down)
			},
			Self::Fixed(eta) => eta,
		}
	}
}

/// The kinds of rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepRuleKind {
	/// The chain's `StepRule::DualAscent { eta }`: the chain uses `min(η, 1/L)`, `L` recomputed
	/// from the current bids every block.
	ChainDualAscent(StepSize),
	/// The chain's `StepRule::SafeguardedNewton`, the pallet's fast rule.
	ChainNewton {
		/// The largest relative change per block.
		max_relative_change: Perbill,
		/// The largest change per block whatever the price, in tokens per unit.
		min_change: FixedU128,
	},
	/// Baseline: projected dual ascent with `η` as given, not capped.
	FixedStepDualAscent(StepSize),
	/// Baseline: the EIP-1559-style multiplicative rule.
	Eip1559 {
		/// The change per block at full excess (`|S − m| ≥ m`): 12.5 % on Ethereum.
		max_change: Perbill,
		/// The price a rise starts from when the posted price is below it, in tokens per unit.
		min_price: FixedU128,
	},
}

/// A named rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSpec {
	/// A short identifier, used in CSV files.
	pub name: &'static str,
	/// A description for tables and figures.
	pub label: &'static str,
	/// The rule.
	pub kind: StepRuleKind,
}

impl RuleSpec {
	/// Whether this is the chain's own code (as opposed to a comparison baseline).
	pub fn is_chain_code(&self) -> bool {
		matches!(self.kind, StepRuleKind::ChainDualAscent(_) | StepRuleKind::ChainNewton { .. })
	}

	/// The rule as set up for one draw: the bidders `curves` in `market` (this fixes `η = c/L`).
	pub fn prepare(&self, curves: &[DemandCurve], market: &MarketParams<u64>) -> PreparedRule {
		match self.kind {
			StepRuleKind::ChainDualAscent(step) => {
				PreparedRule::Chain(StepRule::DualAscent { eta: step.eta(curves, market) })
			},
			StepRuleKind::ChainNewton { max_relative_change, min_change } => {
				PreparedRule::Chain(StepRule::SafeguardedNewton { max_relative_change, min_change })
			},
			StepRuleKind::FixedStepDualAscent(step) => {
				PreparedRule::FixedStepDualAscent { eta: step.eta(curves, market) }
			},
			StepRuleKind::Eip1559 { max_change, min_price } => {
				PreparedRule::Eip1559 { max_change, min_price }
			},
		}
	}
}

/// The pallet's fast rule as used in the benchmarks: the safeguarded Newton–secant rule with a
/// 100 % cap per block and a minimum change of 1 token per unit.
pub const NEWTON: RuleSpec = RuleSpec {
	name: "newton",
	label: "Newton–secant, 100 % cap (chain)",
	kind: StepRuleKind::ChainNewton {
		max_relative_change: Perbill::from_percent(100),
		min_change: FixedU128::from_u32(1),
	},
};

/// The paper's dual ascent with `η = 0.5/L`, run by the chain's `DualAscent`.
pub const DUAL_HALF: RuleSpec = RuleSpec {
	name: "dual-0.5/L",
	label: "dual ascent η = 0.5/L (chain)",
	kind: StepRuleKind::ChainDualAscent(StepSize::TimesInverseLipschitz(FixedU128::from_rational(
		1, 2,
	))),
};

/// The rules of the convergence benchmark, the pallet's fast rule first.
pub fn standard_rules() -> Vec<RuleSpec> {
	vec![
		NEWTON,
		RuleSpec {
			name: "newton-12.5%",
			label: "Newton–secant, 12.5 % cap (chain)",
			kind: StepRuleKind::ChainNewton {
				max_relative_change: Perbill::from_rational(1u32, 8),
				min_change: FixedU128::from_rational(1, 100),
			},
		},
		DUAL_HALF,
		RuleSpec {
			name: "dual-cap",
			label: "dual ascent at the chain's cap 1/L (chain)",
			kind: StepRuleKind::ChainDualAscent(StepSize::Fixed(FixedU128::from_u32(1_000_000))),
		},
		RuleSpec {
			name: "dual-1.9/L",
			label: "dual ascent η = 0.95·2/L (baseline)",
			kind: StepRuleKind::FixedStepDualAscent(StepSize::TimesInverseLipschitz(
				FixedU128::from_rational(19, 10),
			)),
		},
		RuleSpec {
			name: "eip-1559",
			label: "EIP-1559 ±12.5 %/block (baseline)",
			kind: StepRuleKind::Eip1559 {
				max_change: Perbill::from_rational(1u32, 8),
				min_price: FixedU128::from_rational(1, 100),
			},
		},
	]
}

/// A rule set up for a draw, ready to step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreparedRule {
	/// One of the chain's rules, stepped by the chain's [`next_price`].
	Chain(StepRule),
	/// Baseline dual ascent with step `eta`.
	FixedStepDualAscent {
		/// The step size, not capped.
		eta: FixedU128,
	},
	/// Baseline EIP-1559-style rule.
	Eip1559 {
		/// The change per block at full excess.
		max_change: Perbill,
		/// The lowest price a rise starts from.
		min_price: FixedU128,
	},
}

impl PreparedRule {
	/// The price after one block, from `price`, for the bids `curves` in `market` (whose own
	/// `step_rule` is ignored: this rule replaces it). `curves` may be declared curves, orders,
	/// or a chain's gridded book (`GriddedDemand`).
	pub fn step<D: Demand>(
		&self,
		curves: &[D],
		market: &MarketParams<u64>,
		price: FixedU128,
	) -> FixedU128 {
		match *self {
			Self::Chain(step_rule) => {
				let market = MarketParams { step_rule, ..market.clone() };
				next_price(curves, &market, price).price
			},
			Self::FixedStepDualAscent { eta } => {
				let price = market.clamp_price(price);
				let demand = aggregate_demand(curves, market.unit_fee, price);
				let capacity = market.capacity;
				let next = if demand >= capacity {
					price.saturating_add(mul(eta, demand.saturating_sub(capacity), Rounding::Down))
				} else {
					price.saturating_sub(mul(eta, capacity.saturating_sub(demand), Rounding::Down))
				};
				market.clamp_price(next)
			},
			Self::Eip1559 { max_change, min_price } => {
				let price = market.clamp_price(price);
				let demand = aggregate_demand(curves, market.unit_fee, price);
				let capacity = market.capacity;
				let next = if demand >= capacity {
					let base = price.max(min_price);
					let excess = demand.saturating_sub(capacity).min(capacity);
					let change = mul_div(base, excess, capacity, Rounding::Down);
					base.saturating_add(FixedU128::from_inner(
						max_change.mul_floor(change.into_inner()),
					))
				} else {
					let shortfall = capacity.saturating_sub(demand).min(capacity);
					let change = mul_div(price, shortfall, capacity, Rounding::Down);
					price.saturating_sub(FixedU128::from_inner(
						max_change.mul_floor(change.into_inner()),
					))
				};
				market.clamp_price(next)
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{agents::DrawSeed, participation::entry_equilibrium, scenarios::Scenario};
	use contract_equilibrium_primitives::{clearing_price, step::effective_step_size};

	fn fixed(value: f64) -> FixedU128 {
		FixedU128::from_float(value)
	}

	fn binding_draw(replication: u64) -> (Vec<DemandCurve>, MarketParams<u64>) {
		let scenario = Scenario::binding();
		let market = scenario.market();
		let agents = scenario.draw(DrawSeed { master: 5, replication });
		let curves = entry_equilibrium(&agents, &market).curves(&agents);
		(curves, market)
	}

	#[test]
	fn the_dual_ascent_baseline_is_the_chains_rule_below_the_cap() {
		for replication in 0..20 {
			let (curves, market) = binding_draw(replication);
			let step = StepSize::TimesInverseLipschitz(fixed(0.5));
			let chain =
				RuleSpec { name: "c", label: "c", kind: StepRuleKind::ChainDualAscent(step) }
					.prepare(&curves, &market);
			let baseline =
				RuleSpec { name: "b", label: "b", kind: StepRuleKind::FixedStepDualAscent(step) }
					.prepare(&curves, &market);
			let mut price = market.price_floor;
			for _ in 0..200 {
				let next = chain.step(&curves, &market, price);
				assert_eq!(next, baseline.step(&curves, &market, price));
				price = next;
			}
		}
	}

	#[test]
	fn step_sizes_are_fractions_of_the_inverse_lipschitz_bound() {
		let (curves, market) = binding_draw(0);
		let bound = lipschitz_bound(&curves, market.unit_fee, market.price_floor).to_float();
		let eta = StepSize::TimesInverseLipschitz(fixed(1.9)).eta(&curves, &market).to_float();
		assert!((eta * bound - 1.9).abs() < 1e-12);
		// The chain caps η = 10⁶ at 1/L.
		let capped = effective_step_size(&curves, &market, fixed(1e6)).to_float();
		assert!((capped * bound - 1.0).abs() < 1e-12);
	}

	#[test]
	fn the_aggressive_dual_ascent_oscillates_but_converges() {
		let (curves, market) = binding_draw(1);
		let target = clearing_price(&curves, &market);
		let rule = StepRuleKind::FixedStepDualAscent(StepSize::TimesInverseLipschitz(fixed(1.9)));
		let rule = RuleSpec { name: "b", label: "b", kind: rule }.prepare(&curves, &market);
		let mut price = market.price_floor;
		let mut crossed_above = false;
		for _ in 0..2_000 {
			price = rule.step(&curves, &market, price);
			crossed_above |= price > target;
		}
		assert!(crossed_above, "η = 1.9/L overshoots μ*");
		assert!((price.to_float() - target.to_float()).abs() < 1e-12);
	}

	#[test]
	fn eip_1559_moves_at_most_an_eighth_per_block() {
		let rule = PreparedRule::Eip1559 {
			max_change: Perbill::from_rational(1u32, 8),
			min_price: fixed(0.01),
		};
		let market = Scenario::binding().market();
		let huge = [DemandCurve::Quantity { x: fixed(1_000.0) }];
		let none = [DemandCurve::Quantity { x: fixed(0.0) }];
		// Full excess: +12.5 %, from the minimum price when the price is zero.
		assert_eq!(rule.step(&huge, &market, fixed(2.0)), fixed(2.25));
		assert_eq!(rule.step(&huge, &market, FixedU128::from_inner(0)), fixed(0.01125));
		// No demand: −12.5 %; zero stays zero.
		assert_eq!(rule.step(&none, &market, fixed(2.0)), fixed(1.75));
		assert_eq!(rule.step(&none, &market, FixedU128::from_inner(0)), FixedU128::from_inner(0));
		// Demand of 75 against m = 50: half the full excess, +6.25 %.
		let some = [DemandCurve::Quantity { x: fixed(75.0) }];
		assert_eq!(rule.step(&some, &market, fixed(2.0)), fixed(2.125));
		// Exactly at capacity: no change.
		let exact = [DemandCurve::Quantity { x: fixed(50.0) }];
		assert_eq!(rule.step(&exact, &market, fixed(2.0)), fixed(2.0));
	}

	#[test]
	fn every_rule_converges_on_a_binding_draw() {
		let (curves, market) = binding_draw(2);
		let target = clearing_price(&curves, &market);
		for spec in standard_rules() {
			let rule = spec.prepare(&curves, &market);
			let mut price = market.price_floor;
			for _ in 0..3_000 {
				price = rule.step(&curves, &market, price);
			}
			assert!(
				(price.to_float() - target.to_float()).abs() < 1e-9,
				"{} ends at {price:?}, μ* = {target:?}",
				spec.name
			);
		}
	}

	#[test]
	fn chain_and_baseline_rules_are_labelled() {
		let names: Vec<(&str, bool)> =
			standard_rules().iter().map(|rule| (rule.name, rule.is_chain_code())).collect();
		assert_eq!(
			names,
			[
				("newton", true),
				("newton-12.5%", true),
				("dual-0.5/L", true),
				("dual-cap", true),
				("dual-1.9/L", false),
				("eip-1559", false),
			]
		);
	}
}
