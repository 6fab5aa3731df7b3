//! A test runtime: System, Balances and the market pallet.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_contract_equilibrium;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32},
};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

/// A test account.
pub type AccountId = u64;
/// A test balance.
pub type Balance = u128;

type Block = frame_system::mocking::MockBlock<Test>;

/// One whole token: 12 decimals, as on the chain.
pub const UNIT: Balance = 1_000_000_000_000;
/// The bid deposit.
pub const DEPOSIT: Balance = UNIT / 10;
/// Where fees go.
pub const TREASURY: AccountId = 1_002;
/// The payee of the test markets.
pub const PAYEE: AccountId = 1_001;
/// What every test account holds at genesis.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;
/// Accounts endowed at genesis: 1..=300, the payee and the treasury.
pub const FIRST_BIDDER: AccountId = 1;
/// The last endowed bidder.
pub const LAST_BIDDER: AccountId = 300;

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
	pub type ContractEquilibrium = pallet_contract_equilibrium;
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

parameter_types! {
	pub const FeeDestination: AccountId = TREASURY;
	pub const MarketPalletId: frame_support::PalletId = frame_support::PalletId(*b"eq/markt");
}

impl pallet_contract_equilibrium::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MarketAdminOrigin = EnsureRoot<AccountId>;
	type FeeDestination = FeeDestination;
	type BalanceUnit = ConstU128<UNIT>;
	type PalletId = MarketPalletId;
	type BidDeposit = ConstU128<DEPOSIT>;
	type MaxBidders = ConstU32<64>;
	type MaxOrderEpochs = ConstU32<8>;
	type MaxMarkets = ConstU32<4>;
	type EpochHistoryDepth = ConstU32<3>;
	type WeightInfo = ();
}

/// Externalities with the test accounts endowed, at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> =
		(FIRST_BIDDER..=LAST_BIDDER).map(|who| (who, ENDOWMENT)).collect();
	balances.push((PAYEE, ENDOWMENT));
	balances.push((TREASURY, ENDOWMENT));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_contract_equilibrium::GenesisConfig::<Test>::default()
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
		ContractEquilibrium::do_try_state().expect("invariants hold after the test");
		result
	})
}

/// Runs the hooks of the blocks after the current one, up to block `number`, checking the
/// invariants after each. Events are kept for the last block only, as on a chain.
pub fn run_to_block(number: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < number {
		let next = System::block_number() + 1;
		System::reset_events();
		System::set_block_number(next);
		ContractEquilibrium::on_initialize(next);
		ContractEquilibrium::do_try_state().expect("invariants hold after every block");
	}
}
