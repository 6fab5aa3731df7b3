//! What the calls and the per-block hook do.

use crate::{
	pallet::*, types::*, BalanceOf, BidOf, MarketOf, MarketParamsOf, OrderTermsOf, WeightInfo,
};
use alloc::vec::Vec;
use contract_equilibrium_primitives::{
	clear, clearing_price, curve::CurveError, equilibrium::aggregate_demand, fixed::abs_diff,
	next_price_remembering, BookTotals, DemandCurve, FixedU128, GridOrder, GriddedDemand,
	MarketParams, Order, ParamsError, PriceGrid, StepRule,
};
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Provenance},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating, Zero},
	FixedPointNumber,
};

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
			CurveError::PriceOutOfRange => Error::<T>::ReportedPriceOutOfRange,
			CurveError::SlopeOutOfRange => Error::<T>::SlopeOutOfRange,
		}
	}
}

/// How an order changes a market's book.
#[derive(Clone, Copy)]
pub(crate) enum Entry {
	/// The order's contracts join the book.
	Add,
	/// The order's contracts leave the book.
	Remove,
}

impl Entry {
	/// Adds `order`'s contracts to `totals`, or removes them, and counts it in or out.
	fn apply(self, totals: &mut BookTotals, count: &mut u32, order: &GridOrder, grid: &PriceGrid) {
		match self {
			Entry::Add => {
				totals.add(order, grid);
				*count = count.saturating_add(1);
			},
			Entry::Remove => {
				totals.remove(order, grid);
				*count = count.saturating_sub(1);
			},
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The pallet's escrow account: it holds the budgets of every order not yet settled.
	pub fn escrow_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Makes sure the escrow account exists with the existential deposit, which it keeps for
	/// good: every payment out of it leaves at least that much (`Preservation::Preserve`).
	/// Mints the deposit the first time (at genesis, or in the version-2 migration).
	pub(crate) fn ensure_escrow_account() {
		let account = Self::escrow_account();
		let minimum = T::Currency::minimum_balance();
		let balance = T::Currency::balance(&account);
		if balance < minimum {
			if let Err(error) = T::Currency::mint_into(&account, minimum.saturating_sub(balance)) {
				defensive!("the escrow account could not be created", error);
			}
		}
	}

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
				epoch_length: params.epoch_length,
				params: params.clone(),
			},
		);
		Books::<T>::insert(market, Book::default());
		NextMarketId::<T>::put(next);
		Self::deposit_event(Event::MarketCreated { market, params });
		Ok(())
	}

	pub(crate) fn do_set_market_params(
		market: MarketId,
		params: MarketParamsOf<T>,
	) -> DispatchResult {
		Self::ensure_valid_params(&params)?;
		let bids = Books::<T>::get(market).map_or(0, |book| book.bids);
		Markets::<T>::try_mutate(market, |stored| -> DispatchResult {
			let stored = stored.as_mut().ok_or(Error::<T>::UnknownMarket)?;
			let old = &stored.params;
			let same_terms = old.price_floor == params.price_floor
				&& old.price_ceiling == params.price_ceiling
				&& old.unit_fee == params.unit_fee
				&& old.fixed_fee == params.fixed_fee;
			ensure!(bids == 0 || same_terms, Error::<T>::TermsFixedByBids);
			// A settlement before the next step must not charge a price outside the new bounds.
			stored.price = params.clamp_price(stored.price);
			stored.params = params.clone();
			Ok(())
		})?;
		// A stochastic-approximation rule restarts on new parameters.
		StepMemories::<T>::remove(market);
		Self::deposit_event(Event::MarketParamsUpdated { market, params });
		Ok(())
	}

	/// Closes `market`; returns how many scheduled book changes were dropped.
	pub(crate) fn do_close_market(market: MarketId) -> Result<u32, DispatchError> {
		let stored = Markets::<T>::take(market).ok_or(Error::<T>::UnknownMarket)?;
		StepMemories::<T>::remove(market);
		let mut book = Books::<T>::get(market).unwrap_or_default();
		// At most `MaxOrderEpochs + 1` epochs ahead.
		let changes = BookChanges::<T>::clear_prefix(market, u32::MAX, None).unique;
		// At most `EpochHistoryDepth` entries (more only if the depth was lowered since).
		let _ = EpochOutcomes::<T>::clear_prefix(market, u32::MAX, None);
		let bids = book.bids;
		if bids == 0 {
			Books::<T>::remove(market);
		} else {
			book.totals = BookTotals::default();
			book.counted = 0;
			Books::<T>::insert(market, book);
			ClosedMarkets::<T>::insert(market, stored);
		}
		Self::deposit_event(Event::MarketClosed { market, bids });
		Ok(changes)
	}

	/// The market's price grid.
	fn grid(params: &MarketParamsOf<T>) -> PriceGrid {
		PriceGrid::of(params)
	}

	/// An order's contracts on its market's grid.
	pub(crate) fn grid_order(terms: &OrderTermsOf<T>, params: &MarketParamsOf<T>) -> GridOrder {
		GridOrder {
			order: Order {
				curve: terms.curve,
				budget: Self::to_tokens(terms.budget),
				fixed_fee: params.fixed_fee,
			},
			unit_fee: params.unit_fee,
			exit: usize::from(terms.exit),
		}
	}

	/// The terms of an order of `curve` with `budget` per epoch counting in `from .. until`, its
	/// exit on the market's grid found once, here.
	pub(crate) fn order_terms(
		curve: DemandCurve,
		budget: BalanceOf<T>,
		from: EpochIndex,
		until: EpochIndex,
		params: &MarketParamsOf<T>,
	) -> OrderTermsOf<T> {
		let entered = GridOrder::new(
			Order { curve, budget: Self::to_tokens(budget), fixed_fee: params.fixed_fee },
			params.unit_fee,
			&Self::grid(params),
		);
		OrderTerms {
			curve,
			budget,
			from,
			until,
			exit: u16::try_from(entered.exit).unwrap_or(u16::MAX),
		}
	}

	/// Adds `terms`' contracts to, or removes them from, `market_id`'s book as of epoch
	/// `epoch` (the epoch under way): to the live totals if the order counts in it, otherwise
	/// to the change at the start of its first epoch; and its departure at the start of
	/// `until`. `O(K)`.
	pub(crate) fn enter_book(
		market_id: MarketId,
		book: &mut Book,
		epoch: EpochIndex,
		terms: &OrderTermsOf<T>,
		params: &MarketParamsOf<T>,
		entry: Entry,
	) {
		if terms.until <= epoch || terms.from >= terms.until {
			return;
		}
		let grid = Self::grid(params);
		let order = Self::grid_order(terms, params);
		let apply =
			|totals: &mut BookTotals, count: &mut u32| entry.apply(totals, count, &order, &grid);
		if terms.counts_in(epoch) {
			apply(&mut book.totals, &mut book.counted);
		} else {
			Self::change_book_at(market_id, terms.from, |change| {
				apply(&mut change.entering, &mut change.entering_count)
			});
		}
		Self::change_book_at(market_id, terms.until, |change| {
			apply(&mut change.leaving, &mut change.leaving_count)
		});
	}

	/// Edits the change scheduled for the start of epoch `epoch`; drops it once empty.
	fn change_book_at(market_id: MarketId, epoch: EpochIndex, edit: impl FnOnce(&mut BookChange)) {
		BookChanges::<T>::mutate_exists(market_id, epoch, |change| {
			let mut current = change.take().unwrap_or_default();
			edit(&mut current);
			if current.entering_count > 0 || current.leaving_count > 0 {
				*change = Some(current);
			}
		});
	}

	/// Ends `terms` at the start of epoch `until` instead (`until` after the epoch under way),
	/// moving its departure in the book.
	fn cut_order(
		market_id: MarketId,
		terms: &mut OrderTermsOf<T>,
		until: EpochIndex,
		params: &MarketParamsOf<T>,
	) {
		if until >= terms.until {
			return;
		}
		let grid = Self::grid(params);
		let order = Self::grid_order(terms, params);
		Self::change_book_at(market_id, terms.until, |change| {
			Entry::Remove.apply(&mut change.leaving, &mut change.leaving_count, &order, &grid)
		});
		Self::change_book_at(market_id, until, |change| {
			Entry::Add.apply(&mut change.leaving, &mut change.leaving_count, &order, &grid)
		});
		terms.until = until;
	}

	/// Takes `terms` out of the book from the epoch under way on, and shortens it so that it
	/// counts in no epoch from `epoch` on.
	fn drop_order(
		market_id: MarketId,
		book: &mut Book,
		epoch: EpochIndex,
		terms: &mut OrderTermsOf<T>,
		params: &MarketParamsOf<T>,
	) {
		Self::enter_book(market_id, book, epoch, terms, params, Entry::Remove);
		terms.until = terms.until.min(epoch.max(terms.from));
	}

	/// What escrow the bid needs for the epochs it has not settled: each order's budget for each
	/// of its epochs from `settled_to` on.
	pub(crate) fn escrow_needed(bid: &BidOf<T>) -> BalanceOf<T> {
		bid.orders().fold(Zero::zero(), |sum, terms| {
			let epochs = terms.until.saturating_sub(terms.from.max(bid.settled_to));
			sum.saturating_add(terms.budget.saturating_mul(BalanceOf::<T>::from(epochs)))
		})
	}

	/// A market with bids, open or closed, and its book. Its bids can be settled for the epochs
	/// before `market.epoch`: the epoch under way while it is open, the epoch it was closed in
	/// otherwise.
	fn market_with_book(market_id: MarketId) -> Option<(MarketOf<T>, bool, Book)> {
		let book = Books::<T>::get(market_id)?;
		match Markets::<T>::get(market_id) {
			Some(market) => Some((market, true, book)),
			None => ClosedMarkets::<T>::get(market_id).map(|market| (market, false, book)),
		}
	}

	/// What settling `bid` for the epochs before `through` comes to, epoch by epoch:
	/// `(epoch, its record, allocation, payment)` for each epoch it counted in and has not
	/// settled (a record missing, a defect, settles nothing). At most `2·MaxOrderEpochs` epochs.
	fn due_settlements(
		market_id: MarketId,
		bid: &BidOf<T>,
		params: &MarketParamsOf<T>,
		through: EpochIndex,
	) -> Vec<(EpochIndex, Option<ClearingRecord>, FixedU128, BalanceOf<T>)> {
		let grid = Self::grid(params);
		let mut due = Vec::new();
		for terms in bid.orders() {
			let order = Self::grid_order(&terms, params);
			for epoch in bid.due_epochs(&terms, through) {
				let record = Clearings::<T>::get(market_id, epoch);
				let (allocation, payment) = record.map_or_else(
					|| (FixedU128::zero(), Zero::zero()),
					|record| {
						let outcome = record.clearing.settle(&order, &grid);
						(outcome.allocation, Self::to_balance_up(outcome.payment).min(terms.budget))
					},
				);
				due.push((epoch, record, allocation, payment));
			}
		}
		due
	}

	/// Settles `bid` for the epochs before `through` that it counted in and has not settled:
	/// charges each from its escrow (the payee and fee destination were paid when the epoch
	/// settled), then promotes a pending order whose time has come. Returns how many epochs it
	/// settled. `O(epochs)`, at most `2·MaxOrderEpochs`.
	fn settle_due(
		market_id: MarketId,
		who: &T::AccountId,
		bid: &mut BidOf<T>,
		params: &MarketParamsOf<T>,
		through: EpochIndex,
	) -> u32 {
		let due = Self::due_settlements(market_id, bid, params, through);
		let settled = u32::try_from(due.len()).unwrap_or(u32::MAX);
		for (epoch, record, allocation, payment) in due {
			let Some(mut record) = record else {
				defensive!("a clearing record is missing");
				continue;
			};
			bid.escrow = bid.escrow.saturating_sub(payment);
			record.unsettled = record.unsettled.saturating_sub(1);
			if record.unsettled == 0 {
				Clearings::<T>::remove(market_id, epoch);
			} else {
				Clearings::<T>::insert(market_id, epoch, record);
			}
			Self::deposit_event(Event::BidSettled {
				market: market_id,
				epoch,
				who: who.clone(),
				allocation,
				payment,
			});
		}
		bid.settled_to = bid.settled_to.max(through);
		if let Some(next) = bid.next {
			if bid.order.until <= bid.settled_to {
				bid.order = next;
				bid.next = None;
			}
		}
		settled
	}

	/// What settling `bid` now would allocate and charge it (the runtime API's bid view, and
	/// the invariants' view of what the escrow owes).
	fn unsettled(
		market_id: MarketId,
		bid: &BidOf<T>,
		params: &MarketParamsOf<T>,
		through: EpochIndex,
	) -> (FixedU128, BalanceOf<T>) {
		Self::due_settlements(market_id, bid, params, through).into_iter().fold(
			(FixedU128::zero(), Zero::zero()),
			|(units, paid), (_, _, allocation, payment)| {
				(units.saturating_add(allocation), paid.saturating_add(payment))
			},
		)
	}

	/// Moves `bid`'s escrow to what it needs: takes the shortfall from `who`'s free balance or
	/// refunds the excess. Returns the refund.
	fn adjust_escrow(
		who: &T::AccountId,
		bid: &mut BidOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let needed = Self::escrow_needed(bid);
		if needed > bid.escrow {
			T::Currency::transfer(
				who,
				&Self::escrow_account(),
				needed.saturating_sub(bid.escrow),
				Preservation::Preserve,
			)?;
			bid.escrow = needed;
			Ok(Zero::zero())
		} else {
			let refund = bid.escrow.saturating_sub(needed);
			Self::refund(who, refund);
			bid.escrow = needed;
			Ok(refund)
		}
	}

	/// Pays `amount` back from escrow to `who`. The escrow always holds what its bids are owed
	/// (an invariant), so a failure is a defect: it is reported and the funds stay in escrow.
	fn refund(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		if let Err(error) =
			T::Currency::transfer(&Self::escrow_account(), who, amount, Preservation::Preserve)
		{
			defensive!("an escrow refund failed", error);
		}
	}

	/// Removes a settled bid: refunds what is left of its escrow and releases its deposit.
	/// Returns what was returned.
	fn remove_bid(market_id: MarketId, who: &T::AccountId, bid: &BidOf<T>) -> BalanceOf<T> {
		Bids::<T>::remove(market_id, who);
		Self::refund(who, bid.escrow);
		let released = T::Currency::release(
			&HoldReason::BidDeposit.into(),
			who,
			bid.deposit,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| Zero::zero());
		Books::<T>::mutate_exists(market_id, |book| {
			if let Some(stored) = book {
				stored.bids = stored.bids.saturating_sub(1);
				if stored.bids == 0 && !Markets::<T>::contains_key(market_id) {
					*book = None;
					ClosedMarkets::<T>::remove(market_id);
				}
			}
		});
		let returned = bid.escrow.saturating_add(released);
		Self::deposit_event(Event::DemandWithdrawn {
			market: market_id,
			who: who.clone(),
			released: returned,
		});
		returned
	}

	/// Places or replaces `who`'s order; returns how many bids the market holds and how many
	/// epochs of the old orders it settled.
	pub(crate) fn do_submit_demand(
		who: T::AccountId,
		market_id: MarketId,
		curve: DemandCurve,
		budget: BalanceOf<T>,
		epochs: u32,
	) -> Result<(u32, u32), DispatchError> {
		curve.validate().map_err(Error::<T>::from)?;
		let market = Markets::<T>::get(market_id).ok_or(Error::<T>::UnknownMarket)?;
		let mut book = Books::<T>::get(market_id).ok_or(Error::<T>::UnknownMarket)?;
		let deposit = T::BidDeposit::get();
		ensure!(budget >= deposit, Error::<T>::BudgetBelowDeposit);
		ensure!(epochs > 0 && epochs <= T::MaxOrderEpochs::get(), Error::<T>::EpochsOutOfRange);
		let params = &market.params;
		let epoch = market.epoch;
		let sealed = frame_system::Pallet::<T>::block_number() >= market.seal_block();
		let from = if sealed { epoch.saturating_add(1) } else { epoch };
		let terms = Self::order_terms(curve, budget, from, from.saturating_add(epochs), params);

		let existing = Bids::<T>::get(market_id, &who);
		if existing.is_none() {
			ensure!(book.bids < T::MaxBidders::get(), Error::<T>::TooManyBidders);
		}
		// Checks done but for the funds, which the storage layer rolls back with everything
		// else if they fall short.
		let mut settled = 0;
		let mut bid = match existing {
			Some(mut bid) => {
				settled = Self::settle_due(market_id, &who, &mut bid, params, epoch);
				if let Some(mut pending) = bid.next.take() {
					Self::drop_order(market_id, &mut book, epoch, &mut pending, params);
				}
				if sealed && bid.order.counts_in(epoch) {
					// The old order settles the epoch under way; the new one follows it.
					Self::cut_order(market_id, &mut bid.order, from, params);
					bid.next = Some(terms);
				} else {
					Self::drop_order(market_id, &mut book, epoch, &mut bid.order, params);
					bid.order = terms;
				}
				bid
			},
			None => {
				ensure!(
					T::Currency::reducible_balance(&who, Preservation::Preserve, Fortitude::Polite)
						>= deposit
							.saturating_add(budget.saturating_mul(BalanceOf::<T>::from(epochs))),
					Error::<T>::InsufficientBalance
				);
				T::Currency::hold(&HoldReason::BidDeposit.into(), &who, deposit)?;
				book.bids = book.bids.saturating_add(1);
				Bid { order: terms, next: None, settled_to: epoch, escrow: Zero::zero(), deposit }
			},
		};
		Self::enter_book(market_id, &mut book, epoch, &terms, params, Entry::Add);
		Self::adjust_escrow(&who, &mut bid).map_err(|_| Error::<T>::InsufficientBalance)?;
		let bids = book.bids;
		Bids::<T>::insert(market_id, &who, bid);
		Books::<T>::insert(market_id, book);
		Self::deposit_event(Event::DemandSubmitted {
			market: market_id,
			who,
			curve,
			budget,
			counts_from: terms.from,
			counts_until: terms.until,
		});
		Ok((bids, settled))
	}

	/// Records `who`'s report that it demands `quantity` units at `price`: its latest order's
	/// curve becomes the line through this point and the one before
	/// ([`DemandCurve::after_report`]), with the same budget per epoch and the same last epoch,
	/// placed as [`Self::do_submit_demand`] places it. Returns what that returns.
	pub(crate) fn do_report_demand(
		who: T::AccountId,
		market_id: MarketId,
		quantity: FixedU128,
		price: FixedU128,
	) -> Result<(u32, u32), DispatchError> {
		let market = Markets::<T>::get(market_id).ok_or(Error::<T>::UnknownMarket)?;
		let bid = Bids::<T>::get(market_id, &who).ok_or(Error::<T>::NoDemand)?;
		let latest = bid.next.unwrap_or(bid.order);
		ensure!(
			matches!(latest.curve, DemandCurve::Linear { .. } | DemandCurve::Quantity { .. }),
			Error::<T>::NotReporting
		);
		let curve = DemandCurve::after_report(
			&latest.curve,
			quantity,
			price,
			Self::grid(&market.params).width_above(price),
		);
		curve.validate().map_err(Error::<T>::from)?;
		let sealed = frame_system::Pallet::<T>::block_number() >= market.seal_block();
		let from = if sealed { market.epoch.saturating_add(1) } else { market.epoch };
		let epochs = latest.until.saturating_sub(from.max(latest.from));
		ensure!(epochs > 0, Error::<T>::OrderEnded);
		Self::do_submit_demand(who, market_id, curve, latest.budget, epochs)
	}

	/// Withdraws `who`'s order; returns how many epochs it settled.
	pub(crate) fn do_withdraw_demand(
		who: T::AccountId,
		market_id: MarketId,
	) -> Result<u32, DispatchError> {
		let (market, open, mut book) =
			Self::market_with_book(market_id).ok_or(Error::<T>::UnknownMarket)?;
		let mut bid = Bids::<T>::get(market_id, &who).ok_or(Error::<T>::NoDemand)?;
		if !open {
			// A closed market: settle what is due and leave.
			let settled = Self::settle_due(market_id, &who, &mut bid, &market.params, market.epoch);
			Self::remove_bid(market_id, &who, &bid);
			return Ok(settled);
		}
		let params = &market.params;
		let epoch = market.epoch;
		let sealed = frame_system::Pallet::<T>::block_number() >= market.seal_block();
		// Settled first: a pending order whose time has come is the order in force now.
		let settled = Self::settle_due(market_id, &who, &mut bid, params, epoch);
		let leaving_after = sealed && bid.order.counts_in(epoch);
		ensure!(
			!(leaving_after && bid.next.is_none() && bid.order.until == epoch.saturating_add(1)),
			Error::<T>::AlreadyWithdrawing
		);
		if let Some(mut pending) = bid.next.take() {
			Self::drop_order(market_id, &mut book, epoch, &mut pending, params);
		}
		if leaving_after {
			Self::cut_order(market_id, &mut bid.order, epoch.saturating_add(1), params);
			Self::adjust_escrow(&who, &mut bid)?;
			Bids::<T>::insert(market_id, &who, bid);
			Books::<T>::insert(market_id, book);
			Self::deposit_event(Event::DemandWithdrawalScheduled {
				market: market_id,
				who,
				leaves_after: epoch,
			});
		} else {
			Self::drop_order(market_id, &mut book, epoch, &mut bid.order, params);
			Books::<T>::insert(market_id, book);
			Self::remove_bid(market_id, &who, &bid);
		}
		Ok(settled)
	}

	/// Settles `who`'s bid; removes it once it has ended or its market has closed. Returns how
	/// many epochs it settled.
	pub(crate) fn do_settle_bid(
		who: T::AccountId,
		market_id: MarketId,
	) -> Result<u32, DispatchError> {
		let (market, open, _) =
			Self::market_with_book(market_id).ok_or(Error::<T>::UnknownMarket)?;
		let mut bid = Bids::<T>::get(market_id, &who).ok_or(Error::<T>::NoDemand)?;
		let through = market.epoch;
		let settled = Self::settle_due(market_id, &who, &mut bid, &market.params, through);
		if !open {
			Self::remove_bid(market_id, &who, &bid);
			return Ok(settled);
		}
		let ended = bid.next.is_none() && bid.order.until <= through;
		if ended {
			Self::remove_bid(market_id, &who, &bid);
			return Ok(settled);
		}
		ensure!(settled > 0, Error::<T>::NothingToSettle);
		Self::adjust_escrow(&who, &mut bid)?;
		Bids::<T>::insert(market_id, &who, bid);
		Ok(settled)
	}

	/// Settles and removes the bids of closed markets, as many as `limit` has room for (each
	/// charged as the heaviest `settle_bid`); returns the weight used.
	pub(crate) fn do_sweep_closed_markets(limit: Weight) -> Weight {
		let per_bid = T::WeightInfo::settle_bid(T::MaxOrderEpochs::get().saturating_mul(2));
		let mut used = T::DbWeight::get().reads(1);
		if used.any_gt(limit) {
			return Weight::zero();
		}
		let Some((market_id, market)) = ClosedMarkets::<T>::iter().next() else {
			return used;
		};
		let mut batch = Vec::new();
		for (who, bid) in Bids::<T>::iter_prefix(market_id) {
			if used.saturating_add(per_bid).any_gt(limit) {
				break;
			}
			used.saturating_accrue(per_bid);
			batch.push((who, bid));
		}
		for (who, mut bid) in batch {
			Self::settle_due(market_id, &who, &mut bid, &market.params, market.epoch);
			Self::remove_bid(market_id, &who, &bid);
		}
		used
	}

	/// The per-block work: for every market, settle if its epoch ends, then step the price.
	pub(crate) fn do_on_initialize(now: BlockNumberFor<T>) -> Weight {
		// The open markets (at most `MaxMarkets`), read once, in the order they were created.
		let mut markets: Vec<(MarketId, MarketOf<T>)> = Markets::<T>::iter().collect();
		markets.sort_unstable_by_key(|(market_id, _)| *market_id);
		let mut weight = T::WeightInfo::on_initialize_base(markets.len() as u32);
		for (market_id, mut market) in markets {
			let mut book = Books::<T>::get(market_id).unwrap_or_default();
			let remembers = matches!(market.params.step_rule, StepRule::RobbinsMonro { .. });
			if now >= market.epoch_end() {
				Self::settle_epoch(market_id, &mut market, &mut book, now);
				Books::<T>::insert(market_id, &book);
				weight.saturating_accrue(T::WeightInfo::settle_epoch(book.bids));
				if remembers {
					// `settlement_price` reads the rule's memory.
					weight.saturating_accrue(T::DbWeight::get().reads(1));
				}
			}
			// A Robbins–Monro epoch settles at the average of its sealed half's prices only: the
			// book is fixed then, so orders that leave before the seal cannot move it.
			let sealing = now == market.seal_block();
			Self::step_price(market_id, &mut market, &book, sealing);
			weight.saturating_accrue(if remembers {
				T::WeightInfo::step_price_remembering(book.bids)
			} else {
				T::WeightInfo::step_price(book.bids)
			});
			Markets::<T>::insert(market_id, market);
		}
		weight
	}

	/// Moves the market's price one step of its rule, on its book's demand.
	/// With `sealing` (the first block of the epoch's sealed half), a Robbins–Monro rule starts
	/// its average afresh.
	pub(crate) fn step_price(
		market_id: MarketId,
		market: &mut MarketOf<T>,
		book: &Book,
		sealing: bool,
	) {
		let demand = [GriddedDemand { grid: Self::grid(&market.params), totals: &book.totals }];
		let remembers = matches!(market.params.step_rule, StepRule::RobbinsMonro { .. });
		let mut memory =
			if remembers { StepMemories::<T>::get(market_id) } else { Default::default() };
		if sealing {
			memory.averaged = 0;
			memory.average_price = FixedU128::zero();
		}
		let step = next_price_remembering(&demand, &market.params, market.price, &mut memory);
		if remembers {
			StepMemories::<T>::insert(market_id, memory);
		}
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
	pub(crate) fn to_tokens(balance: BalanceOf<T>) -> FixedU128 {
		FixedU128::checked_from_rational(balance, T::BalanceUnit::get())
			.unwrap_or_else(FixedU128::zero)
	}

	/// The price an epoch of `market` settles at: the posted price, or for a Robbins–Monro
	/// market the average of the prices posted since its sealed half began (or since the rule
	/// last restarted, if later), clamped into the bounds; the posted price before any.
	pub(crate) fn settlement_price(market_id: MarketId, market: &MarketOf<T>) -> FixedU128 {
		if !matches!(market.params.step_rule, StepRule::RobbinsMonro { .. }) {
			return market.price;
		}
		let memory = StepMemories::<T>::get(market_id);
		if memory.averaged == 0 {
			market.price
		} else {
			market.params.clamp_price(memory.average_price)
		}
	}

	/// Settles the epoch under way of `market` at its posted price (or its average, see
	/// [`Self::settlement_price`]), in `O(log K)`: records its
	/// clearing for the bids to settle from, pays the payee and the fee destination what the
	/// book's totals say the bids owe, records the outcome and starts the next epoch with the
	/// changes scheduled for it.
	pub(crate) fn settle_epoch(
		market_id: MarketId,
		market: &mut MarketOf<T>,
		book: &mut Book,
		now: BlockNumberFor<T>,
	) {
		let params = &market.params;
		let epoch = market.epoch;
		let grid = Self::grid(params);
		let (mut clearing, mut owed) = clear(
			&grid,
			&book.totals,
			params.unit_fee,
			params.fixed_fee,
			params.capacity,
			Self::settlement_price(market_id, market),
		);
		let to_payee = Self::to_balance(owed.to_payee);
		let fees = Self::to_balance(owed.fees);
		let fee_destination = T::FeeDestination::get();
		let can_receive = |who: &T::AccountId, amount: BalanceOf<T>| {
			amount.is_zero()
				|| T::Currency::can_deposit(who, amount, Provenance::Extant).into_result().is_ok()
		};
		// Both payments happen or neither does; then nobody is allocated anything either.
		let paid = can_receive(&params.payee, to_payee)
			&& can_receive(&fee_destination, fees)
			&& frame_support::storage::with_storage_layer(|| {
				let escrow = Self::escrow_account();
				for (recipient, amount) in [(&params.payee, to_payee), (&fee_destination, fees)] {
					if !amount.is_zero() {
						T::Currency::transfer(&escrow, recipient, amount, Preservation::Preserve)?;
					}
				}
				Ok::<_, DispatchError>(())
			})
			.map_err(|error| {
				defensive!("an epoch's payout failed; it allocates nothing", error);
			})
			.is_ok();
		if !paid {
			log::warn!(
				target: "runtime::contract-equilibrium",
				"market {market_id}, epoch {epoch}: a payout recipient cannot receive it; the epoch allocates nothing"
			);
			clearing.lower_weight = FixedU128::zero();
			clearing.upper_weight = FixedU128::zero();
			owed.allocated = FixedU128::zero();
			owed.participants = 0;
		}
		if book.counted > 0 {
			Clearings::<T>::insert(
				market_id,
				epoch,
				ClearingRecord { clearing, unsettled: book.counted },
			);
		}
		let outcome = EpochOutcome {
			clearing,
			demand: owed.demand,
			total_allocated: owed.allocated,
			bidders: book.counted,
			participants: owed.participants,
			total_paid: if paid { to_payee.saturating_add(fees) } else { Zero::zero() },
			capacity: params.capacity,
		};
		EpochOutcomes::<T>::insert(market_id, epoch, outcome.clone());
		if let Some(expired) = epoch.checked_sub(T::EpochHistoryDepth::get()) {
			EpochOutcomes::<T>::remove(market_id, expired);
		}
		Self::deposit_event(Event::EpochSettled { market: market_id, epoch, outcome });

		let next = epoch.saturating_add(1);
		if let Some(change) = BookChanges::<T>::take(market_id, next) {
			book.totals.merge(&change.entering);
			book.totals.subtract(&change.leaving);
			book.counted = book
				.counted
				.saturating_add(change.entering_count)
				.saturating_sub(change.leaving_count);
		}
		market.epoch = next;
		market.epoch_start = now;
		// A new epoch length set by governance applies from the epoch that starts now.
		market.epoch_length = market.params.epoch_length;
	}

	/// The runtime API's market view.
	pub fn market_view(market: MarketId) -> Option<MarketView<T::AccountId, BlockNumberFor<T>>> {
		let stored = Markets::<T>::get(market)?;
		Some(MarketView {
			market: stored,
			bidders: Books::<T>::get(market).map_or(0, |book| book.bids),
		})
	}

	/// The runtime API's equilibrium view: the exact `μ*` of the book that counts now.
	pub fn equilibrium_view(market: MarketId) -> Option<EquilibriumView> {
		let stored = Markets::<T>::get(market)?;
		let book = Books::<T>::get(market).unwrap_or_default();
		let params = &stored.params;
		let demand = [GriddedDemand { grid: Self::grid(params), totals: &book.totals }];
		let clearing = clearing_price(&demand, params);
		let demand_now =
			aggregate_demand(&demand, params.unit_fee, params.clamp_price(stored.price));
		Some(EquilibriumView {
			clearing_price: clearing,
			demand_at_clearing_price: aggregate_demand(&demand, params.unit_fee, clearing),
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
			Self::settlement_price(market, &stored),
		);
		Some(QuoteView {
			allocation: quote.allocation,
			payment: quote.payment,
			payment_in_balance: Self::to_balance_up(quote.payment),
		})
	}

	/// The runtime API's bid view: the bid, and what settling it now would allocate and charge.
	pub fn bid_view(market: MarketId, who: T::AccountId) -> Option<BidView<BalanceOf<T>>> {
		let bid = Bids::<T>::get(market, who)?;
		let (stored, _, _) = Self::market_with_book(market)?;
		let (allocation, payment) = Self::unsettled(market, &bid, &stored.params, stored.epoch);
		Some(BidView { bid, unsettled_allocation: allocation, unsettled_payment: payment })
	}

	/// The pallet's invariants:
	/// - at most `MaxMarkets` open markets, counted right, each with a valid parameter set, its
	///   price within `[μ_min, μ_max]` and a book;
	/// - every recorded epoch allocated at most the capacity it had then;
	/// - each book equals the sum of the contracts of the orders that count in its epoch under
	///   way, counts them and its bids right, and each scheduled change equals the orders that
	///   start and stop counting then;
	/// - every clearing record is still needed by exactly as many bids as it says;
	/// - each bid's escrow is what its unsettled epochs may cost, its deposit is held, and the
	///   escrow account holds at least the existential deposit plus everything its bids have
	///   not yet been charged.
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
		for (market_id, market) in Markets::<T>::iter() {
			ensure!(market_id < market_count, "a market beyond NextMarketId");
			ensure!(market.params.validate().is_ok(), "a market with invalid parameters");
			ensure!(
				market.price >= market.params.price_floor
					&& market.price <= market.params.price_ceiling,
				"a price outside its bounds"
			);
			ensure!(Books::<T>::contains_key(market_id), "an open market without a book");
			for (_, outcome) in EpochOutcomes::<T>::iter_prefix(market_id) {
				ensure!(
					outcome.total_allocated <= outcome.capacity,
					"an epoch allocated more than its capacity"
				);
			}
		}
		for (market_id, memory) in StepMemories::<T>::iter() {
			let market = Markets::<T>::get(market_id).ok_or("a step memory without its market")?;
			ensure!(
				matches!(market.params.step_rule, StepRule::RobbinsMonro { .. }),
				"a step memory for a rule that remembers nothing"
			);
			ensure!(
				memory.averaged == 0
					|| (memory.average_price >= market.params.price_floor
						&& memory.average_price <= market.params.price_ceiling),
				"an average price outside its market's bounds"
			);
		}
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut owed_by_escrow: BalanceOf<T> = Zero::zero();
		for (market_id, book) in Books::<T>::iter() {
			let (market, open, _) =
				Self::market_with_book(market_id).ok_or("a book without its market")?;
			let through = market.epoch;
			let params = &market.params;
			let mut expected = Book::default();
			let mut changes: BTreeMap<EpochIndex, BookChange> = BTreeMap::new();
			let mut needed: BTreeMap<EpochIndex, u32> = BTreeMap::new();
			for (who, bid) in Bids::<T>::iter_prefix(market_id) {
				expected.bids = expected.bids.saturating_add(1);
				ensure!(bid.settled_to <= through, "a bid settled beyond its market");
				ensure!(bid.escrow == Self::escrow_needed(&bid), "escrow differs from the budgets");
				if let Some(next) = bid.next {
					ensure!(next.from == bid.order.until, "a pending order that does not follow");
				}
				let deposit = deposits.entry(who.clone()).or_insert_with(Zero::zero);
				*deposit = deposit.saturating_add(bid.deposit);
				for terms in bid.orders() {
					for epoch in bid.due_epochs(&terms, through) {
						let count = needed.entry(epoch).or_insert(0);
						*count = count.saturating_add(1);
					}
				}
				let (_, unsettled) = Self::unsettled(market_id, &bid, params, through);
				owed_by_escrow =
					owed_by_escrow.saturating_add(bid.escrow.saturating_sub(unsettled));
				let grid = Self::grid(params);
				for terms in bid.orders() {
					let order = Self::grid_order(&terms, params);
					if terms.until <= through || terms.from >= terms.until {
						continue;
					}
					if terms.counts_in(through) {
						expected.totals.add(&order, &grid);
						expected.counted = expected.counted.saturating_add(1);
					} else {
						let change = changes.entry(terms.from).or_default();
						change.entering.add(&order, &grid);
						change.entering_count = change.entering_count.saturating_add(1);
					}
					let change = changes.entry(terms.until).or_default();
					change.leaving.add(&order, &grid);
					change.leaving_count = change.leaving_count.saturating_add(1);
				}
			}
			ensure!(book.bids == expected.bids, "a book miscounts its bids");
			ensure!(open || book.bids > 0, "a closed market kept without bids");
			if open {
				ensure!(book.counted == expected.counted, "a book miscounts its orders");
				ensure!(book.totals == expected.totals, "a book differs from its orders");
				let stored: BTreeMap<EpochIndex, BookChange> =
					BookChanges::<T>::iter_prefix(market_id).collect();
				ensure!(stored == changes, "scheduled book changes differ from the orders");
				ensure!(
					stored.keys().all(|epoch| *epoch > through
						&& *epoch
							<= through.saturating_add(T::MaxOrderEpochs::get()).saturating_add(1)),
					"a book change outside the epochs ahead"
				);
			}
			let records: BTreeMap<EpochIndex, u32> = Clearings::<T>::iter_prefix(market_id)
				.map(|(epoch, record)| (epoch, record.unsettled))
				.collect();
			ensure!(records == needed, "clearing records differ from the bids that need them");
		}
		for (market_id, _, _) in Bids::<T>::iter() {
			ensure!(Books::<T>::contains_key(market_id), "a bid in an unknown market");
		}
		for (market_id, _) in ClosedMarkets::<T>::iter() {
			ensure!(!Markets::<T>::contains_key(market_id), "a market both open and closed");
			ensure!(Books::<T>::contains_key(market_id), "a closed market without its book");
		}
		for (market_id, _) in BookChanges::<T>::iter_keys() {
			ensure!(Markets::<T>::contains_key(market_id), "book changes of a closed market");
		}
		for (market_id, _, _) in EpochOutcomes::<T>::iter() {
			ensure!(Markets::<T>::contains_key(market_id), "outcomes of an unknown market");
		}
		for (who, deposit) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::BidDeposit.into(), &who) == deposit,
				"deposit hold differs from the bids' deposits"
			);
		}
		let escrow = T::Currency::balance(&Self::escrow_account());
		if Bids::<T>::iter_keys().next().is_some() || !escrow.is_zero() {
			ensure!(
				escrow >= T::Currency::minimum_balance().saturating_add(owed_by_escrow),
				"the escrow holds less than its bids are owed"
			);
		}
		Ok(())
	}
}
