//! Writes the seed corpus (one input per call of the metadata, and the scripted sequences)
//! into a directory: `fuzz-corpus DIR`.

// Counts of a tool run: small, and a wrap would only misreport.
#![allow(clippy::arithmetic_side_effects)]

fn main() {
	let dir = std::env::args().nth(1).expect("usage: fuzz-corpus DIR");
	std::fs::create_dir_all(&dir).expect("the corpus directory");
	let seeds = equilibrium_fuzz::generate::per_call_seeds()
		.into_iter()
		.chain(equilibrium_fuzz::generate::scripted_seeds());
	let mut count = 0;
	for (name, bytes) in seeds {
		std::fs::write(std::path::Path::new(&dir).join(name), bytes).expect("a seed written");
		count += 1;
	}
	println!("{count} seeds in {dir}");
}
