//! The contract-equilibrium market.

use crate::{Balances, Runtime, RuntimeEvent, RuntimeHoldReason, UNIT};
use frame_support::{
	parameter_types,
	traits::{ConstU128, ConstU32},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::traits::AccountIdConversion;

/// The pallet id whose account receives the fees `τ·x + g` (the treasury's conventional id).
pub const TREASURY_PALLET_ID: PalletId = PalletId(*b"py/trsry");

parameter_types! {
	/// The treasury's account: where market fees go.
	pub TreasuryAccount: crate::AccountId = TREASURY_PALLET_ID.into_account_truncating();
}

impl pallet_contract_equilibrium::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Root creates and tunes markets (through sudo on development chains).
	type MarketAdminOrigin = EnsureRoot<crate::AccountId>;
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
