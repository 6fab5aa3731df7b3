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
//! 1. [`Pallet::open_round`]: BDrm names BDmm, RM and MM and the round's stake cap; its deposit
//!    `BaseDeposit + stake_cap` and the storage deposit are held. [`Pallet::join_round`]: BDmm
//!    agrees and holds the same deposit. Until BDmm joins, the round binds nobody else.
//! 2. In any order: [`Pallet::consent`] by RM and by MM (each holds the same deposit: a client
//!    that walks away later forfeits it) and [`Pallet::commit`] by each dealer, to its client's
//!    schedule and its hurdle, by a hash bound to this chain and this round.
//! 3. [`Pallet::reveal`]: each dealer reveals its report and salt. A reveal that does not match
//!    its commitment, or reveals an invalid report, is a deviation. Once both are revealed the
//!    contract computes `Q* = argmax (S⁻¹(Q) − D⁻¹(Q))·Q` subject to the hurdles and sends its
//!    trading instructions ([`Event::TradingInstructions`]), or ends the round with no trade.
//!    With the terms the stake is known, and every deposit is lowered to `BaseDeposit + stake`.
//! 4. [`Pallet::offer`] and [`Pallet::accept`], in this order: BDmm offers MM `r_mm`, MM
//!    accepts; BDrm offers RM `r_rm`, RM accepts (its interest `r_rm·Q*` is held); BDrm offers
//!    BDmm the inter-dealer leg at `r_bd`, BDmm accepts and the round settles.
//!
//! **Settlement.** The cash and the collateral of the three repo legs move off-chain; the chain
//! records the legs ([`Event::RepoLegRecorded`]) and settles the interest in the native token:
//! from RM's held `r_rm·Q*`, MM receives `r_mm·Q*`, BDmm `(r_bd − r_mm)·Q*` and BDrm
//! `(r_rm − r_bd)·Q*`. Rates are in whole tokens per unit of cash ([`Config::BalanceUnit`]).
//! Payments out of the pallet's holds move with `Fortitude::Force`: no lock can stop them.
//!
//! **Deviation.** A missed deadline, a bad reveal or an invalid report ends the round: the
//! deviator's deposit goes to the other side of the trade (RM's side is RM and BDrm; MM's side
//! is MM and BDmm), never to its own side, so nobody can recover part of a forfeit through a
//! partner it controls. Every other hold is released. The deposit exceeds the stake, the most
//! any deviation can gain. The deadlines are kept per block and enforced by `on_initialize`;
//! a window is extended by one block for every congested block in it.
//!
//! The math is pure and lives in [`intermediated_trade_primitives`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod migrations;
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
	use sp_runtime::{FixedPointOperand, Perbill};

	/// The pallet's storage version.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

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

		/// Each participant's deposit before the stake: what a round that fails before its terms
		/// costs the others (time and fees). A participant holds `BaseDeposit + stake_cap` from
		/// joining or consenting, `BaseDeposit + stake` once the terms are selected.
		#[pallet::constant]
		type BaseDeposit: Get<BalanceOf<Self>>;

		/// The storage deposit BDrm posts for a round, returned when the round ends.
		#[pallet::constant]
		type RoundDeposit: Get<BalanceOf<Self>>;

		/// Blocks BDmm has to join a round after it is opened.
		#[pallet::constant]
		type JoinWindow: Get<BlockNumberFor<Self>>;

		/// Blocks the clients have to consent and the dealers to commit after BDmm joined.
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;

		/// Blocks both dealers have to reveal once all four are bound.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Blocks each offer or acceptance has after the previous step.
		#[pallet::constant]
		type StepWindow: Get<BlockNumberFor<Self>>;

		/// The most rounds an account takes part in at once (counted from when it holds a
		/// deposit in the round: being named by someone else does not count).
		#[pallet::constant]
		type MaxRoundsPerAccount: Get<u32>;

		/// The most deadlines the hook handles in one block: its work per block. Deadlines
		/// beyond it wait for the next block; nobody can act after a deadline meanwhile, so the
		/// delay only postpones the round's end.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// A block whose weight (all classes together) reaches this share of the block's limit
		/// is congested: each congested block since a step's window began extends the window by
		/// one block, up to the window's own length, so that stuffing blocks cannot crowd a
		/// party out of its step.
		#[pallet::constant]
		type CongestionThreshold: Get<Perbill>;

		/// Weights of the calls and of the deadline hook, from the benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A participant's deposit for a round, forfeited to the other side if it deviates.
		Deposit,
		/// BDrm's storage deposit for a round.
		RoundDeposit,
		/// RM's interest `r_rm·Q*`, between its acceptance and the settlement.
		Interest,
	}

	/// The identifier the next round gets.
	#[pallet::storage]
	pub type NextRoundId<T> = StorageValue<_, RoundId, ValueQuery>;

	/// The rounds in progress, by identifier. A round is removed when it settles or ends; its
	/// outcome stays in the events. Each round's storage is paid by BDrm's round deposit.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, RoundId, RoundOf<T>>;

	/// Every round in progress under the last block of its current step: `(deadline, round)`.
	/// Inserting never fails; the hook walks the blocks in order from [`DeadlineCursor`],
	/// at most [`Config::MaxDeadlinesPerBlock`] entries per block.
	#[pallet::storage]
	pub type DeadlineIndex<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		RoundId,
		(),
		OptionQuery,
	>;

	/// The first block whose deadlines the hook may not have handled yet: no deadline before it
	/// is left in [`DeadlineIndex`].
	#[pallet::storage]
	pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// How many rounds each account takes part in (holds a deposit in), at most
	/// [`Config::MaxRoundsPerAccount`].
	#[pallet::storage]
	pub type ActiveRounds<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// How many congested blocks the chain has had (see [`Config::CongestionThreshold`]).
	#[pallet::storage]
	pub type CongestedBlocks<T> = StorageValue<_, u32, ValueQuery>;

	/// What happened. Every step of every round has its event.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// BDrm opened a round; BDmm must join by `deadline`.
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
			/// The most the round may put at stake.
			stake_cap: BalanceOf<T>,
			/// The deposit each participant holds until the terms are selected.
			deposit: BalanceOf<T>,
			/// The last block BDmm may join in.
			deadline: BlockNumberFor<T>,
		},
		/// BDmm joined; the clients must consent and the dealers commit by `deadline`.
		RoundJoined {
			/// The round.
			round: RoundId,
			/// The last block to consent or commit in.
			deadline: BlockNumberFor<T>,
		},
		/// A client consented to the round and holds its deposit.
		Consented {
			/// The round.
			round: RoundId,
			/// The client.
			client: T::AccountId,
			/// Its deposit.
			deposit: BalanceOf<T>,
		},
		/// A dealer committed to its report.
		Committed {
			/// The round.
			round: RoundId,
			/// The dealer.
			dealer: T::AccountId,
			/// Its commitment.
			commitment: Commitment,
		},
		/// All four are bound: both dealers must reveal by `deadline`.
		RevealsOpened {
			/// The round.
			round: RoundId,
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
		/// offer MM by `deadline`. Every deposit is now `BaseDeposit + stake`.
		TradingInstructions {
			/// The round.
			round: RoundId,
			/// `Q*`, `r_rm`, `r_mm`, `r_bd`.
			terms: Terms,
			/// What the round puts at stake: the largest joint profit of the reported schedules.
			stake: BalanceOf<T>,
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
		/// A party deviated and forfeits its deposit to the other side of the trade.
		Deviated {
			/// The round.
			round: RoundId,
			/// Who deviated.
			who: T::AccountId,
			/// Its role.
			role: Role,
			/// Its deposit, forfeited (zero for a client that had not consented, or a dealer
			/// that had not joined).
			forfeited: BalanceOf<T>,
		},
		/// Part of a forfeited deposit was paid to a participant the deviation harmed.
		ForfeitPaid {
			/// The round.
			round: RoundId,
			/// Who deviated.
			from: T::AccountId,
			/// Who received it.
			to: T::AccountId,
			/// What was actually paid.
			amount: BalanceOf<T>,
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
		/// A dealer agreed to terms computed off-chain from both reports (the private path).
		Agreed {
			/// The round.
			round: RoundId,
			/// The dealer.
			dealer: T::AccountId,
			/// The terms it agreed to.
			terms: Terms,
		},
		/// Both dealers agreed to the same terms: the contract's instructions, with no report
		/// on chain. BDmm must offer MM by `deadline`. Either client may still dispute them.
		TermsAgreed {
			/// The round.
			round: RoundId,
			/// `Q*`, `r_rm`, `r_mm`, `r_bd`.
			terms: Terms,
			/// The last block for BDmm's offer.
			deadline: BlockNumberFor<T>,
		},
		/// The dealers agreed to different terms: both must reveal by the round's deadline.
		AgreementsDiffer {
			/// The round.
			round: RoundId,
		},
		/// A client disputed the agreed terms: both dealers must reveal by `deadline`.
		Disputed {
			/// The round.
			round: RoundId,
			/// The client.
			client: T::AccountId,
			/// The last block to reveal in.
			deadline: BlockNumberFor<T>,
		},
		/// Congested blocks during a step's window extended its deadline.
		DeadlineExtended {
			/// The round.
			round: RoundId,
			/// The new last block for the step.
			deadline: BlockNumberFor<T>,
		},
	}

	/// Why a call failed. A failed call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// There is no round in progress with this identifier.
		UnknownRound,
		/// The caller, or an account it names, already takes part in
		/// [`Config::MaxRoundsPerAccount`] rounds.
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
		/// The client has already consented, or the dealer already committed.
		AlreadyBound,
		/// The stake cap is zero, or the deposit it implies overflows the balance type.
		BadStakeCap,
		/// Every round identifier has been used.
		RoundIdsExhausted,
		/// The client's consent names another commitment than its dealer's (or the dealer has
		/// not committed yet).
		CommitmentMismatch,
		/// The agreed terms could not be a selection (no volume, crossed rates, a rate above the
		/// schedules' range, or `r_bd` not the midpoint).
		InvalidTerms,
		/// A report is already public, or the agreements differ: the selection is made from
		/// the reveals.
		SelectionIsPublic,
		/// The terms came from public reports: there is nothing to dispute.
		NothingToDispute,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Ends (or, after congested blocks, extends) the rounds whose step's deadline was the
		/// previous block; returns the benchmarked weight of that work and of `on_finalize`.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(now).saturating_add(T::WeightInfo::on_finalize())
		}

		/// Counts the block as congested if its weight, all classes together, reached
		/// [`Config::CongestionThreshold`] of the normal-class limit.
		fn on_finalize(_now: BlockNumberFor<T>) {
			Self::do_on_finalize()
		}

		fn integrity_test() {
			assert!(T::MaxRoundsPerAccount::get() > 0, "MaxRoundsPerAccount must be positive");
			assert!(T::MaxDeadlinesPerBlock::get() > 1, "MaxDeadlinesPerBlock must exceed 1");
			assert!(!T::BalanceUnit::get().is_zero(), "BalanceUnit must be positive");
			assert!(!T::BaseDeposit::get().is_zero(), "BaseDeposit must be positive");
			assert!(!T::RoundDeposit::get().is_zero(), "RoundDeposit must be positive");
			assert!(!T::JoinWindow::get().is_zero(), "JoinWindow must be positive");
			assert!(!T::CommitWindow::get().is_zero(), "CommitWindow must be positive");
			assert!(!T::RevealWindow::get().is_zero(), "RevealWindow must be positive");
			assert!(!T::StepWindow::get().is_zero(), "StepWindow must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	/// Every step under a deadline is an operational extrinsic: it may use the block space
	/// that normal transactions cannot fill, so a party cannot be crowded out of its step by
	/// stuffing blocks. Opening a round has no deadline and is a normal one.
	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a round as BDrm, RM's dealer: names BDmm, RM and MM (existing accounts, all
		/// different) and the most the round may put at stake, `stake_cap` (see
		/// [`intermediated_trade_primitives::max_joint_profit`]); holds the deposit
		/// `BaseDeposit + stake_cap` and the round deposit. BDmm must join within
		/// [`Config::JoinWindow`] blocks.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::open_round())]
		pub fn open_round(
			origin: OriginFor<T>,
			mm_dealer: T::AccountId,
			rm: T::AccountId,
			mm: T::AccountId,
			stake_cap: BalanceOf<T>,
		) -> DispatchResult {
			let rm_dealer = ensure_signed(origin)?;
			Self::do_open_round(rm_dealer, mm_dealer, rm, mm, stake_cap)
		}

		/// Joins `round` as its BDmm: holds the same deposit as BDrm. The clients must then
		/// consent and the dealers commit within [`Config::CommitWindow`] blocks.
		#[pallet::call_index(1)]
		#[pallet::weight((T::WeightInfo::join_round(), DispatchClass::Operational))]
		pub fn join_round(origin: OriginFor<T>, round: RoundId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_join_round(who, round)
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
		#[pallet::weight((
			T::WeightInfo::reveal()
				.max(T::WeightInfo::reveal_deviation())
				.max(T::WeightInfo::reveal_dispute()),
			DispatchClass::Operational
		))]
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
		#[pallet::weight((T::WeightInfo::offer(), DispatchClass::Operational))]
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
		#[pallet::weight((T::WeightInfo::accept(), DispatchClass::Operational))]
		pub fn accept(
			origin: OriginFor<T>,
			round: RoundId,
			quantity: FixedU128,
			rate: FixedU128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept(who, round, quantity, rate)
		}

		/// Consents to `round` as its RM or MM, and to the report its dealer committed to for
		/// it: `commitment` must equal the dealer's commitment, which the client checks against
		/// the report and salt its dealer showed it (so it knows which schedule it is bound to).
		/// The dealer commits first. Holds the client's deposit `BaseDeposit + stake_cap`,
		/// forfeited to the other side if the client later walks away from the contract's
		/// terms.
		#[pallet::call_index(5)]
		#[pallet::weight((T::WeightInfo::consent(), DispatchClass::Operational))]
		pub fn consent(
			origin: OriginFor<T>,
			round: RoundId,
			commitment: Commitment,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_consent(who, round, commitment)
		}

		/// Agrees, as a dealer of `round`, to `terms` computed off-chain from both reports (the
		/// private path): each dealer sends the other its report and salt over a private
		/// channel, checks the one it receives against the commitment on chain, and runs the
		/// contract's selection (`intermediated_trade_primitives::select`). When both agree to
		/// the same terms they become the instructions and no report is ever published; when
		/// they differ, both must reveal, and a dealer whose agreement is not the contract's
		/// selection deviates.
		#[pallet::call_index(7)]
		#[pallet::weight((T::WeightInfo::agree(), DispatchClass::Operational))]
		pub fn agree(origin: OriginFor<T>, round: RoundId, terms: Terms) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_agree(who, round, terms)
		}

		/// Disputes, as RM or MM before its own acceptance, the terms both dealers agreed to:
		/// both dealers must then reveal. If the agreement was the contract's selection, the
		/// client deviated and forfeits its deposit; otherwise both dealers did.
		#[pallet::call_index(8)]
		#[pallet::weight((T::WeightInfo::dispute(), DispatchClass::Operational))]
		pub fn dispute(origin: OriginFor<T>, round: RoundId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_dispute(who, round)
		}

		/// Commits, as a dealer of `round`, to its report with `commitment` (see
		/// [`Pallet::commitment`]: the hash binds this chain and this round). Its client then
		/// consents to it.
		#[pallet::call_index(6)]
		#[pallet::weight((T::WeightInfo::commit(), DispatchClass::Operational))]
		pub fn commit(
			origin: OriginFor<T>,
			round: RoundId,
			commitment: Commitment,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(who, round, commitment)
		}
	}
}
