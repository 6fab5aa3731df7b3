//! # Oracle pallet
//!
//! Prices of assets for the liquidity markets, from feeders that governance names.
//!
//! - [`Pallet::set_oracle`] (governance): names an asset's feeders, the fewest fresh feeds a
//!   price needs, how many blocks a feed stays fresh, and how far the price may move per block.
//!   [`Pallet::remove_oracle`] removes an asset with its feeds and price.
//! - [`Pallet::feed`] (a named feeder): posts the feeder's price. The pallet then takes the
//!   **median** of the feeds posted within the last `max_age` blocks; with at least
//!   `min_feeds` of them the published price moves towards that median by at most
//!   `max_change_per_block` of the previous block's price per block since the last update.
//! - A price is **fresh** while its last update is at most `max_age` blocks old ([`PriceOracle`]
//!   for other pallets). A stale price stays readable, for display, but a consumer must not lend
//!   or liquidate on it: the liquidity markets stop borrowing and collateral withdrawals while
//!   it is stale and resume liquidations a grace period after it is fresh again (the block it
//!   became fresh is recorded as `fresh_since`).
//!
//! **Against manipulation.** One feeder cannot move a median of three or more past the others'
//! prices. A feeder that stops feeding drops out after `max_age` blocks, so it cannot pin the
//! price either; if too many stop, the price goes stale rather than following the rest. Even a
//! majority needs `1/max_change_per_block` blocks to move the price by its own size, in plain
//! sight.
//!
//! Storage is bounded: at most [`Config::MaxAssets`] assets of at most
//! [`Config::MaxFeedersPerAsset`] feeders, one feed each, created only for accounts governance
//! named (so it carries no deposit). The math lives in
//! [`liquidity_market_primitives::oracle`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use liquidity_market_primitives::FixedU128;
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// An asset's oracle settings for runtime `T`.
pub type OracleSettingsOf<T> = OracleSettings<
	<T as frame_system::Config>::AccountId,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxFeedersPerAsset,
>;

/// A feed for runtime `T`.
pub type FeedOf<T> = Feed<frame_system::pallet_prelude::BlockNumberFor<T>>;

/// A published price for runtime `T`.
pub type PriceRecordOf<T> = PriceRecord<frame_system::pallet_prelude::BlockNumberFor<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::Perbill;

	/// The pallet's storage version.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// What identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord;

		/// Who sets and removes oracles: governance.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most assets with an oracle.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// The most feeders an asset may have.
		#[pallet::constant]
		type MaxFeedersPerAsset: Get<u32>;

		/// Weights of the calls, from the benchmarks.
		type WeightInfo: WeightInfo;

		/// Makes asset identifiers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId>;
	}

	/// Each asset's oracle settings, by asset.
	#[pallet::storage]
	pub type Oracles<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AssetId, OracleSettingsOf<T>>;

	/// Each feeder's latest feed, by asset and feeder.
	#[pallet::storage]
	pub type Feeds<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		Blake2_128Concat,
		T::AccountId,
		FeedOf<T>,
	>;

	/// Each asset's published price, by asset.
	#[pallet::storage]
	pub type Prices<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, PriceRecordOf<T>>;

	/// The pallet's events.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An asset's oracle was set or changed.
		OracleSet {
			/// The asset.
			asset: T::AssetId,
			/// Its feeders.
			feeders: BoundedVec<T::AccountId, T::MaxFeedersPerAsset>,
			/// The fewest fresh feeds a price needs.
			min_feeds: u32,
			/// Blocks a feed and the price stay fresh.
			max_age: BlockNumberFor<T>,
			/// How far the price may move per block.
			max_change_per_block: Perbill,
		},
		/// An asset's oracle, feeds and price were removed.
		OracleRemoved {
			/// The asset.
			asset: T::AssetId,
		},
		/// A feeder posted a price.
		Fed {
			/// The asset.
			asset: T::AssetId,
			/// The feeder.
			feeder: T::AccountId,
			/// Its price of one whole unit.
			price: FixedU128,
		},
		/// The published price was updated from the fresh feeds.
		PriceUpdated {
			/// The asset.
			asset: T::AssetId,
			/// The new published price.
			price: FixedU128,
			/// The median of the fresh feeds, which the price moves towards.
			median: FixedU128,
			/// How many fresh feeds there were.
			feeds: u32,
		},
	}

	/// The pallet's errors.
	#[pallet::error]
	pub enum Error<T> {
		/// The asset has no oracle.
		UnknownAsset,
		/// The caller is not one of the asset's feeders.
		NotAFeeder,
		/// A price must be positive.
		ZeroPrice,
		/// `min_feeds` must be at least one and at most the number of feeders.
		BadMinFeeds,
		/// A feeder is named twice.
		DuplicateFeeder,
		/// `max_age` must be at least one block.
		ZeroMaxAge,
		/// `max_change_per_block` must be positive, or the price could never move.
		ZeroMaxChange,
		/// There are already `MaxAssets` oracles.
		TooManyAssets,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAssets::get() > 0, "MaxAssets must be positive");
			assert!(T::MaxFeedersPerAsset::get() > 0, "MaxFeedersPerAsset must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state(now)
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets `asset`'s oracle: its `feeders` (distinct), the fewest fresh feeds a price needs
		/// (`min_feeds`, between 1 and the number of feeders), the blocks a feed and the price
		/// stay fresh (`max_age`, at least 1) and the most the price may move per block
		/// (`max_change_per_block`, positive). Feeds of accounts that are no longer feeders are
		/// removed; the published price stays and goes stale unless fed. Governance only.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_oracle(T::MaxFeedersPerAsset::get()))]
		pub fn set_oracle(
			origin: OriginFor<T>,
			asset: T::AssetId,
			feeders: BoundedVec<T::AccountId, T::MaxFeedersPerAsset>,
			min_feeds: u32,
			max_age: BlockNumberFor<T>,
			max_change_per_block: Perbill,
		) -> DispatchResultWithPostInfo {
			T::AdminOrigin::ensure_origin(origin)?;
			let settings = OracleSettings { feeders, min_feeds, max_age, max_change_per_block };
			let replaced = Self::do_set_oracle(asset, settings)?;
			Ok(replaced.map(T::WeightInfo::set_oracle).into())
		}

		/// Removes `asset`'s oracle, its feeds and its price. Governance only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_oracle(T::MaxFeedersPerAsset::get()))]
		pub fn remove_oracle(
			origin: OriginFor<T>,
			asset: T::AssetId,
		) -> DispatchResultWithPostInfo {
			T::AdminOrigin::ensure_origin(origin)?;
			let feeders = Self::do_remove_oracle(asset)?;
			Ok(Some(T::WeightInfo::remove_oracle(feeders)).into())
		}

		/// Posts the caller's price of one whole unit of `asset` (positive), as one of its
		/// feeders, and updates the published price from the fresh feeds.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::feed(T::MaxFeedersPerAsset::get()))]
		pub fn feed(
			origin: OriginFor<T>,
			asset: T::AssetId,
			price: FixedU128,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let feeders = Self::do_feed(who, asset, price)?;
			Ok(Some(T::WeightInfo::feed(feeders)).into())
		}
	}
}
