//! The contract-equilibrium market.

use crate::{configs::TreasuryAccount, Balances, Runtime, RuntimeEvent, RuntimeHoldReason, UNIT};
use frame_support::traits::EitherOf;
use frame_support::traits::{ConstU128, ConstU32};
use frame_support::{parameter_types, PalletId};
use frame_system::EnsureRoot;

parameter_types! {
	/// The market pallet's identifier: its escrow account is derived from it.
	pub const MarketPalletId: PalletId = PalletId(*b"eq/markt");
}

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
	type PalletId = MarketPalletId;
	/// Prices are in whole EQ; EQ has 12 decimals.
	type BalanceUnit = ConstU128<UNIT>;
	/// A bid's storage deposit, and the smallest budget per epoch: 0.1 EQ.
	type BidDeposit = ConstU128<{ UNIT / 10 }>;
	/// The per-block work does not depend on the number of bids (see the pallet's benchmarks,
	/// which go to 100 000).
	type MaxBidders = ConstU32<100_000>;
	/// An order lasts at most 256 epochs (about 4 hours of the demo market's one-minute
	/// epochs): settling a bid reads at most twice as many epoch records.
	type MaxOrderEpochs = ConstU32<256>;
	type MaxMarkets = ConstU32<16>;
	type EpochHistoryDepth = ConstU32<64>;
	type WeightInfo = pallet_contract_equilibrium::weights::SubstrateWeight<Runtime>;
}
