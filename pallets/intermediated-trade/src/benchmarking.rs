//! Benchmarks of every call in its costliest path and of the deadline hook, in the number of
//! rounds due `n`, for `frame-omni-bencher` to turn into `weights.rs`.

use super::*;
use crate::pallet::{CongestedBlocks, DeadlineCursor, DeadlineIndex, Rounds};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get, Hooks};
use frame_system::RawOrigin;
use intermediated_trade_primitives::FixedU128;
use sp_runtime::{FixedPointNumber, Saturating};

const SEED: u32 = 0;
const SALT_RM: Salt = [1; 32];
const SALT_MM: Salt = [2; 32];

/// The stake cap of every benchmarked round: 1 000 whole tokens (the worked example's stake is
/// 12.5).
fn stake_cap<T: Config>() -> BalanceOf<T> {
	T::BalanceUnit::get().saturating_mul(1_000u32.into())
}

/// An account with plenty of funds for deposits and interest.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let plenty = T::BaseDeposit::get()
		.saturating_add(T::RoundDeposit::get())
		.saturating_add(stake_cap::<T>())
		.saturating_mul(1_000u32.into());
	T::Currency::set_balance(&who, plenty);
	who
}

/// The four participants of round number `index`.
fn parties<T: Config>(index: u32) -> [T::AccountId; 4] {
	[
		funded::<T>("rm_dealer", index),
		funded::<T>("mm_dealer", index),
		funded::<T>("rm", index),
		funded::<T>("mm", index),
	]
}

/// The worked example: RM's demand `S(r) = 10 − r`.
fn rm_report() -> Report {
	Report {
		schedule: ClientSchedule::Demand(DemandSchedule {
			choke_rate: FixedU128::saturating_from_integer(10u32),
			slope: FixedU128::saturating_from_integer(1u32),
		}),
		hurdle: FixedU128::saturating_from_integer(0u32),
	}
}

/// The worked example: MM's supply `D(r) = r`.
fn mm_report() -> Report {
	Report {
		schedule: ClientSchedule::Supply(SupplySchedule {
			reservation_rate: FixedU128::saturating_from_integer(0u32),
			slope: FixedU128::saturating_from_integer(1u32),
		}),
		hurdle: FixedU128::saturating_from_integer(0u32),
	}
}

/// Opens round number `index` with fresh participants.
fn open<T: Config>(index: u32) -> (RoundId, [T::AccountId; 4]) {
	let [rm_dealer, mm_dealer, rm, mm] = parties::<T>(index);
	let id = NextRoundId::<T>::get();
	Pallet::<T>::do_open_round(
		rm_dealer.clone(),
		mm_dealer.clone(),
		rm.clone(),
		mm.clone(),
		stake_cap::<T>(),
	)
	.expect("room for the round");
	(id, [rm_dealer, mm_dealer, rm, mm])
}

/// Opens round number `index` and takes it to `phase` (at most [`Phase::DealerAcceptance`]);
/// in [`Phase::Committing`], everything but MM's consent is done.
fn round_at<T: Config>(index: u32, phase: Phase) -> (RoundId, [T::AccountId; 4]) {
	let (id, parties) = open::<T>(index);
	let [rm_dealer, mm_dealer, rm, mm] = parties.clone();
	let reached = |id| Rounds::<T>::get(id).map(|round| round.phase) == Some(phase);
	if reached(id) {
		return (id, parties);
	}
	Pallet::<T>::do_join_round(mm_dealer.clone(), id).expect("joins");
	let rm_commitment = Pallet::<T>::commitment(id, &rm_dealer, &rm_report(), &SALT_RM);
	let mm_commitment = Pallet::<T>::commitment(id, &mm_dealer, &mm_report(), &SALT_MM);
	Pallet::<T>::do_commit(rm_dealer.clone(), id, rm_commitment).expect("commits");
	Pallet::<T>::do_commit(mm_dealer.clone(), id, mm_commitment).expect("commits");
	Pallet::<T>::do_consent(rm.clone(), id, rm_commitment).expect("consents");
	if reached(id) {
		return (id, parties);
	}
	Pallet::<T>::do_consent(mm.clone(), id, mm_commitment).expect("consents");
	if reached(id) {
		return (id, parties);
	}
	Pallet::<T>::do_reveal(rm_dealer.clone(), id, rm_report(), SALT_RM).expect("reveals");
	Pallet::<T>::do_reveal(mm_dealer.clone(), id, mm_report(), SALT_MM).expect("reveals");
	let terms = Rounds::<T>::get(id).and_then(|round| round.terms).expect("a trade");
	let steps = [
		(true, mm_dealer.clone(), terms.mm_rate),
		(false, mm.clone(), terms.mm_rate),
		(true, rm_dealer.clone(), terms.rm_rate),
		(false, rm.clone(), terms.rm_rate),
		(true, rm_dealer.clone(), terms.bd_rate),
	];
	for (is_offer, who, rate) in steps {
		if reached(id) {
			break;
		}
		if is_offer {
			Pallet::<T>::do_offer(who, id, terms.quantity, rate).expect("offers");
		} else {
			Pallet::<T>::do_accept(who, id, terms.quantity, rate).expect("accepts");
		}
	}
	assert!(reached(id));
	(id, parties)
}

/// The worked example's terms: `Q* = 2.5`, `r_mm = 2.5`, `r_rm = 7.5`, `r_bd = 5`.
fn example_terms() -> Terms {
	let ratio = |n: u32, d: u32| FixedU128::saturating_from_rational(n, d);
	Terms {
		quantity: ratio(5, 2),
		mm_rate: ratio(5, 2),
		rm_rate: ratio(15, 2),
		bd_rate: ratio(5, 1),
	}
}

fn terms_of<T: Config>(id: RoundId) -> Terms {
	Rounds::<T>::get(id).and_then(|round| round.terms).expect("terms")
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn open_round() {
		let [rm_dealer, mm_dealer, rm, mm] = parties::<T>(0);
		let id = NextRoundId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(rm_dealer), mm_dealer, rm, mm, stake_cap::<T>());

		assert!(Rounds::<T>::contains_key(id));
	}

	#[benchmark]
	fn join_round() {
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::Joining);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::Committing));
	}

	/// The last consent: the client's deposit is held and the reveals open.
	#[benchmark]
	fn consent() {
		let (id, [_, mm_dealer, _, mm]) = round_at::<T>(0, Phase::Committing);
		let commitment = Pallet::<T>::commitment(id, &mm_dealer, &mm_report(), &SALT_MM);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm), id, commitment);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::Revealing));
	}

	/// BDmm's commitment (after BDrm's and RM's consent: a commitment never opens the reveals,
	/// as each client consents after its dealer committed).
	#[benchmark]
	fn commit() {
		let (id, [rm_dealer, mm_dealer, rm, _]) = open::<T>(0);
		Pallet::<T>::do_join_round(mm_dealer.clone(), id).expect("joins");
		let rm_commitment = Pallet::<T>::commitment(id, &rm_dealer, &rm_report(), &SALT_RM);
		Pallet::<T>::do_commit(rm_dealer, id, rm_commitment).expect("commits");
		Pallet::<T>::do_consent(rm, id, rm_commitment).expect("consents");
		let commitment = Pallet::<T>::commitment(id, &mm_dealer, &mm_report(), &SALT_MM);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, commitment);

		assert_eq!(Rounds::<T>::get(id).and_then(|round| round.mm_commitment), Some(commitment));
	}

	/// The second reveal: the contract selects the trade, lowers the four deposits to the
	/// stake and sends its instructions.
	#[benchmark]
	fn reveal() {
		let (id, [rm_dealer, mm_dealer, _, _]) = round_at::<T>(0, Phase::Revealing);
		Pallet::<T>::do_reveal(rm_dealer, id, rm_report(), SALT_RM).expect("reveals");

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, mm_report(), SALT_MM);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::MmOffer));
	}

	/// A reveal that does not match its commitment: the deposit is split between the other
	/// side's two participants and the round ends.
	#[benchmark]
	fn reveal_deviation() {
		let (id, [rm_dealer, mm_dealer, _, _]) = round_at::<T>(0, Phase::Revealing);
		Pallet::<T>::do_reveal(rm_dealer, id, rm_report(), SALT_RM).expect("reveals");

		#[extrinsic_call]
		reveal(RawOrigin::Signed(mm_dealer), id, mm_report(), SALT_RM);

		assert!(!Rounds::<T>::contains_key(id));
	}

	/// The second agreement: the agreed terms become the instructions.
	#[benchmark]
	fn agree() {
		let (id, [rm_dealer, mm_dealer, _, _]) = round_at::<T>(0, Phase::Revealing);
		let terms = example_terms();
		Pallet::<T>::do_agree(rm_dealer, id, terms).expect("agrees");

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, terms);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::MmOffer));
	}

	/// RM disputes agreed terms at its acceptance.
	#[benchmark]
	fn dispute() {
		let (id, [rm_dealer, mm_dealer, rm, mm]) = round_at::<T>(0, Phase::Revealing);
		let terms = example_terms();
		Pallet::<T>::do_agree(rm_dealer.clone(), id, terms).expect("agrees");
		Pallet::<T>::do_agree(mm_dealer.clone(), id, terms).expect("agrees");
		Pallet::<T>::do_offer(mm_dealer, id, terms.quantity, terms.mm_rate).expect("offers");
		Pallet::<T>::do_accept(mm, id, terms.quantity, terms.mm_rate).expect("accepts");
		Pallet::<T>::do_offer(rm_dealer, id, terms.quantity, terms.rm_rate).expect("offers");

		#[extrinsic_call]
		_(RawOrigin::Signed(rm), id);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::Disputed));
	}

	/// The second reveal of a dispute over false agreed terms: both dealers forfeit.
	#[benchmark]
	fn reveal_dispute() {
		let (id, [rm_dealer, mm_dealer, rm, _]) = round_at::<T>(0, Phase::Revealing);
		// r_rm = 9 instead of 7.5: r_bd = (9 + 2.5)/2 = 5.75.
		let terms = Terms {
			rm_rate: FixedU128::saturating_from_integer(9u32),
			bd_rate: FixedU128::saturating_from_rational(23u32, 4u32),
			..example_terms()
		};
		Pallet::<T>::do_agree(rm_dealer.clone(), id, terms).expect("agrees");
		Pallet::<T>::do_agree(mm_dealer.clone(), id, terms).expect("agrees");
		Pallet::<T>::do_dispute(rm, id).expect("disputes");
		Pallet::<T>::do_reveal(rm_dealer, id, rm_report(), SALT_RM).expect("reveals");

		#[extrinsic_call]
		reveal(RawOrigin::Signed(mm_dealer), id, mm_report(), SALT_MM);

		assert!(!Rounds::<T>::contains_key(id));
	}

	#[benchmark]
	fn offer() {
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::MmOffer);
		let terms = terms_of::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, terms.quantity, terms.mm_rate);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::MmAcceptance));
	}

	/// The last acceptance: the round settles (three payments, five releases, removal).
	#[benchmark]
	fn accept() {
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::DealerAcceptance);
		let terms = terms_of::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, terms.quantity, terms.bd_rate);

		assert!(!Rounds::<T>::contains_key(id));
	}

	/// The hook handling `n` deadlines of one block, each a round missing its last step (the
	/// costliest abort: BDmm's deposit split two ways, three deposits, the round deposit and
	/// RM's interest released).
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let mut ids = alloc::vec::Vec::new();
		for index in 0..n {
			ids.push(round_at::<T>(index, Phase::DealerAcceptance).0);
		}
		let due = frame_system::Pallet::<T>::block_number().saturating_add(1_000u32.into());
		for &id in &ids {
			let round = Rounds::<T>::get(id).expect("in progress");
			DeadlineIndex::<T>::remove(round.deadline, id);
			DeadlineIndex::<T>::insert(due, id, ());
			Rounds::<T>::mutate(id, |round| {
				if let Some(round) = round {
					round.deadline = due;
				}
			});
		}
		DeadlineCursor::<T>::put(due);
		let now = due.saturating_add(1u32.into());

		#[block]
		{
			Pallet::<T>::do_on_initialize(now);
		}

		for id in ids {
			assert!(!Rounds::<T>::contains_key(id));
		}
	}

	/// The hook walking `e` blocks without deadlines (catching up after a pause, or the one
	/// block it checks every block).
	#[benchmark]
	fn on_initialize_empty(e: Linear<1, { T::MaxDeadlinesPerBlock::get() }>) {
		let now = frame_system::Pallet::<T>::block_number().saturating_add(1_000u32.into());
		let start = now.saturating_sub(e.into());
		DeadlineCursor::<T>::put(start);

		#[block]
		{
			Pallet::<T>::do_on_initialize(now);
		}

		assert_eq!(DeadlineCursor::<T>::get(), now);
	}

	/// The congestion count after a block, counted.
	#[benchmark]
	fn on_finalize() {
		let before = CongestedBlocks::<T>::get();
		frame_system::BlockWeight::<T>::mutate(|used| {
			let limit = <T as frame_system::Config>::BlockWeights::get().max_block;
			used.set(limit, frame_support::dispatch::DispatchClass::Normal)
		});

		#[block]
		{
			Pallet::<T>::on_finalize(frame_system::Pallet::<T>::block_number());
		}

		assert_eq!(CongestedBlocks::<T>::get(), before.saturating_add(1));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
