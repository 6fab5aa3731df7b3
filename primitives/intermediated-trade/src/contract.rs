//! The contract's selection: the joint-profit maximising volume `Q*` subject to the hurdles.
//!
//! With linear schedules, `S⁻¹(Q) = s₀ − Q/σ_s` and `D⁻¹(Q) = d₀ + Q/σ_d`, the spread is
//! `S⁻¹(Q) − D⁻¹(Q) = A − Q/σ` with `A = s₀ − d₀` and `1/σ = 1/σ_s + 1/σ_d`, and the dealers'
//! joint profit `(A − Q/σ)·Q` is a concave parabola:
//!
//! - unconstrained, it is largest at `Q = A·σ/2`, where the spread is `A/2`;
//! - the hurdle `H` (the larger of the two dealers' least spreads) requires `A − Q/σ ≥ H`, that
//!   is `Q ≤ (A − H)·σ`; the parabola increases up to its vertex, so the constrained maximum is
//!   `Q* = min(A·σ/2, (A − H)·σ)`;
//! - there is no trade when the schedules do not cross (`A ≤ 0`) or the hurdle leaves no
//!   positive volume (`H ≥ A`).
//!
//! Then `r_rm = S⁻¹(Q*)`, `r_mm = D⁻¹(Q*)` and `r_bd = (r_rm + r_mm)/2`. `Q*` is rounded down,
//! `r_mm` up and `r_rm` down (no client is asked to trade beyond its schedule). Rounding the
//! rates could leave the realised spread a few units of 10⁻¹⁸ below a binding hurdle; `Q*` is
//! then lowered until the spread meets the hurdle exactly, so `r_rm − r_mm ≥ H` always holds.
//!
//! [`max_joint_profit`] is what is at stake in a round: `A²·σ/4`, the most the dealers could
//! earn together on any volume. No deviation by one side can gain more than that, which is why
//! the pallet sizes the deposits with it.

use crate::{
	fixed::{mul, mul_div, signed},
	schedule::{DemandSchedule, SupplySchedule},
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{CheckedAdd, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedI128, FixedPointNumber, FixedU128, Rounding,
};

/// The trade the contract selects.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Terms {
	/// `Q*`: the volume of every leg, in units of cash.
	pub quantity: FixedU128,
	/// `r_rm = S⁻¹(Q*)`: the rate RM pays BDrm.
	pub rm_rate: FixedU128,
	/// `r_mm = D⁻¹(Q*)`: the rate BDmm pays MM.
	pub mm_rate: FixedU128,
	/// `r_bd = (r_rm + r_mm)/2`: the rate BDrm pays BDmm (rounded down).
	pub bd_rate: FixedU128,
}

impl Terms {
	/// `rate · Q*`: the interest of a leg at `rate`, in tokens, rounded down; `None` on
	/// overflow.
	pub fn interest(&self, rate: FixedU128) -> Option<FixedU128> {
		mul(rate, self.quantity, Rounding::Down)
	}

	/// `r_rm − r_mm`, the spread the dealers share.
	pub fn spread(&self) -> FixedU128 {
		self.rm_rate.saturating_sub(self.mm_rate)
	}

	/// Whether the terms could be a selection: a positive volume, `r_mm ≤ r_rm ≤ MAX_RATE`
	/// and `r_bd` the midpoint rounded down, as [`select`] makes them. Terms agreed off-chain
	/// are checked with this before the chain uses them.
	pub fn is_well_formed(&self) -> bool {
		let midpoint = self.rm_rate.checked_add(&self.mm_rate).and_then(|sum| {
			mul_div(sum, FixedU128::one(), FixedU128::saturating_from_integer(2u32), Rounding::Down)
		});
		!self.quantity.is_zero()
			&& self.mm_rate <= self.rm_rate
			&& self.rm_rate <= crate::schedule::MAX_RATE
			&& midpoint == Some(self.bd_rate)
			&& self.interest(self.rm_rate).is_some()
	}
}

/// Why the contract selects no trade.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum NoTrade {
	/// RM's choke rate is not above MM's reservation rate: no volume has a positive spread.
	SchedulesDoNotCross,
	/// The larger hurdle is at least the largest spread `A`: no positive volume meets it.
	HurdleNotMet,
	/// The selected volume rounds to zero (or the rounded rates cross).
	VolumeTooSmall,
	/// An intermediate result overflowed; impossible for validated schedules.
	Overflow,
	/// What is at stake ([`max_joint_profit`]) exceeds the cap the round declared, so the
	/// deposits would not cover it (checked by the pallet, not by [`select`]).
	StakeAboveCap,
}

/// The contract's selection for MM's `supply`, RM's `demand` and the larger of the dealers'
/// hurdles, `hurdle`.
pub fn select(
	supply: &SupplySchedule,
	demand: &DemandSchedule,
	hurdle: FixedU128,
) -> Result<Terms, NoTrade> {
	let widest = demand
		.choke_rate
		.checked_sub(&supply.reservation_rate)
		.filter(|spread| !spread.is_zero())
		.ok_or(NoTrade::SchedulesDoNotCross)?;
	let room =
		widest.checked_sub(&hurdle).filter(|room| !room.is_zero()).ok_or(NoTrade::HurdleNotMet)?;
	// σ = σ_s·σ_d/(σ_s + σ_d), the slope of volume in the spread.
	let sigma = mul_div(
		demand.slope,
		supply.slope,
		demand.slope.checked_add(&supply.slope).ok_or(NoTrade::Overflow)?,
		Rounding::Down,
	)
	.ok_or(NoTrade::Overflow)?;
	let two = FixedU128::saturating_from_integer(2u32);
	let vertex = mul_div(widest, sigma, two, Rounding::Down).ok_or(NoTrade::Overflow)?;
	let hurdle_bound = mul(room, sigma, Rounding::Down).ok_or(NoTrade::Overflow)?;
	let quantity = vertex.min(hurdle_bound);
	if quantity.is_zero() {
		return Err(NoTrade::VolumeTooSmall);
	}
	let (mut quantity, mut mm_rate, mut rm_rate) = (quantity, FixedU128::zero(), FixedU128::zero());
	// Rounding the rates may cost the spread a few units of 10⁻¹⁸: lower Q until the hurdle is
	// met exactly. Lowering Q by δ widens the spread by δ/σ, less two units of rounding; one
	// correction suffices, the second pass only confirms it.
	for _ in 0..3 {
		mm_rate = supply.inverse(quantity).ok_or(NoTrade::Overflow)?;
		rm_rate = demand.inverse(quantity).ok_or(NoTrade::Overflow)?;
		let spread = rm_rate.saturating_sub(mm_rate);
		if rm_rate < mm_rate {
			return Err(NoTrade::VolumeTooSmall);
		}
		if spread >= hurdle {
			break;
		}
		let deficit = hurdle
			.saturating_sub(spread)
			.checked_add(&FixedU128::from_inner(2))
			.ok_or(NoTrade::Overflow)?;
		let cut = mul(deficit, sigma, Rounding::Up)
			.and_then(|cut| cut.checked_add(&FixedU128::from_inner(1)))
			.ok_or(NoTrade::Overflow)?;
		quantity =
			quantity.checked_sub(&cut).filter(|q| !q.is_zero()).ok_or(NoTrade::VolumeTooSmall)?;
	}
	if rm_rate.saturating_sub(mm_rate) < hurdle {
		return Err(NoTrade::HurdleNotMet);
	}
	let bd_rate = mul_div(
		rm_rate.checked_add(&mm_rate).ok_or(NoTrade::Overflow)?,
		FixedU128::one(),
		two,
		Rounding::Down,
	)
	.ok_or(NoTrade::Overflow)?;
	Ok(Terms { quantity, rm_rate, mm_rate, bd_rate })
}

/// What is at stake in a round: the largest joint profit the dealers could earn on any volume,
/// `max_Q (S⁻¹(Q) − D⁻¹(Q))·Q = A²·σ/4`, in tokens, rounded up; zero when the schedules do not
/// cross; `None` on overflow. It bounds what one side can gain by deviating once the schedules
/// are known (trading off the contract at any volume, or walking away from it).
pub fn max_joint_profit(supply: &SupplySchedule, demand: &DemandSchedule) -> Option<FixedU128> {
	let widest = demand.choke_rate.saturating_sub(supply.reservation_rate);
	if widest.is_zero() {
		return Some(FixedU128::zero());
	}
	let sigma = mul_div(
		demand.slope,
		supply.slope,
		demand.slope.checked_add(&supply.slope)?,
		Rounding::Up,
	)?;
	let square = mul(widest, widest, Rounding::Up)?;
	mul_div(square, sigma, FixedU128::saturating_from_integer(4u32), Rounding::Up)
}

/// The dealers' joint profit when both clients trade `quantity` on their schedules:
/// `(S⁻¹(Q) − D⁻¹(Q))·Q`, negative where the schedules have not crossed; `None` on overflow.
pub fn joint_profit(
	supply: &SupplySchedule,
	demand: &DemandSchedule,
	quantity: FixedU128,
) -> Option<FixedI128> {
	let spread =
		signed(demand.inverse(quantity)?)?.checked_sub(&signed(supply.inverse(quantity)?)?)?;
	spread.checked_mul(&signed(quantity)?)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]

	use super::*;
	use crate::{
		equilibria::inventory_free_upper_bound,
		testing::{example, int, ratio},
	};
	use proptest::prelude::*;

	#[test]
	fn the_worked_example() {
		let (supply, demand) = example();
		let terms = select(&supply, &demand, FixedU128::zero()).expect("a trade");
		assert_eq!(terms.quantity, ratio(5, 2));
		assert_eq!(terms.mm_rate, ratio(5, 2));
		assert_eq!(terms.rm_rate, ratio(15, 2));
		assert_eq!(terms.bd_rate, int(5));
		// Each dealer earns half the spread on Q*: (7.5 − 2.5)/2 · 2.5 = 6.25.
		assert_eq!(terms.interest(terms.bd_rate.saturating_sub(terms.mm_rate)), Some(ratio(25, 4)));
		assert_eq!(terms.interest(terms.rm_rate.saturating_sub(terms.bd_rate)), Some(ratio(25, 4)));
		assert_eq!(
			joint_profit(&supply, &demand, terms.quantity),
			Some(FixedI128::from_rational(25, 2))
		);
	}

	#[test]
	fn a_binding_hurdle_lowers_the_volume() {
		let (supply, demand) = example();
		// A spread of at least 6: Q ≤ (10 − 6)/2 = 2, so r_mm = 2, r_rm = 8, r_bd = 5.
		let terms = select(&supply, &demand, int(6)).expect("a trade");
		assert_eq!(
			terms,
			Terms { quantity: int(2), mm_rate: int(2), rm_rate: int(8), bd_rate: int(5) }
		);
		// A hurdle below A/2 = 5 does not bind.
		assert_eq!(select(&supply, &demand, int(4)).map(|t| t.quantity), Ok(ratio(5, 2)));
	}

	#[test]
	fn no_trade_when_the_hurdle_is_not_met_or_schedules_do_not_cross() {
		let (supply, demand) = example();
		assert_eq!(select(&supply, &demand, int(10)), Err(NoTrade::HurdleNotMet));
		assert_eq!(select(&supply, &demand, int(11)), Err(NoTrade::HurdleNotMet));
		let dear = SupplySchedule { reservation_rate: int(10), ..supply };
		assert_eq!(select(&dear, &demand, FixedU128::zero()), Err(NoTrade::SchedulesDoNotCross));
		let dearer = SupplySchedule { reservation_rate: int(12), ..supply };
		assert_eq!(select(&dearer, &demand, FixedU128::zero()), Err(NoTrade::SchedulesDoNotCross));
		let tiny = SupplySchedule {
			reservation_rate: FixedU128::from_inner(10 * FixedU128::DIV - 1),
			..supply
		};
		assert_eq!(select(&tiny, &demand, FixedU128::zero()), Err(NoTrade::VolumeTooSmall));
	}

	#[test]
	fn the_spread_never_falls_below_a_binding_hurdle() {
		// Thirds and sevenths make every rate inexact, so that rounding bites.
		let mut binding = 0;
		for s0 in 1..=30u128 {
			for ss in 1..=6u128 {
				for sd in 1..=6u128 {
					for h in 1..=12u128 {
						let supply =
							SupplySchedule { reservation_rate: ratio(1, 7), slope: ratio(ss, 3) };
						let demand =
							DemandSchedule { choke_rate: ratio(s0, 3), slope: ratio(sd, 7) };
						let hurdle = ratio(h, 9);
						if let Ok(terms) = select(&supply, &demand, hurdle) {
							binding += usize::from(terms.spread() < hurdle + ratio(1, 1_000_000));
							assert!(
								terms.spread() >= hurdle,
								"{supply:?} {demand:?} {hurdle:?}: {terms:?}"
							);
						}
					}
				}
			}
		}
		assert!(binding > 100, "only {binding} rounds with a binding hurdle");
	}

	/// Small schedules with rational parameters: rates up to 100, slopes in [0.01, 100].
	fn schedules() -> impl Strategy<Value = (SupplySchedule, DemandSchedule, FixedU128)> {
		(0u128..=10_000, 1u128..=10_000, 0u128..=10_000, 1u128..=10_000, 0u128..=10_000).prop_map(
			|(d0, sd, s0, ss, h)| {
				(
					SupplySchedule { reservation_rate: ratio(d0, 100), slope: ratio(sd, 100) },
					DemandSchedule { choke_rate: ratio(s0, 100), slope: ratio(ss, 100) },
					ratio(h, 200),
				)
			},
		)
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(512))]

		/// Q* is at least as profitable as every volume on a 2 000-point grid that meets the
		/// hurdle (a brute-force search), and the terms are consistent.
		#[test]
		fn q_star_maximises_joint_profit((supply, demand, hurdle) in schedules()) {
			let Ok(terms) = select(&supply, &demand, hurdle) else {
				// No trade: then no positive volume meets the hurdle with a positive spread.
				let widest = demand.choke_rate.saturating_sub(supply.reservation_rate);
				prop_assert!(widest <= hurdle || widest.into_inner() < 1_000);
				return Ok(());
			};
			let best = joint_profit(&supply, &demand, terms.quantity).expect("no overflow");
			// Every feasible volume up to where the schedules cross.
			let cross = demand.demand_at(supply.reservation_rate).expect("no overflow");
			let tolerance = FixedI128::from_inner(1_000_000_000); // 10⁻⁹
			for step in 0..=2_000u128 {
				let q = FixedU128::from_inner(cross.into_inner() / 2_000 * step);
				let spread = demand.inverse(q).unwrap().saturating_sub(supply.inverse(q).unwrap());
				if spread < hurdle || spread.is_zero() {
					continue;
				}
				let profit = joint_profit(&supply, &demand, q).expect("no overflow");
				prop_assert!(best + tolerance >= profit, "Q* = {:?} earns {:?} < {:?} at Q = {:?}", terms.quantity, best, profit, q);
			}
			// The terms: both clients trade Q* on their schedules, r_bd is the midpoint, the
			// hurdle holds (up to rounding) and Q* is an uncoordinated equilibrium too.
			prop_assert!(terms.spread() >= hurdle, "spread {:?} below the hurdle {:?}", terms.spread(), hurdle);
			let stake = max_joint_profit(&supply, &demand).expect("no overflow");
			prop_assert!(FixedI128::from_inner(stake.into_inner() as i128) >= best);
			prop_assert!(terms.rm_rate >= terms.bd_rate && terms.bd_rate >= terms.mm_rate);
			prop_assert!(terms.bd_rate.into_inner() * 2 + 1 >= terms.rm_rate.into_inner() + terms.mm_rate.into_inner());
			let supplied = supply.supply_at(terms.mm_rate).unwrap();
			let demanded = demand.demand_at(terms.rm_rate).unwrap();
			let slack = FixedU128::from_inner(1_000_000);
			prop_assert!(supplied + slack >= terms.quantity && supplied <= terms.quantity + slack);
			prop_assert!(demanded + slack >= terms.quantity && demanded <= terms.quantity + slack);
			let upper = inventory_free_upper_bound(&supply, &demand).unwrap();
			prop_assert!(terms.quantity <= upper + slack);
		}

		/// Every selection is well formed.
		#[test]
		fn selections_are_well_formed((supply, demand, hurdle) in schedules()) {
			if let Ok(terms) = select(&supply, &demand, hurdle) {
				prop_assert!(terms.is_well_formed(), "{:?}", terms);
				let off = Terms { bd_rate: terms.bd_rate.saturating_add(FixedU128::from_inner(1)), ..terms };
				prop_assert!(!off.is_well_formed());
			}
		}

		/// Whatever the input, even unvalidated, selection never panics.
		#[test]
		fn selection_never_panics(a in any::<u128>(), b in any::<u128>(), c in any::<u128>(), d in any::<u128>(), h in any::<u128>()) {
			let supply = SupplySchedule { reservation_rate: FixedU128::from_inner(a), slope: FixedU128::from_inner(b) };
			let demand = DemandSchedule { choke_rate: FixedU128::from_inner(c), slope: FixedU128::from_inner(d) };
			let _ = select(&supply, &demand, FixedU128::from_inner(h));
			let _ = joint_profit(&supply, &demand, FixedU128::from_inner(h));
			let _ = inventory_free_upper_bound(&supply, &demand);
		}
	}
}
