//! `equilibrium-sim`: the simulator and convergence benchmark of the contract-clearing market.
//! See `docs/results.md` and `equilibrium-sim --help`.

#![deny(missing_docs)]

use clap::{Args, Parser, Subcommand};
use contract_equilibrium_primitives::DemandCurve;
use equilibrium_sim::{
	agents::DrawSeed,
	experiments::{
		convergence::{self, ConvergenceConfig},
		lending::{self, LendingConfig},
		proportional::{self, ProportionalConfig},
		reports::{self, ReportsConfig},
		scale::{self, ScaleConfig},
		tau_shock::{self, TauShockConfig},
		tau_sweep::{self, TauSweepConfig},
		Draw,
	},
	output::{Csv, OutputDirs, Report},
	scenarios::Scenario,
};
use std::{error::Error, path::PathBuf, time::Instant};

/// Reproduces the experiments of Cha et al. (arXiv 2510.05504) with the chain's own market math,
/// and compares price-update rules on the same demand draws.
#[derive(Parser, Debug)]
#[command(name = "equilibrium-sim", version, about)]
struct Cli {
	#[command(flatten)]
	common: Common,
	#[command(subcommand)]
	command: Command,
}

/// Options of every experiment.
#[derive(Args, Debug)]
struct Common {
	/// The master seed: replication r of every experiment draws its agents from (seed, r).
	#[arg(long, global = true, default_value_t = 2510)]
	seed: u64,
	/// Where summary CSV files and Markdown tables go.
	#[arg(long, global = true, default_value = "docs/results")]
	results: PathBuf,
	/// Where SVG figures go.
	#[arg(long, global = true, default_value = "docs/figures")]
	figures: PathBuf,
	/// Where per-run CSV files go [default: <results>/runs].
	#[arg(long, global = true)]
	runs: Option<PathBuf>,
	/// Do not write per-run CSV files.
	#[arg(long, global = true)]
	no_runs: bool,
	/// Replications per setting (default: each experiment's own, 1000 for the paper's settings).
	#[arg(long, global = true)]
	replications: Option<u64>,
	/// Stop a run this many blocks after it entered 10⁻⁶ of μ* (0: run the whole horizon of 5000
	/// blocks) [default: 10].
	#[arg(long, global = true)]
	settle_window: Option<u32>,
	/// Worker threads [default: the number of CPUs].
	#[arg(long, global = true)]
	jobs: Option<usize>,
	/// No progress bars.
	#[arg(long, global = true)]
	quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Blocks to converge for every rule on the paper's defaults (m = 100) and the binding
	/// setting (m = 50); efficiency, fairness, participation and capacity checks at settlement.
	Convergence,
	/// τ from 0 to 2 on both settings.
	TauSweep,
	/// τ 0.5 → 1.5 at round 50, every rule.
	TauShock,
	/// Contract clearing against proportional allocation.
	Proportional,
	/// n from 20 to 100 000 agents (m = 2.5·n).
	Scale {
		/// Sizes and replications, e.g. `20:1000,100000:10` [default: 20:1000, 200:1000,
		/// 2000:1000, 20000:200, 100000:50].
		#[arg(long, value_delimiter = ',')]
		sizes: Option<Vec<String>>,
	},
	/// Private reports (the paper's Algorithm 1) with a lag of 1 to 3 blocks: fixed quantities
	/// against lines, every rule, n = 20 and 2000; Robbins–Monro under noisy reports.
	Reports,
	/// Liquidity markets: the adaptive borrow-rate model against the kinked one on the same
	/// borrowers and price path, through a demand shock and a 60 % crash; a sweep of the adaptive
	/// model's step size.
	Lending,
	/// Every experiment above with its default settings.
	All,
	/// Prints the agents of one replication as CSV (α, β as decimals and as on-chain integers),
	/// and whether each bids.
	Draw {
		/// The replication.
		#[arg(long, default_value_t = 0)]
		replication: u64,
		/// Agents.
		#[arg(long, default_value_t = 20)]
		agents: usize,
		/// The capacity: 100 for the paper's defaults, 50 for the binding setting.
		#[arg(long, default_value_t = 50)]
		capacity: u32,
	},
}

fn main() -> Result<(), Box<dyn Error>> {
	let cli = Cli::parse();
	let common = &cli.common;
	if let Some(jobs) = common.jobs {
		rayon::ThreadPoolBuilder::new().num_threads(jobs).build_global()?;
	}
	let out = OutputDirs {
		runs: if common.no_runs {
			None
		} else {
			Some(common.runs.clone().unwrap_or_else(|| common.results.join("runs")))
		},
		results: common.results.clone(),
		figures: common.figures.clone(),
	};

	match &cli.command {
		Command::Draw { replication, agents, capacity } => {
			print_draw(common.seed, *replication, *agents, *capacity);
			return Ok(());
		},
		Command::All => {
			out.create()?;
			let mut timings =
				Csv::create(&out.result("timings.csv"), &["experiment", "wall_seconds"])?;
			for experiment in [
				"convergence",
				"tau-sweep",
				"tau-shock",
				"proportional",
				"scale",
				"reports",
				"lending",
			] {
				let started = Instant::now();
				run_experiment(experiment, common, &out, None)?;
				let seconds = started.elapsed().as_secs_f64();
				timings.row(vec![experiment.into(), format!("{seconds:.1}")])?;
				eprintln!("{experiment}: {seconds:.1} s");
			}
			timings.finish()?;
		},
		Command::Convergence => run_experiment("convergence", common, &out, None)?,
		Command::TauSweep => run_experiment("tau-sweep", common, &out, None)?,
		Command::TauShock => run_experiment("tau-shock", common, &out, None)?,
		Command::Proportional => run_experiment("proportional", common, &out, None)?,
		Command::Scale { sizes } => run_experiment("scale", common, &out, sizes.as_deref())?,
		Command::Reports => run_experiment("reports", common, &out, None)?,
		Command::Lending => run_experiment("lending", common, &out, None)?,
	}
	Ok(())
}

/// Runs one experiment and writes its Markdown report to `<results>/<experiment>.md`.
fn run_experiment(
	experiment: &str,
	common: &Common,
	out: &OutputDirs,
	sizes: Option<&[String]>,
) -> Result<(), Box<dyn Error>> {
	out.create()?;
	let seed = common.seed;
	let report: Report = match experiment {
		"convergence" => {
			let mut config = ConvergenceConfig::paper(seed);
			config.replications = common.replications.unwrap_or(config.replications);
			config.quiet = common.quiet;
			config.length.settle_window =
				common.settle_window.unwrap_or(config.length.settle_window);
			convergence::run(&config, out)?
		},
		"tau-sweep" => {
			let mut config = TauSweepConfig::paper(seed);
			config.replications = common.replications.unwrap_or(config.replications);
			config.quiet = common.quiet;
			config.length.settle_window =
				common.settle_window.unwrap_or(config.length.settle_window);
			tau_sweep::run(&config, out)?
		},
		"tau-shock" => {
			let mut config = TauShockConfig::paper(seed);
			config.replications = common.replications.unwrap_or(config.replications);
			config.quiet = common.quiet;
			tau_shock::run(&config, out)?
		},
		"proportional" => {
			let mut config = ProportionalConfig::paper(seed);
			config.replications = common.replications.unwrap_or(config.replications);
			config.quiet = common.quiet;
			config.length.settle_window =
				common.settle_window.unwrap_or(config.length.settle_window);
			proportional::run(&config, out)?
		},
		"scale" => {
			let mut config = ScaleConfig::paper(seed);
			if let Some(sizes) = sizes {
				config.sizes =
					sizes.iter().map(|size| parse_size(size)).collect::<Result<_, _>>()?;
			} else if let Some(replications) = common.replications {
				for (_, count) in config.sizes.iter_mut() {
					*count = (*count).min(replications);
				}
			}
			config.quiet = common.quiet;
			config.length.settle_window =
				common.settle_window.unwrap_or(config.length.settle_window);
			scale::run(&config, out)?
		},
		"reports" => {
			let mut config = ReportsConfig::paper(seed);
			if let Some(replications) = common.replications {
				for (_, count) in config.sizes.iter_mut() {
					*count = (*count).min(replications);
				}
				config.noise_replications = config.noise_replications.min(replications);
			}
			config.quiet = common.quiet;
			reports::run_experiment(&config, out)?
		},
		"lending" => {
			let mut config = LendingConfig::standard(seed);
			config.replications = common.replications.unwrap_or(config.replications);
			config.sweep_replications = config.sweep_replications.min(config.replications);
			config.quiet = common.quiet;
			lending::run(&config, out)?
		},
		other => return Err(format!("unknown experiment {other}").into()),
	};
	let mut document = Report::default();
	document.paragraph(&format!(
		"<!-- Generated by `equilibrium-sim {experiment}` (seed {seed}); do not edit by hand. -->"
	));
	document.append(&report);
	document.write(&out.result(&format!("{experiment}.md")))?;
	Ok(())
}

/// `n:replications`.
fn parse_size(size: &str) -> Result<(usize, u64), Box<dyn Error>> {
	let (agents, replications) =
		size.split_once(':').ok_or_else(|| format!("expected n:replications, got {size}"))?;
	Ok((agents.trim().parse()?, replications.trim().parse()?))
}

fn print_draw(seed: u64, replication: u64, agents: usize, capacity: u32) {
	let scenario = Scenario {
		capacity: contract_equilibrium_primitives::FixedU128::from_u32(capacity),
		..Scenario::paper_defaults().scaled_to(agents)
	};
	let draw = Draw::new(&scenario, DrawSeed { master: seed, replication });
	println!("agent,alpha,beta,alpha_inner,beta_inner,bids");
	for (index, agent) in draw.agents.iter().enumerate() {
		if let DemandCurve::LogUtility { alpha, beta } = agent {
			println!(
				"{index},{},{},{},{},{}",
				alpha.to_float(),
				beta.to_float(),
				alpha.into_inner(),
				beta.into_inner(),
				u8::from(draw.entry.bidders.contains(&index))
			);
		}
	}
	eprintln!(
		"seed {seed}, replication {replication}: {} of {agents} agents bid; m = {capacity}, μ* = {} \
		 ({} as FixedU128)",
		draw.entry.bidders.len(),
		draw.clearing_price().to_float(),
		draw.clearing_price().into_inner()
	);
}
