//! The liquidity markets' infrastructure: the price oracle.

use crate::{Runtime, RuntimeEvent};
use frame_support::traits::{fungible::NativeOrWithId, ConstU32, EitherOf};
use frame_system::EnsureRoot;

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
