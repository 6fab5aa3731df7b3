//! # Contract-equilibrium primitives
//!
//! The pure math of the contract-clearing market of Cha et al., "Mechanism Design and Equilibrium
//! Analysis of Smart Contract–Mediated Resource Allocation" (arXiv 2510.05504), shared by the
//! pallet, its runtime API and the simulator. Nothing here touches storage; everything is
//! `no_std`, float-free fixed point ([`FixedU128`], 18 decimals) with explicit rounding, and
//! saturates instead of panicking.
//!
//! ## Units
//! - Quantities (`x`, capacity `m`, aggregate demand `S`) are in resource units.
//! - Prices and fees (`μ`, unit fee `τ`, fixed fee `g`, `α`, `β`) are in whole native tokens per
//!   resource unit (`g` in whole tokens). The pallet converts a payment to the token's smallest
//!   unit when it settles.
//! - A [`FixedU128`] is encoded as its inner `u128`, the value times 10¹⁸: `0.5` is
//!   `500_000_000_000_000_000`.
//!
//! ## Map
//! - [`curve`]: an agent's [`DemandCurve`] and its best response `x(μ)`;
//! - [`market`]: a market's [`MarketParams`] and [`StepRule`], with validation;
//! - [`equilibrium`]: aggregate demand `S(μ)`, its slope, the Lipschitz bound `L` and the exact
//!   clearing price `μ*`;
//! - [`step`]: one price step per block, by projected dual ascent, the safeguarded
//!   Newton–secant rule or Robbins–Monro stochastic approximation;
//! - [`order`]: an [`Order`], a demand curve backed by a budget: what the chain counts;
//! - [`book`]: the order book in aggregate, on a price grid: demand, clearing and settlement at a
//!   cost that does not grow with the number of bids;
//! - [`settlement`]: quotes, pro-rata rationing and the epoch metrics (surplus, fairness);
//! - [`fixed`]: fixed-point helpers with explicit rounding, and `ln(1 + x)`.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod book;
pub mod curve;
pub mod equilibrium;
pub mod fixed;
pub mod market;
pub mod order;
pub mod settlement;
pub mod step;

pub use book::{
	clear, BookTotals, Clearing, ClearingTotals, GridOrder, GriddedDemand, PriceGrid, Settlement,
};
pub use curve::{CurveError, DemandCurve};
pub use equilibrium::{
	clearing_price, evaluate, lipschitz_bound, lipschitz_bound_between, DemandSnapshot,
};
pub use market::{MarketParams, ParamsError, StepRule};
pub use order::{Demand, Order};
pub use settlement::{
	allocate, covers_fixed_fee, fairness, participation_rate, quote, ration, total_surplus, Quote,
};
pub use sp_arithmetic::{FixedI128, FixedU128, Perbill};
pub use step::{next_price, next_price_remembering, PriceStep, StepMemory};

/// Helpers shared by the unit tests.
#[cfg(test)]
mod testing {
	use crate::DemandCurve;
	use sp_arithmetic::FixedU128;

	/// A fixed-point number from a float (tests only: floats never reach the runtime).
	pub fn fixed(value: f64) -> FixedU128 {
		FixedU128::from_float(value)
	}

	/// A log-utility agent.
	pub fn agent(alpha: f64, beta: f64) -> DemandCurve {
		DemandCurve::LogUtility { alpha: fixed(alpha), beta: fixed(beta) }
	}
}
