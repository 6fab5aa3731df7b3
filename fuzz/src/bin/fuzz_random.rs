//! Runs seeded random inputs without coverage guidance, for a quick campaign where libFuzzer is
//! not available: `fuzz-random FIRST_SEED COUNT`. Prints executions per second; a broken
//! invariant panics with the seed that broke it.

// Counts of a tool run: small, and a wrap would only misreport.
#![allow(clippy::arithmetic_side_effects)]

use std::time::Instant;

fn main() {
	let mut args = std::env::args().skip(1);
	let first: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
	let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
	equilibrium_fuzz::genesis();
	let started = Instant::now();
	let mut totals = equilibrium_fuzz::Outcome::default();
	for seed in first..first.saturating_add(count) {
		let input = equilibrium_fuzz::generate::random_input(seed);
		let outcome = std::panic::catch_unwind(|| equilibrium_fuzz::run(&input))
			.unwrap_or_else(|_| panic!("seed {seed} broke the runtime or an invariant"));
		totals.blocks += outcome.blocks;
		totals.succeeded += outcome.succeeded;
		totals.failed += outcome.failed;
		totals.skipped += outcome.skipped;
	}
	let seconds = started.elapsed().as_secs_f64();
	println!(
		"{count} executions in {seconds:.1} s ({:.1}/s): {} blocks, {} calls succeeded, {} failed, {} skipped",
		count as f64 / seconds,
		totals.blocks,
		totals.succeeded,
		totals.failed,
		totals.skipped
	);
}
