//! What the calls do, interest accrual, solvency checks and the invariants.

use crate::{
	pallet::*, weights::WeightInfo, Market, MarketId, MarketOf, MarketParams, MarketState,
	MarketTuning, Position,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		fungibles::Mutate,
		tokens::{Precision, Preservation},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidity_market_primitives::{
	borrow_limit, debt_of, discounted_price, liquidation,
	queue::{
		bucket_at, bucket_bit, first_liquidatable_bucket, highest_bit, highest_word,
		position_bucket, threshold_bucket, word_bit,
	},
	to_assets, to_debt_shares, to_shares, utilization, Accrual, FixedU128, Liquidation, Priced,
	RiskParams,
};
use pallet_oracle::PriceOracle;
use sp_runtime::helpers_128bit::multiply_by_rational_with_rounding;
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating, UniqueSaturatedInto},
	Perbill, Rounding,
};

impl<T: Config> Pallet<T> {
	/// The pallet's account: it holds every market's assets.
	pub fn account_id() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	pub(crate) fn do_create_market(params: MarketParams<T::AssetId>) -> DispatchResult {
		ensure!(params.loan_asset != params.collateral_asset, Error::<T>::SameAsset);
		params.rate_model.validate().map_err(|_| Error::<T>::InvalidRateModel)?;
		params.risk.validate().map_err(|_| Error::<T>::InvalidRiskParams)?;
		// Markets are never removed: the identifiers count them.
		let market = NextMarketId::<T>::get();
		ensure!(market < T::MaxMarkets::get(), Error::<T>::TooManyMarkets);
		let state = MarketState {
			borrow_index: FixedU128::one(),
			rate_at_target: params.rate_model.initial_rate_at_target(),
			last_accrued: frame_system::Pallet::<T>::block_number(),
			..Default::default()
		};
		Markets::<T>::insert(
			market,
			Market {
				params: params.clone(),
				state,
				threshold_target: None,
				pause: Default::default(),
			},
		);
		NextMarketId::<T>::put(market.checked_add(1).ok_or(Error::<T>::Overflow)?);
		Self::deposit_event(Event::MarketCreated { market, params });
		Ok(())
	}

	pub(crate) fn do_tune_market(market: MarketId, tuning: MarketTuning) -> DispatchResult {
		// Interest so far accrues at the old parameters.
		let mut stored = Self::accrued(market)?;
		if let Some(model) = tuning.rate_model {
			model.validate().map_err(|_| Error::<T>::InvalidRateModel)?;
			if model != stored.params.rate_model {
				stored.params.rate_model = model;
				stored.state.rate_at_target = model.initial_rate_at_target();
			}
		}
		if let Some(reserve_factor) = tuning.reserve_factor {
			stored.params.reserve_factor = reserve_factor;
		}
		if let Some(risk) = tuning.risk {
			risk.validate().map_err(|_| Error::<T>::InvalidRiskParams)?;
			let current = stored.params.risk.liquidation_threshold;
			if risk.liquidation_threshold <= current {
				// Everything else at once; the threshold stays and comes down gradually, so the
				// parameters in force must be valid with it too (e.g. a larger bonus).
				let in_force = RiskParams { liquidation_threshold: current, ..risk };
				in_force.validate().map_err(|_| Error::<T>::InvalidRiskParams)?;
				stored.params.risk = in_force;
				// The threshold in force again keeps a ramp under way.
				if risk.liquidation_threshold < current {
					stored.threshold_target = Some(risk.liquidation_threshold);
				}
			} else {
				stored.params.risk = risk;
				stored.threshold_target = None;
			}
		}
		if let Some(cap) = tuning.supply_cap {
			stored.params.supply_cap = cap;
		}
		if let Some(cap) = tuning.borrow_cap {
			stored.params.borrow_cap = cap;
		}
		if let Some(pause) = tuning.pause {
			stored.pause = pause;
		}
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::MarketTuned { market, tuning });
		Ok(())
	}

	pub(crate) fn do_supply(who: T::AccountId, market: MarketId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		ensure!(!stored.pause.supply, Error::<T>::Paused);
		let state = &mut stored.state;
		let supplied = state.supplied();
		let after = supplied.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		ensure!(after <= stored.params.supply_cap, Error::<T>::SupplyCapReached);
		let shares = to_shares(amount, supplied, state.supply_shares, Rounding::Down)
			.ok_or(Error::<T>::Overflow)?;
		ensure!(shares > 0, Error::<T>::ZeroShares);
		state.cash = state.cash.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		state.supply_shares =
			state.supply_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		Self::update_position(market, &who, |position| {
			position.supply_shares =
				position.supply_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.loan_asset.clone(),
			&who,
			&Self::account_id(),
			amount,
			Preservation::Preserve,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::Supplied { market, who, amount, shares });
		Ok(())
	}

	pub(crate) fn do_withdraw(who: T::AccountId, market: MarketId, shares: u128) -> DispatchResult {
		ensure!(shares > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		let state = &mut stored.state;
		let owned = Positions::<T>::get(market, &who).map_or(0, |position| position.supply_shares);
		ensure!(owned >= shares, Error::<T>::InsufficientShares);
		let amount = to_assets(shares, state.supplied(), state.supply_shares, Rounding::Down)
			.ok_or(Error::<T>::Overflow)?;
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(amount <= state.cash, Error::<T>::InsufficientCash);
		state.cash = state.cash.saturating_sub(amount);
		state.supply_shares = state.supply_shares.saturating_sub(shares);
		Self::update_position(market, &who, |position| {
			position.supply_shares = position.supply_shares.saturating_sub(shares);
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.loan_asset.clone(),
			&Self::account_id(),
			&who,
			amount,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::Withdrawn { market, who, amount, shares });
		Ok(())
	}

	pub(crate) fn do_deposit_collateral(
		who: T::AccountId,
		market: MarketId,
		amount: u128,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		stored.state.total_collateral =
			stored.state.total_collateral.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		Self::update_position(market, &who, |position| {
			position.collateral =
				position.collateral.checked_add(amount).ok_or(Error::<T>::Overflow)?;
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.collateral_asset.clone(),
			&who,
			&Self::account_id(),
			amount,
			Preservation::Preserve,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::CollateralDeposited { market, who, amount });
		Ok(())
	}

	pub(crate) fn do_withdraw_collateral(
		who: T::AccountId,
		market: MarketId,
		amount: u128,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		let mut position = Positions::<T>::get(market, &who).unwrap_or_default();
		ensure!(position.collateral >= amount, Error::<T>::InsufficientCollateral);
		position.collateral = position.collateral.saturating_sub(amount);
		Self::ensure_solvent(&stored.params, &stored.state, &position)?;
		stored.state.total_collateral = stored.state.total_collateral.saturating_sub(amount);
		Self::update_position(market, &who, |stored_position| {
			*stored_position = position;
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.collateral_asset.clone(),
			&Self::account_id(),
			&who,
			amount,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::CollateralWithdrawn { market, who, amount });
		Ok(())
	}

	pub(crate) fn do_borrow(who: T::AccountId, market: MarketId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		ensure!(!stored.pause.borrow, Error::<T>::Paused);
		let state = &mut stored.state;
		ensure!(amount <= state.cash, Error::<T>::InsufficientCash);
		let borrows = state.total_borrows.checked_add(amount).ok_or(Error::<T>::Overflow)?;
		ensure!(borrows <= stored.params.borrow_cap, Error::<T>::BorrowCapReached);
		// Debt shares round up: the borrower owes at least what it took.
		let shares = to_debt_shares(amount, state.total_borrows, state.borrow_shares, Rounding::Up)
			.ok_or(Error::<T>::Overflow)?;
		state.total_borrows = borrows;
		state.borrow_shares =
			state.borrow_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		state.cash = state.cash.saturating_sub(amount);
		let mut position = Positions::<T>::get(market, &who).unwrap_or_default();
		position.borrow_shares =
			position.borrow_shares.checked_add(shares).ok_or(Error::<T>::Overflow)?;
		Self::ensure_solvent(&stored.params, &stored.state, &position)?;
		Self::ensure_not_dust(&stored.params, &stored.state, &position)?;
		Self::update_position(market, &who, |stored_position| {
			*stored_position = position;
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.loan_asset.clone(),
			&Self::account_id(),
			&who,
			amount,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::Borrowed { market, who, amount, shares });
		Ok(())
	}

	pub(crate) fn do_repay(who: T::AccountId, market: MarketId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		let state = &mut stored.state;
		let owed_shares =
			Positions::<T>::get(market, &who).map_or(0, |position| position.borrow_shares);
		ensure!(owed_shares > 0, Error::<T>::NoDebt);
		let debt = Self::debt(state, owed_shares)?;
		let paid = amount.min(debt);
		let shares = Self::retire_debt(state, owed_shares, debt, paid)?;
		state.cash = state.cash.checked_add(paid).ok_or(Error::<T>::Overflow)?;
		let left =
			Position { borrow_shares: owed_shares.saturating_sub(shares), ..Default::default() };
		Self::ensure_not_dust(&stored.params, &stored.state, &left)?;
		Self::update_position(market, &who, |position| {
			position.borrow_shares = position.borrow_shares.saturating_sub(shares);
			Ok(())
		})?;
		T::Assets::transfer(
			stored.params.loan_asset.clone(),
			&who,
			&Self::account_id(),
			paid,
			Preservation::Preserve,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::Repaid { market, who, amount: paid, shares });
		Ok(())
	}

	/// Liquidates `borrower`'s position in `market` for at most `requested` of its debt: paid by
	/// `liquidator`, who receives the seized collateral, or with `None` taken over by the
	/// market (`absorbed_debt`, `absorbed_collateral`). Writes off what no collateral covers.
	/// Returns what was done.
	pub(crate) fn do_liquidate(
		liquidator: Option<T::AccountId>,
		market: MarketId,
		borrower: T::AccountId,
		requested: u128,
	) -> Result<Liquidation, DispatchError> {
		let mut stored = Self::accrued(market)?;
		ensure!(!stored.pause.liquidation, Error::<T>::Paused);
		let (loan, collateral) = Self::liquidation_prices(&stored.params)?;
		let mut position = Positions::<T>::get(market, &borrower).unwrap_or_default();
		ensure!(position.borrow_shares > 0, Error::<T>::NoDebt);
		let state = &mut stored.state;
		let debt = Self::debt(state, position.borrow_shares)?;
		let outcome = liquidation(
			debt,
			loan,
			position.collateral,
			collateral,
			&stored.params.risk,
			requested,
		);
		ensure!(outcome != Liquidation::default(), Error::<T>::NotLiquidatable);
		ensure!(liquidator.is_none() || outcome.repaid <= requested, Error::<T>::MaxRepayTooLow);
		let settled = outcome.repaid.saturating_add(outcome.bad_debt);
		let shares = Self::retire_debt(state, position.borrow_shares, debt, settled)?;
		position.borrow_shares = position.borrow_shares.saturating_sub(shares);
		position.collateral = position.collateral.saturating_sub(outcome.seized);
		state.total_collateral = state.total_collateral.saturating_sub(outcome.seized);
		match &liquidator {
			Some(_) => {
				state.cash = state.cash.checked_add(outcome.repaid).ok_or(Error::<T>::Overflow)?
			},
			None => {
				state.absorbed_debt =
					state.absorbed_debt.checked_add(outcome.repaid).ok_or(Error::<T>::Overflow)?;
				state.absorbed_collateral = state
					.absorbed_collateral
					.checked_add(outcome.seized)
					.ok_or(Error::<T>::Overflow)?;
			},
		}
		let from_reserves = Self::write_off(state, outcome.bad_debt);
		Self::update_position(market, &borrower, |stored_position| {
			*stored_position = position;
			Ok(())
		})?;
		if let Some(liquidator) = &liquidator {
			if outcome.repaid > 0 {
				T::Assets::transfer(
					stored.params.loan_asset.clone(),
					liquidator,
					&Self::account_id(),
					outcome.repaid,
					Preservation::Preserve,
				)?;
			}
			if outcome.seized > 0 {
				T::Assets::transfer(
					stored.params.collateral_asset.clone(),
					&Self::account_id(),
					liquidator,
					outcome.seized,
					Preservation::Expendable,
				)?;
			}
		}
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::Liquidated {
			market,
			borrower: borrower.clone(),
			liquidator,
			repaid: outcome.repaid,
			seized: outcome.seized,
		});
		if outcome.bad_debt > 0 {
			Self::deposit_event(Event::BadDebt {
				market,
				borrower: Some(borrower),
				amount: outcome.bad_debt,
				from_reserves,
			});
		}
		Ok(outcome)
	}

	pub(crate) fn do_buy_collateral(
		who: T::AccountId,
		market: MarketId,
		amount: u128,
		max_payment: u128,
	) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
		ensure!(!stored.pause.liquidation, Error::<T>::Paused);
		// Sales, like liquidations, wait for prices fresh past the grace period.
		let (loan, collateral) = Self::liquidation_prices(&stored.params)?;
		let risk = stored.params.risk;
		let state = &mut stored.state;
		ensure!(amount <= state.absorbed_collateral, Error::<T>::InsufficientSeizedCollateral);
		// The oracle price less the bonus, rounded up.
		let paid = discounted_price(amount, collateral, loan, &risk);
		ensure!(paid > 0, Error::<T>::ZeroAmount);
		ensure!(paid <= max_payment, Error::<T>::PriceAboveLimit);
		// The sale settles its share of the absorbed debt: what it fetches below that share is
		// lost at once (not when the last unit is sold), what it fetches above goes to the
		// lenders with the rest of the cash.
		let share = if amount == state.absorbed_collateral {
			state.absorbed_debt
		} else {
			multiply_by_rational_with_rounding(
				state.absorbed_debt,
				amount,
				state.absorbed_collateral,
				Rounding::Up,
			)
			.ok_or(Error::<T>::Overflow)?
			.min(state.absorbed_debt)
		};
		state.cash = state.cash.checked_add(paid).ok_or(Error::<T>::Overflow)?;
		state.absorbed_collateral = state.absorbed_collateral.saturating_sub(amount);
		state.absorbed_debt = state.absorbed_debt.saturating_sub(share);
		let lost = share.saturating_sub(paid);
		let from_reserves = Self::write_off(state, lost);
		T::Assets::transfer(
			stored.params.loan_asset.clone(),
			&who,
			&Self::account_id(),
			paid,
			Preservation::Preserve,
		)?;
		T::Assets::transfer(
			stored.params.collateral_asset.clone(),
			&Self::account_id(),
			&who,
			amount,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::CollateralBought { market, who, amount, paid });
		if lost > 0 {
			Self::deposit_event(Event::BadDebt {
				market,
				borrower: None,
				amount: lost,
				from_reserves,
			});
		}
		Ok(())
	}

	/// The hook: in every market with queued positions and prices fresh past the grace period,
	/// writes the seized collateral's debt down to what the collateral would fetch, and
	/// liquidates from the highest bucket down to the first liquidatable one, at most
	/// [`Config::MaxLiquidationsPerBlock`] positions over all markets, starting from a market
	/// that rotates every block (so no market's queue can hold up the others'). Returns its
	/// weight.
	pub(crate) fn liquidate_queued() -> Weight {
		let mut budget = T::MaxLiquidationsPerBlock::get();
		let (mut scanned, mut liquidated) = (0u32, 0u32);
		let markets = NextMarketId::<T>::get();
		let now: u32 = frame_system::Pallet::<T>::block_number().unique_saturated_into();
		let start = now.checked_rem(markets).unwrap_or(0);
		for offset in 0..markets {
			if budget == 0 {
				break;
			}
			let market = start.saturating_add(offset).checked_rem(markets).unwrap_or(0);
			scanned = scanned.saturating_add(1);
			let done = Self::liquidate_market_queue(market, budget);
			liquidated = liquidated.saturating_add(done);
			budget = budget.saturating_sub(done);
		}
		T::WeightInfo::liquidate_queued(scanned, liquidated)
	}

	/// Works on `market` for the hook with `budget` liquidations left: the write-down of its
	/// absorbed debt, then up to `budget` liquidations from the top of its queue; returns how
	/// many it attempted. Stops at the first liquidatable bucket, and at any position that
	/// turns out not to be liquidatable (which the buckets' margin rules out), so no block
	/// repeats vain work.
	fn liquidate_market_queue(market: MarketId, budget: u32) -> u32 {
		let queued = OccupiedWords::<T>::get(market) != [0, 0];
		let Some(stored) = Markets::<T>::get(market) else { return 0 };
		if !queued && stored.state.absorbed_collateral == 0 {
			return 0;
		}
		if stored.pause.liquidation {
			return 0;
		}
		let Ok((loan, collateral)) = Self::liquidation_prices(&stored.params) else { return 0 };
		if stored.state.absorbed_debt > 0 {
			let _ = frame_support::storage::with_storage_layer(|| {
				Self::write_down_absorbed(market, loan, collateral)
			});
		}
		if !queued {
			return 0;
		}
		// The threshold at the accrued totals; the accrual itself is stored (with its event)
		// only by a liquidation.
		let mut current = stored;
		Self::accrue(market, &mut current, false);
		let threshold = threshold_bucket(
			collateral,
			loan,
			current.state.total_borrows,
			current.state.borrow_shares,
			&current.params.risk,
		);
		let Some(first) = first_liquidatable_bucket(threshold) else { return 0 };
		let mut done = 0u32;
		while done < budget {
			let Some(top) = Self::highest_bucket(market) else { break };
			if top < first {
				break;
			}
			let left = budget.saturating_sub(done) as usize;
			let borrowers: Vec<T::AccountId> =
				LiquidationQueue::<T>::iter_key_prefix((market, top)).take(left).collect();
			if borrowers.is_empty() {
				// The bitmap and the queue disagree (try_state rules it out): stop, not spin.
				break;
			}
			for borrower in borrowers {
				done = done.saturating_add(1);
				let outcome = frame_support::storage::with_storage_layer(|| {
					Self::do_liquidate(None, market, borrower, u128::MAX)
				});
				if outcome.is_err() {
					return done;
				}
			}
		}
		done
	}

	/// Writes `market`'s absorbed debt down to what its seized collateral fetches at the
	/// discounted price, booking the difference as bad debt (reserves first): lenders cannot
	/// withdraw at a share price that counts a claim the collateral no longer covers.
	fn write_down_absorbed(market: MarketId, loan: Priced, collateral: Priced) -> DispatchResult {
		let stored = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		let state = &stored.state;
		let worth =
			discounted_price(state.absorbed_collateral, collateral, loan, &stored.params.risk);
		let lost = state.absorbed_debt.saturating_sub(worth);
		if lost == 0 {
			// Nothing to book: no accrual is stored, so none is announced either.
			return Ok(());
		}
		// The write-off reads the reserves: interest first, stored with its event.
		let mut stored = Self::accrued(market)?;
		let state = &mut stored.state;
		state.absorbed_debt = state.absorbed_debt.saturating_sub(lost);
		let from_reserves = Self::write_off(state, lost);
		Markets::<T>::insert(market, stored);
		Self::deposit_event(Event::BadDebt { market, borrower: None, amount: lost, from_reserves });
		Ok(())
	}

	/// The highest occupied bucket of `market`'s queue.
	fn highest_bucket(market: MarketId) -> Option<u16> {
		let word = highest_word(OccupiedWords::<T>::get(market))?;
		let bit = highest_bit(u128::from(OccupiedBuckets::<T>::get(market, word)))?;
		Some(bucket_at(word, bit))
	}

	/// Moves `who`'s entry in `market`'s queue from bucket `from` to bucket `to`.
	fn refile(market: MarketId, who: &T::AccountId, from: Option<u16>, to: Option<u16>) {
		if from == to {
			return;
		}
		if let Some(bucket) = from {
			LiquidationQueue::<T>::remove((market, bucket, who));
			let left = BucketSizes::<T>::mutate(market, bucket, |size| {
				*size = size.saturating_sub(1);
				*size
			});
			if left == 0 {
				BucketSizes::<T>::remove(market, bucket);
				let (word, bit) = bucket_bit(bucket);
				let bits = OccupiedBuckets::<T>::mutate(market, word, |bits| {
					*bits &= !bit;
					*bits
				});
				if bits == 0 {
					OccupiedBuckets::<T>::remove(market, word);
					let (half, bit) = word_bit(word);
					OccupiedWords::<T>::mutate(market, |words| {
						if let Some(half) = words.get_mut(half) {
							*half &= !bit;
						}
					});
				}
			}
		}
		if let Some(bucket) = to {
			LiquidationQueue::<T>::insert((market, bucket, who), ());
			let size = BucketSizes::<T>::mutate(market, bucket, |size| {
				*size = size.saturating_add(1);
				*size
			});
			if size == 1 {
				let (word, bit) = bucket_bit(bucket);
				OccupiedBuckets::<T>::mutate(market, word, |bits| *bits |= bit);
				let (half, bit) = word_bit(word);
				OccupiedWords::<T>::mutate(market, |words| {
					if let Some(half) = words.get_mut(half) {
						*half |= bit;
					}
				});
			}
		}
	}

	/// Retires the debt shares that paying `amount` of a position's `debt` (owed by
	/// `owed_shares`) is worth — all of them for the whole debt, rounded down for part of it —
	/// and takes `amount` off the market's borrows.
	fn retire_debt(
		state: &mut MarketState<BlockNumberFor<T>>,
		owed_shares: u128,
		debt: u128,
		amount: u128,
	) -> Result<u128, DispatchError> {
		let shares = if amount >= debt {
			owed_shares
		} else {
			to_debt_shares(amount, state.total_borrows, state.borrow_shares, Rounding::Down)
				.ok_or(Error::<T>::Overflow)?
				.min(owed_shares)
		};
		ensure!(shares > 0, Error::<T>::ZeroShares);
		state.total_borrows = state.total_borrows.saturating_sub(amount);
		state.borrow_shares = state.borrow_shares.saturating_sub(shares);
		if state.borrow_shares == 0 {
			// Rounding may leave a unit owed by nobody: it is not a claim on anyone.
			state.total_borrows = 0;
		}
		Ok(shares)
	}

	/// Books `loss` of debt already taken off the borrows (or the absorbed debt) as lost: the reserves bear it first,
	/// the lenders (through [`MarketState::supplied`]) the rest. Returns the reserves' part.
	fn write_off(state: &mut MarketState<BlockNumberFor<T>>, loss: u128) -> u128 {
		let from_reserves = loss.min(state.reserves);
		state.reserves = state.reserves.saturating_sub(from_reserves);
		from_reserves
	}

	/// Fresh prices of `params`' loan and collateral assets.
	fn fresh_prices(params: &MarketParams<T::AssetId>) -> Result<(Priced, Priced), DispatchError> {
		Ok(Self::fresh_prices_since(params)?.0)
	}

	/// Fresh prices of both assets that have been fresh for the grace period.
	fn liquidation_prices(
		params: &MarketParams<T::AssetId>,
	) -> Result<(Priced, Priced), DispatchError> {
		let (prices, since) = Self::fresh_prices_since(params)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now >= since.saturating_add(T::LiquidationGracePeriod::get()),
			Error::<T>::LiquidationGracePeriod
		);
		Ok(prices)
	}

	/// Fresh prices of both assets and the later block they turned fresh in.
	#[allow(clippy::type_complexity)]
	fn fresh_prices_since(
		params: &MarketParams<T::AssetId>,
	) -> Result<((Priced, Priced), BlockNumberFor<T>), DispatchError> {
		let (loan_price, loan_since) =
			T::Oracle::fresh_price(&params.loan_asset).ok_or(Error::<T>::StalePrice)?;
		let (collateral_price, collateral_since) =
			T::Oracle::fresh_price(&params.collateral_asset).ok_or(Error::<T>::StalePrice)?;
		let loan = Priced { price: loan_price, decimals: params.loan_decimals };
		let collateral = Priced { price: collateral_price, decimals: params.collateral_decimals };
		Ok(((loan, collateral), loan_since.max(collateral_since)))
	}

	/// Market `market` with its interest accrued to the current block (not yet stored).
	pub(crate) fn accrued(market: MarketId) -> Result<MarketOf<T>, DispatchError> {
		let mut stored = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		Self::accrue(market, &mut stored, true);
		Ok(stored)
	}

	/// Accrues `stored`'s interest from its last accrual to the current block at the rate its
	/// utilization gives (with an event if `emit`: the accrual is about to be stored), steps its rate at target once per block since, and brings its
	/// liquidation threshold down towards a lower target by at most `MaxThresholdStepPerBlock`
	/// a block.
	fn accrue(market: MarketId, stored: &mut MarketOf<T>, emit: bool) {
		let now = frame_system::Pallet::<T>::block_number();
		let state = &mut stored.state;
		if now <= state.last_accrued {
			return;
		}
		let blocks: u32 = now.saturating_sub(state.last_accrued).unique_saturated_into();
		let model = stored.params.rate_model;
		let utilization = utilization(state.cash, state.total_borrows);
		let rate = model.borrow_rate(state.rate_at_target, utilization);
		let mut totals = Accrual {
			borrow_index: state.borrow_index,
			total_borrows: state.total_borrows,
			reserves: state.reserves,
		};
		let accrued = totals.accrue(rate, blocks, stored.params.reserve_factor);
		state.borrow_index = totals.borrow_index;
		state.total_borrows = totals.total_borrows;
		state.reserves = totals.reserves;
		state.rate_at_target =
			model.rate_at_target_after(state.rate_at_target, utilization, blocks);
		state.last_accrued = now;
		if let Some(target) = stored.threshold_target {
			let step = T::MaxThresholdStepPerBlock::get().deconstruct().saturating_mul(blocks);
			let risk = &mut stored.params.risk;
			risk.liquidation_threshold =
				risk.liquidation_threshold.saturating_sub(Perbill::from_parts(step)).max(target);
			if risk.liquidation_threshold == target {
				stored.threshold_target = None;
			}
		}
		if emit && accrued.interest > 0 {
			Self::deposit_event(Event::InterestAccrued {
				market,
				interest: accrued.interest,
				to_reserves: accrued.to_reserves,
				rate,
			});
		}
	}

	/// What `shares` of debt are worth, rounded up.
	fn debt(state: &MarketState<BlockNumberFor<T>>, shares: u128) -> Result<u128, DispatchError> {
		debt_of(shares, state.total_borrows, state.borrow_shares, Rounding::Up)
			.ok_or_else(|| Error::<T>::Overflow.into())
	}

	/// Fails unless `position` (with `state` as it would be) owes nothing, or owes at most its
	/// borrow limit at fresh prices of both assets.
	fn ensure_solvent(
		params: &MarketParams<T::AssetId>,
		state: &MarketState<BlockNumberFor<T>>,
		position: &Position,
	) -> DispatchResult {
		if position.borrow_shares == 0 {
			return Ok(());
		}
		let (loan, collateral) = Self::fresh_prices(params)?;
		let debt = Self::debt(state, position.borrow_shares)?;
		let limit = borrow_limit(position.collateral, collateral, &params.risk);
		ensure!(loan.value(debt, Rounding::Up) <= limit, Error::<T>::Undercollateralized);
		Ok(())
	}

	/// Fails if `position` would owe a debt worth no more than the market's dust value (at
	/// fresh prices; a stale price never stops a repayment): dust positions cost the hook's
	/// budget as much as large ones.
	fn ensure_not_dust(
		params: &MarketParams<T::AssetId>,
		state: &MarketState<BlockNumberFor<T>>,
		position: &Position,
	) -> DispatchResult {
		if position.borrow_shares == 0 {
			return Ok(());
		}
		let Ok((loan, _)) = Self::fresh_prices(params) else { return Ok(()) };
		let debt = Self::debt(state, position.borrow_shares)?;
		ensure!(loan.value(debt, Rounding::Down) > params.risk.dust_value, Error::<T>::DustDebt);
		Ok(())
	}

	/// Applies `change` to `who`'s position in `market`: refiles it in the liquidation queue,
	/// holds the deposit when the position appears, releases it and removes the position when
	/// it empties.
	fn update_position(
		market: MarketId,
		who: &T::AccountId,
		change: impl FnOnce(&mut Position) -> DispatchResult,
	) -> DispatchResult {
		let existing = Positions::<T>::get(market, who);
		let mut position = existing.unwrap_or_default();
		change(&mut position)?;
		let filed =
			|position: &Position| position_bucket(position.borrow_shares, position.collateral);
		Self::refile(market, who, existing.as_ref().and_then(filed), filed(&position));
		let reason = HoldReason::PositionDeposit.into();
		match (existing.is_some(), position.is_empty()) {
			(false, false) => {
				T::Currency::hold(&reason, who, T::PositionDeposit::get())?;
				Positions::<T>::insert(market, who, position);
			},
			(true, true) => {
				T::Currency::release(
					&reason,
					who,
					T::PositionDeposit::get(),
					Precision::BestEffort,
				)?;
				Positions::<T>::remove(market, who);
			},
			(true, false) => Positions::<T>::insert(market, who, position),
			(false, true) => {},
		}
		Ok(())
	}

	/// Checks the pallet's invariants:
	/// - every market's shares and collateral equal the sum over its positions; its borrow
	///   index is at least 1; its reserves are covered by cash, borrows and absorbed debt;
	///   without debt shares it has no borrows, and without seized collateral no absorbed debt;
	///   it was last accrued no later than now;
	/// - every position with debt, and nothing else, is queued, in the bucket of its key; the
	///   bucket sizes and both levels of the occupancy bitmap agree with the queue;
	/// - no position is empty or belongs to an unknown market, and each account holds one
	///   deposit per position;
	/// - the pallet's account holds at least what the markets' ledgers count, per asset.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::{fungible::InspectHold, fungibles::Inspect};
		let now = frame_system::Pallet::<T>::block_number();
		let mut owed: BTreeMap<T::AssetId, u128> = BTreeMap::new();
		for (market, stored) in Markets::<T>::iter() {
			ensure!(market < NextMarketId::<T>::get(), "a market beyond NextMarketId");
			let state = &stored.state;
			let (mut supply, mut borrow, mut collateral) = (0u128, 0u128, 0u128);
			let mut filed: BTreeMap<u16, u32> = BTreeMap::new();
			for (who, position) in Positions::<T>::iter_prefix(market) {
				ensure!(!position.is_empty(), "an empty position kept");
				supply = supply.saturating_add(position.supply_shares);
				borrow = borrow.saturating_add(position.borrow_shares);
				collateral = collateral.saturating_add(position.collateral);
				if let Some(bucket) = position_bucket(position.borrow_shares, position.collateral) {
					ensure!(
						LiquidationQueue::<T>::contains_key((market, bucket, &who)),
						"a position with debt is not filed in the bucket of its key"
					);
					let count = filed.entry(bucket).or_insert(0);
					*count = count.saturating_add(1);
				}
				ensure!(
					position.borrow_shares == 0 || position.collateral > 0,
					"debt without collateral was not written off"
				);
			}
			let queued = LiquidationQueue::<T>::iter_prefix((market,)).count();
			ensure!(
				queued == filed.values().map(|count| *count as usize).sum::<usize>(),
				"the queue holds entries of no position with debt"
			);
			ensure!(
				BucketSizes::<T>::iter_prefix(market).collect::<BTreeMap<_, _>>() == filed,
				"bucket sizes differ from the queue"
			);
			let mut words: BTreeMap<u8, u64> = BTreeMap::new();
			for bucket in filed.keys() {
				let (word, bit) = bucket_bit(*bucket);
				*words.entry(word).or_insert(0) |= bit;
			}
			ensure!(
				OccupiedBuckets::<T>::iter_prefix(market).collect::<BTreeMap<_, _>>() == words,
				"the occupancy bitmap differs from the queue"
			);
			let summary = words.keys().fold([0u128; 2], |mut summary, word| {
				let (half, bit) = word_bit(*word);
				if let Some(half) = summary.get_mut(half) {
					*half |= bit;
				}
				summary
			});
			ensure!(OccupiedWords::<T>::get(market) == summary, "the word summary differs");
			ensure!(
				state.absorbed_collateral > 0 || state.absorbed_debt == 0,
				"absorbed debt without collateral to recover it"
			);
			ensure!(supply == state.supply_shares, "supply shares differ from the positions'");
			ensure!(borrow == state.borrow_shares, "debt shares differ from the positions'");
			ensure!(collateral == state.total_collateral, "collateral differs from the positions'");
			ensure!(state.borrow_index >= FixedU128::one(), "a borrow index below 1");
			ensure!(stored.params.risk.validate().is_ok(), "risk parameters in force are invalid");
			ensure!(
				stored
					.threshold_target
					.is_none_or(|target| target < stored.params.risk.liquidation_threshold),
				"a threshold target not below the threshold in force"
			);
			ensure!(
				state.reserves
					<= state
						.cash
						.saturating_add(state.total_borrows)
						.saturating_add(state.absorbed_debt),
				"reserves exceed cash, borrows and absorbed debt"
			);
			ensure!(
				state.borrow_shares > 0 || state.total_borrows == 0,
				"borrows without debt shares"
			);
			ensure!(state.last_accrued <= now, "accrued in the future");
			let loan = owed.entry(stored.params.loan_asset.clone()).or_insert(0);
			*loan = loan.saturating_add(state.cash);
			let pledged = owed.entry(stored.params.collateral_asset.clone()).or_insert(0);
			*pledged = pledged
				.saturating_add(state.total_collateral)
				.saturating_add(state.absorbed_collateral);
		}
		let mut positions: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (market, who, _) in Positions::<T>::iter() {
			ensure!(Markets::<T>::contains_key(market), "a position in an unknown market");
			let count = positions.entry(who).or_insert(0);
			*count = count.saturating_add(1);
		}
		for (who, count) in positions {
			let held = T::Currency::balance_on_hold(&HoldReason::PositionDeposit.into(), &who);
			let expected = T::PositionDeposit::get().saturating_mul(count.into());
			ensure!(held == expected, "position deposits differ from the positions");
		}
		let account = Self::account_id();
		for (asset, amount) in owed {
			ensure!(
				T::Assets::balance(asset, &account) >= amount,
				"the pallet holds less than its markets count"
			);
		}
		Ok(())
	}
}
