//! The simulator and the real pallet agree: for seeded draws, the pallet driven block by block in
//! a test externality posts exactly the prices the simulator's rules step to on the chain's
//! gridded book of the same bids (`FixedU128` inner values), through a governance change of the
//! capacity and the bidders' re-entry decisions, and its epoch outcomes equal the primitives'
//! clearing of that book.

// The runtime macro expands `cfg(feature = "std")` checks into this crate, which has no features.
#![allow(unexpected_cfgs)]
// Test arithmetic on small known numbers: overflow would be a test bug and panics loudly.
#![allow(clippy::arithmetic_side_effects)]

use contract_equilibrium_primitives::{
	clear, BookTotals, GridOrder, GriddedDemand, Order, PriceGrid,
};
use equilibrium_sim::{
	agents::DrawSeed,
	engine::{extend_path, price_path, RunLength},
	experiments::{fine_tolerance, Draw},
	participation::entry_equilibrium,
	rules::{standard_rules, PreparedRule, RuleSpec},
	scenarios::Scenario,
	DemandCurve, FixedU128, MarketParams,
};
use frame_support::{
	derive_impl,
	traits::{ConstU128, ConstU32, Hooks},
};
use frame_system::EnsureRoot;
use pallet_contract_equilibrium::{Books, EpochOutcomes, Markets};
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
	pub const MarketPalletId: frame_support::PalletId = frame_support::PalletId(*b"eq/markt");
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
	type MaxOrderEpochs = ConstU32<EPOCHS>;
	type PalletId = MarketPalletId;
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
	pallet_contract_equilibrium::GenesisConfig::<Test>::default()
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// A budget per epoch that never binds: a log-utility agent with α ≤ 20 never spends more than
/// α + g a block.
const BUDGET: Balance = 1_000 * UNIT;

/// How many one-block epochs each order lasts: longer than any run.
const EPOCHS: u32 = 200;

fn account(agent: usize) -> AccountId {
	agent as AccountId + 1
}

fn submit(agent: usize, curve: DemandCurve) {
	ContractEquilibrium::submit_demand(
		RuntimeOrigin::signed(account(agent)),
		0,
		curve,
		BUDGET,
		EPOCHS,
	)
	.expect("the chain accepts the simulator's bids");
}

/// The chain's book of the bids of `bidders` (indices into `agents`) in `market`.
fn book(agents: &[DemandCurve], bidders: &[usize], market: &MarketParams<u64>) -> BookTotals {
	let grid = PriceGrid::of(market);
	let mut totals = BookTotals::default();
	for &agent in bidders {
		let order = Order {
			curve: agents[agent],
			budget: FixedU128::from_u32(1_000),
			fixed_fee: market.fixed_fee,
		};
		totals.add(&GridOrder::new(order, market.unit_fee, &grid), &grid);
	}
	totals
}

/// One shocked run: the simulator's path and the pallet's, each `rounds + 1` prices long.
struct Agreement {
	simulated: Vec<FixedU128>,
	on_chain: Vec<FixedU128>,
}

/// Drives `rule` on replication `seed` of `scenario` for `rounds` blocks, with the capacity
/// changed to `capacity_after` by governance so that the step of round `shock_round` first sees
/// it, in the simulator (stepping on the chain's gridded book of the bids) and in the pallet.
fn drive(
	rule: &RuleSpec,
	scenario: &Scenario,
	seed: DrawSeed,
	shock_round: u32,
	rounds: u32,
	capacity_after: FixedU128,
) -> Agreement {
	// The simulator.
	let draw = Draw::new(scenario, seed);
	let before = draw.market.clone();
	let after = MarketParams { capacity: capacity_after, ..before.clone() };
	let after_entry = entry_equilibrium(&draw.agents, &after);
	let book_before = book(&draw.agents, &draw.entry.bidders, &before);
	let book_after = book(&draw.agents, &after_entry.bidders, &after);
	let gridded = |totals| [GriddedDemand { grid: PriceGrid::of(&before), totals }];
	let prepared = rule.prepare(&draw.curves, &before);
	let PreparedRule::Chain(step_rule) = prepared else { panic!("only chain rules run on chain") };
	let mut simulated = price_path(
		&prepared,
		&gridded(&book_before),
		&before,
		before.price_floor,
		draw.clearing_price(),
		fine_tolerance(),
		RunLength::exactly(shock_round),
	);
	extend_path(
		&mut simulated,
		&prepared,
		&gridded(&book_after),
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
				// Between the blocks: governance changes the capacity, bidders leave and enter.
				let new_params = MarketParams { capacity: capacity_after, ..params.clone() };
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
		// that block's step. Compare the one before the shock and the last one with the
		// primitives' clearing of the same book.
		let before_shock = shock_round - 1;
		let last = rounds - 1;
		for (epoch, bidders, market, totals) in [
			(before_shock, &draw.entry.bidders, &before, &book_before),
			(last, &after_entry.bidders, &after, &book_after),
		] {
			let outcome = EpochOutcomes::<Test>::get(0, epoch).expect("a recorded epoch");
			let price = prices[epoch as usize];
			let (clearing, owed) = clear(
				&PriceGrid::of(market),
				totals,
				market.unit_fee,
				market.fixed_fee,
				market.capacity,
				price,
			);
			assert_eq!(outcome.clearing, clearing, "epoch {epoch}");
			assert_eq!(outcome.total_allocated, owed.allocated, "epoch {epoch}");
			assert_eq!(outcome.participants, owed.participants, "epoch {epoch}");
			assert_eq!(outcome.bidders as usize, bidders.len(), "epoch {epoch}");
			assert!(outcome.total_allocated <= market.capacity);
		}
		assert_eq!(
			Books::<Test>::get(0).map(|book| book.bids as usize),
			Some(after_entry.bidders.len())
		);
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
	// A capacity shock of +50 %.
	let raise = FixedU128::from_rational(3, 2);
	for scenario in [Scenario::binding(), Scenario::tight()] {
		for replication in 0..2 {
			let seed = DrawSeed { master: 2510, replication };
			for rule in &chain_rules {
				let Agreement { simulated, on_chain } =
					drive(rule, &scenario, seed, 50, 120, scenario.market().capacity * raise);
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
