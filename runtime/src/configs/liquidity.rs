//! The liquidity markets: assets (`pallet-assets`, with a development stable asset at
//! genesis), the price oracle and the lending markets.

use crate::{
	AccountId, Assets, Balance, Balances, Oracle, Runtime, RuntimeEvent, RuntimeHoldReason, UNIT,
};
use frame_support::{
	traits::{
		fungible::{NativeFromLeft, NativeOrWithId, UnionOf},
		AsEnsureOriginWithArg, ConstU128, ConstU32, EitherOf,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_runtime::Perbill;

/// An asset of the liquidity markets: the native token or an asset of `pallet-assets` by its
/// identifier.
pub type AssetKind = NativeOrWithId<u32>;

impl pallet_oracle::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = AssetKind;
	/// A referendum on the `market_admin` track (or root) names the feeders.
	type AdminOrigin = EitherOf<EnsureRoot<crate::AccountId>, crate::governance::EnsureMarketAdmin>;
	/// At most 32 priced assets.
	type MaxAssets = ConstU32<32>;
	/// At most 16 feeders per asset: a feed reads all of them to take the median.
	type MaxFeedersPerAsset = ConstU32<16>;
	type WeightInfo = pallet_oracle::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = OracleBenchmarkAssets;
}

/// Asset identifiers for the oracle's benchmarks: assets of `pallet-assets`.
#[cfg(feature = "runtime-benchmarks")]
pub struct OracleBenchmarkAssets;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_oracle::BenchmarkHelper<AssetKind> for OracleBenchmarkAssets {
	fn asset(index: u32) -> AssetKind {
		NativeOrWithId::WithId(index)
	}
}

/// The development stable asset's identifier in `pallet-assets`.
pub const STABLE_ASSET_ID: u32 = 1;

/// The development stable asset's decimals: a whole unit is 10⁶ of its smallest unit.
pub const STABLE_DECIMALS: u8 = 6;

/// One whole unit of the development stable asset.
pub const STABLE_UNIT: Balance = 1_000_000;

impl pallet_assets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	/// At most 1 000 accounts or approvals are removed per `destroy_*` call.
	type RemoveItemsLimit = ConstU32<1_000>;
	type AssetId = u32;
	type AssetIdParameter = codec::Compact<u32>;
	/// No foreign assets: nothing is reserved elsewhere.
	type ReserveData = ();
	/// Deposits are reserved in EQ.
	type Currency = Balances;
	/// Anyone may create an asset, paying its deposit; only governance creates lending markets
	/// for one.
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	/// The `force_*` calls: root only.
	type ForceOrigin = EnsureRoot<AccountId>;
	/// Creating an asset reserves 10 EQ.
	type AssetDeposit = ConstU128<{ 10 * UNIT }>;
	/// An account of an asset that is not sufficient reserves 0.01 EQ.
	type AssetAccountDeposit = ConstU128<{ UNIT / 100 }>;
	/// Metadata reserves 1 EQ plus 0.01 EQ per byte.
	type MetadataDepositBase = ConstU128<{ UNIT }>;
	type MetadataDepositPerByte = ConstU128<{ UNIT / 100 }>;
	/// An approval reserves 0.01 EQ.
	type ApprovalDeposit = ConstU128<{ UNIT / 100 }>;
	/// Names and symbols of at most 50 bytes.
	type StringLimit = ConstU32<50>;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	type CallbackHandle = ();
	/// Identifiers are chosen by the creator.
	type AssetIdAllocator = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

/// The lending markets' assets as one `fungibles`: the native token as
/// [`NativeOrWithId::Native`], `pallet-assets`' assets by identifier.
pub type LendingAssets = UnionOf<Balances, Assets, NativeFromLeft, AssetKind, AccountId>;

frame_support::parameter_types! {
	/// The lending pallet's identifier: its account holds every market's assets.
	pub const LiquidityMarketPalletId: PalletId = PalletId(*b"eq/lendm");
	/// The most a liquidation threshold comes down a block.
	pub const LiquidationThresholdStep: Perbill = Perbill::from_parts(100_000);
}

impl pallet_liquidity_market::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AssetId = AssetKind;
	type Assets = LendingAssets;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Prices from the oracle (index 40).
	type Oracle = Oracle;
	/// A referendum on the `market_admin` track (or root) creates markets.
	type AdminOrigin = EitherOf<EnsureRoot<AccountId>, crate::governance::EnsureMarketAdmin>;
	type PalletId = LiquidityMarketPalletId;
	/// At most 16 markets: the liquidation hook looks at each once a block.
	type MaxMarkets = ConstU32<16>;
	/// A position holds 0.1 EQ while it exists (its storage and its queue entry).
	type PositionDeposit = ConstU128<{ UNIT / 10 }>;
	/// The hook liquidates at most 32 positions a block, over all markets.
	type MaxLiquidationsPerBlock = ConstU32<32>;
	/// Liquidations wait 10 blocks (a minute) after a price turns fresh again.
	type LiquidationGracePeriod = ConstU32<10>;
	/// Governance lowers a liquidation threshold by at most 0.01 % a block: 1 % in 100 blocks
	/// (10 minutes).
	type MaxThresholdStepPerBlock = LiquidationThresholdStep;
	type WeightInfo = pallet_liquidity_market::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = LendingBenchmarkAssets;
}

/// The lending benchmarks lend the development stable asset against the native token.
#[cfg(feature = "runtime-benchmarks")]
pub struct LendingBenchmarkAssets;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_liquidity_market::BenchmarkHelper<AssetKind> for LendingBenchmarkAssets {
	fn assets() -> ((AssetKind, u8), (AssetKind, u8)) {
		use frame_support::traits::fungibles::{Create, Inspect};
		let stable = NativeOrWithId::WithId(STABLE_ASSET_ID);
		if !<Assets as Inspect<AccountId>>::asset_exists(STABLE_ASSET_ID) {
			let admin: AccountId = frame_benchmarking::account("admin", 0, 0);
			<Assets as Create<AccountId>>::create(STABLE_ASSET_ID, admin, true, 1)
				.expect("a new asset");
		}
		((stable, STABLE_DECIMALS), (NativeOrWithId::Native, 12))
	}
}
