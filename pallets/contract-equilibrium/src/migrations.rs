//! Storage migrations, one module per storage version.

/// Version 1 → 2: bids in storage of their own, budgets in escrow, the book in aggregate.
///
/// Version 1 kept each market's bids in one list, each with a budget held on its bidder's
/// account that settlements drew down epoch after epoch. Version 2 keeps one entry per bidder
/// ([`Bids`](crate::Bids)), orders with a budget per epoch and a number of epochs whose budgets
/// sit in the pallet's escrow account, and each market's book in aggregate
/// ([`Books`](crate::Books), [`BookChanges`](crate::BookChanges)). Each version-1 bid becomes:
///
/// - an order of its curve with its whole remaining budget for one epoch: the epoch under way
///   if it counted there (as version 1 promised), the next one if it was placed while the book
///   was sealed. Its bidder places a new order to stay longer;
/// - a pending replacement becomes the order of the next epoch, with its budget; a pending
///   withdrawal leaves after the epoch under way, as promised;
/// - its held budget (and a replacement's) moves into escrow, whatever locks its bidder placed
///   (`Fortitude::Force`); its deposit stays held.
///
/// The escrow account is created with the existential deposit, minted once. Each recorded
/// epoch outcome keeps its price, allocation, payments, capacity and counts; version 1 recorded
/// no rationing weights (no bid will ever settle from them), so its clearing's weights are zero.
#[allow(missing_docs)]
pub mod v2 {
	use crate::{pallet::*, types::*, BalanceOf, Pallet};
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use contract_equilibrium_primitives::{Clearing, DemandCurve, FixedU128, Perbill, PriceGrid};
	#[cfg(feature = "try-runtime")]
	use frame_support::traits::fungible::Inspect;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			UncheckedOnRuntimeUpgrade,
		},
	};
	use sp_runtime::traits::{Saturating, Zero};

	/// What happened to a version-1 bid after its epoch.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub enum NextOrderV1<Balance> {
		/// It stayed.
		Keep,
		/// It was replaced by `curve` with `budget`, held already.
		Replace {
			/// The new curve.
			curve: DemandCurve,
			/// The new budget.
			budget: Balance,
		},
		/// It left.
		Withdraw,
	}

	/// A bid as version 1 stored it.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub struct BidV1<AccountId, Balance> {
		/// Who bids.
		pub bidder: AccountId,
		/// How the bidder demands.
		pub curve: DemandCurve,
		/// What is left of the budget, held.
		pub budget: Balance,
		/// The storage deposit, held.
		pub deposit: Balance,
		/// The first epoch the bid counts in.
		pub counted_from: EpochIndex,
		/// What happens to it after the epoch under way.
		pub next: NextOrderV1<Balance>,
	}

	/// An epoch's outcome as version 1 stored it.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub struct EpochOutcomeV1<Balance> {
		/// The price.
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
		/// What bidders paid.
		pub total_paid: Balance,
		/// The capacity.
		pub capacity: FixedU128,
	}

	/// A market as version 1 stored it: without the length of its epoch under way.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub struct MarketV1<AccountId, BlockNumber> {
		/// The parameters.
		pub params: contract_equilibrium_primitives::MarketParams<AccountId>,
		/// The posted price.
		pub price: FixedU128,
		/// `S(μ)` at the last step.
		pub aggregate_demand: FixedU128,
		/// Whether the last step converged.
		pub converged: bool,
		/// The epoch under way.
		pub epoch: EpochIndex,
		/// The block it started in.
		pub epoch_start: BlockNumber,
	}

	impl<AccountId, BlockNumber> From<Market<AccountId, BlockNumber>>
		for MarketV1<AccountId, BlockNumber>
	{
		/// A version-2 market as version 1 stored it (for tests of the migration).
		fn from(market: Market<AccountId, BlockNumber>) -> Self {
			Self {
				params: market.params,
				price: market.price,
				aggregate_demand: market.aggregate_demand,
				converged: market.converged,
				epoch: market.epoch,
				epoch_start: market.epoch_start,
			}
		}
	}

	/// Rewrites market `market` as version 1 stored it, for tests of the migration; returns it
	/// as version 2 has it.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn put_market_as_v1<T: Config>(market: MarketId) -> Option<crate::MarketOf<T>> {
		let stored = Markets::<T>::get(market)?;
		frame_support::storage::unhashed::put_raw(
			&Markets::<T>::hashed_key_for(market),
			&MarketV1::from(stored.clone()).encode(),
		);
		Some(stored)
	}

	/// Version 1's storage, read under its own names.
	pub mod v1 {
		use super::*;

		/// Version 1's list of each market's bids, under the same storage name as version 2's
		/// per-bidder map (`Bids`): its keys are shorter, so the two never collide.
		#[frame_support::storage_alias]
		pub type Bids<T: Config> = StorageMap<
			Pallet<T>,
			Twox64Concat,
			MarketId,
			Vec<BidV1<<T as frame_system::Config>::AccountId, BalanceOf<T>>>,
		>;
	}

	/// Each market's version-1 bids before the upgrade: (bidder, budget held for it in all).
	#[cfg(feature = "try-runtime")]
	type HeldBudgets<AccountId, Balance> = Vec<(MarketId, Vec<(AccountId, Balance)>)>;

	/// The migration's work, run only from storage version 1 (see [`MigrateV1ToV2`]).
	pub struct UncheckedMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedMigrateV1ToV2<T> {
		/// Moves a held version-1 budget into escrow; returns what moved.
		fn escrow(who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
			let reason = HoldReason::BidBudget.into();
			let amount = amount.min(T::Currency::balance_on_hold(&reason, who));
			if amount.is_zero() {
				return amount;
			}
			T::Currency::transfer_on_hold(
				&reason,
				who,
				&Pallet::<T>::escrow_account(),
				amount,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|error| {
				frame_support::defensive!("a version-1 budget could not move to escrow", error);
				Zero::zero()
			})
		}
	}

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			Pallet::<T>::ensure_escrow_account();
			let mut reads = 1u64;
			let mut writes = 1u64;
			Markets::<T>::translate::<
				MarketV1<T::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>,
				_,
			>(|_, old| {
				reads = reads.saturating_add(1);
				writes = writes.saturating_add(1);
				Some(Market {
					epoch_length: old.params.epoch_length,
					params: old.params,
					price: old.price,
					aggregate_demand: old.aggregate_demand,
					converged: old.converged,
					epoch: old.epoch,
					epoch_start: old.epoch_start,
				})
			});
			let markets: Vec<(MarketId, crate::MarketOf<T>)> = Markets::<T>::iter().collect();
			for (market_id, market) in &markets {
				reads = reads.saturating_add(2);
				let params = &market.params;
				let epoch = market.epoch;
				let mut book = Book::default();
				let old = v1::Bids::<T>::take(market_id).unwrap_or_default();
				for bid in old {
					let from =
						if bid.counted_from <= epoch { epoch } else { epoch.saturating_add(1) };
					// A one-epoch order from `from`.
					let terms = |curve: DemandCurve, budget: BalanceOf<T>, from: EpochIndex| {
						Pallet::<T>::order_terms(
							curve,
							budget,
							from,
							from.saturating_add(1),
							params,
						)
					};
					let order = terms(bid.curve, bid.budget, from);
					let next: Option<OrderTerms<BalanceOf<T>>> = match bid.next {
						NextOrderV1::Replace { curve, budget } if from == epoch => {
							Some(terms(curve, budget, epoch.saturating_add(1)))
						},
						_ => None,
					};
					let held = bid.budget.saturating_add(match bid.next {
						NextOrderV1::Replace { budget, .. } => budget,
						_ => Zero::zero(),
					});
					let moved = Self::escrow(&bid.bidder, held);
					let (mut order, mut next) = (order, next);
					if moved < held {
						// A defect (the hold was smaller than the bid said): what could not move
						// is released, and the orders shrink to what is in escrow, so that no
						// other bid pays for them.
						let _ = T::Currency::release(
							&HoldReason::BidBudget.into(),
							&bid.bidder,
							held.saturating_sub(moved),
							Precision::BestEffort,
						);
						order = terms(order.curve, order.budget.min(moved), order.from);
						next = next.map(|pending| {
							let left = moved.saturating_sub(order.budget);
							terms(pending.curve, pending.budget.min(left), pending.from)
						});
					}
					let escrow = order
						.budget
						.saturating_add(next.map_or_else(Zero::zero, |next| next.budget));
					let migrated =
						Bid { order, next, settled_to: epoch, escrow, deposit: bid.deposit };
					for terms in migrated.orders() {
						Pallet::<T>::enter_book(
							*market_id,
							&mut book,
							epoch,
							&terms,
							params,
							crate::impls::Entry::Add,
						);
					}
					book.bids = book.bids.saturating_add(1);
					Bids::<T>::insert(market_id, &bid.bidder, migrated);
					reads = reads.saturating_add(3);
					writes = writes.saturating_add(5);
				}
				Books::<T>::insert(market_id, book);
				writes = writes.saturating_add(2);
			}
			EpochOutcomes::<T>::translate::<EpochOutcomeV1<BalanceOf<T>>, _>(
				|market_id, _epoch, old| {
					reads = reads.saturating_add(1);
					writes = writes.saturating_add(1);
					let grid = markets
						.iter()
						.find(|(id, _)| *id == market_id)
						.map(|(_, market)| PriceGrid::of(&market.params))?;
					let lower = grid.locate(old.price).lower;
					Some(EpochOutcome {
						clearing: Clearing {
							price: old.price,
							lower: u16::try_from(lower).unwrap_or(u16::MAX),
							lower_weight: FixedU128::zero(),
							upper_weight: FixedU128::zero(),
						},
						demand: old.total_allocated,
						total_allocated: old.total_allocated,
						bidders: old.bidders,
						participants: old.participation.mul_floor(old.bidders),
						total_paid: old.total_paid,
						capacity: old.capacity,
					})
				},
			);
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			// Each market's bids: (bidder, budget held for it in all).
			let bids: HeldBudgets<T::AccountId, BalanceOf<T>> = Markets::<T>::iter_keys()
				.map(|market| {
					let old = v1::Bids::<T>::get(market).unwrap_or_default();
					let held = old
						.into_iter()
						.map(|bid| {
							let replacement = match bid.next {
								NextOrderV1::Replace { budget, .. } => budget,
								_ => Zero::zero(),
							};
							(bid.bidder, bid.budget.saturating_add(replacement))
						})
						.collect();
					(market, held)
				})
				.collect();
			// Every budget hold is a bid's: what the migration moves is all there is.
			for (_, held) in &bids {
				for (who, budget) in held {
					ensure!(
						T::Currency::balance_on_hold(&HoldReason::BidBudget.into(), who) >= *budget,
						"a version-1 bid's budget is not held"
					);
				}
			}
			let outcomes = EpochOutcomes::<T>::iter_keys().count() as u32;
			Ok((bids, outcomes, T::Currency::total_issuance()).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			type Snapshot<AccountId, Balance> = (HeldBudgets<AccountId, Balance>, u32, Balance);
			let (bids, outcomes, issuance): Snapshot<T::AccountId, BalanceOf<T>> =
				Decode::decode(&mut &state[..])
					.map_err(|_| "the pre-upgrade state does not decode")?;
			for (market, old) in bids {
				ensure!(v1::Bids::<T>::get(market).is_none(), "a version-1 bid list is left");
				let book = Books::<T>::get(market).ok_or("a market without its book")?;
				ensure!(book.bids as usize == old.len(), "bids lost in the migration");
				for (bidder, held) in old {
					let bid =
						Bids::<T>::get(market, &bidder).ok_or("a bid lost in the migration")?;
					ensure!(bid.escrow == held, "a bid's budget did not move into escrow");
					ensure!(
						T::Currency::balance_on_hold(&HoldReason::BidBudget.into(), &bidder)
							.is_zero(),
						"a version-1 budget is still held"
					);
				}
			}
			ensure!(
				EpochOutcomes::<T>::iter().count() as u32 == outcomes,
				"epoch outcomes lost or left undecodable"
			);
			// Only the escrow account's existential deposit was minted.
			ensure!(
				T::Currency::total_issuance()
					<= issuance.saturating_add(T::Currency::minimum_balance()),
				"the migration minted more than the escrow account's existential deposit"
			);
			Pallet::<T>::do_try_state()
		}
	}

	/// Version 1 → 2, run once: does nothing at any other storage version.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		UncheckedMigrateV1ToV2<T>,
		crate::Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
