//! Weights of the pallet's calls and per-block work.
//!
//! PROVISIONAL: to be replaced by the file that `frame-omni-bencher` generates from
//! `benchmarking.rs` (see `scripts/benchmark`). Until then these are rough upper estimates.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// The weight functions the pallet needs.
pub trait WeightInfo {
	fn create_market() -> Weight;
	fn set_market_params() -> Weight;
	fn submit_demand(n: u32) -> Weight;
	fn withdraw_demand(n: u32) -> Weight;
	fn on_initialize_base(m: u32) -> Weight;
	fn step_price(n: u32) -> Weight;
	fn settle_epoch(n: u32) -> Weight;
}

/// Weights for a runtime with the given database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_market() -> Weight {
		Weight::from_parts(50_000_000, 3_000).saturating_add(T::DbWeight::get().reads_writes(2, 2))
	}
	fn set_market_params() -> Weight {
		Weight::from_parts(50_000_000, 3_000).saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn submit_demand(n: u32) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(500_000, 100).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
	}
	fn withdraw_demand(n: u32) -> Weight {
		Weight::from_parts(50_000_000, 20_000)
			.saturating_add(Weight::from_parts(500_000, 100).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn on_initialize_base(m: u32) -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().reads(1).saturating_mul(m.into()))
	}
	fn step_price(n: u32) -> Weight {
		Weight::from_parts(20_000_000, 20_000)
			.saturating_add(Weight::from_parts(2_000_000, 100).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(2, 1))
	}
	fn settle_epoch(n: u32) -> Weight {
		Weight::from_parts(50_000_000, 20_000)
			.saturating_add(Weight::from_parts(50_000_000, 6_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads_writes(4, 4))
			.saturating_add(T::DbWeight::get().reads_writes(6, 6).saturating_mul(n.into()))
	}
}

impl WeightInfo for () {
	fn create_market() -> Weight {
		Weight::zero()
	}
	fn set_market_params() -> Weight {
		Weight::zero()
	}
	fn submit_demand(_n: u32) -> Weight {
		Weight::zero()
	}
	fn withdraw_demand(_n: u32) -> Weight {
		Weight::zero()
	}
	fn on_initialize_base(_m: u32) -> Weight {
		Weight::zero()
	}
	fn step_price(_n: u32) -> Weight {
		Weight::zero()
	}
	fn settle_epoch(_n: u32) -> Weight {
		Weight::zero()
	}
}
