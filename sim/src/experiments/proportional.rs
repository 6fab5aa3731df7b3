//! Contract clearing against proportional allocation, on the same draws.
//!
//! Proportional allocation has no price: each agent requests its best response at a price of
//! zero (it still pays `τ` per unit and `g`, and bids only if that covers `g`), and when requests
//! exceed capacity every request is scaled down pro rata. That is exactly the chain's settlement
//! at a posted price of zero, so it runs on the chain's code too ([`crate::settlement::settle`]
//! at `μ = 0`).

use super::{parallel_map, run_rule, seeds, Draw};
use crate::{
	engine::RunLength,
	metrics::{fraction, Summary},
	output::{cell, decimal, number, Csv, OutputDirs, Report, Table},
	participation::covers_fixed_fee,
	plots::{ecdf, Axis, Figure, Panel, Series, PALETTE},
	rules::{RuleSpec, NEWTON},
	scenarios::Scenario,
	settlement::{settle, Outcome},
};
use contract_equilibrium_primitives::FixedU128;
use plotters::prelude::SeriesLabelPosition;
use std::error::Error;

/// The comparison's settings.
#[derive(Clone, Debug)]
pub struct ProportionalConfig {
	/// The settings compared.
	pub scenarios: Vec<Scenario>,
	/// Replications per setting.
	pub replications: u64,
	/// The master seed.
	pub seed: u64,
	/// The rule that finds the contract-clearing price.
	pub rule: RuleSpec,
	/// How long each run lasts.
	pub length: RunLength,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl ProportionalConfig {
	/// The paper's defaults and the binding setting, 1000 replications, the pallet's fast rule.
	pub fn paper(seed: u64) -> Self {
		Self {
			scenarios: vec![Scenario::paper_defaults(), Scenario::binding()],
			replications: 1000,
			seed,
			rule: NEWTON,
			length: RunLength { horizon: 5000, settle_window: 10, min_blocks: 0 },
			quiet: false,
		}
	}
}

/// Picks one mechanism's outcome and efficiency from a comparison.
type Pick = fn(&Comparison) -> (&Outcome, f64);

/// Both mechanisms on one draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
	/// Contract clearing: settled at the price the chain's rule reached.
	pub clearing: Outcome,
	/// Proportional allocation.
	pub proportional: Outcome,
	/// Efficiency of each: surplus / first best.
	pub efficiency: (f64, f64),
	/// Capacity binds for the contract-clearing bidders.
	pub binds: bool,
}

/// Both mechanisms on one draw.
pub fn compare(draw: &Draw, config: &ProportionalConfig) -> Comparison {
	let clearing = run_rule(draw, &config.rule, config.length).outcome;
	let zero = FixedU128::from_inner(0);
	let requesters: Vec<usize> = (0..draw.agents.len())
		.filter(|&index| covers_fixed_fee(&draw.agents[index], &draw.market, zero))
		.collect();
	let proportional = settle(&draw.agents, &requesters, &draw.market, zero);
	Comparison {
		efficiency: (draw.efficiency(&clearing), draw.efficiency(&proportional)),
		clearing,
		proportional,
		binds: draw.binds(),
	}
}

/// Runs the comparison, writes `proportional.csv` and `proportional.svg`; returns the report.
pub fn run(config: &ProportionalConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut report = Report::default();
	report.heading("Contract clearing vs proportional allocation");
	report.paragraph(&format!(
		"{} replications per setting, master seed {}, τ = 0.5, g = 1. Contract clearing settles \
		 at the price `{}` reached; proportional allocation settles at a price of zero with pro \
		 rata rationing (the chain's settlement at μ = 0). Efficiency = total surplus / first \
		 best; fairness and participation over all n agents.",
		config.replications, config.seed, config.rule.name
	));
	let mut table = Table::new(&[
		"setting",
		"mechanism",
		"efficiency: median (p10–p90)",
		"worst efficiency",
		"fairness: median (p10–p90)",
		"participation: median",
		"rationed",
		"capacity violations",
		"draws where clearing is more efficient",
		"median efficiency gain of clearing",
	]);
	let mut csv = Csv::create(
		&out.result("proportional.csv"),
		&[
			"scenario",
			"mechanism",
			"draws",
			"binding_draws",
			"median_efficiency",
			"p10_efficiency",
			"p90_efficiency",
			"worst_efficiency",
			"median_fairness",
			"p10_fairness",
			"p90_fairness",
			"median_participation",
			"rationed",
			"capacity_violations",
			"clearing_more_efficient",
			"median_efficiency_gain",
		],
	)?;
	let mut panels = Vec::new();
	for scenario in &config.scenarios {
		let (comparisons, _) = parallel_map(
			&format!("proportional {}", scenario.name),
			seeds(config.seed, config.replications),
			|seed| compare(&Draw::new(scenario, *seed), config),
			config.quiet,
		);
		let binding = comparisons.iter().filter(|c| c.binds).count();
		let better = comparisons.iter().filter(|c| c.efficiency.0 > c.efficiency.1 + 1e-12).count();
		let gain = Summary::of(
			&comparisons.iter().map(|c| c.efficiency.0 - c.efficiency.1).collect::<Vec<_>>(),
		)
		.expect("draws");
		let mechanisms: [(&str, Pick); 2] = [
			("contract clearing", |c| (&c.clearing, c.efficiency.0)),
			("proportional", |c| (&c.proportional, c.efficiency.1)),
		];
		let mut efficiency_panel = Panel::new(
			&format!("efficiency, {} (m = {})", scenario.name, decimal(scenario.capacity)),
			Axis::linear("surplus / first best", 0.93..1.0005),
			Axis::linear("share of draws", 0.0..1.0),
		);
		efficiency_panel.legend = Some(SeriesLabelPosition::UpperLeft);
		let mut fairness_panel = Panel::new(
			&format!("fairness, {} (m = {})", scenario.name, decimal(scenario.capacity)),
			Axis::linear("1 − Gini over all agents", 0.0..1.0),
			Axis::linear("share of draws", 0.0..1.0),
		);
		fairness_panel.legend = Some(SeriesLabelPosition::UpperLeft);
		for (index, (name, pick)) in mechanisms.iter().enumerate() {
			let efficiency: Vec<f64> = comparisons.iter().map(|c| pick(c).1).collect();
			let fairness: Vec<f64> =
				comparisons.iter().map(|c| fraction(pick(c).0.fairness)).collect();
			let participation: Vec<f64> =
				comparisons.iter().map(|c| fraction(pick(c).0.participation)).collect();
			let rationed = comparisons.iter().filter(|c| pick(c).0.rationed).count();
			let violations = comparisons.iter().filter(|c| pick(c).0.capacity_violation).count();
			let efficiency_summary = Summary::of(&efficiency).expect("draws");
			let fairness_summary = Summary::of(&fairness).expect("draws");
			let participation_summary = Summary::of(&participation).expect("draws");
			let is_clearing = index == 0;
			csv.row(vec![
				scenario.name.clone(),
				name.replace(' ', "-"),
				comparisons.len().to_string(),
				binding.to_string(),
				number(Some(efficiency_summary.median)),
				number(Some(efficiency_summary.p10)),
				number(Some(efficiency_summary.p90)),
				number(Some(efficiency_summary.min)),
				number(Some(fairness_summary.median)),
				number(Some(fairness_summary.p10)),
				number(Some(fairness_summary.p90)),
				number(Some(participation_summary.median)),
				rationed.to_string(),
				violations.to_string(),
				if is_clearing { better.to_string() } else { "NA".into() },
				if is_clearing { number(Some(gain.median)) } else { "NA".into() },
			])?;
			table.row(vec![
				format!("{} (m = {})", scenario.name, decimal(scenario.capacity)),
				(*name).into(),
				format!(
					"{:.4} ({:.4}–{:.4})",
					efficiency_summary.median, efficiency_summary.p10, efficiency_summary.p90
				),
				cell(Some(efficiency_summary.min), 4),
				format!(
					"{:.3} ({:.3}–{:.3})",
					fairness_summary.median, fairness_summary.p10, fairness_summary.p90
				),
				cell(Some(participation_summary.median), 2),
				rationed.to_string(),
				violations.to_string(),
				if is_clearing { format!("{better} / {}", comparisons.len()) } else { "".into() },
				if is_clearing { cell(Some(gain.median), 4) } else { "".into() },
			]);
			let color = PALETTE[index];
			efficiency_panel.series.push(Series {
				label: (*name).into(),
				color,
				points: ecdf(&efficiency),
				dashed: false,
			});
			fairness_panel.series.push(Series {
				label: (*name).into(),
				color,
				points: ecdf(&fairness),
				dashed: false,
			});
		}
		panels.push(efficiency_panel);
		panels.push(fairness_panel);
	}
	csv.finish()?;
	let rows = config.scenarios.len();
	Figure::new(panels, rows, 2).write_svg(&out.figure("proportional.svg"))?;
	report.table(&table);
	Ok(report)
}
