//! The market under governance, on the real runtime (natively, without a node): blocks are
//! initialized and finalized by `Executive` with an Aura slot and a timestamp, as the node does,
//! and calls are dispatched with the origins a transaction or a referendum would have.

// Test arithmetic on small known numbers: overflow would be a test bug and panics loudly.
#![allow(clippy::arithmetic_side_effects)]

use codec::Encode;
use equilibrium_runtime::{
	configs::TreasuryAccount,
	genesis_config_presets::{
		self, demo_bidders, demo_market, DEMO_BUDGET, DEMO_CAPACITY, DEMO_EPOCHS,
	},
	governance::{
		origins::Origin as GovernanceOrigin,
		tracks::{MARKET_ADMIN_TRACK, ROOT_TRACK},
		TracksInfo,
	},
	AccountId, Balance, Balances, BlockNumber, ContractEquilibrium, Executive, Header,
	IntermediatedTrade, OriginCaller, Referenda, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeGenesisConfig, RuntimeOrigin, System, DAYS, SLOT_DURATION, UNIT,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		schedule::DispatchTime,
		Bounded,
	},
};
use pallet_contract_equilibrium::{FixedU128, MarketParams};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::{ReferendumIndex, ReferendumInfo, TracksInfo as _};
use serde_json::Value;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	traits::{BlakeTwo256, Dispatchable, Hash, Header as _, Zero},
	Digest, DigestItem, DispatchError, FixedPointNumber, Saturating,
};

/// Merges `patch` into `base` as a chain spec does with a genesis preset.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The state of a chain built from the named genesis preset.
fn chain_from_preset(preset: &str) -> sp_io::TestExternalities {
	let patch = genesis_config_presets::get_preset(&preset.into()).expect("the preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, serde_json::from_slice(&patch).unwrap());
	let config = serde_json::to_vec(&config).unwrap();
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<RuntimeGenesisConfig>(config)
			.expect("the preset builds")
	});
	ext
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

fn signed(who: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(account(who))
}

/// Produces the next block: Aura slot, timestamp inherent, every pallet's hooks. Returns the
/// block's events.
fn next_block() -> Vec<RuntimeEvent> {
	let number = System::block_number() + 1;
	let slot = Slot::from(u64::from(number));
	let digest = Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
	let parent_hash = System::block_hash(number - 1);
	let header = Header::new(number, Default::default(), Default::default(), parent_hash, digest);
	Executive::initialize_block(&header);
	assert_ok!(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
		now: u64::from(number) * SLOT_DURATION
	})
	.dispatch(RuntimeOrigin::none()));
	Executive::finalize_block();
	#[cfg(feature = "try-runtime")]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		equilibrium_runtime::AllPalletsWithSystem::try_state(number, TryStateSelect::All)
			.expect("every pallet's invariants hold after every block");
	}
	System::events().into_iter().map(|record| record.event).collect()
}

/// Produces blocks until `done` holds for a block's events; panics after `limit` blocks.
/// Returns the events of every block produced.
fn run_until(limit: u32, mut done: impl FnMut(&[RuntimeEvent]) -> bool) -> Vec<RuntimeEvent> {
	let mut seen = Vec::new();
	for _ in 0..limit {
		let events = next_block();
		let finished = done(&events);
		seen.extend(events);
		if finished {
			return seen;
		}
	}
	panic!("not done after {limit} blocks (now at block {})", System::block_number());
}

/// The market's distance from its exact clearing price, from the runtime API's view.
fn distance_to_clearing_price() -> FixedU128 {
	ContractEquilibrium::equilibrium_view(0).expect("the demo market exists").distance
}

fn tolerance() -> FixedU128 {
	demo_market().tolerance
}

/// Produces blocks until the demo market's price is within its tolerance of `μ*`; returns how
/// many blocks that took.
fn converge(limit: u32) -> u32 {
	for blocks in 1..=limit {
		next_block();
		if distance_to_clearing_price() <= tolerance() {
			return blocks;
		}
	}
	panic!("the price did not converge in {limit} blocks");
}

fn capacity() -> FixedU128 {
	pallet_contract_equilibrium::Markets::<Runtime>::get(0).unwrap().params.capacity
}

/// The proposal: the demo market with a new capacity.
fn set_capacity_call(capacity: u32) -> RuntimeCall {
	RuntimeCall::ContractEquilibrium(pallet_contract_equilibrium::Call::set_market_params {
		market: 0,
		params: MarketParams { capacity: FixedU128::from_u32(capacity), ..demo_market() },
	})
}

/// Notes `call` as a preimage and submits it as a referendum on the market-admin track, with
/// its decision deposit, all from `proposer`. Returns the referendum's index.
fn propose_as_market_admin(proposer: Sr25519Keyring, call: RuntimeCall) -> ReferendumIndex {
	let encoded = call.encode();
	assert_ok!(pallet_preimage::Pallet::<Runtime>::note_preimage(
		signed(proposer),
		encoded.clone()
	));
	let proposal = Bounded::Lookup { hash: BlakeTwo256::hash(&encoded), len: encoded.len() as u32 };
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		signed(proposer),
		Box::new(OriginCaller::Origins(GovernanceOrigin::MarketAdmin)),
		proposal,
		DispatchTime::After(0),
	));
	assert_ok!(Referenda::place_decision_deposit(signed(proposer), index));
	index
}

fn vote(
	voter: Sr25519Keyring,
	index: ReferendumIndex,
	aye: bool,
	conviction: Conviction,
	tokens: Balance,
) {
	assert_ok!(pallet_conviction_voting::Pallet::<Runtime>::vote(
		signed(voter),
		index,
		AccountVote::Standard { vote: Vote { aye, conviction }, balance: tokens * UNIT },
	));
}

fn referendum_event(
	events: &[RuntimeEvent],
	matches: impl Fn(&pallet_referenda::Event<Runtime>) -> bool,
) -> bool {
	events.iter().any(|event| matches!(event, RuntimeEvent::Referenda(inner) if matches(inner)))
}

/// Whether `events` report a change of the demo market's parameters.
fn params_updated(events: &[RuntimeEvent]) -> bool {
	events.iter().any(|event| {
		matches!(
			event,
			RuntimeEvent::ContractEquilibrium(
				pallet_contract_equilibrium::Event::MarketParamsUpdated { market: 0, .. }
			)
		)
	})
}

#[test]
fn development_preset_starts_the_demo_market_with_binding_capacity() {
	chain_from_preset("development").execute_with(|| {
		let market = pallet_contract_equilibrium::Markets::<Runtime>::get(0).expect("market 0");
		assert_eq!(market.params, demo_market());
		assert_eq!(market.price, FixedU128::zero());
		assert_eq!(
			pallet_contract_equilibrium::Books::<Runtime>::get(0).map(|book| book.bids),
			Some(demo_bidders().len() as u32)
		);
		for (bidder, _) in demo_bidders() {
			let bid = pallet_contract_equilibrium::Bids::<Runtime>::get(0, account(bidder))
				.expect("a demo bid");
			assert_eq!(bid.escrow, DEMO_BUDGET * u128::from(DEMO_EPOCHS));
		}
		let view = ContractEquilibrium::equilibrium_view(0).unwrap();
		// Demand at the floor exceeds the capacity, so μ* is above the floor…
		assert!(view.excess_demand.is_positive());
		assert!(view.clearing_price > FixedU128::zero());
		// …and the price rises from the first block, reaching μ* as the mechanism promises.
		next_block();
		assert!(
			pallet_contract_equilibrium::Markets::<Runtime>::get(0).unwrap().price
				> FixedU128::zero()
		);
		let blocks = converge(100);
		assert!(blocks < 60, "dual ascent at 1/L reaches μ* in about 40 blocks, took {blocks}");
	});
}

#[test]
fn a_referendum_changes_the_capacity_and_the_price_reconverges() {
	chain_from_preset("development").execute_with(|| {
		converge(100);
		let old_clearing_price = ContractEquilibrium::equilibrium_view(0).unwrap().clearing_price;
		let treasury_before = Balances::balance(&TreasuryAccount::get());

		// Charlie proposes raising the capacity from 20 to 30 units.
		let index = propose_as_market_admin(Sr25519Keyring::Charlie, set_capacity_call(30));
		let alice_free_before = Balances::balance(&account(Sr25519Keyring::Alice));
		vote(Sr25519Keyring::Alice, index, true, Conviction::Locked3x, 200_000);
		vote(Sr25519Keyring::Bob, index, true, Conviction::Locked1x, 100_000);
		vote(Sr25519Keyring::Dave, index, false, Conviction::None, 50_000);
		// A conviction vote locks the tokens: they stay in the account but cannot be spent.
		assert_eq!(Balances::balance(&account(Sr25519Keyring::Alice)), alice_free_before);
		let locks = pallet_balances::Locks::<Runtime>::get(account(Sr25519Keyring::Alice));
		assert!(locks.iter().any(|lock| lock.amount == 200_000 * UNIT));

		// Decided, confirmed and approved, but not yet enacted: nothing has changed.
		let events = run_until(20, |events| {
			referendum_event(
				events,
				|e| matches!(e, pallet_referenda::Event::Confirmed { index: i, .. } if *i == index),
			)
		});
		assert!(referendum_event(&events, |e| matches!(
			e,
			pallet_referenda::Event::DecisionStarted { .. }
		)));
		assert!(referendum_event(&events, |e| matches!(
			e,
			pallet_referenda::Event::ConfirmStarted { .. }
		)));
		assert_eq!(capacity(), FixedU128::from_u32(DEMO_CAPACITY));

		// The scheduler enacts it with the market-admin origin.
		let events = run_until(5, params_updated);
		assert!(events.iter().all(|event| !matches!(
			event,
			RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched { result: Err(_), .. })
		)));
		assert_eq!(capacity(), FixedU128::from_u32(30));
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(ReferendumInfo::Approved(..))
		));

		// More capacity, lower price: the price moves to the new μ* and settles there.
		let new_clearing_price = ContractEquilibrium::equilibrium_view(0).unwrap().clearing_price;
		assert!(new_clearing_price < old_clearing_price);
		assert!(distance_to_clearing_price() > tolerance());
		converge(100);
		let price = pallet_contract_equilibrium::Markets::<Runtime>::get(0).unwrap().price;
		assert!(price.saturating_sub(new_clearing_price) <= tolerance());
		assert!(new_clearing_price.saturating_sub(price) <= tolerance());

		// Fees kept flowing to the treasury all along.
		assert!(Balances::balance(&TreasuryAccount::get()) > treasury_before);
	});
}

#[test]
fn a_failed_vote_changes_nothing() {
	chain_from_preset("development").execute_with(|| {
		converge(100);
		let market_before = pallet_contract_equilibrium::Markets::<Runtime>::get(0).unwrap();

		let index = propose_as_market_admin(Sr25519Keyring::Charlie, set_capacity_call(30));
		vote(Sr25519Keyring::Alice, index, true, Conviction::Locked1x, 100_000);
		vote(Sr25519Keyring::Bob, index, false, Conviction::Locked2x, 300_000);

		let track = TracksInfo::info(MARKET_ADMIN_TRACK).unwrap();
		let limit = track.prepare_period + track.decision_period + 5;
		let events = run_until(limit, |events| {
			referendum_event(
				events,
				|e| matches!(e, pallet_referenda::Event::Rejected { index: i, .. } if *i == index),
			)
		});
		assert!(!params_updated(&events), "a rejected proposal is never enacted");
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(ReferendumInfo::Rejected(..))
		));
		let market_after = pallet_contract_equilibrium::Markets::<Runtime>::get(0).unwrap();
		assert_eq!(market_after.params, market_before.params);
		// The price is where it was: still at the old μ*.
		assert!(distance_to_clearing_price() <= tolerance());
	});
}

#[test]
fn only_governance_changes_markets() {
	chain_from_preset("development").execute_with(|| {
		next_block();
		let new_market = MarketParams { capacity: FixedU128::from_u32(5), ..demo_market() };

		// Signed accounts, bidders included, get `BadOrigin`.
		for who in [Sr25519Keyring::Alice, Sr25519Keyring::Eve] {
			assert_noop!(
				ContractEquilibrium::create_market(signed(who), new_market.clone()),
				DispatchError::BadOrigin
			);
			assert_noop!(
				ContractEquilibrium::set_market_params(signed(who), 0, new_market.clone()),
				DispatchError::BadOrigin
			);
		}

		// The market-admin origin (a passed market-admin referendum) may; it is not root.
		let market_admin = RuntimeOrigin::from(GovernanceOrigin::MarketAdmin);
		assert_ok!(ContractEquilibrium::create_market(market_admin.clone(), new_market.clone()));
		assert_ok!(ContractEquilibrium::set_market_params(market_admin.clone(), 1, demo_market()));
		let force_balance = RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
			who: account(Sr25519Keyring::Eve).into(),
			new_free: 0,
		});
		assert_eq!(
			force_balance.dispatch(market_admin).unwrap_err().error,
			DispatchError::BadOrigin
		);

		// On a development chain, sudo (root) may too.
		assert_ok!(equilibrium_runtime::Sudo::sudo(
			signed(Sr25519Keyring::Alice),
			Box::new(set_capacity_call(25))
		));
		assert_eq!(capacity(), FixedU128::from_u32(25));
		// A proposal's origin decides its track; a signed origin has none.
		assert_eq!(
			TracksInfo::track_for(&OriginCaller::Origins(GovernanceOrigin::MarketAdmin)),
			Ok(MARKET_ADMIN_TRACK)
		);
		assert_eq!(
			TracksInfo::track_for(&OriginCaller::system(frame_system::RawOrigin::Root)),
			Ok(ROOT_TRACK)
		);
		assert_eq!(
			TracksInfo::track_for(&OriginCaller::system(frame_system::RawOrigin::Signed(account(
				Sr25519Keyring::Alice
			)))),
			Err(())
		);
	});
}

#[test]
fn local_testnet_has_no_sudo_and_realistic_tracks() {
	chain_from_preset("local_testnet").execute_with(|| {
		next_block();
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_noop!(
			equilibrium_runtime::Sudo::sudo(
				signed(Sr25519Keyring::Alice),
				Box::new(set_capacity_call(25))
			),
			pallet_sudo::Error::<Runtime>::RequireSudo
		);
		// The demo market is open, with no orders: load tests bid from the first block.
		assert_eq!(pallet_contract_equilibrium::NextMarketId::<Runtime>::get(), 1);
		assert!(pallet_contract_equilibrium::Markets::<Runtime>::contains_key(0));
		assert_eq!(pallet_contract_equilibrium::Bids::<Runtime>::iter_prefix(0).count(), 0);
		// Four validators: GRANDPA keeps finalizing with one of them down.
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 4);
		let market_admin = TracksInfo::info(MARKET_ADMIN_TRACK).unwrap();
		assert_eq!(market_admin.decision_period, 7 * DAYS);
		let root = TracksInfo::info(ROOT_TRACK).unwrap();
		assert_eq!(root.decision_period, 14 * DAYS);
		assert!(TracksInfo::check_integrity().is_ok());
	});
	chain_from_preset("development").execute_with(|| {
		let market_admin = TracksInfo::info(MARKET_ADMIN_TRACK).unwrap();
		let blocks: BlockNumber = market_admin.prepare_period
			+ market_admin.confirm_period
			+ market_admin.min_enactment_period;
		assert!(blocks <= 10, "a passing development referendum is enacted within 10 blocks");
		assert_eq!(
			pallet_treasury::Pallet::<Runtime>::account_id(),
			TreasuryAccount::get(),
			"market fees go to the treasury pallet's account"
		);
	});
}

#[test]
fn benchmark_preset_is_local_testnet_without_markets() {
	chain_from_preset(equilibrium_runtime::genesis_config_presets::BENCHMARK_PRESET).execute_with(
		|| {
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
			assert_eq!(pallet_contract_equilibrium::NextMarketId::<Runtime>::get(), 0);
			assert_eq!(pallet_contract_equilibrium::Markets::<Runtime>::count(), 0);
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
			assert!(pallet_assets::Asset::<Runtime>::iter_keys().next().is_none());
		},
	);
}

#[test]
fn development_chains_start_with_the_stable_asset() {
	use equilibrium_runtime::{
		configs::{STABLE_ASSET_ID, STABLE_DECIMALS},
		genesis_config_presets::STABLE_ENDOWMENT,
	};
	use frame_support::traits::fungibles::metadata::Inspect as _;
	for preset in ["development", "local_testnet"] {
		chain_from_preset(preset).execute_with(|| {
			let alice = account(Sr25519Keyring::Alice);
			let bob = account(Sr25519Keyring::Bob);
			assert_eq!(
				equilibrium_runtime::Assets::balance(STABLE_ASSET_ID, &bob),
				STABLE_ENDOWMENT
			);
			assert_eq!(equilibrium_runtime::Assets::decimals(STABLE_ASSET_ID), STABLE_DECIMALS);
			assert_eq!(equilibrium_runtime::Assets::symbol(STABLE_ASSET_ID), b"USDD".to_vec());
			// Transfers work, and the asset is sufficient: a fresh account may hold it alone.
			let fresh = sp_runtime::AccountId32::new([7; 32]);
			assert_ok!(equilibrium_runtime::Assets::transfer(
				signed(Sr25519Keyring::Alice),
				STABLE_ASSET_ID.into(),
				fresh.clone().into(),
				1_000_000,
			));
			assert_eq!(equilibrium_runtime::Assets::balance(STABLE_ASSET_ID, &fresh), 1_000_000);
			assert_eq!(
				equilibrium_runtime::Assets::balance(STABLE_ASSET_ID, &alice),
				STABLE_ENDOWMENT - 1_000_000
			);
		});
	}
}

#[test]
fn market_fees_reach_the_treasury_every_epoch() {
	chain_from_preset("development").execute_with(|| {
		let treasury = TreasuryAccount::get();
		let before = Balances::balance(&treasury);
		let events = run_until(demo_market().epoch_length + 1, |events| {
			events.iter().any(|event| {
				matches!(
					event,
					RuntimeEvent::ContractEquilibrium(
						pallet_contract_equilibrium::Event::EpochSettled { .. }
					)
				)
			})
		});
		let outcome = events
			.iter()
			.find_map(|event| match event {
				RuntimeEvent::ContractEquilibrium(
					pallet_contract_equilibrium::Event::EpochSettled { outcome, .. },
				) => Some(outcome.clone()),
				_ => None,
			})
			.unwrap();
		let payee = account(Sr25519Keyring::Ferdie);
		let fees = Balances::balance(&treasury) - before;
		let to_payee = Balances::balance(&payee).saturating_sub(genesis_config_presets::ENDOWMENT);
		assert!(fees > 0);
		assert_eq!(fees + to_payee, outcome.total_paid, "every payment is split between them");
	});
}

/// The runtime upgrade that brings version-1 market storage to version 2, run by `Executive`
/// with every pre- and post-upgrade check and every pallet's invariants
/// (`try_runtime_upgrade`), on the demo market after it settled an epoch: the version-1 bids
/// (one list, budgets held) become per-bidder bids with their budgets in escrow.
#[cfg(feature = "try-runtime")]
#[test]
fn the_market_storage_migrates_from_version_1_in_a_runtime_upgrade() {
	use frame_support::traits::{
		fungible::MutateHold, GetStorageVersion, StorageVersion, UpgradeCheckSelect,
	};
	use pallet_contract_equilibrium::{
		migrations::v2::{v1, BidV1, NextOrderV1},
		Bids, Books, EpochOutcomes, HoldReason, Markets,
	};
	chain_from_preset("development").execute_with(|| {
		run_until(20, |events| {
			events.iter().any(|event| {
				matches!(
					event,
					RuntimeEvent::ContractEquilibrium(
						pallet_contract_equilibrium::Event::EpochSettled { .. }
					)
				)
			})
		});
		// Rewrite the bids as version 1 stored them: one list, budgets held; Alice's bid was
		// withdrawing.
		let alice = account(Sr25519Keyring::Alice);
		let escrow = ContractEquilibrium::escrow_account();
		let mut old = Vec::new();
		for (bidder, curve) in demo_bidders() {
			let who = account(bidder);
			// Settled first: what is left in escrow is then the bid's own.
			assert_ok!(ContractEquilibrium::settle_bid(
				RuntimeOrigin::signed(account(Sr25519Keyring::Bob)),
				0,
				who.clone()
			));
			let bid = Bids::<Runtime>::take(0, &who).expect("a demo bid");
			// Give the escrow back and hold it as version 1 did.
			assert_ok!(<Balances as frame_support::traits::fungible::Mutate<AccountId>>::transfer(
				&escrow,
				&who,
				bid.escrow,
				frame_support::traits::tokens::Preservation::Preserve,
			));
			assert_ok!(Balances::hold(&HoldReason::BidBudget.into(), &who, bid.escrow));
			old.push(BidV1 {
				bidder: who.clone(),
				curve,
				budget: bid.escrow,
				deposit: bid.deposit,
				counted_from: 0,
				next: if who == alice { NextOrderV1::Withdraw } else { NextOrderV1::Keep },
			});
		}
		let _ = pallet_contract_equilibrium::Clearings::<Runtime>::clear_prefix(0, u32::MAX, None);
		let _ =
			pallet_contract_equilibrium::BookChanges::<Runtime>::clear_prefix(0, u32::MAX, None);
		Books::<Runtime>::remove(0);
		v1::Bids::<Runtime>::insert(0, old.clone());
		let market = pallet_contract_equilibrium::migrations::v2::put_market_as_v1::<Runtime>(0)
			.expect("a market to rewrite");
		let outcome = EpochOutcomes::<Runtime>::get(0, 0).expect("epoch 0 settled");
		StorageVersion::new(1).put::<ContractEquilibrium>();
		// (Version 1's outcomes had another layout; the pallet's own test migrates them.)
		let _ = EpochOutcomes::<Runtime>::clear_prefix(0, u32::MAX, None);

		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the upgrade checks pass");

		assert_eq!(ContractEquilibrium::on_chain_storage_version(), StorageVersion::new(2));
		assert_eq!(Markets::<Runtime>::count(), 1);
		assert_eq!(Markets::<Runtime>::get(0), Some(market));
		assert!(v1::Bids::<Runtime>::get(0).is_none());
		assert_eq!(Books::<Runtime>::get(0).map(|book| book.bids), Some(old.len() as u32));
		for bid in &old {
			let migrated = Bids::<Runtime>::get(0, &bid.bidder).expect("migrated");
			assert_eq!((migrated.escrow, migrated.order.curve), (bid.budget, bid.curve));
			assert!(Balances::balance_on_hold(&HoldReason::BidBudget.into(), &bid.bidder).is_zero());
		}
		let _ = outcome;
		// The market runs on: after the epoch, Alice's bid can be settled and leaves, refunded.
		run_until(20, |events| {
			events.iter().any(|event| {
				matches!(
					event,
					RuntimeEvent::ContractEquilibrium(
						pallet_contract_equilibrium::Event::EpochSettled { .. }
					)
				)
			})
		});
		assert_ok!(ContractEquilibrium::settle_bid(
			RuntimeOrigin::signed(account(Sr25519Keyring::Bob)),
			0,
			alice.clone()
		));
		assert!(Bids::<Runtime>::get(0, &alice).is_none());
	});
}

/// The runtime upgrade that brings version-0 intermediated-trade storage to version 1, run by
/// `Executive` with every pre- and post-upgrade check and every pallet's invariants
/// (`try_runtime_upgrade`): a round in progress under the old rules is cancelled and every
/// hold it had is released.
#[cfg(feature = "try-runtime")]
#[test]
fn the_intermediated_trade_storage_migrates_from_version_0_in_a_runtime_upgrade() {
	use frame_support::traits::{
		fungible::{InspectHold, MutateHold},
		GetStorageVersion, StorageVersion, UpgradeCheckSelect,
	};
	use pallet_intermediated_trade::{
		migrations::v1::{v0, PhaseV0, RoundV0},
		HoldReason, Rounds,
	};
	chain_from_preset("development").execute_with(|| {
		next_block();
		let [bd_rm, bd_mm, rm, mm] = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.map(account);
		let before: Vec<Balance> =
			[&bd_rm, &bd_mm, &rm, &mm].iter().map(|who| Balances::total_balance(who)).collect();
		let round = RoundV0 {
			rm_dealer: bd_rm.clone(),
			mm_dealer: bd_mm.clone(),
			rm: rm.clone(),
			mm: mm.clone(),
			phase: PhaseV0::DealerOffer,
			deadline: 50,
			dealer_deposit: 100 * UNIT,
			round_deposit: UNIT,
			rm_commitment: [1; 32],
			mm_commitment: Some([2; 32]),
			rm_report: None,
			mm_report: None,
			terms: None,
			interest_held: 18 * UNIT,
		};
		for (who, reason, amount) in round.holds() {
			assert_ok!(Balances::hold(&reason.into(), who, amount));
		}
		v0::Rounds::<Runtime>::insert(0, round);
		v0::Deadlines::<Runtime>::put(frame_support::BoundedVec::truncate_from(vec![(0, 50)]));
		pallet_intermediated_trade::NextRoundId::<Runtime>::put(1);
		StorageVersion::new(0).put::<IntermediatedTrade>();

		Executive::try_runtime_upgrade(UpgradeCheckSelect::All).expect("the upgrade checks pass");

		assert_eq!(IntermediatedTrade::on_chain_storage_version(), StorageVersion::new(1));
		assert_eq!(Rounds::<Runtime>::iter().count(), 0);
		for (who, total) in [&bd_rm, &bd_mm, &rm, &mm].into_iter().zip(before) {
			assert_eq!(Balances::total_balance(who), total);
			for reason in [HoldReason::Deposit, HoldReason::RoundDeposit, HoldReason::Interest] {
				assert_eq!(Balances::balance_on_hold(&reason.into(), who), 0);
			}
		}
		// Rounds go on under the new rules.
		assert_ok!(IntermediatedTrade::open_round(
			signed(Sr25519Keyring::Alice),
			bd_mm,
			rm,
			mm,
			100 * UNIT
		));
		assert_eq!(pallet_intermediated_trade::NextRoundId::<Runtime>::get(), 2);
	});
}
