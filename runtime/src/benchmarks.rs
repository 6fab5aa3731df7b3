//! The pallets whose benchmarks this runtime runs (with the `runtime-benchmarks` feature).

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_contract_equilibrium, ContractEquilibrium]
	[pallet_preimage, Preimage]
	[pallet_scheduler, Scheduler]
	[pallet_conviction_voting, ConvictionVoting]
	[pallet_referenda, Referenda]
	[pallet_treasury, Treasury]
	[pallet_intermediated_trade, IntermediatedTrade]
	[pallet_oracle, Oracle]
	[pallet_assets, Assets]
	[pallet_liquidity_market, LiquidityMarket]
);
