//! What the calls and the deadline hook do.

use crate::{pallet::*, types::*, BalanceOf, RepoLegOf, RoundOf, WeightInfo};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Preservation, Provenance, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use intermediated_trade_primitives::{select, ClientSchedule, FixedU128, Report, Terms};
use sp_runtime::{
	traits::{Saturating, Zero},
	FixedPointNumber,
};

const LOG_TARGET: &str = "runtime::intermediated-trade";

/// The party each phase waits for (in [`Phase::Revealing`], either dealer) and, for offers and
/// acceptances, the party the offer goes to.
fn expected(phase: Phase) -> (Role, Role) {
	match phase {
		Phase::Joining | Phase::MmOffer => (Role::MmDealer, Role::Mm),
		Phase::MmAcceptance => (Role::Mm, Role::MmDealer),
		Phase::RmOffer => (Role::RmDealer, Role::Rm),
		Phase::Revealing | Phase::DealerOffer => (Role::RmDealer, Role::MmDealer),
		Phase::RmAcceptance => (Role::Rm, Role::RmDealer),
		Phase::DealerAcceptance => (Role::MmDealer, Role::RmDealer),
	}
}

const ROLES: [Role; 4] = [Role::RmDealer, Role::MmDealer, Role::Rm, Role::Mm];

impl<T: Config> Pallet<T> {
	/// The commitment to `report` by `dealer` with `salt`: `blake2_256` of the SCALE encoding
	/// of the tuple `(dealer, report, salt)`. Clients compute the same off-chain (see
	/// `scripts/polkadot-js/intermediated-trade.mjs`).
	pub fn commitment(dealer: &T::AccountId, report: &Report, salt: &Salt) -> Commitment {
		sp_io::hashing::blake2_256(&(dealer, report, salt).encode())
	}

	/// `amount` whole tokens (fixed point) in the token's smallest unit, rounded down.
	pub fn to_balance(amount: FixedU128) -> BalanceOf<T> {
		amount.saturating_mul_int(T::BalanceUnit::get())
	}

	fn ensure_can_hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(
			T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite)
				>= amount,
			Error::<T>::InsufficientBalance
		);
		Ok(())
	}

	/// Sets the round's phase and its deadline `now + window`, in the round and in the index.
	fn advance(id: RoundId, round: &mut RoundOf<T>, phase: Phase, now: BlockNumberFor<T>) {
		let window = match phase {
			Phase::Joining => T::JoinWindow::get(),
			Phase::Revealing => T::RevealWindow::get(),
			_ => T::StepWindow::get(),
		};
		round.phase = phase;
		round.deadline = now.saturating_add(window);
		Deadlines::<T>::mutate(|deadlines| {
			if let Some(entry) = deadlines.iter_mut().find(|(round_id, _)| *round_id == id) {
				entry.1 = round.deadline;
			}
		});
	}

	/// The round `id`, checked to be at one of `phases`, to wait for `who` (in
	/// [`Phase::Revealing`], either dealer) and to be within its deadline.
	fn round_for_step(
		who: &T::AccountId,
		id: RoundId,
		phases: &[Phase],
	) -> Result<RoundOf<T>, DispatchError> {
		let round = Rounds::<T>::get(id).ok_or(Error::<T>::UnknownRound)?;
		ensure!(phases.contains(&round.phase), Error::<T>::WrongStep);
		if round.phase == Phase::Revealing {
			ensure!(*who == round.rm_dealer || *who == round.mm_dealer, Error::<T>::WrongParty);
		} else {
			ensure!(round.account(expected(round.phase).0) == who, Error::<T>::WrongParty);
		}
		ensure!(
			frame_system::Pallet::<T>::block_number() <= round.deadline,
			Error::<T>::DeadlinePassed
		);
		Ok(round)
	}

	pub(crate) fn do_open_round(
		rm_dealer: T::AccountId,
		mm_dealer: T::AccountId,
		rm: T::AccountId,
		mm: T::AccountId,
		commitment: Commitment,
	) -> DispatchResult {
		let parties = [&rm_dealer, &mm_dealer, &rm, &mm];
		for (index, party) in parties.iter().enumerate() {
			ensure!(
				parties.iter().skip(index.saturating_add(1)).all(|other| other != party),
				Error::<T>::PartiesNotDistinct
			);
			ensure!(frame_system::Pallet::<T>::account_exists(party), Error::<T>::UnknownAccount);
		}
		let mut deadlines = Deadlines::<T>::get();
		ensure!(!deadlines.is_full(), Error::<T>::TooManyRounds);
		let dealer_deposit = T::DealerDeposit::get();
		let round_deposit = T::RoundDeposit::get();
		Self::ensure_can_hold(&rm_dealer, dealer_deposit.saturating_add(round_deposit))?;

		let id = NextRoundId::<T>::get();
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::JoinWindow::get());
		deadlines.try_push((id, deadline)).map_err(|_| Error::<T>::TooManyRounds)?;
		T::Currency::hold(&HoldReason::DealerDeposit.into(), &rm_dealer, dealer_deposit)?;
		T::Currency::hold(&HoldReason::RoundDeposit.into(), &rm_dealer, round_deposit)?;
		Deadlines::<T>::put(deadlines);
		Rounds::<T>::insert(
			id,
			Round {
				rm_dealer: rm_dealer.clone(),
				mm_dealer: mm_dealer.clone(),
				rm: rm.clone(),
				mm: mm.clone(),
				phase: Phase::Joining,
				deadline,
				dealer_deposit,
				round_deposit,
				rm_commitment: commitment,
				mm_commitment: None,
				rm_report: None,
				mm_report: None,
				terms: None,
				interest_held: Zero::zero(),
			},
		);
		NextRoundId::<T>::put(id.saturating_add(1));
		Self::deposit_event(Event::RoundOpened {
			round: id,
			rm_dealer,
			mm_dealer,
			rm,
			mm,
			commitment,
			deadline,
		});
		Ok(())
	}

	pub(crate) fn do_join_round(
		who: T::AccountId,
		id: RoundId,
		commitment: Commitment,
	) -> DispatchResult {
		let mut round = Self::round_for_step(&who, id, &[Phase::Joining])?;
		Self::ensure_can_hold(&who, round.dealer_deposit)?;
		T::Currency::hold(&HoldReason::DealerDeposit.into(), &who, round.dealer_deposit)?;
		round.mm_commitment = Some(commitment);
		Self::advance(id, &mut round, Phase::Revealing, frame_system::Pallet::<T>::block_number());
		let deadline = round.deadline;
		Rounds::<T>::insert(id, round);
		Self::deposit_event(Event::RoundJoined { round: id, commitment, deadline });
		Ok(())
	}

	pub(crate) fn do_reveal(
		who: T::AccountId,
		id: RoundId,
		report: Report,
		salt: Salt,
	) -> DispatchResult {
		let mut round = Self::round_for_step(&who, id, &[Phase::Revealing])?;
		let role = if who == round.rm_dealer { Role::RmDealer } else { Role::MmDealer };
		let (commitment, revealed) = match role {
			Role::RmDealer => (Some(round.rm_commitment), round.rm_report.is_some()),
			_ => (round.mm_commitment, round.mm_report.is_some()),
		};
		ensure!(!revealed, Error::<T>::AlreadyRevealed);

		// From here on the call succeeds: a reveal that does not open the commitment, or opens
		// it to an invalid report, is a deviation and ends the round.
		if commitment != Some(Self::commitment(&who, &report, &salt)) {
			Self::abort(id, &round, &[role], AbortReason::BadReveal);
			return Ok(());
		}
		let right_client = matches!(
			(role, report.schedule),
			(Role::RmDealer, ClientSchedule::Demand(_))
				| (Role::MmDealer, ClientSchedule::Supply(_))
		);
		if !right_client || report.validate().is_err() {
			Self::abort(id, &round, &[role], AbortReason::InvalidReport);
			return Ok(());
		}
		match role {
			Role::RmDealer => round.rm_report = Some(report),
			_ => round.mm_report = Some(report),
		}
		Self::deposit_event(Event::ReportRevealed { round: id, dealer: who, report });

		let (Some(rm_report), Some(mm_report)) = (round.rm_report, round.mm_report) else {
			Rounds::<T>::insert(id, round);
			return Ok(());
		};
		let (ClientSchedule::Demand(demand), ClientSchedule::Supply(supply)) =
			(rm_report.schedule, mm_report.schedule)
		else {
			// Unreachable: each report was checked to be its client's schedule.
			Self::abort(id, &round, &[role], AbortReason::InvalidReport);
			return Ok(());
		};
		match select(&supply, &demand, rm_report.hurdle.max(mm_report.hurdle)) {
			Ok(terms) => {
				round.terms = Some(terms);
				Self::advance(
					id,
					&mut round,
					Phase::MmOffer,
					frame_system::Pallet::<T>::block_number(),
				);
				let deadline = round.deadline;
				Rounds::<T>::insert(id, round);
				Self::deposit_event(Event::TradingInstructions { round: id, terms, deadline });
			},
			Err(reason) => {
				Self::end(id, &round, &[]);
				Self::deposit_event(Event::NoTradeSelected { round: id, reason });
			},
		}
		Ok(())
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
		let mut round =
			Self::round_for_step(&who, id, &[Phase::MmOffer, Phase::RmOffer, Phase::DealerOffer])?;
		Self::checked_terms(&round, quantity, rate)?;
		let to = round.account(expected(round.phase).1).clone();
		let next = match round.phase {
			Phase::MmOffer => Phase::MmAcceptance,
			Phase::RmOffer => Phase::RmAcceptance,
			_ => Phase::DealerAcceptance,
		};
		Self::advance(id, &mut round, next, frame_system::Pallet::<T>::block_number());
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
		let mut round = Self::round_for_step(
			&who,
			id,
			&[Phase::MmAcceptance, Phase::RmAcceptance, Phase::DealerAcceptance],
		)?;
		let terms = Self::checked_terms(&round, quantity, rate)?;
		let now = frame_system::Pallet::<T>::block_number();
		match round.phase {
			Phase::MmAcceptance => Self::advance(id, &mut round, Phase::RmOffer, now),
			Phase::RmAcceptance => {
				let interest = Self::to_balance(terms.interest(terms.rm_rate).unwrap_or_default());
				Self::ensure_can_hold(&who, interest)?;
				T::Currency::hold(&HoldReason::Interest.into(), &who, interest)?;
				round.interest_held = interest;
				Self::advance(id, &mut round, Phase::DealerOffer, now);
			},
			_ => {
				Self::deposit_event(Event::OfferAccepted {
					round: id,
					by: who,
					quantity,
					rate,
					deadline: now,
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
			log::error!(target: LOG_TARGET, "release failed: {error:?}");
		}
	}

	/// Pays the interest out of RM's hold, records the three repo legs, releases every deposit
	/// and removes the round.
	fn settle(id: RoundId, round: &RoundOf<T>, terms: &Terms) {
		let rm_paid = round.interest_held;
		let bd_leg =
			Self::to_balance(terms.interest(terms.bd_rate).unwrap_or_default()).min(rm_paid);
		let mm_leg =
			Self::to_balance(terms.interest(terms.mm_rate).unwrap_or_default()).min(bd_leg);
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
		// Whatever could not be paid goes back to RM.
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

	/// Releases every hold the round still has, except the deposits of the dealers in
	/// `forfeited` (already paid out), and removes the round.
	fn end(id: RoundId, round: &RoundOf<T>, forfeited: &[Role]) {
		for dealer in [Role::RmDealer, Role::MmDealer] {
			if !forfeited.contains(&dealer) {
				Self::release(
					HoldReason::DealerDeposit,
					round.account(dealer),
					round.held_deposit(dealer),
				);
			}
		}
		Self::release(HoldReason::RoundDeposit, &round.rm_dealer, round.round_deposit);
		Self::release(HoldReason::Interest, &round.rm, round.interest_held);
		Rounds::<T>::remove(id);
		Deadlines::<T>::mutate(|deadlines| deadlines.retain(|(round_id, _)| *round_id != id));
	}

	/// Ends the round after `deviators` deviated: each deviating dealer's deposit is split
	/// equally among the participants who did not deviate (the remainder to the first of
	/// them: the other dealer, else RM); everything else is released.
	fn abort(id: RoundId, round: &RoundOf<T>, deviators: &[Role], reason: AbortReason) {
		let recipients: Vec<Role> =
			ROLES.iter().copied().filter(|role| !deviators.contains(role)).collect();
		for &deviator in deviators {
			let forfeited = round.held_deposit(deviator);
			let from = round.account(deviator).clone();
			if !forfeited.is_zero() && !recipients.is_empty() {
				let count: BalanceOf<T> = (recipients.len() as u32).into();
				let share = forfeited.checked_div(&count).unwrap_or_default();
				let mut remainder = forfeited;
				for (index, recipient) in recipients.iter().enumerate() {
					let amount = if index == 0 {
						forfeited
							.saturating_sub(share.saturating_mul(count.saturating_sub(1u32.into())))
					} else {
						share
					};
					let to = round.account(*recipient).clone();
					let paid = Self::pay_from_hold(HoldReason::DealerDeposit, &from, &to, amount);
					remainder = remainder.saturating_sub(paid);
				}
				// A share that could not be paid (a reaped recipient) is burned, never returned
				// to the deviator.
				if !remainder.is_zero() {
					if let Err(error) = T::Currency::burn_held(
						&HoldReason::DealerDeposit.into(),
						&from,
						remainder,
						Precision::BestEffort,
						Fortitude::Force,
					) {
						log::error!(target: LOG_TARGET, "burning a forfeited share failed: {error:?}");
					}
				}
			}
			Self::deposit_event(Event::Deviated {
				round: id,
				who: from,
				role: deviator,
				forfeited,
			});
		}
		let phase = round.phase;
		Self::end(id, round, deviators);
		Self::deposit_event(Event::RoundAborted { round: id, phase, reason });
	}

	/// Who missed the step `round` waits for.
	fn missing(round: &RoundOf<T>) -> Vec<Role> {
		match round.phase {
			Phase::Revealing => {
				let mut missing = Vec::new();
				if round.rm_report.is_none() {
					missing.push(Role::RmDealer);
				}
				if round.mm_report.is_none() {
					missing.push(Role::MmDealer);
				}
				missing
			},
			phase => alloc::vec![expected(phase).0],
		}
	}

	/// The deadline hook: ends every round whose deadline is before `now`.
	pub(crate) fn do_on_initialize(now: BlockNumberFor<T>) -> Weight {
		let expired: Vec<RoundId> = Deadlines::<T>::get()
			.iter()
			.filter(|(_, deadline)| *deadline < now)
			.map(|(id, _)| *id)
			.collect();
		for &id in &expired {
			match Rounds::<T>::get(id) {
				Some(round) => {
					let missing = Self::missing(&round);
					Self::abort(id, &round, &missing, AbortReason::MissedDeadline);
				},
				None => {
					log::error!(target: LOG_TARGET, "round {id} in Deadlines but not stored");
					Deadlines::<T>::mutate(|deadlines| {
						deadlines.retain(|(round_id, _)| *round_id != id)
					});
				},
			}
		}
		T::WeightInfo::on_initialize(expired.len() as u32)
	}

	/// The pallet's invariants: every round is indexed once with its deadline, the holds equal
	/// what the rounds record, and each round's fields fit its phase.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;

		let deadlines = Deadlines::<T>::get();
		let next = NextRoundId::<T>::get();
		let mut stored: u32 = 0;
		type Sums<T> = BTreeMap<(<T as frame_system::Config>::AccountId, u8), BalanceOf<T>>;
		let mut held: Sums<T> = BTreeMap::new();
		let mut add = |who: &T::AccountId, reason: u8, amount: BalanceOf<T>| {
			let entry = held.entry((who.clone(), reason)).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(amount);
		};
		for (id, round) in Rounds::<T>::iter() {
			stored = stored.saturating_add(1);
			ensure!(id < next, "a round beyond NextRoundId");
			ensure!(
				deadlines
					.iter()
					.filter(|(round_id, deadline)| *round_id == id && *deadline == round.deadline)
					.count() == 1,
				"a round not indexed once with its deadline"
			);
			let after_reveal = !matches!(round.phase, Phase::Joining | Phase::Revealing);
			ensure!(
				round.mm_commitment.is_some() == (round.phase != Phase::Joining),
				"BDmm's commitment does not fit the phase"
			);
			ensure!(round.terms.is_some() == after_reveal, "terms do not fit the phase");
			ensure!(
				!after_reveal || (round.rm_report.is_some() && round.mm_report.is_some()),
				"instructions without both reports"
			);
			ensure!(
				round.interest_held.is_zero()
					|| matches!(round.phase, Phase::DealerOffer | Phase::DealerAcceptance),
				"interest held before RM accepted"
			);
			add(&round.rm_dealer, 0, round.held_deposit(Role::RmDealer));
			add(&round.mm_dealer, 0, round.held_deposit(Role::MmDealer));
			add(&round.rm_dealer, 1, round.round_deposit);
			add(&round.rm, 2, round.interest_held);
		}
		ensure!(stored as usize == deadlines.len(), "Deadlines and Rounds differ in size");
		for ((who, reason), amount) in held {
			let reason = match reason {
				0 => HoldReason::DealerDeposit,
				1 => HoldReason::RoundDeposit,
				_ => HoldReason::Interest,
			};
			ensure!(
				T::Currency::balance_on_hold(&reason.into(), &who) == amount,
				"a hold differs from what the rounds record"
			);
		}
		Ok(())
	}
}
