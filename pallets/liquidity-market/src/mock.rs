//! A test runtime: System, Balances (the native token, for deposits), Assets (the loan asset
//! `USD` and the collateral asset `ETH`) and the lending pallet, with a settable oracle.

#![allow(clippy::arithmetic_side_effects)]

use crate as pallet_liquidity_market;
use core::cell::RefCell;
use frame_support::{
	derive_impl,
	traits::{AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64, Hooks},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use liquidity_market_primitives::{AdaptiveRate, FixedU128, KinkedRate, RateModel, RiskParams};
use sp_runtime::{BuildStorage, FixedPointNumber, Perbill};
use std::collections::BTreeMap;

/// A test account.
pub type AccountId = u64;
/// A test balance.
pub type Balance = u128;

type Block = frame_system::mocking::MockBlock<Test>;

/// The loan asset: a dollar of 6 decimals.
pub const USD: u32 = 1;
/// The collateral asset: 12 decimals.
pub const ETH: u32 = 2;
/// One whole dollar.
pub const DOLLAR: Balance = 1_000_000;
/// One whole ETH.
pub const ETHER: Balance = 1_000_000_000_000;
/// The position deposit, in the native token.
pub const POSITION_DEPOSIT: Balance = 10;
/// Lenders and borrowers.
pub const ALICE: AccountId = 1;
/// A borrower.
pub const BOB: AccountId = 2;
/// Another lender.
pub const CHARLIE: AccountId = 3;
/// Positions the hook liquidates a block at most.
pub const MAX_LIQUIDATIONS_PER_BLOCK: u32 = 4;
/// Blocks liquidations wait after prices turn fresh.
pub const GRACE_PERIOD: u64 = 10;
/// An account without funds.
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
	pub type Assets = pallet_assets;

	#[runtime::pallet_index(3)]
	pub type LiquidityMarket = pallet_liquidity_market;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

#[derive_impl(pallet_assets::config_preludes::TestDefaultConfig)]
impl pallet_assets::Config for Test {
	type Balance = Balance;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type Freezer = ();
	type Holder = ();
}

thread_local! {
	/// The oracle's prices by asset: `(price, fresh)`.
	static PRICES: RefCell<BTreeMap<u32, (FixedU128, bool)>> = const { RefCell::new(BTreeMap::new()) };
	/// The block every fresh price has been fresh since.
	static FRESH_SINCE: RefCell<u64> = const { RefCell::new(1) };
}

/// Sets the block every fresh price has been fresh since (1 unless set).
pub fn set_fresh_since(block: u64) {
	FRESH_SINCE.with(|since| *since.borrow_mut() = block);
}

/// Sets an asset's price, fresh or stale.
pub fn set_price(asset: u32, price: FixedU128, fresh: bool) {
	PRICES.with(|prices| prices.borrow_mut().insert(asset, (price, fresh)));
}

/// An oracle whose prices the tests set.
pub struct TestOracle;

impl pallet_oracle::PriceOracle<u32, u64> for TestOracle {
	fn fresh_price(asset: &u32) -> Option<(FixedU128, u64)> {
		PRICES.with(|prices| {
			let since = FRESH_SINCE.with(|since| *since.borrow());
			prices.borrow().get(asset).and_then(|(price, fresh)| fresh.then_some((*price, since)))
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_fresh_price(asset: &u32, price: FixedU128) {
		set_price(*asset, price, true);
	}
}

/// The benchmarks lend USD against ETH.
#[cfg(feature = "runtime-benchmarks")]
pub struct BenchmarkAssets;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u32> for BenchmarkAssets {
	fn assets() -> ((u32, u8), (u32, u8)) {
		((USD, 6), (ETH, 12))
	}
}

frame_support::parameter_types! {
	pub const LendingPalletId: PalletId = PalletId(*b"eq/lendm");
	/// A liquidation threshold comes down by at most 0.1 % a block.
	pub const ThresholdStep: Perbill = Perbill::from_parts(1_000_000);
}

impl pallet_liquidity_market::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = u32;
	type Assets = Assets;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Oracle = TestOracle;
	type AdminOrigin = EnsureRoot<AccountId>;
	type PalletId = LendingPalletId;
	type MaxMarkets = ConstU32<2>;
	type PositionDeposit = ConstU128<POSITION_DEPOSIT>;
	type MaxLiquidationsPerBlock = ConstU32<MAX_LIQUIDATIONS_PER_BLOCK>;
	type LiquidationGracePeriod = ConstU64<GRACE_PERIOD>;
	type MaxThresholdStepPerBlock = ThresholdStep;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = BenchmarkAssets;
}

/// A market lending USD against ETH: kinked rate (1e-7 a block to the 80 % kink, 1e-5 more to
/// full), 10 % reserves, collateral factor 75 %, threshold 80 %, bonus 5 %, caps 10⁹ USD.
pub fn market_params() -> crate::MarketParams<u32> {
	crate::MarketParams {
		loan_asset: USD,
		loan_decimals: 6,
		collateral_asset: ETH,
		collateral_decimals: 12,
		rate_model: RateModel::Kinked(KinkedRate {
			base: FixedU128::from_inner(0),
			slope_low: FixedU128::saturating_from_rational(1u32, 10_000_000u32),
			slope_high: FixedU128::saturating_from_rational(1u32, 100_000u32),
			kink: FixedU128::saturating_from_rational(4u32, 5u32),
		}),
		reserve_factor: Perbill::from_percent(10),
		risk: RiskParams {
			collateral_factor: Perbill::from_percent(75),
			liquidation_threshold: Perbill::from_percent(80),
			liquidation_bonus: Perbill::from_percent(5),
			close_factor: Perbill::from_percent(50),
			full_close_health: FixedU128::saturating_from_rational(95u32, 100u32),
			dust_value: FixedU128::saturating_from_integer(1u32),
		},
		supply_cap: 1_000_000_000 * DOLLAR,
		borrow_cap: 1_000_000_000 * DOLLAR,
	}
}

/// An adaptive model: target 90 %, `η` = 10⁻⁸ a block, steepness 4.
pub fn adaptive_model() -> RateModel {
	RateModel::Adaptive(AdaptiveRate {
		target_utilization: FixedU128::saturating_from_rational(9u32, 10u32),
		step_size: FixedU128::saturating_from_rational(1u32, 100_000_000u32),
		steepness: FixedU128::saturating_from_integer(4u32),
		min_rate_at_target: FixedU128::saturating_from_rational(1u32, 1_000_000_000u32),
		max_rate_at_target: FixedU128::saturating_from_rational(1u32, 10_000u32),
		initial_rate_at_target: FixedU128::saturating_from_rational(1u32, 10_000_000u32),
	})
}

/// A chain at block 1: Alice, Bob and Charlie with native tokens, a million USD and a thousand
/// ETH each; ETH at 2 000 USD and USD at 1, fresh.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, 1_000), (BOB, 1_000), (CHARLIE, 1_000)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_assets::GenesisConfig::<Test> {
		assets: vec![(USD, ALICE, true, 1), (ETH, ALICE, true, 1)],
		metadata: vec![],
		accounts: [ALICE, BOB, CHARLIE]
			.into_iter()
			.flat_map(|who| [(USD, who, 1_000_000 * DOLLAR), (ETH, who, 1_000 * ETHER)])
			.collect(),
		next_asset_id: None,
		reserves: vec![],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		set_fresh_since(1);
		set_price(USD, FixedU128::saturating_from_integer(1u32), true);
		set_price(ETH, FixedU128::saturating_from_integer(2_000u32), true);
	});
	ext
}

/// Runs `test` on a fresh chain and checks the invariants after it.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		LiquidityMarket::do_try_state().expect("invariants hold");
	});
}

/// Moves to block `n`.
pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}

/// Moves to the next block and runs the pallet's `on_initialize` (its liquidations) in it.
pub fn next_block() {
	let next = System::block_number() + 1;
	System::set_block_number(next);
	LiquidityMarket::on_initialize(next);
}
