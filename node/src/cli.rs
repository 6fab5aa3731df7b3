//! The node's command line: `sc-cli`'s standard `run` options and subcommands, plus `--sealing`.

use std::{fmt, str::FromStr};

/// How the node produces blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sealing {
	/// Aura slots of the runtime's block time (6 s) with GRANDPA finality: the real consensus.
	#[default]
	Aura,
	/// A block as soon as a transaction arrives, finalized at once. For interactive development.
	Instant,
	/// A block only when asked through the `engine_createBlock` RPC. For scripted tests.
	Manual,
	/// A block every given number of milliseconds, finalized at once. For tests that need many
	/// blocks fast (`--sealing 100` makes 100 blocks in about 10 s).
	Interval(u64),
}

impl FromStr for Sealing {
	type Err = String;

	fn from_str(value: &str) -> Result<Self, Self::Err> {
		match value {
			"aura" => Ok(Self::Aura),
			"instant" => Ok(Self::Instant),
			"manual" => Ok(Self::Manual),
			millis => match millis.parse::<u64>() {
				Ok(0) => Err("the sealing interval must be at least 1 ms".into()),
				Ok(millis) => Ok(Self::Interval(millis)),
				Err(_) => Err(format!(
					"unknown sealing mode `{value}`: expected aura, instant, manual or a number of milliseconds"
				)),
			},
		}
	}
}

impl fmt::Display for Sealing {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Aura => write!(f, "aura"),
			Self::Instant => write!(f, "instant"),
			Self::Manual => write!(f, "manual"),
			Self::Interval(millis) => write!(f, "{millis}"),
		}
	}
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A maintenance subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// The options of a running node (`--dev`, `--tmp`, `--rpc-port`, …).
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Free space the database's disk must keep (`--db-storage-threshold`, MiB, default 1024;
	/// 0 turns the check off) and how often it is checked (`--db-storage-polling-period`,
	/// seconds). Below it the node stops with an error instead of failing mid-write.
	#[clap(flatten)]
	pub storage_monitor: sc_storage_monitor::StorageMonitorParams,

	/// How blocks are produced: `aura` (6-second slots with GRANDPA finality, the default),
	/// `instant` (a block per transaction), `manual` (a block per `engine_createBlock` RPC call)
	/// or a number of milliseconds (a block at that interval). Every mode but `aura` finalizes
	/// each block at once, uses the single-state transaction pool, and is meant for a
	/// single-validator development chain.
	/// Subcommands that import blocks (`import-blocks`, `check-block`) need the mode the blocks
	/// were made in: `import-blocks --sealing manual …` for blocks of a development mode.
	#[arg(long, global = true, default_value_t = Sealing::Aura)]
	pub sealing: Sealing,
}

/// The node's maintenance subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management utilities.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated upstream; prefer `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	#[test]
	fn sealing_modes_parse() {
		assert_eq!("aura".parse(), Ok(Sealing::Aura));
		assert_eq!("instant".parse(), Ok(Sealing::Instant));
		assert_eq!("manual".parse(), Ok(Sealing::Manual));
		assert_eq!("250".parse(), Ok(Sealing::Interval(250)));
		assert!("0".parse::<Sealing>().is_err());
		assert!("fast".parse::<Sealing>().is_err());
		for mode in [Sealing::Aura, Sealing::Instant, Sealing::Manual, Sealing::Interval(7)] {
			assert_eq!(mode.to_string().parse(), Ok(mode));
		}
	}

	#[test]
	fn the_command_line_defaults_to_aura() {
		let cli = Cli::try_parse_from(["equilibrium-node", "--dev"]).unwrap();
		assert_eq!(cli.sealing, Sealing::Aura);
		let cli = Cli::try_parse_from(["equilibrium-node", "--dev", "--sealing", "100"]).unwrap();
		assert_eq!(cli.sealing, Sealing::Interval(100));
		assert!(Cli::try_parse_from(["equilibrium-node", "--sealing", "sometimes"]).is_err());
		// Subcommands that import blocks take the mode too.
		let cli = Cli::try_parse_from([
			"equilibrium-node",
			"import-blocks",
			"--dev",
			"--sealing",
			"manual",
			"blocks.bin",
		])
		.unwrap();
		assert_eq!(cli.sealing, Sealing::Manual);
	}
}
