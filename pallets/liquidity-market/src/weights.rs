//! Weights for `pallet_liquidity_market`.
//!
//! The pallet is not in the runtime yet: its benchmarks, and the weights `scripts/benchmark`
//! generates from them, come with the runtime integration (issue 16). Until then only the
//! tests' zero weights exist.

#![allow(missing_docs)]

use frame_support::weights::Weight;

/// Weight functions needed by `pallet_liquidity_market`.
pub trait WeightInfo {
	fn create_market() -> Weight;
	fn supply() -> Weight;
	fn withdraw() -> Weight;
	fn deposit_collateral() -> Weight;
	fn withdraw_collateral() -> Weight;
	fn borrow() -> Weight;
	fn repay() -> Weight;
	fn liquidate() -> Weight;
	fn buy_collateral() -> Weight;
	fn tune_market() -> Weight;
	fn liquidate_queued(m: u32, n: u32) -> Weight;
}

impl WeightInfo for () {
	fn create_market() -> Weight {
		Weight::zero()
	}
	fn supply() -> Weight {
		Weight::zero()
	}
	fn withdraw() -> Weight {
		Weight::zero()
	}
	fn deposit_collateral() -> Weight {
		Weight::zero()
	}
	fn withdraw_collateral() -> Weight {
		Weight::zero()
	}
	fn borrow() -> Weight {
		Weight::zero()
	}
	fn repay() -> Weight {
		Weight::zero()
	}
	fn liquidate() -> Weight {
		Weight::zero()
	}
	fn buy_collateral() -> Weight {
		Weight::zero()
	}
	fn tune_market() -> Weight {
		Weight::zero()
	}
	fn liquidate_queued(_m: u32, _n: u32) -> Weight {
		Weight::zero()
	}
}
