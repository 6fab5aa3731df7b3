//! Market settings: the paper's defaults, a setting where capacity binds, and scaled versions.

use crate::agents::{AgentDistribution, DrawSeed};
use contract_equilibrium_primitives::{DemandCurve, FixedU128, MarketParams, Perbill, StepRule};

/// The payee of simulated markets (settlement here only computes allocations and payments).
const PAYEE: u64 = 0;

/// The price ceiling of simulated markets, in tokens per unit. Every clearing price of the
/// paper's agents is below `max α − τ < 20`.
pub const PRICE_CEILING: u32 = 100;

/// One market setting: its agents and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
	/// A short name, used in file names and tables.
	pub name: String,
	/// `n`, the number of agents drawn.
	pub agents: usize,
	/// `m`, the capacity per allocation round, in units.
	pub capacity: FixedU128,
	/// `τ`, the per-unit contract fee, in tokens per unit.
	pub unit_fee: FixedU128,
	/// `g`, the fixed fee of an agent with a positive allocation, in tokens.
	pub fixed_fee: FixedU128,
	/// How the agents' parameters are drawn.
	pub distribution: AgentDistribution,
}

impl Scenario {
	/// The paper's defaults: `n = 20`, `m = 100`, `τ = 0.5`, `g = 1`, the paper's agents. With
	/// them capacity seldom binds.
	pub fn paper_defaults() -> Self {
		Self {
			name: "defaults".into(),
			agents: 20,
			capacity: FixedU128::from_u32(100),
			unit_fee: FixedU128::from_rational(1, 2),
			fixed_fee: FixedU128::from_u32(1),
			distribution: AgentDistribution::paper(),
		}
	}

	/// The paper's defaults with `m = 50`, where capacity binds in most draws.
	pub fn binding() -> Self {
		Self { name: "binding".into(), capacity: FixedU128::from_u32(50), ..Self::paper_defaults() }
	}

	/// The paper's defaults with `m = 30`: capacity binds both at `τ = 0.5` and at `τ = 1.5`
	/// (where `S(0)` averages about 46), so a fee shock moves a binding price.
	pub fn tight() -> Self {
		Self { name: "tight".into(), capacity: FixedU128::from_u32(30), ..Self::paper_defaults() }
	}

	/// The same setting with `agents` agents and the capacity scaled in proportion, so that the
	/// capacity per agent `m/n` stays the same.
	pub fn scaled_to(&self, agents: usize) -> Self {
		let capacity = FixedU128::from_inner(
			self.capacity.into_inner() / self.agents as u128 * agents as u128,
		);
		Self { name: format!("{}-n{agents}", self.name), agents, capacity, ..self.clone() }
	}

	/// The same setting with unit fee `τ`.
	pub fn with_unit_fee(&self, unit_fee: FixedU128) -> Self {
		Self { unit_fee, ..self.clone() }
	}

	/// The agents of replication `seed`.
	pub fn draw(&self, seed: DrawSeed) -> Vec<DemandCurve> {
		self.distribution.draw(self.agents, seed)
	}

	/// The market's parameters on chain: prices in `[0, 100]`, one-block epochs, and the pallet's
	/// fast rule as step rule (the simulator's rules replace it; see [`crate::rules`]).
	pub fn market(&self) -> MarketParams<u64> {
		MarketParams {
			capacity: self.capacity,
			unit_fee: self.unit_fee,
			fixed_fee: self.fixed_fee,
			step_rule: StepRule::SafeguardedNewton {
				max_relative_change: Perbill::one(),
				min_change: FixedU128::from_u32(1),
			},
			price_floor: FixedU128::from_inner(0),
			price_ceiling: FixedU128::from_u32(PRICE_CEILING),
			epoch_length: 1,
			tolerance: FixedU128::from_rational(1, 1_000_000),
			payee: PAYEE,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_papers_settings() {
		let defaults = Scenario::paper_defaults();
		assert_eq!((defaults.agents, defaults.capacity), (20, FixedU128::from_u32(100)));
		assert_eq!(defaults.unit_fee, FixedU128::from_rational(1, 2));
		assert_eq!(defaults.fixed_fee, FixedU128::from_u32(1));
		assert_eq!(Scenario::binding().capacity, FixedU128::from_u32(50));
		assert_eq!(Scenario::tight().capacity, FixedU128::from_u32(30));
		assert!(defaults.market().validate().is_ok());
	}

	#[test]
	fn scaling_keeps_capacity_per_agent() {
		let scaled = Scenario::binding().scaled_to(100_000);
		assert_eq!(scaled.agents, 100_000);
		assert_eq!(scaled.capacity, FixedU128::from_u32(250_000));
		assert_eq!(scaled.name, "binding-n100000");
		assert!(scaled.market().validate().is_ok());
	}
}
