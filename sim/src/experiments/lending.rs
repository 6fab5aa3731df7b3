//! Liquidity markets: the adaptive borrow-rate model against the kinked one, on the same
//! borrowers, reviews and collateral price path, through a demand shock and a 60 % crash.
//!
//! The kinked model is the adaptive model's curve frozen at its initial rate at target (kink at
//! the target, the same rate there, the same slopes), so the two differ only in whether the curve
//! moves. See [`crate::lending`] for the market and its agents.

use super::{parallel_map, seeds};
use crate::{
	agents::DrawSeed,
	lending::{annual, simulate, whole, BlockView, Setup},
	metrics::{quantile, MeanSd},
	output::{cell, number, Csv, OutputDirs, Report, Table},
	plots::{Axis, Band, Figure, Panel, Series, PALETTE},
};
use liquidity_market_primitives::{FixedU128, Perbill, RateModel};
use std::error::Error;

/// The experiment's settings.
#[derive(Clone, Debug)]
pub struct LendingConfig {
	/// The market, its agents and its paths.
	pub setup: Setup,
	/// Replications of both models.
	pub replications: u64,
	/// The master seed.
	pub seed: u64,
	/// The adaptive model's step sizes of the sensitivity sweep.
	pub step_sizes: Vec<FixedU128>,
	/// Replications of the sweep (the first of the main ones' draws).
	pub sweep_replications: u64,
	/// Replications (the first draws) of both models with an oracle that follows the market
	/// price at once, against the same draws with the oracle's pace.
	pub instant_oracle_replications: u64,
	/// The band around the target utilization that counts as "at the target".
	pub band: f64,
	/// How long utilization must stay in the band to have returned to it.
	pub hold: u32,
	/// The first window after the shock, in blocks.
	pub early_window: u32,
	/// The figures and the path CSV keep one block in this many.
	pub trace_stride: u32,
	/// Blocks of the crash figure before and after the crash.
	pub crash_view: (u32, u32),
	/// Draw no progress bars.
	pub quiet: bool,
}

impl LendingConfig {
	/// 200 replications of [`Setup::standard`]; the sweep runs `η` from 3·10⁻¹¹ to 10⁻⁸ on the
	/// first 50 draws.
	pub fn standard(seed: u64) -> Self {
		Self {
			setup: Setup::standard(),
			replications: 200,
			seed,
			// 3·10⁻¹¹ to 10⁻⁸ a block, in units of 10⁻¹⁸.
			step_sizes: [
				30_000_000,
				100_000_000,
				300_000_000,
				1_000_000_000,
				3_000_000_000,
				10_000_000_000,
			]
			.into_iter()
			.map(FixedU128::from_inner)
			.collect(),
			sweep_replications: 50,
			instant_oracle_replications: 50,
			band: 0.02,
			hold: 500,
			early_window: 2_000,
			trace_stride: 10,
			crash_view: (10, 50),
			quiet: false,
		}
	}

	/// The windows the tracking is measured over: `[start, end)` in blocks.
	pub fn windows(&self) -> [(u32, u32); 4] {
		let setup = &self.setup;
		let early_end = (setup.shock_block + self.early_window).min(setup.crash_block);
		[
			(1, setup.shock_block),
			(setup.shock_block, early_end),
			(early_end, setup.crash_block),
			(setup.crash_block, setup.blocks + 1),
		]
	}
}

/// The names of the windows, for tables.
pub const WINDOWS: [&str; 4] =
	["before the shock", "shock, first 2000 blocks", "shock, later", "after the crash"];

/// What one model did on one draw.
#[derive(Clone, Debug, PartialEq)]
pub struct LendingRun {
	/// Mean `|U − U*|` over each window.
	pub deviation: [f64; 4],
	/// Mean utilization over each window.
	pub utilization: [f64; 4],
	/// Mean borrow rate over each window, a year.
	pub rate: [f64; 4],
	/// Blocks from the shock until utilization entered the band and stayed there for the hold
	/// (`None`: not before the crash).
	pub return_blocks: Option<u32>,
	/// The highest utilization between the shock and the crash.
	pub peak_after_shock: f64,
	/// The rate at target when the price crashes, a year (zero for the kinked model).
	pub rate_at_target_at_crash: f64,
	/// The rate at target at the end, a year.
	pub rate_at_target_at_end: f64,
	/// What lenders were owed just before the crash, in whole units.
	pub supplied_at_crash: f64,
	/// What borrowers owed just before the crash.
	pub borrows_at_crash: f64,
	/// Liquidations before the crash.
	pub liquidations_before_crash: u32,
	/// Liquidations in all.
	pub liquidations: u32,
	/// Debt written off in all (bad debt booked by liquidations and absorbed debt the sales did
	/// not recover), in whole units.
	pub written_off: f64,
	/// The part of it liquidations booked because a position's collateral ran out (the rest is
	/// absorbed debt the sale of the seized collateral did not recover).
	pub booked_bad_debt: f64,
	/// The part of it the reserves bore.
	pub from_reserves: f64,
	/// Reserves just before the crash.
	pub reserves_at_crash: f64,
	/// Reserves at the end.
	pub reserves_at_end: f64,
	/// Borrows refused for lack of cash before the crash.
	pub rationed: u32,
	/// Blocks before the crash in which lenders wanted to withdraw more than the cash.
	pub withdrawal_short: u32,
	/// The most liquidatable positions the per-block budget left for a later block.
	pub max_deferred: u32,
	/// Blocks from the crash to the sale of the collateral its liquidations seized.
	pub sale_after_crash: Option<u32>,
	/// The largest `|conservation residual|` over the run (must be zero).
	pub residual: i128,
	/// Utilization, borrow rate a year and rate at target a year, every `trace_stride` blocks.
	pub trace: Vec<[f64; 3]>,
	/// Around the crash, every block: oracle price, market price, written off as a share of
	/// the supply at the crash, utilization.
	pub crash_trace: Vec<[f64; 4]>,
}

impl LendingRun {
	/// Written off as a share of what lenders were owed at the crash.
	pub fn written_off_share(&self) -> f64 {
		self.written_off / self.supplied_at_crash
	}

	/// The lenders' loss (written off less what the reserves bore) as a share of what they were
	/// owed at the crash.
	pub fn lenders_loss_share(&self) -> f64 {
		(self.written_off - self.from_reserves) / self.supplied_at_crash
	}
}

/// Collects a run's statistics block by block.
struct Collector<'a> {
	config: &'a LendingConfig,
	windows: [(u32, u32); 4],
	utilization: Vec<f64>,
	rate: Vec<f64>,
	rate_at_target: Vec<f64>,
	run: LendingRun,
}

impl<'a> Collector<'a> {
	fn new(config: &'a LendingConfig) -> Self {
		let blocks = config.setup.blocks as usize + 1;
		Self {
			config,
			windows: config.windows(),
			utilization: Vec::with_capacity(blocks),
			rate: Vec::with_capacity(blocks),
			rate_at_target: Vec::with_capacity(blocks),
			run: LendingRun {
				deviation: [0.0; 4],
				utilization: [0.0; 4],
				rate: [0.0; 4],
				return_blocks: None,
				peak_after_shock: 0.0,
				rate_at_target_at_crash: 0.0,
				rate_at_target_at_end: 0.0,
				supplied_at_crash: 0.0,
				borrows_at_crash: 0.0,
				liquidations_before_crash: 0,
				liquidations: 0,
				written_off: 0.0,
				booked_bad_debt: 0.0,
				from_reserves: 0.0,
				reserves_at_crash: 0.0,
				reserves_at_end: 0.0,
				rationed: 0,
				withdrawal_short: 0,
				max_deferred: 0,
				sale_after_crash: None,
				residual: 0,
				trace: Vec::new(),
				crash_trace: Vec::new(),
			},
		}
	}

	fn observe(&mut self, view: &BlockView) {
		let setup = &self.config.setup;
		let market = view.market;
		let block = view.block;
		self.utilization.push(market.utilization().to_float());
		self.rate.push(annual(market.borrow_rate()));
		self.rate_at_target.push(annual(market.rate_at_target));
		let run = &mut self.run;
		run.residual = run.residual.max(market.conservation_residual().abs());
		let crash = setup.crash_block;
		if block < crash {
			run.rationed += view.activity.rationed;
			run.withdrawal_short += u32::from(view.activity.withdrawal_short);
			run.liquidations_before_crash = market.ledger.liquidations;
		}
		if block + 1 == crash {
			run.supplied_at_crash = whole(market.supplied());
			run.borrows_at_crash = whole(market.total_borrows);
			run.reserves_at_crash = whole(market.reserves);
			run.rate_at_target_at_crash = annual(market.rate_at_target);
		}
		if block >= crash && view.activity.sale && run.sale_after_crash.is_none() {
			run.sale_after_crash = Some(block - crash);
		}
		run.max_deferred = run.max_deferred.max(view.activity.deferred);
		let (before, after) = self.config.crash_view;
		if block + before >= crash && block <= crash + after {
			run.crash_trace.push([
				view.oracle_price.to_float(),
				view.market_price.to_float(),
				whole(market.ledger.written_off()),
				market.utilization().to_float(),
			]);
		}
		if block == setup.blocks {
			run.liquidations = market.ledger.liquidations;
			run.written_off = whole(market.ledger.written_off());
			run.booked_bad_debt = whole(market.ledger.bad_debt);
			run.from_reserves = whole(market.ledger.from_reserves);
			run.reserves_at_end = whole(market.reserves);
			run.rate_at_target_at_end = annual(market.rate_at_target);
		}
	}

	fn finish(mut self) -> LendingRun {
		let config = self.config;
		let setup = &config.setup;
		let target = setup.target.to_float();
		for (window, (start, end)) in self.windows.iter().enumerate() {
			let range = *start as usize..*end as usize;
			let count = range.len().max(1) as f64;
			let utilization = &self.utilization[range.clone()];
			self.run.deviation[window] =
				utilization.iter().map(|u| (u - target).abs()).sum::<f64>() / count;
			self.run.utilization[window] = utilization.iter().sum::<f64>() / count;
			self.run.rate[window] = self.rate[range].iter().sum::<f64>() / count;
		}
		let (shock, crash) = (setup.shock_block as usize, setup.crash_block as usize);
		let after_shock = &self.utilization[shock..crash];
		self.run.peak_after_shock = after_shock.iter().copied().fold(0.0, f64::max);
		self.run.return_blocks = return_time(after_shock, target, config.band, config.hold);
		let stride = config.trace_stride as usize;
		self.run.trace = (0..self.utilization.len())
			.step_by(stride)
			.map(|block| [self.utilization[block], self.rate[block], self.rate_at_target[block]])
			.collect();
		let supplied = self.run.supplied_at_crash;
		for point in &mut self.run.crash_trace {
			point[2] /= supplied;
		}
		self.run
	}
}

/// The first index from which `utilization` stays within `band` of `target` for `hold`
/// consecutive values (which must all lie in the slice); `None` if there is none.
pub fn return_time(utilization: &[f64], target: f64, band: f64, hold: u32) -> Option<u32> {
	let hold = hold as usize;
	let mut inside = 0usize;
	for (index, value) in utilization.iter().enumerate() {
		if (value - target).abs() <= band {
			inside += 1;
			if inside >= hold {
				return Some((index + 1 - hold) as u32);
			}
		} else {
			inside = 0;
		}
	}
	None
}

/// Runs `model` on `paths` and collects its statistics.
pub fn run_model(
	config: &LendingConfig,
	paths: &crate::lending::Paths,
	model: RateModel,
) -> LendingRun {
	let mut collector = Collector::new(config);
	simulate(&config.setup, paths, model, |view| collector.observe(view));
	collector.finish()
}

/// Both models on one draw: kinked first.
pub fn replicate(config: &LendingConfig, seed: DrawSeed) -> [LendingRun; 2] {
	let paths = config.setup.draw(seed);
	[
		run_model(config, &paths, config.setup.kinked()),
		run_model(config, &paths, config.setup.adaptive()),
	]
}

/// A measure reported over replications.
struct Measure {
	name: &'static str,
	label: &'static str,
	digits: usize,
	value: fn(&LendingRun) -> Option<f64>,
}

fn measures() -> Vec<Measure> {
	let mut list = Vec::new();
	let deviation: [fn(&LendingRun) -> Option<f64>; 4] = [
		|r| Some(r.deviation[0]),
		|r| Some(r.deviation[1]),
		|r| Some(r.deviation[2]),
		|r| Some(r.deviation[3]),
	];
	let utilization: [fn(&LendingRun) -> Option<f64>; 4] = [
		|r| Some(r.utilization[0]),
		|r| Some(r.utilization[1]),
		|r| Some(r.utilization[2]),
		|r| Some(r.utilization[3]),
	];
	let rate: [fn(&LendingRun) -> Option<f64>; 4] = [
		|r| Some(100.0 * r.rate[0]),
		|r| Some(100.0 * r.rate[1]),
		|r| Some(100.0 * r.rate[2]),
		|r| Some(100.0 * r.rate[3]),
	];
	let deviation_labels = [
		"mean \\|U − 90 %\\|, before the shock",
		"mean \\|U − 90 %\\|, shock, first 2000 blocks",
		"mean \\|U − 90 %\\|, shock, later (to the crash)",
		"mean \\|U − 90 %\\|, after the crash",
	];
	let utilization_labels = [
		"mean U, before the shock",
		"mean U, shock, first 2000 blocks",
		"mean U, shock, later",
		"mean U, after the crash",
	];
	let rate_labels = [
		"mean borrow rate (% a year), before the shock",
		"mean borrow rate, shock, first 2000 blocks",
		"mean borrow rate, shock, later",
		"mean borrow rate, after the crash",
	];
	let deviation_names = [
		"deviation_before_shock",
		"deviation_shock_early",
		"deviation_shock_late",
		"deviation_after_crash",
	];
	let utilization_names = [
		"utilization_before_shock",
		"utilization_shock_early",
		"utilization_shock_late",
		"utilization_after_crash",
	];
	let rate_names = [
		"rate_pct_before_shock",
		"rate_pct_shock_early",
		"rate_pct_shock_late",
		"rate_pct_after_crash",
	];
	for window in 0..4 {
		list.push(Measure {
			name: deviation_names[window],
			label: deviation_labels[window],
			digits: 4,
			value: deviation[window],
		});
	}
	list.push(Measure {
		name: "return_blocks",
		label: "blocks from the shock to stay within 90 % ± 2 pp for 500 blocks (runs that did)",
		digits: 0,
		value: |r| r.return_blocks.map(f64::from),
	});
	list.push(Measure {
		name: "peak_utilization_after_shock",
		label: "highest U between the shock and the crash",
		digits: 4,
		value: |r| Some(r.peak_after_shock),
	});
	for window in 0..4 {
		list.push(Measure {
			name: utilization_names[window],
			label: utilization_labels[window],
			digits: 4,
			value: utilization[window],
		});
	}
	for window in 0..4 {
		list.push(Measure {
			name: rate_names[window],
			label: rate_labels[window],
			digits: 2,
			value: rate[window],
		});
	}
	list.extend([
		Measure {
			name: "rate_at_target_pct_at_crash",
			label: "adaptive rate at target at the crash (% a year)",
			digits: 2,
			value: |r| Some(100.0 * r.rate_at_target_at_crash),
		},
		Measure {
			name: "rate_at_target_pct_at_end",
			label: "adaptive rate at target at the end (% a year)",
			digits: 2,
			value: |r| Some(100.0 * r.rate_at_target_at_end),
		},
		Measure {
			name: "rationed_before_crash",
			label: "borrows refused for lack of cash, before the crash",
			digits: 1,
			value: |r| Some(f64::from(r.rationed)),
		},
		Measure {
			name: "withdrawal_short_blocks",
			label: "blocks where lenders wanted more cash than the market held, before the crash",
			digits: 1,
			value: |r| Some(f64::from(r.withdrawal_short)),
		},
		Measure {
			name: "supplied_at_crash",
			label: "owed to lenders at the crash (USDD)",
			digits: 0,
			value: |r| Some(r.supplied_at_crash),
		},
		Measure {
			name: "borrows_at_crash",
			label: "borrows at the crash (USDD)",
			digits: 0,
			value: |r| Some(r.borrows_at_crash),
		},
		Measure {
			name: "liquidations_before_crash",
			label: "liquidations before the crash",
			digits: 1,
			value: |r| Some(f64::from(r.liquidations_before_crash)),
		},
		Measure {
			name: "liquidations",
			label: "liquidations in all",
			digits: 1,
			value: |r| Some(f64::from(r.liquidations)),
		},
		Measure {
			name: "max_deferred",
			label: "most liquidatable positions left to a later block by the budget of 32",
			digits: 1,
			value: |r| Some(f64::from(r.max_deferred)),
		},
		Measure {
			name: "written_off",
			label: "bad debt written off (USDD)",
			digits: 0,
			value: |r| Some(r.written_off),
		},
		Measure {
			name: "written_off_share",
			label: "bad debt, share of what lenders were owed at the crash",
			digits: 4,
			value: |r| Some(r.written_off_share()),
		},
		Measure {
			name: "booked_bad_debt",
			label: "of which booked by liquidations whose collateral ran out (USDD)",
			digits: 0,
			value: |r| Some(r.booked_bad_debt),
		},
		Measure {
			name: "from_reserves",
			label: "of which the reserves bore (USDD)",
			digits: 2,
			value: |r| Some(r.from_reserves),
		},
		Measure {
			name: "lenders_loss_share",
			label: "lenders' loss, share of what they were owed at the crash",
			digits: 4,
			value: |r| Some(r.lenders_loss_share()),
		},
		Measure {
			name: "reserves_at_crash",
			label: "reserves just before the crash (USDD)",
			digits: 2,
			value: |r| Some(r.reserves_at_crash),
		},
		Measure {
			name: "reserves_at_end",
			label: "reserves at the end (USDD)",
			digits: 2,
			value: |r| Some(r.reserves_at_end),
		},
		Measure {
			name: "sale_blocks_after_crash",
			label: "blocks from the crash to the sale of the seized collateral",
			digits: 1,
			value: |r| r.sale_after_crash.map(f64::from),
		},
	]);
	list
}

/// `mean ± sd` of `values`, `–` for none.
fn mean_sd_cell(values: &[f64], digits: usize) -> String {
	match MeanSd::of(values) {
		Some(stats) => {
			let mean = format!("{:.digits$}", stats.mean);
			// No "−0.0" for a mean that rounds to zero.
			let mean = match mean.strip_prefix('-') {
				Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
				_ => mean,
			};
			format!("{mean} ± {:.digits$}", stats.sd)
		},
		None => "–".into(),
	}
}

fn csv_header() -> Vec<String> {
	let mut header: Vec<String> =
		["setting", "model", "step_size", "replications", "not_returned", "max_residual"]
			.into_iter()
			.map(String::from)
			.collect();
	for measure in measures() {
		header.push(format!("{}_mean", measure.name));
		header.push(format!("{}_sd", measure.name));
	}
	header
}

fn csv_row(
	setting: &str,
	model: &str,
	step: Option<FixedU128>,
	runs: &[&LendingRun],
) -> Vec<String> {
	let mut row = vec![
		setting.to_string(),
		model.to_string(),
		number(step.map(|s| s.to_float())),
		runs.len().to_string(),
		runs.iter().filter(|r| r.return_blocks.is_none()).count().to_string(),
		runs.iter().map(|r| r.residual).max().unwrap_or(0).to_string(),
	];
	for measure in measures() {
		let values: Vec<f64> = runs.iter().filter_map(|r| (measure.value)(r)).collect();
		let stats = MeanSd::of(&values);
		row.push(number(stats.map(|s| s.mean)));
		row.push(number(stats.map(|s| s.sd)));
	}
	row
}

/// Runs the experiment: writes `lending.csv`, the figures `lending.svg` and
/// `lending_crash.svg`, and with per-run files `runs/lending_runs.csv` and
/// `runs/lending_paths.csv`; returns the report.
pub fn run(config: &LendingConfig, out: &OutputDirs) -> Result<Report, Box<dyn Error>> {
	let setup = &config.setup;
	let (replications, _) = parallel_map(
		"lending",
		seeds(config.seed, config.replications),
		|seed| replicate(config, *seed),
		config.quiet,
	);
	let sweep_count = config.sweep_replications.min(config.replications);
	let sweep_items: Vec<(DrawSeed, FixedU128)> = seeds(config.seed, sweep_count)
		.into_iter()
		.flat_map(|seed| config.step_sizes.iter().map(move |eta| (seed, *eta)))
		.collect();
	let (sweep, _) = parallel_map(
		"lending step sizes",
		sweep_items.clone(),
		|(seed, eta)| run_model(config, &setup.draw(*seed), setup.adaptive_with(*eta)),
		config.quiet,
	);

	let kinked: Vec<&LendingRun> = replications.iter().map(|r| &r[0]).collect();
	let adaptive: Vec<&LendingRun> = replications.iter().map(|r| &r[1]).collect();
	let mut csv = Csv::create(
		&out.result("lending.csv"),
		&csv_header().iter().map(String::as_str).collect::<Vec<_>>(),
	)?;
	csv.row(csv_row("main", "kinked", None, &kinked))?;
	csv.row(csv_row("main", "adaptive", Some(setup.step_size), &adaptive))?;
	let sweep_kinked: Vec<&LendingRun> =
		kinked.iter().take(sweep_count as usize).copied().collect();
	csv.row(csv_row("step-size sweep", "kinked", None, &sweep_kinked))?;
	let by_step: Vec<Vec<&LendingRun>> = config
		.step_sizes
		.iter()
		.map(|eta| {
			sweep_items
				.iter()
				.zip(sweep.iter())
				.filter(|((_, step), _)| step == eta)
				.map(|(_, run)| run)
				.collect()
		})
		.collect();
	for (eta, runs) in config.step_sizes.iter().zip(&by_step) {
		csv.row(csv_row("step-size sweep", "adaptive", Some(*eta), runs))?;
	}
	csv.finish()?;

	if let Some(path) = out.run_file("lending_runs.csv") {
		let mut runs = Csv::create(
			&path,
			&[
				"replication",
				"model",
				"deviation_before_shock",
				"deviation_shock_early",
				"deviation_shock_late",
				"deviation_after_crash",
				"return_blocks",
				"peak_utilization_after_shock",
				"rate_before_shock",
				"rate_shock_late",
				"supplied_at_crash",
				"borrows_at_crash",
				"liquidations",
				"written_off",
				"written_off_share",
				"reserves_at_end",
				"residual",
			],
		)?;
		for (replication, pair) in replications.iter().enumerate() {
			for (model, run) in ["kinked", "adaptive"].iter().zip(pair.iter()) {
				runs.row(vec![
					replication.to_string(),
					model.to_string(),
					number(Some(run.deviation[0])),
					number(Some(run.deviation[1])),
					number(Some(run.deviation[2])),
					number(Some(run.deviation[3])),
					number(run.return_blocks.map(f64::from)),
					number(Some(run.peak_after_shock)),
					number(Some(run.rate[0])),
					number(Some(run.rate[2])),
					number(Some(run.supplied_at_crash)),
					number(Some(run.borrows_at_crash)),
					run.liquidations.to_string(),
					number(Some(run.written_off)),
					number(Some(run.written_off_share())),
					number(Some(run.reserves_at_end)),
					run.residual.to_string(),
				])?;
			}
		}
		runs.finish()?;
	}
	if let Some(path) = out.run_file("lending_paths.csv") {
		let mut paths = Csv::create(
			&path,
			&[
				"block",
				"model",
				"mean_utilization",
				"p10_utilization",
				"p90_utilization",
				"mean_rate",
				"p10_rate",
				"p90_rate",
				"mean_rate_at_target",
			],
		)?;
		for (model, runs) in [("kinked", &kinked), ("adaptive", &adaptive)] {
			for point in 0..runs[0].trace.len() {
				let column = |series: usize| -> Vec<f64> {
					runs.iter().map(|run| run.trace[point][series]).collect()
				};
				let (u, r, target) = (band_of(column(0)), band_of(column(1)), band_of(column(2)));
				paths.row(vec![
					(point * config.trace_stride as usize).to_string(),
					model.into(),
					number(Some(u.0)),
					number(Some(u.1)),
					number(Some(u.2)),
					number(Some(r.0)),
					number(Some(r.1)),
					number(Some(r.2)),
					number(Some(target.0)),
				])?;
			}
		}
		paths.finish()?;
	}

	let mut report = Report::default();
	report.heading("Liquidity markets: adaptive against kinked rate");
	report.paragraph(&describe(config));
	let mut table = Table::new(&[
		"measure",
		&format!("kinked ({} runs)", kinked.len()),
		&format!("adaptive, η = {} ({} runs)", eta_text(setup.step_size), adaptive.len()),
		"adaptive − kinked, same draw",
	]);
	for measure in measures() {
		let values = |runs: &[&LendingRun]| -> Vec<f64> {
			runs.iter().filter_map(|r| (measure.value)(r)).collect()
		};
		let differences: Vec<f64> = replications
			.iter()
			.filter_map(|[k, a]| Some((measure.value)(a)? - (measure.value)(k)?))
			.collect();
		let mut cells = vec![
			measure.label.to_string(),
			mean_sd_cell(&values(kinked.as_slice()), measure.digits),
			mean_sd_cell(&values(adaptive.as_slice()), measure.digits),
			mean_sd_cell(&differences, measure.digits),
		];
		if measure.name == "return_blocks" {
			for (text, runs) in cells.iter_mut().skip(1).zip([&kinked, &adaptive]) {
				let missing = runs.iter().filter(|r| r.return_blocks.is_none()).count();
				text.push_str(&format!(" ({missing} of {} never)", runs.len()));
			}
			cells[3] = "–".into();
		}
		if measure.name.starts_with("rate_at_target") {
			cells[1] = "–".into();
			cells[3] = "–".into();
		}
		table.row(cells);
	}
	table.row(vec![
		"largest \\|conservation residual\\| (units of 10⁻⁶ USDD)".into(),
		kinked.iter().map(|r| r.residual).max().unwrap_or(0).to_string(),
		adaptive.iter().map(|r| r.residual).max().unwrap_or(0).to_string(),
		"–".into(),
	]);
	report.paragraph(
		"Mean ± standard deviation over the replications; the last column is the mean ± sd of \
		 the per-draw difference:",
	);
	report.table(&table);

	report.heading(&format!(
		"Step size of the adaptive model ({sweep_count} draws, the first of the above)"
	));
	let mut sweep_table = Table::new(&[
		"model",
		"mean \\|U − 90 %\\|: before / shock, first 2000 / later / after the crash",
		"blocks to return (median, runs that never did)",
		"highest U after the shock",
		"mean borrow rate, shock, later (% a year)",
		"bad debt share",
	]);
	let sweep_row = |label: String, runs: &[&LendingRun]| -> Vec<String> {
		let mean = |f: &dyn Fn(&LendingRun) -> f64| -> f64 {
			MeanSd::of(&runs.iter().map(|r| f(r)).collect::<Vec<_>>()).map_or(f64::NAN, |s| s.mean)
		};
		let mut returned: Vec<f64> =
			runs.iter().filter_map(|r| r.return_blocks.map(f64::from)).collect();
		returned.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
		let median = (!returned.is_empty()).then(|| quantile(&returned, 0.5));
		vec![
			label,
			format!(
				"{:.4} / {:.4} / {:.4} / {:.4}",
				mean(&|r| r.deviation[0]),
				mean(&|r| r.deviation[1]),
				mean(&|r| r.deviation[2]),
				mean(&|r| r.deviation[3])
			),
			format!(
				"{} ({})",
				cell(median, 0),
				runs.iter().filter(|r| r.return_blocks.is_none()).count()
			),
			format!("{:.4}", mean(&|r| r.peak_after_shock)),
			format!("{:.2}", mean(&|r| 100.0 * r.rate[2])),
			format!("{:.4}", mean(&|r| r.written_off_share())),
		]
	};
	sweep_table.row(sweep_row("kinked".into(), sweep_kinked.as_slice()));
	for (eta, runs) in config.step_sizes.iter().zip(&by_step) {
		sweep_table.row(sweep_row(format!("adaptive, η = {}", eta_text(*eta)), runs.as_slice()));
	}
	report.table(&sweep_table);

	// The crash with an oracle that follows the market price at once.
	let instant_count = config.instant_oracle_replications.min(config.replications);
	let instant_config = LendingConfig {
		setup: Setup { oracle_pace: Perbill::from_percent(100), ..setup.clone() },
		..config.clone()
	};
	let (instant, _) = parallel_map(
		"lending instant oracle",
		seeds(config.seed, instant_count),
		|seed| replicate(&instant_config, *seed),
		config.quiet,
	);
	report.heading(&format!(
		"The crash with an oracle that moves at once ({instant_count} draws, the first of the above)"
	));
	let mut oracle_table = Table::new(&[
		"model, oracle",
		"bad debt share",
		"of which booked by liquidations (USDD)",
		"liquidations",
		"most positions deferred by the budget",
		"blocks from the crash to the sale",
	]);
	for (index, model) in ["kinked", "adaptive"].iter().enumerate() {
		let paced: Vec<&LendingRun> =
			replications.iter().take(instant_count as usize).map(|r| &r[index]).collect();
		let at_once: Vec<&LendingRun> = instant.iter().map(|r| &r[index]).collect();
		for (oracle, runs) in [
			(format!("{} % a block", setup.oracle_pace.deconstruct() / 10_000_000), paced),
			("at once".to_string(), at_once),
		] {
			let values =
				|f: fn(&LendingRun) -> f64| runs.iter().map(|r| f(r)).collect::<Vec<f64>>();
			oracle_table.row(vec![
				format!("{model}, {oracle}"),
				mean_sd_cell(&values(|r| r.written_off_share()), 4),
				mean_sd_cell(&values(|r| r.booked_bad_debt), 0),
				mean_sd_cell(&values(|r| f64::from(r.liquidations)), 1),
				mean_sd_cell(&values(|r| f64::from(r.max_deferred)), 1),
				mean_sd_cell(
					&runs
						.iter()
						.filter_map(|r| r.sale_after_crash.map(f64::from))
						.collect::<Vec<_>>(),
					1,
				),
			]);
		}
	}
	report.table(&oracle_table);

	figure(config, &kinked, &adaptive).write_svg(&out.figure("lending.svg"))?;
	crash_figure(config, &kinked, &adaptive).write_svg(&out.figure("lending_crash.svg"))?;
	Ok(report)
}

/// `η` (a rate per block) as `m·10ⁿ`, from its exact decimal digits.
pub fn eta_text(eta: FixedU128) -> String {
	let digits = eta.into_inner().to_string();
	let significant = digits.trim_end_matches('0');
	// The leading digit's place: 10⁻¹⁸ for a one-digit inner value.
	let exponent = digits.len() as i32 - 19;
	let mantissa = if significant.len() > 1 {
		format!("{}.{}", &significant[..1], &significant[1..])
	} else {
		significant.to_string()
	};
	let superscript: String = exponent
		.to_string()
		.chars()
		.map(|c| match c {
			'-' => '⁻',
			digit => ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹']
				[digit.to_digit(10).unwrap_or(0) as usize],
		})
		.collect();
	if mantissa == "1" {
		format!("10{superscript}")
	} else {
		format!("{mantissa}·10{superscript}")
	}
}

/// Mean, 10th and 90th percentiles.
fn band_of(mut values: Vec<f64>) -> (f64, f64, f64) {
	let mean = values.iter().sum::<f64>() / values.len() as f64;
	values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
	(mean, quantile(&values, 0.1), quantile(&values, 0.9))
}

fn describe(config: &LendingConfig) -> String {
	let setup = &config.setup;
	format!(
		"{} replications (master seed {}), {} blocks each, both models on the same draw. {} \
		 borrowers, reservation rates uniform from {:.2} % to {:.2} % a year, multiplied by {} \
		 from block {}; collateral price crashes to {} % of its path at block {}, the oracle \
		 following at {} % a block. Target and kink {} %, initial rate at target {:.2} % a year, \
		 steepness {}, η = {} a block.",
		config.replications,
		config.seed,
		setup.blocks,
		setup.borrowers,
		100.0 * annual(setup.reservation.low),
		100.0 * annual(setup.reservation.high),
		setup.demand_shock.to_float(),
		setup.shock_block,
		(100.0 * setup.crash_to.to_float()).round(),
		setup.crash_block,
		(100.0 * setup.oracle_pace.deconstruct() as f64 / 1e9).round(),
		(100.0 * setup.target.to_float()).round(),
		100.0 * annual(setup.initial_rate),
		setup.steepness.to_float(),
		eta_text(setup.step_size),
	)
}

/// Mean and p10–p90 band of `value` over `runs` at each of `points` trace points, as series
/// points at `x(point)`, clamped into `axis`.
#[allow(clippy::too_many_arguments)]
fn mean_and_band(
	runs: &[&LendingRun],
	points: &[usize],
	x: impl Fn(usize) -> f64,
	value: impl Fn(&LendingRun, usize) -> f64,
	axis: &Axis,
	color: plotters::style::RGBColor,
	label: &str,
	dashed: bool,
) -> (Band, Series) {
	let stats: Vec<(f64, (f64, f64, f64))> = points
		.iter()
		.map(|point| (x(*point), band_of(runs.iter().map(|run| value(run, *point)).collect())))
		.collect();
	(
		Band {
			color,
			lower: stats.iter().map(|(x, b)| (*x, axis.clamp(b.1))).collect(),
			upper: stats.iter().map(|(x, b)| (*x, axis.clamp(b.2))).collect(),
		},
		Series {
			label: label.into(),
			color,
			points: stats.iter().map(|(x, b)| (*x, axis.clamp(b.0))).collect(),
			dashed,
		},
	)
}

/// Vertical dashed lines at the shock and the crash (those within `x`).
fn markers(setup: &Setup, x: &Axis, y: &Axis) -> Vec<Series> {
	[setup.shock_block, setup.crash_block]
		.iter()
		.map(|block| f64::from(*block))
		.filter(|block| x.range.contains(block))
		.enumerate()
		.map(|(index, block)| Series {
			label: if index == 0 { "shock, crash".into() } else { String::new() },
			color: PALETTE[6],
			points: vec![(block, y.range.start), (block, y.range.end)],
			dashed: true,
		})
		.collect()
}

/// The main figure: utilization up to the crash and the borrow rate over the whole run, for
/// replication 0 and as the mean of all.
fn figure(config: &LendingConfig, kinked: &[&LendingRun], adaptive: &[&LendingRun]) -> Figure {
	use plotters::prelude::SeriesLabelPosition;
	let setup = &config.setup;
	let stride = config.trace_stride as usize;
	let x = |point: usize| (point * stride) as f64;
	let models = [("kinked", kinked, PALETTE[1]), ("adaptive", adaptive, PALETTE[0])];
	let target = setup.target.to_float();
	let all: Vec<usize> = (0..kinked[0].trace.len()).collect();
	let to_crash: Vec<usize> =
		all.iter().copied().filter(|p| p * stride < setup.crash_block as usize).collect();
	// Utilization: up to the crash, from the lowest value shown (rounded down to 0.05).
	let lowest = models
		.iter()
		.flat_map(|(_, runs, _)| {
			let low =
				to_crash.iter().map(|p| band_of(runs.iter().map(|r| r.trace[*p][0]).collect()).1);
			low.chain(to_crash.iter().map(|p| runs[0].trace[*p][0])).collect::<Vec<_>>()
		})
		.fold(target, f64::min);
	let crash = f64::from(setup.crash_block);
	let u_x = Axis::linear("block", 0.0..crash);
	let u_y = Axis::linear("utilization", (lowest * 20.0).floor() / 20.0..1.0);
	let rate_x = Axis::linear("block", 0.0..f64::from(setup.blocks));
	let top_rate = models
		.iter()
		.flat_map(|(_, runs, _)| runs[0].trace.iter().map(|p| 100.0 * p[1]))
		.fold(0.0f64, f64::max);
	let rate_y = Axis::linear("borrow rate (% a year)", 0.0..(top_rate * 1.1).max(1.0));
	let mut one_u = Panel::new("utilization to the crash, replication 0", u_x.clone(), u_y.clone());
	let mut mean_u = Panel::new(
		&format!("utilization to the crash, mean and p10–p90 of {} runs", kinked.len()),
		u_x.clone(),
		u_y.clone(),
	);
	let mut one_rate = Panel::new("borrow rate, replication 0", rate_x.clone(), rate_y.clone());
	let mut mean_rate = Panel::new(
		&format!("borrow rate, mean and p10–p90 of {} runs", kinked.len()),
		rate_x.clone(),
		rate_y.clone(),
	);
	for panel in [&mut one_u, &mut mean_u, &mut one_rate, &mut mean_rate] {
		panel.legend = Some(SeriesLabelPosition::UpperRight);
	}
	for (name, runs, color) in &models {
		one_u.series.push(Series {
			label: name.to_string(),
			color: *color,
			points: to_crash.iter().map(|p| (x(*p), u_y.clamp(runs[0].trace[*p][0]))).collect(),
			dashed: false,
		});
		one_rate.series.push(Series {
			label: name.to_string(),
			color: *color,
			points: all
				.iter()
				.map(|p| (x(*p), rate_y.clamp(100.0 * runs[0].trace[*p][1])))
				.collect(),
			dashed: false,
		});
		let (band, series) =
			mean_and_band(runs, &to_crash, x, |r, p| r.trace[p][0], &u_y, *color, name, false);
		mean_u.bands.push(band);
		mean_u.series.push(series);
		let (band, series) = mean_and_band(
			runs,
			&all,
			x,
			|r, p| 100.0 * r.trace[p][1],
			&rate_y,
			*color,
			name,
			false,
		);
		mean_rate.bands.push(band);
		mean_rate.series.push(series);
		if *name == "adaptive" {
			let label = "adaptive: rate at target";
			one_rate.series.push(Series {
				label: label.into(),
				color: *color,
				points: all
					.iter()
					.map(|p| (x(*p), rate_y.clamp(100.0 * runs[0].trace[*p][2])))
					.collect(),
				dashed: true,
			});
			let (_, series) = mean_and_band(
				runs,
				&all,
				x,
				|r, p| 100.0 * r.trace[p][2],
				&rate_y,
				*color,
				label,
				true,
			);
			mean_rate.series.push(series);
		}
	}
	for panel in [&mut one_u, &mut mean_u] {
		panel.series.push(Series {
			label: "target".into(),
			color: PALETTE[2],
			points: vec![(0.0, target), (crash, target)],
			dashed: true,
		});
		panel.series.extend(markers(setup, &u_x, &u_y));
	}
	for panel in [&mut one_rate, &mut mean_rate] {
		panel.series.extend(markers(setup, &rate_x, &rate_y));
	}
	Figure::new(vec![one_u, mean_u, one_rate, mean_rate], 2, 2)
}

/// The crash: prices and bad debt block by block around it, and utilization from just before it
/// to the end.
fn crash_figure(
	config: &LendingConfig,
	kinked: &[&LendingRun],
	adaptive: &[&LendingRun],
) -> Figure {
	use plotters::prelude::SeriesLabelPosition;
	let setup = &config.setup;
	let (before, after) = config.crash_view;
	let start = f64::from(setup.crash_block) - f64::from(before);
	let x = |point: usize| start + point as f64;
	let x_axis = Axis::linear("block", start..f64::from(setup.crash_block + after));
	let sample = &kinked[0].crash_trace;
	let top_price = sample.iter().map(|p| p[0].max(p[1])).fold(0.0f64, f64::max);
	let mut prices = Panel::new(
		"collateral price, replication 0",
		x_axis.clone(),
		Axis::linear("USDD per unit", 0.0..top_price * 1.1),
	);
	prices.series.push(Series {
		label: "oracle".into(),
		color: PALETTE[0],
		points: sample.iter().enumerate().map(|(p, v)| (x(p), v[0])).collect(),
		dashed: false,
	});
	prices.series.push(Series {
		label: "market".into(),
		color: PALETTE[6],
		points: sample.iter().enumerate().map(|(p, v)| (x(p), v[1])).collect(),
		dashed: true,
	});
	let models = [("kinked", kinked, PALETTE[1]), ("adaptive", adaptive, PALETTE[0])];
	let top_loss = models
		.iter()
		.flat_map(|(_, runs, _)| {
			runs.iter().flat_map(|r| r.crash_trace.iter().map(|p| 100.0 * p[2]))
		})
		.fold(0.0f64, f64::max);
	let loss_axis = Axis::linear("% of what lenders were owed", 0.0..(top_loss * 1.1).max(0.1));
	let mut losses =
		Panel::new("bad debt written off, mean and p10–p90", x_axis.clone(), loss_axis.clone());
	losses.legend = Some(SeriesLabelPosition::LowerRight);
	let stride = config.trace_stride as usize;
	let from = (setup.crash_block as usize).saturating_sub(20 * stride) / stride;
	let points: Vec<usize> = (from..kinked[0].trace.len()).collect();
	let u_x = Axis::linear("block", (from * stride) as f64..f64::from(setup.blocks));
	let u_y = Axis::linear("utilization", 0.0..1.0);
	let mut utilization = Panel::new(
		&format!("utilization after the crash, mean and p10–p90 of {} runs", kinked.len()),
		u_x.clone(),
		u_y.clone(),
	);
	utilization.legend = Some(SeriesLabelPosition::UpperRight);
	let crash_points: Vec<usize> = (0..sample.len()).collect();
	for (name, runs, color) in &models {
		let (band, series) = mean_and_band(
			runs,
			&crash_points,
			x,
			|r, p| 100.0 * r.crash_trace[p][2],
			&loss_axis,
			*color,
			name,
			false,
		);
		losses.bands.push(band);
		losses.series.push(series);
		let (band, series) = mean_and_band(
			runs,
			&points,
			|p| (p * stride) as f64,
			|r, p| r.trace[p][0],
			&u_y,
			*color,
			name,
			false,
		);
		utilization.bands.push(band);
		utilization.series.push(series);
	}
	utilization.series.push(Series {
		label: "target".into(),
		color: PALETTE[2],
		points: vec![
			(u_x.range.start, setup.target.to_float()),
			(u_x.range.end, setup.target.to_float()),
		],
		dashed: true,
	});
	Figure::new(vec![prices, losses, utilization], 1, 3)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn return_time_is_entering_the_band_and_holding() {
		let path = [0.9, 0.95, 0.93, 0.91, 0.915, 0.95, 0.9, 0.89, 0.905];
		// In the band (±0.02 around 0.9): 0, 3 and 4, then from 6 on.
		assert_eq!(return_time(&path, 0.9, 0.02, 3), Some(6));
		assert_eq!(return_time(&path, 0.9, 0.02, 2), Some(3));
		assert_eq!(return_time(&path, 0.9, 0.02, 4), None);
		assert_eq!(return_time(&path, 0.9, 0.06, 9), Some(0));
	}

	#[test]
	fn step_sizes_print_as_powers_of_ten() {
		assert_eq!(eta_text(FixedU128::from_inner(300_000_000)), "3·10⁻¹⁰");
		assert_eq!(eta_text(FixedU128::from_inner(10_000_000_000)), "10⁻⁸");
		assert_eq!(eta_text(FixedU128::from_inner(25_000_000)), "2.5·10⁻¹¹");
	}

	#[test]
	fn cells_are_mean_and_sd_without_a_negative_zero() {
		assert_eq!(mean_sd_cell(&[1.0, 3.0], 1), "2.0 ± 1.4");
		assert_eq!(mean_sd_cell(&[-0.01, 0.0], 1), "0.0 ± 0.0");
		assert_eq!(mean_sd_cell(&[-2.0, -1.0], 0), "-2 ± 1");
		assert_eq!(mean_sd_cell(&[], 2), "–");
	}

	#[test]
	fn the_windows_cover_the_run() {
		let config = LendingConfig::standard(1);
		let windows = config.windows();
		assert_eq!(windows[0].0, 1);
		for pair in windows.windows(2) {
			assert_eq!(pair[0].1, pair[1].0);
		}
		assert_eq!(windows[3].1, config.setup.blocks + 1);
	}
}
