//! Seeded draws of the paper's log-utility agents.
//!
//! Parameters are drawn directly in fixed point: `α` is a uniform integer multiple of 10⁻¹⁸ in
//! `[5, 20)`, so the chain sees exactly the agents the simulator drew, with no float conversion.

use contract_equilibrium_primitives::{DemandCurve, FixedU128};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A uniform distribution on `[low, high)` at the fixed-point resolution 10⁻¹⁸.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uniform {
	/// The lowest value drawn.
	pub low: FixedU128,
	/// The bound above every value drawn.
	pub high: FixedU128,
}

impl Uniform {
	/// `U(low, high)`; panics unless `low < high`.
	pub fn new(low: FixedU128, high: FixedU128) -> Self {
		assert!(low < high, "an empty range");
		Self { low, high }
	}

	/// One draw.
	pub fn sample(&self, rng: &mut impl Rng) -> FixedU128 {
		FixedU128::from_inner(rng.gen_range(self.low.into_inner()..self.high.into_inner()))
	}
}

/// Identifies one draw: the run's master seed and the replication's index. Draws with the same
/// seed are the same whatever the experiment, the rule or the number of threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawSeed {
	/// The master seed of the run (`--seed`).
	pub master: u64,
	/// The replication's index, from zero.
	pub replication: u64,
}

impl DrawSeed {
	/// The random number generator of this draw: ChaCha8 keyed by both numbers.
	pub fn rng(&self) -> ChaCha8Rng {
		let mut key = [0u8; 32];
		key[..8].copy_from_slice(&self.master.to_le_bytes());
		key[8..16].copy_from_slice(&self.replication.to_le_bytes());
		ChaCha8Rng::from_seed(key)
	}
}

/// How agents' parameters are distributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentDistribution {
	/// The value scale `α`, in tokens.
	pub alpha: Uniform,
	/// The own marginal cost `β`, in tokens per unit.
	pub beta: Uniform,
}

impl AgentDistribution {
	/// The paper's agents: `α ~ U(5, 20)`, `β ~ U(0.5, 5)`.
	pub fn paper() -> Self {
		Self {
			alpha: Uniform::new(FixedU128::from_u32(5), FixedU128::from_u32(20)),
			beta: Uniform::new(FixedU128::from_rational(1, 2), FixedU128::from_u32(5)),
		}
	}

	/// `count` log-utility agents drawn with `seed` (`α₁, β₁, α₂, β₂, …` from one stream).
	pub fn draw(&self, count: usize, seed: DrawSeed) -> Vec<DemandCurve> {
		let mut rng = seed.rng();
		(0..count)
			.map(|_| {
				let alpha = self.alpha.sample(&mut rng);
				let beta = self.beta.sample(&mut rng);
				DemandCurve::LogUtility { alpha, beta }
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn draws_are_reproducible_and_in_range() {
		let distribution = AgentDistribution::paper();
		let seed = DrawSeed { master: 7, replication: 3 };
		let agents = distribution.draw(500, seed);
		assert_eq!(agents, distribution.draw(500, seed));
		assert_ne!(agents, distribution.draw(500, DrawSeed { master: 7, replication: 4 }));
		assert_ne!(agents, distribution.draw(500, DrawSeed { master: 8, replication: 3 }));
		for agent in &agents {
			let DemandCurve::LogUtility { alpha, beta } = *agent else { panic!("log utility") };
			assert!(alpha >= FixedU128::from_u32(5) && alpha < FixedU128::from_u32(20));
			assert!(beta >= FixedU128::from_rational(1, 2) && beta < FixedU128::from_u32(5));
			assert!(agent.validate().is_ok(), "the chain accepts every drawn agent");
		}
		// A longer draw starts with the shorter one.
		assert_eq!(distribution.draw(20, seed)[..], agents[..20]);
	}

	#[test]
	fn draws_look_uniform() {
		let agents =
			AgentDistribution::paper().draw(20_000, DrawSeed { master: 1, replication: 0 });
		let mean_alpha = agents
			.iter()
			.map(|agent| match agent {
				DemandCurve::LogUtility { alpha, .. } => alpha.to_float(),
				_ => unreachable!(),
			})
			.sum::<f64>()
			/ agents.len() as f64;
		// U(5, 20) has mean 12.5 and standard deviation 4.33: the mean of 20 000 is within 0.1.
		assert!((mean_alpha - 12.5).abs() < 0.1, "mean α {mean_alpha}");
	}
}
