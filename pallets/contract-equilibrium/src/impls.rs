//! What the calls and the per-block hook do.

use crate::{pallet::*, types::*, BalanceOf, BidOf, MarketOf, MarketParamsOf, WeightInfo};
use alloc::vec::Vec;
use contract_equilibrium_primitives::{
	allocate, clearing_price, curve::CurveError, equilibrium::aggregate_demand, fairness,
	fixed::abs_diff, next_price, participation_rate, settlement::payment_for, total_surplus,
	DemandCurve, FixedU128, MarketParams, Order, ParamsError,
};
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Provenance, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{One, Saturating, Zero},
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
		ensure!(Markets::<T>::count() < T::MaxMarkets::get(), Error::<T>::TooManyMarkets);
		let market = NextMarketId::<T>::get();
		let next = market.checked_add(1).ok_or(Error::<T>::TooManyMarkets)?;

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
		NextMarketId::<T>::put(next);
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
			// A settlement before the next step must not charge a price outside the new bounds.
			stored.price = params.clamp_price(stored.price);
			stored.params = params.clone();
			Ok(())
		})?;
		Self::deposit_event(Event::MarketParamsUpdated { market, params });
		Ok(())
	}

	pub(crate) fn do_close_market(market: MarketId) -> DispatchResult {
		Markets::<T>::take(market).ok_or(Error::<T>::UnknownMarket)?;
		let bids = Bids::<T>::take(market);
		for bid in &bids {
			let released = Self::release_bid(bid);
			Self::deposit_event(Event::DemandWithdrawn {
				market,
				who: bid.bidder.clone(),
				released,
			});
		}
		// At most `EpochHistoryDepth` entries (more only if the depth was lowered since).
		let _ = EpochOutcomes::<T>::clear_prefix(market, u32::MAX, None);
		Self::deposit_event(Event::MarketClosed { market, bids: bids.len() as u32 });
		Ok(())
	}

	/// Holds `new` instead of `old` for `who`'s budgets: holds or releases the difference.
	fn adjust_budget_hold(
		who: &T::AccountId,
		old: BalanceOf<T>,
		new: BalanceOf<T>,
	) -> DispatchResult {
		let reason = HoldReason::BidBudget.into();
		if new > old {
			T::Currency::hold(&reason, who, new.saturating_sub(old))?;
		} else if new < old {
			T::Currency::release(&reason, who, old.saturating_sub(new), Precision::Exact)?;
		}
		Ok(())
	}

	pub(crate) fn do_submit_demand(
		who: T::AccountId,
		market: MarketId,
		curve: DemandCurve,
		budget: BalanceOf<T>,
	) -> DispatchResult {
		curve.validate().map_err(Error::<T>::from)?;
		let stored = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		let deposit = T::BidDeposit::get();
		ensure!(budget >= deposit, Error::<T>::BudgetBelowDeposit);
		let epoch = stored.epoch;
		let sealed = frame_system::Pallet::<T>::block_number() >= stored.seal_block();

		let mut bids = Bids::<T>::get(market);
		let existing = bids.iter().position(|bid| bid.bidder == who);
		// A counted bid in a sealed epoch is replaced when the epoch has settled; any other is
		// changed at once.
		let deferred = existing
			.and_then(|index| bids.get(index))
			.is_some_and(|bid| sealed && bid.counts_in(epoch));
		// What is held for what this demand replaces, and what must newly be held.
		let (replaced, needed) = match existing.and_then(|index| bids.get(index)) {
			Some(bid) if deferred => {
				let pending = bid.replacement_budget().copied().unwrap_or_else(Zero::zero);
				(pending, budget.saturating_sub(pending))
			},
			Some(bid) => {
				// A replacement still pending (the book reopened under a longer epoch set by
				// governance) is superseded too.
				let held = bid.held_budget();
				(held, budget.saturating_sub(held))
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
		let counts_from = match existing.and_then(|index| bids.get_mut(index)) {
			Some(bid) if deferred => {
				Self::adjust_budget_hold(&who, replaced, budget)?;
				bid.next = NextOrder::Replace { curve, budget };
				epoch.saturating_add(1)
			},
			Some(bid) => {
				Self::adjust_budget_hold(&who, replaced, budget)?;
				bid.curve = curve;
				bid.budget = budget;
				// Placing a demand again cancels a pending withdrawal.
				bid.next = NextOrder::Keep;
				bid.counted_from.max(epoch)
			},
			None => {
				T::Currency::hold(&HoldReason::BidDeposit.into(), &who, deposit)?;
				T::Currency::hold(&HoldReason::BidBudget.into(), &who, budget)?;
				let counted_from = if sealed { epoch.saturating_add(1) } else { epoch };
				bids.try_push(Bid {
					bidder: who.clone(),
					curve,
					budget,
					deposit,
					counted_from,
					next: NextOrder::Keep,
				})
				.map_err(|_| Error::<T>::TooManyBidders)?;
				counted_from
			},
		};
		Bids::<T>::insert(market, bids);
		Self::deposit_event(Event::DemandSubmitted { market, who, curve, budget, counts_from });
		Ok(())
	}

	pub(crate) fn do_withdraw_demand(who: T::AccountId, market: MarketId) -> DispatchResult {
		let epoch = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?.epoch;
		let mut bids = Bids::<T>::get(market);
		let index = bids.iter().position(|bid| bid.bidder == who).ok_or(Error::<T>::NoDemand)?;
		let bid = bids.get_mut(index).ok_or(Error::<T>::NoDemand)?;
		if !bid.counts_in(epoch) {
			// It never counted: nothing to settle, it leaves at once.
			let bid = bids.remove(index);
			Bids::<T>::insert(market, bids);
			let released = Self::release_bid(&bid);
			Self::deposit_event(Event::DemandWithdrawn { market, who, released });
			return Ok(());
		}
		ensure!(bid.next != NextOrder::Withdraw, Error::<T>::AlreadyWithdrawing);
		if let Some(pending) = bid.replacement_budget().copied() {
			T::Currency::release(&HoldReason::BidBudget.into(), &who, pending, Precision::Exact)?;
		}
		bid.next = NextOrder::Withdraw;
		Bids::<T>::insert(market, bids);
		Self::deposit_event(Event::DemandWithdrawalScheduled { market, who });
		Ok(())
	}

	/// The per-block work: for every market, settle if its epoch ends, then step the price.
	pub(crate) fn do_on_initialize(now: BlockNumberFor<T>) -> Weight {
		// The open markets (at most `MaxMarkets`), read once, in the order they were created.
		let mut markets: Vec<(MarketId, MarketOf<T>)> = Markets::<T>::iter().collect();
		markets.sort_unstable_by_key(|(market_id, _)| *market_id);
		let mut weight = T::WeightInfo::on_initialize_base(markets.len() as u32);
		for (market_id, mut market) in markets {
			let mut bids = Bids::<T>::get(market_id);
			let bidders = bids.len() as u32;

			if now >= market.epoch_end() {
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

	/// A bid's demand as the chain counts it: its curve, backed by what is left of its budget.
	fn order(bid: &BidOf<T>, params: &MarketParamsOf<T>) -> Order {
		Order { curve: bid.curve, budget: Self::to_tokens(bid.budget), fixed_fee: params.fixed_fee }
	}

	/// The demand the price responds to in the epoch under way: the bids that count in it, as
	/// far as their budgets pay.
	fn counted_orders(market: &MarketOf<T>, bids: &[BidOf<T>]) -> Vec<Order> {
		bids.iter()
			.filter(|bid| bid.counts_in(market.epoch))
			.map(|bid| Self::order(bid, &market.params))
			.collect()
	}

	/// Moves the market's price one step of its rule.
	pub(crate) fn step_price(market_id: MarketId, market: &mut MarketOf<T>, bids: &[BidOf<T>]) {
		let orders = Self::counted_orders(market, bids);
		let step = next_price(&orders, &market.params, market.price);
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

	/// Tokens (fixed point) to the token's smallest unit, rounded up: what a payment costs, so
	/// that no positive allocation is paid with nothing.
	fn to_balance_up(tokens: FixedU128) -> BalanceOf<T> {
		let down = Self::to_balance(tokens);
		if Self::to_tokens(down) < tokens {
			down.saturating_add(One::one())
		} else {
			down
		}
	}

	/// The token's smallest unit to tokens (fixed point), rounded down.
	fn to_tokens(balance: BalanceOf<T>) -> FixedU128 {
		FixedU128::checked_from_rational(balance, T::BalanceUnit::get())
			.unwrap_or_else(FixedU128::zero)
	}

	/// Allocates and charges every bid that counts in the epoch at the posted price, records
	/// the epoch, applies the changes asked for while it was sealed (replacements, withdrawals)
	/// and starts the next epoch.
	pub(crate) fn settle(
		market_id: MarketId,
		market: &mut MarketOf<T>,
		bids: &mut BoundedVec<BidOf<T>, T::MaxBidders>,
		now: BlockNumberFor<T>,
	) {
		let params = &market.params;
		let price = market.price;
		let epoch = market.epoch;

		// 1. The counted bids' backed demand at the posted price, rationed pro rata to capacity.
		let (counted, orders): (Vec<usize>, Vec<Order>) = bids
			.iter()
			.enumerate()
			.filter(|(_, bid)| bid.counts_in(epoch))
			.map(|(index, bid)| (index, Self::order(bid, params)))
			.unzip();
		let mut allocations = allocate(&orders, params, price);

		// 2. Each bidder pays from its held budget (backed demand fits in it; the check stays
		//    as a guard against rounding).
		let fee_destination = T::FeeDestination::get();
		let mut total_paid: BalanceOf<T> = Zero::zero();
		for (&index, allocation) in counted.iter().zip(allocations.iter_mut()) {
			let Some(bid) = bids.get_mut(index) else { continue };
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
				orders.iter().map(|order| &order.curve).zip(allocations.iter().copied()),
			),
			fairness: fairness(&allocations),
			participation: participation_rate(&allocations),
			bidders: counted.len() as u32,
			total_paid,
			capacity: params.capacity,
		};
		EpochOutcomes::<T>::insert(market_id, epoch, outcome.clone());
		if let Some(expired) = epoch.checked_sub(T::EpochHistoryDepth::get()) {
			EpochOutcomes::<T>::remove(market_id, expired);
		}
		Self::deposit_event(Event::EpochSettled { market: market_id, epoch, outcome });

		// 4. The changes asked for take effect: withdrawing bids leave with what is left of
		//    their holds, replaced bids release what is left of the old budget.
		let mut remaining = core::mem::take(bids).into_inner();
		remaining.retain_mut(|bid| match core::mem::replace(&mut bid.next, NextOrder::Keep) {
			NextOrder::Keep => true,
			NextOrder::Replace { curve, budget } => {
				if let Err(error) = T::Currency::release(
					&HoldReason::BidBudget.into(),
					&bid.bidder,
					bid.budget,
					Precision::BestEffort,
				) {
					defensive!("releasing a replaced budget failed", error);
				}
				bid.curve = curve;
				bid.budget = budget;
				true
			},
			NextOrder::Withdraw => {
				let released = Self::release_bid(bid);
				Self::deposit_event(Event::DemandWithdrawn {
					market: market_id,
					who: bid.bidder.clone(),
					released,
				});
				false
			},
		});
		// No more bids than before: nothing is truncated.
		*bids = BoundedVec::truncate_from(remaining);

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
			|| Self::to_balance_up(payment_for(
				allocation,
				params.unit_fee,
				params.fixed_fee,
				price,
			)) <= budget
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
	/// allocation is zero; if a transfer fails all the same, the allocation is zero too.
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
			Self::to_balance_up(payment_for(*allocation, params.unit_fee, params.fixed_fee, price))
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
		// The pallet moves its own hold: the bidder's locks and freezes must not stop it
		// (`Fortitude::Force`). Both transfers happen or neither does; a failure is a defect,
		// and the allocation it was to pay for is void.
		let paid = frame_support::storage::with_storage_layer(|| {
			let mut paid: BalanceOf<T> = Zero::zero();
			for (recipient, amount) in [(&params.payee, to_payee), (fee_destination, to_fees)] {
				if amount.is_zero() {
					continue;
				}
				let moved = T::Currency::transfer_on_hold(
					&HoldReason::BidBudget.into(),
					&bid.bidder,
					recipient,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
				paid = paid.saturating_add(moved);
			}
			Ok::<_, DispatchError>(paid)
		});
		let paid = match paid {
			Ok(paid) => paid,
			Err(error) => {
				defensive!("a settlement payment failed; the allocation is void", error);
				*allocation = FixedU128::zero();
				Zero::zero()
			},
		};
		bid.budget = bid.budget.saturating_sub(paid);
		paid
	}

	/// Releases a bid's remaining budget, a pending replacement's budget and its deposit;
	/// returns the total released.
	fn release_bid(bid: &BidOf<T>) -> BalanceOf<T> {
		[(HoldReason::BidBudget, bid.held_budget()), (HoldReason::BidDeposit, bid.deposit)]
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
		let params = &stored.params;
		let curves = Self::counted_orders(&stored, &Bids::<T>::get(market));
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
			payment_in_balance: Self::to_balance_up(quote.payment),
		})
	}

	/// The pallet's invariants:
	/// - at most `MaxMarkets` open markets, counted right, each with a valid parameter set and
	///   its price within `[μ_min, μ_max]`;
	/// - every recorded epoch allocated at most the capacity it had then;
	/// - bids and outcomes only of open markets;
	/// - one bid per bidder and market, counted from at most the next epoch, changes pending only
	///   on bids that count;
	/// - for every account, the budget and deposit holds equal the sums over its bids (pending
	///   replacements' budgets included): what the pallet holds is what its bids may be charged.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;

		let market_count = NextMarketId::<T>::get();
		ensure!(Markets::<T>::count() <= T::MaxMarkets::get(), "more open markets than MaxMarkets");
		ensure!(
			Markets::<T>::count() as usize == Markets::<T>::iter_keys().count(),
			"the open-market count differs from the markets"
		);
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
					outcome.total_allocated <= outcome.capacity,
					"an epoch allocated more than its capacity"
				);
			}
			let bids = Bids::<T>::get(market_id);
			for (index, bid) in bids.iter().enumerate() {
				ensure!(
					bids.iter()
						.skip(index.saturating_add(1))
						.all(|other| other.bidder != bid.bidder),
					"two bids of one bidder in a market"
				);
				ensure!(
					bid.counted_from <= market.epoch.saturating_add(1),
					"a bid counted from beyond the next epoch"
				);
				ensure!(
					bid.counts_in(market.epoch) || bid.next == NextOrder::Keep,
					"a change pending on a bid that does not count yet"
				);
				let held = bid.held_budget();
				let budget = budgets.entry(bid.bidder.clone()).or_insert_with(Zero::zero);
				*budget = budget.saturating_add(held);
				let deposit = deposits.entry(bid.bidder.clone()).or_insert_with(Zero::zero);
				*deposit = deposit.saturating_add(bid.deposit);
			}
		}
		for (market_id, _) in Bids::<T>::iter() {
			ensure!(Markets::<T>::contains_key(market_id), "bids in an unknown market");
		}
		for (market_id, _, _) in EpochOutcomes::<T>::iter() {
			ensure!(Markets::<T>::contains_key(market_id), "outcomes of an unknown market");
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
