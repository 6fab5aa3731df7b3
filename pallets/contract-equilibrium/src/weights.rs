
//! Weights for `pallet_contract_equilibrium`.
//!
//! Provisional, until `scripts/benchmark` regenerates this file from the benchmarks.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(clippy::unnecessary_cast)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed by `pallet_contract_equilibrium`.
pub trait WeightInfo {
	fn create_market() -> Weight;
	fn set_market_params() -> Weight;
	fn submit_demand(n: u32, e: u32, ) -> Weight;
	fn withdraw_demand(e: u32, ) -> Weight;
	fn settle_bid(e: u32, ) -> Weight;
	fn close_market(c: u32, ) -> Weight;
	fn on_initialize_base(m: u32, ) -> Weight;
	fn step_price(n: u32, ) -> Weight;
	fn settle_epoch(n: u32, ) -> Weight;
}

/// Weights for `pallet_contract_equilibrium` measured with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_market() -> Weight {
		Weight::from_parts(25_000_000, 3671)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn set_market_params() -> Weight {
		Weight::from_parts(20_000_000, 3671)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn submit_demand(_n: u32, e: u32, ) -> Weight {
		Weight::from_parts(2_000_000_000, 40_000)
			.saturating_add(Weight::from_parts(20_000_000, 0).saturating_mul(e.into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(e.into())))
			.saturating_add(T::DbWeight::get().writes(10_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(e.into())))
	}
	fn withdraw_demand(e: u32, ) -> Weight {
		Weight::from_parts(2_000_000_000, 40_000)
			.saturating_add(Weight::from_parts(20_000_000, 0).saturating_mul(e.into()))
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(e.into())))
			.saturating_add(T::DbWeight::get().writes(10_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(e.into())))
	}
	fn settle_bid(e: u32, ) -> Weight {
		Weight::from_parts(100_000_000, 20_000)
			.saturating_add(Weight::from_parts(20_000_000, 0).saturating_mul(e.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(e.into())))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(e.into())))
	}
	fn close_market(c: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(c.into())))
	}
	fn on_initialize_base(m: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 1_000)
			.saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(m.into())))
	}
	fn step_price(_n: u32, ) -> Weight {
		Weight::from_parts(500_000_000, 20_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn settle_epoch(_n: u32, ) -> Weight {
		Weight::from_parts(500_000_000, 40_000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
	}
}

// For tests: the same functions with the reference database weights.
impl WeightInfo for () {
	fn create_market() -> Weight { Weight::from_parts(25_000_000, 3671).saturating_add(RocksDbWeight::get().reads_writes(4, 4)) }
	fn set_market_params() -> Weight { Weight::from_parts(20_000_000, 3671) }
	fn submit_demand(_n: u32, e: u32, ) -> Weight { Weight::from_parts(2_000_000_000, 40_000).saturating_add(RocksDbWeight::get().reads_writes((10_u64).saturating_add(e as u64), (10_u64).saturating_add(e as u64))) }
	fn withdraw_demand(e: u32, ) -> Weight { Weight::from_parts(2_000_000_000, 40_000).saturating_add(RocksDbWeight::get().reads_writes((10_u64).saturating_add(e as u64), (10_u64).saturating_add(e as u64))) }
	fn settle_bid(e: u32, ) -> Weight { Weight::from_parts(100_000_000, 20_000).saturating_add(RocksDbWeight::get().reads_writes((6_u64).saturating_add(e as u64), (6_u64).saturating_add(e as u64))) }
	fn close_market(c: u32, ) -> Weight { Weight::from_parts(50_000_000, 20_000).saturating_add(RocksDbWeight::get().reads_writes(4, (4_u64).saturating_add(c as u64))) }
	fn on_initialize_base(m: u32, ) -> Weight { Weight::from_parts(5_000_000, 1_000).saturating_add(RocksDbWeight::get().reads((1_u64).saturating_add(m as u64))) }
	fn step_price(_n: u32, ) -> Weight { Weight::from_parts(500_000_000, 20_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1)) }
	fn settle_epoch(_n: u32, ) -> Weight { Weight::from_parts(500_000_000, 40_000).saturating_add(RocksDbWeight::get().reads_writes(6, 8)) }
}
