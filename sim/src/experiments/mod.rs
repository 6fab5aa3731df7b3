//! The experiments: each runs replications in parallel, writes its CSV files and SVG figures,
//! and returns a Markdown report of its tables.
//!
//! Replication `r` of every experiment draws its agents from seed `(--seed, r)`, so all rules and
//! all settings of an experiment (and all experiments with the same `n`) see the same draws:
//! comparisons are paired.

pub mod convergence;
pub mod lending;
pub mod proportional;
pub mod reports;
pub mod scale;
pub mod tau_shock;
pub mod tau_sweep;

use crate::{
	agents::DrawSeed,
	engine::{price_path, RunLength},
	metrics::{
		blocks_allowed_by_factor, blocks_to_converge, bound_violations, convergence_factor,
		demand_at_floor, worst_contraction,
	},
	participation::{entry_equilibrium, Entry},
	progress::Progress,
	rules::{PreparedRule, RuleSpec},
	scenarios::Scenario,
	settlement::{first_best_surplus, settle, Outcome},
};
use contract_equilibrium_primitives::{
	equilibrium::evaluate, fixed::abs_diff, lipschitz_bound, step::effective_step_size,
	DemandCurve, FixedU128, MarketParams, StepRule,
};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// The tolerances on `|μ − μ*|` at which blocks to converge are reported, in tokens per unit:
/// `10⁻³` (the pallet tests' market tolerance) and `10⁻⁶` (the headline, as in
/// `docs/mechanism.md`). Runs stop early only once within the finer one.
pub const TOLERANCES: [(&str, FixedU128); 2] = [
	("1e-3", FixedU128::from_rational(1, 1_000)),
	("1e-6", FixedU128::from_rational(1, 1_000_000)),
];

/// The finest tolerance, the headline one.
pub fn fine_tolerance() -> FixedU128 {
	TOLERANCES[1].1
}

/// The rounding allowance of the check of the paper's linear bound, in tokens per unit: a
/// thousand units of 10⁻¹⁸.
pub const BOUND_SLACK: f64 = 1e-15;

/// How many blocks of each run's distance to `μ*` are kept for the figures.
pub const TRACE_BLOCKS: usize = 120;

/// Runs `work` on every item in parallel behind a progress bar; results in item order. Returns
/// the results and the wall time.
pub fn parallel_map<I, T>(
	label: &str,
	items: Vec<I>,
	work: impl Fn(&I) -> T + Sync,
	quiet: bool,
) -> (Vec<T>, Duration)
where
	I: Sync,
	T: Send,
{
	let progress =
		if quiet { Progress::hidden() } else { Progress::new(label, items.len() as u64) };
	let results = items
		.par_iter()
		.map(|item| {
			let result = work(item);
			progress.tick();
			result
		})
		.collect();
	(results, progress.finish())
}

/// The seeds of replications `0..count` under master seed `master`.
pub fn seeds(master: u64, count: u64) -> Vec<DrawSeed> {
	(0..count).map(|replication| DrawSeed { master, replication }).collect()
}

/// One replication's market: the agents drawn, who bids, and the benchmarks.
#[derive(Clone, Debug)]
pub struct Draw {
	/// The seed the agents were drawn with.
	pub seed: DrawSeed,
	/// All `n` agents.
	pub agents: Vec<DemandCurve>,
	/// The market's parameters.
	pub market: MarketParams<u64>,
	/// Who bids, and the bidders' clearing price `μ*`.
	pub entry: Entry,
	/// The bidders' demand curves: what the chain sees.
	pub curves: Vec<DemandCurve>,
	/// `S(0)` of all agents, bidding or not.
	pub demand_at_zero: FixedU128,
	/// The first-best total surplus (see [`first_best_surplus`]).
	pub first_best: FixedU128,
}

impl Draw {
	/// Draws replication `seed` of `scenario` and lets the fixed fee decide who bids.
	pub fn new(scenario: &Scenario, seed: DrawSeed) -> Self {
		let agents = scenario.draw(seed);
		let market = scenario.market();
		let entry = entry_equilibrium(&agents, &market);
		let curves = entry.curves(&agents);
		Self {
			seed,
			demand_at_zero: demand_at_floor(&agents, market.unit_fee),
			first_best: first_best_surplus(&agents, &market),
			agents,
			market,
			entry,
			curves,
		}
	}

	/// `μ*`, the bidders' clearing price.
	pub fn clearing_price(&self) -> FixedU128 {
		self.entry.clearing_price
	}

	/// Whether capacity binds: `μ*` is above the price floor.
	pub fn binds(&self) -> bool {
		self.clearing_price() > self.market.price_floor
	}

	/// Settles an epoch at `price`.
	pub fn settle(&self, price: FixedU128) -> Outcome {
		settle(&self.agents, &self.entry.bidders, &self.market, price)
	}

	/// The total surplus of `outcome` as a share of the first best.
	pub fn efficiency(&self, outcome: &Outcome) -> f64 {
		let best = self.first_best.to_float();
		if best > 0.0 {
			outcome.surplus.to_float() / best
		} else {
			1.0
		}
	}
}

/// The paper's convergence factor for a dual-ascent rule on one path, and what the path did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FactorCheck {
	/// `κ = max(|1 − η·a|, |1 − η·L|)` with `L` the chain's bound at the floor and `a` the slope
	/// of `S` at the highest of `μ*` and the prices the path visited.
	pub kappa: f64,
	/// The worst one-block contraction observed (distances above 10⁻⁹, where rounding is
	/// negligible).
	pub observed: Option<f64>,
	/// Steps that break `|μ_{t+1} − μ*| ≤ κ·|μ_t − μ*| + 10⁻¹⁵` (must be zero).
	pub violations: usize,
	/// The blocks `κ` allows to reach the finest tolerance from the start.
	pub allowed_blocks: Option<u32>,
}

/// The step size `η` a dual-ascent rule really uses on `curves`, or `None` for other rules.
pub fn dual_ascent_step(
	rule: &PreparedRule,
	curves: &[DemandCurve],
	market: &MarketParams<u64>,
) -> Option<FixedU128> {
	match *rule {
		PreparedRule::Chain(StepRule::DualAscent { eta }) => {
			Some(effective_step_size(curves, market, eta))
		},
		PreparedRule::FixedStepDualAscent { eta } => Some(eta),
		_ => None,
	}
}

/// Checks a dual-ascent path against the paper's linear-convergence factor.
pub fn factor_check(
	eta: FixedU128,
	curves: &[DemandCurve],
	market: &MarketParams<u64>,
	path: &[FixedU128],
	target: FixedU128,
) -> FactorCheck {
	// Every secant between a visited price and μ* has a slope between |S'| at the lowest and at
	// the highest of those prices; |S'| decreases with the price, so the flattest is at the top.
	let highest = path.iter().copied().max().unwrap_or(market.price_floor).max(target);
	let lower_slope = evaluate(curves, market.unit_fee, highest).slope_above.to_float();
	let upper_slope = lipschitz_bound(curves, market.unit_fee, market.price_floor).to_float();
	let kappa = convergence_factor(eta.to_float(), lower_slope, upper_slope);
	let start_distance = abs_diff(path[0], target).to_float();
	FactorCheck {
		kappa,
		observed: worst_contraction(path, target, FixedU128::from_rational(1, 1_000_000_000)),
		violations: bound_violations(path, target, kappa, BOUND_SLACK),
		allowed_blocks: blocks_allowed_by_factor(
			kappa,
			start_distance,
			fine_tolerance().to_float(),
		),
	}
}

/// What one rule did on one draw.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleRun {
	/// The rule.
	pub rule: RuleSpec,
	/// Blocks to converge at each of [`TOLERANCES`] (`None`: not within the horizon).
	pub blocks: [Option<u32>; 2],
	/// Blocks simulated.
	pub simulated_blocks: u32,
	/// The last price.
	pub final_price: FixedU128,
	/// The epoch settled at the last price.
	pub outcome: Outcome,
	/// The outcome's surplus as a share of the first best.
	pub efficiency: f64,
	/// The paper's factor, for dual-ascent rules.
	pub factor: Option<FactorCheck>,
	/// `|μ_t − μ*|` for the first [`TRACE_BLOCKS`] + 1 prices (after an early stop, the last
	/// distance repeats).
	pub trace: Vec<f64>,
	/// Wall time per simulated block, in seconds.
	pub seconds_per_block: f64,
}

/// Runs `rule` on `draw` from the price floor.
pub fn run_rule(draw: &Draw, rule: &RuleSpec, length: RunLength) -> RuleRun {
	let prepared = rule.prepare(&draw.curves, &draw.market);
	let target = draw.clearing_price();
	let started = Instant::now();
	let path = price_path(
		&prepared,
		&draw.curves,
		&draw.market,
		draw.market.price_floor,
		target,
		fine_tolerance(),
		length,
	);
	let elapsed = started.elapsed().as_secs_f64();
	let simulated_blocks = (path.len() - 1) as u32;
	let final_price = *path.last().expect("a path has a start");
	let outcome = draw.settle(final_price);
	let mut trace: Vec<f64> =
		path.iter().take(TRACE_BLOCKS + 1).map(|p| abs_diff(*p, target).to_float()).collect();
	let last = *trace.last().expect("a path has a start");
	trace.resize(TRACE_BLOCKS + 1, last);
	RuleRun {
		rule: *rule,
		blocks: TOLERANCES.map(|(_, tolerance)| blocks_to_converge(&path, target, tolerance)),
		simulated_blocks,
		final_price,
		efficiency: draw.efficiency(&outcome),
		outcome,
		factor: dual_ascent_step(&prepared, &draw.curves, &draw.market)
			.map(|eta| factor_check(eta, &draw.curves, &draw.market, &path, target)),
		trace,
		seconds_per_block: if simulated_blocks > 0 {
			elapsed / f64::from(simulated_blocks)
		} else {
			0.0
		},
	}
}

/// Blocks as a float for statistics, `None` for "did not converge".
pub fn blocks_value(blocks: Option<u32>) -> Option<f64> {
	blocks.map(f64::from)
}

/// Median of per-block values over several traces: one `(block, median)` point per block.
pub fn median_trace(traces: &[&[f64]], floor: f64) -> Vec<(f64, f64)> {
	let length = traces.iter().map(|trace| trace.len()).min().unwrap_or(0);
	(0..length)
		.map(|block| {
			let mut values: Vec<f64> = traces.iter().map(|trace| trace[block]).collect();
			values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
			(block as f64, crate::metrics::quantile(&values, 0.5).max(floor))
		})
		.collect()
}
