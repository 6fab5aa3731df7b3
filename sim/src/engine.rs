//! Price paths: one step of a rule per block, as the pallet's `on_initialize` takes it.
//!
//! A path lists the posted prices `μ₀, μ₁, …`: `μ₀` is the price when the market is created (its
//! floor, as in the pallet), `μ_t` the price after the step of the `t`-th block.

use crate::rules::PreparedRule;
use contract_equilibrium_primitives::{fixed::abs_diff, Demand, FixedU128, MarketParams};

/// How long a run lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLength {
	/// The most blocks a run takes.
	pub horizon: u32,
	/// Stop early once this many consecutive prices are within the tolerance of the target
	/// (zero: always run the whole horizon).
	pub settle_window: u32,
	/// Never stop early before this many blocks (so that figures show whole paths).
	pub min_blocks: u32,
}

impl RunLength {
	/// Exactly `blocks` blocks.
	pub fn exactly(blocks: u32) -> Self {
		Self { horizon: blocks, settle_window: 0, min_blocks: 0 }
	}
}

/// The prices of `rule` from `start`, for the bids `curves` in `market`: `start` followed by one
/// price per block, until the horizon or until the price has stayed within `tolerance` of
/// `target` for `length.settle_window` consecutive prices (and at least `length.min_blocks`
/// blocks ran).
pub fn price_path<D: Demand>(
	rule: &PreparedRule,
	curves: &[D],
	market: &MarketParams<u64>,
	start: FixedU128,
	target: FixedU128,
	tolerance: FixedU128,
	length: RunLength,
) -> Vec<FixedU128> {
	let mut path = Vec::with_capacity(length.horizon as usize + 1);
	path.push(start);
	extend_path(&mut path, rule, curves, market, target, tolerance, length);
	path
}

/// Continues `path` from its last price for up to `length.horizon` more blocks (see
/// [`price_path`]).
pub fn extend_path<D: Demand>(
	path: &mut Vec<FixedU128>,
	rule: &PreparedRule,
	curves: &[D],
	market: &MarketParams<u64>,
	target: FixedU128,
	tolerance: FixedU128,
	length: RunLength,
) {
	let mut price = *path.last().expect("a path starts with a price");
	let mut settled = u32::from(abs_diff(price, target) <= tolerance);
	for block in 0..length.horizon {
		if length.settle_window > 0 && settled >= length.settle_window && block >= length.min_blocks
		{
			break;
		}
		price = rule.step(curves, market, price);
		path.push(price);
		settled = if abs_diff(price, target) <= tolerance { settled + 1 } else { 0 };
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::rules::NEWTON;
	use crate::scenarios::Scenario;
	use contract_equilibrium_primitives::clearing_price;

	#[test]
	fn a_path_starts_at_the_start_and_stops_once_settled() {
		let scenario = Scenario::binding();
		let market = scenario.market();
		let curves = scenario.draw(crate::agents::DrawSeed { master: 3, replication: 0 });
		let target = clearing_price(&curves, &market);
		let tolerance = FixedU128::from_rational(1, 1_000_000);
		let rule = NEWTON.prepare(&curves, &market);
		let full = price_path(
			&rule,
			&curves,
			&market,
			market.price_floor,
			target,
			tolerance,
			RunLength::exactly(40),
		);
		assert_eq!(full.len(), 41);
		assert_eq!(full[0], market.price_floor);
		let early = price_path(
			&rule,
			&curves,
			&market,
			market.price_floor,
			target,
			tolerance,
			RunLength { horizon: 40, settle_window: 3, min_blocks: 0 },
		);
		assert!(early.len() < full.len());
		assert_eq!(early[..], full[..early.len()]);
		let last_three = &early[early.len() - 3..];
		assert!(last_three.iter().all(|price| abs_diff(*price, target) <= tolerance));
		let at_least = price_path(
			&rule,
			&curves,
			&market,
			market.price_floor,
			target,
			tolerance,
			RunLength { horizon: 40, settle_window: 3, min_blocks: 30 },
		);
		assert_eq!(at_least[..], full[..31]);
	}
}
