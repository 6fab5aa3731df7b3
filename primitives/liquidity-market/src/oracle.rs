//! Combining price feeds: the median of the fresh ones, moving at a bounded pace.
//!
//! An oracle asks several feeders for an asset's price. One feeder alone cannot move the
//! median past the others' prices, and a feeder that stops is left out once its feed is older
//! than the staleness limit. The published price moves towards the median by at most a set
//! fraction per block, so even a majority of colluding feeders needs many blocks to drag it
//! far, and every block of that is visible.

use sp_arithmetic::{
	traits::{Saturating, Zero},
	FixedPointNumber, FixedU128, Perbill,
};

/// The median of `prices` (sorted in place): the middle one, or the mean of the two middle ones
/// rounded down; `None` for no prices.
pub fn median(prices: &mut [FixedU128]) -> Option<FixedU128> {
	prices.sort_unstable();
	let count = prices.len();
	let middle = count.checked_div(2)?;
	let upper = *prices.get(middle)?;
	if count.checked_rem(2) == Some(1) {
		return Some(upper);
	}
	let lower = *prices.get(middle.checked_sub(1)?)?;
	// lower + (upper − lower)/2, rounded down: no overflow.
	let half = FixedU128::from_inner(upper.saturating_sub(lower).into_inner().checked_div(2)?);
	Some(lower.saturating_add(half))
}

/// The price after moving from `anchor` towards `target` over `blocks` blocks by at most
/// `max_change_per_block` of `anchor` per block (`anchor·(1 ± c·blocks)`, not compounded). With
/// no anchor yet (zero) the target is taken as it is.
pub fn bounded_move(
	anchor: FixedU128,
	target: FixedU128,
	max_change_per_block: Perbill,
	blocks: u32,
) -> FixedU128 {
	if anchor.is_zero() {
		return target;
	}
	let per_block = FixedU128::from_perbill(max_change_per_block);
	let allowed = anchor
		.saturating_mul(per_block)
		.saturating_mul(FixedU128::saturating_from_integer(blocks.max(1)));
	target.max(anchor.saturating_sub(allowed)).min(anchor.saturating_add(allowed))
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use proptest::prelude::*;

	fn p(value: u32) -> FixedU128 {
		FixedU128::saturating_from_integer(value)
	}

	#[test]
	fn median_of_odd_even_and_no_feeds() {
		assert_eq!(median(&mut []), None);
		assert_eq!(median(&mut [p(7)]), Some(p(7)));
		assert_eq!(median(&mut [p(9), p(1), p(5)]), Some(p(5)));
		assert_eq!(
			median(&mut [p(9), p(1), p(5), p(6)]),
			Some(FixedU128::saturating_from_rational(11u32, 2u32))
		);
	}

	#[test]
	fn one_liar_cannot_move_the_median_of_three_past_the_others() {
		assert_eq!(median(&mut [p(100), p(101), p(1_000_000)]), Some(p(101)));
		assert_eq!(median(&mut [p(100), p(101), FixedU128::zero()]), Some(p(100)));
	}

	#[test]
	fn moves_are_bounded_per_block() {
		let ten = Perbill::from_percent(10);
		assert_eq!(bounded_move(p(100), p(40), ten, 1), p(90));
		assert_eq!(bounded_move(p(100), p(40), ten, 3), p(70));
		assert_eq!(bounded_move(p(100), p(40), ten, 20), p(40));
		assert_eq!(bounded_move(p(100), p(105), ten, 1), p(105));
		assert_eq!(bounded_move(p(100), p(200), ten, 2), p(120));
		assert_eq!(bounded_move(FixedU128::zero(), p(200), ten, 1), p(200));
	}

	proptest! {
		/// The median lies between the smallest and the largest feed, and a bounded move lies
		/// between the anchor and the target, within the allowed change.
		#[test]
		fn median_and_move_stay_in_range(
			feeds in proptest::collection::vec(1u64..=1_000_000_000, 1..16),
			anchor in 1u64..=1_000_000_000,
			percent in 0u32..=100,
			blocks in 0u32..=50,
		) {
			let mut prices: Vec<FixedU128> = feeds.iter().map(|f| FixedU128::saturating_from_integer(*f)).collect();
			let m = median(&mut prices).unwrap();
			prop_assert!(m >= prices[0] && m <= prices[prices.len() - 1]);
			let anchor = FixedU128::saturating_from_integer(anchor);
			let moved = bounded_move(anchor, m, Perbill::from_percent(percent), blocks);
			prop_assert!(moved >= anchor.min(m) && moved <= anchor.max(m));
			let change = if moved >= anchor { moved - anchor } else { anchor - moved };
			let allowed = anchor * FixedU128::from_perbill(Perbill::from_percent(percent)) * FixedU128::saturating_from_integer(blocks.max(1));
			prop_assert!(change <= allowed);
		}
	}
}
