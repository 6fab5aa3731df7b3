//! `equilibrium-node`: the node that hosts the contract-equilibrium chain.
//!
//! Run a development chain with `equilibrium-node --dev` (see the README) and connect Polkadot.js
//! to `ws://127.0.0.1:9944`.

#![warn(missing_docs)]
// `sc_cli::Error` and `sc_service::Error`, which the node passes along, are large by design.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
