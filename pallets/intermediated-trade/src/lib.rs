//! # Intermediated-trade pallet
//!
//! The smart contract of Aronoff & Townsend, "A Smart-Contract to Resolve Multiple Equilibrium in
//! Intermediated Trade" (arXiv 2505.22940), for one repo trade between four accounts: RM (the
//! repo borrower), MM (the money-market lender) and their broker-dealers BDrm and BDmm.
//! Without coordination any volume in an interval is an equilibrium of the dealers' game; the
//! contract selects the joint-profit maximising one and makes following it binding.
//!
//! A round goes through a fixed sequence of steps, each an extrinsic from one party within a
//! window of blocks (see `docs/intermediated-trade.md` for the timeline):
//!
//! 1. [`Pallet::open_round`]: BDrm names the other three, commits to RM's schedule and its
//!    hurdle by hash, and its contingent deposit [`Config::DealerDeposit`] (plus the storage
//!    deposit [`Config::RoundDeposit`]) is held.
//! 2. [`Pallet::join_round`]: BDmm commits to MM's schedule and its hurdle; its deposit is held.
//! 3. [`Pallet::reveal`]: each dealer reveals its report and salt. A reveal that does not match
//!    its commitment, or reveals an invalid report, is a deviation. Once both are revealed the
//!    contract computes `Q* = argmax (S⁻¹(Q) − D⁻¹(Q))·Q` subject to the hurdles and sends its
//!    trading instructions ([`Event::TradingInstructions`]), or ends the round with no trade.
//! 4. [`Pallet::offer`] and [`Pallet::accept`], in this order: BDmm offers MM `r_mm`, MM
//!    accepts; BDrm offers RM `r_rm`, RM accepts (its interest `r_rm·Q*` is held); BDrm offers
//!    BDmm the inter-dealer leg at `r_bd`, BDmm accepts and the round settles.
//!
//! **Settlement.** The cash and the collateral of the three repo legs move off-chain; the chain
//! records the legs ([`Event::RepoLegRecorded`]) and settles the interest in the native token:
//! from RM's held `r_rm·Q*`, MM receives `r_mm·Q*`, BDmm `(r_bd − r_mm)·Q*` and BDrm
//! `(r_rm − r_bd)·Q*`. Rates are in whole tokens per unit of cash ([`Config::BalanceUnit`]).
//!
//! **Deviation.** A missed deadline, a bad reveal or an invalid report ends the round: a
//! deviating dealer's deposit is split among the other participants, every other hold is
//! released. Clients hold no deposit: a client's missed step only ends the round.
//! The deadlines are enforced by `on_initialize`.
//!
//! The math is pure and lives in [`intermediated_trade_primitives`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use intermediated_trade_primitives::{
	ClientSchedule, DemandSchedule, FixedU128, NoTrade, Report, SupplySchedule, Terms,
};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// A round as stored for runtime `T`.
pub type RoundOf<T> = Round<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;

/// A repo leg for runtime `T`.
pub type RepoLegOf<T> = RepoLeg<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::FixedPointOperand;

	/// The pallet's storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native token: deposits and RM's interest are held in it, interest is paid in it.
		type Currency: Inspect<Self::AccountId, Balance: FixedPointOperand>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The token's smallest units per whole token (10¹² for 12 decimals): rates are in whole
		/// tokens per unit of cash and converted with it when interest is paid.
		#[pallet::constant]
		type BalanceUnit: Get<BalanceOf<Self>>;

		/// The contingent deposit each dealer posts for a round, forfeited if it deviates.
		#[pallet::constant]
		type DealerDeposit: Get<BalanceOf<Self>>;

		/// The storage deposit BDrm posts for a round, returned when the round ends.
		#[pallet::constant]
		type RoundDeposit: Get<BalanceOf<Self>>;

		/// Blocks BDmm has to join a round after it is opened.
		#[pallet::constant]
		type JoinWindow: Get<BlockNumberFor<Self>>;

		/// Blocks both dealers have to reveal after BDmm joined.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Blocks each offer or acceptance has after the previous step.
		#[pallet::constant]
		type StepWindow: Get<BlockNumberFor<Self>>;

		/// The most rounds in progress at once.
		#[pallet::constant]
		type MaxRounds: Get<u32>;

		/// Weights of the calls and of the deadline hook, from the benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A dealer's contingent deposit for a round.
		DealerDeposit,
		/// BDrm's storage deposit for a round.
		RoundDeposit,
		/// RM's interest `r_rm·Q*`, between its acceptance and the settlement.
		Interest,
	}

	/// The identifier the next round gets.
	#[pallet::storage]
	pub type NextRoundId<T> = StorageValue<_, RoundId, ValueQuery>;

	/// The rounds in progress, by identifier (at most [`Config::MaxRounds`]: see
	/// [`Deadlines`]). A round is removed when it settles or ends; its outcome stays in the
	/// events.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, RoundId, RoundOf<T>>;

	/// Every round in progress with its current deadline, at most [`Config::MaxRounds`]: the
	/// hook reads this one value each block to find the rounds whose step was missed.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageValue<_, BoundedVec<(RoundId, BlockNumberFor<T>), T::MaxRounds>, ValueQuery>;

	/// What happened. Every step of every round has its event.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// BDrm opened a round and committed; BDmm must join by `deadline`.
		RoundOpened {
			/// The round.
			round: RoundId,
			/// BDrm.
			rm_dealer: T::AccountId,
			/// BDmm.
			mm_dealer: T::AccountId,
			/// RM.
			rm: T::AccountId,
			/// MM.
			mm: T::AccountId,
			/// BDrm's commitment.
			commitment: Commitment,
			/// The last block BDmm may join in.
			deadline: BlockNumberFor<T>,
		},
		/// BDmm joined and committed; both dealers must reveal by `deadline`.
		RoundJoined {
			/// The round.
			round: RoundId,
			/// BDmm's commitment.
			commitment: Commitment,
			/// The last block to reveal in.
			deadline: BlockNumberFor<T>,
		},
		/// A dealer revealed a report that matches its commitment.
		ReportRevealed {
			/// The round.
			round: RoundId,
			/// The dealer.
			dealer: T::AccountId,
			/// Its client's schedule and its hurdle.
			report: Report,
		},
		/// The contract's trading instructions: the terms every leg must follow. BDmm must
		/// offer MM by `deadline`.
		TradingInstructions {
			/// The round.
			round: RoundId,
			/// `Q*`, `r_rm`, `r_mm`, `r_bd`.
			terms: Terms,
			/// The last block for BDmm's offer.
			deadline: BlockNumberFor<T>,
		},
		/// The reports admit no trade; the round ended and every deposit was released.
		NoTradeSelected {
			/// The round.
			round: RoundId,
			/// Why.
			reason: NoTrade,
		},
		/// A party offered a leg on the contract's terms.
		OfferMade {
			/// The round.
			round: RoundId,
			/// Who offered.
			from: T::AccountId,
			/// To whom.
			to: T::AccountId,
			/// The volume, `Q*`.
			quantity: FixedU128,
			/// The leg's rate.
			rate: FixedU128,
			/// The last block for the acceptance.
			deadline: BlockNumberFor<T>,
		},
		/// A party accepted the offer made to it.
		OfferAccepted {
			/// The round.
			round: RoundId,
			/// Who accepted.
			by: T::AccountId,
			/// The volume, `Q*`.
			quantity: FixedU128,
			/// The leg's rate.
			rate: FixedU128,
			/// The last block for the next step (equal to the current block once the round
			/// settles).
			deadline: BlockNumberFor<T>,
		},
		/// A repo leg of a settled round, as recorded on chain (its cash and collateral move
		/// off-chain).
		RepoLegRecorded {
			/// The round.
			round: RoundId,
			/// The leg.
			leg: RepoLegOf<T>,
		},
		/// The round settled: interest paid, deposits released, the round removed.
		RoundSettled {
			/// The round.
			round: RoundId,
			/// The terms it settled on.
			terms: Terms,
			/// The interest paid.
			payments: Payments<BalanceOf<T>>,
		},
		/// A party deviated; a dealer forfeits its deposit to the other participants.
		Deviated {
			/// The round.
			round: RoundId,
			/// Who deviated.
			who: T::AccountId,
			/// Its role.
			role: Role,
			/// What it forfeited (zero for a client, or a dealer that had not joined).
			forfeited: BalanceOf<T>,
		},
		/// The round ended without settling; every remaining hold was released.
		RoundAborted {
			/// The round.
			round: RoundId,
			/// The step it was waiting for.
			phase: Phase,
			/// Why.
			reason: AbortReason,
		},
	}

	/// Why a call failed. A failed call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// There is no round in progress with this identifier.
		UnknownRound,
		/// [`Config::MaxRounds`] rounds are already in progress.
		TooManyRounds,
		/// The four participants are not four different accounts.
		PartiesNotDistinct,
		/// A participant's account does not exist: it could not receive payments.
		UnknownAccount,
		/// The caller's free balance cannot cover what must be held.
		InsufficientBalance,
		/// The caller is not the party this step waits for.
		WrongParty,
		/// The round is not at the step this call takes.
		WrongStep,
		/// The dealer has already revealed.
		AlreadyRevealed,
		/// The volume or rate differs from the contract's terms for this leg.
		TermsMismatch,
		/// The step's deadline has passed.
		DeadlinePassed,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Ends the rounds whose step's deadline passed (the party it waited for deviated);
		/// returns the benchmarked weight of that work.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(now)
		}

		fn integrity_test() {
			assert!(T::MaxRounds::get() > 0, "MaxRounds must be positive");
			assert!(!T::BalanceUnit::get().is_zero(), "BalanceUnit must be positive");
			assert!(!T::DealerDeposit::get().is_zero(), "DealerDeposit must be positive");
			assert!(!T::RoundDeposit::get().is_zero(), "RoundDeposit must be positive");
			assert!(!T::JoinWindow::get().is_zero(), "JoinWindow must be positive");
			assert!(!T::RevealWindow::get().is_zero(), "RevealWindow must be positive");
			assert!(!T::StepWindow::get().is_zero(), "StepWindow must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a round as BDrm, RM's dealer: names BDmm, RM and MM (existing accounts, all
		/// different), commits to RM's schedule and BDrm's hurdle with `commitment` (see
		/// [`Pallet::commitment`]) and holds the dealer deposit and the round deposit. BDmm
		/// must join within [`Config::JoinWindow`] blocks.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::open_round())]
		pub fn open_round(
			origin: OriginFor<T>,
			mm_dealer: T::AccountId,
			rm: T::AccountId,
			mm: T::AccountId,
			commitment: Commitment,
		) -> DispatchResult {
			let rm_dealer = ensure_signed(origin)?;
			Self::do_open_round(rm_dealer, mm_dealer, rm, mm, commitment)
		}

		/// Joins `round` as its BDmm: commits to MM's schedule and BDmm's hurdle and holds the
		/// dealer deposit. Both dealers must then reveal within [`Config::RevealWindow`]
		/// blocks.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::join_round())]
		pub fn join_round(
			origin: OriginFor<T>,
			round: RoundId,
			commitment: Commitment,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_join_round(who, round, commitment)
		}

		/// Reveals the caller's report (BDrm: RM's demand; BDmm: MM's supply; each with its
		/// hurdle) and the salt of its commitment.
		///
		/// The call succeeds whenever the caller is a dealer of the round that has not revealed
		/// yet: a report that does not match the commitment, or that is invalid, is a
		/// deviation and ends the round ([`Event::Deviated`], [`Event::RoundAborted`]). Once
		/// both have revealed, the contract selects the trade ([`Event::TradingInstructions`])
		/// or ends the round with none ([`Event::NoTradeSelected`]).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reveal().max(T::WeightInfo::reveal_deviation()))]
		pub fn reveal(
			origin: OriginFor<T>,
			round: RoundId,
			report: Report,
			salt: Salt,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_reveal(who, round, report, salt)
		}

		/// Makes the offer the round waits for, on the contract's terms: BDmm offers MM
		/// `quantity = Q*` at `rate = r_mm`, BDrm offers RM `Q*` at `r_rm`, BDrm offers BDmm `Q*`
		/// at `r_bd`. The terms must equal the instructions exactly.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::offer())]
		pub fn offer(
			origin: OriginFor<T>,
			round: RoundId,
			quantity: FixedU128,
			rate: FixedU128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_offer(who, round, quantity, rate)
		}

		/// Accepts the offer made to the caller, restating its terms: MM accepts `r_mm`, RM
		/// accepts `r_rm` (its interest `r_rm·Q*` is held until settlement), BDmm accepts the
		/// inter-dealer leg at `r_bd`, which settles the round.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::accept())]
		pub fn accept(
			origin: OriginFor<T>,
			round: RoundId,
			quantity: FixedU128,
			rate: FixedU128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept(who, round, quantity, rate)
		}
	}
}
