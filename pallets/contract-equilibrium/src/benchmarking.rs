//! Benchmarks of every call and of the per-block work, in the number of bids `n` (or markets
//! `m`), for `frame-omni-bencher` to turn into `weights.rs`.

use super::*;
use crate::pallet::{Bids, Markets, NextMarketId};
use contract_equilibrium_primitives::FixedU128;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get, Hooks};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::Saturating;

const SEED: u32 = 0;

/// An account with plenty of funds.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	T::Currency::set_balance(&who, budget::<T>().saturating_mul(1_000u32.into()));
	who
}

/// A binding market (capacity 25) with the Newton–secant rule, long epochs, paying `payee`.
fn market_params<T: Config>(payee: T::AccountId) -> MarketParamsOf<T> {
	MarketParams {
		capacity: FixedU128::from_u32(25),
		unit_fee: FixedU128::from_rational(1, 2),
		fixed_fee: FixedU128::from_u32(1),
		step_rule: StepRule::SafeguardedNewton {
			max_relative_change: Perbill::from_percent(50),
			min_change: FixedU128::from_u32(1),
		},
		price_floor: FixedU128::from_rational(1, 10),
		price_ceiling: FixedU128::from_u32(1_000),
		epoch_length: 1_000,
		tolerance: FixedU128::from_rational(1, 1_000_000),
		payee,
	}
}

/// Creates a market and returns its identifier.
fn new_market<T: Config>() -> MarketId {
	let payee = funded::<T>("payee", 0);
	T::Currency::set_balance(
		&T::FeeDestination::get(),
		T::BidDeposit::get().saturating_mul(1_000u32.into()),
	);
	let id = NextMarketId::<T>::get();
	Pallet::<T>::do_create_market(market_params::<T>(payee)).expect("valid parameters");
	id
}

/// A paper-style agent, varied by `index` so that agents leave at different prices; every one
/// of them demands something at the benchmark market's floor (`β + τ + μ_min < 5 ≤ α`), so that
/// settling at the floor charges every bid.
fn curve(index: u32) -> DemandCurve {
	DemandCurve::LogUtility {
		alpha: FixedU128::from_u32(5u32.saturating_add(index % 16)),
		beta: FixedU128::from_rational(u128::from(5u32.saturating_add(index % 39)), 10),
	}
}

/// A budget large enough for any settlement in these benchmarks.
fn budget<T: Config>() -> BalanceOf<T> {
	T::BidDeposit::get().saturating_mul(1_000_000u32.into())
}

/// Fills `market` with `count` bids from distinct bidders.
fn add_bids<T: Config>(market: MarketId, count: u32) {
	for index in 0..count {
		let who = funded::<T>("bidder", index);
		Pallet::<T>::do_submit_demand(who, market, curve(index), budget::<T>())
			.expect("room for the bid");
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_market() -> Result<(), BenchmarkError> {
		let origin = T::MarketAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let params = market_params::<T>(funded::<T>("payee", 0));

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert!(Markets::<T>::contains_key(0));
		Ok(())
	}

	#[benchmark]
	fn set_market_params() -> Result<(), BenchmarkError> {
		let origin = T::MarketAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let market = new_market::<T>();
		let mut params = market_params::<T>(funded::<T>("payee", 1));
		params.capacity = FixedU128::from_u32(50);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market, params);

		assert_eq!(
			Markets::<T>::get(market).map(|m| m.params.capacity),
			Some(FixedU128::from_u32(50))
		);
		Ok(())
	}

	/// A new bid in a market that already holds `n` bids.
	#[benchmark]
	fn submit_demand(n: Linear<0, { T::MaxBidders::get().saturating_sub(1) }>) {
		let market = new_market::<T>();
		add_bids::<T>(market, n);
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), market, curve(n), budget::<T>());

		assert_eq!(Bids::<T>::decode_len(market), Some((n as usize).saturating_add(1)));
	}

	/// Withdrawing the last of `n` bids.
	#[benchmark]
	fn withdraw_demand(n: Linear<1, { T::MaxBidders::get() }>) {
		let market = new_market::<T>();
		add_bids::<T>(market, n);
		let caller: T::AccountId = account("bidder", n.saturating_sub(1), SEED);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market);

		assert!(Bids::<T>::get(market)
			.iter()
			.any(|bid| bid.bidder == caller && bid.next == NextOrder::Withdraw));
	}

	/// The per-block hook's fixed part with `m` markets and no bids (reading the market count
	/// and each market).
	#[benchmark]
	fn on_initialize_base(m: Linear<0, { T::MaxMarkets::get() }>) {
		for _ in 0..m {
			new_market::<T>();
		}
		let now: BlockNumberFor<T> = 2u32.into();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	/// One price step of a market with `n` bids: reading them, evaluating `S` and its slope,
	/// the Newton–secant step (the costlier rule: it evaluates `S` twice), writing the market.
	#[benchmark]
	fn step_price(n: Linear<0, { T::MaxBidders::get() }>) {
		let market_id = new_market::<T>();
		add_bids::<T>(market_id, n);
		// Start above μ* so that the step takes the two-evaluation Newton–secant branch.
		let mut market = Markets::<T>::get(market_id).expect("created");
		market.price = FixedU128::from_u32(500);

		#[block]
		{
			let bids = Bids::<T>::get(market_id);
			Pallet::<T>::step_price(market_id, &mut market, &bids);
			Markets::<T>::insert(market_id, &market);
		}

		assert!(market.price < FixedU128::from_u32(500));
	}

	/// Settling an epoch of a market with `n` bids, every one of them counted, its backed demand
	/// evaluated, rationed, charged (where it demands at the price) and withdrawing (so that
	/// every hold is also released).
	#[benchmark]
	fn settle_epoch(n: Linear<0, { T::MaxBidders::get() }>) {
		let market_id = new_market::<T>();
		add_bids::<T>(market_id, n);
		let mut market = Markets::<T>::get(market_id).expect("created");
		let mut bids = Bids::<T>::get(market_id);
		for bid in bids.iter_mut() {
			bid.next = NextOrder::Withdraw;
		}
		let now: BlockNumberFor<T> = 2_000u32.into();

		#[block]
		{
			Pallet::<T>::settle(market_id, &mut market, &mut bids, now);
			Bids::<T>::insert(market_id, &bids);
			Markets::<T>::insert(market_id, &market);
		}

		assert!(bids.is_empty());
		assert_eq!(market.epoch, 1);
		// The worst case: every bid allocated and charged.
		let outcome = crate::pallet::EpochOutcomes::<T>::get(market_id, 0).expect("settled");
		assert_eq!(outcome.bidders, n);
		assert!(n == 0 || outcome.participation == Perbill::one());
	}

	/// Closing a market with `n` bids and a full history: every bid's holds released, every
	/// recorded epoch removed.
	#[benchmark]
	fn close_market(n: Linear<0, { T::MaxBidders::get() }>) -> Result<(), BenchmarkError> {
		let origin = T::MarketAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let market = new_market::<T>();
		add_bids::<T>(market, n);
		let outcome = EpochOutcome {
			price: FixedU128::from_u32(1),
			total_allocated: FixedU128::from_u32(25),
			total_surplus: FixedU128::from_u32(10),
			fairness: Perbill::one(),
			participation: Perbill::one(),
			bidders: n,
			total_paid: budget::<T>(),
			capacity: FixedU128::from_u32(25),
		};
		for epoch in 0..T::EpochHistoryDepth::get() {
			crate::pallet::EpochOutcomes::<T>::insert(market, epoch, outcome.clone());
		}

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market);

		assert!(!Markets::<T>::contains_key(market));
		assert!(Bids::<T>::get(market).is_empty());
		assert_eq!(crate::pallet::EpochOutcomes::<T>::iter_prefix(market).count(), 0);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
