//! Benchmarks of every call and of the per-block work, in the number of bids `n` a market holds
//! (up to 100 000), the epochs `e` a call settles, or the markets `m`, for `frame-omni-bencher`
//! to turn into `weights.rs`.
//!
//! A market of `n` bids is set up as `n` calls to `submit_demand` would leave it — a bid per
//! bidder, the book's totals and the scheduled change when the orders leave — but written
//! directly, with sixteen kinds of orders entered once each and counted `n/16` times, so that
//! a setup of 100 000 bids takes a second rather than an hour.

use super::*;
use crate::pallet::{BookChanges, Books, Clearings, Markets, NextMarketId};
use alloc::vec::Vec;
use contract_equilibrium_primitives::{
	book::GRID_POINTS, BookTotals, Clearing, FixedU128, PriceGrid,
};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get, Hooks};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::Saturating;

const SEED: u32 = 0;

/// The most bids the benchmarks put in a market. The benchmarks run as unit tests too (in the
/// mock, natively, in debug), where a thousand bids show they work.
#[cfg(not(test))]
const MAX_BIDS: u32 = 100_000;
#[cfg(test)]
const MAX_BIDS: u32 = 1_000;

/// How many kinds of orders fill a benchmark market.
const KINDS: u32 = 16;

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

/// Creates a market and returns its identifier; funds the escrow account and the fee
/// destination.
fn new_market<T: Config>() -> MarketId {
	let payee = funded::<T>("payee", 0);
	T::Currency::set_balance(
		&T::FeeDestination::get(),
		T::BidDeposit::get().saturating_mul(1_000u32.into()),
	);
	T::Currency::set_balance(
		&Pallet::<T>::escrow_account(),
		budget::<T>().saturating_mul(1_000_000u32.into()),
	);
	let id = NextMarketId::<T>::get();
	Pallet::<T>::do_create_market(market_params::<T>(payee)).expect("valid parameters");
	id
}

/// A log-utility agent, varied by `index` so that agents leave at different prices, that wants
/// thousands of units (its budget caps it to a few hundred). Large quantities are the costly
/// case of the fixed-point arithmetic (products beyond 128 bits take the slow path), so the book
/// is as costly to price with ten bids as with a hundred thousand: the benchmarks measure the
/// worst case at every size.
fn curve(index: u32) -> DemandCurve {
	DemandCurve::LogUtility {
		alpha: FixedU128::from_u32(5_000u32.saturating_add((index % 16).saturating_mul(1_000))),
		beta: FixedU128::from_rational(u128::from(5u32.saturating_add(index % 39)), 10),
	}
}

/// A budget per epoch large enough for any settlement in these benchmarks.
fn budget<T: Config>() -> BalanceOf<T> {
	T::BidDeposit::get().saturating_mul(1_000u32.into())
}

/// An order of `curve(index)` with the benchmark budget, counting in `from .. until`.
fn terms<T: Config>(
	params: &MarketParamsOf<T>,
	index: u32,
	from: EpochIndex,
	until: EpochIndex,
) -> OrderTermsOf<T> {
	Pallet::<T>::order_terms(curve(index), budget::<T>(), from, until, params)
}

/// Fills `market` with `count` bids counting in epoch 0 and leaving when epoch 1 starts, as
/// `count` calls to `submit_demand` would: their records, the book's totals and the change that
/// removes them.
fn fill_book<T: Config>(market: MarketId, count: u32) {
	let params = Markets::<T>::get(market).expect("created").params;
	let grid = PriceGrid::of(&params);
	// The sixteen kinds of orders, entered on the grid once.
	let kinds: Vec<OrderTermsOf<T>> =
		(0..KINDS).map(|kind| terms::<T>(&params, kind, 0, 1)).collect();
	let mut totals = BookTotals::default();
	for (kind, order) in (0u32..).zip(kinds.iter()) {
		let share = count.checked_div(KINDS).unwrap_or(0);
		let times = share.saturating_add(u32::from(kind < count.checked_rem(KINDS).unwrap_or(0)));
		let entered = Pallet::<T>::grid_order(order, &params);
		for index in 0..usize::from(order.exit).min(GRID_POINTS) {
			let units = entered.units_at(&grid, index);
			totals.units[index] = totals.units[index]
				.saturating_add(units.saturating_mul(FixedU128::from_u32(times)));
			totals.participants[index] = totals.participants[index].saturating_add(times);
		}
	}
	for (index, order) in (0..count).zip(kinds.iter().cycle()) {
		let who: T::AccountId = account("bidder", index, SEED);
		let bid = Bid {
			order: *order,
			next: None,
			settled_to: 0,
			escrow: budget::<T>(),
			deposit: T::BidDeposit::get(),
		};
		crate::pallet::Bids::<T>::insert(market, who, bid);
	}
	Books::<T>::insert(market, Book { totals: totals.clone(), counted: count, bids: count });
	BookChanges::<T>::insert(
		market,
		1,
		BookChange {
			entering: BookTotals::default(),
			leaving: totals,
			entering_count: 0,
			leaving_count: count,
		},
	);
}

/// Gives `who` a bid in `market` whose order and pending order span `2·MaxOrderEpochs` epochs,
/// with the market's first `settled` epochs already cleared: settling it charges `settled`
/// epochs.
fn bid_with_epochs_to_settle<T: Config>(market: MarketId, who: &T::AccountId, settled: u32) {
	let params = Markets::<T>::get(market).expect("created").params;
	let span = T::MaxOrderEpochs::get();
	let order = terms::<T>(&params, 3, 0, span);
	let next = terms::<T>(&params, 5, span, span.saturating_mul(2));
	crate::pallet::Bids::<T>::insert(
		market,
		who,
		Bid {
			order,
			next: Some(next),
			settled_to: 0,
			escrow: budget::<T>().saturating_mul(span.saturating_mul(2).into()),
			deposit: T::BidDeposit::get(),
		},
	);
	Books::<T>::mutate(market, |book| {
		if let Some(book) = book {
			book.bids = book.bids.saturating_add(1);
		}
	});
	let clearing = Clearing {
		price: FixedU128::from_u32(1),
		lower: 400,
		lower_weight: FixedU128::from_rational(1, 2),
		upper_weight: FixedU128::from_rational(1, 3),
	};
	for epoch in 0..settled {
		Clearings::<T>::insert(market, epoch, ClearingRecord { clearing, unsettled: 2 });
	}
	Markets::<T>::mutate(market, |stored| {
		if let Some(stored) = stored {
			stored.epoch = settled;
		}
	});
}

/// A market of `n` bids priced above its equilibrium: near the ceiling, where budgets leave
/// every bid a sliver of demand, with ten units of capacity per bid, so that supply exceeds
/// demand whatever `n` is and the Newton–secant step takes its two-evaluation branch.
fn market_above_equilibrium<T: Config>(n: u32) -> (MarketId, MarketOf<T>) {
	let market_id = new_market::<T>();
	fill_book::<T>(market_id, n);
	let mut market = Markets::<T>::get(market_id).expect("created");
	market.price = FixedU128::from_u32(999);
	market.params.capacity = FixedU128::from_u32(n.saturating_mul(10));
	(market_id, market)
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

	/// Replacing an order in a market of `n` bids, after settling `e` epochs of the old ones:
	/// the new order entered on the grid, the old ones taken out of the book.
	#[benchmark]
	fn submit_demand(
		n: Linear<10, MAX_BIDS>,
		e: Linear<0, { T::MaxOrderEpochs::get().saturating_mul(2) }>,
	) {
		let market = new_market::<T>();
		fill_book::<T>(market, n);
		let caller = funded::<T>("caller", 0);
		bid_with_epochs_to_settle::<T>(market, &caller, e);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, curve(7), budget::<T>(), 4);

		let bid = crate::pallet::Bids::<T>::get(market, &caller).expect("placed");
		assert_eq!(bid.settled_to, e);
		assert_eq!(bid.order.curve, curve(7));
	}

	/// A report in a market of `n` bids, after settling `e` epochs of the old orders (at most
	/// all but the last, which the report is for): the latest order's line replaced by the line
	/// through the new point, as `submit_demand` does.
	#[benchmark]
	fn report_demand(
		n: Linear<10, MAX_BIDS>,
		e: Linear<0, { T::MaxOrderEpochs::get().saturating_mul(2).saturating_sub(1) }>,
	) {
		let market = new_market::<T>();
		fill_book::<T>(market, n);
		let caller = funded::<T>("caller", 0);
		bid_with_epochs_to_settle::<T>(market, &caller, e);
		let line = DemandCurve::Linear {
			quantity: FixedU128::from_u32(300),
			price: FixedU128::from_rational(1, 2),
			slope: FixedU128::from_u32(100),
		};
		crate::pallet::Bids::<T>::mutate(market, &caller, |bid| {
			if let Some(bid) = bid {
				bid.order.curve = line;
				if let Some(next) = bid.next.as_mut() {
					next.curve = line;
				}
			}
		});

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			market,
			FixedU128::from_u32(250),
			FixedU128::from_u32(1),
		);

		let bid = crate::pallet::Bids::<T>::get(market, &caller).expect("placed");
		assert_eq!(bid.settled_to, e);
		assert!(matches!(
			bid.next.unwrap_or(bid.order).curve,
			DemandCurve::Linear { slope, .. } if slope == FixedU128::from_u32(100)
		));
	}

	/// Withdrawing after settling `e` epochs: the bid removed, its escrow refunded.
	#[benchmark]
	fn withdraw_demand(e: Linear<0, { T::MaxOrderEpochs::get().saturating_mul(2) }>) {
		let market = new_market::<T>();
		let caller = funded::<T>("caller", 0);
		bid_with_epochs_to_settle::<T>(market, &caller, e);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market);

		assert!(!crate::pallet::Bids::<T>::contains_key(market, &caller));
	}

	/// Settling `e` epochs of a bid whose orders have ended, and removing it.
	#[benchmark]
	fn settle_bid(e: Linear<1, { T::MaxOrderEpochs::get().saturating_mul(2) }>) {
		let market = new_market::<T>();
		let owner = funded::<T>("owner", 0);
		bid_with_epochs_to_settle::<T>(market, &owner, e);
		crate::pallet::Bids::<T>::mutate(market, &owner, |bid| {
			if let Some(bid) = bid {
				// Both orders end with the last settled epoch.
				bid.order.until = bid.order.until.min(e);
				match bid.next.as_mut() {
					Some(next) if e > next.from => next.until = e,
					_ => bid.next = None,
				}
				bid.escrow = Pallet::<T>::escrow_needed(bid);
			}
		});
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), market, owner.clone());

		assert!(!crate::pallet::Bids::<T>::contains_key(market, &owner));
	}

	/// Closing a market with `c` scheduled book changes and a full history.
	#[benchmark]
	fn close_market(
		c: Linear<0, { T::MaxOrderEpochs::get().saturating_add(1) }>,
	) -> Result<(), BenchmarkError> {
		let origin = T::MarketAdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let market = new_market::<T>();
		fill_book::<T>(market, 10);
		for epoch in 1..=c {
			BookChanges::<T>::insert(market, epoch, BookChange::default());
		}
		let outcome = EpochOutcome {
			clearing: Clearing::default(),
			demand: FixedU128::from_u32(25),
			total_allocated: FixedU128::from_u32(25),
			bidders: 10,
			participants: 10,
			total_paid: budget::<T>(),
			capacity: FixedU128::from_u32(25),
		};
		for epoch in 0..T::EpochHistoryDepth::get() {
			crate::pallet::EpochOutcomes::<T>::insert(market, epoch, outcome.clone());
		}

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market);

		assert!(!Markets::<T>::contains_key(market));
		assert_eq!(BookChanges::<T>::iter_prefix(market).count(), 0);
		assert_eq!(crate::pallet::EpochOutcomes::<T>::iter_prefix(market).count(), 0);
		Ok(())
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

	/// One price step of a market with `n` bids: reading its book, the Newton–secant step on
	/// the book's demand (the costlier rule: it evaluates demand twice), writing the market.
	#[benchmark]
	fn step_price(n: Linear<10, MAX_BIDS>) {
		let (market_id, mut market) = market_above_equilibrium::<T>(n);

		#[block]
		{
			let book = Books::<T>::get(market_id).unwrap_or_default();
			Pallet::<T>::step_price(market_id, &mut market, &book, false);
			Markets::<T>::insert(market_id, &market);
		}

		assert!(market.price < FixedU128::from_u32(999));
	}

	/// One price step of a Robbins–Monro market with `n` bids: as `step_price`, plus reading
	/// and writing what the rule remembers.
	#[benchmark]
	fn step_price_remembering(n: Linear<10, MAX_BIDS>) {
		let (market_id, mut market) = market_above_equilibrium::<T>(n);
		// An exponent whose binary digits run long: the most square roots `pow_fraction` takes.
		market.params.step_rule = StepRule::RobbinsMonro {
			eta: FixedU128::from_rational(1, 100),
			offset: 1,
			exponent: Perbill::from_parts(500_000_001),
			patience: 8,
		};
		crate::pallet::StepMemories::<T>::insert(
			market_id,
			contract_equilibrium_primitives::StepMemory {
				sign_changes: 1_000_000,
				excess_demand_last: Some(true),
				same_sign_blocks: 1,
				averaged: 1_000,
				average_price: FixedU128::from_u32(500),
				restarts: 0,
			},
		);

		#[block]
		{
			let book = Books::<T>::get(market_id).unwrap_or_default();
			Pallet::<T>::step_price(market_id, &mut market, &book, false);
			Markets::<T>::insert(market_id, &market);
		}

		assert!(market.price < FixedU128::from_u32(999));
	}

	/// Settling an epoch of a market with `n` bids, every one of them counted and leaving when
	/// the next epoch starts: the clearing, the two payouts from escrow, the records, and the
	/// book's change applied.
	#[benchmark]
	fn settle_epoch(n: Linear<10, MAX_BIDS>) {
		let market_id = new_market::<T>();
		fill_book::<T>(market_id, n);
		let mut market = Markets::<T>::get(market_id).expect("created");
		// A price at which every kind of order demands something.
		market.price = FixedU128::from_rational(3, 10);
		let now: BlockNumberFor<T> = 2_000u32.into();

		#[block]
		{
			let mut book = Books::<T>::get(market_id).unwrap_or_default();
			Pallet::<T>::settle_epoch(market_id, &mut market, &mut book, now);
			Books::<T>::insert(market_id, &book);
			Markets::<T>::insert(market_id, &market);
		}

		assert_eq!(market.epoch, 1);
		let outcome = crate::pallet::EpochOutcomes::<T>::get(market_id, 0).expect("settled");
		assert_eq!(outcome.bidders, n);
		assert!(outcome.total_paid > BalanceOf::<T>::from(0u32));
		assert_eq!(Books::<T>::get(market_id).map(|book| book.counted), Some(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
