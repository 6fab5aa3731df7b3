//! # equilibrium-sim
//!
//! A simulator and convergence benchmark for the contract-clearing market of Cha et al.,
//! "Mechanism Design and Equilibrium Analysis of Smart Contract–Mediated Resource Allocation"
//! (arXiv 2510.05504), built on the chain's own math: every demand, aggregate demand, Lipschitz
//! bound, clearing price, chain price step and settlement below is a call into
//! [`contract_equilibrium_primitives`], the crate the pallet runs. Nothing of the market is
//! re-implemented in floating point; floats appear only in the statistics and the figures.
//!
//! ## What is the chain's code and what is a comparison baseline
//!
//! | rule | code |
//! |---|---|
//! | dual ascent with `η = 0.5/L` (the paper's fixed step) | the chain's `StepRule::DualAscent` |
//! | dual ascent at the chain's cap `1/L` | the chain's `StepRule::DualAscent` |
//! | the pallet's fast rule (safeguarded Newton–secant, 100 % and 12.5 % caps) | the chain's `StepRule::SafeguardedNewton` |
//! | dual ascent with `η = 0.95·2/L` | baseline in [`rules`]: the chain caps `η` at `1/L` |
//! | EIP-1559-style multiplicative rule (±12.5 % per block) | baseline in [`rules`] |
//!
//! The baselines are written in the same fixed point, with the same rounding conventions, and
//! see the demand only through the chain's [`aggregate_demand`]; a unit test checks that the
//! dual-ascent baseline reproduces the chain's rule exactly wherever the chain does not cap it.
//!
//! ## Map
//! - [`agents`]: seeded draws of the paper's agents, `α ~ U(5, 20)`, `β ~ U(0.5, 5)`;
//! - [`scenarios`]: market settings (the paper's defaults, a binding-capacity setting, scaling);
//! - [`participation`]: who bids when the fixed fee `g` decides participation;
//! - [`rules`]: the price-update rules compared, chain and baseline;
//! - [`engine`]: price paths, one step per block;
//! - [`settlement`]: the chain's epoch settlement of a draw, and the first-best benchmark;
//! - [`metrics`]: blocks to converge, contraction factors, summary statistics;
//! - [`experiments`]: the experiments, each writing CSV, SVG figures and Markdown tables;
//! - [`lending`]: a liquidity market (`pallets/liquidity-market`) sequenced on
//!   [`liquidity_market_primitives`], with borrowers, lenders and a collateral price path, for
//!   the comparison of its adaptive and kinked rate models;
//! - [`output`], [`plots`], [`progress`]: CSV and Markdown, SVG figures, progress bars.
//!
//! [`aggregate_demand`]: contract_equilibrium_primitives::equilibrium::aggregate_demand

#![deny(missing_docs)]
// A simulator, not runtime code: counters, indices and the float statistics use plain
// arithmetic. Every quantity of the market itself goes through the chain's saturating fixed point.
#![allow(clippy::arithmetic_side_effects)]

pub mod agents;
pub mod engine;
pub mod experiments;
pub mod lending;
pub mod metrics;
pub mod output;
pub mod participation;
pub mod plots;
pub mod progress;
pub mod rules;
pub mod scenarios;
pub mod settlement;

pub use contract_equilibrium_primitives::{
	DemandCurve, FixedU128, MarketParams, Perbill, StepRule,
};
