//! Storage migrations, one module per storage version.

/// Version 0 → 1: deposits sized by the stake, client consent, commitments after consent,
/// deadlines kept per block.
///
/// Version 0 rounds cannot be carried on under version 1's rules: their clients never
/// consented nor posted deposits, and their commitments were made without the round and the
/// chain in the preimage. Every round in progress is therefore cancelled: every hold it had
/// (the dealers' deposits, the round deposit, RM's held interest) is released, nobody forfeits
/// anything, and [`Event::RoundAborted`](crate::Event::RoundAborted) says so with
/// [`AbortReason::RuntimeUpgrade`]. The single list of deadlines is removed, and the new
/// per-block deadline index starts from the current block.
#[allow(missing_docs)]
pub mod v1 {
	use crate::{pallet::*, types::*, BalanceOf, Pallet};
	#[cfg(feature = "try-runtime")]
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration,
		pallet_prelude::*,
		traits::{fungible::MutateHold, tokens::Precision, UncheckedOnRuntimeUpgrade},
	};
	use frame_system::pallet_prelude::BlockNumberFor;
	use intermediated_trade_primitives::{Report, Terms};
	use sp_runtime::traits::Zero;

	/// Where a version-0 round stood.
	#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub enum PhaseV0 {
		Joining,
		Revealing,
		MmOffer,
		MmAcceptance,
		RmOffer,
		RmAcceptance,
		DealerOffer,
		DealerAcceptance,
	}

	impl From<PhaseV0> for Phase {
		fn from(phase: PhaseV0) -> Self {
			match phase {
				PhaseV0::Joining => Phase::Joining,
				PhaseV0::Revealing => Phase::Revealing,
				PhaseV0::MmOffer => Phase::MmOffer,
				PhaseV0::MmAcceptance => Phase::MmAcceptance,
				PhaseV0::RmOffer => Phase::RmOffer,
				PhaseV0::RmAcceptance => Phase::RmAcceptance,
				PhaseV0::DealerOffer => Phase::DealerOffer,
				PhaseV0::DealerAcceptance => Phase::DealerAcceptance,
			}
		}
	}

	/// A round as version 0 stored it.
	#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
	pub struct RoundV0<AccountId, Balance, BlockNumber> {
		pub rm_dealer: AccountId,
		pub mm_dealer: AccountId,
		pub rm: AccountId,
		pub mm: AccountId,
		pub phase: PhaseV0,
		pub deadline: BlockNumber,
		/// Each dealer's deposit (BDmm's held once it joined).
		pub dealer_deposit: Balance,
		pub round_deposit: Balance,
		pub rm_commitment: Commitment,
		pub mm_commitment: Option<Commitment>,
		pub rm_report: Option<Report>,
		pub mm_report: Option<Report>,
		pub terms: Option<Terms>,
		pub interest_held: Balance,
	}

	/// A version-0 round for runtime `T`.
	pub type RoundV0Of<T> =
		RoundV0<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

	/// Version 0's storage, read under its own names.
	pub mod v0 {
		use super::*;

		/// Version 0's rounds, under the same name as version 1's.
		#[frame_support::storage_alias]
		pub type Rounds<T: Config> = StorageMap<Pallet<T>, Twox64Concat, RoundId, RoundV0Of<T>>;

		/// Version 0's single list of (round, deadline).
		#[frame_support::storage_alias]
		pub type Deadlines<T: Config> = StorageValue<
			Pallet<T>,
			BoundedVec<(RoundId, BlockNumberFor<T>), ConstU32<1024>>,
			ValueQuery,
		>;
	}

	impl<AccountId, Balance: Copy + Zero, BlockNumber> RoundV0<AccountId, Balance, BlockNumber> {
		/// The holds of the round: (account, reason, amount).
		pub fn holds(&self) -> [(&AccountId, HoldReason, Balance); 4] {
			let mm_dealer =
				if self.phase == PhaseV0::Joining { Zero::zero() } else { self.dealer_deposit };
			[
				(&self.rm_dealer, HoldReason::Deposit, self.dealer_deposit),
				(&self.mm_dealer, HoldReason::Deposit, mm_dealer),
				(&self.rm_dealer, HoldReason::RoundDeposit, self.round_deposit),
				(&self.rm, HoldReason::Interest, self.interest_held),
			]
		}
	}

	/// The migration's work, run only from storage version 0 (see [`MigrateV0ToV1`]).
	pub struct UncheckedMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut reads = 1u64;
			let mut writes = 1u64;
			for (id, round) in v0::Rounds::<T>::drain() {
				reads = reads.saturating_add(1);
				writes = writes.saturating_add(5);
				for (who, reason, amount) in round.holds() {
					if amount.is_zero() {
						continue;
					}
					if let Err(error) = <T::Currency as MutateHold<_>>::release(
						&reason.into(),
						who,
						amount,
						Precision::BestEffort,
					) {
						frame_support::defensive!("a version-0 hold could not be released", error);
					}
				}
				Pallet::<T>::deposit_event(Event::RoundAborted {
					round: id,
					phase: round.phase.into(),
					reason: AbortReason::RuntimeUpgrade,
				});
			}
			v0::Deadlines::<T>::kill();
			// Version 1's deadline hook starts from the current block.
			DeadlineCursor::<T>::put(frame_system::Pallet::<T>::block_number());
			T::DbWeight::get().reads_writes(reads, writes.saturating_add(1))
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			use frame_support::traits::fungible::InspectHold;
			// Every hold the version-0 rounds record, to be released.
			let mut holds: Vec<(T::AccountId, u8, BalanceOf<T>)> = Vec::new();
			for (_, round) in v0::Rounds::<T>::iter() {
				for (who, reason, amount) in round.holds() {
					ensure!(
						T::Currency::balance_on_hold(&reason.into(), who) >= amount,
						"a version-0 hold is missing"
					);
					holds.push((who.clone(), reason as u8, amount));
				}
			}
			Ok(holds.encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use frame_support::traits::fungible::InspectHold;
			let holds: Vec<(T::AccountId, u8, BalanceOf<T>)> =
				Decode::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state")?;
			ensure!(v0::Rounds::<T>::iter_keys().next().is_none(), "a version-0 round is left");
			ensure!(!v0::Deadlines::<T>::exists(), "the version-0 deadline list is left");
			for (who, _, _) in holds {
				for reason in [HoldReason::Deposit, HoldReason::RoundDeposit, HoldReason::Interest]
				{
					ensure!(
						T::Currency::balance_on_hold(&reason.into(), &who).is_zero(),
						"a version-0 hold was not released"
					);
				}
			}
			Pallet::<T>::do_try_state()
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
