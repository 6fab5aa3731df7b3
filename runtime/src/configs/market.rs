//! The contract-equilibrium market.

use crate::{configs::TreasuryAccount, Balances, Runtime, RuntimeEvent, RuntimeHoldReason, UNIT};
use frame_support::traits::EitherOf;
use frame_support::traits::{ConstU128, ConstU32};
use frame_system::EnsureRoot;

impl pallet_contract_equilibrium::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// A referendum on the `market_admin` track (or root: a root referendum, or sudo on a
	/// development chain) creates and tunes markets.
	type MarketAdminOrigin =
		EitherOf<EnsureRoot<crate::AccountId>, crate::governance::EnsureMarketAdmin>;
	/// Fees `τ·x + g` go to the treasury.
	type FeeDestination = TreasuryAccount;
	/// Prices are in whole EQ; EQ has 12 decimals.
	type BalanceUnit = ConstU128<UNIT>;
	/// A bid's storage deposit: 0.1 EQ.
	type BidDeposit = ConstU128<{ UNIT / 10 }>;
	/// A settlement of 256 bids fits comfortably in a block (see the pallet's benchmarks).
	type MaxBidders = ConstU32<256>;
	type MaxMarkets = ConstU32<16>;
	type EpochHistoryDepth = ConstU32<64>;
	type WeightInfo = pallet_contract_equilibrium::weights::SubstrateWeight<Runtime>;
}
