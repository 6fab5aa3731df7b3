//! Price discovery from private reports (the paper's Algorithm 1): agents keep their utilities
//! to themselves and, every block, report their best response to a price they saw `lag` blocks
//! before the step. Compares, on the same draws:
//!
//! - the reference: Newton–secant on the agents' *declared* curves (no lag: the chain knows them);
//! - fixed quantities (the report counts at any price), stepped by dual ascent at several `η`, by
//!   Newton–secant, by an EIP-1559-style rule and by Robbins–Monro;
//! - lines (each report a point, the chain holding the line through the last two:
//!   [`DemandCurve::after_report`]), stepped by Newton–secant and by dual ascent at any `η`.
//!
//! The agents are budget-backed [`Order`]s with budgets that never bind; they take part whenever
//! they demand something (the participation screen of declared curves is left out, so that
//! declared and reported demand have the same `μ*`). Demand is summed over the orders directly
//! (the chain sums the same orders on its price grid; the pallet's tests and the Polkadot.js
//! script `scripts/reports` run the grid).

use super::{parallel_map, seeds};
use crate::{
	agents::DrawSeed,
	metrics::{blocks_to_converge, Summary},
	output::{cell, Csv, OutputDirs, Report, Table},
	plots::{Axis, Figure, Panel, Series, PALETTE},
	rules::PreparedRule,
	scenarios::Scenario,
};
use contract_equilibrium_primitives::{
	clearing_price, fixed::abs_diff, next_price_remembering, BookTotals, DemandCurve, FixedU128,
	GridOrder, GriddedDemand, MarketParams, Order, Perbill, PriceGrid, StepMemory, StepRule,
};
use plotters::prelude::SeriesLabelPosition;
use rand::Rng;
use sp_arithmetic::traits::Saturating;
use std::error::Error;

/// How the agents' demand reaches the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
	/// Declared curves: the chain evaluates them at any price (the reference; no lag).
	Declared,
	/// Each report a fixed quantity, counted at any price.
	Quantities,
	/// Each report a point; the chain holds the line through the last two.
	Lines,
}

/// How the price steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stepper {
	/// One of the chain's rules (Robbins–Monro with its memory).
	Chain(StepRule),
	/// The EIP-1559-style baseline of [`crate::rules`].
	Eip1559,
}

/// One method compared: a feed and a step rule.
#[derive(Clone, Debug)]
pub struct Method {
	/// Its label in tables and figures.
	pub label: String,
	/// How demand reaches the chain.
	pub feed: Feed,
	/// How the price steps.
	pub stepper: Stepper,
	/// Whether the orders are summed on the market's price grid, as the chain sums them
	/// (otherwise each order is evaluated exactly at every price).
	pub on_grid: bool,
}

fn fixed(value: f64) -> FixedU128 {
	FixedU128::from_float(value)
}

fn newton() -> StepRule {
	StepRule::SafeguardedNewton {
		max_relative_change: Perbill::from_percent(100),
		min_change: FixedU128::from_u32(1),
	}
}

fn dual(eta: f64) -> StepRule {
	StepRule::DualAscent { eta: fixed(eta) }
}

/// The Robbins–Monro rule with `η₀ = eta`, `t₀ = 1`, exponent `a` (in percent) and a patience
/// of 32 blocks.
pub fn robbins_monro(eta: f64, exponent_percent: u32) -> StepRule {
	StepRule::RobbinsMonro {
		eta: fixed(eta),
		offset: 1,
		exponent: Perbill::from_percent(exponent_percent),
		patience: 32,
	}
}

fn method(label: &str, feed: Feed, stepper: Stepper) -> Method {
	Method { label: label.into(), feed, stepper, on_grid: false }
}

/// The methods of the lag experiment.
pub fn lag_methods() -> Vec<Method> {
	use Feed::*;
	use Stepper::*;
	let mut methods = vec![method("declared · Newton (reference)", Declared, Chain(newton()))];
	for eta in [0.005, 0.02, 0.1, 1.0] {
		methods.push(method(
			&format!("quantities · dual ascent η={eta}"),
			Quantities,
			Chain(dual(eta)),
		));
	}
	methods.push(method("quantities · Newton", Quantities, Chain(newton())));
	methods.push(method("quantities · EIP-1559", Quantities, Eip1559));
	methods.push(method(
		"quantities · Robbins–Monro η₀=0.1",
		Quantities,
		Chain(robbins_monro(0.1, 75)),
	));
	methods.push(method("lines · Newton", Lines, Chain(newton())));
	methods.push(Method {
		on_grid: true,
		..method("lines · Newton (on the grid)", Lines, Chain(newton()))
	});
	for eta in [0.02, 0.1, 1.0, 1e6] {
		methods.push(method(&format!("lines · dual ascent η={eta}"), Lines, Chain(dual(eta))));
	}
	methods
}

/// The lag experiment's settings.
#[derive(Clone, Debug)]
pub struct ReportsConfig {
	/// Numbers of agents with their replications (binding setting, `m = 2.5·n`).
	pub sizes: Vec<(usize, u64)>,
	/// The lags compared (blocks between the price an agent answers and the step that sees it,
	/// less one: lag 1 means the step at block `b` sees answers to `μ_{b−2}`).
	pub lags: Vec<usize>,
	/// Blocks per run.
	pub horizon: usize,
	/// Blocks per run of a method on the price grid.
	pub grid_horizon: usize,
	/// At each size, how many of the draws a method on the grid runs on.
	pub grid_draws: Vec<u64>,
	/// Replications of the noise experiment.
	pub noise_replications: u64,
	/// Blocks per noisy run.
	pub noise_horizon: usize,
	/// The noise: each report is multiplied by `max(0, 1 + σ·ε)`, `ε` standard normal.
	pub sigma: f64,
	/// The master seed.
	pub seed: u64,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl ReportsConfig {
	/// n = 20 (1000 draws) and n = 2000 (100 draws; the first 20 on the grid), lags 1 to 3,
	/// 400 blocks (100 on the grid); noise σ = 0.1 over 20 000 blocks, 200 draws.
	pub fn paper(seed: u64) -> Self {
		Self {
			sizes: vec![(20, 1000), (2_000, 100)],
			lags: vec![1, 2, 3],
			horizon: 400,
			grid_horizon: 100,
			grid_draws: vec![1000, 20],
			noise_replications: 200,
			noise_horizon: 20_000,
			sigma: 0.1,
			seed,
			quiet: false,
		}
	}
}

/// The private agents of a draw: budget-backed orders whose budgets never bind.
pub fn private_agents(scenario: &Scenario, seed: DrawSeed) -> Vec<Order> {
	scenario
		.draw(seed)
		.into_iter()
		.map(|curve| Order {
			curve,
			budget: FixedU128::from_u32(1_000_000),
			fixed_fee: scenario.fixed_fee,
		})
		.collect()
}

/// What happens to the agents during a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Events {
	/// From this block on, the last quarter of the agents has left the market.
	pub departure: Option<usize>,
}

/// A run's prices: posted, and (for Robbins–Monro) the running average it settles at.
#[derive(Clone, Debug, Default)]
pub struct Path {
	/// `μ_0 … μ_T`.
	pub posted: Vec<FixedU128>,
	/// The average a Robbins–Monro market settles at, block by block (the posted price for the
	/// other rules).
	pub settled: Vec<FixedU128>,
}

/// Runs `method` for `blocks` blocks from the floor with agents answering `lag` blocks late,
/// reports multiplied by `1 + σ·ε` when `noise` is given.
pub fn run(
	agents: &[Order],
	market: &MarketParams<u64>,
	method: &Method,
	lag: usize,
	blocks: usize,
	mut noise: Option<(f64, &mut rand_chacha::ChaCha8Rng)>,
	events: Events,
) -> Path {
	let grid = PriceGrid::of(market);
	let market = match method.stepper {
		Stepper::Chain(step_rule) => MarketParams { step_rule, ..market.clone() },
		Stepper::Eip1559 => market.clone(),
	};
	let mut book: Vec<Option<Order>> = vec![None; agents.len()];
	let mut memory = StepMemory::default();
	let mut totals = BookTotals::default();
	let mut gridded: Vec<GridOrder> = Vec::new();
	let mut path = Path { posted: vec![market.price_floor], settled: vec![market.price_floor] };
	for block in 1..=blocks {
		let present = match events.departure {
			Some(at) if block >= at => agents.len() - agents.len() / 4,
			_ => agents.len(),
		};
		book.truncate(present);
		if method.feed != Feed::Declared {
			if let Some(answered) = block.checked_sub(lag + 1) {
				let seen = path.posted[answered];
				for (agent, entry) in agents.iter().zip(book.iter_mut()) {
					let mut quantity = contract_equilibrium_primitives::Demand::demand_at(
						agent,
						market.unit_fee,
						seen,
					);
					if let Some((sigma, rng)) = noise.as_mut() {
						let factor = (1.0 + *sigma * standard_normal(rng)).max(0.0);
						quantity = fixed(quantity.to_float() * factor);
					}
					let curve = match method.feed {
						Feed::Lines => DemandCurve::after_report(
							&entry
								.map_or(DemandCurve::Quantity { x: quantity }, |order| order.curve),
							quantity,
							seen,
							grid.width_above(seen),
						),
						_ => DemandCurve::Quantity { x: quantity },
					};
					*entry = Some(Order { curve, ..*agent });
				}
			}
		}
		let orders: Vec<Order> = match method.feed {
			Feed::Declared => agents[..present].to_vec(),
			_ => book.iter().flatten().copied().collect(),
		};
		let price = *path.posted.last().expect("starts with μ₀");
		let next = if method.on_grid {
			// The chain's book: each order entered on the grid, the totals kept by adding and
			// removing orders as they change.
			let entered: Vec<GridOrder> =
				orders.iter().map(|order| GridOrder::new(*order, market.unit_fee, &grid)).collect();
			for (index, order) in entered.iter().enumerate() {
				if gridded.get(index) != Some(order) {
					if let Some(old) = gridded.get(index) {
						totals.remove(old, &grid);
					}
					totals.add(order, &grid);
				}
			}
			for old in gridded.iter().skip(entered.len()) {
				totals.remove(old, &grid);
			}
			gridded = entered;
			step_once(
				method,
				&[GriddedDemand { grid, totals: &totals }],
				&market,
				price,
				&mut memory,
			)
		} else {
			step_once(method, &orders, &market, price, &mut memory)
		};
		path.posted.push(next);
		path.settled.push(match market.step_rule {
			StepRule::RobbinsMonro { .. } if memory.averaged > 0 => memory.average_price,
			_ => next,
		});
		// A deterministic run whose price and reports have stopped changing stays where it is:
		// on the grid (the costly case), fill in the rest of the path.
		let settled = path.posted.len() > lag + 4
			&& path.posted.iter().rev().take(lag + 4).all(|price| *price == next);
		if method.on_grid && noise.is_none() && events.departure.is_none() && settled {
			path.posted.resize(blocks + 1, next);
			path.settled.resize(blocks + 1, next);
			break;
		}
	}
	path
}

/// One step of `method` from `price` on `demand`.
fn step_once<D: contract_equilibrium_primitives::Demand>(
	method: &Method,
	demand: &[D],
	market: &MarketParams<u64>,
	price: FixedU128,
	memory: &mut StepMemory,
) -> FixedU128 {
	match method.stepper {
		Stepper::Chain(_) => next_price_remembering(demand, market, price, memory).price,
		Stepper::Eip1559 => PreparedRule::Eip1559 {
			max_change: Perbill::from_rational(1u32, 8),
			min_price: fixed(0.01),
		}
		.step(demand, market, price),
	}
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
	let u: f64 = rng.gen_range(f64::EPSILON..1.0);
	let v: f64 = rng.gen_range(0.0..1.0);
	(-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// One draw's result for one method and lag.
#[derive(Clone, Debug)]
struct Outcome {
	/// Blocks to 10⁻³ and 10⁻⁶ of μ* (enter and stay).
	blocks: [Option<u32>; 2],
	/// Whether the price ever went above μ* (beyond 10⁻¹²).
	crossed: bool,
	/// `|μ − μ*|` at the end of the run.
	final_distance: f64,
}

fn outcome(path: &Path, target: FixedU128) -> Outcome {
	let tolerances = [fixed(1e-3), fixed(1e-6)];
	Outcome {
		blocks: tolerances.map(|tolerance| blocks_to_converge(&path.posted, target, tolerance)),
		crossed: path.posted.iter().any(|price| *price > target.saturating_add(fixed(1e-12))),
		final_distance: path
			.posted
			.last()
			.map_or(f64::INFINITY, |price| abs_diff(*price, target).to_float()),
	}
}

/// Runs the lag and noise experiments; writes `reports.csv`, `reports-noise.csv` and
/// `reports.svg`; returns the report.
pub fn run_experiment(config: &ReportsConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut report = Report::default();
	report.heading("Private reports: lag, any η, and noise");
	let methods = lag_methods();
	let mut csv = Csv::create(
		&out.result("reports.csv"),
		&[
			"agents",
			"lag",
			"method",
			"draws",
			"converged_1e-3",
			"converged_1e-6",
			"median_1e-3",
			"max_1e-3",
			"median_1e-6",
			"max_1e-6",
			"median_ratio",
			"max_ratio",
			"crossed",
		],
	)?;
	let mut table = Table::new(&[
		"n",
		"lag",
		"method",
		"not within 10⁻³",
		"blocks to 10⁻³ (median / worst)",
		"blocks to 10⁻⁶ (median / worst)",
		"÷ reference (median / worst)",
		"crossed μ*",
		"not within 10⁻⁶",
		"final |μ − μ*| (median / worst)",
	]);
	for (size, &(agents, replications)) in config.sizes.iter().enumerate() {
		let grid_draws = config.grid_draws.get(size).copied().unwrap_or(replications);
		let scenario = Scenario::binding().scaled_to(agents);
		let market = scenario.market();
		let draws = seeds(config.seed, replications);
		for &lag in &config.lags {
			let (results, _) = parallel_map(
				&format!("reports n={agents} lag={lag}"),
				draws.clone(),
				|seed| {
					let agents = private_agents(&scenario, *seed);
					let target = clearing_price(&agents, &market);
					let binding = target > market.price_floor;
					let outcomes: Vec<Option<Outcome>> = methods
						.iter()
						.map(|method| {
							// The grid costs O(K) per changed order: a subset of the large draws,
							// and a horizon long enough for lines.
							if method.on_grid && seed.replication >= grid_draws {
								return None;
							}
							let horizon = if method.on_grid {
								config.horizon.min(config.grid_horizon)
							} else {
								config.horizon
							};
							let path = run(
								&agents,
								&market,
								method,
								lag,
								horizon,
								None,
								Events::default(),
							);
							Some(outcome(&path, target))
						})
						.collect();
					(binding, outcomes)
				},
				config.quiet,
			);
			let binding: Vec<&Vec<Option<Outcome>>> = results
				.iter()
				.filter(|(binding, _)| *binding)
				.map(|(_, outcomes)| outcomes)
				.collect();
			for (index, method) in methods.iter().enumerate() {
				if lag != 1 && method.feed == Feed::Declared {
					// Declared curves see no lag.
					continue;
				}
				// The draws this method ran, with the reference's outcome on the same draw.
				let runs: Vec<(&Outcome, &Outcome)> = binding
					.iter()
					.filter_map(|o| Some((o[index].as_ref()?, o[0].as_ref()?)))
					.collect();
				let column = |tolerance: usize| -> Vec<f64> {
					runs.iter().filter_map(|(o, _)| o.blocks[tolerance]).map(f64::from).collect()
				};
				let (coarse, fine) = (column(0), column(1));
				let ratios: Vec<f64> = runs
					.iter()
					.filter_map(|(o, reference)| {
						Some(f64::from(o.blocks[1]?) / f64::from(reference.blocks[1]?.max(1)))
					})
					.collect();
				let failed = runs.len() - coarse.len();
				let finals: Vec<f64> = runs.iter().map(|(o, _)| o.final_distance).collect();
				let crossed = runs.iter().filter(|(o, _)| o.crossed).count();
				let (c, f, r) = (Summary::of(&coarse), Summary::of(&fine), Summary::of(&ratios));
				let pair = |s: Option<Summary>, digits: usize| match s {
					Some(s) => {
						format!("{} / {}", cell(Some(s.median), digits), cell(Some(s.max), digits))
					},
					None => "—".into(),
				};
				table.row(vec![
					agents.to_string(),
					lag.to_string(),
					method.label.clone(),
					format!("{failed} of {}", runs.len()),
					pair(c, 0),
					pair(f, 0),
					if index == 0 { "1".into() } else { pair(r, 2) },
					crossed.to_string(),
					(runs.len() - fine.len()).to_string(),
					match Summary::of(&finals) {
						Some(s) => format!("{:.1e} / {:.1e}", s.median, s.max),
						None => "—".into(),
					},
				]);
				csv.row(vec![
					agents.to_string(),
					lag.to_string(),
					method.label.clone(),
					runs.len().to_string(),
					coarse.len().to_string(),
					fine.len().to_string(),
					cell(c.map(|s| s.median), 1),
					cell(c.map(|s| s.max), 0),
					cell(f.map(|s| s.median), 1),
					cell(f.map(|s| s.max), 0),
					cell(r.map(|s| s.median), 3),
					cell(r.map(|s| s.max), 3),
					crossed.to_string(),
				])?;
			}
		}
	}
	csv.finish()?;
	report.paragraph(&format!(
		"Binding draws of the paper's agents (m = 2.5·n, τ = 0.5, g = 1), {} blocks from the \
		 floor; a method has converged when it enters and stays within the tolerance of μ*. \
		 \"÷ reference\" is, draw by draw, blocks to 10⁻⁶ over the reference's (Newton on the \
		 declared curves, which sees no lag). \"Crossed μ*\" counts draws whose price ever went \
		 above μ*.",
		config.horizon
	));
	report.table(&table);
	report.append(&noise_experiment(config, out)?);
	Ok(report)
}

/// Mean-square error against `t` under noisy reports, and a demand shift.
fn noise_experiment(config: &ReportsConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	use Feed::*;
	use Stepper::*;
	let methods = [
		method("quantities · Robbins–Monro η₀=1 a=0.75", Quantities, Chain(robbins_monro(1.0, 75))),
		method("quantities · Robbins–Monro η₀=1 a=1", Quantities, Chain(robbins_monro(1.0, 100))),
		method("quantities · dual ascent η=0.02", Quantities, Chain(dual(0.02))),
		method("lines · Newton", Lines, Chain(newton())),
	];
	let scenario = Scenario::binding();
	let market = scenario.market();
	let checkpoints: Vec<usize> = [10, 30, 100, 300, 1_000, 3_000, 10_000, 20_000]
		.into_iter()
		.filter(|t| *t <= config.noise_horizon)
		.collect();
	let draws = seeds(config.seed, config.noise_replications);
	let (results, _) = parallel_map(
		"reports under noise",
		draws,
		|seed| {
			let agents = private_agents(&scenario, *seed);
			let target = clearing_price(&agents, &market);
			methods
				.iter()
				.map(|method| {
					let mut rng = DrawSeed {
						master: seed.master ^ 0x006e_6f69_7365,
						replication: seed.replication,
					}
					.rng();
					let path = run(
						&agents,
						&market,
						method,
						1,
						config.noise_horizon,
						Some((config.sigma, &mut rng)),
						Events::default(),
					);
					let error = |prices: &[FixedU128], t: usize| {
						abs_diff(prices[t], target).to_float().powi(2)
					};
					checkpoints
						.iter()
						.map(|t| (error(&path.posted, *t), error(&path.settled, *t)))
						.collect::<Vec<_>>()
				})
				.collect::<Vec<_>>()
		},
		config.quiet,
	);
	let mut report = Report::default();
	let mut table = Table::new(
		&std::iter::once("method (price)")
			.chain(checkpoints.iter().map(|t| match t {
				10 => "t = 10",
				30 => "30",
				100 => "100",
				300 => "300",
				1_000 => "1 000",
				3_000 => "3 000",
				10_000 => "10 000",
				_ => "20 000",
			}))
			.chain(std::iter::once("slope (t ≥ 300)"))
			.collect::<Vec<_>>(),
	);
	let mut csv = Csv::create(&out.result("reports-noise.csv"), &["method", "price", "t", "mse"])?;
	let mut series = Vec::new();
	for (index, method) in methods.iter().enumerate() {
		for (which, label) in [(0usize, "posted"), (1, "settled at")] {
			if which == 1 && !matches!(method.stepper, Chain(StepRule::RobbinsMonro { .. })) {
				continue;
			}
			let mse: Vec<f64> = (0..checkpoints.len())
				.map(|k| {
					results
						.iter()
						.map(|r| if which == 0 { r[index][k].0 } else { r[index][k].1 })
						.sum::<f64>() / results.len() as f64
				})
				.collect();
			let fit: Vec<(f64, f64)> = checkpoints
				.iter()
				.zip(&mse)
				.filter(|(t, mse)| **t >= 300 && **mse > 0.0)
				.map(|(t, mse)| ((*t as f64).ln(), mse.ln()))
				.collect();
			let slope = least_squares_slope(&fit);
			let name = if which == 0 {
				format!("{} (posted)", method.label)
			} else {
				format!("{} (average)", method.label)
			};
			let mut row = vec![name.clone()];
			row.extend(mse.iter().map(|value| format!("{value:.2e}")));
			row.push(slope.map_or("—".into(), |s| format!("{s:.2}")));
			table.row(row);
			for (t, value) in checkpoints.iter().zip(&mse) {
				csv.row(vec![
					method.label.clone(),
					label.into(),
					t.to_string(),
					format!("{value:e}"),
				])?;
			}
			series.push(Series {
				label: name,
				color: PALETTE[series.len() % PALETTE.len()],
				points: checkpoints
					.iter()
					.zip(&mse)
					.map(|(t, m)| (*t as f64, m.max(1e-30)))
					.collect(),
				dashed: which == 1,
			});
		}
	}
	csv.finish()?;
	let mut panel = Panel::new(
		&format!("Mean-square error of the price, n = 20, σ = {}, lag 1", config.sigma),
		Axis::log("block t", 10.0..config.noise_horizon as f64),
		Axis::log("E|μ_t − μ*|²", 1e-9..10.0),
	);
	panel.series = series;
	panel.legend = Some(SeriesLabelPosition::LowerLeft);
	Figure::new(vec![panel], 1, 1).write_svg(&out.figure("reports-noise.svg"))?;
	report.paragraph(&format!(
		"Noisy reports: each agent's report is its best response times max(0, 1 + σ·ε), ε standard \
		 normal, σ = {}, lag 1; n = 20, m = 50; {} draws, {} blocks. Mean-square error of the \
		 posted price (and of the average a Robbins–Monro market settles at) against μ* of the \
		 noise-free demand; the last column is the least-squares slope of log MSE on log t for \
		 t ≥ 300 (−1: the MSE falls like 1/t). Figure: `docs/figures/reports-noise.svg`.",
		config.sigma, config.noise_replications, config.noise_horizon
	));
	report.table(&table);
	Ok(report)
}

/// The least-squares slope of `points` (`None` with fewer than two).
fn least_squares_slope(points: &[(f64, f64)]) -> Option<f64> {
	if points.len() < 2 {
		return None;
	}
	let n = points.len() as f64;
	let (mx, my) =
		(points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
	let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
	let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
	(sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn lines_reach_the_equilibrium_within_three_times_the_declared_newton_and_the_lag() {
		// With one block of lag the first slope is measured at block 4: three blocks of head start.
		let scenario = Scenario::binding();
		let market = scenario.market();
		for replication in 0..20 {
			let agents = private_agents(&scenario, DrawSeed { master: 5, replication });
			let target = clearing_price(&agents, &market);
			if target <= market.price_floor {
				continue;
			}
			let blocks = |feed: Feed| {
				let method = method("", feed, Stepper::Chain(newton()));
				let path = run(&agents, &market, &method, 1, 200, None, Events::default());
				outcome(&path, target)
			};
			let (reference, lines) = (blocks(Feed::Declared), blocks(Feed::Lines));
			assert!(!lines.crossed, "draw {replication}: lines crossed μ*");
			let (reference, lines) = (reference.blocks[1].unwrap(), lines.blocks[1].unwrap());
			assert!(
				lines <= 3 * reference.max(1) + 3,
				"draw {replication}: {lines} vs {reference}"
			);
		}
	}

	#[test]
	fn lines_on_the_grid_never_cross_the_equilibrium() {
		// A line that ends inside a grid cell is interpolated above itself there unless the book
		// leaves it out of that cell (`GridOrder::new`); before that rule, prices settled up to
		// 2·10⁻⁵ above μ* on such draws (found live by `scripts/reports`).
		let scenario = Scenario::binding();
		let market = scenario.market();
		let on_grid = Method { on_grid: true, ..method("", Feed::Lines, Stepper::Chain(newton())) };
		for replication in 0..60 {
			let agents = private_agents(&scenario, DrawSeed { master: 2510, replication });
			let target = clearing_price(&agents, &market);
			let path = run(&agents, &market, &on_grid, 1, 60, None, Events::default());
			assert!(!outcome(&path, target).crossed, "draw {replication} crossed μ* = {target:?}");
		}
	}

	#[test]
	fn a_departure_is_followed() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		let agents = private_agents(&scenario, DrawSeed { master: 5, replication: 1 });
		let remaining = &agents[..agents.len() - agents.len() / 4];
		let target = clearing_price(remaining, &market);
		let method = method("", Feed::Lines, Stepper::Chain(newton()));
		let path = run(&agents, &market, &method, 1, 200, None, Events { departure: Some(100) });
		assert!(abs_diff(*path.posted.last().unwrap(), target) <= fixed(1e-9));
	}

	#[test]
	fn noisy_robbins_monro_averages_towards_the_equilibrium() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		let agents = private_agents(&scenario, DrawSeed { master: 5, replication: 2 });
		let target = clearing_price(&agents, &market);
		let method = method("", Feed::Quantities, Stepper::Chain(robbins_monro(1.0, 75)));
		let mut rng = DrawSeed { master: 9, replication: 0 }.rng();
		let path =
			run(&agents, &market, &method, 1, 5_000, Some((0.1, &mut rng)), Events::default());
		let error = |t: usize| abs_diff(path.settled[t], target).to_float();
		assert!(
			error(5_000) < 0.01,
			"average {} vs μ* {}",
			path.settled[5_000].to_float(),
			target.to_float()
		);
	}
}
