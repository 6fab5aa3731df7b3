//! A test runtime: System and the oracle pallet, with asset identifiers `u32` and root as
//! governance.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_oracle;
use frame_support::{derive_impl, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

/// A test account.
pub type AccountId = u64;

type Block = frame_system::mocking::MockBlock<Test>;

/// The most assets with an oracle in the tests.
pub const MAX_ASSETS: u32 = 3;
/// The most feeders per asset in the tests.
pub const MAX_FEEDERS: u32 = 5;

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
	pub type Oracle = pallet_oracle;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
}

/// Asset identifiers for the benchmarks: the index itself.
#[cfg(feature = "runtime-benchmarks")]
pub struct Assets;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u32> for Assets {
	fn asset(index: u32) -> u32 {
		index
	}
}

impl pallet_oracle::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = u32;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxAssets = ConstU32<MAX_ASSETS>;
	type MaxFeedersPerAsset = ConstU32<MAX_FEEDERS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = Assets;
}

/// A fresh chain at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` on a fresh chain and checks the pallet's invariants after it.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Oracle::do_try_state(System::block_number()).expect("invariants hold");
	});
}

/// Moves to block `n`.
pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}
