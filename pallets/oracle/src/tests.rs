//! Tests of every call, error and event, and of the guards against manipulation.

#![allow(clippy::arithmetic_side_effects)]

use crate::{mock::*, Error, Event, Feeds, Oracles, PriceOracle, Prices};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use liquidity_market_primitives::FixedU128;
use sp_runtime::{DispatchError, FixedPointNumber, Perbill};

const ASSET: u32 = 7;
const MAX_AGE: u64 = 10;

fn price(value: u32) -> FixedU128 {
	FixedU128::saturating_from_integer(value)
}

fn feeders(
	accounts: &[AccountId],
) -> BoundedVec<AccountId, frame_support::traits::ConstU32<MAX_FEEDERS>> {
	accounts.to_vec().try_into().unwrap()
}

/// Feeders 1, 2, 3; two fresh feeds needed; 10 blocks of freshness; 10 % per block.
fn set_three(asset: u32) {
	assert_ok!(Oracle::set_oracle(
		RuntimeOrigin::root(),
		asset,
		feeders(&[1, 2, 3]),
		2,
		MAX_AGE,
		Perbill::from_percent(10)
	));
}

fn feed(who: AccountId, value: u32) {
	assert_ok!(Oracle::feed(RuntimeOrigin::signed(who), ASSET, price(value)));
}

fn published() -> Option<FixedU128> {
	Prices::<Test>::get(ASSET).map(|record| record.price)
}

#[test]
fn governance_sets_an_oracle() {
	build_and_execute(|| {
		set_three(ASSET);
		System::assert_last_event(
			Event::OracleSet {
				asset: ASSET,
				feeders: feeders(&[1, 2, 3]),
				min_feeds: 2,
				max_age: MAX_AGE,
				max_change_per_block: Perbill::from_percent(10),
			}
			.into(),
		);
		assert_eq!(Oracles::<Test>::count(), 1);
	});
}

#[test]
fn only_governance_sets_or_removes_oracles() {
	build_and_execute(|| {
		assert_noop!(
			Oracle::set_oracle(
				RuntimeOrigin::signed(1),
				ASSET,
				feeders(&[1]),
				1,
				MAX_AGE,
				Perbill::from_percent(10)
			),
			DispatchError::BadOrigin
		);
		set_three(ASSET);
		assert_noop!(
			Oracle::remove_oracle(RuntimeOrigin::signed(1), ASSET),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Oracle::feed(RuntimeOrigin::none(), ASSET, price(1)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn bad_settings_are_refused() {
	build_and_execute(|| {
		let set = |list: &[AccountId], min: u32, age: u64, change: u32| {
			Oracle::set_oracle(
				RuntimeOrigin::root(),
				ASSET,
				feeders(list),
				min,
				age,
				Perbill::from_percent(change),
			)
		};
		assert_noop!(set(&[1, 2], 0, MAX_AGE, 10), Error::<Test>::BadMinFeeds);
		assert_noop!(set(&[1, 2], 3, MAX_AGE, 10), Error::<Test>::BadMinFeeds);
		assert_noop!(set(&[], 1, MAX_AGE, 10), Error::<Test>::BadMinFeeds);
		assert_noop!(set(&[1, 2, 1], 2, MAX_AGE, 10), Error::<Test>::DuplicateFeeder);
		assert_noop!(set(&[1, 2], 1, 0, 10), Error::<Test>::ZeroMaxAge);
		assert_noop!(set(&[1, 2], 1, MAX_AGE, 0), Error::<Test>::ZeroMaxChange);
	});
}

#[test]
fn oracles_are_bounded() {
	build_and_execute(|| {
		for asset in 0..MAX_ASSETS {
			set_three(asset);
		}
		assert_noop!(
			Oracle::set_oracle(
				RuntimeOrigin::root(),
				MAX_ASSETS,
				feeders(&[1]),
				1,
				MAX_AGE,
				Perbill::from_percent(10)
			),
			Error::<Test>::TooManyAssets
		);
		// Changing an existing one is still possible.
		set_three(0);
	});
}

#[test]
fn feeds_need_a_named_feeder_a_known_asset_and_a_positive_price() {
	build_and_execute(|| {
		assert_noop!(
			Oracle::feed(RuntimeOrigin::signed(1), ASSET, price(1)),
			Error::<Test>::UnknownAsset
		);
		set_three(ASSET);
		assert_noop!(
			Oracle::feed(RuntimeOrigin::signed(4), ASSET, price(1)),
			Error::<Test>::NotAFeeder
		);
		assert_noop!(
			Oracle::feed(RuntimeOrigin::signed(1), ASSET, FixedU128::from_inner(0)),
			Error::<Test>::ZeroPrice
		);
	});
}

#[test]
fn the_price_is_the_median_once_enough_feeds_are_fresh() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		System::assert_last_event(Event::Fed { asset: ASSET, feeder: 1, price: price(100) }.into());
		assert_eq!(published(), None, "one feed of the two needed");
		assert_eq!(Oracle::fresh_price(&ASSET), None);
		feed(2, 104);
		System::assert_last_event(
			Event::PriceUpdated { asset: ASSET, price: price(102), median: price(102), feeds: 2 }
				.into(),
		);
		assert_eq!(Oracle::fresh_price(&ASSET), Some((price(102), 1)));
	});
}

#[test]
fn one_liar_cannot_move_the_median() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 101);
		run_to_block(2);
		feed(3, 1_000_000);
		assert_eq!(published(), Some(price(101)));
		feed(3, 1);
		assert_eq!(published(), Some(price(100)));
	});
}

#[test]
fn a_crash_is_followed_at_the_bounded_pace() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		feed(3, 100);
		// The market crashes by 60 %: the price follows by at most 10 % of the previous block's
		// price per block, 100·0.9^(block − 1), until it reaches 40 at block 10.
		for block in 2u64..=11 {
			run_to_block(block);
			feed(1, 40);
			feed(2, 40);
			let expected = (100.0 * 0.9f64.powi(block as i32 - 1)).max(40.0);
			let got = published().unwrap().to_float();
			assert!((got - expected).abs() < 1e-9, "block {block}: {got} against {expected}");
		}
		assert_eq!(published(), Some(price(40)));
	});
}

#[test]
fn feeds_within_one_block_cannot_compound_the_bound() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		run_to_block(2);
		// Many feeds in one block: the move stays within 10 % of the previous block's price.
		for _ in 0..5 {
			feed(1, 10);
			feed(2, 10);
			feed(3, 10);
		}
		assert_eq!(published(), Some(price(90)));
		// After three quiet blocks the bound covers all of them.
		run_to_block(5);
		feed(1, 10);
		assert_eq!(published(), Some(price(63)));
	});
}

#[test]
fn silent_feeders_drop_out_and_the_price_goes_stale() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		// Feeder 2 goes silent; 1 and 3 go on.
		run_to_block(1 + MAX_AGE + 1);
		feed(1, 95);
		assert_eq!(published(), Some(price(100)), "only one fresh feed: no update");
		feed(3, 97);
		// Feeder 2's old 100 is not counted: the median of 95 and 97.
		assert_eq!(published(), Some(price(96)));
		// Everyone goes silent: after max_age the price is stale.
		let updated = System::block_number();
		run_to_block(updated + MAX_AGE);
		assert!(Oracle::fresh_price(&ASSET).is_some());
		run_to_block(updated + MAX_AGE + 1);
		assert_eq!(Oracle::fresh_price(&ASSET), None);
		assert_eq!(published(), Some(price(96)), "a stale price stays readable");
	});
}

#[test]
fn a_price_fresh_again_records_when() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		run_to_block(5);
		feed(1, 100);
		assert_eq!(Oracle::fresh_price(&ASSET), Some((price(100), 1)), "still the same spell");
		run_to_block(5 + MAX_AGE + 1);
		assert_eq!(Oracle::fresh_price(&ASSET), None);
		feed(1, 100);
		feed(2, 100);
		assert_eq!(Oracle::fresh_price(&ASSET), Some((price(100), 5 + MAX_AGE + 1)));
	});
}

#[test]
fn replacing_feeders_removes_the_old_feeds() {
	build_and_execute(|| {
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		assert_ok!(Oracle::set_oracle(
			RuntimeOrigin::root(),
			ASSET,
			feeders(&[2, 4]),
			1,
			MAX_AGE,
			Perbill::from_percent(10)
		));
		assert!(!Feeds::<Test>::contains_key(ASSET, 1));
		assert!(Feeds::<Test>::contains_key(ASSET, 2));
		assert_noop!(
			Oracle::feed(RuntimeOrigin::signed(1), ASSET, price(1)),
			Error::<Test>::NotAFeeder
		);
		assert_ok!(Oracle::feed(RuntimeOrigin::signed(4), ASSET, price(100)));
	});
}

#[test]
fn removing_an_oracle_removes_its_feeds_and_price() {
	build_and_execute(|| {
		assert_noop!(
			Oracle::remove_oracle(RuntimeOrigin::root(), ASSET),
			Error::<Test>::UnknownAsset
		);
		set_three(ASSET);
		feed(1, 100);
		feed(2, 100);
		assert_ok!(Oracle::remove_oracle(RuntimeOrigin::root(), ASSET));
		System::assert_last_event(Event::OracleRemoved { asset: ASSET }.into());
		assert_eq!(Oracles::<Test>::count(), 0);
		assert_eq!(Feeds::<Test>::iter_prefix(ASSET).count(), 0);
		assert_eq!(published(), None);
		assert_eq!(Oracle::fresh_price(&ASSET), None);
	});
}

#[test]
fn try_state_catches_a_stray_feed() {
	new_test_ext().execute_with(|| {
		set_three(ASSET);
		Feeds::<Test>::insert(ASSET, 9, crate::Feed { price: price(1), posted_at: 1 });
		assert!(Oracle::do_try_state(1).is_err());
	});
}

#[test]
fn a_new_oracle_keeps_its_declared_weight_and_a_replacement_is_refunded() {
	use crate::WeightInfo;
	build_and_execute(|| {
		let set = || {
			Oracle::set_oracle(
				RuntimeOrigin::root(),
				ASSET,
				feeders(&[1, 2, 3]),
				2,
				MAX_AGE,
				Perbill::from_percent(10),
			)
			.unwrap()
		};
		// A new asset also counts the oracles, which the benchmark's replacing path does not.
		assert_eq!(set().actual_weight, None);
		assert_eq!(set().actual_weight, Some(<() as WeightInfo>::set_oracle(3)));
		feed(1, 100);
		let info = Oracle::feed(RuntimeOrigin::signed(2), ASSET, price(100)).unwrap();
		assert_eq!(info.actual_weight, Some(<() as WeightInfo>::feed(3)));
	});
}
