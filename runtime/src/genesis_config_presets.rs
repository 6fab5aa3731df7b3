//! Genesis presets.
//!
//! - `development`: Alice alone authors blocks; Alice is the sudo key; referenda take a few
//!   blocks; a demo market ("compute", market 0) where Alice … Eve already bid, so the price moves
//!   from the first block.
//! - `local_testnet`: Alice, Bob, Charlie and Dave author blocks (`scripts/network`); no sudo key
//!   (only referenda change anything); referenda take days, as on a live network; the demo
//!   market is open with no orders.
//! - `benchmark`: `local_testnet` without any market, the state `scripts/benchmark` measures
//!   from (a market there would count against `MaxMarkets` and skew the per-market figures).
//!
//! All three endow the well-known development accounts and the treasury with EQ; `development`
//! and `local_testnet` also create the development stable asset (USDD, asset 1 of
//! `pallet-assets`, 6 decimals, issued by Alice) and give each of them a million.

use crate::{
	configs::{STABLE_ASSET_ID, STABLE_DECIMALS, STABLE_UNIT},
	governance::TrackTimings,
	AccountId, AssetsConfig, Balance, BalancesConfig, ContractEquilibriumConfig, OriginsConfig,
	RuntimeGenesisConfig, SudoConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_contract_equilibrium::{DemandCurve, FixedU128, MarketId, MarketParams, StepRule};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// What each endowed development account holds at genesis: one million EQ.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// The demo market's capacity: 20 units per epoch, about a third of what its five bidders demand
/// at a price of zero (≈ 54 units), so the price must rise to ration it (to μ* ≈ 1.32 EQ).
pub const DEMO_CAPACITY: u32 = 20;

/// The demo market's budget per bidder and epoch: 100 EQ, far more than an epoch costs.
pub const DEMO_BUDGET: Balance = 100 * UNIT;

/// How many epochs the demo market's genesis orders last: the most an order may (256
/// one-minute epochs, about four hours); bidders place new orders to stay longer.
pub const DEMO_EPOCHS: u32 = 256;

/// The demo market ("compute"): the paper's dual-ascent price rule, one-minute epochs of ten
/// 6-second blocks, a unit fee of 0.1 EQ and a fixed fee of 0.5 EQ per epoch, prices between 0
/// and 100 EQ per unit; Ferdie provides the resource and receives `μ·x`.
pub fn demo_market() -> MarketParams<AccountId> {
	MarketParams {
		capacity: FixedU128::from_u32(DEMO_CAPACITY),
		unit_fee: FixedU128::from_rational(1, 10),
		fixed_fee: FixedU128::from_rational(1, 2),
		// At most 1/L is used, where L bounds |S'|: ≈ 40 blocks from the floor to μ*.
		step_rule: StepRule::DualAscent { eta: FixedU128::from_rational(1, 10) },
		price_floor: FixedU128::from_u32(0),
		price_ceiling: FixedU128::from_u32(100),
		epoch_length: 10,
		tolerance: FixedU128::from_rational(1, 1000),
		payee: Sr25519Keyring::Ferdie.to_account_id(),
	}
}

/// The demo market's bidders and their log-utility agents `(α, β in tenths)`, drawn from the
/// paper's ranges α ∈ [5, 20], β ∈ [0.5, 5].
pub fn demo_bidders() -> Vec<(Sr25519Keyring, DemandCurve)> {
	let agent = |alpha: u32, beta_tenths: u128| DemandCurve::LogUtility {
		alpha: FixedU128::from_u32(alpha),
		beta: FixedU128::from_rational(beta_tenths, 10),
	};
	vec![
		(Sr25519Keyring::Alice, agent(20, 10)),
		(Sr25519Keyring::Bob, agent(15, 5)),
		(Sr25519Keyring::Charlie, agent(10, 20)),
		(Sr25519Keyring::Dave, agent(8, 10)),
		(Sr25519Keyring::Eve, agent(12, 30)),
	]
}

/// What each endowed development account holds of the stable asset at genesis: one million.
pub const STABLE_ENDOWMENT: Balance = 1_000_000 * STABLE_UNIT;

/// What a chain starts with beyond its accounts and authorities.
struct ChainSetup {
	/// Whether the development stable asset exists, with every endowed account holding
	/// [`STABLE_ENDOWMENT`].
	stable_asset: bool,
	/// The sudo key, if the chain has one.
	sudo: Option<AccountId>,
	/// How long referenda take.
	track_timings: TrackTimings,
	/// Markets created at genesis.
	markets: Vec<MarketParams<AccountId>>,
	/// Orders placed in them at genesis: `(market, bidder, curve, budget per epoch, epochs)`.
	demands: Vec<(MarketId, AccountId, DemandCurve, Balance, u32)>,
}

/// The genesis state of a chain with the given authorities, endowed accounts and setup.
fn testnet_genesis(
	initial_authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	setup: ChainSetup,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: setup.sudo },
		origins: OriginsConfig { track_timings: setup.track_timings },
		contract_equilibrium: ContractEquilibriumConfig {
			markets: setup.markets,
			demands: setup.demands,
		},
		assets: if setup.stable_asset {
			stable_asset(&endowed_accounts)
		} else {
			Default::default()
		},
	})
}

/// The development stable asset: sufficient (an account may hold it without EQ), 0.01 USDD the
/// least an account may hold, issued by Alice, a million to each of `holders`.
fn stable_asset(holders: &[AccountId]) -> AssetsConfig {
	AssetsConfig {
		assets: vec![(
			STABLE_ASSET_ID,
			Sr25519Keyring::Alice.to_account_id(),
			true,
			STABLE_UNIT / 100,
		)],
		metadata: vec![(
			STABLE_ASSET_ID,
			b"Development dollar".to_vec(),
			b"USDD".to_vec(),
			STABLE_DECIMALS,
		)],
		accounts: holders
			.iter()
			.map(|holder| (STABLE_ASSET_ID, holder.clone(), STABLE_ENDOWMENT))
			.collect(),
		next_asset_id: None,
		reserves: Vec::new(),
	}
}

/// The Aura (sr25519) and GRANDPA (ed25519) keys of a development authority.
fn authority_keys(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(aura.public().into(), grandpa.public().into())
}

/// The well-known development accounts (Alice … Ferdie and their `//stash` accounts) and the
/// treasury, which receives market fees.
fn endowed_development_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|member| member.to_account_id())
		.chain(core::iter::once(crate::configs::TreasuryAccount::get()))
		.collect()
}

/// The `development` preset: Alice alone authors and finalizes blocks and holds the sudo key;
/// referenda take a few blocks; the demo market runs from the first block.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed_development_accounts(),
		ChainSetup {
			stable_asset: true,
			sudo: Some(Sr25519Keyring::Alice.to_account_id()),
			track_timings: TrackTimings::Development,
			markets: vec![demo_market()],
			demands: demo_bidders()
				.into_iter()
				.map(|(bidder, curve)| (0, bidder.to_account_id(), curve, DEMO_BUDGET, DEMO_EPOCHS))
				.collect(),
		},
	)
}

/// The validators of the `local_testnet` preset. GRANDPA finalizes with more than two thirds of
/// them, so four validators keep finalizing with one of them down (three would not).
pub const LOCAL_TESTNET_VALIDATORS: [(Sr25519Keyring, Ed25519Keyring); 4] = [
	(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
	(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
	(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
	(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
];

/// The `local_testnet` preset: Alice, Bob, Charlie and Dave author and finalize blocks; there is
/// no sudo key and referenda take days, as on a live network. The demo market is open (with no
/// orders), so bids can be sent from the first block.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		LOCAL_TESTNET_VALIDATORS
			.iter()
			.map(|(aura, grandpa)| authority_keys(*aura, *grandpa))
			.collect(),
		endowed_development_accounts(),
		ChainSetup {
			stable_asset: true,
			sudo: None,
			track_timings: TrackTimings::Production,
			markets: vec![demo_market()],
			demands: Vec::new(),
		},
	)
}

/// The name of the preset benchmarks start from.
pub const BENCHMARK_PRESET: &str = "benchmark";

/// The `benchmark` preset: the `local_testnet` validators and accounts, no sudo key and no
/// market, so that the market pallet's benchmarks measure from an empty pallet.
pub fn benchmark_config_genesis() -> Value {
	testnet_genesis(
		LOCAL_TESTNET_VALIDATORS
			.iter()
			.map(|(aura, grandpa)| authority_keys(*aura, *grandpa))
			.collect(),
		endowed_development_accounts(),
		ChainSetup {
			stable_asset: false,
			sudo: None,
			track_timings: TrackTimings::Production,
			markets: Vec::new(),
			demands: Vec::new(),
		},
	)
}

/// The JSON patch of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		BENCHMARK_PRESET => benchmark_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// The names of the presets this runtime provides.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(BENCHMARK_PRESET),
	]
}
