//! Benchmarks of every call in its costliest path and of the deadline hook, in the number of
//! expired rounds `n`, for `frame-omni-bencher` to turn into `weights.rs`.

use super::*;
use crate::pallet::{Deadlines, Rounds};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get, Hooks};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use intermediated_trade_primitives::FixedU128;
use sp_runtime::{FixedPointNumber, Saturating};

const SEED: u32 = 0;
const SALT_RM: Salt = [1; 32];
const SALT_MM: Salt = [2; 32];

/// An account with plenty of funds for deposits and interest.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let plenty = T::DealerDeposit::get()
		.saturating_add(T::RoundDeposit::get())
		.saturating_add(T::BalanceUnit::get())
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
	let commitment = Pallet::<T>::commitment(&rm_dealer, &rm_report(), &SALT_RM);
	Pallet::<T>::do_open_round(
		rm_dealer.clone(),
		mm_dealer.clone(),
		rm.clone(),
		mm.clone(),
		commitment,
	)
	.expect("room for the round");
	(id, [rm_dealer, mm_dealer, rm, mm])
}

/// Opens round number `index` and takes it to `phase` (at most [`Phase::DealerAcceptance`]).
fn round_at<T: Config>(index: u32, phase: Phase) -> (RoundId, [T::AccountId; 4]) {
	let (id, parties) = open::<T>(index);
	let [rm_dealer, mm_dealer, rm, mm] = parties.clone();
	let reached = |id| Rounds::<T>::get(id).map(|round| round.phase) == Some(phase);
	if reached(id) {
		return (id, parties);
	}
	let commitment = Pallet::<T>::commitment(&mm_dealer, &mm_report(), &SALT_MM);
	Pallet::<T>::do_join_round(mm_dealer.clone(), id, commitment).expect("joins");
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

/// Fills the index with `count` other rounds (so that every call decodes a long index).
fn other_rounds<T: Config>(count: u32) {
	for index in 0..count {
		open::<T>(index.saturating_add(1_000));
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
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let [rm_dealer, mm_dealer, rm, mm] = parties::<T>(0);
		let commitment = Pallet::<T>::commitment(&rm_dealer, &rm_report(), &SALT_RM);
		let id = NextRoundId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(rm_dealer), mm_dealer, rm, mm, commitment);

		assert!(Rounds::<T>::contains_key(id));
	}

	#[benchmark]
	fn join_round() {
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::Joining);
		let commitment = Pallet::<T>::commitment(&mm_dealer, &mm_report(), &SALT_MM);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, commitment);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::Revealing));
	}

	/// The second reveal: the contract selects the trade and sends its instructions.
	#[benchmark]
	fn reveal() {
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let (id, [rm_dealer, mm_dealer, _, _]) = round_at::<T>(0, Phase::Revealing);
		Pallet::<T>::do_reveal(rm_dealer, id, rm_report(), SALT_RM).expect("reveals");

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, mm_report(), SALT_MM);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::MmOffer));
	}

	/// A reveal that does not match its commitment: the deposit is split three ways and the
	/// round ends.
	#[benchmark]
	fn reveal_deviation() {
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let (id, [rm_dealer, mm_dealer, _, _]) = round_at::<T>(0, Phase::Revealing);
		Pallet::<T>::do_reveal(rm_dealer, id, rm_report(), SALT_RM).expect("reveals");

		#[extrinsic_call]
		reveal(RawOrigin::Signed(mm_dealer), id, mm_report(), SALT_RM);

		assert!(!Rounds::<T>::contains_key(id));
	}

	#[benchmark]
	fn offer() {
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::MmOffer);
		let terms = terms_of::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, terms.quantity, terms.mm_rate);

		assert_eq!(Rounds::<T>::get(id).map(|round| round.phase), Some(Phase::MmAcceptance));
	}

	/// The last acceptance: the round settles (three payments, three releases, removal).
	#[benchmark]
	fn accept() {
		other_rounds::<T>(T::MaxRounds::get().saturating_sub(1));
		let (id, [_, mm_dealer, _, _]) = round_at::<T>(0, Phase::DealerAcceptance);
		let terms = terms_of::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(mm_dealer), id, terms.quantity, terms.bd_rate);

		assert!(!Rounds::<T>::contains_key(id));
	}

	/// The hook with [`Config::MaxRounds`] rounds in progress, `n` of which missed the last
	/// step (the costliest abort: BDmm's deposit split three ways, BDrm's deposit, the round
	/// deposit and RM's interest released).
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxRounds::get() }>) {
		let mut ids = alloc::vec::Vec::new();
		for index in 0..T::MaxRounds::get() {
			ids.push(round_at::<T>(index, Phase::DealerAcceptance).0);
		}
		let far: BlockNumberFor<T> = 1_000_000u32.into();
		for &id in ids.iter().skip(n as usize) {
			Rounds::<T>::mutate(id, |round| {
				if let Some(round) = round {
					round.deadline = far;
				}
			});
			Deadlines::<T>::mutate(|deadlines| {
				for entry in deadlines.iter_mut().filter(|(round_id, _)| *round_id == id) {
					entry.1 = far;
				}
			});
		}
		let now = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::StepWindow::get())
			.saturating_add(1u32.into());

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(
			Deadlines::<T>::decode_len().unwrap_or_default() as u32,
			T::MaxRounds::get().saturating_sub(n)
		);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
