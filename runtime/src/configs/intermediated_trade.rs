//! The intermediated-trade contract (Aronoff & Townsend): dealers' commit-reveal of their
//! clients' schedules, the contract's selection and the offer/acceptance sequence.

use crate::{Balances, Runtime, RuntimeEvent, RuntimeHoldReason, MINUTES, UNIT};
use frame_support::{
	parameter_types,
	traits::{ConstU128, ConstU32},
};
use sp_runtime::Perbill;

parameter_types! {
	/// A block whose weight reaches 90 % of the block's limit is congested.
	pub const IntermediatedTradeCongestion: Perbill = Perbill::from_percent(90);
}

impl pallet_intermediated_trade::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Rates are in whole EQ per unit of cash; EQ has 12 decimals.
	type BalanceUnit = ConstU128<UNIT>;
	/// Each participant's deposit before the stake: 10 EQ. A participant holds
	/// `10 EQ + stake_cap` from joining or consenting and `10 EQ + stake` once the terms are
	/// selected; a deviator's deposit goes to the other side of the trade.
	type BaseDeposit = ConstU128<{ 10 * UNIT }>;
	/// BDrm's storage deposit for a round (about 600 bytes while it is in progress): 1 EQ.
	type RoundDeposit = ConstU128<{ UNIT }>;
	/// BDmm has 10 minutes (100 blocks) to join after a round is opened.
	type JoinWindow = ConstU32<{ 10 * MINUTES }>;
	/// The clients have 10 minutes to consent and the dealers to commit once BDmm joined.
	type CommitWindow = ConstU32<{ 10 * MINUTES }>;
	/// Both dealers have 10 minutes to reveal once all four are bound.
	type RevealWindow = ConstU32<{ 10 * MINUTES }>;
	/// Each offer and each acceptance has 10 minutes (100 blocks) after the previous step:
	/// stuffing that many blocks costs far more than any deposit, and every congested block
	/// extends the window by one more.
	type StepWindow = ConstU32<{ 10 * MINUTES }>;
	/// An account takes part in at most 16 rounds at once.
	type MaxRoundsPerAccount = ConstU32<16>;
	/// The deadline hook handles at most 64 deadlines per block, whatever the number of rounds
	/// (see the pallet's benchmarks); more wait for the next block.
	type MaxDeadlinesPerBlock = ConstU32<64>;
	type CongestionThreshold = IntermediatedTradeCongestion;
	type WeightInfo = pallet_intermediated_trade::weights::SubstrateWeight<Runtime>;
}
