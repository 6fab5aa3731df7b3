//! Benchmarks of every call in its costliest path, in the number of feeders `n`, for
//! `frame-omni-bencher` to turn into `weights.rs`.

use super::*;
use crate::pallet::{Feeds, Oracles, Prices};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;
use sp_runtime::{FixedPointNumber, Perbill};

const SEED: u32 = 0;

/// `n` feeders named `name`.
fn feeders<T: Config>(
	name: &'static str,
	n: u32,
) -> BoundedVec<T::AccountId, T::MaxFeedersPerAsset> {
	let list: Vec<T::AccountId> = (0..n).map(|index| account(name, index, SEED)).collect();
	list.try_into().expect("at most MaxFeedersPerAsset")
}

/// An asset with `n` feeders, each with a fresh feed, and a published price.
fn fed_asset<T: Config>(n: u32) -> (T::AssetId, BoundedVec<T::AccountId, T::MaxFeedersPerAsset>) {
	let asset = T::BenchmarkHelper::asset(0);
	let list = feeders::<T>("feeder", n);
	Pallet::<T>::do_set_oracle(
		asset.clone(),
		OracleSettings {
			feeders: list.clone(),
			min_feeds: n,
			max_age: 10u32.into(),
			max_change_per_block: Perbill::from_percent(10),
		},
	)
	.expect("valid settings");
	for (index, feeder) in (0u32..).zip(list.iter()) {
		let price = FixedU128::saturating_from_integer(index.saturating_add(100));
		Pallet::<T>::do_feed(feeder.clone(), asset.clone(), price).expect("a named feeder");
	}
	(asset, list)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Replacing an asset's `n` feeders, all with feeds, by as many new ones as allowed.
	#[benchmark]
	fn set_oracle(n: Linear<1, { T::MaxFeedersPerAsset::get() }>) {
		let (asset, _) = fed_asset::<T>(n);
		let new = feeders::<T>("new", T::MaxFeedersPerAsset::get());

		#[extrinsic_call]
		_(RawOrigin::Root, asset.clone(), new, 1, 10u32.into(), Perbill::from_percent(10));

		assert_eq!(Feeds::<T>::iter_prefix(&asset).count(), 0);
	}

	/// Removing an asset with `n` feeders, all with feeds, and a price.
	#[benchmark]
	fn remove_oracle(n: Linear<1, { T::MaxFeedersPerAsset::get() }>) {
		let (asset, _) = fed_asset::<T>(n);

		#[extrinsic_call]
		_(RawOrigin::Root, asset.clone());

		assert!(!Oracles::<T>::contains_key(&asset));
		assert!(!Prices::<T>::contains_key(&asset));
	}

	/// A feed to an asset with `n` feeders, all with fresh feeds: the median of `n` and a price
	/// update.
	#[benchmark]
	fn feed(n: Linear<1, { T::MaxFeedersPerAsset::get() }>) {
		let (asset, list) = fed_asset::<T>(n);
		let caller = list[0].clone();
		frame_system::Pallet::<T>::set_block_number(2u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), asset.clone(), FixedU128::saturating_from_integer(105u32));

		assert_eq!(Prices::<T>::get(&asset).map(|record| record.updated_at), Some(2u32.into()));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
