//! The τ shock: the unit fee jumps from 0.5 to 1.5 at round 50 (a governance change of the
//! market's parameters). Agents re-decide whether to bid at the new fee; each rule keeps the
//! step size it was set up with.

use super::{median_trace, parallel_map, seeds, Draw};
use crate::{
	engine::{extend_path, price_path, RunLength},
	metrics::{blocks_to_converge, fraction, Summary},
	output::{cell, decimal, number, Csv, OutputDirs, Report, Table},
	participation::entry_equilibrium,
	plots::{Axis, Figure, Panel, Series, PALETTE},
	rules::{standard_rules, RuleSpec},
	scenarios::Scenario,
	settlement::{settle, Outcome},
};
use contract_equilibrium_primitives::{FixedU128, MarketParams};
use std::error::Error;

/// The shock's settings.
#[derive(Clone, Debug)]
pub struct TauShockConfig {
	/// The settings shocked.
	pub scenarios: Vec<Scenario>,
	/// Replications per setting.
	pub replications: u64,
	/// The master seed.
	pub seed: u64,
	/// The rules compared.
	pub rules: Vec<RuleSpec>,
	/// `τ` before the shock.
	pub fee_before: FixedU128,
	/// `τ` from the shock on.
	pub fee_after: FixedU128,
	/// The round whose step first sees the new fee.
	pub shock_round: u32,
	/// Rounds in all.
	pub rounds: u32,
	/// Draw no progress bars.
	pub quiet: bool,
}

impl TauShockConfig {
	/// The paper's shock, τ 0.5 → 1.5 at round 50, 200 rounds, 1000 replications, every rule,
	/// on the paper's defaults, the binding setting (m = 50) and the tight one (m = 30), where
	/// capacity still binds after the shock.
	pub fn paper(seed: u64) -> Self {
		Self {
			scenarios: vec![Scenario::paper_defaults(), Scenario::binding(), Scenario::tight()],
			replications: 1000,
			seed,
			rules: standard_rules(),
			fee_before: FixedU128::from_rational(1, 2),
			fee_after: FixedU128::from_rational(3, 2),
			shock_round: 50,
			rounds: 200,
			quiet: false,
		}
	}
}

/// One rule on one shocked draw.
#[derive(Clone, Debug, PartialEq)]
pub struct ShockRun {
	/// Blocks to converge (10⁻⁶) before the shock, from the floor (`None`: not by the shock).
	pub blocks_before: Option<u32>,
	/// Blocks to converge again after the shock, counted from it.
	pub blocks_after: Option<u32>,
	/// The furthest the price went past the new `μ*` after the shock, on the side away from the
	/// price the shock found (zero for rules that approach from one side).
	pub overshoot: f64,
	/// The epoch settled at the price posted when the shock hits (old fee and bidders).
	pub before: Outcome,
	/// The epoch settled at the last price (new fee and bidders).
	pub after: Outcome,
	/// The prices, one per round.
	pub prices: Vec<f64>,
}

/// One shocked draw.
#[derive(Clone, Debug, PartialEq)]
pub struct ShockReplication {
	/// `μ*` before and after the shock.
	pub clearing_prices: (f64, f64),
	/// Bidders before and after.
	pub bidders: (usize, usize),
	/// Capacity binds before and after.
	pub binds: (bool, bool),
	/// One run per rule.
	pub runs: Vec<ShockRun>,
}

/// Runs every rule through the shock on one draw.
pub fn shock(draw: &Draw, config: &TauShockConfig) -> ShockReplication {
	let tolerance = super::fine_tolerance();
	let before_market = draw.market.clone();
	let after_market = MarketParams { unit_fee: config.fee_after, ..before_market.clone() };
	let before_entry = &draw.entry;
	let after_entry = entry_equilibrium(&draw.agents, &after_market);
	let after_curves = after_entry.curves(&draw.agents);
	let (before_target, after_target) = (before_entry.clearing_price, after_entry.clearing_price);
	let runs = config
		.rules
		.iter()
		.map(|rule| {
			let prepared = rule.prepare(&draw.curves, &before_market);
			let mut path = price_path(
				&prepared,
				&draw.curves,
				&before_market,
				before_market.price_floor,
				before_target,
				tolerance,
				RunLength::exactly(config.shock_round),
			);
			let at_shock = *path.last().expect("a start");
			extend_path(
				&mut path,
				&prepared,
				&after_curves,
				&after_market,
				after_target,
				tolerance,
				RunLength::exactly(config.rounds - config.shock_round),
			);
			let shock_index = config.shock_round as usize;
			let after_path = &path[shock_index..];
			let overshoot = after_path
				.iter()
				.map(|price| {
					let past = if at_shock >= after_target {
						after_target.into_inner().saturating_sub(price.into_inner())
					} else {
						price.into_inner().saturating_sub(after_target.into_inner())
					};
					FixedU128::from_inner(past).to_float()
				})
				.fold(0.0, f64::max);
			ShockRun {
				blocks_before: blocks_to_converge(&path[..=shock_index], before_target, tolerance),
				blocks_after: blocks_to_converge(after_path, after_target, tolerance),
				overshoot,
				before: settle(&draw.agents, &before_entry.bidders, &before_market, at_shock),
				after: settle(
					&draw.agents,
					&after_entry.bidders,
					&after_market,
					*path.last().expect("a price"),
				),
				prices: path.iter().map(|price| price.to_float()).collect(),
			}
		})
		.collect();
	ShockReplication {
		clearing_prices: (before_target.to_float(), after_target.to_float()),
		bidders: (before_entry.bidders.len(), after_entry.bidders.len()),
		binds: (before_target > before_market.price_floor, after_target > after_market.price_floor),
		runs,
	}
}

/// Runs the shock experiment, writes `tau_shock.csv`, `tau_shock_<scenario>.svg` and the
/// per-round medians (`tau_shock_paths.csv`, with the per-run files); returns the report.
pub fn run(config: &TauShockConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let mut report = Report::default();
	report.heading("τ shock");
	report.paragraph(&format!(
		"τ = {} until round {}, then τ = {} (a `set_market_params` by governance), {} rounds, {} \
		 replications, master seed {}. Agents re-decide whether to bid at the new fee; each rule \
		 keeps its step size (η set from the pre-shock bids). \"Before\" settles the epoch at the \
		 price posted when the shock hits, \"after\" at the last price.",
		config.fee_before.to_float(),
		config.shock_round,
		config.fee_after.to_float(),
		config.rounds,
		config.replications,
		config.seed
	));
	let mut summary_csv = Csv::create(
		&out.result("tau_shock.csv"),
		&[
			"scenario",
			"rule",
			"chain_code",
			"draws",
			"binding_before",
			"binding_after",
			"median_clearing_price_before",
			"median_clearing_price_after",
			"converged_by_shock",
			"median_blocks_after",
			"worst_blocks_after",
			"not_reconverged",
			"median_overshoot",
			"worst_overshoot",
			"median_surplus_before",
			"median_surplus_after",
			"median_participation_before",
			"median_participation_after",
			"median_fairness_before",
			"median_fairness_after",
			"capacity_violations",
		],
	)?;
	let mut paths_csv = match out.run_file("tau_shock_paths.csv") {
		Some(path) => Some(Csv::create(
			&path,
			&[
				"scenario",
				"rule",
				"round",
				"median_price",
				"p10_price",
				"p90_price",
				"median_distance",
			],
		)?),
		None => None,
	};
	for scenario in &config.scenarios {
		let scenario = scenario.with_unit_fee(config.fee_before);
		let (replications, _) = parallel_map(
			&format!("tau shock {}", scenario.name),
			seeds(config.seed, config.replications),
			|seed| shock(&Draw::new(&scenario, *seed), config),
			config.quiet,
		);
		let count = replications.len();
		let binding_before = replications.iter().filter(|r| r.binds.0).count();
		let binding_after = replications.iter().filter(|r| r.binds.1).count();
		let median = |values: Vec<f64>| Summary::of(&values).map(|s| s.median);
		let mut table = Table::new(&[
			"rule",
			"converged by round 50",
			"median / worst blocks to re-converge",
			"not re-converged",
			"median / worst overshoot",
			"surplus before → after",
			"participation before → after",
			"fairness before → after",
			"capacity violations",
		]);
		for (index, rule) in config.rules.iter().enumerate() {
			let runs: Vec<&ShockRun> = replications.iter().map(|r| &r.runs[index]).collect();
			let converged_by_shock = runs.iter().filter(|r| r.blocks_before.is_some()).count();
			let after = Summary::of(
				&runs.iter().filter_map(|r| r.blocks_after.map(f64::from)).collect::<Vec<_>>(),
			);
			let not_reconverged = runs.iter().filter(|r| r.blocks_after.is_none()).count();
			let overshoot = Summary::of(&runs.iter().map(|r| r.overshoot).collect::<Vec<_>>());
			let surplus = |f: fn(&ShockRun) -> &Outcome| {
				median(runs.iter().map(|r| f(r).surplus.to_float()).collect())
			};
			let participation = |f: fn(&ShockRun) -> &Outcome| {
				median(runs.iter().map(|r| fraction(f(r).participation)).collect())
			};
			let fairness = |f: fn(&ShockRun) -> &Outcome| {
				median(runs.iter().map(|r| fraction(f(r).fairness)).collect())
			};
			let violations = runs
				.iter()
				.filter(|r| r.before.capacity_violation || r.after.capacity_violation)
				.count();
			summary_csv.row(vec![
				scenario.name.clone(),
				rule.name.into(),
				u8::from(rule.is_chain_code()).to_string(),
				count.to_string(),
				binding_before.to_string(),
				binding_after.to_string(),
				number(median(replications.iter().map(|r| r.clearing_prices.0).collect())),
				number(median(replications.iter().map(|r| r.clearing_prices.1).collect())),
				converged_by_shock.to_string(),
				number(after.map(|s| s.median)),
				number(after.map(|s| s.max)),
				not_reconverged.to_string(),
				number(overshoot.map(|s| s.median)),
				number(overshoot.map(|s| s.max)),
				number(surplus(|r| &r.before)),
				number(surplus(|r| &r.after)),
				number(participation(|r| &r.before)),
				number(participation(|r| &r.after)),
				number(fairness(|r| &r.before)),
				number(fairness(|r| &r.after)),
				violations.to_string(),
			])?;
			table.row(vec![
				rule.label.into(),
				format!("{converged_by_shock} / {count}"),
				format!("{} / {}", cell(after.map(|s| s.median), 0), cell(after.map(|s| s.max), 0)),
				not_reconverged.to_string(),
				format!(
					"{} / {}",
					cell(overshoot.map(|s| s.median), 4),
					cell(overshoot.map(|s| s.max), 4)
				),
				format!("{} → {}", cell(surplus(|r| &r.before), 1), cell(surplus(|r| &r.after), 1)),
				format!(
					"{} → {}",
					cell(participation(|r| &r.before), 2),
					cell(participation(|r| &r.after), 2)
				),
				format!(
					"{} → {}",
					cell(fairness(|r| &r.before), 3),
					cell(fairness(|r| &r.after), 3)
				),
				violations.to_string(),
			]);
			for round in 0..=config.rounds as usize {
				let prices: Vec<f64> = runs.iter().map(|r| r.prices[round]).collect();
				let distances: Vec<f64> = replications
					.iter()
					.map(|r| {
						let target = if round < config.shock_round as usize {
							r.clearing_prices.0
						} else {
							r.clearing_prices.1
						};
						(r.runs[index].prices[round] - target).abs()
					})
					.collect();
				let prices = Summary::of(&prices).expect("draws");
				let Some(paths_csv) = paths_csv.as_mut() else { continue };
				paths_csv.row(vec![
					scenario.name.clone(),
					rule.name.into(),
					round.to_string(),
					number(Some(prices.median)),
					number(Some(prices.p10)),
					number(Some(prices.p90)),
					number(median(distances)),
				])?;
			}
		}
		report.heading(&format!(
			"τ shock, setting `{}` (m = {}; capacity binds in {} of {} draws before the shock, {} \
			 after; median μ* {} → {})",
			scenario.name,
			decimal(scenario.capacity),
			binding_before,
			count,
			binding_after,
			cell(median(replications.iter().map(|r| r.clearing_prices.0).collect()), 3),
			cell(median(replications.iter().map(|r| r.clearing_prices.1).collect()), 3),
		));
		report.table(&table);
		if binding_before > 0 {
			shock_figure(&scenario, &replications, config)
				.write_svg(&out.figure(&format!("tau_shock_{}.svg", scenario.name)))?;
		}
	}
	summary_csv.finish()?;
	if let Some(paths_csv) = paths_csv {
		paths_csv.finish()?;
	}
	Ok(report)
}

fn shock_figure(
	scenario: &Scenario,
	replications: &[ShockReplication],
	config: &TauShockConfig,
) -> Figure {
	let rounds = f64::from(config.rounds);
	let shock = config.shock_round as usize;
	// The first draw where capacity binds before the shock, as an example.
	let example = replications.iter().position(|r| r.binds.0).unwrap_or(0);
	let sample = &replications[example];
	let top = sample.runs.iter().flat_map(|r| r.prices.iter()).fold(0.0f64, |a, b| a.max(*b));
	let mut paths = Panel::new(
		&format!("prices of replication {example} ({})", scenario.name),
		Axis::linear("round", 0.0..rounds),
		Axis::linear("μ (EQ per unit)", 0.0..(top * 1.1).max(0.1)),
	);
	let mut distance = Panel::new(
		&format!("median |μ_t − μ*_t| over {} draws ({})", replications.len(), scenario.name),
		Axis::linear("round", 0.0..rounds),
		Axis::log("|μ − μ*| (EQ per unit)", 1e-12..10.0),
	);
	for (index, rule) in config.rules.iter().enumerate() {
		let color = PALETTE[index % PALETTE.len()];
		let dashed = !rule.is_chain_code();
		paths.series.push(Series {
			label: rule.name.into(),
			color,
			points: sample.runs[index]
				.prices
				.iter()
				.enumerate()
				.map(|(t, p)| (t as f64, *p))
				.collect(),
			dashed,
		});
		let traces: Vec<Vec<f64>> = replications
			.iter()
			.map(|r| {
				r.runs[index]
					.prices
					.iter()
					.enumerate()
					.map(|(t, p)| {
						let target =
							if t < shock { r.clearing_prices.0 } else { r.clearing_prices.1 };
						(p - target).abs()
					})
					.collect()
			})
			.collect();
		let traces: Vec<&[f64]> = traces.iter().map(|t| t.as_slice()).collect();
		distance.series.push(Series {
			label: rule.label.into(),
			color,
			points: median_trace(&traces, 1e-12),
			dashed,
		});
	}
	let (before, after) = sample.clearing_prices;
	paths.series.push(Series {
		label: "μ* (before, after the shock)".into(),
		color: PALETTE[6],
		points: vec![(0.0, before), (shock as f64, before), (shock as f64, after), (rounds, after)],
		dashed: true,
	});
	Figure::new(vec![paths, distance], 1, 2)
}
