//! Governance: preimages, the scheduler, referenda with conviction voting, the custom origins and
//! the treasury. See [`crate::governance`] and `docs/governance.md`.

use crate::{
	configs::RuntimeBlockWeights,
	governance::{self, TracksInfo},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, Treasury, DAYS,
	MILLI_UNIT, UNIT,
};
use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{PayFromAccount, UnityAssetBalanceConversion},
		ConstU32, EqualPrivilegeOnly, LinearStoragePrice,
	},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, EnsureRootWithSuccess, EnsureSigned};
use sp_runtime::{
	traits::{AccountIdConversion, IdentityLookup},
	Perbill,
};

parameter_types! {
	/// A preimage holds 1 EQ plus 0.01 EQ per byte until it is unrequested and removed.
	pub const PreimageBaseDeposit: Balance = UNIT;
	/// The per-byte part of a preimage's deposit.
	pub const PreimageByteDeposit: Balance = 10 * MILLI_UNIT;
	/// Why preimage deposits are held.
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

/// Preimages: the calls that referenda propose, stored on chain against a deposit.
impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Scheduled calls (enacted proposals) may use 80 % of a block.
	pub MaximumSchedulerWeight: Weight = {
		let max_block = RuntimeBlockWeights::get().max_block;
		let share = Perbill::from_percent(80);
		Weight::from_parts(share.mul_floor(max_block.ref_time()), share.mul_floor(max_block.proof_size()))
	};
}

/// The scheduler: dispatches passed proposals and wakes referenda up when they need a decision.
impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	/// Only root (a passed root referendum) schedules calls directly.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// How long a vote's tokens stay locked per conviction doubling: 7 days at 1×, 14 at 2×, …,
	/// 224 days at 6×.
	pub const VoteLockingPeriod: BlockNumber = 7 * DAYS;
}

/// Conviction voting: a vote locks tokens for longer to count more (0.1× unlocked up to 6×).
impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	/// Support is measured against the active issuance.
	type MaxTurnout =
		frame_support::traits::tokens::currency::ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<512>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	/// What submitting a referendum holds (refunded when it is decided).
	pub const SubmissionDeposit: Balance = 10 * UNIT;
	/// A referendum that never gets its decision deposit times out after 14 days.
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
}

/// Referenda: every proposal is voted on by token holders, on the track of its origin.
impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Any account may propose.
	type SubmitOrigin = EnsureSigned<AccountId>;
	/// Root (a passed root referendum) may cancel or kill a referendum.
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	/// The deposits of killed referenda go to the treasury.
	type Slash = Treasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// The custom origins the referendum tracks dispatch with.
impl governance::origins::Config for Runtime {}

parameter_types! {
	/// The treasury's pallet id; its account receives market fees and slashed deposits.
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	/// The treasury's account.
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
	/// A spend approved by referendum may be paid out within 30 days.
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	/// A root referendum may spend any amount.
	pub const MaxTreasurySpend: Balance = Balance::MAX;
}

/// The treasury: holds market fees; spends only what a root referendum approves.
impl pallet_treasury::Config for Runtime {
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type RuntimeEvent = RuntimeEvent;
	type SpendPeriod = frame_support::traits::ConstU32<{ 6 * DAYS }>;
	/// Nothing is burned: unspent funds stay in the treasury.
	type Burn = ();
	type PalletId = TreasuryPalletId;
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<100>;
	type SpendOrigin = EnsureRootWithSuccess<AccountId, MaxTreasurySpend>;
	/// Spends are in the native token only.
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TreasuryBenchmarkHelper;
	type BlockNumberProvider = System;
}

/// Arguments for the treasury's benchmarks. Their payouts are 100 planck, below the existential
/// deposit, so each beneficiary is made an existing account first (as the beneficiary of a real
/// spend would be); otherwise the payout benchmarks fail with `PayoutError`.
#[cfg(feature = "runtime-benchmarks")]
pub struct TreasuryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_treasury::ArgumentsFactory<(), AccountId> for TreasuryBenchmarkHelper {
	fn create_asset_kind(_seed: u32) {}

	fn create_beneficiary(seed: [u8; 32]) -> AccountId {
		use frame_support::traits::fungible::Mutate;
		let beneficiary = AccountId::from(seed);
		<Balances as Mutate<AccountId>>::mint_into(&beneficiary, crate::EXISTENTIAL_DEPOSIT)
			.expect("minting the existential deposit into a new account succeeds");
		beneficiary
	}
}
