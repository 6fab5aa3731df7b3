//! The τ sweep: the unit fee from 0 to 2 on the same draws; the market converges with the
//! pallet's fast rule and settles at the price reached.

use super::{parallel_map, run_rule, seeds, Draw};
use crate::{
	agents::DrawSeed,
	engine::RunLength,
	metrics::{fraction, Summary},
	output::{cell, decimal, number, Csv, OutputDirs, Report, Table},
	plots::{Axis, Band, Figure, Panel, Series, PALETTE},
	rules::{RuleSpec, NEWTON},
	scenarios::Scenario,
};
use contract_equilibrium_primitives::FixedU128;
use plotters::prelude::SeriesLabelPosition;
use std::error::Error;

/// The sweep's settings.
#[derive(Clone, Debug)]
pub struct TauSweepConfig {
	/// The settings swept.
	pub scenarios: Vec<Scenario>,
	/// The unit fees `τ`.
	pub unit_fees: Vec<FixedU128>,
	/// Replications per setting and fee.
	pub replications: u64,
	/// The master seed.
	pub seed: u64,
	/// The rule that moves the price.
	pub rule: RuleSpec,
	/// How long each run lasts.
	pub length: RunLength,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl TauSweepConfig {
	/// `τ = 0, 0.1, …, 2` on the paper's defaults and the binding setting, 1000 replications.
	pub fn paper(seed: u64) -> Self {
		Self {
			scenarios: vec![Scenario::paper_defaults(), Scenario::binding()],
			unit_fees: (0..=20).map(|tenths| FixedU128::from_rational(tenths, 10)).collect(),
			replications: 1000,
			seed,
			rule: NEWTON,
			length: RunLength { horizon: 5000, settle_window: 10, min_blocks: 0 },
			quiet: false,
		}
	}
}

/// What one draw gives at one fee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPoint {
	/// Capacity binds.
	pub binds: bool,
	/// `μ*`.
	pub clearing_price: f64,
	/// Surplus / first best.
	pub efficiency: f64,
	/// `1 − Gini` over all agents.
	pub fairness: f64,
	/// Share of agents allocated.
	pub participation: f64,
	/// Bidders.
	pub bidders: usize,
	/// Blocks to converge (10⁻⁶) of the rule.
	pub blocks: Option<u32>,
	/// The settlement exceeded capacity (must not happen).
	pub capacity_violation: bool,
}

/// Statistics at one `(setting, τ)`.
#[derive(Clone, Debug)]
pub struct SweepSummary {
	/// The setting's name.
	pub scenario: String,
	/// `τ`.
	pub unit_fee: f64,
	/// Draws.
	pub draws: usize,
	/// Share of draws where capacity binds.
	pub binding_share: f64,
	/// `μ*`.
	pub clearing_price: Summary,
	/// Efficiency.
	pub efficiency: Summary,
	/// Fairness.
	pub fairness: Summary,
	/// Participation.
	pub participation: Summary,
	/// Bidders.
	pub bidders: Summary,
	/// Blocks to converge over binding draws.
	pub blocks: Option<Summary>,
	/// Capacity violations.
	pub capacity_violations: usize,
}

/// Runs the sweep, writes `tau_sweep.csv` and `tau_sweep.svg`; returns the report.
pub fn run(config: &TauSweepConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut items: Vec<(usize, usize, DrawSeed)> = Vec::new();
	for scenario in 0..config.scenarios.len() {
		for fee in 0..config.unit_fees.len() {
			for seed in seeds(config.seed, config.replications) {
				items.push((scenario, fee, seed));
			}
		}
	}
	let (points, _) = parallel_map(
		"tau sweep",
		items.clone(),
		|&(scenario, fee, seed)| {
			let scenario = config.scenarios[scenario].with_unit_fee(config.unit_fees[fee]);
			let draw = Draw::new(&scenario, seed);
			let run = run_rule(&draw, &config.rule, config.length);
			SweepPoint {
				binds: draw.binds(),
				clearing_price: draw.clearing_price().to_float(),
				efficiency: run.efficiency,
				fairness: fraction(run.outcome.fairness),
				participation: fraction(run.outcome.participation),
				bidders: draw.entry.bidders.len(),
				blocks: run.blocks[1],
				capacity_violation: run.outcome.capacity_violation,
			}
		},
		config.quiet,
	);

	let mut summaries = Vec::new();
	for (scenario_index, scenario) in config.scenarios.iter().enumerate() {
		for (fee_index, fee) in config.unit_fees.iter().enumerate() {
			let cell_points: Vec<&SweepPoint> = items
				.iter()
				.zip(&points)
				.filter(|((s, f, _), _)| *s == scenario_index && *f == fee_index)
				.map(|(_, point)| point)
				.collect();
			let values = |f: &dyn Fn(&SweepPoint) -> f64| {
				Summary::of(&cell_points.iter().map(|p| f(p)).collect::<Vec<_>>()).expect("draws")
			};
			summaries.push(SweepSummary {
				scenario: scenario.name.clone(),
				unit_fee: fee.to_float(),
				draws: cell_points.len(),
				binding_share: cell_points.iter().filter(|p| p.binds).count() as f64
					/ cell_points.len() as f64,
				clearing_price: values(&|p| p.clearing_price),
				efficiency: values(&|p| p.efficiency),
				fairness: values(&|p| p.fairness),
				participation: values(&|p| p.participation),
				bidders: values(&|p| p.bidders as f64),
				blocks: Summary::of(
					&cell_points
						.iter()
						.filter(|p| p.binds)
						.filter_map(|p| p.blocks.map(f64::from))
						.collect::<Vec<_>>(),
				),
				capacity_violations: cell_points.iter().filter(|p| p.capacity_violation).count(),
			});
		}
	}

	let mut csv = Csv::create(
		&out.result("tau_sweep.csv"),
		&[
			"scenario",
			"tau",
			"draws",
			"binding_share",
			"median_clearing_price",
			"median_efficiency",
			"p10_efficiency",
			"p90_efficiency",
			"median_fairness",
			"p10_fairness",
			"p90_fairness",
			"median_participation",
			"p10_participation",
			"p90_participation",
			"mean_bidders",
			"median_blocks",
			"worst_blocks",
			"capacity_violations",
		],
	)?;
	for s in &summaries {
		csv.row(vec![
			s.scenario.clone(),
			number(Some(s.unit_fee)),
			s.draws.to_string(),
			number(Some(s.binding_share)),
			number(Some(s.clearing_price.median)),
			number(Some(s.efficiency.median)),
			number(Some(s.efficiency.p10)),
			number(Some(s.efficiency.p90)),
			number(Some(s.fairness.median)),
			number(Some(s.fairness.p10)),
			number(Some(s.fairness.p90)),
			number(Some(s.participation.median)),
			number(Some(s.participation.p10)),
			number(Some(s.participation.p90)),
			number(Some(s.bidders.mean)),
			number(s.blocks.map(|b| b.median)),
			number(s.blocks.map(|b| b.max)),
			s.capacity_violations.to_string(),
		])?;
	}
	csv.finish()?;
	sweep_figure(config, &summaries).write_svg(&out.figure("tau_sweep.svg"))?;

	let mut report = Report::default();
	report.heading("τ sweep");
	report.paragraph(&format!(
		"τ from 0 to 2, {} replications per point (the same draws at every τ), master seed {}; \
		 the price converges with `{}` and the epoch settles at the price reached. Medians over \
		 all draws; efficiency is the total surplus as a share of the first best.",
		config.replications, config.seed, config.rule.name
	));
	let mut table = Table::new(&[
		"setting",
		"τ",
		"capacity binds",
		"median μ*",
		"efficiency (p10–p90)",
		"fairness (p10–p90)",
		"participation (p10–p90)",
		"mean bidders",
		"median / worst blocks",
		"capacity violations",
	]);
	for s in summaries.iter().filter(|s| {
		let tenths = (s.unit_fee * 10.0).round() as i64;
		tenths % 5 == 0
	}) {
		table.row(vec![
			s.scenario.clone(),
			cell(Some(s.unit_fee), 1),
			format!("{:.1} %", 100.0 * s.binding_share),
			cell(Some(s.clearing_price.median), 3),
			format!("{:.3} ({:.3}–{:.3})", s.efficiency.median, s.efficiency.p10, s.efficiency.p90),
			format!("{:.3} ({:.3}–{:.3})", s.fairness.median, s.fairness.p10, s.fairness.p90),
			format!(
				"{:.2} ({:.2}–{:.2})",
				s.participation.median, s.participation.p10, s.participation.p90
			),
			cell(Some(s.bidders.mean), 1),
			format!(
				"{} / {}",
				cell(s.blocks.map(|b| b.median), 0),
				cell(s.blocks.map(|b| b.max), 0)
			),
			s.capacity_violations.to_string(),
		]);
	}
	report.table(&table);
	report.paragraph(
		"Every τ in steps of 0.1 is in `tau_sweep.csv`; the table shows τ = 0, 0.5, 1, 1.5, 2.",
	);
	Ok(report)
}

/// Picks one metric's statistics from a point of the sweep.
type Metric = fn(&SweepSummary) -> Summary;

fn sweep_figure(config: &TauSweepConfig, summaries: &[SweepSummary]) -> Figure {
	let metrics: [(&str, &str, Metric, f64); 4] = [
		("efficiency: surplus / first best", "efficiency", |s| s.efficiency, 1.02),
		("fairness: 1 − Gini over all agents", "fairness", |s| s.fairness, 1.0),
		("participation: share of agents allocated", "participation", |s| s.participation, 1.0),
		("clearing price μ*", "μ* (EQ per unit)", |s| s.clearing_price, 2.0),
	];
	let panels = metrics
		.iter()
		.map(|(title, label, metric, top)| {
			let mut panel = Panel::new(
				title,
				Axis::linear("τ (EQ per unit)", 0.0..2.0),
				Axis::linear(label, 0.0..*top),
			);
			panel.legend = Some(SeriesLabelPosition::LowerLeft);
			for (index, scenario) in config.scenarios.iter().enumerate() {
				let color = PALETTE[index];
				let rows: Vec<&SweepSummary> =
					summaries.iter().filter(|s| s.scenario == scenario.name).collect();
				panel.bands.push(Band {
					color,
					lower: rows.iter().map(|s| (s.unit_fee, metric(s).p10)).collect(),
					upper: rows.iter().map(|s| (s.unit_fee, metric(s).p90)).collect(),
				});
				panel.series.push(Series {
					label: format!("m = {} (median, p10–p90)", decimal(scenario.capacity)),
					color,
					points: rows.iter().map(|s| (s.unit_fee, metric(s).median)).collect(),
					dashed: false,
				});
			}
			panel
		})
		.collect();
	Figure::new(panels, 2, 2)
}
