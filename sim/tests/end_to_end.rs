//! Runs the binary on tiny experiments end to end: every subcommand writes its CSV files, its
//! Markdown tables and its SVG figures, reproducibly for a seed.

use std::{
	fs,
	path::{Path, PathBuf},
	process::Command,
};

fn scratch(name: &str) -> PathBuf {
	let dir =
		std::env::temp_dir().join(format!("equilibrium-sim-e2e-{}-{name}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	fs::create_dir_all(&dir).unwrap();
	dir
}

fn simulate(dir: &Path, args: &[&str]) {
	let status = Command::new(env!("CARGO_BIN_EXE_equilibrium-sim"))
		.args(["--quiet", "--seed", "7", "--replications", "3"])
		.arg("--results")
		.arg(dir.join("results"))
		.arg("--figures")
		.arg(dir.join("figures"))
		.args(args)
		.status()
		.expect("the simulator runs");
	assert!(status.success(), "equilibrium-sim {args:?} failed");
}

fn read(path: PathBuf) -> String {
	fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} was written", path.display()))
}

#[test]
fn every_experiment_writes_its_tables_and_figures() {
	let dir = scratch("all");
	simulate(&dir, &["convergence"]);
	simulate(&dir, &["tau-sweep"]);
	simulate(&dir, &["tau-shock"]);
	simulate(&dir, &["proportional"]);
	simulate(&dir, &["scale", "--sizes", "20:3,200:2"]);
	simulate(&dir, &["lending"]);
	let results = dir.join("results");
	let figures = dir.join("figures");

	let summary = read(results.join("convergence_summary.csv"));
	let mut lines = summary.lines();
	assert!(lines.next().unwrap().starts_with("scenario,rule,chain_code,draws,binding_draws"));
	// Two settings × six rules.
	assert_eq!(lines.count(), 12);
	let runs = read(results.join("runs").join("convergence_runs.csv"));
	assert_eq!(runs.lines().count(), 1 + 2 * 3 * 6);
	// Capacity is never exceeded.
	assert!(runs.lines().skip(1).all(|line| line.split(',').nth(14) == Some("0")));

	assert_eq!(read(results.join("tau_sweep.csv")).lines().count(), 1 + 2 * 21);
	assert_eq!(read(results.join("tau_shock.csv")).lines().count(), 1 + 3 * 6);
	assert_eq!(read(results.join("proportional.csv")).lines().count(), 1 + 2 * 2);
	assert_eq!(read(results.join("scale.csv")).lines().count(), 1 + 2 * 6);
	// Two models, then the sweep: the kinked model and six step sizes.
	assert_eq!(read(results.join("lending.csv")).lines().count(), 1 + 2 + 1 + 6);
	for report in ["convergence", "tau-sweep", "tau-shock", "proportional", "scale", "lending"] {
		let markdown = read(results.join(format!("{report}.md")));
		assert!(markdown.contains("| --- |"), "{report}.md has a table");
	}
	for figure in [
		"convergence_binding",
		"tau_sweep",
		"tau_shock_tight",
		"proportional",
		"scale",
		"lending",
		"lending_crash",
	] {
		let svg = read(figures.join(format!("{figure}.svg")));
		assert!(svg.starts_with("<svg") && svg.contains("<polyline"), "{figure}.svg has lines");
	}

	// The same seed gives the same results.
	let again = scratch("again");
	simulate(&again, &["convergence"]);
	let strip_timing = |csv: String| -> Vec<String> {
		csv.lines().map(|line| line.rsplit_once(',').unwrap().0.to_string()).collect()
	};
	assert_eq!(
		strip_timing(summary),
		strip_timing(read(again.join("results").join("convergence_summary.csv")))
	);
	fs::remove_dir_all(&dir).unwrap();
	fs::remove_dir_all(&again).unwrap();
}

#[test]
fn a_draw_prints_as_csv() {
	let output = Command::new(env!("CARGO_BIN_EXE_equilibrium-sim"))
		.args(["--seed", "2510", "draw", "--replication", "0", "--agents", "5"])
		.output()
		.expect("the simulator runs");
	assert!(output.status.success());
	let csv = String::from_utf8(output.stdout).unwrap();
	assert_eq!(csv.lines().next(), Some("agent,alpha,beta,alpha_inner,beta_inner,bids"));
	assert_eq!(csv.lines().count(), 6);
}
