//! The convergence benchmark: every rule on the same draws, from the price floor, until it stays
//! within the tolerance of `μ*`; then the epoch is settled at the price reached.

use super::{
	blocks_value, median_trace, parallel_map, run_rule, seeds, Draw, RuleRun, TRACE_BLOCKS,
};
use crate::{
	engine::RunLength,
	metrics::{fraction, Summary},
	output::{cell, decimal, number, Csv, OutputDirs, Report, Table},
	plots::{ecdf, Axis, Figure, Panel, Series, PALETTE},
	rules::{standard_rules, RuleSpec},
	scenarios::Scenario,
};
use plotters::prelude::SeriesLabelPosition;
use std::{error::Error, time::Duration};

/// The benchmark's settings.
#[derive(Clone, Debug)]
pub struct ConvergenceConfig {
	/// The settings compared (each with its own draws).
	pub scenarios: Vec<Scenario>,
	/// Replications per scenario.
	pub replications: u64,
	/// The master seed.
	pub seed: u64,
	/// The rules compared; the ratios are to the first.
	pub rules: Vec<RuleSpec>,
	/// How long each run lasts.
	pub length: RunLength,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl ConvergenceConfig {
	/// The paper's defaults and the binding setting, 1000 replications, every rule, runs of at
	/// most 5000 blocks that stop 10 blocks after entering the finest tolerance (but not before
	/// the blocks the figure shows).
	pub fn paper(seed: u64) -> Self {
		Self {
			scenarios: vec![Scenario::paper_defaults(), Scenario::binding()],
			replications: 1000,
			seed,
			rules: standard_rules(),
			length: RunLength { horizon: 5000, settle_window: 10, min_blocks: TRACE_BLOCKS as u32 },
			quiet: false,
		}
	}
}

/// One replication: the draw and every rule's run.
pub struct Replication {
	/// The draw.
	pub draw: Draw,
	/// One run per rule, in the config's order.
	pub runs: Vec<RuleRun>,
}

/// Runs one scenario's replications.
pub fn replicate(
	scenario: &Scenario,
	config: &ConvergenceConfig,
	label: &str,
) -> (Vec<Replication>, Duration) {
	parallel_map(
		label,
		seeds(config.seed, config.replications),
		|seed| {
			let draw = Draw::new(scenario, *seed);
			let runs =
				config.rules.iter().map(|rule| run_rule(&draw, rule, config.length)).collect();
			Replication { draw, runs }
		},
		config.quiet,
	)
}

/// Per-rule statistics over a scenario's replications.
#[derive(Clone, Debug)]
pub struct RuleSummary {
	/// The rule.
	pub rule: RuleSpec,
	/// Blocks to converge at each tolerance, over the draws where capacity binds and the rule
	/// converged.
	pub blocks: [Option<Summary>; 2],
	/// Binding draws where the rule did not converge within the horizon, per tolerance.
	pub not_converged: [usize; 2],
	/// Per-draw ratio of this rule's blocks to the reference rule's (finest tolerance).
	pub ratio: Option<Summary>,
	/// The ratio of the medians of blocks (finest tolerance).
	pub ratio_of_medians: Option<f64>,
	/// Efficiency (surplus / first best) over all draws.
	pub efficiency: Option<Summary>,
	/// Fairness `1 − Gini` over all `n` agents, all draws.
	pub fairness: Option<Summary>,
	/// Participation over all `n` agents, all draws.
	pub participation: Option<Summary>,
	/// Draws whose settlement was rationed.
	pub rationed: usize,
	/// Settlements that allocated more than capacity (must be zero).
	pub capacity_violations: usize,
	/// The paper's factor `κ` over binding draws (dual-ascent rules only).
	pub kappa: Option<Summary>,
	/// The worst observed contraction over binding draws.
	pub observed_factor: Option<Summary>,
	/// Binding draws with a step that breaks the paper's bound (see [`super::FactorCheck`]).
	pub kappa_exceeded: usize,
	/// The blocks `κ` allows, over binding draws.
	pub kappa_blocks: Option<Summary>,
	/// Wall time per block, microseconds.
	pub micros_per_block: Option<Summary>,
}

/// Summarises `replications` per rule; ratios are to rule `reference` (an index into the runs).
pub fn summarise(replications: &[Replication], reference: usize) -> Vec<RuleSummary> {
	let binding: Vec<&Replication> = replications.iter().filter(|r| r.draw.binds()).collect();
	let rules: Vec<RuleSpec> = replications
		.first()
		.map(|r| r.runs.iter().map(|run| run.rule).collect())
		.unwrap_or_default();
	rules
		.iter()
		.enumerate()
		.map(|(index, rule)| {
			let blocks_at = |tolerance: usize| -> Vec<f64> {
				binding
					.iter()
					.filter_map(|r| blocks_value(r.runs[index].blocks[tolerance]))
					.collect()
			};
			let not_converged = |tolerance: usize| {
				binding.iter().filter(|r| r.runs[index].blocks[tolerance].is_none()).count()
			};
			let ratios: Vec<f64> = binding
				.iter()
				.filter_map(|r| {
					let own = r.runs[index].blocks[1]?;
					let reference = r.runs[reference].blocks[1]?;
					(reference > 0).then(|| f64::from(own) / f64::from(reference))
				})
				.collect();
			let fine = Summary::of(&blocks_at(1));
			let reference_fine = Summary::of(
				&binding
					.iter()
					.filter_map(|r| blocks_value(r.runs[reference].blocks[1]))
					.collect::<Vec<_>>(),
			);
			let all = |metric: &dyn Fn(&RuleRun) -> f64| -> Option<Summary> {
				Summary::of(
					&replications.iter().map(|r| metric(&r.runs[index])).collect::<Vec<_>>(),
				)
			};
			let factors: Vec<_> = binding.iter().filter_map(|r| r.runs[index].factor).collect();
			RuleSummary {
				rule: *rule,
				blocks: [Summary::of(&blocks_at(0)), fine],
				not_converged: [not_converged(0), not_converged(1)],
				ratio: Summary::of(&ratios),
				ratio_of_medians: fine
					.zip(reference_fine)
					.map(|(own, reference)| own.median / reference.median.max(f64::MIN_POSITIVE)),
				efficiency: all(&|run| run.efficiency),
				fairness: all(&|run| fraction(run.outcome.fairness)),
				participation: all(&|run| fraction(run.outcome.participation)),
				rationed: replications.iter().filter(|r| r.runs[index].outcome.rationed).count(),
				capacity_violations: replications
					.iter()
					.filter(|r| r.runs[index].outcome.capacity_violation)
					.count(),
				kappa: Summary::of(&factors.iter().map(|f| f.kappa).collect::<Vec<_>>()),
				observed_factor: Summary::of(
					&factors.iter().filter_map(|f| f.observed).collect::<Vec<_>>(),
				),
				kappa_exceeded: factors.iter().filter(|f| f.violations > 0).count(),
				kappa_blocks: Summary::of(
					&factors
						.iter()
						.filter_map(|f| f.allowed_blocks.map(f64::from))
						.collect::<Vec<_>>(),
				),
				micros_per_block: Summary::of(
					&binding
						.iter()
						.map(|r| r.runs[index].seconds_per_block * 1e6)
						.collect::<Vec<_>>(),
				),
			}
		})
		.collect()
}

/// Statistics of a scenario's draws.
#[derive(Clone, Debug)]
pub struct DrawSummary {
	/// Draws.
	pub draws: usize,
	/// `S(0)` of all agents.
	pub demand_at_zero: Summary,
	/// Draws with `S(0) > m` over all agents.
	pub capacity_short_at_zero: usize,
	/// Bidders per draw.
	pub bidders: Summary,
	/// Draws where capacity binds for the bidders (`μ* > 0`).
	pub binding: usize,
	/// `μ*` over binding draws.
	pub clearing_price: Option<Summary>,
	/// The most rounds of exits any draw needed.
	pub max_entry_rounds: u32,
	/// Draws with an agent who would re-enter at the final price.
	pub draws_with_reentry: usize,
}

/// Summarises the draws.
pub fn summarise_draws(replications: &[Replication]) -> DrawSummary {
	let draws: Vec<&Draw> = replications.iter().map(|r| &r.draw).collect();
	let values = |f: &dyn Fn(&Draw) -> f64| draws.iter().map(|d| f(d)).collect::<Vec<_>>();
	DrawSummary {
		draws: draws.len(),
		demand_at_zero: Summary::of(&values(&|d| d.demand_at_zero.to_float())).expect("draws"),
		capacity_short_at_zero: draws
			.iter()
			.filter(|d| d.demand_at_zero > d.market.capacity)
			.count(),
		bidders: Summary::of(&values(&|d| d.entry.bidders.len() as f64)).expect("draws"),
		binding: draws.iter().filter(|d| d.binds()).count(),
		clearing_price: Summary::of(
			&draws
				.iter()
				.filter(|d| d.binds())
				.map(|d| d.clearing_price().to_float())
				.collect::<Vec<_>>(),
		),
		max_entry_rounds: draws.iter().map(|d| d.entry.rounds).max().unwrap_or(0),
		draws_with_reentry: draws.iter().filter(|d| d.entry.would_reenter > 0).count(),
	}
}

/// Runs the benchmark and writes `convergence_*.csv`, `convergence_<scenario>.svg` and the
/// per-run file; returns the report.
pub fn run(config: &ConvergenceConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut report = Report::default();
	report.heading("Convergence benchmark");
	report.paragraph(&format!(
		"{} replications per setting, master seed {}. Every rule starts at the price floor 0 on \
		 the same draws; blocks to converge = first block from which |μ − μ*| stays within the \
		 tolerance (runs stop {} blocks after entering 10⁻⁶, at most {} blocks). Block counts \
		 are over the draws where capacity binds (μ* > 0); outcome metrics over all draws, \
		 settled at the last price. Ratios are to `{}`, per draw.",
		config.replications,
		config.seed,
		config.length.settle_window,
		config.length.horizon,
		config.rules[0].name,
	));
	let mut draws_table = Table::new(&[
		"setting",
		"n",
		"m",
		"draws",
		"mean S(0), all agents",
		"S(0) > m",
		"mean bidders",
		"capacity binds (μ* > 0)",
		"median μ* when binding",
		"exit rounds (max)",
		"draws with a would-be re-entrant",
	]);
	let mut summary_csv = Csv::create(
		&out.result("convergence_summary.csv"),
		&[
			"scenario",
			"rule",
			"chain_code",
			"draws",
			"binding_draws",
			"median_blocks_1e-3",
			"worst_blocks_1e-3",
			"not_converged_1e-3",
			"median_blocks_1e-6",
			"p90_blocks_1e-6",
			"worst_blocks_1e-6",
			"not_converged_1e-6",
			"median_ratio",
			"worst_ratio",
			"ratio_of_medians",
			"median_efficiency",
			"worst_efficiency",
			"median_fairness",
			"median_participation",
			"rationed_draws",
			"capacity_violations",
			"median_kappa",
			"median_observed_factor",
			"kappa_exceeded",
			"median_kappa_blocks",
			"median_micros_per_block",
		],
	)?;
	let mut runs_csv = match out.run_file("convergence_runs.csv") {
		Some(path) => Some(Csv::create(
			&path,
			&[
				"scenario",
				"replication",
				"rule",
				"bidders",
				"demand_at_zero",
				"clearing_price",
				"blocks_1e-3",
				"blocks_1e-6",
				"simulated_blocks",
				"final_price",
				"efficiency",
				"fairness",
				"participation",
				"rationed",
				"capacity_violation",
				"kappa",
				"observed_factor",
			],
		)?),
		None => None,
	};

	for scenario in &config.scenarios {
		let (replications, _) =
			replicate(scenario, config, &format!("convergence {}", scenario.name));
		let draws = summarise_draws(&replications);
		draws_table.row(vec![
			scenario.name.clone(),
			scenario.agents.to_string(),
			decimal(scenario.capacity),
			draws.draws.to_string(),
			cell(Some(draws.demand_at_zero.mean), 1),
			format!(
				"{} ({:.1} %)",
				draws.capacity_short_at_zero,
				percent(draws.capacity_short_at_zero, draws.draws)
			),
			cell(Some(draws.bidders.mean), 1),
			format!("{} ({:.1} %)", draws.binding, percent(draws.binding, draws.draws)),
			cell(draws.clearing_price.map(|s| s.median), 3),
			draws.max_entry_rounds.to_string(),
			draws.draws_with_reentry.to_string(),
		]);

		if let Some(csv) = runs_csv.as_mut() {
			for replication in &replications {
				let draw = &replication.draw;
				for run in &replication.runs {
					csv.row(vec![
						scenario.name.clone(),
						draw.seed.replication.to_string(),
						run.rule.name.into(),
						draw.entry.bidders.len().to_string(),
						number(Some(draw.demand_at_zero.to_float())),
						number(Some(draw.clearing_price().to_float())),
						run.blocks[0].map_or("NA".into(), |b| b.to_string()),
						run.blocks[1].map_or("NA".into(), |b| b.to_string()),
						run.simulated_blocks.to_string(),
						number(Some(run.final_price.to_float())),
						number(Some(run.efficiency)),
						number(Some(fraction(run.outcome.fairness))),
						number(Some(fraction(run.outcome.participation))),
						u8::from(run.outcome.rationed).to_string(),
						u8::from(run.outcome.capacity_violation).to_string(),
						number(run.factor.map(|f| f.kappa)),
						number(run.factor.and_then(|f| f.observed)),
					])?;
				}
			}
		}

		let summaries = summarise(&replications, 0);
		for summary in &summaries {
			summary_csv.row(vec![
				scenario.name.clone(),
				summary.rule.name.into(),
				u8::from(summary.rule.is_chain_code()).to_string(),
				draws.draws.to_string(),
				draws.binding.to_string(),
				number(summary.blocks[0].map(|s| s.median)),
				number(summary.blocks[0].map(|s| s.max)),
				summary.not_converged[0].to_string(),
				number(summary.blocks[1].map(|s| s.median)),
				number(summary.blocks[1].map(|s| s.p90)),
				number(summary.blocks[1].map(|s| s.max)),
				summary.not_converged[1].to_string(),
				number(summary.ratio.map(|s| s.median)),
				number(summary.ratio.map(|s| s.max)),
				number(summary.ratio_of_medians),
				number(summary.efficiency.map(|s| s.median)),
				number(summary.efficiency.map(|s| s.min)),
				number(summary.fairness.map(|s| s.median)),
				number(summary.participation.map(|s| s.median)),
				summary.rationed.to_string(),
				summary.capacity_violations.to_string(),
				number(summary.kappa.map(|s| s.median)),
				number(summary.observed_factor.map(|s| s.median)),
				summary.kappa_exceeded.to_string(),
				number(summary.kappa_blocks.map(|s| s.median)),
				number(summary.micros_per_block.map(|s| s.median)),
			])?;
		}

		report.heading(&format!(
			"Blocks to converge, setting `{}` (n = {}, m = {}; {} of {} draws bind)",
			scenario.name,
			scenario.agents,
			decimal(scenario.capacity),
			draws.binding,
			draws.draws
		));
		report.table(&blocks_table(&summaries, config.rules[0].name));
		report.heading(&format!("Outcomes and checks, setting `{}`", scenario.name));
		report.table(&outcome_table(&summaries));

		if draws.binding > 0 {
			convergence_figure(scenario, &replications, config)
				.write_svg(&out.figure(&format!("convergence_{}.svg", scenario.name)))?;
		}
	}
	summary_csv.finish()?;
	if let Some(csv) = runs_csv {
		csv.finish()?;
	}
	let mut draws_report = Report::default();
	draws_report.heading("The draws");
	draws_report.table(&draws_table);
	draws_report.append(&report);
	Ok(draws_report)
}

fn percent(part: usize, whole: usize) -> f64 {
	100.0 * part as f64 / whole.max(1) as f64
}

/// The table of blocks to converge and ratios.
pub fn blocks_table(summaries: &[RuleSummary], reference: &str) -> Table {
	let mut table = Table::new(&[
		"rule",
		"code",
		"median blocks (10⁻³)",
		"worst (10⁻³)",
		"median blocks (10⁻⁶)",
		"p90 (10⁻⁶)",
		"worst (10⁻⁶)",
		"not converged",
		&format!("median ratio to {reference}"),
		"worst ratio",
		"ratio of medians",
	]);
	for summary in summaries {
		table.row(vec![
			summary.rule.label.into(),
			if summary.rule.is_chain_code() { "chain" } else { "baseline" }.into(),
			cell(summary.blocks[0].map(|s| s.median), 0),
			cell(summary.blocks[0].map(|s| s.max), 0),
			cell(summary.blocks[1].map(|s| s.median), 0),
			cell(summary.blocks[1].map(|s| s.p90), 0),
			cell(summary.blocks[1].map(|s| s.max), 0),
			summary.not_converged[1].to_string(),
			cell(summary.ratio.map(|s| s.median), 1),
			cell(summary.ratio.map(|s| s.max), 1),
			cell(summary.ratio_of_medians, 1),
		]);
	}
	table
}

/// The table of settlement outcomes and the checks (capacity, the paper's factor).
pub fn outcome_table(summaries: &[RuleSummary]) -> Table {
	let mut table = Table::new(&[
		"rule",
		"median efficiency",
		"worst efficiency",
		"median fairness",
		"median participation",
		"rationed settlements",
		"capacity violations",
		"median κ",
		"median observed factor",
		"draws breaking the κ bound",
		"median blocks κ allows (10⁻⁶)",
		"µs per block (median)",
	]);
	for summary in summaries {
		let has_factor = summary.kappa.is_some();
		table.row(vec![
			summary.rule.label.into(),
			cell(summary.efficiency.map(|s| s.median), 4),
			cell(summary.efficiency.map(|s| s.min), 4),
			cell(summary.fairness.map(|s| s.median), 3),
			cell(summary.participation.map(|s| s.median), 3),
			summary.rationed.to_string(),
			summary.capacity_violations.to_string(),
			cell(summary.kappa.map(|s| s.median), 3),
			cell(summary.observed_factor.map(|s| s.median), 3),
			if has_factor { summary.kappa_exceeded.to_string() } else { "–".into() },
			cell(summary.kappa_blocks.map(|s| s.median), 0),
			cell(summary.micros_per_block.map(|s| s.median), 1),
		]);
	}
	table
}

/// Median distance to `μ*` per block, and the distribution of blocks to converge, over the
/// binding draws.
fn convergence_figure(
	scenario: &Scenario,
	replications: &[Replication],
	config: &ConvergenceConfig,
) -> Figure {
	let binding: Vec<&Replication> = replications.iter().filter(|r| r.draw.binds()).collect();
	let floor = 1e-12;
	let mut distance = Panel::new(
		&format!(
			"median |μ_t − μ*| over {} binding draws ({}; below 10⁻¹² drawn at 10⁻¹²)",
			binding.len(),
			scenario.name
		),
		Axis::linear("block", 0.0..TRACE_BLOCKS as f64),
		Axis::log("|μ − μ*| (EQ per unit)", floor..10.0),
	);
	let horizon = f64::from(config.length.horizon);
	let mut blocks = Panel::new(
		&format!("blocks to stay within 10⁻⁶ of μ* ({})", scenario.name),
		Axis::log("blocks (not converged: at the horizon)", 1.0..horizon),
		Axis::linear("share of binding draws", 0.0..1.0),
	);
	blocks.legend = Some(SeriesLabelPosition::LowerRight);
	distance.legend = Some(SeriesLabelPosition::MiddleRight);
	for (index, rule) in config.rules.iter().enumerate() {
		let color = PALETTE[index % PALETTE.len()];
		let traces: Vec<&[f64]> = binding.iter().map(|r| r.runs[index].trace.as_slice()).collect();
		let points = median_trace(&traces, floor);
		let dashed = !rule.is_chain_code();
		distance.series.push(Series { label: rule.label.into(), color, points, dashed });
		let values: Vec<f64> = binding
			.iter()
			.map(|r| r.runs[index].blocks[1].map_or(horizon, |b| f64::from(b.max(1))))
			.collect();
		blocks.series.push(Series {
			label: rule.name.into(),
			color,
			points: ecdf(&values),
			dashed,
		});
	}
	Figure::new(vec![distance, blocks], 1, 2)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::rules::NEWTON;

	#[test]
	fn a_small_benchmark_summarises_paired_draws() {
		let config = ConvergenceConfig {
			scenarios: vec![Scenario::binding()],
			replications: 6,
			seed: 1,
			rules: vec![NEWTON, crate::rules::DUAL_HALF],
			length: RunLength { horizon: 3000, settle_window: 5, min_blocks: 0 },
			quiet: true,
		};
		let (replications, _) = replicate(&config.scenarios[0], &config, "test");
		assert_eq!(replications.len(), 6);
		let summaries = summarise(&replications, 0);
		assert_eq!(summaries.len(), 2);
		// Newton against itself: a ratio of one.
		assert_eq!(summaries[0].ratio.map(|s| s.median), Some(1.0));
		// The paper's step is slower than the fast rule on every binding draw.
		assert!(summaries[1].ratio.is_some_and(|s| s.min > 1.0));
		assert!(summaries.iter().all(|s| s.capacity_violations == 0));
		assert_eq!(summaries[1].kappa_exceeded, 0, "the paper's bound holds on the chain's rule");
	}
}
