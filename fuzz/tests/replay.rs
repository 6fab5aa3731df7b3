// Test arithmetic on small counts.
#![allow(clippy::arithmetic_side_effects)]

//! The fuzzer's deterministic part, run by the README's test command: every input of the
//! committed corpus (`fuzz/corpus`: the seeds, and every crash ever found, as a regression
//! test), the generated seeds, and a few hundred seeded random inputs, each from genesis with
//! every invariant checked after every block.

use equilibrium_fuzz::{generate, run};

#[test]
fn the_committed_corpus_replays() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
	let mut count = 0;
	for entry in std::fs::read_dir(&dir).expect("fuzz/corpus exists") {
		let path = entry.expect("an entry").path();
		let input = std::fs::read(&path).expect("a corpus file");
		let outcome = run(&input);
		assert!(outcome.blocks >= 1, "{}", path.display());
		count += 1;
	}
	assert!(count > 0, "the corpus is empty");
}

#[test]
fn the_corpus_holds_a_seed_for_every_call_and_the_scripts_work() {
	// Every call of the metadata has its seed in the committed corpus (replayed above).
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
	let seeds = generate::per_call_seeds();
	assert!(seeds.len() > 50, "only {} calls in the metadata", seeds.len());
	for (name, input) in seeds {
		let committed = std::fs::read(dir.join(&name)).unwrap_or_default();
		assert_eq!(
			committed, input,
			"fuzz/corpus/{name} is missing or stale: run scripts/fuzz --seeds"
		);
	}
	// The scripts do what they say: calls are included and most succeed.
	for (name, input) in generate::scripted_seeds() {
		let outcome = run(&input);
		assert!(outcome.succeeded > 0, "{name}: nothing succeeded: {outcome:?}");
		assert!(outcome.succeeded >= outcome.failed, "{name}: {outcome:?}");
	}
}

#[test]
fn seeded_random_inputs_keep_every_invariant() {
	let count: u64 =
		std::env::var("FUZZ_REPLAY_INPUTS").ok().and_then(|n| n.parse().ok()).unwrap_or(200);
	let mut succeeded = 0;
	for seed in 0..count {
		succeeded += run(&generate::random_input(seed)).succeeded;
	}
	assert!(succeeded > count as u32, "random inputs should mostly do something: {succeeded}");
}
