//! The simulator and the real pallet agree: for seeded draws, the pallet driven block by block in
//! a test externality posts exactly the simulator's prices (`FixedU128` inner values), through a
//! governance change of τ and the bidders' re-entry decisions, and its epoch outcomes equal the
//! simulator's settlement.

// The runtime macro expands `cfg(feature = "std")` checks into this crate, which has no features.
#![allow(unexpected_cfgs)]
// Test arithmetic on small known numbers: overflow would be a test bug and panics loudly.
#![allow(clippy::arithmetic_side_effects)]

use equilibrium_sim::{
	agents::DrawSeed,
	engine::{extend_path, price_path, RunLength},
	experiments::{fine_tolerance, Draw},
	participation::entry_equilibrium,
	rules::{standard_rules, PreparedRule, RuleSpec},
	scenarios::Scenario,
	settlement::settle,
	DemandCurve, FixedU128, MarketParams,
};
use frame_support::{
	derive_impl,
	traits::{ConstU128, ConstU32, Hooks},
};
use frame_system::EnsureRoot;
use pallet_contract_equilibrium::{Bids, EpochOutcomes, Markets};
use sp_runtime::BuildStorage;

type AccountId = u64;
type Balance = u128;

/// One whole token: 12 decimals, as on the chain.
const UNIT: Balance = 1_000_000_000_000;
const PAYEE: AccountId = 1_001;
const TREASURY: AccountId = 1_002;
/// Agent `i` bids from account `i + 1`.
const AGENTS: u64 = 64;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(2)]
	pub type ContractEquilibrium = pallet_contract_equilibrium;
}

type Block = frame_system::mocking::MockBlock<Test>;

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1_000_000>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

frame_support::parameter_types! {
	pub const FeeDestination: AccountId = TREASURY;
}

impl pallet_contract_equilibrium::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MarketAdminOrigin = EnsureRoot<AccountId>;
	type FeeDestination = FeeDestination;
	type BalanceUnit = ConstU128<UNIT>;
	type BidDeposit = ConstU128<{ UNIT / 10 }>;
	type MaxBidders = ConstU32<64>;
	type MaxMarkets = ConstU32<4>;
	type EpochHistoryDepth = ConstU32<1_000>;
	type WeightInfo = ();
}

fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances: Vec<(AccountId, Balance)> =
		(1..=AGENTS).map(|who| (who, 1_000_000 * UNIT)).collect();
	balances.push((PAYEE, 1_000_000 * UNIT));
	balances.push((TREASURY, 1_000_000 * UNIT));
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// A budget no bidder exhausts in a test: settlement every block never stops a bid counting.
const BUDGET: Balance = 100_000 * UNIT;

fn account(agent: usize) -> AccountId {
	agent as AccountId + 1
}

fn submit(agent: usize, curve: DemandCurve) {
	ContractEquilibrium::submit_demand(RuntimeOrigin::signed(account(agent)), 0, curve, BUDGET)
		.expect("the chain accepts the simulator's bids");
}

/// One shocked run: the simulator's path and the pallet's, each `rounds + 1` prices long.
struct Agreement {
	simulated: Vec<FixedU128>,
	on_chain: Vec<FixedU128>,
}

/// Drives `rule` on replication `seed` of `scenario` for `rounds` blocks, with τ changed to
/// `fee_after` by governance so that the step of round `shock_round` first sees it, in the
/// simulator and in the pallet.
fn drive(
	rule: &RuleSpec,
	scenario: &Scenario,
	seed: DrawSeed,
	shock_round: u32,
	rounds: u32,
	fee_after: FixedU128,
) -> Agreement {
	// The simulator.
	let draw = Draw::new(scenario, seed);
	let before = draw.market.clone();
	let after = MarketParams { unit_fee: fee_after, ..before.clone() };
	let after_entry = entry_equilibrium(&draw.agents, &after);
	let after_curves = after_entry.curves(&draw.agents);
	let prepared = rule.prepare(&draw.curves, &before);
	let PreparedRule::Chain(step_rule) = prepared else { panic!("only chain rules run on chain") };
	let mut simulated = price_path(
		&prepared,
		&draw.curves,
		&before,
		before.price_floor,
		draw.clearing_price(),
		fine_tolerance(),
		RunLength::exactly(shock_round),
	);
	extend_path(
		&mut simulated,
		&prepared,
		&after_curves,
		&after,
		after_entry.clearing_price,
		fine_tolerance(),
		RunLength::exactly(rounds - shock_round),
	);

	// The pallet: the same market, created at block 1, one-block epochs.
	let on_chain = new_test_ext().execute_with(|| {
		let params = MarketParams { step_rule, payee: PAYEE, ..before.clone() };
		ContractEquilibrium::create_market(RuntimeOrigin::root(), params.clone()).unwrap();
		for &agent in &draw.entry.bidders {
			submit(agent, draw.agents[agent]);
		}
		let mut prices = vec![Markets::<Test>::get(0).unwrap().price];
		for round in 1..=rounds {
			if round == shock_round + 1 {
				// Between the blocks: governance raises τ, bidders leave and enter.
				let new_params = MarketParams { unit_fee: fee_after, ..params.clone() };
				ContractEquilibrium::set_market_params(RuntimeOrigin::root(), 0, new_params)
					.unwrap();
				for &agent in &draw.entry.bidders {
					if after_entry.bidders.binary_search(&agent).is_err() {
						ContractEquilibrium::withdraw_demand(
							RuntimeOrigin::signed(account(agent)),
							0,
						)
						.unwrap();
					}
				}
				for &agent in &after_entry.bidders {
					if draw.entry.bidders.binary_search(&agent).is_err() {
						submit(agent, draw.agents[agent]);
					}
				}
			}
			let block = u64::from(round) + 1;
			System::set_block_number(block);
			ContractEquilibrium::on_initialize(block);
			prices.push(Markets::<Test>::get(0).unwrap().price);
		}

		// The epochs the pallet settled: one per block from block 2, at the price posted before
		// that block's step. Compare the one before the shock and the last one.
		let before_shock = shock_round - 1;
		let last = rounds - 1;
		for (epoch, bidders, market) in
			[(before_shock, &draw.entry.bidders, &before), (last, &after_entry.bidders, &after)]
		{
			let outcome = EpochOutcomes::<Test>::get(0, epoch).expect("a recorded epoch");
			let price = prices[epoch as usize];
			assert_eq!(outcome.price, price);
			let simulated = settle(&draw.agents, bidders, market, price);
			assert_eq!(outcome.total_allocated, simulated.total_allocated, "epoch {epoch}");
			assert_eq!(outcome.total_surplus, simulated.surplus, "epoch {epoch}");
			assert_eq!(outcome.fairness, simulated.bidder_fairness, "epoch {epoch}");
			assert_eq!(outcome.participation, simulated.bidder_participation, "epoch {epoch}");
			assert_eq!(outcome.bidders as usize, bidders.len(), "epoch {epoch}");
		}
		assert_eq!(Bids::<Test>::get(0).len(), after_entry.bidders.len());
		prices
	});
	Agreement { simulated, on_chain }
}

fn inner(prices: &[FixedU128]) -> Vec<u128> {
	prices.iter().map(|price| price.into_inner()).collect()
}

#[test]
fn the_pallet_posts_the_simulators_prices_to_the_last_unit() {
	let chain_rules: Vec<RuleSpec> =
		standard_rules().into_iter().filter(RuleSpec::is_chain_code).collect();
	assert_eq!(chain_rules.len(), 4);
	let fee_after = FixedU128::from_rational(3, 2);
	for scenario in [Scenario::binding(), Scenario::tight()] {
		for replication in 0..2 {
			let seed = DrawSeed { master: 2510, replication };
			for rule in &chain_rules {
				let Agreement { simulated, on_chain } =
					drive(rule, &scenario, seed, 50, 120, fee_after);
				assert_eq!(simulated.len(), 121);
				assert_eq!(
					inner(&simulated),
					inner(&on_chain),
					"{} on {} replication {replication}",
					rule.name,
					scenario.name
				);
				// Not a trivial path: the price rose from the floor and the shock moved it.
				assert!(simulated[50] > simulated[0], "{} never left the floor", rule.name);
				assert_ne!(simulated[120], simulated[50], "{} ignored the shock", rule.name);
			}
		}
	}
}
