//! The liquidity-market experiment: reproducible for a seed, the kinked model a fixed function of
//! utilization, the loan asset conserved through the shock and the crash, and the outputs written.

// Test arithmetic on small known numbers: overflow would be a test bug and panics loudly.
#![allow(clippy::arithmetic_side_effects)]

use equilibrium_sim::{
	agents::DrawSeed,
	experiments::lending::{self, LendingConfig},
	lending::{simulate, Setup},
	output::OutputDirs,
};
use liquidity_market_primitives::{FixedU128, RateModel};
use sp_arithmetic::FixedPointNumber;
use std::fs;

/// The standard market on a shorter horizon with fewer borrowers: fast in a debug build.
fn small() -> LendingConfig {
	let mut config = LendingConfig::standard(11);
	config.setup = Setup {
		blocks: 3_000,
		shock_block: 600,
		crash_block: 2_400,
		borrowers: 100,
		..Setup::standard()
	};
	config.replications = 2;
	config.sweep_replications = 1;
	config.step_sizes.truncate(2);
	config.early_window = 600;
	config.hold = 200;
	config.quiet = true;
	config
}

#[test]
fn the_experiment_is_reproducible_for_a_seed() {
	let config = small();
	let seed = DrawSeed { master: 11, replication: 0 };
	let first = lending::replicate(&config, seed);
	assert_eq!(first, lending::replicate(&config, seed));
	assert_ne!(first, lending::replicate(&config, DrawSeed { master: 11, replication: 1 }));
	assert_ne!(first, lending::replicate(&config, DrawSeed { master: 12, replication: 0 }));
	// The two models saw the same draw but priced it differently.
	assert_ne!(first[0].trace, first[1].trace);
	assert_eq!(first[0].crash_trace[0][1], first[1].crash_trace[0][1]);
}

#[test]
fn the_kinked_model_is_the_adaptive_curve_frozen_and_a_fixed_function_of_utilization() {
	let config = small();
	let setup = &config.setup;
	let (kinked, adaptive) = (setup.kinked(), setup.adaptive());
	assert!(kinked.validate().is_ok() && adaptive.validate().is_ok());
	for step in 0..=1_000u32 {
		let utilization = FixedU128::saturating_from_rational(step, 1_000u32);
		assert_eq!(
			kinked.borrow_rate(FixedU128::from_inner(0), utilization),
			adaptive.borrow_rate(setup.initial_rate, utilization)
		);
	}
	assert_eq!(kinked.borrow_rate(FixedU128::from_inner(0), setup.target), setup.initial_rate);

	let paths = setup.draw(DrawSeed { master: 11, replication: 0 });
	for model in [kinked, adaptive] {
		let mut moved = false;
		simulate(setup, &paths, model, |view| {
			let market = view.market;
			let utilization = market.utilization();
			match model {
				RateModel::Kinked(curve) => {
					assert_eq!(market.rate_at_target, FixedU128::from_inner(0));
					assert_eq!(market.borrow_rate(), curve.borrow_rate(utilization));
				},
				RateModel::Adaptive(curve) => {
					moved |= market.rate_at_target != setup.initial_rate;
					assert_eq!(
						market.borrow_rate(),
						curve.borrow_rate(market.rate_at_target, utilization)
					);
				},
			}
		});
		assert_eq!(moved, matches!(model, RateModel::Adaptive(_)));
	}
}

#[test]
fn the_loan_asset_is_neither_created_nor_lost() {
	let config = small();
	let setup = &config.setup;
	let paths = setup.draw(DrawSeed { master: 11, replication: 0 });
	for model in [setup.kinked(), setup.adaptive()] {
		let mut blocks = 0;
		let end = simulate(setup, &paths, model, |view| {
			let market = view.market;
			let ledger = &market.ledger;
			// cash + borrows + absorbed debt + written off = supplied − withdrawn + interest
			// + sale excess (+ rounding, booked both ways).
			assert_eq!(market.conservation_residual(), 0, "block {}", view.block);
			// What lenders are owed: their net supply and their share of the interest, less the
			// losses the reserves did not bear.
			let owed = ledger.supplied as i128 - ledger.withdrawn as i128 + ledger.interest as i128
				- ledger.to_reserves as i128
				- ledger.written_off() as i128
				+ ledger.from_reserves as i128
				- ledger.forgiven as i128
				+ ledger.overpaid as i128;
			assert_eq!(market.supplied() as i128, owed, "block {}", view.block);
			assert!(market.reserves <= market.cash + market.total_borrows + market.absorbed_debt);
			blocks += 1;
		});
		assert_eq!(blocks, setup.blocks + 1);
		// The crash exercised liquidation, the sale and the write-off.
		assert!(end.ledger.liquidations > 0);
		assert!(end.ledger.sale_proceeds > 0);
		assert!(end.ledger.written_off() > 0);
		assert_eq!((end.absorbed_collateral, end.absorbed_debt), (0, 0));
	}
}

#[test]
fn the_experiment_writes_its_table_csv_and_figures() {
	let dir = std::env::temp_dir().join(format!("equilibrium-sim-lending-{}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	let out = OutputDirs {
		results: dir.join("results"),
		figures: dir.join("figures"),
		runs: Some(dir.join("runs")),
	};
	out.create().unwrap();
	let config = small();
	let report = lending::run(&config, &out).unwrap();
	assert!(report.text().contains("| measure | kinked"));
	let csv = fs::read_to_string(out.result("lending.csv")).unwrap();
	// Header, the two models, the sweep's kinked row and one row per step size.
	assert_eq!(csv.lines().count(), 1 + 2 + 1 + config.step_sizes.len());
	// The largest conservation residual of every row is zero.
	assert!(csv.lines().skip(1).all(|line| line.split(',').nth(5) == Some("0")));
	let runs = fs::read_to_string(dir.join("runs").join("lending_runs.csv")).unwrap();
	assert_eq!(runs.lines().count(), 1 + 2 * config.replications as usize);
	for figure in ["lending", "lending_crash"] {
		let svg = fs::read_to_string(out.figure(&format!("{figure}.svg"))).unwrap();
		assert!(svg.starts_with("<svg") && svg.contains("<polyline"), "{figure}.svg has lines");
	}
	fs::remove_dir_all(&dir).unwrap();
}
