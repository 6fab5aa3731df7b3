//! What the calls do, the price interface, and the invariants.

use crate::{pallet::*, Feed, OracleSettingsOf, PriceOracle, PriceRecord, PriceRecordOf};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidity_market_primitives::{bounded_move, median, FixedU128};
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

impl<T: Config> Pallet<T> {
	/// Checks and stores `asset`'s settings, removing the feeds of accounts no longer named.
	/// Returns how many feeders the asset had before (the weight's size), or `None` for a new
	/// asset (which also counts the oracles: the benchmark's replacing path does not, so a new
	/// asset keeps the declared weight).
	pub(crate) fn do_set_oracle(
		asset: T::AssetId,
		settings: OracleSettingsOf<T>,
	) -> Result<Option<u32>, DispatchError> {
		let count = u32::try_from(settings.feeders.len()).unwrap_or(u32::MAX);
		ensure!(settings.min_feeds >= 1 && settings.min_feeds <= count, Error::<T>::BadMinFeeds);
		ensure!(!settings.max_age.is_zero(), Error::<T>::ZeroMaxAge);
		ensure!(!settings.max_change_per_block.is_zero(), Error::<T>::ZeroMaxChange);
		let mut sorted: Vec<&T::AccountId> = settings.feeders.iter().collect();
		sorted.sort();
		ensure!(sorted.windows(2).all(|pair| pair[0] != pair[1]), Error::<T>::DuplicateFeeder);
		let previous = Oracles::<T>::get(&asset);
		if previous.is_none() {
			ensure!(Oracles::<T>::count() < T::MaxAssets::get(), Error::<T>::TooManyAssets);
		}
		let replaced = previous.as_ref().map(|old| old.feeders.len());
		if let Some(old) = previous {
			for feeder in old.feeders.iter().filter(|f| !settings.feeders.contains(f)) {
				Feeds::<T>::remove(&asset, feeder);
			}
		}
		Oracles::<T>::insert(&asset, &settings);
		Self::deposit_event(Event::OracleSet {
			asset,
			feeders: settings.feeders,
			min_feeds: settings.min_feeds,
			max_age: settings.max_age,
			max_change_per_block: settings.max_change_per_block,
		});
		Ok(replaced.map(|count| u32::try_from(count).unwrap_or(u32::MAX)))
	}

	/// Removes `asset`'s settings, feeds and price. Returns how many feeders it had.
	pub(crate) fn do_remove_oracle(asset: T::AssetId) -> Result<u32, DispatchError> {
		let settings = Oracles::<T>::take(&asset).ok_or(Error::<T>::UnknownAsset)?;
		for feeder in settings.feeders.iter() {
			Feeds::<T>::remove(&asset, feeder);
		}
		Prices::<T>::remove(&asset);
		Self::deposit_event(Event::OracleRemoved { asset });
		Ok(u32::try_from(settings.feeders.len()).unwrap_or(u32::MAX))
	}

	/// Records `who`'s feed and updates the published price. Returns how many feeders the asset
	/// has (the weight's size).
	pub(crate) fn do_feed(
		who: T::AccountId,
		asset: T::AssetId,
		price: FixedU128,
	) -> Result<u32, DispatchError> {
		let settings = Oracles::<T>::get(&asset).ok_or(Error::<T>::UnknownAsset)?;
		ensure!(settings.feeders.contains(&who), Error::<T>::NotAFeeder);
		ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
		let now = frame_system::Pallet::<T>::block_number();
		Feeds::<T>::insert(&asset, &who, Feed { price, posted_at: now });
		Self::deposit_event(Event::Fed { asset: asset.clone(), feeder: who, price });
		Self::update_price(asset, &settings, now);
		Ok(u32::try_from(settings.feeders.len()).unwrap_or(u32::MAX))
	}

	/// The prices of `asset`'s feeds that are fresh at `now`.
	fn fresh_feeds(
		asset: &T::AssetId,
		settings: &OracleSettingsOf<T>,
		now: BlockNumberFor<T>,
	) -> Vec<FixedU128> {
		settings
			.feeders
			.iter()
			.filter_map(|feeder| Feeds::<T>::get(asset, feeder))
			.filter(|feed| now.saturating_sub(feed.posted_at) <= settings.max_age)
			.map(|feed| feed.price)
			.collect()
	}

	/// Moves `asset`'s published price towards the median of its fresh feeds, if there are
	/// enough of them.
	fn update_price(asset: T::AssetId, settings: &OracleSettingsOf<T>, now: BlockNumberFor<T>) {
		let mut fresh = Self::fresh_feeds(&asset, settings, now);
		let count = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
		if count < settings.min_feeds {
			return;
		}
		let Some(target) = median(&mut fresh) else { return };
		let record = match Prices::<T>::get(&asset) {
			None => PriceRecord {
				price: target,
				updated_at: now,
				fresh_since: now,
				anchor: target,
				anchor_blocks: 0,
			},
			Some(old) => {
				// A new block starts from the price the last updating block ended with.
				let (anchor, anchor_blocks) = if now > old.updated_at {
					(old.price, now.saturating_sub(old.updated_at).unique_saturated_into())
				} else {
					(old.anchor, old.anchor_blocks)
				};
				let was_stale = now.saturating_sub(old.updated_at) > settings.max_age;
				PriceRecord {
					price: bounded_move(
						anchor,
						target,
						settings.max_change_per_block,
						anchor_blocks,
					),
					updated_at: now,
					fresh_since: if was_stale { now } else { old.fresh_since },
					anchor,
					anchor_blocks,
				}
			},
		};
		Prices::<T>::insert(&asset, record);
		Self::deposit_event(Event::PriceUpdated {
			asset,
			price: record.price,
			median: target,
			feeds: count,
		});
	}

	/// `asset`'s published price if it is fresh at `now`.
	pub fn fresh_record(asset: &T::AssetId, now: BlockNumberFor<T>) -> Option<PriceRecordOf<T>> {
		let settings = Oracles::<T>::get(asset)?;
		let record = Prices::<T>::get(asset)?;
		(now.saturating_sub(record.updated_at) <= settings.max_age).then_some(record)
	}

	/// Checks the pallet's invariants:
	/// - at most `MaxAssets` oracles, each with distinct feeders, `1 ≤ min_feeds ≤ feeders`,
	///   `max_age ≥ 1` and a positive bound on the move;
	/// - every feed belongs to a named feeder of an asset with an oracle, is positive and was
	///   not posted in the future;
	/// - every price belongs to an asset with an oracle, is positive, and
	///   `fresh_since ≤ updated_at ≤ now`.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state(now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(Oracles::<T>::count() <= T::MaxAssets::get(), "more oracles than MaxAssets");
		ensure!(
			Oracles::<T>::count() as usize == Oracles::<T>::iter_keys().count(),
			"the oracle count differs from the oracles"
		);
		for (_, settings) in Oracles::<T>::iter() {
			let count = u32::try_from(settings.feeders.len()).unwrap_or(u32::MAX);
			ensure!(
				settings.min_feeds >= 1 && settings.min_feeds <= count,
				"min_feeds outside 1..=feeders"
			);
			ensure!(!settings.max_age.is_zero(), "a zero max_age");
			ensure!(!settings.max_change_per_block.is_zero(), "a zero bound on the move");
			let mut sorted: Vec<&T::AccountId> = settings.feeders.iter().collect();
			sorted.sort();
			ensure!(sorted.windows(2).all(|pair| pair[0] != pair[1]), "a feeder named twice");
		}
		for (asset, feeder, feed) in Feeds::<T>::iter() {
			let settings = Oracles::<T>::get(&asset).ok_or("a feed for an asset without oracle")?;
			ensure!(settings.feeders.contains(&feeder), "a feed from an account not named");
			ensure!(!feed.price.is_zero(), "a zero feed");
			ensure!(feed.posted_at <= now, "a feed from the future");
		}
		for (asset, record) in Prices::<T>::iter() {
			ensure!(Oracles::<T>::contains_key(&asset), "a price for an asset without oracle");
			ensure!(!record.price.is_zero(), "a zero price");
			ensure!(
				record.fresh_since <= record.updated_at && record.updated_at <= now,
				"a price's blocks out of order"
			);
		}
		Ok(())
	}
}

impl<T: Config> PriceOracle<T::AssetId, BlockNumberFor<T>> for Pallet<T> {
	fn fresh_price(asset: &T::AssetId) -> Option<(FixedU128, BlockNumberFor<T>)> {
		let now = frame_system::Pallet::<T>::block_number();
		Self::fresh_record(asset, now).map(|record| (record.price, record.fresh_since))
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_fresh_price(asset: &T::AssetId, price: FixedU128) {
		if !Oracles::<T>::contains_key(asset) {
			let feeder: T::AccountId = frame_benchmarking::account("feeder", 0, 0);
			let settings = crate::OracleSettings {
				feeders: BoundedVec::truncate_from(alloc::vec![feeder]),
				min_feeds: 1,
				max_age: 1_000_000u32.into(),
				max_change_per_block: sp_runtime::Perbill::from_percent(10),
			};
			Oracles::<T>::insert(asset, settings);
		}
		let now = frame_system::Pallet::<T>::block_number();
		let record = PriceRecord {
			price,
			updated_at: now,
			fresh_since: Zero::zero(),
			anchor: price,
			anchor_blocks: 0,
		};
		Prices::<T>::insert(asset, record);
	}
}
