//! Storage migrations, one module per storage version.

/// Version 0 → 1: bids learn when they count and what happens to them next, each recorded
/// epoch keeps the capacity it had, and open markets are counted.
///
/// - [`Bids`](crate::Bids) gain `counted_from` and `next`: every version-0 bid counts already
///   (`counted_from = 0`), and a bid that was withdrawing leaves after the epoch under way
///   (`next = Withdraw`), as version 0 promised; the others stay (`next = Keep`).
/// - [`EpochOutcomes`](crate::EpochOutcomes) gain their `capacity`: version 0 did not record it,
///   so each outcome gets its market's capacity at the upgrade (the best record there is; no
///   version-0 chain changed a capacity after settling with it, or the migration would date the
///   new capacity back).
/// - [`Markets`](crate::Markets) becomes a counted map: the count of open markets is
///   initialised from the markets stored.
pub mod v1 {
	use crate::{pallet::*, types::*, BalanceOf};
	use alloc::collections::btree_map::BTreeMap;
	#[cfg(feature = "try-runtime")]
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use contract_equilibrium_primitives::DemandCurve;
	use contract_equilibrium_primitives::{FixedU128, Perbill};
	use frame_support::BoundedVec;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// An epoch's outcome as version 0 stored it: without the capacity.
	#[derive(Encode, Decode)]
	pub struct EpochOutcomeV0<Balance> {
		/// The price the epoch settled at.
		pub price: FixedU128,
		/// `Σ x`.
		pub total_allocated: FixedU128,
		/// The surplus of the allocation.
		pub total_surplus: FixedU128,
		/// `1 − Gini`.
		pub fairness: Perbill,
		/// The share of bidders allocated.
		pub participation: Perbill,
		/// The number of bidders settled.
		pub bidders: u32,
		/// What bidders paid in all.
		pub total_paid: Balance,
	}

	/// Each market's bids before the upgrade: (bidder, budget, withdrawing).
	#[cfg(feature = "try-runtime")]
	type BidsSnapshot<AccountId, Balance> = Vec<(MarketId, Vec<(AccountId, Balance, bool)>)>;

	/// A bid as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct BidV0<AccountId, Balance> {
		/// Who bids.
		pub bidder: AccountId,
		/// How the bidder demands.
		pub curve: DemandCurve,
		/// What is left of the budget.
		pub budget: Balance,
		/// The storage deposit.
		pub deposit: Balance,
		/// Whether the bid leaves after the epoch under way.
		pub withdrawing: bool,
	}

	/// The migration's work, run only from storage version 0 (see [`MigrateV0ToV1`]).
	pub struct UncheckedMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let capacities: BTreeMap<MarketId, FixedU128> =
				Markets::<T>::iter().map(|(id, market)| (id, market.params.capacity)).collect();
			let mut outcomes = 0u64;
			EpochOutcomes::<T>::translate::<EpochOutcomeV0<BalanceOf<T>>, _>(
				|market, _epoch, old| {
					outcomes = outcomes.saturating_add(1);
					// Outcomes of a market that no longer exists are dropped.
					let capacity = *capacities.get(&market)?;
					Some(EpochOutcome {
						price: old.price,
						total_allocated: old.total_allocated,
						total_surplus: old.total_surplus,
						fairness: old.fairness,
						participation: old.participation,
						bidders: old.bidders,
						total_paid: old.total_paid,
						capacity,
					})
				},
			);
			let mut bid_lists = 0u64;
			Bids::<T>::translate::<BoundedVec<BidV0<T::AccountId, BalanceOf<T>>, T::MaxBidders>, _>(
				|_market, old| {
					bid_lists = bid_lists.saturating_add(1);
					let bids: alloc::vec::Vec<_> = old
						.into_iter()
						.map(|bid| Bid {
							bidder: bid.bidder,
							curve: bid.curve,
							budget: bid.budget,
							deposit: bid.deposit,
							counted_from: 0,
							next: if bid.withdrawing {
								NextOrder::Withdraw
							} else {
								NextOrder::Keep
							},
						})
						.collect();
					// As many bids as before: within the same bound.
					Some(BoundedVec::truncate_from(bids))
				},
			);
			let markets = u64::from(Markets::<T>::initialize_counter());
			// Markets read twice (capacities, counter), outcomes read and written once, the
			// counter written once.
			T::DbWeight::get().reads_writes(
				markets.saturating_mul(2).saturating_add(outcomes).saturating_add(bid_lists),
				outcomes.saturating_add(bid_lists).saturating_add(1),
			)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let markets = Markets::<T>::iter_keys().count() as u32;
			let outcomes = EpochOutcomes::<T>::iter_keys()
				.filter(|(market, _)| Markets::<T>::contains_key(market))
				.count() as u32;
			// Each market's bids: (bidder, budget, withdrawing).
			let bids: BidsSnapshot<T::AccountId, BalanceOf<T>> = Markets::<T>::iter_keys()
				.map(|market| {
					let key = Bids::<T>::hashed_key_for(market);
					let old: Vec<BidV0<T::AccountId, BalanceOf<T>>> =
						frame_support::storage::unhashed::get(&key).unwrap_or_default();
					let old = old
						.into_iter()
						.map(|bid| (bid.bidder, bid.budget, bid.withdrawing))
						.collect();
					(market, old)
				})
				.collect();
			Ok((markets, outcomes, bids).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let (markets, outcomes, bids): (u32, u32, BidsSnapshot<T::AccountId, BalanceOf<T>>) =
				Decode::decode(&mut &state[..])
					.map_err(|_| "the pre-upgrade state does not decode")?;
			for (market, old) in bids {
				let new = Bids::<T>::get(market);
				frame_support::ensure!(new.len() == old.len(), "bids lost in the migration");
				for (bid, (bidder, budget, withdrawing)) in new.iter().zip(old) {
					frame_support::ensure!(
						bid.bidder == bidder
							&& bid.budget == budget
							&& bid.counted_from == 0
							&& (bid.next == NextOrder::Withdraw) == withdrawing,
						"a bid changed in the migration"
					);
				}
			}
			frame_support::ensure!(Markets::<T>::count() == markets, "open markets miscounted");
			frame_support::ensure!(
				EpochOutcomes::<T>::iter().count() as u32 == outcomes,
				"epoch outcomes lost or left undecodable"
			);
			for (market, _, outcome) in EpochOutcomes::<T>::iter() {
				let capacity = Markets::<T>::get(market).map(|m| m.params.capacity);
				frame_support::ensure!(
					Some(outcome.capacity) == capacity,
					"an outcome without its market's capacity"
				);
			}
			crate::Pallet::<T>::do_try_state()
		}
	}

	/// Version 0 → 1, run once: does nothing at any other storage version.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		UncheckedMigrateV0ToV1<T>,
		crate::Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
