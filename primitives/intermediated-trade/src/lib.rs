//! # Intermediated-trade primitives
//!
//! The pure math of the smart contract of Aronoff & Townsend, "A Smart-Contract to Resolve
//! Multiple Equilibrium in Intermediated Trade" (arXiv 2505.22940), for a repo market with two
//! clients and two broker-dealers:
//!
//! - RM, the repo borrower, demands cash `S(r)` at the rate `r` it pays (decreasing);
//! - MM, the money-market lender, supplies cash `D(r)` at the rate `r` it receives (increasing);
//! - BDrm and BDmm, their dealers, trade with each other at `r_bd = (r_rm + r_mm)/2`.
//!
//! Nothing here touches storage; everything is `no_std`, float-free fixed point
//! ([`FixedU128`], 18 decimals) with explicit rounding and checked arithmetic, so it never
//! panics.
//!
//! ## Units
//! - Quantities (`Q`, `D`, `S`) are in units of cash lent (off-chain, e.g. millions of dollars).
//! - Rates (`r`, hurdles) are in whole native tokens per unit of cash, for the repo's term: a
//!   trade of `Q` units at rate `r` pays `r·Q` tokens of interest.
//! - Slopes are in units of cash per unit of rate.
//!
//! ## Map
//! - [`schedule`]: the clients' linear schedules ([`SupplySchedule`], [`DemandSchedule`]), the
//!   dealers' [`Report`]s, their validation and inverses;
//! - [`contract`]: the contract's selection `Q* = argmax_Q (S⁻¹(Q) − D⁻¹(Q))·Q` subject to the
//!   hurdles, and the resulting [`Terms`];
//! - [`equilibria`]: the dealers' profits for any pair of rates and the interval of
//!   inventory-free outcomes that are equilibria without the contract;
//! - [`fixed`]: checked fixed-point helpers with explicit rounding.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

pub mod contract;
pub mod equilibria;
pub mod fixed;
pub mod schedule;

pub use contract::{joint_profit, max_joint_profit, select, NoTrade, Terms};
pub use equilibria::{dealer_profits, inventory_free_upper_bound, DealerProfits};
pub use schedule::{
	ClientSchedule, DemandSchedule, Report, ScheduleError, SupplySchedule, MAX_RATE, MAX_SLOPE,
	MIN_SLOPE,
};
pub use sp_arithmetic::{FixedI128, FixedU128};

/// Helpers shared by the unit tests.
#[cfg(test)]
mod testing {
	use crate::{DemandSchedule, SupplySchedule};
	use sp_arithmetic::{FixedPointNumber, FixedU128};

	/// `n / d` in fixed point.
	pub fn ratio(n: u128, d: u128) -> FixedU128 {
		FixedU128::from_rational(n, d)
	}

	/// `n` in fixed point.
	pub fn int(n: u128) -> FixedU128 {
		FixedU128::saturating_from_integer(n)
	}

	/// The worked example: `D(r) = r`, `S(r) = 10 − r`.
	pub fn example() -> (SupplySchedule, DemandSchedule) {
		(
			SupplySchedule { reservation_rate: int(0), slope: int(1) },
			DemandSchedule { choke_rate: int(10), slope: int(1) },
		)
	}
}
