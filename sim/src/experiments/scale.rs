//! Scaling: the binding setting with `n` from 20 to 100 000 agents and the capacity per agent
//! kept (`m = 2.5·n`), every rule on the same draws; blocks to converge and the simulator's own
//! time per block.

use super::{
	convergence::{self, ConvergenceConfig, Replication},
	Draw,
};
use crate::{
	engine::RunLength,
	metrics::Summary,
	output::{cell, decimal, number, Csv, OutputDirs, Report, Table},
	plots::{Axis, Figure, Panel, Series, PALETTE},
	rules::{standard_rules, RuleSpec},
	scenarios::Scenario,
};
use plotters::prelude::SeriesLabelPosition;
use std::error::Error;

/// The scaling experiment's settings.
#[derive(Clone, Debug)]
pub struct ScaleConfig {
	/// The setting scaled (its capacity per agent is kept).
	pub base: Scenario,
	/// Numbers of agents, each with its number of replications.
	pub sizes: Vec<(usize, u64)>,
	/// The master seed.
	pub seed: u64,
	/// The rules compared.
	pub rules: Vec<RuleSpec>,
	/// How long each run lasts.
	pub length: RunLength,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl ScaleConfig {
	/// The binding setting at n = 20, 200 and 2000 (1000 replications each), 20 000 (200) and
	/// 100 000 (50).
	pub fn paper(seed: u64) -> Self {
		Self {
			base: Scenario::binding(),
			sizes: vec![(20, 1000), (200, 1000), (2_000, 1000), (20_000, 200), (100_000, 50)],
			seed,
			rules: standard_rules(),
			length: RunLength { horizon: 5000, settle_window: 10, min_blocks: 0 },
			quiet: false,
		}
	}
}

/// One rule at one size.
#[derive(Clone, Debug)]
pub struct ScalePoint {
	/// Agents.
	pub agents: usize,
	/// Replications.
	pub replications: usize,
	/// Binding replications.
	pub binding: usize,
	/// The rule.
	pub rule: RuleSpec,
	/// Blocks to converge (10⁻⁶) over binding draws.
	pub blocks: Option<Summary>,
	/// Binding draws not converged within the horizon.
	pub not_converged: usize,
	/// Wall time per block, microseconds.
	pub micros_per_block: Option<Summary>,
	/// Mean bidders.
	pub bidders: f64,
	/// Capacity violations.
	pub capacity_violations: usize,
}

/// Runs the scaling experiment, writes `scale.csv` and `scale.svg`; returns the report.
pub fn run(config: &ScaleConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut points: Vec<ScalePoint> = Vec::new();
	let mut draw_seconds = Vec::new();
	for &(agents, replications) in &config.sizes {
		let scenario = config.base.scaled_to(agents);
		let convergence = ConvergenceConfig {
			scenarios: vec![scenario.clone()],
			replications,
			seed: config.seed,
			rules: config.rules.clone(),
			length: config.length,
			quiet: config.quiet,
		};
		let started = std::time::Instant::now();
		let _ =
			Draw::new(&scenario, crate::agents::DrawSeed { master: config.seed, replication: 0 });
		draw_seconds.push((agents, started.elapsed().as_secs_f64()));
		let (replications, _) =
			convergence::replicate(&scenario, &convergence, &format!("scale n = {agents}"));
		let summaries = convergence::summarise(&replications, 0);
		let binding = replications.iter().filter(|r| r.draw.binds()).count();
		let bidders = replications.iter().map(|r| r.draw.entry.bidders.len() as f64).sum::<f64>()
			/ replications.len() as f64;
		for (index, summary) in summaries.into_iter().enumerate() {
			points.push(ScalePoint {
				agents,
				replications: replications.len(),
				binding,
				rule: summary.rule,
				blocks: summary.blocks[1],
				not_converged: summary.not_converged[1],
				micros_per_block: micros(&replications, index),
				bidders,
				capacity_violations: summary.capacity_violations,
			});
		}
	}

	let mut csv = Csv::create(
		&out.result("scale.csv"),
		&[
			"agents",
			"capacity",
			"replications",
			"binding",
			"mean_bidders",
			"rule",
			"chain_code",
			"median_blocks",
			"worst_blocks",
			"not_converged",
			"median_micros_per_block",
			"nanos_per_bidder_block",
			"capacity_violations",
		],
	)?;
	for p in &points {
		let micros = p.micros_per_block.map(|s| s.median);
		csv.row(vec![
			p.agents.to_string(),
			decimal(config.base.scaled_to(p.agents).capacity),
			p.replications.to_string(),
			p.binding.to_string(),
			number(Some(p.bidders)),
			p.rule.name.into(),
			u8::from(p.rule.is_chain_code()).to_string(),
			number(p.blocks.map(|s| s.median)),
			number(p.blocks.map(|s| s.max)),
			p.not_converged.to_string(),
			number(micros),
			number(micros.map(|m| m * 1e3 / p.bidders)),
			p.capacity_violations.to_string(),
		])?;
	}
	csv.finish()?;
	scale_figure(config, &points).write_svg(&out.figure("scale.svg"))?;

	let mut report = Report::default();
	report.heading("Scaling n to 100 000");
	report.paragraph(&format!(
		"The binding setting with m/n = 2.5 kept, master seed {}; replications per size: {}. \
		 Blocks to stay within 10⁻⁶ of μ* (median / worst over binding draws), and the \
		 simulator's native time per block (one thread, release build; machine-dependent).",
		config.seed,
		config.sizes.iter().map(|(n, r)| format!("n = {n}: {r}")).collect::<Vec<_>>().join(", ")
	));
	let mut header: Vec<String> = vec!["rule".into()];
	for &(agents, _) in &config.sizes {
		header.push(format!("n = {agents}"));
	}
	let header: Vec<&str> = header.iter().map(String::as_str).collect();
	let mut blocks_table = Table::new(&header);
	let mut time_table = Table::new(&header);
	for rule in &config.rules {
		let mut blocks_row = vec![rule.label.to_string()];
		let mut time_row = vec![rule.label.to_string()];
		for &(agents, _) in &config.sizes {
			let point = points
				.iter()
				.find(|p| p.agents == agents && p.rule.name == rule.name)
				.expect("run");
			let not_converged = if point.not_converged > 0 {
				format!(" ({} not conv.)", point.not_converged)
			} else {
				String::new()
			};
			blocks_row.push(format!(
				"{} / {}{not_converged}",
				cell(point.blocks.map(|s| s.median), 0),
				cell(point.blocks.map(|s| s.max), 0)
			));
			time_row.push(format_micros(point.micros_per_block.map(|s| s.median)));
		}
		blocks_table.row(blocks_row);
		time_table.row(time_row);
	}
	report.paragraph("Blocks to converge (median / worst):");
	report.table(&blocks_table);
	report.paragraph("Simulator time per block (median):");
	report.table(&time_table);
	let mut draws = Table::new(&[
		"n",
		"m",
		"replications",
		"binding",
		"mean bidders",
		"capacity violations",
		"draw + entry + first best (s, one draw)",
	]);
	for &(agents, seconds) in &draw_seconds {
		let point = points.iter().find(|p| p.agents == agents).expect("run");
		let violations: usize =
			points.iter().filter(|p| p.agents == agents).map(|p| p.capacity_violations).sum();
		draws.row(vec![
			agents.to_string(),
			decimal(config.base.scaled_to(agents).capacity),
			point.replications.to_string(),
			point.binding.to_string(),
			cell(Some(point.bidders), 1),
			violations.to_string(),
			cell(Some(seconds), 3),
		]);
	}
	report.table(&draws);
	Ok(report)
}

fn micros(replications: &[Replication], index: usize) -> Option<Summary> {
	Summary::of(
		&replications
			.iter()
			.filter(|r| r.draw.binds())
			.map(|r| r.runs[index].seconds_per_block * 1e6)
			.collect::<Vec<_>>(),
	)
}

fn format_micros(micros: Option<f64>) -> String {
	match micros {
		Some(m) if m >= 1000.0 => format!("{:.1} ms", m / 1000.0),
		Some(m) => format!("{m:.1} µs"),
		None => "–".into(),
	}
}

fn scale_figure(config: &ScaleConfig, points: &[ScalePoint]) -> Figure {
	let largest = config.sizes.iter().map(|(n, _)| *n).max().unwrap_or(20) as f64;
	let smallest = config.sizes.iter().map(|(n, _)| *n).min().unwrap_or(20) as f64;
	let x = || Axis::log("agents n (m = 2.5·n)", smallest * 0.8..largest * 1.25);
	let most_blocks = points.iter().filter_map(|p| p.blocks.map(|s| s.median)).fold(1.0, f64::max);
	let mut blocks = Panel::new(
		"median blocks to stay within 10⁻⁶ of μ*",
		x(),
		Axis::log("blocks", 1.0..most_blocks * 2.0),
	);
	blocks.legend = Some(SeriesLabelPosition::UpperLeft);
	let slowest =
		points.iter().filter_map(|p| p.micros_per_block.map(|s| s.median)).fold(1.0, f64::max);
	let fastest = points
		.iter()
		.filter_map(|p| p.micros_per_block.map(|s| s.median))
		.fold(f64::INFINITY, f64::min);
	let mut time = Panel::new(
		"simulator time per block (native, one thread)",
		x(),
		Axis::log("µs per block", (fastest * 0.5).max(1e-3)..slowest * 2.0),
	);
	time.legend = Some(SeriesLabelPosition::UpperLeft);
	for (index, rule) in config.rules.iter().enumerate() {
		let color = PALETTE[index % PALETTE.len()];
		let dashed = !rule.is_chain_code();
		let of_rule: Vec<&ScalePoint> =
			points.iter().filter(|p| p.rule.name == rule.name).collect();
		blocks.series.push(Series {
			label: rule.name.into(),
			color,
			points: of_rule
				.iter()
				.filter_map(|p| p.blocks.map(|s| (p.agents as f64, s.median.max(1.0))))
				.collect(),
			dashed,
		});
		time.series.push(Series {
			label: rule.name.into(),
			color,
			points: of_rule
				.iter()
				.filter_map(|p| p.micros_per_block.map(|s| (p.agents as f64, s.median)))
				.collect(),
			dashed,
		});
	}
	Figure::new(vec![blocks, time], 1, 2)
}
