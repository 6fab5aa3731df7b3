//! A test runtime: System, Balances and the intermediated-trade pallet.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_intermediated_trade;
use frame_support::{
	derive_impl,
	traits::{ConstU128, ConstU32, ConstU64},
};
use sp_runtime::BuildStorage;

/// A test account.
pub type AccountId = u64;
/// A test balance.
pub type Balance = u128;

type Block = frame_system::mocking::MockBlock<Test>;

/// One whole token: 12 decimals, as on the chain.
pub const UNIT: Balance = 1_000_000_000_000;
/// Each participant's deposit before the stake.
pub const BASE_DEPOSIT: Balance = 90 * UNIT;
/// The stake cap the tests' rounds declare (the worked example's stake is 12.5 EQ).
pub const STAKE_CAP: Balance = 30 * UNIT;
/// Each participant's deposit until the terms: `BASE_DEPOSIT + STAKE_CAP`.
pub const CAP_DEPOSIT: Balance = BASE_DEPOSIT + STAKE_CAP;
/// The round's storage deposit.
pub const ROUND_DEPOSIT: Balance = UNIT;
/// Blocks to join, to reveal, and for each offer or acceptance.
pub const JOIN_WINDOW: u64 = 5;
/// Blocks to consent and commit.
pub const COMMIT_WINDOW: u64 = 6;
/// Blocks to reveal.
pub const REVEAL_WINDOW: u64 = 4;
/// Blocks per offer or acceptance.
pub const STEP_WINDOW: u64 = 3;
/// The most rounds an account takes part in.
pub const MAX_ROUNDS_PER_ACCOUNT: u32 = 4;
/// The most deadlines the hook handles in one block.
pub const MAX_DEADLINES_PER_BLOCK: u32 = 3;
/// What every test account holds at genesis.
pub const ENDOWMENT: Balance = 1_000 * UNIT;
/// BDrm, BDmm, RM, MM and a stranger.
pub const BD_RM: AccountId = 1;
/// BDmm.
pub const BD_MM: AccountId = 2;
/// RM.
pub const RM: AccountId = 3;
/// MM.
pub const MM: AccountId = 4;
/// Someone else.
pub const STRANGER: AccountId = 5;
/// An account that was never endowed.
pub const NOBODY: AccountId = 99;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(2)]
	pub type IntermediatedTrade = pallet_intermediated_trade;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1_000_000>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_intermediated_trade::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type BalanceUnit = ConstU128<UNIT>;
	type BaseDeposit = ConstU128<BASE_DEPOSIT>;
	type RoundDeposit = ConstU128<ROUND_DEPOSIT>;
	type JoinWindow = ConstU64<JOIN_WINDOW>;
	type CommitWindow = ConstU64<COMMIT_WINDOW>;
	type RevealWindow = ConstU64<REVEAL_WINDOW>;
	type StepWindow = ConstU64<STEP_WINDOW>;
	type MaxRoundsPerAccount = ConstU32<MAX_ROUNDS_PER_ACCOUNT>;
	type MaxDeadlinesPerBlock = ConstU32<MAX_DEADLINES_PER_BLOCK>;
	type CongestionThreshold = CongestionThreshold;
	type WeightInfo = ();
}

frame_support::parameter_types! {
	/// 90 % of the normal-class limit.
	pub const CongestionThreshold: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(90);
}

/// Externalities with accounts 1..=20 endowed, at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let balances: Vec<(AccountId, Balance)> = (1..=20).map(|who| (who, ENDOWMENT)).collect();
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in fresh externalities, then checks the pallet's invariants.
pub fn build_and_execute<R>(test: impl FnOnce() -> R) -> R {
	new_test_ext().execute_with(|| {
		let result = test();
		IntermediatedTrade::do_try_state().expect("invariants hold after the test");
		result
	})
}

/// Finalizes the current block and runs the hooks of the blocks after it, up to block
/// `number`, checking the invariants after each. Events are kept for the last block only, as on
/// a chain.
pub fn run_to_block(number: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < number {
		IntermediatedTrade::on_finalize(System::block_number());
		let next = System::block_number() + 1;
		System::reset_events();
		System::set_block_number(next);
		frame_system::BlockWeight::<Test>::kill();
		frame_system::BlockSize::<Test>::kill();
		IntermediatedTrade::on_initialize(next);
		IntermediatedTrade::do_try_state().expect("invariants hold after every block");
	}
}

/// Fills the current block's normal class up to its limit, as a block stuffer would.
pub fn stuff_block() {
	use frame_support::{dispatch::DispatchClass, traits::Get};
	let weights: frame_system::limits::BlockWeights =
		<Test as frame_system::Config>::BlockWeights::get();
	let limit = weights.get(DispatchClass::Normal).max_total.expect("a normal-class limit");
	frame_system::BlockWeight::<Test>::mutate(|used| used.set(limit, DispatchClass::Normal));
}
