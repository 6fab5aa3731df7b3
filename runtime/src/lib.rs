//! # The contract-equilibrium runtime
//!
//! A FRAME runtime for a sovereign chain with Aura block production, GRANDPA finality, the native
//! token (`pallet-balances`), transaction fees with a congestion-aware fee multiplier, the
//! contract-equilibrium market, token-holder governance (referenda with conviction voting, a
//! `market_admin` track, the treasury), the intermediated-trade contract for repo rounds between
//! two clients and their broker-dealers and, with a key on development chains only,
//! `pallet-sudo`.
//!
//! The runtime is split by concern:
//! - [`configs`]: one `Config` implementation per concern (system, consensus, monetary, governance);
//! - [`governance`]: referenda with conviction voting, the custom origins and their tracks;
//! - [`apis`]: the runtime APIs the node and clients call;
//! - [`genesis_config_presets`]: the `development` and `local_testnet` genesis presets.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to code that depends on `frame_support` items.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Defines `list_benchmarks!` and `add_benchmarks!`, used by `apis`: it must come first.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types. They are used by the node to do the things it must do without knowing the
/// specifics of the runtime, such as decoding blocks and session keys.
pub mod opaque {
	use super::*;
	use sp_runtime::{
		generic,
		traits::{BlakeTwo256, Hash as HashT},
	};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;

	impl_opaque_keys! {
		/// The session keys of a validator: an Aura key to author blocks and a GRANDPA key to vote
		/// on finality.
		pub struct SessionKeys {
			/// The Aura (block authoring) key.
			pub aura: Aura,
			/// The GRANDPA (finality) key.
			pub grandpa: Grandpa,
		}
	}
}

/// The runtime version. Bump `spec_version` on every change of runtime logic and
/// `transaction_version` whenever the encoding of calls or transaction extensions changes.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("contract-equilibrium"),
	impl_name: alloc::borrow::Cow::Borrowed("contract-equilibrium"),
	authoring_version: 1,
	spec_version: 106,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 2,
	system_version: 1,
};

mod block_times {
	/// The target time between two blocks, in milliseconds.
	///
	/// Changing this after the chain has started breaks block production: Aura derives the slot
	/// from the timestamp and the slot duration.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;

	/// The slot duration of Aura, equal to the target block time.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Blocks produced in one minute at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks produced in one hour at the target block time.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks produced in one day at the target block time.
pub const DAYS: BlockNumber = HOURS * 24;

/// How many blocks an extrinsic's mortality may refer back to.
pub const BLOCK_HASH_COUNT: BlockNumber = 2400;

/// One unit of the native token (`EQ`), with 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
/// One thousandth of a unit.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// One millionth of a unit.
pub const MICRO_UNIT: Balance = 1_000_000;

/// The minimum balance an account must hold to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// An index to a block.
pub type BlockNumber = u32;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;

/// Some way of identifying an account on the chain: the public key of its signature scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in the smallest unit of the native token (10⁻¹² EQ).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A Block signed with a Justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions every signed transaction carries, in order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// All migrations of the runtime, aside from the ones declared in the pallets.
#[allow(unused_parens)]
type Migrations = (
	pallet_contract_equilibrium::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_intermediated_trade::migrations::v1::MigrateV0ToV1<Runtime>,
);

/// Executive: handles dispatch to the various modules.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The runtime: the pallets it is made of, with their explicit indices. The indices are part of
/// the encoding of calls and events: never reuse or reorder them.
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
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(10)]
	pub type ContractEquilibrium = pallet_contract_equilibrium;

	// Governance.
	#[runtime::pallet_index(20)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(21)]
	pub type Scheduler = pallet_scheduler;

	#[runtime::pallet_index(22)]
	pub type Origins = governance::origins;

	#[runtime::pallet_index(23)]
	pub type ConvictionVoting = pallet_conviction_voting;

	#[runtime::pallet_index(24)]
	pub type Referenda = pallet_referenda;

	#[runtime::pallet_index(25)]
	pub type Treasury = pallet_treasury;

	// Intermediated trade.
	#[runtime::pallet_index(30)]
	pub type IntermediatedTrade = pallet_intermediated_trade;

	// Liquidity markets.
	#[runtime::pallet_index(40)]
	pub type Oracle = pallet_oracle;

	#[runtime::pallet_index(41)]
	pub type Assets = pallet_assets;

	#[runtime::pallet_index(42)]
	pub type LiquidityMarket = pallet_liquidity_market;
}
