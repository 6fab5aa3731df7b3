//! What the calls and the per-block hook do.

use crate::{pallet::*, types::*, BalanceOf, BidOf, MarketOf, MarketParamsOf, WeightInfo};
use alloc::vec::Vec;
use contract_equilibrium_primitives::{
	clearing_price, curve::CurveError, equilibrium::aggregate_demand, fairness, fixed::abs_diff,
	next_price, participation_rate, ration, settlement::payment_for, total_surplus, DemandCurve,
	FixedU128, MarketParams, ParamsError,
};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Provenance, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	FixedPointNumber,
};

const LOG_TARGET: &str = "runtime::contract-equilibrium";

impl<T: Config> From<ParamsError> for Error<T> {
	fn from(error: ParamsError) -> Self {
		match error {
			ParamsError::CapacityOutOfRange => Error::<T>::CapacityOutOfRange,
			ParamsError::PriceBoundsInverted => Error::<T>::PriceBoundsInverted,
			ParamsError::PriceCeilingTooHigh => Error::<T>::PriceCeilingTooHigh,
			ParamsError::FeeTooHigh => Error::<T>::FeeTooHigh,
			ParamsError::ZeroEpochLength => Error::<T>::ZeroEpochLength,
			ParamsError::ZeroTolerance => Error::<T>::ZeroTolerance,
			ParamsError::InvalidStepRule => Error::<T>::InvalidStepRule,
		}
	}
}

impl<T: Config> From<CurveError> for Error<T> {
	fn from(error: CurveError) -> Self {
		match error {
			CurveError::AlphaOutOfRange => Error::<T>::AlphaOutOfRange,
			CurveError::BetaOutOfRange => Error::<T>::BetaOutOfRange,
			CurveError::QuantityOutOfRange => Error::<T>::QuantityOutOfRange,
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Validates `params` and checks that its payee can receive payments.
	fn ensure_valid_params(params: &MarketParamsOf<T>) -> DispatchResult {
		params.validate().map_err(Error::<T>::from)?;
		ensure!(
			frame_system::Pallet::<T>::account_exists(&params.payee),
			Error::<T>::PayeeDoesNotExist
		);
		Ok(())
	}

	pub(crate) fn do_create_market(params: MarketParamsOf<T>) -> DispatchResult {
		Self::ensure_valid_params(&params)?;
		let market = NextMarketId::<T>::get();
		ensure!(market < T::MaxMarkets::get(), Error::<T>::TooManyMarkets);

		Markets::<T>::insert(
			market,
			Market {
				price: params.price_floor,
				aggregate_demand: FixedU128::zero(),
				converged: false,
				epoch: 0,
				epoch_start: frame_system::Pallet::<T>::block_number(),
				params: params.clone(),
			},
		);
		NextMarketId::<T>::put(market.saturating_add(1));
		Self::deposit_event(Event::MarketCreated { market, params });
		Ok(())
	}

	pub(crate) fn do_set_market_params(
		market: MarketId,
		params: MarketParamsOf<T>,
	) -> DispatchResult {
		Self::ensure_valid_params(&params)?;
		Markets::<T>::try_mutate(market, |stored| -> DispatchResult {
			let stored = stored.as_mut().ok_or(Error::<T>::UnknownMarket)?;
			stored.params = params.clone();
			Ok(())
		})?;
		Self::deposit_event(Event::MarketParamsUpdated { market, params });
		Ok(())
	}

	pub(crate) fn do_submit_demand(
		who: T::AccountId,
		market: MarketId,
		curve: DemandCurve,
		budget: BalanceOf<T>,
	) -> DispatchResult {
		curve.validate().map_err(Error::<T>::from)?;
		ensure!(Markets::<T>::contains_key(market), Error::<T>::UnknownMarket);
		let deposit = T::BidDeposit::get();
		ensure!(budget >= deposit, Error::<T>::BudgetBelowDeposit);

		let mut bids = Bids::<T>::get(market);
		let existing = bids.iter().position(|bid| bid.bidder == who);
		// What must newly be held: the budget's increase, plus the deposit for a new bid.
		let (old_budget, needed) = match existing {
			Some(index) => {
				let old = bids[index].budget;
				(old, budget.saturating_sub(old))
			},
			None => {
				ensure!((bids.len() as u32) < T::MaxBidders::get(), Error::<T>::TooManyBidders);
				(Zero::zero(), budget.saturating_add(deposit))
			},
		};
		ensure!(
			T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite)
				>= needed,
			Error::<T>::InsufficientBalance
		);

		// Checks done: from here on nothing fails but the holds, which were just checked.
		match existing {
			Some(index) => {
				if budget > old_budget {
					T::Currency::hold(
						&HoldReason::BidBudget.into(),
						&who,
						budget.saturating_sub(old_budget),
					)?;
				} else if budget < old_budget {
					T::Currency::release(
						&HoldReason::BidBudget.into(),
						&who,
						old_budget.saturating_sub(budget),
						Precision::Exact,
					)?;
				}
				let bid = &mut bids[index];
				bid.curve = curve;
				bid.budget = budget;
				bid.withdrawing = false;
			},
			None => {
				T::Currency::hold(&HoldReason::BidDeposit.into(), &who, deposit)?;
				T::Currency::hold(&HoldReason::BidBudget.into(), &who, budget)?;
				bids.try_push(Bid {
					bidder: who.clone(),
					curve,
					budget,
					deposit,
					withdrawing: false,
				})
				.map_err(|_| Error::<T>::TooManyBidders)?;
			},
		}
		Bids::<T>::insert(market, bids);
		Self::deposit_event(Event::DemandSubmitted { market, who, curve, budget });
		Ok(())
	}

	pub(crate) fn do_withdraw_demand(who: T::AccountId, market: MarketId) -> DispatchResult {
		ensure!(Markets::<T>::contains_key(market), Error::<T>::UnknownMarket);
		Bids::<T>::try_mutate(market, |bids| -> DispatchResult {
			let bid = bids.iter_mut().find(|bid| bid.bidder == who).ok_or(Error::<T>::NoDemand)?;
			ensure!(!bid.withdrawing, Error::<T>::AlreadyWithdrawing);
			bid.withdrawing = true;
			Ok(())
		})?;
		Self::deposit_event(Event::DemandWithdrawalScheduled { market, who });
		Ok(())
	}

	/// The per-block work: for every market, settle if its epoch ends, then step the price.
	pub(crate) fn do_on_initialize(now: BlockNumberFor<T>) -> Weight {
		let market_count = NextMarketId::<T>::get();
		let mut weight = T::WeightInfo::on_initialize_base(market_count);
		for market_id in 0..market_count {
			let Some(mut market) = Markets::<T>::get(market_id) else { continue };
			let mut bids = Bids::<T>::get(market_id);
			let bidders = bids.len() as u32;

			let epoch_end = market
				.epoch_start
				.saturating_add(BlockNumberFor::<T>::from(market.params.epoch_length));
			if now >= epoch_end {
				Self::settle(market_id, &mut market, &mut bids, now);
				Bids::<T>::insert(market_id, &bids);
				weight.saturating_accrue(T::WeightInfo::settle_epoch(bidders));
			}

			Self::step_price(market_id, &mut market, &bids);
			weight.saturating_accrue(T::WeightInfo::step_price(bids.len() as u32));
			Markets::<T>::insert(market_id, market);
		}
		weight
	}

	/// The demand curves the price responds to: every bid with budget left.
	fn active_curves(bids: &[BidOf<T>]) -> Vec<DemandCurve> {
		bids.iter().filter(|bid| !bid.budget.is_zero()).map(|bid| bid.curve).collect()
	}

	/// Moves the market's price one step of its rule.
	pub(crate) fn step_price(market_id: MarketId, market: &mut MarketOf<T>, bids: &[BidOf<T>]) {
		let curves = Self::active_curves(bids);
		let step = next_price(&curves, &market.params, market.price);
		market.price = step.price;
		market.aggregate_demand = step.aggregate_demand;
		market.converged = step.converged;
		Self::deposit_event(Event::PriceUpdated {
			market: market_id,
			price: step.price,
			aggregate_demand: step.aggregate_demand,
			excess_demand: step.excess_demand,
			converged: step.converged,
		});
	}

	/// Tokens (fixed point) to the token's smallest unit, rounded down.
	fn to_balance(tokens: FixedU128) -> BalanceOf<T> {
		tokens.saturating_mul_int(T::BalanceUnit::get())
	}

	/// The token's smallest unit to tokens (fixed point), rounded down.
	fn to_tokens(balance: BalanceOf<T>) -> FixedU128 {
		FixedU128::checked_from_rational(balance, T::BalanceUnit::get())
			.unwrap_or_else(FixedU128::zero)
	}

	/// Allocates and charges every bid at the posted price, records the epoch, removes the
	/// withdrawing bids and starts the next epoch.
	pub(crate) fn settle(
		market_id: MarketId,
		market: &mut MarketOf<T>,
		bids: &mut BoundedVec<BidOf<T>, T::MaxBidders>,
		now: BlockNumberFor<T>,
	) {
		let params = &market.params;
		let price = market.price;
		let epoch = market.epoch;

		// 1. Demand at the posted price, rationed pro rata to capacity.
		let mut allocations: Vec<FixedU128> = bids
			.iter()
			.map(|bid| {
				if bid.budget.is_zero() {
					FixedU128::zero()
				} else {
					bid.curve.demand_at(params.unit_fee, price)
				}
			})
			.collect();
		ration(&mut allocations, params.capacity);

		// 2. Each bidder pays from its held budget; an allocation it cannot pay for shrinks to
		//    what it can.
		let fee_destination = T::FeeDestination::get();
		let mut total_paid: BalanceOf<T> = Zero::zero();
		for (bid, allocation) in bids.iter_mut().zip(allocations.iter_mut()) {
			*allocation = Self::affordable_allocation(params, price, *allocation, bid.budget);
			let payment = Self::charge(bid, params, price, allocation, &fee_destination);
			total_paid = total_paid.saturating_add(payment);
			Self::deposit_event(Event::BidSettled {
				market: market_id,
				epoch,
				who: bid.bidder.clone(),
				allocation: *allocation,
				payment,
			});
		}

		// 3. The epoch's outcome, kept for `EpochHistoryDepth` epochs.
		let outcome = EpochOutcome {
			price,
			total_allocated: allocations
				.iter()
				.fold(FixedU128::zero(), |sum, x| sum.saturating_add(*x)),
			total_surplus: total_surplus(
				bids.iter().map(|bid| &bid.curve).zip(allocations.iter().copied()),
			),
			fairness: fairness(&allocations),
			participation: participation_rate(&allocations),
			bidders: bids.len() as u32,
			total_paid,
		};
		EpochOutcomes::<T>::insert(market_id, epoch, outcome.clone());
		if let Some(expired) = epoch.checked_sub(T::EpochHistoryDepth::get()) {
			EpochOutcomes::<T>::remove(market_id, expired);
		}
		Self::deposit_event(Event::EpochSettled { market: market_id, epoch, outcome });

		// 4. Withdrawing bids leave with what is left of their holds.
		bids.retain(|bid| {
			if !bid.withdrawing {
				return true;
			}
			let released = Self::release_bid(bid);
			Self::deposit_event(Event::DemandWithdrawn {
				market: market_id,
				who: bid.bidder.clone(),
				released,
			});
			false
		});

		market.epoch = epoch.saturating_add(1);
		market.epoch_start = now;
	}

	/// `allocation`, shrunk so that its payment `(μ + τ)·x + g` fits in `budget`.
	fn affordable_allocation(
		params: &MarketParamsOf<T>,
		price: FixedU128,
		allocation: FixedU128,
		budget: BalanceOf<T>,
	) -> FixedU128 {
		if allocation.is_zero()
			|| Self::to_balance(payment_for(allocation, params.unit_fee, params.fixed_fee, price))
				<= budget
		{
			return allocation;
		}
		let affordable = Self::to_tokens(budget);
		if affordable <= params.fixed_fee {
			return FixedU128::zero();
		}
		let per_unit = price.saturating_add(params.unit_fee);
		let units = contract_equilibrium_primitives::fixed::div(
			affordable.saturating_sub(params.fixed_fee),
			per_unit,
			sp_runtime::Rounding::Down,
		);
		allocation.min(units)
	}

	/// Charges `bid` for `allocation`: `μ·x` to the payee and `τ·x + g` to the fee destination,
	/// both from the held budget. Returns what was paid. If a recipient cannot receive the
	/// payment (an account below the existential deposit), nothing is charged and the
	/// allocation is zero.
	fn charge(
		bid: &mut BidOf<T>,
		params: &MarketParamsOf<T>,
		price: FixedU128,
		allocation: &mut FixedU128,
		fee_destination: &T::AccountId,
	) -> BalanceOf<T> {
		if allocation.is_zero() {
			return Zero::zero();
		}
		let payment =
			Self::to_balance(payment_for(*allocation, params.unit_fee, params.fixed_fee, price))
				.min(bid.budget);
		let to_payee = Self::to_balance(contract_equilibrium_primitives::fixed::mul(
			price,
			*allocation,
			sp_runtime::Rounding::Down,
		))
		.min(payment);
		let to_fees = payment.saturating_sub(to_payee);
		let can_receive = |who: &T::AccountId, amount: BalanceOf<T>| {
			amount.is_zero()
				|| T::Currency::can_deposit(who, amount, Provenance::Extant).into_result().is_ok()
		};
		if !can_receive(&params.payee, to_payee) || !can_receive(fee_destination, to_fees) {
			log::warn!(target: LOG_TARGET, "a payment recipient cannot receive funds; allocation dropped");
			*allocation = FixedU128::zero();
			return Zero::zero();
		}
		let mut paid: BalanceOf<T> = Zero::zero();
		for (recipient, amount) in [(&params.payee, to_payee), (fee_destination, to_fees)] {
			if amount.is_zero() {
				continue;
			}
			match T::Currency::transfer_on_hold(
				&HoldReason::BidBudget.into(),
				&bid.bidder,
				recipient,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Polite,
			) {
				Ok(moved) => paid = paid.saturating_add(moved),
				Err(error) => log::error!(target: LOG_TARGET, "payment failed: {error:?}"),
			}
		}
		bid.budget = bid.budget.saturating_sub(paid);
		paid
	}

	/// Releases a bid's remaining budget and its deposit; returns the total released.
	fn release_bid(bid: &BidOf<T>) -> BalanceOf<T> {
		[(HoldReason::BidBudget, bid.budget), (HoldReason::BidDeposit, bid.deposit)]
			.into_iter()
			.fold(Zero::zero(), |released: BalanceOf<T>, (reason, amount)| {
				let freed = T::Currency::release(
					&reason.into(),
					&bid.bidder,
					amount,
					Precision::BestEffort,
				)
				.unwrap_or_else(|_| Zero::zero());
				released.saturating_add(freed)
			})
	}

	/// The runtime API's market view.
	pub fn market_view(market: MarketId) -> Option<MarketView<T::AccountId, BlockNumberFor<T>>> {
		let stored = Markets::<T>::get(market)?;
		Some(MarketView {
			market: stored,
			bidders: Bids::<T>::decode_len(market).unwrap_or(0) as u32,
		})
	}

	/// The runtime API's equilibrium view: the exact `μ*` of the current bids.
	pub fn equilibrium_view(market: MarketId) -> Option<EquilibriumView> {
		let stored = Markets::<T>::get(market)?;
		let curves = Self::active_curves(&Bids::<T>::get(market));
		let params = &stored.params;
		let clearing = clearing_price(&curves, params);
		let demand_now =
			aggregate_demand(&curves, params.unit_fee, params.clamp_price(stored.price));
		Some(EquilibriumView {
			clearing_price: clearing,
			demand_at_clearing_price: aggregate_demand(&curves, params.unit_fee, clearing),
			price: stored.price,
			distance: abs_diff(stored.price, clearing),
			excess_demand: contract_equilibrium_primitives::step::signed_difference(
				demand_now,
				params.capacity,
			),
		})
	}

	/// The runtime API's quote for `curve` at the market's posted price.
	pub fn quote_view(market: MarketId, curve: DemandCurve) -> Option<QuoteView<BalanceOf<T>>> {
		let stored = Markets::<T>::get(market)?;
		let params: &MarketParams<T::AccountId> = &stored.params;
		let quote = contract_equilibrium_primitives::quote(
			&curve,
			params.unit_fee,
			params.fixed_fee,
			stored.price,
		);
		Some(QuoteView {
			allocation: quote.allocation,
			payment: quote.payment,
			payment_in_balance: Self::to_balance(quote.payment),
		})
	}

	/// The pallet's invariants:
	/// - at most `MaxMarkets` markets, each with a valid parameter set and its price within
	///   `[μ_min, μ_max]`;
	/// - every recorded epoch allocated at most the capacity it had;
	/// - for every account, the budget and deposit holds equal the sums over its bids.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;

		let market_count = NextMarketId::<T>::get();
		ensure!(market_count <= T::MaxMarkets::get(), "more markets than MaxMarkets");
		let mut budgets: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (market_id, market) in Markets::<T>::iter() {
			ensure!(market_id < market_count, "a market beyond NextMarketId");
			ensure!(market.params.validate().is_ok(), "a market with invalid parameters");
			ensure!(
				market.price >= market.params.price_floor
					&& market.price <= market.params.price_ceiling,
				"a price outside its bounds"
			);
			for (_, outcome) in EpochOutcomes::<T>::iter_prefix(market_id) {
				ensure!(
					outcome.total_allocated <= market.params.capacity,
					"an epoch allocated more than capacity"
				);
			}
			for bid in Bids::<T>::get(market_id) {
				let budget = budgets.entry(bid.bidder.clone()).or_insert_with(Zero::zero);
				*budget = budget.saturating_add(bid.budget);
				let deposit = deposits.entry(bid.bidder.clone()).or_insert_with(Zero::zero);
				*deposit = deposit.saturating_add(bid.deposit);
			}
		}
		for (market_id, _) in Bids::<T>::iter() {
			ensure!(Markets::<T>::contains_key(market_id), "bids in an unknown market");
		}
		for (who, budget) in budgets {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::BidBudget.into(), &who) == budget,
				"budget hold differs from the bids' budgets"
			);
		}
		for (who, deposit) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::BidDeposit.into(), &who) == deposit,
				"deposit hold differs from the bids' deposits"
			);
		}
		Ok(())
	}
}
