//! The intermediated-trade contract (Aronoff & Townsend): dealers' commit-reveal of their
//! clients' schedules, the contract's selection and the offer/acceptance sequence.

use crate::{Balances, Runtime, RuntimeEvent, RuntimeHoldReason, MINUTES, UNIT};
use frame_support::traits::{ConstU128, ConstU32};

impl pallet_intermediated_trade::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Rates are in whole EQ per unit of cash; EQ has 12 decimals.
	type BalanceUnit = ConstU128<UNIT>;
	/// Each dealer's contingent deposit: 100 EQ, forfeited to the other participants if it
	/// deviates from the protocol or misses a deadline.
	type DealerDeposit = ConstU128<{ 100 * UNIT }>;
	/// BDrm's storage deposit for a round (about 450 bytes while it is in progress): 1 EQ.
	type RoundDeposit = ConstU128<{ UNIT }>;
	/// BDmm has 10 minutes (100 blocks) to join after a round is opened.
	type JoinWindow = ConstU32<{ 10 * MINUTES }>;
	/// Both dealers have 5 minutes (50 blocks) to reveal after BDmm joined.
	type RevealWindow = ConstU32<{ 5 * MINUTES }>;
	/// Each offer and each acceptance has 2 minutes (20 blocks) after the previous step.
	type StepWindow = ConstU32<{ 2 * MINUTES }>;
	/// At most 64 rounds in progress: the deadline hook reads one index of at most 64 entries
	/// per block and, in the worst block, ends all 64 (see the pallet's benchmarks).
	type MaxRounds = ConstU32<64>;
	type WeightInfo = pallet_intermediated_trade::weights::SubstrateWeight<Runtime>;
}
