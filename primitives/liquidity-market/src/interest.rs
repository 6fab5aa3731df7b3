//! Interest accrual by indices: O(1) per interaction, whatever the number of positions.
//!
//! A market keeps one **borrow index** `I` (1 at creation). A borrower's debt is stored as
//! borrow shares (see [`crate::shares`]) whose value grows with the market's total borrows; the
//! index records the compounded growth for reporting and for the invariant that it never falls.
//! Each accrual over `Δ` blocks at rate `r` per block multiplies the debt by `1 + r·Δ` (simple
//! within an accrual, compounded across accruals, as Compound v2 does):
//!
//! - `interest = B·r·Δ`, rounded **up** (borrowers never owe less than the rate says);
//! - the reserves take `interest·reserve_factor`, rounded down, the lenders the rest;
//! - `B ← B + interest`, `I ← I·(1 + r·Δ)` rounded up.
//!
//! Balances are in the loan asset's smallest unit, as `u128`.

use contract_equilibrium_primitives::fixed::mul;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, Perbill, Rounding,
};

/// The utilization of a market: `borrows / (cash + borrows)`, in `[0, 1]`, rounded down; zero
/// for an empty market. `cash` is the market's own ledger of the loan asset it holds (supplied
/// and repaid less lent and withdrawn), never its account balance, so a donation changes
/// nothing. Reserves are part of `cash` until they are taken out.
pub fn utilization(cash: u128, borrows: u128) -> FixedU128 {
	let supplied = cash.saturating_add(borrows);
	if supplied == 0 {
		return FixedU128::zero();
	}
	multiply_by_rational_with_rounding(borrows, FixedU128::accuracy(), supplied, Rounding::Down)
		.map(FixedU128::from_inner)
		.unwrap_or_else(FixedU128::one)
		.min(FixedU128::one())
}

/// A market's totals that interest changes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Accrual {
	/// The borrow index, 1 at creation; never falls.
	pub borrow_index: FixedU128,
	/// Everything borrowers owe, interest included, in the loan asset's smallest unit.
	pub total_borrows: u128,
	/// The protocol's share of the interest, in the loan asset's smallest unit.
	pub reserves: u128,
}

/// What an accrual added.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Accrued {
	/// The interest borrowers now owe in addition.
	pub interest: u128,
	/// The part of it that went to the reserves.
	pub to_reserves: u128,
}

impl Accrual {
	/// Accrues `blocks` blocks of interest at `rate_per_block`, keeping `reserve_factor` of it
	/// for the reserves. Saturates rather than overflowing (a market whose borrows reach
	/// `u128::MAX` stops growing; caps keep it far from there).
	pub fn accrue(
		&mut self,
		rate_per_block: FixedU128,
		blocks: u32,
		reserve_factor: Perbill,
	) -> Accrued {
		if blocks == 0 || rate_per_block.is_zero() {
			return Accrued::default();
		}
		let factor = rate_per_block.saturating_mul(FixedU128::saturating_from_integer(blocks));
		let interest = multiply_by_rational_with_rounding(
			self.total_borrows,
			factor.into_inner(),
			FixedU128::accuracy(),
			Rounding::Up,
		)
		.unwrap_or(u128::MAX);
		let to_reserves = reserve_factor.mul_floor(interest);
		let before = self.total_borrows;
		self.total_borrows = self.total_borrows.saturating_add(interest);
		self.reserves = self.reserves.saturating_add(to_reserves);
		self.borrow_index =
			mul(self.borrow_index, FixedU128::one().saturating_add(factor), Rounding::Up);
		Accrued {
			interest: self.total_borrows.saturating_sub(before),
			to_reserves: to_reserves.min(self.total_borrows.saturating_sub(before)),
		}
	}
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn utilization_of_empty_half_and_full_markets() {
		assert_eq!(utilization(0, 0), FixedU128::zero());
		assert_eq!(utilization(100, 0), FixedU128::zero());
		assert_eq!(utilization(50, 50), FixedU128::saturating_from_rational(1u32, 2u32));
		assert_eq!(utilization(0, 10), FixedU128::one());
	}

	#[test]
	fn accrual_follows_simple_interest_within_and_compounds_across() {
		let mut totals =
			Accrual { borrow_index: FixedU128::one(), total_borrows: 1_000_000_000, reserves: 0 };
		let rate = FixedU128::saturating_from_rational(1u32, 1_000_000u32);
		let accrued = totals.accrue(rate, 100, Perbill::from_percent(10));
		// 1e9 · 1e-6 · 100 = 100 000, 10 % to reserves.
		assert_eq!(accrued, Accrued { interest: 100_000, to_reserves: 10_000 });
		assert_eq!(totals.total_borrows, 1_000_100_000);
		assert_eq!(totals.reserves, 10_000);
		assert_eq!(totals.borrow_index, FixedU128::saturating_from_rational(10_001u32, 10_000u32));
		// The next accrual is on the grown debt.
		totals.accrue(rate, 100, Perbill::zero());
		assert_eq!(totals.total_borrows, 1_000_100_000 + 100_010);
	}

	#[test]
	fn a_tiny_loan_still_accrues() {
		// One unit borrowed at 1e-9 a block: interest rounds up to one unit per accrual, never
		// to zero (the "rounding drift" of the anchors: a dust loan that never pays).
		let mut totals = Accrual { borrow_index: FixedU128::one(), total_borrows: 1, reserves: 0 };
		let accrued = totals.accrue(
			FixedU128::saturating_from_rational(1u32, 1_000_000_000u32),
			1,
			Perbill::zero(),
		);
		assert_eq!(accrued.interest, 1);
		assert_eq!(totals.total_borrows, 2);
	}

	#[test]
	fn nothing_accrues_without_blocks_or_rate() {
		let mut totals =
			Accrual { borrow_index: FixedU128::one(), total_borrows: 500, reserves: 7 };
		let before = totals;
		assert_eq!(totals.accrue(FixedU128::one(), 0, Perbill::zero()), Accrued::default());
		assert_eq!(totals.accrue(FixedU128::zero(), 10, Perbill::zero()), Accrued::default());
		assert_eq!(totals, before);
	}

	proptest! {
		/// Accrual never lowers the index or the borrows, never books less interest than the
		/// exact amount, and the reserves' share never exceeds the interest.
		#[test]
		fn accrual_is_monotone_and_rounds_for_the_protocol(
			borrows in 0u128..=u128::from(u64::MAX),
			rate in 0u64..=1_000_000,
			blocks in 0u32..=100_000,
			reserve in 0u32..=100,
		) {
			let rate = FixedU128::saturating_from_rational(rate, 1_000_000_000_000u64);
			let mut totals = Accrual { borrow_index: FixedU128::one(), total_borrows: borrows, reserves: 0 };
			let accrued = totals.accrue(rate, blocks, Perbill::from_percent(reserve));
			prop_assert!(totals.borrow_index >= FixedU128::one());
			prop_assert_eq!(totals.total_borrows, borrows + accrued.interest);
			prop_assert!(accrued.to_reserves <= accrued.interest);
			prop_assert_eq!(totals.reserves, accrued.to_reserves);
			// Exact interest ≤ booked interest < exact + 1.
			let exact = borrows * rate.into_inner() * u128::from(blocks);
			let scale = FixedU128::accuracy();
			prop_assert!(accrued.interest * scale >= exact);
			prop_assert!(accrued.interest * scale < exact + scale);
		}
	}
}
