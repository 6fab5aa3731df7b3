//! Benchmarks of every call in its costliest path, and of the liquidation hook in the markets it
//! scans (`m`), the positions it liquidates (`n`) and the healthy positions it does not look at
//! (`p`), for `frame-omni-bencher` to turn into `weights.rs`.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect as NativeInspect, Mutate as NativeMutate},
	fungibles::Mutate,
	EnsureOrigin, Get, Hooks,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use liquidity_market_primitives::KinkedRate;
use pallet_oracle::PriceOracle;
use sp_runtime::{
	traits::{Saturating, Zero},
	FixedPointNumber, Perbill,
};

const SEED: u32 = 0;

/// Whole units of collateral every borrower pledges.
const PLEDGE: u128 = 1_000;
/// Whole units a borrower at risk borrows against it (health 1.14 at a price of 2).
const RISKY_LOAN: u128 = 1_400;

/// The most healthy positions beside the hook's work: 100 000 on the runtime, 1 000 in the
/// pallet's (debug-build) tests.
#[cfg(not(test))]
const MAX_HEALTHY: u32 = 100_000;
#[cfg(test)]
const MAX_HEALTHY: u32 = 1_000;

/// `10^decimals`.
fn unit(decimals: u8) -> u128 {
	10u128.saturating_pow(u32::from(decimals))
}

/// The benchmarks' market: the helper's assets, a kinked rate, the usual risk parameters and
/// no caps.
fn params<T: Config>() -> MarketParams<T::AssetId> {
	let ((loan_asset, loan_decimals), (collateral_asset, collateral_decimals)) =
		T::BenchmarkHelper::assets();
	MarketParams {
		loan_asset,
		loan_decimals,
		collateral_asset,
		collateral_decimals,
		rate_model: RateModel::Kinked(KinkedRate {
			base: FixedU128::zero(),
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
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
	}
}

/// Moves far past any grace period and prices the loan asset at 1 and the collateral at
/// `collateral_price`, fresh.
fn set_prices<T: Config>(collateral_price: FixedU128) {
	let params = params::<T>();
	if frame_system::Pallet::<T>::block_number() < 1_000u32.into() {
		frame_system::Pallet::<T>::set_block_number(1_000u32.into());
	}
	T::Oracle::set_fresh_price(&params.loan_asset, FixedU128::saturating_from_integer(1u32));
	T::Oracle::set_fresh_price(&params.collateral_asset, collateral_price);
}

/// Crashes the collateral from 2 to 0.5: every borrower at risk is under water with bad debt.
fn crash<T: Config>() {
	set_prices::<T>(FixedU128::saturating_from_rational(1u32, 2u32));
}

/// Account `name`/`index` with native tokens for many deposits and 10⁹ whole units of both
/// assets.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let native = T::PositionDeposit::get()
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, native);
	let params = params::<T>();
	let whole = 1_000_000_000u128;
	T::Assets::mint_into(params.loan_asset, &who, whole.saturating_mul(unit(params.loan_decimals)))
		.expect("the loan asset can be minted");
	T::Assets::mint_into(
		params.collateral_asset,
		&who,
		whole.saturating_mul(unit(params.collateral_decimals)),
	)
	.expect("the collateral asset can be minted");
	who
}

/// A new market at prices 1 and 2 with a lender of 5·10⁸ whole units (enough for 100 000
/// borrowers).
fn market<T: Config>() -> MarketId {
	set_prices::<T>(FixedU128::saturating_from_integer(2u32));
	let market = NextMarketId::<T>::get();
	let params = params::<T>();
	let supply = 500_000_000u128.saturating_mul(unit(params.loan_decimals));
	Pallet::<T>::do_create_market(params).expect("valid parameters");
	let lender = funded::<T>("lender", market);
	Pallet::<T>::do_supply(lender, market, supply).expect("a funded lender");
	market
}

/// Account `name`/`index` pledging [`PLEDGE`] whole units of collateral in `market` and
/// borrowing `loan` whole units.
fn borrower<T: Config>(
	market: MarketId,
	name: &'static str,
	index: u32,
	loan: u128,
) -> T::AccountId {
	let params = params::<T>();
	let who = funded::<T>(name, index);
	Pallet::<T>::do_deposit_collateral(
		who.clone(),
		market,
		PLEDGE.saturating_mul(unit(params.collateral_decimals)),
	)
	.expect("a funded borrower");
	if loan > 0 {
		Pallet::<T>::do_borrow(
			who.clone(),
			market,
			loan.saturating_mul(unit(params.loan_decimals)),
		)
		.expect("within the limit");
	}
	who
}

/// A whole unit of the loan asset.
fn loan_unit<T: Config>() -> u128 {
	unit(params::<T>().loan_decimals)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_market() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = params::<T>();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(NextMarketId::<T>::get(), 1);
		Ok(())
	}

	/// Every field changed, the threshold lowered (the ramp), interest accrued first.
	#[benchmark]
	fn tune_market() -> Result<(), BenchmarkError> {
		let market = market::<T>();
		borrower::<T>(market, "borrower", 0, RISKY_LOAN);
		frame_system::Pallet::<T>::set_block_number(2_000u32.into());
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut risk = params::<T>().risk;
		risk.collateral_factor = Perbill::from_percent(70);
		risk.liquidation_threshold = Perbill::from_percent(74);
		let tuning = MarketTuning {
			rate_model: Some(params::<T>().rate_model),
			reserve_factor: Some(Perbill::from_percent(20)),
			risk: Some(risk),
			supply_cap: Some(u128::MAX / 2),
			borrow_cap: Some(u128::MAX / 2),
			pause: Some(PauseFlags { supply: true, borrow: true, liquidation: false }),
		};

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, market, tuning);

		assert_eq!(
			Markets::<T>::get(market).and_then(|stored| stored.threshold_target),
			Some(Perbill::from_percent(74))
		);
		Ok(())
	}

	/// A new lender: its position and deposit appear.
	#[benchmark]
	fn supply() {
		let market = market::<T>();
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, loan_unit::<T>());

		assert!(Positions::<T>::contains_key(market, &caller));
	}

	/// A lender withdrawing everything: its position and deposit go.
	#[benchmark]
	fn withdraw() {
		let market = market::<T>();
		let caller = funded::<T>("caller", 0);
		Pallet::<T>::do_supply(caller.clone(), market, loan_unit::<T>()).expect("funded");
		let shares =
			Positions::<T>::get(market, &caller).map_or(0, |position| position.supply_shares);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, shares);

		assert!(!Positions::<T>::contains_key(market, &caller));
	}

	/// A borrower doubling its collateral: refiled from a bucket it leaves empty into a new one.
	#[benchmark]
	fn deposit_collateral() {
		let market = market::<T>();
		let caller = borrower::<T>(market, "caller", 0, RISKY_LOAN);
		let amount = PLEDGE.saturating_mul(unit(params::<T>().collateral_decimals));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, amount);

		assert_eq!(
			Positions::<T>::get(market, &caller).map(|position| position.collateral),
			Some(amount.saturating_mul(2))
		);
	}

	/// A borrower taking a tenth of its collateral back: the solvency check at fresh prices and
	/// a refiling.
	#[benchmark]
	fn withdraw_collateral() {
		let market = market::<T>();
		let caller = borrower::<T>(market, "caller", 0, 100);
		let amount = (PLEDGE / 10).saturating_mul(unit(params::<T>().collateral_decimals));

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, amount);

		assert!(Positions::<T>::get(market, &caller).is_some());
	}

	/// A first borrow: the solvency check and a new queue entry in a new bucket.
	#[benchmark]
	fn borrow() {
		let market = market::<T>();
		let caller = borrower::<T>(market, "caller", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, RISKY_LOAN.saturating_mul(loan_unit::<T>()));

		assert!(Positions::<T>::get(market, &caller).is_some_and(|p| p.borrow_shares > 0));
	}

	/// Repaying the whole debt: the queue entry and its bucket go.
	#[benchmark]
	fn repay() {
		let market = market::<T>();
		let caller = borrower::<T>(market, "caller", 0, RISKY_LOAN);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), market, u128::MAX);

		assert!(Positions::<T>::get(market, &caller).is_some_and(|p| p.borrow_shares == 0));
	}

	/// A liquidation after a crash: the whole debt, all the collateral, bad debt written off,
	/// the position, its deposit, queue entry and bucket gone.
	#[benchmark]
	fn liquidate() {
		let market = market::<T>();
		let borrower = borrower::<T>(market, "borrower", 0, RISKY_LOAN);
		let caller = funded::<T>("caller", 0);
		crash::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), market, borrower.clone(), u128::MAX);

		assert!(!Positions::<T>::contains_key(market, &borrower));
	}

	/// Buying all the collateral the hook seized: the absorbed debt it does not cover is
	/// written off.
	#[benchmark]
	fn buy_collateral() {
		let market = market::<T>();
		borrower::<T>(market, "borrower", 0, RISKY_LOAN);
		crash::<T>();
		Pallet::<T>::liquidate_queued();
		let seized = Markets::<T>::get(market).map_or(0, |stored| stored.state.absorbed_collateral);
		assert!(seized > 0);
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), market, seized, u128::MAX);

		assert_eq!(Markets::<T>::get(market).map(|stored| stored.state.absorbed_debt), Some(0));
	}

	/// The hook over `m` markets, each with a queued healthy position (so each is priced and
	/// its threshold computed) and collateral it seized before, whose claim it writes down;
	/// liquidating `n` positions under water in the last, each in a bucket of its own.
	#[benchmark]
	fn liquidate_queued(
		m: Linear<1, { T::MaxMarkets::get() }>,
		n: Linear<0, { T::MaxLiquidationsPerBlock::get() }>,
	) {
		let mut last = 0;
		for index in 0..m {
			last = market::<T>();
			borrower::<T>(last, "healthy", index, 10);
			borrower::<T>(last, "absorbed", index, RISKY_LOAN);
		}
		// At 1.6 every "absorbed" position (health 0.91) is taken over whole.
		set_prices::<T>(FixedU128::saturating_from_rational(8u32, 5u32));
		Pallet::<T>::liquidate_queued();
		set_prices::<T>(FixedU128::saturating_from_integer(2u32));
		let risky: Vec<T::AccountId> = (0..n)
			.map(|index| {
				let loan = RISKY_LOAN.saturating_sub(u128::from(index).saturating_mul(20));
				borrower::<T>(last, "risky", index, loan)
			})
			.collect();
		crash::<T>();
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		for who in risky {
			assert!(!Positions::<T>::contains_key(last, &who));
		}
		assert!(Markets::<T>::get(last).is_some_and(|stored| stored.state.absorbed_debt > 0));
	}

	/// The hook liquidating its whole budget beside `p` healthy positions in many buckets: the
	/// weight must not depend on `p` (`scripts/benchmark pallet_liquidity_market` measures it
	/// from 10 to 100 000 positions; the pallet's tests, to 1 000). Not part of `weights.rs`.
	#[benchmark]
	fn liquidate_queued_beside_healthy(p: Linear<10, MAX_HEALTHY>) {
		let market = market::<T>();
		for index in 0..p {
			if index % 1_000 == 0 {
				// The setup's events would outgrow the runtime's memory at 100 000 positions.
				frame_system::Pallet::<T>::reset_events();
			}
			// Loans of 2 to 301 whole units (above the dust value), healthy after the crash:
			// keys over seven octaves of buckets.
			borrower::<T>(market, "healthy", index, u128::from(index % 300).saturating_add(2));
		}
		let budget = T::MaxLiquidationsPerBlock::get();
		for index in 0..budget {
			borrower::<T>(market, "risky", index, RISKY_LOAN);
		}
		crash::<T>();
		let now: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		let left = Positions::<T>::iter_prefix(market)
			.filter(|(_, position)| position.borrow_shares > 0)
			.count();
		assert_eq!(left, p as usize);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
