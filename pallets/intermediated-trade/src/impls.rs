//! What the calls and the deadline hook do.

use crate::{pallet::*, types::*, BalanceOf, RepoLegOf, RoundOf, WeightInfo};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive,
	dispatch::DispatchClass,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Preservation, Provenance, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use intermediated_trade_primitives::{
	max_joint_profit, select, ClientSchedule, FixedU128, NoTrade, Report, Terms,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Saturating, UniqueSaturatedInto, Zero},
	FixedPointNumber, Rounding,
};

const LOG_TARGET: &str = "runtime::intermediated-trade";

/// The contract's selection: the terms, the stake and the legs' interest.
type Selection<Balance> = (Terms, Balance, LegInterest<Balance>);

/// The parties each phase waits for: the one that must act (in [`Phase::Committing`] and
/// [`Phase::Revealing`], each of several).
fn waits_for(phase: Phase) -> &'static [Role] {
	match phase {
		Phase::Joining | Phase::MmOffer | Phase::DealerAcceptance => &[Role::MmDealer],
		Phase::Committing => &Role::ALL,
		Phase::Revealing | Phase::Disputed => &[Role::RmDealer, Role::MmDealer],
		Phase::MmAcceptance => &[Role::Mm],
		Phase::RmOffer | Phase::DealerOffer => &[Role::RmDealer],
		Phase::RmAcceptance => &[Role::Rm],
	}
}

/// For an offer or acceptance phase, the party the offer goes to (or came from).
fn counterparty(phase: Phase) -> Role {
	match phase {
		Phase::MmOffer => Role::Mm,
		Phase::MmAcceptance | Phase::DealerOffer => Role::MmDealer,
		Phase::RmOffer => Role::Rm,
		_ => Role::RmDealer,
	}
}

impl<T: Config> Pallet<T> {
	/// The commitment of `dealer` to `report` with `salt` in `round`: `blake2_256` of the SCALE
	/// encoding of `(COMMITMENT_DOMAIN, genesis_hash, round, dealer, report, salt)`. The domain,
	/// the chain's genesis hash and the round make a commitment useless anywhere else. Clients
	/// compute the same off-chain (see `scripts/polkadot-js/intermediated-trade.mjs`).
	pub fn commitment(
		round: RoundId,
		dealer: &T::AccountId,
		report: &Report,
		salt: &Salt,
	) -> Commitment {
		let genesis = frame_system::BlockHash::<T>::get(BlockNumberFor::<T>::zero());
		sp_io::hashing::blake2_256(
			&(COMMITMENT_DOMAIN, genesis, round, dealer, report, salt).encode(),
		)
	}

	/// `amount` whole tokens (fixed point) in the token's smallest unit, rounded as asked;
	/// `None` if it does not fit the balance type.
	pub fn to_balance(amount: FixedU128, rounding: Rounding) -> Option<BalanceOf<T>> {
		let unit: u128 = T::BalanceUnit::get().unique_saturated_into();
		multiply_by_rational_with_rounding(amount.into_inner(), unit, FixedU128::DIV, rounding)
			.and_then(|planck| BalanceOf::<T>::try_from(planck).ok())
	}

	/// The deposit a participant holds for `stake`: `BaseDeposit + stake`.
	fn deposit_for(stake: BalanceOf<T>) -> Option<BalanceOf<T>> {
		T::BaseDeposit::get().checked_add(&stake)
	}

	fn ensure_can_hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(
			T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite)
				>= amount,
			Error::<T>::InsufficientBalance
		);
		Ok(())
	}

	/// Counts one more round for `who`, within [`Config::MaxRoundsPerAccount`].
	fn count_round(who: &T::AccountId) -> DispatchResult {
		ActiveRounds::<T>::try_mutate(who, |count| {
			ensure!(*count < T::MaxRoundsPerAccount::get(), Error::<T>::TooManyRounds);
			*count = count.saturating_add(1);
			Ok(())
		})
	}

	/// Files round `id` under block `at` in the deadline index.
	fn schedule(id: RoundId, at: BlockNumberFor<T>) {
		DeadlineIndex::<T>::insert(at, id, ());
	}

	/// Removes round `id` from the deadlines of block `at`.
	fn unschedule(id: RoundId, at: BlockNumberFor<T>) {
		DeadlineIndex::<T>::remove(at, id);
	}

	/// The window of the step `phase` waits for.
	fn window(phase: Phase) -> BlockNumberFor<T> {
		match phase {
			Phase::Joining => T::JoinWindow::get(),
			Phase::Committing => T::CommitWindow::get(),
			Phase::Revealing | Phase::Disputed => T::RevealWindow::get(),
			_ => T::StepWindow::get(),
		}
	}

	/// Moves the round to `phase` with the phase's window from now, re-indexing its deadline.
	fn enter(id: RoundId, round: &mut RoundOf<T>, phase: Phase) {
		Self::unschedule(id, round.deadline);
		let now = frame_system::Pallet::<T>::block_number();
		round.deadline = now.saturating_add(Self::window(phase));
		Self::schedule(id, round.deadline);
		round.phase = phase;
		round.congestion_mark = CongestedBlocks::<T>::get();
		round.extended = 0;
	}

	/// The round `id`, checked to be at one of `phases`, to wait for `who` in one of `roles`,
	/// and to be within its deadline; with `who`'s role.
	fn round_for_step(
		who: &T::AccountId,
		id: RoundId,
		phases: &[Phase],
		roles: &[Role],
	) -> Result<(RoundOf<T>, Role), DispatchError> {
		let round = Rounds::<T>::get(id).ok_or(Error::<T>::UnknownRound)?;
		ensure!(phases.contains(&round.phase), Error::<T>::WrongStep);
		let role = round
			.role_of(who)
			.filter(|role| roles.contains(role) && waits_for(round.phase).contains(role))
			.ok_or(Error::<T>::WrongParty)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() <= round.deadline,
			Error::<T>::DeadlinePassed
		);
		Ok((round, role))
	}

	/// Holds `round`'s deposit (BDrm's, which every participant matches until the terms) from
	/// `who` playing `role`, and counts the round for it.
	fn bind(who: &T::AccountId, round: &mut RoundOf<T>, role: Role) -> DispatchResult {
		ensure!(!round.is_bound(role), Error::<T>::AlreadyBound);
		let deposit = round.deposits.rm_dealer;
		Self::ensure_can_hold(who, deposit)?;
		Self::count_round(who)?;
		T::Currency::hold(&HoldReason::Deposit.into(), who, deposit)?;
		*round.deposits.get_mut(role) = deposit;
		Ok(())
	}

	pub(crate) fn do_open_round(
		rm_dealer: T::AccountId,
		mm_dealer: T::AccountId,
		rm: T::AccountId,
		mm: T::AccountId,
		stake_cap: BalanceOf<T>,
	) -> DispatchResult {
		let parties = [&rm_dealer, &mm_dealer, &rm, &mm];
		for (index, party) in parties.iter().enumerate() {
			ensure!(
				parties.iter().skip(index.saturating_add(1)).all(|other| other != party),
				Error::<T>::PartiesNotDistinct
			);
			ensure!(frame_system::Pallet::<T>::account_exists(party), Error::<T>::UnknownAccount);
		}
		ensure!(!stake_cap.is_zero(), Error::<T>::BadStakeCap);
		let deposit = Self::deposit_for(stake_cap).ok_or(Error::<T>::BadStakeCap)?;
		let round_deposit = T::RoundDeposit::get();
		Self::ensure_can_hold(
			&rm_dealer,
			deposit.checked_add(&round_deposit).ok_or(Error::<T>::BadStakeCap)?,
		)?;
		let id = NextRoundId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::RoundIdsExhausted)?;
		Self::count_round(&rm_dealer)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(T::JoinWindow::get());
		Self::schedule(id, deadline);
		T::Currency::hold(&HoldReason::Deposit.into(), &rm_dealer, deposit)?;
		T::Currency::hold(&HoldReason::RoundDeposit.into(), &rm_dealer, round_deposit)?;
		Rounds::<T>::insert(
			id,
			Round {
				rm_dealer: rm_dealer.clone(),
				mm_dealer: mm_dealer.clone(),
				rm: rm.clone(),
				mm: mm.clone(),
				phase: Phase::Joining,
				deadline,
				congestion_mark: CongestedBlocks::<T>::get(),
				extended: 0,
				stake_cap,
				deposits: Deposits { rm_dealer: deposit, ..Default::default() },
				round_deposit,
				rm_commitment: None,
				mm_commitment: None,
				rm_report: None,
				mm_report: None,
				rm_agreed: None,
				mm_agreed: None,
				disputed_by: None,
				terms: None,
				interest: None,
				interest_held: Zero::zero(),
			},
		);
		NextRoundId::<T>::put(next);
		Self::deposit_event(Event::RoundOpened {
			round: id,
			rm_dealer,
			mm_dealer,
			rm,
			mm,
			stake_cap,
			deposit,
			deadline,
		});
		Ok(())
	}

	pub(crate) fn do_join_round(who: T::AccountId, id: RoundId) -> DispatchResult {
		let (mut round, role) =
			Self::round_for_step(&who, id, &[Phase::Joining], &[Role::MmDealer])?;
		Self::bind(&who, &mut round, role)?;
		Self::enter(id, &mut round, Phase::Committing);
		let deadline = round.deadline;
		Rounds::<T>::insert(id, round);
		Self::deposit_event(Event::RoundJoined { round: id, deadline });
		Ok(())
	}

	pub(crate) fn do_consent(
		who: T::AccountId,
		id: RoundId,
		commitment: Commitment,
	) -> DispatchResult {
		let (mut round, role) =
			Self::round_for_step(&who, id, &[Phase::Committing], &[Role::Rm, Role::Mm])?;
		// The client consents to the report its dealer committed to, and only to it: the dealer
		// commits first, and a client cannot block its dealer with a hash of its own.
		let dealers = match role {
			Role::Rm => round.rm_commitment,
			_ => round.mm_commitment,
		};
		ensure!(dealers == Some(commitment), Error::<T>::CommitmentMismatch);
		Self::bind(&who, &mut round, role)?;
		let deposit = round.deposits.get(role);
		Self::deposit_event(Event::Consented { round: id, client: who, deposit });
		Self::open_reveals_when_bound(id, round)
	}

	pub(crate) fn do_commit(
		who: T::AccountId,
		id: RoundId,
		commitment: Commitment,
	) -> DispatchResult {
		let (mut round, role) = Self::round_for_step(
			&who,
			id,
			&[Phase::Committing],
			&[Role::RmDealer, Role::MmDealer],
		)?;
		let slot = match role {
			Role::RmDealer => &mut round.rm_commitment,
			_ => &mut round.mm_commitment,
		};
		ensure!(slot.is_none(), Error::<T>::AlreadyBound);
		*slot = Some(commitment);
		Self::deposit_event(Event::Committed { round: id, dealer: who, commitment });
		Self::open_reveals_when_bound(id, round)
	}

	/// Stores the round; once both clients consented and both dealers committed, opens the
	/// reveals.
	fn open_reveals_when_bound(id: RoundId, mut round: RoundOf<T>) -> DispatchResult {
		let bound = round.is_bound(Role::Rm)
			&& round.is_bound(Role::Mm)
			&& round.rm_commitment.is_some()
			&& round.mm_commitment.is_some();
		if bound {
			Self::enter(id, &mut round, Phase::Revealing);
			Self::deposit_event(Event::RevealsOpened { round: id, deadline: round.deadline });
		}
		Rounds::<T>::insert(id, round);
		Ok(())
	}

	pub(crate) fn do_reveal(
		who: T::AccountId,
		id: RoundId,
		report: Report,
		salt: Salt,
	) -> DispatchResult {
		let (mut round, role) = Self::round_for_step(
			&who,
			id,
			&[Phase::Revealing, Phase::Disputed],
			&[Role::RmDealer, Role::MmDealer],
		)?;
		let (commitment, revealed) = match role {
			Role::RmDealer => (round.rm_commitment, round.rm_report.is_some()),
			_ => (round.mm_commitment, round.mm_report.is_some()),
		};
		ensure!(!revealed, Error::<T>::AlreadyRevealed);

		// From here on the call succeeds: a reveal that does not open the commitment, or opens
		// it to an invalid report, is a deviation and ends the round.
		if commitment != Some(Self::commitment(id, &who, &report, &salt)) {
			Self::abort(id, &round, &[role], AbortReason::BadReveal);
			return Ok(());
		}
		let schedules = match (role, report.schedule) {
			(Role::RmDealer, ClientSchedule::Demand(_))
			| (Role::MmDealer, ClientSchedule::Supply(_)) => report.validate().is_ok(),
			_ => false,
		};
		if !schedules {
			Self::abort(id, &round, &[role], AbortReason::InvalidReport);
			return Ok(());
		}
		let reveals_were_needed = round.needs_reveals();
		match role {
			Role::RmDealer => round.rm_report = Some(report),
			_ => round.mm_report = Some(report),
		}
		Self::deposit_event(Event::ReportRevealed { round: id, dealer: who, report });
		Self::reopen_reveals(id, &mut round, reveals_were_needed);

		let (Some(rm_report), Some(mm_report)) = (round.rm_report, round.mm_report) else {
			Rounds::<T>::insert(id, round);
			return Ok(());
		};
		let selection = Self::selection(&round, &rm_report, &mm_report);
		let selected = selection.as_ref().ok().map(|(terms, ..)| *terms);

		// A dealer that agreed to other terms than the selection lied about the reports.
		let liars: Vec<Role> =
			[(Role::RmDealer, round.rm_agreed), (Role::MmDealer, round.mm_agreed)]
				.into_iter()
				.filter(|(_, agreed)| agreed.is_some() && *agreed != selected)
				.map(|(dealer, _)| dealer)
				.collect();
		if !liars.is_empty() {
			Self::abort(id, &round, &liars, AbortReason::FalseAgreement);
			return Ok(());
		}
		if let Some(client) = round.disputed_by {
			// The agreement was the selection: the dispute was frivolous.
			Self::abort(id, &round, &[client], AbortReason::FrivolousDispute);
			return Ok(());
		}
		match selection {
			Ok((terms, stake, interest)) => {
				// The stake is known: every deposit comes down to `BaseDeposit + stake`.
				let deposit = Self::deposit_for(stake).unwrap_or(round.deposits.rm_dealer);
				for role in Role::ALL {
					let excess = round.deposits.get(role).saturating_sub(deposit);
					Self::release(HoldReason::Deposit, round.account(role), excess);
					*round.deposits.get_mut(role) = round.deposits.get(role).min(deposit);
				}
				round.terms = Some(terms);
				round.interest = Some(interest);
				Self::enter(id, &mut round, Phase::MmOffer);
				let deadline = round.deadline;
				Rounds::<T>::insert(id, round);
				Self::deposit_event(Event::TradingInstructions {
					round: id,
					terms,
					stake,
					deadline,
				});
			},
			Err(reason) => {
				Self::end(id, &round, &[]);
				Self::deposit_event(Event::NoTradeSelected { round: id, reason });
			},
		}
		Ok(())
	}

	pub(crate) fn do_agree(who: T::AccountId, id: RoundId, terms: Terms) -> DispatchResult {
		let (mut round, role) =
			Self::round_for_step(&who, id, &[Phase::Revealing], &[Role::RmDealer, Role::MmDealer])?;
		ensure!(!round.needs_reveals(), Error::<T>::SelectionIsPublic);
		let slot = match role {
			Role::RmDealer => &mut round.rm_agreed,
			_ => &mut round.mm_agreed,
		};
		ensure!(slot.is_none(), Error::<T>::AlreadyBound);
		ensure!(terms.is_well_formed(), Error::<T>::InvalidTerms);
		let interest = Self::leg_interest(&terms).map_err(|_| Error::<T>::InvalidTerms)?;
		// The dealers' joint profit on these terms is part of the stake: it must fit the cap.
		let joint_profit = terms
			.interest(terms.spread())
			.and_then(|profit| Self::to_balance(profit, Rounding::Up))
			.ok_or(Error::<T>::InvalidTerms)?;
		ensure!(joint_profit <= round.stake_cap, Error::<T>::InvalidTerms);
		*slot = Some(terms);
		Self::deposit_event(Event::Agreed { round: id, dealer: who, terms });
		match (round.rm_agreed, round.mm_agreed) {
			(Some(rm), Some(mm)) if rm == mm => {
				// The private path: the agreed terms are the instructions. The chain cannot
				// know the stake, so every deposit stays at `BaseDeposit + stake_cap`.
				round.terms = Some(terms);
				round.interest = Some(interest);
				Self::enter(id, &mut round, Phase::MmOffer);
				let deadline = round.deadline;
				Self::deposit_event(Event::TermsAgreed { round: id, terms, deadline });
			},
			(Some(_), Some(_)) => {
				Self::deposit_event(Event::AgreementsDiffer { round: id });
				Self::reopen_reveals(id, &mut round, false);
			},
			_ => {},
		}
		Rounds::<T>::insert(id, round);
		Ok(())
	}

	/// When a reveal or differing agreements make the reveals needed for the first time, both
	/// dealers get a fresh reveal window: a dealer that agreed, or was about to, must not be
	/// caught out by a reveal in the window's last block. It happens at most once per round:
	/// once needed, reveals stay needed.
	fn reopen_reveals(id: RoundId, round: &mut RoundOf<T>, were_needed: bool) {
		if !were_needed && round.needs_reveals() && round.phase == Phase::Revealing {
			Self::enter(id, round, Phase::Revealing);
			Self::deposit_event(Event::RevealsOpened { round: id, deadline: round.deadline });
		}
	}

	pub(crate) fn do_dispute(who: T::AccountId, id: RoundId) -> DispatchResult {
		let mut round = Rounds::<T>::get(id).ok_or(Error::<T>::UnknownRound)?;
		let role = round
			.role_of(&who)
			.filter(|role| matches!(role, Role::Rm | Role::Mm))
			.ok_or(Error::<T>::WrongParty)?;
		// Each client until its own acceptance.
		let open = match role {
			Role::Mm => matches!(round.phase, Phase::MmOffer | Phase::MmAcceptance),
			_ => matches!(
				round.phase,
				Phase::MmOffer | Phase::MmAcceptance | Phase::RmOffer | Phase::RmAcceptance
			),
		};
		ensure!(open, Error::<T>::WrongStep);
		ensure!(round.is_private(), Error::<T>::NothingToDispute);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= round.deadline,
			Error::<T>::DeadlinePassed
		);
		round.disputed_by = Some(role);
		Self::enter(id, &mut round, Phase::Disputed);
		let deadline = round.deadline;
		Rounds::<T>::insert(id, round);
		Self::deposit_event(Event::Disputed { round: id, client: who, deadline });
		Ok(())
	}

	/// The contract's selection for the revealed reports: the terms, the stake (the largest
	/// joint profit, rounded up) and the legs' interest (rounded down), or why there is no
	/// trade.
	fn selection(
		round: &RoundOf<T>,
		rm_report: &Report,
		mm_report: &Report,
	) -> Result<Selection<BalanceOf<T>>, NoTrade> {
		let (ClientSchedule::Demand(demand), ClientSchedule::Supply(supply)) =
			(rm_report.schedule, mm_report.schedule)
		else {
			// Each report was checked to be its client's schedule.
			return Err(NoTrade::Overflow);
		};
		let terms = select(&supply, &demand, rm_report.hurdle.max(mm_report.hurdle))?;
		let stake = max_joint_profit(&supply, &demand)
			.and_then(|stake| Self::to_balance(stake, Rounding::Up))
			.ok_or(NoTrade::Overflow)?;
		if stake > round.stake_cap {
			return Err(NoTrade::StakeAboveCap);
		}
		let interest = Self::leg_interest(&terms)?;
		Ok((terms, stake, interest))
	}

	/// The legs' interest for `terms`, in the token's smallest unit (rounded down).
	fn leg_interest(terms: &Terms) -> Result<LegInterest<BalanceOf<T>>, NoTrade> {
		let leg = |rate| {
			terms
				.interest(rate)
				.and_then(|interest| Self::to_balance(interest, Rounding::Down))
				.ok_or(NoTrade::Overflow)
		};
		Ok(LegInterest {
			rm_leg: leg(terms.rm_rate)?,
			bd_leg: leg(terms.bd_rate)?,
			mm_leg: leg(terms.mm_rate)?,
		})
	}

	/// The rate of the leg offered or accepted in `phase`.
	fn leg_rate(terms: &Terms, phase: Phase) -> FixedU128 {
		match phase {
			Phase::MmOffer | Phase::MmAcceptance => terms.mm_rate,
			Phase::RmOffer | Phase::RmAcceptance => terms.rm_rate,
			_ => terms.bd_rate,
		}
	}

	/// The round's terms, checked against the restated `quantity` and `rate`.
	fn checked_terms(
		round: &RoundOf<T>,
		quantity: FixedU128,
		rate: FixedU128,
	) -> Result<Terms, DispatchError> {
		let terms = round.terms.ok_or(Error::<T>::WrongStep)?;
		ensure!(
			quantity == terms.quantity && rate == Self::leg_rate(&terms, round.phase),
			Error::<T>::TermsMismatch
		);
		Ok(terms)
	}

	pub(crate) fn do_offer(
		who: T::AccountId,
		id: RoundId,
		quantity: FixedU128,
		rate: FixedU128,
	) -> DispatchResult {
		let (mut round, _) = Self::round_for_step(
			&who,
			id,
			&[Phase::MmOffer, Phase::RmOffer, Phase::DealerOffer],
			&Role::ALL,
		)?;
		Self::checked_terms(&round, quantity, rate)?;
		let to = round.account(counterparty(round.phase)).clone();
		let next = match round.phase {
			Phase::MmOffer => Phase::MmAcceptance,
			Phase::RmOffer => Phase::RmAcceptance,
			_ => Phase::DealerAcceptance,
		};
		Self::enter(id, &mut round, next);
		let deadline = round.deadline;
		Rounds::<T>::insert(id, round);
		Self::deposit_event(Event::OfferMade {
			round: id,
			from: who,
			to,
			quantity,
			rate,
			deadline,
		});
		Ok(())
	}

	pub(crate) fn do_accept(
		who: T::AccountId,
		id: RoundId,
		quantity: FixedU128,
		rate: FixedU128,
	) -> DispatchResult {
		let (mut round, _) = Self::round_for_step(
			&who,
			id,
			&[Phase::MmAcceptance, Phase::RmAcceptance, Phase::DealerAcceptance],
			&Role::ALL,
		)?;
		let terms = Self::checked_terms(&round, quantity, rate)?;
		match round.phase {
			Phase::MmAcceptance => Self::enter(id, &mut round, Phase::RmOffer),
			Phase::RmAcceptance => {
				let interest = round.interest.map(|legs| legs.rm_leg).unwrap_or_default();
				Self::ensure_can_hold(&who, interest)?;
				Self::enter(id, &mut round, Phase::DealerOffer);
				T::Currency::hold(&HoldReason::Interest.into(), &who, interest)?;
				round.interest_held = interest;
			},
			_ => {
				Self::deposit_event(Event::OfferAccepted {
					round: id,
					by: who,
					quantity,
					rate,
					deadline: frame_system::Pallet::<T>::block_number(),
				});
				Self::settle(id, &round, &terms);
				return Ok(());
			},
		}
		let deadline = round.deadline;
		Rounds::<T>::insert(id, round);
		Self::deposit_event(Event::OfferAccepted { round: id, by: who, quantity, rate, deadline });
		Ok(())
	}

	/// Moves `amount` held from `from` for `reason` to `to`'s free balance and returns what was
	/// paid. The pallet's own hold moves with [`Fortitude::Force`]: a lock or freeze on `from`
	/// (which also covers held funds) cannot stop it. The one expected way to pay nothing is a
	/// recipient that cannot receive `amount` (its account was reaped and `amount` is below the
	/// existential deposit); any other failure is a defensive error.
	fn pay_from_hold(
		reason: HoldReason,
		from: &T::AccountId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		if T::Currency::can_deposit(to, amount, Provenance::Extant) != DepositConsequence::Success {
			log::warn!(target: LOG_TARGET, "a recipient cannot receive {amount:?}: not paid");
			return Zero::zero();
		}
		match T::Currency::transfer_on_hold(
			&reason.into(),
			from,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		) {
			Ok(paid) => paid,
			Err(error) => {
				defensive!("a payment out of the pallet's own hold failed", error);
				Zero::zero()
			},
		}
	}

	/// Releases `amount` held from `who` for `reason` (best effort: never fails).
	fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		if let Err(error) = T::Currency::release(&reason.into(), who, amount, Precision::BestEffort)
		{
			defensive!("releasing the pallet's own hold failed", error);
		}
	}

	/// Pays the interest out of RM's hold, records the three repo legs, releases every deposit
	/// and removes the round.
	fn settle(id: RoundId, round: &RoundOf<T>, terms: &Terms) {
		let rm_paid = round.interest_held;
		let legs = round.interest.unwrap_or(LegInterest {
			rm_leg: rm_paid,
			bd_leg: Zero::zero(),
			mm_leg: Zero::zero(),
		});
		let bd_leg = legs.bd_leg.min(rm_paid);
		let mm_leg = legs.mm_leg.min(bd_leg);
		let mm_received = Self::pay_from_hold(HoldReason::Interest, &round.rm, &round.mm, mm_leg);
		let mm_dealer_received = Self::pay_from_hold(
			HoldReason::Interest,
			&round.rm,
			&round.mm_dealer,
			bd_leg.saturating_sub(mm_leg),
		);
		let rm_dealer_received = Self::pay_from_hold(
			HoldReason::Interest,
			&round.rm,
			&round.rm_dealer,
			rm_paid.saturating_sub(bd_leg),
		);
		let paid =
			mm_received.saturating_add(mm_dealer_received).saturating_add(rm_dealer_received);
		// Whatever a reaped recipient could not receive goes back to RM.
		Self::release(HoldReason::Interest, &round.rm, rm_paid.saturating_sub(paid));

		let leg =
			|cash_lender: &T::AccountId, cash_borrower: &T::AccountId, rate, interest| RepoLeg {
				cash_lender: cash_lender.clone(),
				cash_borrower: cash_borrower.clone(),
				quantity: terms.quantity,
				rate,
				interest,
			};
		let legs: [RepoLegOf<T>; 3] = [
			leg(&round.mm, &round.mm_dealer, terms.mm_rate, mm_leg),
			leg(&round.mm_dealer, &round.rm_dealer, terms.bd_rate, bd_leg),
			leg(&round.rm_dealer, &round.rm, terms.rm_rate, rm_paid),
		];
		for leg in legs {
			Self::deposit_event(Event::RepoLegRecorded { round: id, leg });
		}
		let mut settled = round.clone();
		settled.interest_held = Zero::zero();
		Self::end(id, &settled, &[]);
		Self::deposit_event(Event::RoundSettled {
			round: id,
			terms: *terms,
			payments: Payments {
				rm_paid: paid,
				mm_received,
				mm_dealer_received,
				rm_dealer_received,
			},
		});
	}

	/// Releases every hold the round still has, except the deposits of `forfeited` (already
	/// paid out), uncounts the round for its participants and removes it.
	pub(crate) fn end(id: RoundId, round: &RoundOf<T>, forfeited: &[Role]) {
		for role in Role::ALL {
			if !round.is_bound(role) {
				continue;
			}
			let who = round.account(role);
			if !forfeited.contains(&role) {
				Self::release(HoldReason::Deposit, who, round.deposits.get(role));
			}
			ActiveRounds::<T>::mutate_exists(who, |count| {
				*count = count.map(|count| count.saturating_sub(1)).filter(|count| *count > 0);
			});
		}
		Self::release(HoldReason::RoundDeposit, &round.rm_dealer, round.round_deposit);
		Self::release(HoldReason::Interest, &round.rm, round.interest_held);
		Self::unschedule(id, round.deadline);
		Rounds::<T>::remove(id);
	}

	/// Ends the round after `deviators` deviated. Each deviator's deposit goes to the
	/// participants of the other side of the trade that did not deviate, in equal shares (the
	/// remainder to the dealer); it is burned if that whole side deviated too, so that no
	/// deviation ever pays its own side. Everything else is released.
	fn abort(id: RoundId, round: &RoundOf<T>, deviators: &[Role], reason: AbortReason) {
		for &deviator in deviators {
			let forfeited = round.deposits.get(deviator);
			let from = round.account(deviator).clone();
			Self::deposit_event(Event::Deviated {
				round: id,
				who: from.clone(),
				role: deviator,
				forfeited,
			});
			if forfeited.is_zero() {
				continue;
			}
			let recipients: Vec<Role> = Role::ALL
				.into_iter()
				.filter(|role| role.is_rm_side() != deviator.is_rm_side())
				.filter(|role| !deviators.contains(role))
				.collect();
			let mut remainder = forfeited;
			if let Some(count) = u32::try_from(recipients.len()).ok().filter(|count| *count > 0) {
				let share = forfeited.checked_div(&count.into()).unwrap_or_default();
				for (index, recipient) in recipients.iter().enumerate() {
					// The dealer comes first in `Role::ALL` and takes the remainder.
					let amount = if index == 0 {
						forfeited
							.saturating_sub(share.saturating_mul(count.saturating_sub(1).into()))
					} else {
						share
					};
					let to = round.account(*recipient).clone();
					let paid = Self::pay_from_hold(HoldReason::Deposit, &from, &to, amount);
					remainder = remainder.saturating_sub(paid);
					Self::deposit_event(Event::ForfeitPaid {
						round: id,
						from: from.clone(),
						to,
						amount: paid,
					});
				}
			}
			// What nobody harmed could receive is burned, never returned to the deviator.
			if !remainder.is_zero() {
				if let Err(error) = T::Currency::burn_held(
					&HoldReason::Deposit.into(),
					&from,
					remainder,
					Precision::BestEffort,
					Fortitude::Force,
				) {
					defensive!("burning a forfeited deposit failed", error);
				}
			}
		}
		let phase = round.phase;
		Self::end(id, round, deviators);
		Self::deposit_event(Event::RoundAborted { round: id, phase, reason });
	}

	/// Who missed the step `round` waits for. In [`Phase::Revealing`] a dealer that agreed to
	/// terms has done its part, unless the reveals are needed (a report is public or the
	/// agreements differ); in [`Phase::Disputed`] both dealers must reveal.
	fn missing(round: &RoundOf<T>) -> Vec<Role> {
		let reveals = round.needs_reveals();
		waits_for(round.phase)
			.iter()
			.copied()
			.filter(|role| match (round.phase, role) {
				(Phase::Committing, Role::RmDealer) => round.rm_commitment.is_none(),
				(Phase::Committing, Role::MmDealer) => round.mm_commitment.is_none(),
				(Phase::Committing, client) => !round.is_bound(*client),
				(Phase::Revealing | Phase::Disputed, Role::RmDealer) => {
					round.rm_report.is_none() && (reveals || round.rm_agreed.is_none())
				},
				(Phase::Revealing | Phase::Disputed, _) => {
					round.mm_report.is_none() && (reveals || round.mm_agreed.is_none())
				},
				_ => true,
			})
			.collect()
	}

	/// The deadline hook: walks the deadline index from [`DeadlineCursor`] up to the block
	/// that just ended, handling at most [`Config::MaxDeadlinesPerBlock`] entries (a block
	/// found empty counts as one). A round whose window saw congested blocks is extended by
	/// as many blocks, up to the window's own length; any other is ended, the parties it waited
	/// for deviating.
	pub(crate) fn do_on_initialize(now: BlockNumberFor<T>) -> Weight {
		let budget = T::MaxDeadlinesPerBlock::get();
		let mut used: u32 = 0;
		let (mut handled, mut empty): (u32, u32) = (0, 0);
		let mut cursor = DeadlineCursor::<T>::get();
		let congested = CongestedBlocks::<T>::get();
		while cursor < now && used < budget {
			let due: Vec<RoundId> = DeadlineIndex::<T>::iter_key_prefix(cursor)
				.take(budget.saturating_sub(used) as usize)
				.collect();
			if due.is_empty() {
				used = used.saturating_add(1);
				empty = empty.saturating_add(1);
				cursor = cursor.saturating_add(1u32.into());
				continue;
			}
			used = used.saturating_add(due.len() as u32);
			handled = handled.saturating_add(due.len() as u32);
			for id in due {
				DeadlineIndex::<T>::remove(cursor, id);
				Self::handle_deadline(id, cursor, now, congested);
			}
		}
		DeadlineCursor::<T>::put(cursor);
		T::WeightInfo::on_initialize(handled)
			.saturating_add(T::WeightInfo::on_initialize_empty(empty))
	}

	/// Round `id`'s step ended at block `due` (handled at `now`, later if the hook had a
	/// backlog): extend it by the congested blocks since its window began (up to the window's
	/// length in all), counted from the block before `now` so that a late hook does not eat
	/// the extension, or end it.
	fn handle_deadline(
		id: RoundId,
		due: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
		congested: u32,
	) {
		let Some(mut round) = Rounds::<T>::get(id) else {
			defensive!("a deadline for a round that is not stored");
			return;
		};
		if round.deadline != due {
			defensive!("a round filed under a block that is not its deadline");
			Self::schedule(id, round.deadline);
			return;
		}
		let window: u32 = Self::window(round.phase).unique_saturated_into();
		let extra = congested
			.saturating_sub(round.congestion_mark)
			.min(window.saturating_sub(round.extended));
		if extra > 0 {
			round.deadline = due.max(now.saturating_sub(1u32.into())).saturating_add(extra.into());
			round.congestion_mark = congested;
			round.extended = round.extended.saturating_add(extra);
			Self::schedule(id, round.deadline);
			let deadline = round.deadline;
			Rounds::<T>::insert(id, round);
			Self::deposit_event(Event::DeadlineExtended { round: id, deadline });
			return;
		}
		let missing = Self::missing(&round);
		Self::abort(id, &round, &missing, AbortReason::MissedDeadline);
	}

	/// Counts the block as congested if its weight, all dispatch classes together (in either
	/// dimension), reached [`Config::CongestionThreshold`] of what normal transactions may fill
	/// (the normal class's limit): stuffing with normal or with operational transactions counts
	/// alike. Length is not counted: bytes are cheap, and the stuffing that crowds a party out
	/// of its step is stuffing with weight.
	pub(crate) fn do_on_finalize() {
		let threshold = T::CongestionThreshold::get();
		let weights = <T as frame_system::Config>::BlockWeights::get();
		let limit = weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block);
		let used = frame_system::BlockWeight::<T>::get().total();
		let congested = used.ref_time() >= threshold.mul_floor(limit.ref_time())
			|| used.proof_size() >= threshold.mul_floor(limit.proof_size());
		if congested {
			CongestedBlocks::<T>::mutate(|count| *count = count.saturating_add(1));
		}
	}

	/// The pallet's invariants: every round is indexed once at its deadline, no deadline list
	/// names a missing round, the holds and the per-account counts equal what the rounds
	/// record, and each round's fields fit its phase.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;

		let next = NextRoundId::<T>::get();
		type Sums<T> = BTreeMap<(<T as frame_system::Config>::AccountId, u8), BalanceOf<T>>;
		let mut held: Sums<T> = BTreeMap::new();
		let mut add = |who: &T::AccountId, reason: u8, amount: BalanceOf<T>| {
			let entry = held.entry((who.clone(), reason)).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(amount);
		};
		let mut counts: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut indexed: u32 = 0;
		let cursor = DeadlineCursor::<T>::get();
		for (at, id) in DeadlineIndex::<T>::iter_keys() {
			indexed = indexed.saturating_add(1);
			ensure!(at >= cursor, "a deadline before the cursor was left unhandled");
			ensure!(
				Rounds::<T>::get(id).is_some_and(|round| round.deadline == at),
				"the deadline index names a round not due then"
			);
		}
		let mut stored: u32 = 0;
		for (id, round) in Rounds::<T>::iter() {
			stored = stored.saturating_add(1);
			ensure!(id < next, "a round beyond NextRoundId");
			ensure!(
				DeadlineIndex::<T>::contains_key(round.deadline, id),
				"a round not indexed at its deadline"
			);
			ensure!(
				(!round.is_bound(Role::Rm) || round.rm_commitment.is_some())
					&& (!round.is_bound(Role::Mm) || round.mm_commitment.is_some()),
				"a client consented before its dealer committed"
			);
			let committed = round.rm_commitment.is_some() && round.mm_commitment.is_some();
			let all_bound = Role::ALL.iter().all(|role| round.is_bound(*role));
			let after_reveal =
				!matches!(round.phase, Phase::Joining | Phase::Committing | Phase::Revealing);
			let agreed = round.rm_agreed.is_some() && round.rm_agreed == round.mm_agreed;
			ensure!(
				round.disputed_by.is_some() == (round.phase == Phase::Disputed),
				"a dispute outside the disputed phase"
			);
			ensure!(
				!matches!(round.phase, Phase::Joining | Phase::Committing)
					|| (round.rm_agreed.is_none() && round.mm_agreed.is_none()),
				"an agreement before the reveals opened"
			);
			ensure!(
				!after_reveal
					|| [round.rm_agreed, round.mm_agreed]
						.iter()
						.all(|agreement| agreement.is_none() || *agreement == round.terms),
				"an agreement other than the terms survived the selection"
			);
			ensure!(
				round.is_bound(Role::RmDealer)
					&& round.is_bound(Role::MmDealer) == (round.phase != Phase::Joining),
				"the dealers' deposits do not fit the phase"
			);
			ensure!(
				matches!(round.phase, Phase::Joining | Phase::Committing)
					|| (committed && all_bound),
				"reveals opened before all four were bound"
			);
			ensure!(
				round.phase != Phase::Joining
					|| (round.rm_commitment.is_none() && round.mm_commitment.is_none()),
				"a commitment before BDmm joined"
			);
			ensure!(
				round.terms.is_some() == after_reveal && round.interest.is_some() == after_reveal,
				"terms do not fit the phase"
			);
			ensure!(
				!after_reveal
					|| (round.rm_report.is_some() && round.mm_report.is_some())
					|| (agreed && (round.rm_report.is_none() || round.mm_report.is_none())),
				"instructions without both reports or both agreements"
			);
			ensure!(
				round.interest_held.is_zero()
					|| matches!(round.phase, Phase::DealerOffer | Phase::DealerAcceptance),
				"interest held before RM accepted"
			);
			let cap_deposit = Self::deposit_for(round.stake_cap).unwrap_or_default();
			for role in Role::ALL {
				let deposit = round.deposits.get(role);
				ensure!(
					deposit.is_zero() || deposit == round.deposits.rm_dealer,
					"participants hold different deposits"
				);
				ensure!(
					after_reveal || deposit.is_zero() || deposit == cap_deposit,
					"a deposit before the terms is not BaseDeposit + stake_cap"
				);
				ensure!(deposit <= cap_deposit, "a deposit above BaseDeposit + stake_cap");
				add(round.account(role), 0, deposit);
				if round.is_bound(role) {
					let count = counts.entry(round.account(role).clone()).or_default();
					*count = count.saturating_add(1);
				}
			}
			add(&round.rm_dealer, 1, round.round_deposit);
			add(&round.rm, 2, round.interest_held);
		}
		ensure!(stored == indexed, "deadline lists and rounds differ in size");
		for ((who, reason), amount) in held {
			let reason = match reason {
				0 => HoldReason::Deposit,
				1 => HoldReason::RoundDeposit,
				_ => HoldReason::Interest,
			};
			ensure!(
				T::Currency::balance_on_hold(&reason.into(), &who) == amount,
				"a hold differs from what the rounds record"
			);
		}
		let mut accounts: u32 = 0;
		for (who, count) in ActiveRounds::<T>::iter() {
			accounts = accounts.saturating_add(1);
			ensure!(
				counts.get(&who) == Some(&count),
				"an account's count of rounds differs from the rounds"
			);
			ensure!(count <= T::MaxRoundsPerAccount::get(), "an account in too many rounds");
		}
		ensure!(accounts as usize == counts.len(), "an account's rounds are not counted");
		Ok(())
	}
}
