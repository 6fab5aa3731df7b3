//! What the calls do, interest accrual, solvency checks and the invariants.

use crate::{pallet::*, Market, MarketId, MarketOf, MarketParams, MarketState, Position};
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
	borrow_limit, debt_of, to_assets, to_debt_shares, to_shares, utilization, Accrual, FixedU128,
	Priced,
};
use pallet_oracle::PriceOracle;
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating, UniqueSaturatedInto},
	Rounding,
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
		Markets::<T>::insert(market, Market { params: params.clone(), state });
		NextMarketId::<T>::put(market.checked_add(1).ok_or(Error::<T>::Overflow)?);
		Self::deposit_event(Event::MarketCreated { market, params });
		Ok(())
	}

	pub(crate) fn do_supply(who: T::AccountId, market: MarketId, amount: u128) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		let mut stored = Self::accrued(market)?;
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
		// Repaying all of it retires all the shares; part of it, the shares it is worth,
		// rounded down.
		let shares = if paid == debt {
			owed_shares
		} else {
			to_debt_shares(paid, state.total_borrows, state.borrow_shares, Rounding::Down)
				.ok_or(Error::<T>::Overflow)?
				.min(owed_shares)
		};
		ensure!(shares > 0, Error::<T>::ZeroShares);
		state.cash = state.cash.checked_add(paid).ok_or(Error::<T>::Overflow)?;
		state.total_borrows = state.total_borrows.saturating_sub(paid);
		state.borrow_shares = state.borrow_shares.saturating_sub(shares);
		if state.borrow_shares == 0 {
			// Rounding may leave a unit owed by nobody: it is not a claim on anyone.
			state.total_borrows = 0;
		}
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

	/// Market `market` with its interest accrued to the current block (not yet stored).
	pub(crate) fn accrued(market: MarketId) -> Result<MarketOf<T>, DispatchError> {
		let mut stored = Markets::<T>::get(market).ok_or(Error::<T>::UnknownMarket)?;
		Self::accrue(market, &mut stored);
		Ok(stored)
	}

	/// Accrues `stored`'s interest from its last accrual to the current block at the rate its
	/// utilization gives, and steps its rate at target once per block since.
	fn accrue(market: MarketId, stored: &mut MarketOf<T>) {
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
		if accrued.interest > 0 {
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
		let (loan_price, _) =
			T::Oracle::fresh_price(&params.loan_asset).ok_or(Error::<T>::StalePrice)?;
		let (collateral_price, _) =
			T::Oracle::fresh_price(&params.collateral_asset).ok_or(Error::<T>::StalePrice)?;
		let loan = Priced { price: loan_price, decimals: params.loan_decimals };
		let collateral = Priced { price: collateral_price, decimals: params.collateral_decimals };
		let debt = Self::debt(state, position.borrow_shares)?;
		let limit = borrow_limit(position.collateral, collateral, &params.risk);
		ensure!(loan.value(debt, Rounding::Up) <= limit, Error::<T>::Undercollateralized);
		Ok(())
	}

	/// Applies `change` to `who`'s position in `market`: holds the deposit when the position
	/// appears, releases it and removes the position when it empties.
	fn update_position(
		market: MarketId,
		who: &T::AccountId,
		change: impl FnOnce(&mut Position) -> DispatchResult,
	) -> DispatchResult {
		let existing = Positions::<T>::get(market, who);
		let mut position = existing.unwrap_or_default();
		change(&mut position)?;
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
	///   index is at least 1; its reserves are covered by cash and borrows; without debt
	///   shares it has no borrows; it was last accrued no later than now;
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
			for (_, position) in Positions::<T>::iter_prefix(market) {
				ensure!(!position.is_empty(), "an empty position kept");
				supply = supply.saturating_add(position.supply_shares);
				borrow = borrow.saturating_add(position.borrow_shares);
				collateral = collateral.saturating_add(position.collateral);
			}
			ensure!(supply == state.supply_shares, "supply shares differ from the positions'");
			ensure!(borrow == state.borrow_shares, "debt shares differ from the positions'");
			ensure!(collateral == state.total_collateral, "collateral differs from the positions'");
			ensure!(state.borrow_index >= FixedU128::one(), "a borrow index below 1");
			ensure!(
				state.reserves <= state.cash.saturating_add(state.total_borrows),
				"reserves exceed cash and borrows"
			);
			ensure!(
				state.borrow_shares > 0 || state.total_borrows == 0,
				"borrows without debt shares"
			);
			ensure!(state.last_accrued <= now, "accrued in the future");
			let loan = owed.entry(stored.params.loan_asset.clone()).or_insert(0);
			*loan = loan.saturating_add(state.cash);
			let pledged = owed.entry(stored.params.collateral_asset.clone()).or_insert(0);
			*pledged = pledged.saturating_add(state.total_collateral);
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
