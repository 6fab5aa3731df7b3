//! The dealers' profits, and the multiple equilibria the contract resolves.
//!
//! Without the contract each dealer sets its own client's rate: BDmm offers MM `r_mm`, BDrm
//! offers RM `r_rm`. MM then supplies `D(r_mm)`, RM demands `S(r_rm)`, the volume traded is
//! `Q = min(D, S)`, the dealers trade with each other at `r_bd = (r_rm + r_mm)/2`, and
//! unmatched inventory is costly:
//!
//! - BDmm earns `½(r_rm − r_mm)·Q − max(0, D − Q)·r_mm`;
//! - BDrm earns `½(r_rm − r_mm)·Q − max(0, S − Q)·r_bd`.
//!
//! An *inventory-free outcome* at volume `Q` is `r_mm = D⁻¹(Q)`, `r_rm = S⁻¹(Q)`. It is an
//! equilibrium when neither dealer gains by changing its rate alone. Raising volume on one side
//! only creates inventory (a loss), so the only tempting deviation is to cut one's own side:
//! BDmm lowers `r_mm` (lending less), which pays when the marginal profit
//! `½(S⁻¹(Q) − D⁻¹(Q) − Q/σ_d)` is negative; BDrm raises `r_rm`, which pays when
//! `½(S⁻¹(Q) − D⁻¹(Q) − Q/σ_s)` is negative. So every `Q` with
//!
//! `A − Q·(1/σ_s + 1/σ_d) ≥ Q·max(1/σ_s, 1/σ_d)`, i.e. `0 ≤ Q ≤ A / (1/σ_s + 1/σ_d + max(1/σ_s, 1/σ_d))`
//!
//! is an equilibrium (derived here from the spec's profit formulas; `A = s₀ − d₀`): for
//! `D(r) = r`, `S(r) = 10 − r` the whole interval `[0, 10/3]`. The contract's `Q* = A·σ/2`
//! always lies inside it; it is the one point of the interval that maximises joint profit.

use crate::{
	fixed::{div, signed},
	schedule::{DemandSchedule, SupplySchedule},
};
use sp_arithmetic::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedI128, FixedPointNumber, FixedU128, Rounding,
};

/// What each dealer earns at a pair of client rates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DealerProfits {
	/// `Q = min(D(r_mm), S(r_rm))`.
	pub quantity: FixedU128,
	/// BDmm's profit, in tokens.
	pub mm_dealer: FixedI128,
	/// BDrm's profit, in tokens.
	pub rm_dealer: FixedI128,
}

/// The dealers' profits when BDmm offers MM `mm_rate` and BDrm offers RM `rm_rate` (the spec's
/// formulas); `None` on overflow.
pub fn dealer_profits(
	supply: &SupplySchedule,
	demand: &DemandSchedule,
	rm_rate: FixedU128,
	mm_rate: FixedU128,
) -> Option<DealerProfits> {
	let supplied = supply.supply_at(mm_rate)?;
	let demanded = demand.demand_at(rm_rate)?;
	let quantity = supplied.min(demanded);
	let two = FixedI128::saturating_from_integer(2);
	let half_spread = signed(rm_rate)?.checked_sub(&signed(mm_rate)?)?.checked_div(&two)?;
	let margin = half_spread.checked_mul(&signed(quantity)?)?;
	let bd_rate = signed(rm_rate)?.checked_add(&signed(mm_rate)?)?.checked_div(&two)?;
	let mm_inventory = signed(supplied.saturating_sub(quantity))?.checked_mul(&signed(mm_rate)?)?;
	let rm_inventory = signed(demanded.saturating_sub(quantity))?.checked_mul(&bd_rate)?;
	Some(DealerProfits {
		quantity,
		mm_dealer: margin.checked_sub(&mm_inventory)?,
		rm_dealer: margin.checked_sub(&rm_inventory)?,
	})
}

/// The upper end of the interval `[0, Q̄]` of inventory-free outcomes that are equilibria
/// without the contract: `Q̄ = A / (1/σ_s + 1/σ_d + max(1/σ_s, 1/σ_d))`, rounded down; zero when
/// the schedules do not cross; `None` on overflow or a zero slope.
pub fn inventory_free_upper_bound(
	supply: &SupplySchedule,
	demand: &DemandSchedule,
) -> Option<FixedU128> {
	let widest = demand.choke_rate.saturating_sub(supply.reservation_rate);
	if widest.is_zero() {
		return Some(FixedU128::zero());
	}
	let one = FixedU128::one();
	let inverse_supply = div(one, supply.slope, Rounding::Up)?;
	let inverse_demand = div(one, demand.slope, Rounding::Up)?;
	let denominator = inverse_supply
		.checked_add(&inverse_demand)?
		.checked_add(&inverse_supply.max(inverse_demand))?;
	div(widest, denominator, Rounding::Down)
}

/// The inventory-free outcome at volume `quantity`: `(r_rm, r_mm) = (S⁻¹(Q), D⁻¹(Q))`.
pub fn inventory_free_rates(
	supply: &SupplySchedule,
	demand: &DemandSchedule,
	quantity: FixedU128,
) -> Option<(FixedU128, FixedU128)> {
	Some((demand.inverse(quantity)?, supply.inverse(quantity)?))
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]

	use super::*;
	use crate::{
		contract::select,
		testing::{example, int, ratio},
	};
	use sp_arithmetic::traits::CheckedSub;

	/// The most either dealer gains by changing its own client's rate alone, over rates
	/// `0, 0.005, …, 12` (a brute-force search): `(BDmm's best gain, BDrm's best gain)`.
	fn best_deviation_gains(quantity: FixedU128) -> (FixedI128, FixedI128) {
		let (supply, demand) = example();
		let (rm_rate, mm_rate) = inventory_free_rates(&supply, &demand, quantity).unwrap();
		let base = dealer_profits(&supply, &demand, rm_rate, mm_rate).unwrap();
		let mut mm_gain = FixedI128::zero();
		let mut rm_gain = FixedI128::zero();
		for step in 0..=2_400u128 {
			let rate = ratio(step, 200);
			let mm = dealer_profits(&supply, &demand, rm_rate, rate).unwrap();
			mm_gain = mm_gain.max(mm.mm_dealer.checked_sub(&base.mm_dealer).unwrap());
			let rm = dealer_profits(&supply, &demand, rate, mm_rate).unwrap();
			rm_gain = rm_gain.max(rm.rm_dealer.checked_sub(&base.rm_dealer).unwrap());
		}
		(mm_gain, rm_gain)
	}

	#[test]
	fn the_example_interval_is_zero_to_ten_thirds() {
		let (supply, demand) = example();
		let upper = inventory_free_upper_bound(&supply, &demand).unwrap();
		assert_eq!(upper, FixedU128::from_inner(3_333_333_333_333_333_333));
	}

	/// Without the contract every volume in [0, 10/3] is an equilibrium (multiple equilibria):
	/// no dealer gains by deviating alone. Beyond 10/3 a dealer gains by cutting volume.
	#[test]
	fn every_volume_in_the_interval_is_an_equilibrium() {
		// 10⁻¹⁵: rounding only.
		let tolerance = FixedI128::from_inner(1_000);
		// Scan 0, 0.1, …, 5: exactly the volumes up to 3.3 are equilibria (no dealer gains by
		// deviating alone); from 3.4 on both dealers gain by cutting volume.
		let mut equilibria = Vec::new();
		for tenths in 0..=50u128 {
			let (mm_gain, rm_gain) = best_deviation_gains(ratio(tenths, 10));
			if mm_gain <= tolerance && rm_gain <= tolerance {
				equilibria.push(tenths);
			} else {
				assert!(
					mm_gain > tolerance && rm_gain > tolerance,
					"Q = {tenths}/10: only one dealer gains ({mm_gain:?}, {rm_gain:?})"
				);
			}
		}
		assert_eq!(equilibria, (0..=33).collect::<Vec<u128>>());
		let (mm_gain, rm_gain) = best_deviation_gains(ratio(10, 3));
		assert!(mm_gain <= tolerance && rm_gain <= tolerance);
		for quantity in [ratio(34, 10), ratio(4, 1), ratio(5, 1)] {
			let (mm_gain, rm_gain) = best_deviation_gains(quantity);
			assert!(
				mm_gain > tolerance && rm_gain > tolerance,
				"{quantity:?} should not be an equilibrium"
			);
		}
	}

	/// Every inventory-free outcome in the interval leaves no inventory and the same profit to
	/// both dealers, ½·spread·Q; the contract picks the one that maximises it, Q* = 2.5, where
	/// each dealer earns 6.25.
	#[test]
	fn the_contract_picks_the_joint_profit_maximum_of_the_interval() {
		let (supply, demand) = example();
		let terms = select(&supply, &demand, FixedU128::zero()).unwrap();
		let at_q_star = dealer_profits(&supply, &demand, terms.rm_rate, terms.mm_rate).unwrap();
		assert_eq!(at_q_star.quantity, ratio(5, 2));
		assert_eq!(at_q_star.mm_dealer, FixedI128::from_rational(25, 4));
		assert_eq!(at_q_star.rm_dealer, FixedI128::from_rational(25, 4));
		for tenths in (0..=33u128).filter(|t| *t != 25) {
			let (rm_rate, mm_rate) =
				inventory_free_rates(&supply, &demand, ratio(tenths, 10)).unwrap();
			let other = dealer_profits(&supply, &demand, rm_rate, mm_rate).unwrap();
			assert_eq!(other.quantity, ratio(tenths, 10));
			assert_eq!(other.mm_dealer, other.rm_dealer);
			assert!(other.mm_dealer < at_q_star.mm_dealer);
		}
		assert!(terms.quantity <= inventory_free_upper_bound(&supply, &demand).unwrap());
		let _ = int(0);
	}

	#[test]
	fn inventory_is_costly() {
		let (supply, demand) = example();
		// BDmm offers MM 4 (D = 4) while RM takes 3 at 7: one unit of inventory at 4.
		let profits = dealer_profits(&supply, &demand, int(7), int(4)).unwrap();
		assert_eq!(profits.quantity, int(3));
		assert_eq!(profits.mm_dealer, FixedI128::from_rational(1, 2)); // ½·3·3 − 1·4
		assert_eq!(profits.rm_dealer, FixedI128::from_rational(9, 2));
	}
}
