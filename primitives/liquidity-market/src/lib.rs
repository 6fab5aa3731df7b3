//! # Liquidity-market primitives
//!
//! The pure math of the chain's liquidity markets: lenders supply a loan asset, borrowers take it
//! against collateral, and the price of liquidity — the borrow rate — is set by utilization and
//! moves every block. Shared by the liquidity-market pallet, its runtime API and the simulator.
//! Nothing here touches storage; everything is `no_std`, float-free fixed point ([`FixedU128`],
//! 18 decimals) or integer amounts, rounds in the protocol's favour and saturates instead of
//! panicking.
//!
//! ## Units
//! - Amounts are `u128` in an asset's smallest unit.
//! - Rates are per block: a [`FixedU128`] fraction of the amount (`0.000001` a block).
//! - Utilization, collateral factor, liquidation threshold and bonus, close and reserve factors
//!   are fractions (`FixedU128` or [`Perbill`]).
//! - Prices are the oracle's value of one whole unit of an asset in a common numeraire.
//!
//! ## Map
//! - [`rate`]: the kinked model and the adaptive model, whose rate at target takes one
//!   dual-ascent step per block (the resource market's step, reused);
//! - [`oracle`]: the median of fresh price feeds and its bounded move per block;
//! - [`interest`]: utilization from the market's cash ledger, and accrual by a borrow index;
//! - [`shares`]: supply and borrow shares with virtual shares;
//! - [`risk`]: borrow limit, health, close factor, seized collateral, the liquidation price and
//!   what one liquidation repays, seizes and books as bad debt;
//! - [`queue`]: the key positions are filed by for liquidation, and its buckets.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

pub mod interest;
pub mod oracle;
pub mod queue;
pub mod rate;
pub mod risk;
pub mod shares;

pub use interest::{utilization, Accrual, Accrued};
pub use oracle::{bounded_move, median};
pub use rate::{supply_rate, AdaptiveRate, KinkedRate, RateError, RateModel};
pub use risk::{
	borrow_limit, discounted_price, health, is_liquidatable, liquidation, liquidation_price,
	max_repay, seized_collateral, Liquidation, Priced, RiskError, RiskParams,
};
pub use shares::{debt_of, to_assets, to_debt_shares, to_shares, VIRTUAL_ASSETS, VIRTUAL_SHARES};
pub use sp_arithmetic::{FixedU128, Perbill};
