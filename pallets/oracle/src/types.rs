//! The oracle's stored types and the interface other pallets read prices through.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use liquidity_market_primitives::FixedU128;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// An asset's oracle settings.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxFeeders))]
// The `NoBound` derives need the bounds on the parameters; the codec derives repeat them.
#[allow(clippy::multiple_bound_locations)]
pub struct OracleSettings<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxFeeders: Get<u32>,
> {
	/// The accounts whose feeds count, each once.
	pub feeders: BoundedVec<AccountId, MaxFeeders>,
	/// The fewest fresh feeds the published price is updated from.
	pub min_feeds: u32,
	/// For how many blocks a feed, and the published price, stay fresh.
	pub max_age: BlockNumber,
	/// The most the published price may move per block, as a share of the previous block's
	/// price.
	pub max_change_per_block: Perbill,
}

/// A feeder's latest price.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Feed<BlockNumber> {
	/// The price of one whole unit of the asset, in the numeraire.
	pub price: FixedU128,
	/// The block it was posted in.
	pub posted_at: BlockNumber,
}

/// An asset's published price.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct PriceRecord<BlockNumber> {
	/// The price of one whole unit of the asset, in the numeraire.
	pub price: FixedU128,
	/// The last block the price was updated from enough fresh feeds.
	pub updated_at: BlockNumber,
	/// The first block of the current fresh spell: the price has been updated at most
	/// `max_age` blocks apart since then. Consumers wait a grace period after it before they
	/// liquidate again.
	pub fresh_since: BlockNumber,
	/// The price at the end of the last block before `updated_at` that updated it: each block's
	/// move is bounded relative to it.
	pub anchor: FixedU128,
	/// How many blocks lie between the anchor's block and `updated_at`: the move from the
	/// anchor may be that many times the per-block bound.
	pub anchor_blocks: u32,
}

/// What other pallets read from the oracle.
pub trait PriceOracle<AssetId, BlockNumber> {
	/// The price of one whole unit of `asset` if it is fresh (updated within its oracle's
	/// `max_age` blocks), with the block its fresh spell began; `None` if it is stale or has
	/// no oracle.
	fn fresh_price(asset: &AssetId) -> Option<(FixedU128, BlockNumber)>;

	/// Benchmarks only: makes `price` `asset`'s fresh price, fresh since the chain began.
	#[cfg(feature = "runtime-benchmarks")]
	fn set_fresh_price(asset: &AssetId, price: FixedU128);
}

/// Makes asset identifiers for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId> {
	/// The `index`-th asset.
	fn asset(index: u32) -> AssetId;
}
