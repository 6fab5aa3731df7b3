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

fn commitment(id: RoundId, dealer: AccountId, report: &Report, salt: &Salt) -> Commitment {
	IntermediatedTrade::commitment(id, &dealer, report, salt)
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

/// What RM attests when it consents: BDrm's commitment to the worked example's demand.
fn rm_attest(id: RoundId) -> Commitment {
	commitment(id, BD_RM, &rm_report(int(0)), &SALT_RM)
}

/// What MM attests when it consents: BDmm's commitment to the worked example's supply.
fn mm_attest(id: RoundId) -> Commitment {
	commitment(id, BD_MM, &mm_report(int(0)), &SALT_MM)
}

/// The worked example's terms.
fn example_terms() -> Terms {
	Terms { quantity: ratio(5, 2), mm_rate: ratio(5, 2), rm_rate: ratio(15, 2), bd_rate: int(5) }
}

/// The worked example's stake: `A²·σ/4 = 10²·½/4 = 12.5` EQ.
const STAKE: Balance = 25 * UNIT / 2;
/// Each participant's deposit once the worked example's terms are selected.
const TERMS_DEPOSIT: Balance = BASE_DEPOSIT + STAKE;

/// BDrm opens a round with the tests' stake cap.
fn open() -> RoundId {
	let id = NextRoundId::<Test>::get();
	assert_ok!(IntermediatedTrade::open_round(
		RuntimeOrigin::signed(BD_RM),
		BD_MM,
		RM,
		MM,
		STAKE_CAP
	));
	id
}

/// BDmm joins, both dealers commit to `rm` and `mm`, both clients consent.
fn bind(id: RoundId, rm: Report, mm: Report) {
	assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
	assert_ok!(IntermediatedTrade::commit(
		RuntimeOrigin::signed(BD_RM),
		id,
		commitment(id, BD_RM, &rm, &SALT_RM)
	));
	assert_ok!(IntermediatedTrade::commit(
		RuntimeOrigin::signed(BD_MM),
		id,
		commitment(id, BD_MM, &mm, &SALT_MM)
	));
	assert_ok!(IntermediatedTrade::consent(
		RuntimeOrigin::signed(RM),
		id,
		commitment(id, BD_RM, &rm, &SALT_RM)
	));
	assert_ok!(IntermediatedTrade::consent(
		RuntimeOrigin::signed(MM),
		id,
		commitment(id, BD_MM, &mm, &SALT_MM)
	));
	assert_eq!(phase(id), Some(Phase::Revealing));
}

/// Opens and binds a round with the given reports.
fn bound_round(rm: Report, mm: Report) -> RoundId {
	let id = open();
	bind(id, rm, mm);
	id
}

/// Opens and binds a round with the given reports and reveals both.
fn reveal_round(rm: Report, mm: Report) -> RoundId {
	let id = bound_round(rm, mm);
	assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_RM), id, rm, SALT_RM));
	assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_MM), id, mm, SALT_MM));
	id
}

/// BDrm reveals the worked example's demand, as committed.
fn reveal_rm(id: RoundId) {
	assert_ok!(IntermediatedTrade::reveal(
		RuntimeOrigin::signed(BD_RM),
		id,
		rm_report(int(0)),
		SALT_RM
	));
}

/// BDmm reveals the worked example's supply, as committed.
fn reveal_mm(id: RoundId) {
	assert_ok!(IntermediatedTrade::reveal(
		RuntimeOrigin::signed(BD_MM),
		id,
		mm_report(int(0)),
		SALT_MM
	));
}

fn phase(id: RoundId) -> Option<Phase> {
	Rounds::<Test>::get(id).map(|round| round.phase)
}

/// Runs the worked example's round up to `target` (or to its settlement with `None`).
fn drive_to(target: Option<Phase>) -> RoundId {
	let t = example_terms();
	let id = open();
	let steps: [(Phase, &dyn Fn()); 9] = [
		(Phase::Joining, &|| {
			assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
		}),
		(Phase::Committing, &|| {
			assert_ok!(IntermediatedTrade::commit(
				RuntimeOrigin::signed(BD_RM),
				id,
				commitment(id, BD_RM, &rm_report(int(0)), &SALT_RM)
			));
			assert_ok!(IntermediatedTrade::commit(
				RuntimeOrigin::signed(BD_MM),
				id,
				commitment(id, BD_MM, &mm_report(int(0)), &SALT_MM)
			));
			assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, rm_attest(id)));
			assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(MM), id, mm_attest(id)));
		}),
		(Phase::Revealing, &|| {
			reveal_rm(id);
			reveal_mm(id);
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

/// The side of the trade `who` is on: RM's (BDrm, RM) or MM's (BDmm, MM).
fn rm_side(who: AccountId) -> bool {
	who == BD_RM || who == RM
}

/// `deviators` forfeited `deposit` each to the participants of the other side that did not
/// deviate; every other participant got everything back, nothing is held.
fn assert_forfeited(deviators: &[AccountId], deposit: Balance) {
	for who in [BD_RM, BD_MM, RM, MM] {
		assert_eq!(held(who), 0, "account {who} still holds funds");
		let mut expected = ENDOWMENT;
		if deviators.contains(&who) {
			expected -= deposit;
		}
		for &deviator in deviators {
			if rm_side(deviator) != rm_side(who) && !deviators.contains(&who) {
				let recipients = [BD_RM, BD_MM, RM, MM]
					.into_iter()
					.filter(|other| rm_side(*other) != rm_side(deviator))
					.filter(|other| !deviators.contains(other))
					.count() as Balance;
				expected += deposit / recipients;
			}
		}
		assert_eq!(free(who), expected, "account {who}");
	}
}

#[test]
fn the_worked_example_settles_through_the_full_flow() {
	build_and_execute(|| {
		let issuance = Balances::total_issuance();
		let id = drive_to(None);
		assert_eq!(phase(id), None, "the round is removed once settled");
		assert_eq!(DeadlineIndex::<Test>::iter().count(), 0);
		assert_eq!(ActiveRounds::<Test>::iter().count(), 0);

		let t = example_terms();
		let ev = events();
		assert!(ev.contains(&Event::TradingInstructions {
			round: id,
			terms: t,
			stake: STAKE,
			deadline: 1 + STEP_WINDOW
		}));
		// Every step has its event, in the protocol's order.
		let names: Vec<&str> = ev
			.iter()
			.map(|event| match event {
				Event::RoundOpened { .. } => "opened",
				Event::RoundJoined { .. } => "joined",
				Event::Committed { .. } => "committed",
				Event::Consented { .. } => "consented",
				Event::RevealsOpened { .. } => "reveals",
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
				"committed",
				"committed",
				"consented",
				"consented",
				"reveals",
				"revealed",
				"reveals",
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
fn open_round_holds_the_deposits_and_binds_nobody_else() {
	build_and_execute(|| {
		let id = open();
		assert_eq!(id, 0);
		assert_eq!(NextRoundId::<Test>::get(), 1);
		assert_eq!(held(BD_RM), CAP_DEPOSIT + ROUND_DEPOSIT);
		assert_eq!(Balances::balance_on_hold(&HoldReason::Deposit.into(), &BD_RM), CAP_DEPOSIT);
		assert_eq!(
			DeadlineIndex::<Test>::iter_keys().collect::<Vec<_>>(),
			vec![(1 + JOIN_WINDOW, 0)]
		);
		assert_eq!(ActiveRounds::<Test>::get(BD_RM), 1);
		for named in [BD_MM, RM, MM] {
			assert_eq!((ActiveRounds::<Test>::get(named), held(named)), (0, 0));
		}
		assert_eq!(
			events(),
			vec![Event::RoundOpened {
				round: 0,
				rm_dealer: BD_RM,
				mm_dealer: BD_MM,
				rm: RM,
				mm: MM,
				stake_cap: STAKE_CAP,
				deposit: CAP_DEPOSIT,
				deadline: 1 + JOIN_WINDOW
			}]
		);
	});
}

#[test]
fn open_round_rejects_bad_input() {
	build_and_execute(|| {
		let cap = STAKE_CAP;
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::none(), BD_MM, RM, MM, cap),
			BadOrigin
		);
		for (a, b, c) in [(BD_MM, RM, RM), (BD_RM, RM, MM), (BD_MM, RM, BD_MM), (BD_MM, MM, MM)] {
			assert_noop!(
				IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), a, b, c, cap),
				Error::<Test>::PartiesNotDistinct
			);
		}
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, NOBODY, cap),
			Error::<Test>::UnknownAccount
		);
		for bad in [0, Balance::MAX, Balance::MAX - BASE_DEPOSIT] {
			assert_noop!(
				IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, MM, bad),
				Error::<Test>::BadStakeCap
			);
		}
		Balances::set_balance(&6, CAP_DEPOSIT);
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(6), BD_MM, RM, MM, cap),
			Error::<Test>::InsufficientBalance
		);
		for _ in 0..MAX_ROUNDS_PER_ACCOUNT {
			open();
		}
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, MM, cap),
			Error::<Test>::TooManyRounds
		);
	});
}

#[test]
fn round_identifiers_never_wrap_onto_a_live_round() {
	build_and_execute(|| {
		NextRoundId::<Test>::put(RoundId::MAX - 1);
		let last = open();
		assert_eq!(last, RoundId::MAX - 1);
		assert_eq!(NextRoundId::<Test>::get(), RoundId::MAX);
		// The old code saturated here: the next round would have taken the identifier
		// `RoundId::MAX` again and again, overwriting a live round.
		assert_noop!(
			IntermediatedTrade::open_round(RuntimeOrigin::signed(BD_RM), BD_MM, RM, MM, STAKE_CAP),
			Error::<Test>::RoundIdsExhausted
		);
		assert_eq!(phase(last), Some(Phase::Joining));
	});
}

#[test]
fn naming_strangers_costs_them_nothing_and_occupies_no_shared_slot() {
	build_and_execute(|| {
		// A squatter opens as many rounds as it may, naming BDmm, RM and MM, who never join.
		for _ in 0..MAX_ROUNDS_PER_ACCOUNT {
			open();
		}
		// They are not bound and can take part in someone else's round at once.
		let honest = NextRoundId::<Test>::get();
		assert_ok!(IntermediatedTrade::open_round(
			RuntimeOrigin::signed(6),
			BD_MM,
			RM,
			MM,
			STAKE_CAP
		));
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), honest));
		let c = commitment(honest, 6, &rm_report(int(0)), &SALT_RM);
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(6), honest, c));
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(RM), honest, c));
		assert_eq!(ActiveRounds::<Test>::get(BD_MM), 1);
		assert_eq!(phase(honest), Some(Phase::Committing));
		// The squatter's rounds end at their deadline and cost it only the fees.
		run_to_block(1 + JOIN_WINDOW + 2);
		assert_eq!((free(BD_RM), held(BD_RM)), (ENDOWMENT, 0));
		assert_eq!(ActiveRounds::<Test>::get(BD_RM), 0);
	});
}

#[test]
fn join_round_holds_bdmm_deposit_and_checks_the_party() {
	build_and_execute(|| {
		let id = open();
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), 9),
			Error::<Test>::UnknownRound
		);
		for who in [BD_RM, RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::join_round(RuntimeOrigin::signed(who), id),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(IntermediatedTrade::join_round(RuntimeOrigin::none(), id), BadOrigin);
		Balances::set_balance(&BD_MM, CAP_DEPOSIT);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id),
			Error::<Test>::InsufficientBalance
		);
		Balances::set_balance(&BD_MM, ENDOWMENT);
		System::reset_events();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
		assert_eq!(held(BD_MM), CAP_DEPOSIT);
		assert_eq!(phase(id), Some(Phase::Committing));
		assert_eq!(events(), vec![Event::RoundJoined { round: id, deadline: 1 + COMMIT_WINDOW }]);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id),
			Error::<Test>::WrongStep
		);
	});
}

#[test]
fn dealers_commit_then_clients_consent_to_those_commitments_before_any_reveal() {
	build_and_execute(|| {
		let id = open();
		let c = commitment(id, BD_RM, &rm_report(int(0)), &SALT_RM);
		// Nothing before BDmm joined.
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c),
			Error::<Test>::WrongStep
		);
		assert_noop!(
			IntermediatedTrade::commit(RuntimeOrigin::signed(BD_RM), id, c),
			Error::<Test>::WrongStep
		);
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
		// Only clients consent, only dealers commit.
		for who in [BD_RM, BD_MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::consent(RuntimeOrigin::signed(who), id, c),
				Error::<Test>::WrongParty
			);
		}
		for who in [RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::commit(RuntimeOrigin::signed(who), id, c),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(IntermediatedTrade::consent(RuntimeOrigin::none(), id, c), BadOrigin);
		assert_noop!(IntermediatedTrade::commit(RuntimeOrigin::none(), id, c), BadOrigin);
		// A client consents to its dealer's commitment, so the dealer commits first.
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c),
			Error::<Test>::CommitmentMismatch
		);
		System::reset_events();
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_RM), id, c));
		assert_noop!(
			IntermediatedTrade::commit(RuntimeOrigin::signed(BD_RM), id, c),
			Error::<Test>::AlreadyBound
		);
		// A client must afford the deposit.
		let spare = free(RM) - CAP_DEPOSIT;
		Balances::set_balance(&RM, CAP_DEPOSIT);
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c),
			Error::<Test>::InsufficientBalance
		);
		Balances::set_balance(&RM, CAP_DEPOSIT + spare);
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c));
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c),
			Error::<Test>::AlreadyBound
		);
		assert_eq!(held(RM), CAP_DEPOSIT);
		assert_eq!(ActiveRounds::<Test>::get(RM), 1);
		// No reveal until all four are bound.
		assert_noop!(
			IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_RM),
				id,
				rm_report(int(0)),
				SALT_RM
			),
			Error::<Test>::WrongStep
		);
		let m = mm_attest(id);
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_MM), id, m));
		assert_eq!(phase(id), Some(Phase::Committing));
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(MM), id, m));
		assert_eq!(phase(id), Some(Phase::Revealing));
		assert_eq!(
			events(),
			vec![
				Event::Committed { round: id, dealer: BD_RM, commitment: c },
				Event::Consented { round: id, client: RM, deposit: CAP_DEPOSIT },
				Event::Committed { round: id, dealer: BD_MM, commitment: m },
				Event::Consented { round: id, client: MM, deposit: CAP_DEPOSIT },
				Event::RevealsOpened { round: id, deadline: 1 + REVEAL_WINDOW },
			]
		);
	});
}

#[test]
fn reveal_checks_step_party_and_repeats() {
	build_and_execute(|| {
		let id = open();
		assert_noop!(
			IntermediatedTrade::reveal(
				RuntimeOrigin::signed(BD_RM),
				id,
				rm_report(int(0)),
				SALT_RM
			),
			Error::<Test>::WrongStep
		);
		bind(id, rm_report(int(0)), mm_report(int(0)));
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
		reveal_rm(id);
		// The first reveal gives both dealers a fresh window (see
		// `a_last_block_reveal_after_an_agreement_gives_both_dealers_a_fresh_window`).
		assert_eq!(
			events(),
			vec![
				Event::ReportRevealed { round: id, dealer: BD_RM, report: rm_report(int(0)) },
				Event::RevealsOpened { round: id, deadline: 1 + REVEAL_WINDOW },
			]
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

#[test]
fn a_bad_reveal_forfeits_the_deposit_to_the_other_side_only() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		System::reset_events();
		// BDmm reveals another schedule than it committed to: the call succeeds and slashes.
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_MM),
			id,
			mm_report(int(1)),
			SALT_MM
		));
		let half = CAP_DEPOSIT / 2;
		assert_eq!(
			events(),
			vec![
				Event::Deviated {
					round: id,
					who: BD_MM,
					role: Role::MmDealer,
					forfeited: CAP_DEPOSIT
				},
				Event::ForfeitPaid { round: id, from: BD_MM, to: BD_RM, amount: half },
				Event::ForfeitPaid { round: id, from: BD_MM, to: RM, amount: half },
				Event::RoundAborted {
					round: id,
					phase: Phase::Revealing,
					reason: AbortReason::BadReveal
				},
			]
		);
		assert_eq!(phase(id), None);
		// MM, BDmm's own client (which BDmm may control), gets none of it back.
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
		assert_eq!(free(MM), ENDOWMENT);
	});
}

#[test]
fn a_wrong_salt_or_a_copied_commitment_is_a_bad_reveal() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		assert_ok!(IntermediatedTrade::reveal(
			RuntimeOrigin::signed(BD_RM),
			id,
			rm_report(int(0)),
			SALT_MM
		));
		assert_forfeited(&[BD_RM], CAP_DEPOSIT);
	});
	build_and_execute(|| {
		// BDmm copies BDrm's commitment: it is bound to BDrm's account, so BDmm cannot open it.
		let id = open();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
		let c = commitment(id, BD_RM, &rm_report(int(0)), &SALT_RM);
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_RM), id, c));
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_MM), id, c));
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, c));
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(MM), id, c));
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
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
	});
}

#[test]
fn a_commitment_from_another_round_or_without_the_domain_does_not_open() {
	build_and_execute(|| {
		// Round 0's commitment, replayed in round 1 with the same report and salt: the round is
		// in the preimage, so it does not open there (the old hash of (dealer, report, salt)
		// alone would have).
		let first = open();
		let replayed = commitment(first, BD_RM, &rm_report(int(0)), &SALT_RM);
		let second = open();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), second));
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_RM), second, replayed));
		assert_ok!(IntermediatedTrade::commit(
			RuntimeOrigin::signed(BD_MM),
			second,
			commitment(second, BD_MM, &mm_report(int(0)), &SALT_MM)
		));
		assert_ok!(IntermediatedTrade::consent(RuntimeOrigin::signed(RM), second, replayed));
		assert_ok!(IntermediatedTrade::consent(
			RuntimeOrigin::signed(MM),
			second,
			mm_attest(second)
		));
		reveal_rm(second);
		assert!(events().contains(&Event::RoundAborted {
			round: second,
			phase: Phase::Revealing,
			reason: AbortReason::BadReveal
		}));
	});
	use codec::Encode;
	new_test_ext().execute_with(|| {
		let report = rm_report(int(0));
		let genesis = System::block_hash(0);
		assert_eq!(
			IntermediatedTrade::commitment(3, &BD_RM, &report, &SALT_RM),
			sp_io::hashing::blake2_256(
				&(COMMITMENT_DOMAIN, genesis, 3u32, BD_RM, report, SALT_RM).encode()
			)
		);
		assert_ne!(
			IntermediatedTrade::commitment(3, &BD_RM, &report, &SALT_RM),
			sp_io::hashing::blake2_256(&(BD_RM, report, SALT_RM).encode())
		);
		assert_ne!(
			IntermediatedTrade::commitment(3, &BD_RM, &report, &SALT_RM),
			IntermediatedTrade::commitment(3, &BD_MM, &report, &SALT_RM)
		);
	});
}

#[test]
fn an_invalid_committed_report_is_a_deviation() {
	// The wrong client's schedule.
	build_and_execute(|| {
		let id = bound_round(mm_report(int(0)), mm_report(int(0)));
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
		assert_forfeited(&[BD_RM], CAP_DEPOSIT);
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
		let id = bound_round(rm_report(int(0)), flat);
		reveal_rm(id);
		assert_ok!(IntermediatedTrade::reveal(RuntimeOrigin::signed(BD_MM), id, flat, SALT_MM));
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Revealing,
			reason: AbortReason::InvalidReport
		}));
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
	});
}

#[test]
fn no_trade_means_every_deposit_back() {
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
fn deposits_scale_with_the_stake() {
	build_and_execute(|| {
		// Before the terms each participant holds BaseDeposit + stake_cap; once the terms are
		// known, BaseDeposit + stake, the largest joint profit (12.5 EQ), which no deviation
		// can out-earn.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!(Balances::balance_on_hold(&HoldReason::Deposit.into(), &who), CAP_DEPOSIT);
		}
		reveal_rm(id);
		reveal_mm(id);
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!(Balances::balance_on_hold(&HoldReason::Deposit.into(), &who), TERMS_DEPOSIT);
		}
		// Each dealer's profit, 6.25 EQ, and the whole joint profit are below the deposit's
		// stake part.
		let t = example_terms();
		let dealer_profit = IntermediatedTrade::to_balance(
			t.interest(t.bd_rate - t.mm_rate).unwrap(),
			sp_runtime::Rounding::Down,
		)
		.unwrap();
		assert!(2 * dealer_profit <= STAKE);
	});
	// Schedules ten times steeper put ten times as much at stake: above the cap, no trade.
	build_and_execute(|| {
		let steep_rm = Report {
			schedule: ClientSchedule::Demand(DemandSchedule {
				choke_rate: int(10),
				slope: int(10),
			}),
			hurdle: int(0),
		};
		let steep_mm = Report {
			schedule: ClientSchedule::Supply(SupplySchedule {
				reservation_rate: int(0),
				slope: int(10),
			}),
			hurdle: int(0),
		};
		let id = reveal_round(steep_rm, steep_mm);
		assert_eq!(
			events().last(),
			Some(&Event::NoTradeSelected { round: id, reason: NoTrade::StakeAboveCap })
		);
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
		}
	});
}

#[test]
fn amounts_convert_to_the_balance_with_the_asked_rounding() {
	new_test_ext().execute_with(|| {
		let down = sp_runtime::Rounding::Down;
		let up = sp_runtime::Rounding::Up;
		assert_eq!(IntermediatedTrade::to_balance(ratio(5, 2), down), Some(5 * UNIT / 2));
		// 10⁻¹⁸ token is a millionth of the smallest unit: nothing rounded down, one unit up
		// (the stake is rounded up, interest down).
		assert_eq!(IntermediatedTrade::to_balance(FixedU128::from_inner(1), down), Some(0));
		assert_eq!(IntermediatedTrade::to_balance(FixedU128::from_inner(1), up), Some(1));
		assert_eq!(
			IntermediatedTrade::to_balance(FixedU128::from_inner(u128::MAX), down),
			Some(u128::MAX / 1_000_000)
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
	use frame_support::traits::tokens::Preservation;
	build_and_execute(|| {
		let t = example_terms();
		let id = drive_to(Some(Phase::RmAcceptance));
		// RM keeps 18 EQ free: short of its 18.75 EQ interest.
		let spare = free(RM) - 18 * UNIT;
		assert_ok!(<Balances as Mutate<AccountId>>::transfer(
			&RM,
			&STRANGER,
			spare,
			Preservation::Preserve
		));
		assert_noop!(
			IntermediatedTrade::accept(RuntimeOrigin::signed(RM), id, t.quantity, t.rm_rate),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(<Balances as Mutate<AccountId>>::transfer(
			&STRANGER,
			&RM,
			spare,
			Preservation::Preserve
		));
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(RM),
			id,
			t.quantity,
			t.rm_rate
		));
		assert_eq!(Balances::balance_on_hold(&HoldReason::Interest.into(), &RM), 75 * UNIT / 4);
	});
}

/// Who misses each step, and the deposit it then holds.
fn deviator(phase: Phase) -> (AccountId, Role, Balance) {
	match phase {
		Phase::Joining => (BD_MM, Role::MmDealer, 0),
		Phase::Committing => (RM, Role::Rm, 0),
		Phase::Revealing => (BD_RM, Role::RmDealer, CAP_DEPOSIT),
		Phase::RmOffer | Phase::DealerOffer => (BD_RM, Role::RmDealer, TERMS_DEPOSIT),
		Phase::MmOffer | Phase::DealerAcceptance => (BD_MM, Role::MmDealer, TERMS_DEPOSIT),
		Phase::MmAcceptance => (MM, Role::Mm, TERMS_DEPOSIT),
		Phase::RmAcceptance => (RM, Role::Rm, TERMS_DEPOSIT),
		Phase::Disputed => unreachable!("a disputed round waits for both dealers"),
	}
}

#[test]
fn every_missed_deadline_ends_the_round_and_forfeits_to_the_other_side() {
	let phases = [
		Phase::Joining,
		Phase::Committing,
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
			match missed {
				// Everyone but RM: RM never consented, so it holds nothing to forfeit.
				Phase::Committing => {
					assert_ok!(IntermediatedTrade::commit(
						RuntimeOrigin::signed(BD_RM),
						id,
						commitment(id, BD_RM, &rm_report(int(0)), &SALT_RM)
					));
					assert_ok!(IntermediatedTrade::commit(
						RuntimeOrigin::signed(BD_MM),
						id,
						commitment(id, BD_MM, &mm_report(int(0)), &SALT_MM)
					));
					assert_ok!(IntermediatedTrade::consent(
						RuntimeOrigin::signed(MM),
						id,
						mm_attest(id)
					));
				},
				// BDmm reveals; BDrm does not.
				Phase::Revealing => {
					reveal_mm(id);
				},
				_ => {},
			}
			let deadline = Rounds::<Test>::get(id).unwrap().deadline;
			run_to_block(deadline);
			assert_eq!(phase(id), Some(missed), "the step is still open at its deadline");
			run_to_block(deadline + 1);
			assert_eq!(phase(id), None, "{missed:?}: the round ended");
			let (who, role, forfeited) = deviator(missed);
			let ev = events();
			assert_eq!(ev.first(), Some(&Event::Deviated { round: id, who, role, forfeited }));
			assert_eq!(
				ev.last(),
				Some(&Event::RoundAborted {
					round: id,
					phase: missed,
					reason: AbortReason::MissedDeadline
				}),
				"{missed:?}"
			);
			assert_forfeited(&[who], forfeited);
			assert_eq!(ActiveRounds::<Test>::iter().count(), 0);
		});
	}
}

#[test]
fn when_both_dealers_miss_the_reveal_each_forfeit_goes_to_the_other_client() {
	build_and_execute(|| {
		let id = drive_to(Some(Phase::Revealing));
		run_to_block(1 + REVEAL_WINDOW + 1);
		assert_eq!(phase(id), None);
		assert_forfeited(&[BD_RM, BD_MM], CAP_DEPOSIT);
		assert_eq!(free(RM), ENDOWMENT + CAP_DEPOSIT);
		assert_eq!(free(MM), ENDOWMENT + CAP_DEPOSIT);
	});
}

#[test]
fn a_client_that_walks_away_from_the_terms_pays_the_other_side() {
	build_and_execute(|| {
		// Once the terms are public RM refuses them (its dealer may control it): RM forfeits
		// its deposit to BDmm and MM, and BDrm gets none of it.
		let id = drive_to(Some(Phase::RmAcceptance));
		run_to_block(Rounds::<Test>::get(id).unwrap().deadline + 1);
		assert_eq!(phase(id), None);
		assert_forfeited(&[RM], TERMS_DEPOSIT);
		assert_eq!(free(BD_RM), ENDOWMENT);
		assert_eq!(free(MM), ENDOWMENT + TERMS_DEPOSIT / 2);
	});
}

#[test]
fn a_step_after_its_deadline_fails_if_the_hook_did_not_run() {
	build_and_execute(|| {
		let id = open();
		System::set_block_number(1 + JOIN_WINDOW + 1);
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id),
			Error::<Test>::DeadlinePassed
		);
	});
}

#[test]
fn deadlines_are_kept_per_block_and_the_hook_handles_a_bounded_number_per_block() {
	build_and_execute(|| {
		// Seven rounds due in the same block: more than the hook handles in one block (3). No
		// step ever fails for lack of room; the surplus waits for the next blocks, and nobody
		// can act after the deadline meanwhile.
		let mut ids = Vec::new();
		for opener in [BD_RM, 6, 7, 8, 9, 10, 11] {
			let id = NextRoundId::<Test>::get();
			assert_ok!(IntermediatedTrade::open_round(
				RuntimeOrigin::signed(opener),
				BD_MM,
				RM,
				MM,
				STAKE_CAP
			));
			ids.push(id);
		}
		let due = 1 + JOIN_WINDOW;
		assert_eq!(DeadlineIndex::<Test>::iter_prefix(due).count(), 7);
		let live = || ids.iter().filter(|id| phase(**id).is_some()).count();
		// The hook walks the empty blocks before `due` (one unit each, three per block)...
		run_to_block(due);
		assert_eq!(DeadlineCursor::<Test>::get(), due);
		assert_eq!(live(), 7);
		// ...then ends three rounds per block.
		run_to_block(due + 1);
		assert_eq!(live(), 4);
		run_to_block(due + 2);
		assert_eq!(live(), 1);
		// The round still waiting to be ended cannot be joined: its deadline passed.
		let waiting = *ids.iter().find(|id| phase(**id).is_some()).expect("one left");
		assert_noop!(
			IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), waiting),
			Error::<Test>::DeadlinePassed
		);
		run_to_block(due + 3);
		assert_eq!(live(), 0);
		assert_eq!(DeadlineIndex::<Test>::iter().count(), 0);
		assert_eq!(DeadlineCursor::<Test>::get(), due + 2);
		for who in [BD_RM, 6, 7, 8, 9, 10, 11] {
			assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
		}
	});
}

#[test]
fn a_late_hook_does_not_eat_a_congestion_extension() {
	build_and_execute(|| {
		// Four rounds due at MM's acceptance deadline (the hook handles three per block); one
		// congested block, the deadline block itself: one block of extension each. The last
		// round is handled a block late; counted from its due block its extension would already
		// be over, counted from the hook's block MM can still accept.
		let mut ids = Vec::new();
		for _ in 0..4 {
			ids.push(drive_to(Some(Phase::MmAcceptance)));
		}
		let deadline = Rounds::<Test>::get(ids[0]).unwrap().deadline;
		run_to_block(deadline);
		stuff_block();
		run_to_block(deadline + 1);
		assert_eq!(ids.iter().filter(|id| phase(**id).is_some()).count(), 4, "three extended");
		run_to_block(deadline + 2);
		let late = *ids.last().unwrap();
		let extended = Rounds::<Test>::get(late).expect("extended, not ended").deadline;
		assert_eq!(extended, System::block_number(), "MM can still accept in this block");
		let t = example_terms();
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(MM),
			late,
			t.quantity,
			t.mm_rate
		));
	});
}

#[test]
fn windows_restart_at_every_step() {
	build_and_execute(|| {
		let first = open();
		run_to_block(3);
		let second = open();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), second));
		let mut index: Vec<_> = DeadlineIndex::<Test>::iter_keys().collect();
		index.sort();
		assert_eq!(index, vec![(1 + JOIN_WINDOW, first), (3 + COMMIT_WINDOW, second)]);
		run_to_block(1 + JOIN_WINDOW + 1);
		assert_eq!(phase(first), None);
		assert_eq!(phase(second), Some(Phase::Committing));
		run_to_block(3 + COMMIT_WINDOW + 1);
		assert_eq!(phase(second), None);
		assert_eq!(DeadlineIndex::<Test>::iter().count(), 0);
	});
}

#[test]
fn stuffed_blocks_extend_the_window_instead_of_costing_the_victim_its_deposit() {
	build_and_execute(|| {
		// MM must accept by its deadline; a rival fills every block of MM's window.
		let id = drive_to(Some(Phase::MmAcceptance));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		stuff_block();
		while System::block_number() < deadline {
			run_to_block(System::block_number() + 1);
			stuff_block();
		}
		run_to_block(deadline + 1);
		// The window was extended by the congested blocks (operational weight counts too), up
		// to the window's own length: MM can still accept.
		let extended = Rounds::<Test>::get(id).expect("still in progress").deadline;
		assert_eq!(extended, deadline + STEP_WINDOW);
		assert_eq!(events(), vec![Event::DeadlineExtended { round: id, deadline: extended }]);
		let t = example_terms();
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(MM),
			id,
			t.quantity,
			t.mm_rate
		));
		assert_eq!(phase(id), Some(Phase::RmOffer));
	});
	build_and_execute(|| {
		// Stuffing beyond twice the window does not hold the round forever: the extension is
		// capped, and a silent MM then deviates.
		let id = drive_to(Some(Phase::MmAcceptance));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		stuff_block();
		while System::block_number() <= deadline + STEP_WINDOW {
			run_to_block(System::block_number() + 1);
			stuff_block();
		}
		run_to_block(deadline + STEP_WINDOW + 1);
		assert_eq!(phase(id), None);
		assert_forfeited(&[MM], TERMS_DEPOSIT);
	});
	build_and_execute(|| {
		// Without congestion the same silence is a deviation.
		let id = drive_to(Some(Phase::MmAcceptance));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		run_to_block(deadline + 1);
		assert_eq!(phase(id), None);
	});
}

#[test]
fn every_step_under_a_deadline_is_operational() {
	use frame_support::dispatch::{DispatchClass, GetDispatchInfo};
	let t = example_terms();
	let report = rm_report(int(0));
	let steps: [Call<Test>; 8] = [
		Call::agree { round: 0, terms: t },
		Call::dispute { round: 0 },
		Call::join_round { round: 0 },
		Call::consent { round: 0, commitment: [0; 32] },
		Call::commit { round: 0, commitment: [0; 32] },
		Call::reveal { round: 0, report, salt: SALT_RM },
		Call::offer { round: 0, quantity: t.quantity, rate: t.mm_rate },
		Call::accept { round: 0, quantity: t.quantity, rate: t.mm_rate },
	];
	for call in steps {
		assert_eq!(call.get_dispatch_info().class, DispatchClass::Operational);
	}
	let open = Call::<Test>::open_round { mm_dealer: BD_MM, rm: RM, mm: MM, stake_cap: STAKE_CAP };
	assert_eq!(open.get_dispatch_info().class, DispatchClass::Normal);
}

#[test]
fn integrity_test_passes() {
	use frame_support::traits::Hooks;
	new_test_ext().execute_with(|| {
		<IntermediatedTrade as Hooks<u64>>::integrity_test();
	});
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
fn a_deviator_cannot_lock_its_forfeit_into_a_burn() {
	for (at, deviator) in [(Phase::MmOffer, BD_MM), (Phase::RmAcceptance, RM)] {
		build_and_execute(|| {
			let issuance = Balances::total_issuance();
			let id = drive_to(Some(at));
			lock_everything(deviator);
			let deadline = Rounds::<Test>::get(id).unwrap().deadline;
			run_to_block(deadline + 1);
			assert_eq!(phase(id), None);
			// The other side receives the deposit; nothing was burned.
			assert_forfeited(&[deviator], TERMS_DEPOSIT);
			assert_eq!(Balances::total_issuance(), issuance);
		});
	}
}

#[test]
fn version_0_rounds_are_cancelled_and_refunded_by_the_migration() {
	use crate::migrations::v1::{v0, PhaseV0, RoundV0};
	use frame_support::traits::{
		fungible::MutateHold, GetStorageVersion, OnRuntimeUpgrade, StorageVersion,
	};
	build_and_execute(|| {
		// A version-0 round at RM's acceptance... (both dealers' deposits, the round deposit)
		// and one after RM accepted (RM's interest held too).
		let old = |phase, interest_held| RoundV0 {
			rm_dealer: BD_RM,
			mm_dealer: BD_MM,
			rm: RM,
			mm: MM,
			phase,
			deadline: 9u64,
			dealer_deposit: 100 * UNIT,
			round_deposit: UNIT,
			rm_commitment: [1; 32],
			mm_commitment: Some([2; 32]),
			rm_report: None,
			mm_report: None,
			terms: None,
			interest_held,
		};
		for (id, round) in
			[(0, old(PhaseV0::RmAcceptance, 0)), (1, old(PhaseV0::DealerOffer, 5 * UNIT))]
		{
			for (who, reason, amount) in round.holds() {
				if amount > 0 {
					assert_ok!(Balances::hold(&reason.into(), who, amount));
				}
			}
			v0::Rounds::<Test>::insert(id, round);
		}
		v0::Deadlines::<Test>::put(frame_support::BoundedVec::truncate_from(vec![(0, 9), (1, 9)]));
		NextRoundId::<Test>::put(2);
		StorageVersion::new(0).put::<IntermediatedTrade>();

		crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(IntermediatedTrade::on_chain_storage_version(), StorageVersion::new(1));
		assert!(v0::Rounds::<Test>::iter().next().is_none());
		assert!(!v0::Deadlines::<Test>::exists());
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
		}
		assert!(events().contains(&Event::RoundAborted {
			round: 1,
			phase: Phase::DealerOffer,
			reason: AbortReason::RuntimeUpgrade
		}));
		// New rounds go on from the next identifier.
		assert_eq!(open(), 2);
	});
}

/// Both dealers agree to `terms` off-chain (the private path).
fn agree_both(id: RoundId, rm_terms: Terms, mm_terms: Terms) {
	assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, rm_terms));
	assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_MM), id, mm_terms));
}

/// Terms the dealers might collude on: RM pays 8.5 instead of 7.5 (well formed, but not the
/// contract's selection).
fn inflated_terms() -> Terms {
	Terms {
		quantity: ratio(5, 2),
		mm_rate: ratio(5, 2),
		rm_rate: ratio(17, 2),
		bd_rate: ratio(11, 2),
	}
}

#[test]
fn agreed_terms_settle_without_any_report_on_chain() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let t = example_terms();
		System::reset_events();
		agree_both(id, t, t);
		assert_eq!(
			events(),
			vec![
				Event::Agreed { round: id, dealer: BD_RM, terms: t },
				Event::Agreed { round: id, dealer: BD_MM, terms: t },
				Event::TermsAgreed { round: id, terms: t, deadline: 1 + STEP_WINDOW },
			]
		);
		let round = Rounds::<Test>::get(id).unwrap();
		assert_eq!((round.rm_report, round.mm_report), (None, None), "no report on chain");
		// The chain cannot know the stake: every deposit stays at BaseDeposit + stake_cap.
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!(Balances::balance_on_hold(&HoldReason::Deposit.into(), &who), CAP_DEPOSIT);
		}
		let steps = [(BD_MM, MM, t.mm_rate), (BD_RM, RM, t.rm_rate), (BD_RM, BD_MM, t.bd_rate)];
		for (offerer, acceptor, rate) in steps {
			assert_ok!(IntermediatedTrade::offer(
				RuntimeOrigin::signed(offerer),
				id,
				t.quantity,
				rate
			));
			assert_ok!(IntermediatedTrade::accept(
				RuntimeOrigin::signed(acceptor),
				id,
				t.quantity,
				rate
			));
		}
		assert_eq!(phase(id), None);
		let quarter = UNIT / 4;
		assert_eq!(free(RM), ENDOWMENT - 75 * quarter);
		assert_eq!(free(MM), ENDOWMENT + 25 * quarter);
		assert!(!events().iter().any(|event| matches!(event, Event::ReportRevealed { .. })));
	});
}

#[test]
fn agree_checks_the_party_the_terms_and_the_path() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let t = example_terms();
		for who in [RM, MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::agree(RuntimeOrigin::signed(who), id, t),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(IntermediatedTrade::agree(RuntimeOrigin::none(), id, t), BadOrigin);
		let skewed = Terms { bd_rate: int(6), ..t };
		let crossed = Terms { rm_rate: int(1), ..t };
		let empty = Terms { quantity: int(0), ..t };
		for bad in [skewed, crossed, empty] {
			assert_noop!(
				IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, bad),
				Error::<Test>::InvalidTerms
			);
		}
		assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, t));
		assert_noop!(
			IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, t),
			Error::<Test>::AlreadyBound
		);
		// Once a report is public the selection is public too.
		reveal_mm(id);
		assert_noop!(
			IntermediatedTrade::agree(RuntimeOrigin::signed(BD_MM), id, t),
			Error::<Test>::SelectionIsPublic
		);
	});
}

#[test]
fn differing_agreements_force_the_reveals_and_the_false_one_forfeits() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		System::reset_events();
		agree_both(id, example_terms(), inflated_terms());
		assert!(events().contains(&Event::AgreementsDiffer { round: id }));
		assert_eq!(phase(id), Some(Phase::Revealing));
		reveal_rm(id);
		reveal_mm(id);
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Revealing,
			reason: AbortReason::FalseAgreement
		}));
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
	});
	build_and_execute(|| {
		// After differing agreements, the dealer that does not reveal deviates.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		agree_both(id, example_terms(), inflated_terms());
		reveal_rm(id);
		run_to_block(1 + REVEAL_WINDOW + 1);
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
	});
}

#[test]
fn a_last_block_reveal_after_an_agreement_gives_both_dealers_a_fresh_window() {
	build_and_execute(|| {
		// BDrm agrees; BDmm waits for the reveal window's last block and reveals instead.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, example_terms()));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		run_to_block(deadline);
		reveal_mm(id);
		// Without a fresh window BDrm would have had no block left to reveal in and would
		// have forfeited its deposit to BDmm.
		let fresh = Rounds::<Test>::get(id).unwrap().deadline;
		assert_eq!(fresh, deadline + REVEAL_WINDOW);
		assert!(events().contains(&Event::RevealsOpened { round: id, deadline: fresh }));
		run_to_block(deadline + 2);
		reveal_rm(id);
		assert_eq!(phase(id), Some(Phase::MmOffer));
	});
	build_and_execute(|| {
		// BDmm was about to agree in the last block; BDrm's reveal lands first in that block:
		// BDmm's agreement now fails, and it gets a fresh window to reveal instead.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		run_to_block(deadline);
		reveal_rm(id);
		assert_noop!(
			IntermediatedTrade::agree(RuntimeOrigin::signed(BD_MM), id, example_terms()),
			Error::<Test>::SelectionIsPublic
		);
		run_to_block(deadline + 1);
		reveal_mm(id);
		assert_eq!(phase(id), Some(Phase::MmOffer));
	});
	build_and_execute(|| {
		// The same after differing agreements.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let deadline = Rounds::<Test>::get(id).unwrap().deadline;
		assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, example_terms()));
		run_to_block(deadline);
		assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_MM), id, inflated_terms()));
		assert_eq!(Rounds::<Test>::get(id).unwrap().deadline, deadline + REVEAL_WINDOW);
	});
}

#[test]
fn a_client_consents_only_to_the_schedule_it_was_shown_and_cannot_block_its_dealer() {
	build_and_execute(|| {
		// BDrm commits an inflated demand for RM (RM would pay more than its schedule, or
		// forfeit its deposit by refusing later). RM was shown the honest report: its consent
		// names that report's hash and fails, so RM never binds itself.
		let id = open();
		assert_ok!(IntermediatedTrade::join_round(RuntimeOrigin::signed(BD_MM), id));
		let inflated = Report {
			schedule: ClientSchedule::Demand(DemandSchedule { choke_rate: int(12), slope: int(1) }),
			hurdle: int(0),
		};
		assert_ok!(IntermediatedTrade::commit(
			RuntimeOrigin::signed(BD_RM),
			id,
			commitment(id, BD_RM, &inflated, &SALT_RM)
		));
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(RM), id, rm_attest(id)),
			Error::<Test>::CommitmentMismatch
		);
		// A client cannot block its dealer either: it can only consent to the dealer's
		// commitment, never post one of its own, so its dealer is never left unable to commit.
		assert_ok!(IntermediatedTrade::commit(RuntimeOrigin::signed(BD_MM), id, mm_attest(id)));
		assert_noop!(
			IntermediatedTrade::consent(RuntimeOrigin::signed(MM), id, [7; 32]),
			Error::<Test>::CommitmentMismatch
		);
		// At the deadline the clients that did not consent end the round; they held nothing,
		// and both dealers get their deposits back.
		run_to_block(1 + COMMIT_WINDOW + 1);
		assert_eq!(phase(id), None);
		for who in [BD_RM, BD_MM, RM, MM] {
			assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
		}
	});
}

#[test]
fn agreed_terms_must_fit_the_stake_cap() {
	build_and_execute(|| {
		// Ten times the volume at the same rates: a joint profit of 125 EQ, above the 30 EQ cap
		// that sized every deposit.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let large = Terms { quantity: int(25), ..example_terms() };
		assert_noop!(
			IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, large),
			Error::<Test>::InvalidTerms
		);
	});
}

#[test]
fn a_dealer_that_agreed_is_not_the_one_that_missed_the_step() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		assert_ok!(IntermediatedTrade::agree(RuntimeOrigin::signed(BD_RM), id, example_terms()));
		run_to_block(1 + REVEAL_WINDOW + 1);
		assert_eq!(phase(id), None);
		assert_forfeited(&[BD_MM], CAP_DEPOSIT);
	});
}

#[test]
fn a_client_dispute_catches_colluding_dealers() {
	build_and_execute(|| {
		// Both dealers agree to terms that overcharge RM; RM disputes before accepting.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let false_terms = inflated_terms();
		agree_both(id, false_terms, false_terms);
		assert_eq!(phase(id), Some(Phase::MmOffer));
		System::reset_events();
		assert_ok!(IntermediatedTrade::dispute(RuntimeOrigin::signed(RM), id));
		assert_eq!(
			events(),
			vec![Event::Disputed { round: id, client: RM, deadline: 1 + REVEAL_WINDOW }]
		);
		reveal_rm(id);
		reveal_mm(id);
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Disputed,
			reason: AbortReason::FalseAgreement
		}));
		// Each dealer's deposit goes to the other side's client.
		assert_forfeited(&[BD_RM, BD_MM], CAP_DEPOSIT);
		assert_eq!(free(RM), ENDOWMENT + CAP_DEPOSIT);
	});
	build_and_execute(|| {
		// Dealers that do not reveal in a dispute both deviate.
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		agree_both(id, inflated_terms(), inflated_terms());
		assert_ok!(IntermediatedTrade::dispute(RuntimeOrigin::signed(MM), id));
		run_to_block(1 + REVEAL_WINDOW + 1);
		assert_forfeited(&[BD_RM, BD_MM], CAP_DEPOSIT);
	});
}

#[test]
fn a_frivolous_dispute_costs_the_client_its_deposit() {
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		let t = example_terms();
		agree_both(id, t, t);
		assert_ok!(IntermediatedTrade::offer(
			RuntimeOrigin::signed(BD_MM),
			id,
			t.quantity,
			t.mm_rate
		));
		assert_ok!(IntermediatedTrade::dispute(RuntimeOrigin::signed(MM), id));
		reveal_rm(id);
		reveal_mm(id);
		assert!(events().contains(&Event::RoundAborted {
			round: id,
			phase: Phase::Disputed,
			reason: AbortReason::FrivolousDispute
		}));
		assert_forfeited(&[MM], CAP_DEPOSIT);
	});
}

#[test]
fn dispute_checks_the_party_the_step_and_the_path() {
	build_and_execute(|| {
		// Terms from public reports: nothing to dispute.
		let id = drive_to(Some(Phase::MmOffer));
		assert_noop!(
			IntermediatedTrade::dispute(RuntimeOrigin::signed(RM), id),
			Error::<Test>::NothingToDispute
		);
	});
	build_and_execute(|| {
		let id = bound_round(rm_report(int(0)), mm_report(int(0)));
		assert_noop!(
			IntermediatedTrade::dispute(RuntimeOrigin::signed(RM), id),
			Error::<Test>::WrongStep
		);
		let t = example_terms();
		agree_both(id, t, t);
		for who in [BD_RM, BD_MM, STRANGER] {
			assert_noop!(
				IntermediatedTrade::dispute(RuntimeOrigin::signed(who), id),
				Error::<Test>::WrongParty
			);
		}
		assert_noop!(IntermediatedTrade::dispute(RuntimeOrigin::none(), id), BadOrigin);
		assert_noop!(
			IntermediatedTrade::dispute(RuntimeOrigin::signed(RM), 9),
			Error::<Test>::UnknownRound
		);
		assert_ok!(IntermediatedTrade::offer(
			RuntimeOrigin::signed(BD_MM),
			id,
			t.quantity,
			t.mm_rate
		));
		assert_ok!(IntermediatedTrade::accept(
			RuntimeOrigin::signed(MM),
			id,
			t.quantity,
			t.mm_rate
		));
		// MM accepted: it can no longer dispute; RM still can until it accepts.
		assert_noop!(
			IntermediatedTrade::dispute(RuntimeOrigin::signed(MM), id),
			Error::<Test>::WrongStep
		);
		assert_ok!(IntermediatedTrade::dispute(RuntimeOrigin::signed(RM), id));
		assert_eq!(phase(id), Some(Phase::Disputed));
	});
}

mod properties {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]

		/// Any crossing pair of schedules settles through the full flow with the contract's
		/// terms, or selects no trade and gives every deposit back; the payments add up to RM's
		/// interest, nothing stays held and no token is created or destroyed.
		#[test]
		fn every_round_settles_or_refunds_and_conserves_tokens(
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
					// No trade: the round is gone, with its reason, and every deposit is back.
					prop_assert_eq!(phase(id), None);
					let no_trade = matches!(events().last(), Some(Event::NoTradeSelected { .. }));
					prop_assert!(no_trade, "no trade has its event");
					for who in [BD_RM, BD_MM, RM, MM] {
						prop_assert_eq!((free(who), held(who)), (ENDOWMENT, 0));
					}
					return Ok(());
				};
				prop_assert!(t.spread() >= ratio(h, 100), "the hurdle holds exactly");
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
