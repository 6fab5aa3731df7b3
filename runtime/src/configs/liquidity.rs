//! The liquidity markets' infrastructure: assets (`pallet-assets`, with a development stable
//! asset at genesis) and the price oracle.

use crate::{AccountId, Balance, Balances, Runtime, RuntimeEvent, UNIT};
use frame_support::traits::{
	fungible::NativeOrWithId, AsEnsureOriginWithArg, ConstU128, ConstU32, EitherOf,
};
use frame_system::{EnsureRoot, EnsureSigned};

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
