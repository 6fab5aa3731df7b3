//! # A runtime fuzzer for the contract-equilibrium chain
//!
//! Runs random sequences of blocks and extrinsics against the real runtime (every pallet, the
//! real `Executive`, the real transaction extensions) and checks the chain's invariants after
//! every block. A broken invariant or a panic anywhere in the runtime is a crash.
//!
//! **An input** is a sequence of operations, each:
//!
//! ```text
//! lapse: u8     blocks to finish before the call: 0–3 (lapse % 4) below 250; 10, 20, 30, 40, 50
//!               for 250–254; 100 for 255
//! origin: u8    origin % 8: 0–5 a signed extrinsic of Alice, Bob, Charlie, Dave, Eve, Ferdie
//!               (signed, with the runtime's transaction extensions: nonce, fees, weight);
//!               6 the root origin and 7 the `market_admin` governance origin, for the
//!               market's and the oracle's admin calls only (what a referendum would
//!               dispatch)
//! call          a SCALE-encoded `RuntimeCall`, decoded with a nesting limit
//! ```
//!
//! The input ends where the bytes no longer decode. Calls that would give an account root
//! (`Sudo`) are skipped, as are root calls outside the market (root can rewrite any storage by
//! design). At most [`MAX_BLOCKS`] blocks are produced per input.
//!
//! **Blocks** are produced one at a time, never skipping a number: an Aura pre-digest with the
//! block's slot, `Executive::initialize_block`, the timestamp inherent, the calls, then
//! `Executive::finalize_block`. A call that would overflow the block is rejected by the
//! transaction extensions and skipped, as a block author would.
//!
//! **After every block** ([`check_invariants`]):
//! - every pallet's `try_state` (the market's book, escrow, clearing records, prices within
//!   bounds and allocations within capacity; the repo contract's holds, deadlines and counts;
//!   balances, referenda, scheduler, treasury …);
//! - the total issuance equals the sum of every account's balance, and never rises (this
//!   runtime mints nothing after genesis; fees are burned);
//! - no account's holds exceed its reserved balance;
//! - the block's consumed weight is within the block's limit.
//!
//! See `docs/testing.md`.

pub mod generate;

use codec::{DecodeLimit, Encode};
use equilibrium_runtime::{
	governance::origins::Origin as GovernanceOrigin, AllPalletsWithSystem, Executive, Header,
	Runtime, RuntimeCall, RuntimeGenesisConfig, RuntimeOrigin, SignedPayload, TxExtension,
	UncheckedExtrinsic, SLOT_DURATION,
};
use frame_support::traits::{TryState, TryStateSelect, UnfilteredDispatchable};
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_core::{sr25519, Pair as _, H256};
use sp_io::TestExternalities;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::Era, traits::Header as _, BuildStorage, Digest, DigestItem, MultiAddress, Storage,
};
use sp_state_machine::InMemoryBackend;
use std::sync::OnceLock;

/// The accounts that sign: the development accounts, endowed at genesis.
pub const ACCOUNTS: [Sr25519Keyring; 6] = [
	Sr25519Keyring::Alice,
	Sr25519Keyring::Bob,
	Sr25519Keyring::Charlie,
	Sr25519Keyring::Dave,
	Sr25519Keyring::Eve,
	Sr25519Keyring::Ferdie,
];

/// The origin byte's value for the root origin.
pub const ROOT: u8 = 6;
/// The origin byte's value for the `market_admin` governance origin.
pub const MARKET_ADMIN: u8 = 7;
/// The most blocks one input produces.
pub const MAX_BLOCKS: u32 = 512;
/// How deeply a call may nest calls (batches, proxies, referenda proposals).
pub const MAX_CALL_DEPTH: u32 = 32;

/// What one input did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
	/// Blocks produced.
	pub blocks: u32,
	/// Calls that were included and dispatched successfully.
	pub succeeded: u32,
	/// Calls that were included and failed (a named error: fees paid, nothing else changed).
	pub failed: u32,
	/// Calls that were not included: invalid transactions (a bad nonce, no funds for the fee,
	/// a full block) or calls the fuzzer does not send.
	pub skipped: u32,
}

/// The development chain's genesis state, built once.
pub fn genesis() -> &'static Storage {
	static GENESIS: OnceLock<Storage> = OnceLock::new();
	GENESIS.get_or_init(|| {
		let patch = equilibrium_runtime::genesis_config_presets::get_preset(&"development".into())
			.expect("the development preset exists");
		let mut config =
			serde_json::to_value(RuntimeGenesisConfig::default()).expect("the default config");
		merge(&mut config, serde_json::from_slice(&patch).expect("the preset is JSON"));
		let config: RuntimeGenesisConfig =
			serde_json::from_value(config).expect("the preset is a genesis config");
		config.build_storage().expect("the preset builds")
	})
}

/// Merges a JSON patch into a JSON value (objects key by key, everything else replaced).
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The genesis state as a storage backend (its trie built once per thread; each input starts
/// from a copy).
fn genesis_backend() -> InMemoryBackend<sp_core::Blake2Hasher> {
	thread_local! {
		static BACKEND: InMemoryBackend<sp_core::Blake2Hasher> =
			TestExternalities::new(genesis().clone()).as_backend();
	}
	BACKEND.with(Clone::clone)
}

/// Runs one input from the genesis state; panics if an invariant breaks (or the runtime
/// panics).
pub fn run(input: &[u8]) -> Outcome {
	let mut ext = TestExternalities::new_empty();
	ext.backend = genesis_backend();
	Chain::new(ext).run(input)
}

/// The chain as the fuzzer drives it.
///
/// Like a node, it commits each finished block's changes to its state, so the work of a block
/// (its storage root above all) does not grow with the blocks before it.
struct Chain {
	/// The chain's state: committed blocks, plus the open block's changes.
	ext: TestExternalities,
	/// The block open for extrinsics.
	number: u32,
	/// The hash of the last finalized block.
	parent_hash: H256,
	/// The total issuance after the last block.
	issuance: u128,
	outcome: Outcome,
}

impl Chain {
	fn new(mut ext: TestExternalities) -> Self {
		let issuance = ext.execute_with(pallet_balances::TotalIssuance::<Runtime>::get);
		let mut chain = Chain {
			ext,
			number: 0,
			parent_hash: H256::zero(),
			issuance,
			outcome: Outcome::default(),
		};
		chain.start_block();
		chain
	}

	fn run(mut self, mut input: &[u8]) -> Outcome {
		while let [lapse, origin, rest @ ..] = input {
			let mut rest = rest;
			let Ok(call) = RuntimeCall::decode_with_depth_limit(MAX_CALL_DEPTH, &mut rest) else {
				break;
			};
			input = rest;
			for _ in 0..lapse_blocks(*lapse) {
				if self.outcome.blocks.saturating_add(1) >= MAX_BLOCKS {
					break;
				}
				self.end_block();
				self.start_block();
			}
			self.apply(*origin, call);
		}
		self.end_block();
		self.outcome
	}

	fn start_block(&mut self) {
		self.number = self.number.saturating_add(1);
		let number = self.number;
		let parent_hash = self.parent_hash;
		self.ext.execute_with(|| {
			let slot = Slot::from(u64::from(number));
			let digest =
				Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
			let header =
				Header::new(number, Default::default(), Default::default(), parent_hash, digest);
			Executive::initialize_block(&header);
			let now = u64::from(number).saturating_mul(SLOT_DURATION);
			let inherent =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
					now,
				}));
			Executive::apply_extrinsic(inherent)
				.expect("the timestamp inherent is valid")
				.expect("the timestamp inherent succeeds");
			Executive::inherents_applied();
		});
	}

	fn end_block(&mut self) {
		let (number, issuance) = (self.number, self.issuance);
		let (header, issuance) = self.ext.execute_with(|| {
			let header = Executive::finalize_block();
			(header, check_invariants(number, issuance))
		});
		self.ext.commit_all().expect("a finished block's changes commit");
		self.parent_hash = header.hash();
		self.issuance = issuance;
		self.outcome.blocks = self.outcome.blocks.saturating_add(1);
	}

	fn apply(&mut self, origin: u8, call: RuntimeCall) {
		let origin = origin % 8;
		if !sendable(origin, &call) {
			self.outcome.skipped = self.outcome.skipped.saturating_add(1);
			return;
		}
		let dispatched = self.ext.execute_with(|| match origin {
			ROOT | MARKET_ADMIN => {
				let origin = if origin == ROOT {
					RuntimeOrigin::root()
				} else {
					GovernanceOrigin::MarketAdmin.into()
				};
				// What a referendum's enactment dispatches (the scheduler accounts for its weight
				// in its own hook; here it is not counted in the block).
				Some(call.dispatch_bypass_filter(origin).is_ok())
			},
			signer => match Executive::apply_extrinsic(signed(ACCOUNTS[usize::from(signer)], call))
			{
				Ok(result) => Some(result.is_ok()),
				// Not includable: a block author would leave it out.
				Err(_) => None,
			},
		});
		match dispatched {
			Some(true) => self.outcome.succeeded = self.outcome.succeeded.saturating_add(1),
			Some(false) => self.outcome.failed = self.outcome.failed.saturating_add(1),
			None => self.outcome.skipped = self.outcome.skipped.saturating_add(1),
		}
	}
}

/// The blocks to finish before a call, from its lapse byte.
pub fn lapse_blocks(lapse: u8) -> u32 {
	match lapse {
		0..=249 => u32::from(lapse % 4),
		250..=254 => u32::from(lapse.saturating_sub(249)).saturating_mul(10),
		255 => 100,
	}
}

/// Whether the fuzzer sends `call` from `origin` (see the crate's documentation).
pub fn sendable(origin: u8, call: &RuntimeCall) -> bool {
	match origin % 8 {
		ROOT | MARKET_ADMIN => {
			matches!(call, RuntimeCall::ContractEquilibrium(_) | RuntimeCall::Oracle(_))
		},
		_ => !matches!(call, RuntimeCall::Sudo(_)),
	}
}

/// `call` as a signed extrinsic of `who`, with the runtime's transaction extensions (an
/// immortal era, the account's next nonce, no tip).
pub fn signed(who: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	let account = who.to_account_id();
	let nonce = frame_system::Pallet::<Runtime>::account_nonce(&account);
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		frame_system::WeightReclaim::new(),
	);
	let payload =
		SignedPayload::new(call.clone(), extension.clone()).expect("the implicit data exists");
	let signature = payload.using_encoded(|bytes| key_pair(who).sign(bytes));
	UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature.into(), extension)
}

/// `who`'s key pair, derived once: deriving it from the development phrase (PBKDF2, 2 048
/// rounds of SHA-512) took a quarter of the harness's time when done for every signature.
fn key_pair(who: Sr25519Keyring) -> sr25519::Pair {
	static PAIRS: OnceLock<[(Sr25519Keyring, sr25519::Pair); ACCOUNTS.len()]> = OnceLock::new();
	let pairs = PAIRS.get_or_init(|| ACCOUNTS.map(|account| (account, account.pair())));
	pairs
		.iter()
		.find(|(account, _)| *account == who)
		.map_or_else(|| who.pair(), |(_, pair)| pair.clone())
}

/// Checks every invariant after block `number`; `issuance` is the total issuance after the
/// block before. Returns the total issuance now. Panics, naming the invariant, if one breaks.
pub fn check_invariants(number: u32, issuance: u128) -> u128 {
	AllPalletsWithSystem::try_state(number, TryStateSelect::All)
		.unwrap_or_else(|error| panic!("block {number}: try_state: {error:?}"));

	let total = pallet_balances::TotalIssuance::<Runtime>::get();
	let mut sum: u128 = 0;
	for (who, info) in frame_system::Account::<Runtime>::iter() {
		let data = info.data;
		sum = sum.saturating_add(data.free).saturating_add(data.reserved);
		let held: u128 = pallet_balances::Holds::<Runtime>::get(&who)
			.iter()
			.map(|hold| hold.amount)
			.fold(0, u128::saturating_add);
		assert!(
			held <= data.reserved,
			"block {number}: {who} holds {held} > reserved {}",
			data.reserved
		);
	}
	assert_eq!(sum, total, "block {number}: the accounts' balances do not add up to the issuance");
	assert!(total <= issuance, "block {number}: the issuance rose from {issuance} to {total}");

	let limit = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	let used = frame_system::BlockWeight::<Runtime>::get().total();
	assert!(used.all_lte(limit), "block {number}: weight {used:?} beyond the limit {limit:?}");
	total
}
