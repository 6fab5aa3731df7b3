//! Tests of every call, error, event, deadline and deviation, and of the worked example through
//! the full extrinsic flow.

// Test arithmetic on small known numbers: overflow would be a test bug and panics loudly.
#![allow(clippy::arithmetic_side_effects)]

use crate::{mock::*, pallet::*, types::*, DemandSchedule, NoTrade, Report, SupplySchedule, Terms};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold, Mutate},
};
use intermediated_trade_primitives::{ClientSchedule, FixedU128};
use sp_runtime::{traits::BadOrigin, FixedPointNumber};

const SALT_RM: Salt = [7; 32];
const SALT_MM: Salt = [9; 32];

fn int(n: u128) -> FixedU128 {
	FixedU128::saturating_from_integer(n)
}

fn ratio(n: u128, d: u128) -> FixedU128 {
	FixedU128::from_rational(n, d)
}

/// RM's demand `S(r) = 10 − r`, with BDrm's hurdle.
fn rm_report(hurdle: FixedU128) -> Report {
	Report {
		schedule: ClientSchedule::Demand(DemandSchedule { choke_rate: int(10), slope: int(1) }),
		hurdle,
	}
}

/// MM's supply `D(r) = r`, with BDmm's hurdle.
fn mm_report(hurdle: FixedU128) -> Report {
	Report {
		schedule: ClientSchedule::Supply(SupplySchedule {
			reservation_rate: int(0),
			slope: int(1),
		}),
		hurdle,
	}
}

fn commit(dealer: AccountId, report: &Report, salt: &Salt) -> Commitment {
	IntermediatedTrade::commitment(&dealer, report, salt)
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::IntermediatedTrade(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn held(who: AccountId) -> Balance {
	Balances::total_balance_on_hold(&who)
}

fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

/// The worked example's terms.
fn example_terms() -> Terms {
	Terms { quantity: ratio(5, 2), mm_rate: ratio(5, 2), rm_rate: ratio(15, 2), bd_rate: int(5) }
}

fn open_with(rm: Report) -> RoundId {
	let id = NextRoundId::<Test>::get();
	assert_ok!(IntermediatedTrade::open_round(
		RuntimeOrigin::signed(BD_RM),
		BD_MM,
		RM,
		MM,
		commit(BD_RM, &rm, &SALT_RM)
	));
	id
}

fn join_with(id: RoundId, mm: Report) {
	assert_ok!(IntermediatedTrade::join_round(
		RuntimeOrigin::signed(BD_MM),
		id,
		commit(BD_MM, &mm, &SALT_MM)
	));
}

/// Opens and joins a round with the given reports and reveals both.
fn reveal_round(rm: Report, mm: Report) -> RoundId {
	let id = open_with(rm);
	join_with(id, mm);
	assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_RM), id, rm, SALT_RM));
	assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_MM), id, mm, SALT_MM));
	id
}

fn phase(id: RoundId) -> Option<Phase> {
	Rounds::<Test>::get(id).map(|round| round.phase)
}

/// Runs the worked example's round up to `target` (or to its settlement with `None`).
fn drive_to(target: Option<Phase>) -> RoundId {
	let t = example_terms();
	let id = open_with(rm_report(int(0)));
	let steps: [(Phase, &dyn Fn()); 8] = [
		(Phase::Joining, &|| join_with(id, mm_report(int(0)))),
		(Phase::Revealing, &|| {
			assert_ok!(IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_RM),
				id,
				rm_report(int(0)),
				SALT_RM
			));
			assert_ok!(IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_MM),
				id,
				mm_report(int(0)),
				SALT_MM
			));
		}),
		(Phase::MmOffer, &|| {
			assert_ok!(IntermediatedTrade::offer(
				RuntimeOrigin::signed(BD_MM),
				id,
				t.quantity,
				t.mm_rate
			));
		}),
		(Phase::MmAcceptance, &|| {
			assert_ok!(IntermediatedTrade::accept(
				RuntimeOrigin::signed(MM),
				id,
				t.quantity,
				t.mm_rate
			));
		}),
		(Phase::RmOffer, &|| {
			assert_ok!(IntermediatedTrade::offer(
				RuntimeOrigin::signed(BD_RM),
				id,
				t.quantity,
				t.rm_rate
			));
		}),
		(Phase::RmAcceptance, &|| {
			assert_ok!(IntermediatedTrade::accept(
				RuntimeOrigin::signed(RM),
				id,
				t.quantity,
				t.rm_rate
			));
		}),
		(Phase::DealerOffer, &|| {
			assert_ok!(IntermediatedTrade::offer(
				RuntimeOrigin::signed(BD_RM),
				id,
				t.quantity,
				t.bd_rate
			));
		}),
		(Phase::DealerAcceptance, &|| {
			assert_ok!(IntermediatedTrade::accept(
				RuntimeOrigin::signed(BD_MM),
				id,
				t.quantity,
				t.bd_rate
			));
		}),
	];
	for (at, step) in steps {
		if Some(at) == target {
			break;
		}
		assert_eq!(phase(id), Some(at));
		step();
		IntermediatedTrade::do_try_state().expect("invariants hold after every step");
	}
	id
}

#[test]
fn the_worked_example_settles_through_the_full_flow() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let id = drive_to(None);
		assert_eq!(phase(id), None, "the round is removed once settled");
		assert!(Deadlines::<Test>::get().is_empty());

		let t = example_terms();
		let ev = events();
		assert!(ev.contains(&Event::TradingInstructions {
			round: id,
			terms: t,
			deadline: 1 + STEP_WINDOW
		}));
		// Every step has its event, in the protocol's order.
		let names: Vec<&str> = ev
			.iter()
			.map(|event| match event {
				Event::RoundOpened { .. } => "opened",
				Event::RoundJoined { .. } => "joined",
				Event::ReportRevealed { .. } => "revealed",
				Event::TradingInstructions { .. } => "instructions",
				Event::OfferMade { .. } => "offer",
				Event::OfferAccepted { .. } => "accept",
				Event::RepoLegRecorded { .. } => "leg",
				Event::RoundSettled { .. } => "settled",
				_ => "other",
			})
			.collect();
		assert_eq!(
			names,
			[
				"opened",
				"joined",
				"revealed",
				"revealed",
				"instructions",
				"offer",
				"accept",
				"offer",
				"accept",
				"offer",
				"accept",
				"leg",
				"leg",
				"leg",
				"settled"
			]
		);
		assert!(ev.contains(&Event::OfferMade {
			round: id,
			from: BD_RM,
			to: BD_MM,
			quantity: ratio(5, 2),
			rate: int(5),
			deadline: 1 + STEP_WINDOW
		}));
		// Each dealer earns 6.25 EQ; MM receives r_mm·Q* = 6.25, RM pays r_rm·Q* = 18.75.
		let quarter = UNIT / 4;
		let payments = Payments {
			rm_paid: 75 * quarter,
			mm_received: 25 * quarter,
			mm_dealer_received: 25 * quarter,
			rm_dealer_received: 25 * quarter,
		};
		assert_eq!(ev.last(), Some(&Event::RoundSettled { round: id, terms: t, payments }));
		assert!(ev.contains(&Event::RepoLegRecorded {
			round: id,
			leg: RepoLeg {
				cash_lender: BD_MM,
				cash_borrower: BD_RM,
				quantity: ratio(5, 2),
				rate: int(5),
				interest: 50 * quarter
			}
		}));
		assert_eq!(free(BD_RM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(BD_MM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(MM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(RM), ENDOWMENT - 75 * quarter);
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!(held(who), 0);
		}
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn open_round_holds_the_deposits() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		assert_eq!(id, 0);
		assert_eq!(NextRoundId::<Test>::get(), 1);
		assert_eq!(held(BD_RM), DEALER_DEPOSIT + ROUND_DEPOSIT);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::DealerDeposit.into(), &BD_RM),
			DEALER_DEPOSIT
		);
		assert_eq!(Deadlines::<Test>::get().into_inner(), vec![(0, 1 + JOIN_WINDOW)]);
		assert_eq!(
			events(),
			vec![Event::RoundOpened {
				round: 0,
				rm_dealer: BD_RM,
				mm_dealer: BD_MM,
				rm: RM,
				mm: MM,
				commitment: commit(BD_RM, &rm_report(int(0)), &SALT_RM),
				deadline: 1 + JOIN_WINDOW
			}]
		);
	});
}

#[test]
fn open_round_rejects_bad_input() {
	build_and_execute(|| {
		let c = [0u8; 32];
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::none(), BD_MM, RM, MM, c),
			BadOrigin
		);
		for (a, b, c2) in [(BD_MM, RM, RM), (BD_RM, RM, MM), (BD_MM, RM, BD_MM), (BD_MM, MM, MM)] {
			assert_noop!(
				IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), a, b, c2, c),
				Error::<Test>::PartiesNotDistinct
			);
		}
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, NOBODY, c),
			Error::<Test>::UnknownAccount
		);
		Balances::set_balance(&6, DEALER_DEPOSIT);
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(6), BD_MM, RM, MM, c),
			Error::<Test>::InsufficientBalance
		);
		for _ in 0..MAX_ROUNDS {
			open_with(rm_report(int(0)));
		}
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, MM, c),
			Error::<Test>::TooManyRounds
		);
	});
}

#[test]
fn join_round_holds_bdmm_deposit_and_checks_the_party() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		let c = commit(BD_MM, &mm_report(int(0)), &SALT_MM);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), 9, c),
			Error::<Test>::UnknownRound
		);
		for who in [BD_RM, RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::join_round(RuntimeOrigin::signed(who), id, c),
				Error::<Test>::WrongParty
			);
		}
		Balances::set_balance(&BD_MM, DEALER_DEPOSIT);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id, c),
			Error::<Test>::InsufficientBalance
		);
		Balances::set_balance(&BD_MM, ENDOWMENT);
		System::reset_events();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id, c));
		assert_eq!(held(BD_MM), DEALER_DEPOSIT);
		assert_eq!(phase(id), Some(Phase::Revealing));
		assert_eq!(
			events(),
			vec![Event::RoundJoined { round: id, commitment: c, deadline: 1 + REVEAL_WINDOW }]
		);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id, c),
			Error::<Test>::WrongStep
		);
	});
}

#[test]
fn reveal_checks_step_party_and_repeats() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		assert_noop!(
			IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_RM),
				id,
				rm_report(int(0)),
				SALT_RM
			),
			Error::<Test>::WrongStep
		);
		join_with(id, mm_report(int(0)));
		for who in [RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::reveal(
					RuntimeOrigin::signed(who),
					id,
					rm_report(int(0)),
					SALT_RM
				),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(
			IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_RM), 7, rm_report(int(0)), SALT_RM),
			Error::<Test>::UnknownRound
		);
		System::reset_events();
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_RM),
			id,
			rm_report(int(0)),
			SALT_RM
		));
		assert_eq!(
			events(),
			vec![Event::ReportRevealed { round: id, dealer: BD_RM, report: rm_report(int(0)) }]
		);
		assert_eq!(phase(id), Some(Phase::Revealing));
		assert_noop!(
			IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_RM),
				id,
				rm_report(int(0)),
				SALT_RM
			),
			Error::<Test>::AlreadyRevealed
		);
	});
}

/// A deviating dealer's 90 EQ go 30 to each of the other three; everything else is released.
fn assert_slashed(deviator: AccountId) {
	for who in [BD_RM, BD_MM, RM, MM] {
		assert_eq!(held(who), 0, "account {who} still holds funds");
		let expected = if who == deviator {
			ENDOWMENT - DEALER_DEPOSIT
		} else {
			ENDOWMENT + DEALER_DEPOSIT / 3
		};
		assert_eq!(free(who), expected, "account {who}");
	}
}

#[test]
fn a_bad_reveal_is_a_deviation_and_forfeits_the_deposit() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		join_with(id, mm_report(int(0)));
		System::reset_events();
		// BDmm reveals another schedule than it committed to: the call succeeds and slashes.
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_MM),
			id,
			mm_report(int(1)),
			SALT_MM
		));
		assert_eq!(
			events(),
			vec![
				Event::Deviated {
					round: id,
					who: BD_MM,
					role: Role::MmDealer,
					forfeited: DEALER_DEPOSIT
				},
				Event::RoundAborted {
					round: id,
					phase: Phase::Revealing,
					reason: AbortReason::BadReveal
				},
			]
		);
		assert_eq!(phase(id), None);
		assert_slashed(BD_MM);
	});
}

#[test]
fn a_wrong_salt_or_a_copied_commitment_is_a_bad_reveal() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		join_with(id, mm_report(int(0)));
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_RM),
			id,
			rm_report(int(0)),
			SALT_MM
		));
		assert_slashed(BD_RM);
	});
	build_and_execute(|| {
		// BDmm copies BDrm's commitment: it is bound to BDrm's account, so BDmm cannot open it.
		let id = open_with(rm_report(int(0)));
		let copied = Rounds::<Test>::get(id).unwrap().rm_commitment;
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id, copied));
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_MM),
			id,
			rm_report(int(0)),
			SALT_RM
		));
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Revealing,
			reason: AbortReason::BadReveal
		}));
		assert_slashed(BD_MM);
	});
}

#[test]
fn an_invalid_committed_report_is_a_deviation() {
	// The wrong client's schedule.
	build_and_execute(|| {
		let id = open_with(mm_report(int(0)));
		join_with(id, mm_report(int(0)));
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_RM),
			id,
			mm_report(int(0)),
			SALT_RM
		));
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Revealing,
			reason: AbortReason::InvalidReport
		}));
		assert_slashed(BD_RM);
	});
	// A flat schedule (slope zero).
	build_and_execute(|| {
		let flat = Report {
			schedule: ClientSchedule::Supply(SupplySchedule {
				reservation_rate: int(0),
				slope: int(0),
			}),
			hurdle: int(0),
		};
		let id = open_with(rm_report(int(0)));
		join_with(id, flat);
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_RM),
			id,
			rm_report(int(0)),
			SALT_RM
		));
		assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_MM), id, flat, SALT_MM));
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Revealing,
			reason: AbortReason::InvalidReport
		}));
		assert_slashed(BD_MM);
	});
}

#[test]
fn hurdle_not_met_means_no_trade_and_every_deposit_back() {
	build_and_execute(|| {
		let id = reveal_round(rm_report(int(10)), mm_report(int(0)));
		assert_eq!(
			events().last(),
			Some(&Event::NoTradeSelected { round: id, reason: NoTrade::HurdleNotMet })
		);
		assert_eq!(phase(id), None);
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
		}
	});
	build_and_execute(|| {
		let dear = Report {
			schedule: ClientSchedule::Supply(SupplySchedule {
				reservation_rate: int(11),
				slope: int(1),
			}),
			hurdle: int(0),
		};
		let id = reveal_round(rm_report(int(0)), dear);
		assert_eq!(
			events().last(),
			Some(&Event::NoTradeSelected { round: id, reason: NoTrade::SchedulesDoNotCross })
		);
	});
}

#[test]
fn a_binding_hurdle_selects_a_smaller_trade() {
	build_and_execute(|| {
		// BDmm wants a spread of 6: Q* = 2, r_mm = 2, r_rm = 8, r_bd = 5.
		let id = reveal_round(rm_report(int(1)), mm_report(int(6)));
		let terms = Terms { quantity: int(2), mm_rate: int(2), rm_rate: int(8), bd_rate: int(5) };
		assert_eq!(Rounds::<Test>::get(id).unwrap().terms, Some(terms));
		assert_eq!(phase(id), Some(Phase::MmOffer));
	});
}

#[test]
fn offers_and_acceptances_check_step_party_and_terms() {
	build_and_execute(|| {
		let t = example_terms();
		let id = drive_to(Some(Phase::MmOffer));
		// The wrong call for the step.
		assert_noop!(
			IntermediatedTrade::accept(RuntimeOrigin::signed(MM), id, t.quantity, t.mm_rate),
			Error::<Test>::WrongStep
		);
		// The wrong party: only BDmm offers to MM.
		for who in [BD_RM, RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::offer(RuntimeOrigin::signed(who), id, t.quantity, t.mm_rate),
				Error::<Test>::WrongParty
			);
		}
		// Other terms than the instructions.
		assert_noop!(
			IntermediatedTrade::offer(RuntimeOrigin::signed(BD_MM), id, t.quantity, t.rm_rate),
			Error::<Test>::TermsMismatch
		);
		assert_noop!(
			IntermediatedTrade::offer(RuntimeOrigin::signed(BD_MM), id, int(2), t.mm_rate),
			Error::<Test>::TermsMismatch
		);
		assert_noop!(
			IntermediatedTrade::offer(RuntimeOrigin::none(), id, t.quantity, t.mm_rate),
			BadOrigin
		);
		assert_noop!(
			IntermediatedTrade::offer(RuntimeOrigin::signed(BD_MM), 5, t.quantity, t.mm_rate),
			Error::<Test>::UnknownRound
		);
		assert_ok!(IntermediatedTrade::offer(
			RuntimeOrigin::signed(BD_MM),
			id,
			t.quantity,
			t.mm_rate
		));
		assert_noop!(
			IntermediatedTrade::offer(RuntimeOrigin::signed(BD_MM), id, t.quantity, t.mm_rate),
			Error::<Test>::WrongStep
		);
		for who in [BD_RM, BD_MM, RM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::accept(RuntimeOrigin::signed(who), id, t.quantity, t.mm_rate),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(
			IntermediatedTrade::accept(RuntimeOrigin::signed(MM), id, t.quantity, t.bd_rate),
			Error::<Test>::TermsMismatch
		);
		assert_noop!(
			IntermediatedTrade::accept(RuntimeOrigin::none(), id, t.quantity, t.mm_rate),
			BadOrigin
		);
	});
}

#[test]
fn rm_must_afford_its_interest_to_accept() {
	build_and_execute(|| {
		let t = example_terms();
		let id = drive_to(Some(Phase::RmAcceptance));
		Balances::set_balance(&RM, 18 * UNIT);
		assert_noop!(
			IntermediatedTrade::accept(RuntimeOrigin::signed(RM), id, t.quantity, t.rm_rate),
			Error::<Test>::InsufficientBalance
		);
		Balances::set_balance(&RM, ENDOWMENT);
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(RM),
			id,
			t.quantity,
			t.rm_rate
		));
		assert_eq!(Balances::balance_on_hold(&HoldReason::Interest.into(), &RM), 75 * UNIT / 4);
	});
}

/// Who misses each step, and whether it forfeits a deposit.
fn deviator(phase: Phase) -> (AccountId, bool) {
	match phase {
		Phase::Joining => (BD_MM, false),
		Phase::Revealing | Phase::RmOffer | Phase::DealerOffer => (BD_RM, true),
		Phase::MmOffer | Phase::DealerAcceptance => (BD_MM, true),
		Phase::MmAcceptance => (MM, false),
		Phase::RmAcceptance => (RM, false),
	}
}

#[test]
fn every_missed_deadline_ends_the_round_and_slashes_a_deviating_dealer() {
	let phases = [
		Phase::Joining,
		Phase::Revealing,
		Phase::MmOffer,
		Phase::MmAcceptance,
		Phase::RmOffer,
		Phase::RmAcceptance,
		Phase::DealerOffer,
		Phase::DealerAcceptance,
	];
	for missed in phases {
		build_and_execute(|| {
			let id = drive_to(Some(missed));
			if missed == Phase::Revealing {
				// BDmm reveals; BDrm does not.
				assert_ok!(IntermediatedTrade::reveal(
					RuntimeOrigin::signed(BD_MM),
					id,
					mm_report(int(0)),
					SALT_MM
				));
			}
			let deadline = Rounds::<Test>::get(id).unwrap().deadline;
			run_to_block(deadline);
			assert_eq!(phase(id), Some(missed), "the step is still open at its deadline");
			run_to_block(deadline + 1);
			assert_eq!(phase(id), None, "{missed:?}: the round ended");
			let (who, forfeits) = deviator(missed);
			let role = match who {
				BD_RM => Role::RmDealer,
				BD_MM => Role::MmDealer,
				RM => Role::Rm,
				_ => Role::Mm,
			};
			let forfeited = if forfeits { DEALER_DEPOSIT } else { 0 };
			assert_eq!(
				events(),
				vec![
					Event::Deviated { round: id, who, role, forfeited },
					Event::RoundAborted {
						round: id,
						phase: missed,
						reason: AbortReason::MissedDeadline
					},
				],
				"{missed:?}"
			);
			if forfeits {
				assert_slashed(who);
			} else {
				for party in [BD_RM, BD_MM, RM, MM] {
					assert_eq!((free(party), held(party)), (ENDOWMENT, 0), "{missed:?}: {party}");
				}
			}
		});
	}
}

#[test]
fn when_both_dealers_miss_the_reveal_the_clients_share_both_deposits() {
	build_and_execute(|| {
		let id = drive_to(Some(Phase::Revealing));
		run_to_block(1 + REVEAL_WINDOW + 1);
		assert_eq!(phase(id), None);
		assert_eq!(free(RM), ENDOWMENT + DEALER_DEPOSIT);
		assert_eq!(free(MM), ENDOWMENT + DEALER_DEPOSIT);
		assert_eq!(free(BD_RM), ENDOWMENT - DEALER_DEPOSIT);
		assert_eq!(free(BD_MM), ENDOWMENT - DEALER_DEPOSIT);
	});
}

#[test]
fn a_step_after_its_deadline_fails_if_the_hook_did_not_run() {
	build_and_execute(|| {
		let id = open_with(rm_report(int(0)));
		System::set_block_number(1 + JOIN_WINDOW + 1);
		assert_noop!(
			IntermediatedTrade::join_round(
				RuntimeOrigin::signed(BD_MM),
				id,
				commit(BD_MM, &mm_report(int(0)), &SALT_MM)
			),
			Error::<Test>::DeadlinePassed
		);
	});
}

#[test]
fn windows_restart_at_every_step_and_the_hook_handles_many_rounds() {
	build_and_execute(|| {
		let first = open_with(rm_report(int(0)));
		run_to_block(3);
		let second = open_with(rm_report(int(0)));
		join_with(second, mm_report(int(0)));
		assert_eq!(
			Deadlines::<Test>::get().into_inner(),
			vec![(first, 1 + JOIN_WINDOW), (second, 3 + REVEAL_WINDOW)]
		);
		run_to_block(1 + JOIN_WINDOW + 1);
		assert_eq!(phase(first), None);
		assert_eq!(phase(second), Some(Phase::Revealing));
		run_to_block(3 + REVEAL_WINDOW + 1);
		assert_eq!(phase(second), None);
		assert!(Deadlines::<Test>::get().is_empty());
	});
}

#[test]
fn the_commitment_is_blake2_of_the_scale_tuple() {
	use codec::Encode;
	let report = rm_report(int(0));
	assert_eq!(
		IntermediatedTrade::commitment(&BD_RM, &report, &SALT_RM),
		sp_io::hashing::blake2_256(&(BD_RM, report, SALT_RM).encode())
	);
	assert_ne!(
		IntermediatedTrade::commitment(&BD_RM, &report, &SALT_RM),
		IntermediatedTrade::commitment(&BD_MM, &report, &SALT_RM)
	);
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	new_test_ext().execute_with(|| {
		<IntermediatedTrade as Hooks<u64>>::integrity_test();
	});
}

mod properties {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]

		/// Any crossing pair of schedules settles through the full flow with the contract's
		/// terms; the payments add up to RM's interest, nothing stays held and no token is
		/// created or destroyed.
		#[test]
		fn every_round_settles_and_conserves_tokens(
			d0 in 0u128..500, sd in 1u128..500, s0 in 500u128..1_000, ss in 1u128..500, h in 0u128..300,
		) {
			build_and_execute(|| {
				let rm = Report {
					schedule: ClientSchedule::Demand(DemandSchedule { choke_rate: ratio(s0, 100), slope: ratio(ss, 100) }),
					hurdle: ratio(h, 100),
				};
				let mm = Report {
					schedule: ClientSchedule::Supply(SupplySchedule { reservation_rate: ratio(d0, 100), slope: ratio(sd, 100) }),
					hurdle: int(0),
				};
				let issuance = Balances::total_issuance();
				let id = reveal_round(rm, mm);
				let Some(t) = Rounds::<Test>::get(id).and_then(|round| round.terms) else {
					prop_assert!(h > s0 - d0 - 1 || phase(id).is_none());
					return Ok(());
				};
				let steps = [(BD_MM, MM, t.mm_rate), (BD_RM, RM, t.rm_rate), (BD_RM, BD_MM, t.bd_rate)];
				for (offerer, acceptor, rate) in steps {
					assert_ok!(IntermediatedTrade::offer(RuntimeOrigin::signed(offerer), id, t.quantity, rate));
					assert_ok!(IntermediatedTrade::accept(RuntimeOrigin::signed(acceptor), id, t.quantity, rate));
				}
				let Some(Event::RoundSettled { payments, .. }) = events().last().cloned() else {
					panic!("settled")
				};
				prop_assert_eq!(
					payments.rm_paid,
					payments.mm_received + payments.mm_dealer_received + payments.rm_dealer_received
				);
				prop_assert_eq!(free(RM), ENDOWMENT - payments.rm_paid);
				prop_assert_eq!(free(MM), ENDOWMENT + payments.mm_received);
				for who in [BD_RM, BD_MM, RM, MM] {
					prop_assert_eq!(held(who), 0);
				}
				prop_assert_eq!(Balances::total_issuance(), issuance);
				Ok(())
			})?;
		}
	}
}

/// Locks every token of `who`, as a conviction-voting delegation of its whole balance would
/// (a lock also freezes held funds).
fn lock_everything(who: AccountId) {
	use frame_support::traits::{LockableCurrency, WithdrawReasons};
	<Balances as LockableCurrency<AccountId>>::set_lock(
		*b"walkaway",
		&who,
		Balance::MAX,
		WithdrawReasons::all(),
	);
}

#[test]
fn rm_cannot_lock_its_way_out_of_the_interest() {
	build_and_execute(|| {
		// RM accepts (its interest is held), then locks everything before the round settles.
		let id = drive_to(Some(Phase::DealerOffer));
		lock_everything(RM);
		let t = example_terms();
		assert_ok!(IntermediatedTrade::offer(
			RuntimeOrigin::signed(BD_RM),
			id,
			t.quantity,
			t.bd_rate
		));
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(BD_MM),
			id,
			t.quantity,
			t.bd_rate
		));
		// Every leg is paid in full, and the event says what was actually paid.
		let quarter = UNIT / 4;
		assert_eq!(free(MM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(BD_MM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(BD_RM), ENDOWMENT + 25 * quarter);
		assert_eq!(free(RM), ENDOWMENT - 75 * quarter);
		let Some(Event::RoundSettled { payments, .. }) = events().last().cloned() else {
			panic!("settled")
		};
		assert_eq!(payments.rm_paid, 75 * quarter);
		assert_eq!(payments.mm_received, 25 * quarter);
	});
}

#[test]
fn a_deviating_dealer_cannot_lock_its_forfeit_into_a_burn() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let id = drive_to(Some(Phase::MmOffer));
		lock_everything(BD_MM);
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		run_to_block(deadline + 1);
		assert_eq!(phase(id), None);
		// The other three receive BDmm's deposit; nothing was burned.
		assert_slashed(BD_MM);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
