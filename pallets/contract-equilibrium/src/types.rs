//! The pallet's stored and reported types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use contract_equilibrium_primitives::{DemandCurve, FixedI128, FixedU128, MarketParams, Perbill};
use scale_info::TypeInfo;

/// A market's identifier: markets are numbered from zero in order of creation.
pub type MarketId = u32;

/// An epoch's number within its market, from zero.
pub type EpochIndex = u32;

/// A market: what governance set and where the price stands.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Market<AccountId, BlockNumber> {
	/// The parameters governance set; changes apply from the next block.
	pub params: MarketParams<AccountId>,
	/// `μ`: the posted price, in tokens per unit (fixed point, 18 decimals).
	pub price: FixedU128,
	/// `S(μ)` when the price was last stepped, in units.
	pub aggregate_demand: FixedU128,
	/// Whether the last step found the market converged (see [`MarketParams::tolerance`]).
	pub converged: bool,
	/// The epoch under way.
	pub epoch: EpochIndex,
	/// The block the epoch under way started in; it settles `epoch_length` blocks later.
	pub epoch_start: BlockNumber,
}

/// A bidder's standing demand in a market.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Bid<AccountId, Balance> {
	/// Who bids.
	pub bidder: AccountId,
	/// How the bidder demands.
	pub curve: DemandCurve,
	/// What is left of the budget, held from the bidder's balance: the most the bidder can
	/// still be charged. Each settlement draws its payment from it.
	pub budget: Balance,
	/// The storage deposit held while the bid exists.
	pub deposit: Balance,
	/// The bidder asked to leave: the bid is settled once more, at the end of the epoch under
	/// way, and then removed with its holds released.
	pub withdrawing: bool,
}

/// What one epoch of a market produced.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct EpochOutcome<Balance> {
	/// The price the epoch settled at, in tokens per unit.
	pub price: FixedU128,
	/// `Σ x`: the units allocated, never above capacity.
	pub total_allocated: FixedU128,
	/// The efficiency of the allocation: `Σ α·ln(1 + x) − β·x` over log-utility bidders, in
	/// tokens.
	pub total_surplus: FixedU128,
	/// `1 − Gini` of the allocations over all bidders.
	pub fairness: Perbill,
	/// The share of bidders who received an allocation.
	pub participation: Perbill,
	/// The number of bidders settled.
	pub bidders: u32,
	/// What bidders paid in all, in the token's smallest unit.
	pub total_paid: Balance,
}

/// The state of a market as the runtime API reports it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct MarketView<AccountId, BlockNumber> {
	/// The market as stored.
	pub market: Market<AccountId, BlockNumber>,
	/// The number of bids.
	pub bidders: u32,
}

/// The exact equilibrium of a market's current demand.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct EquilibriumView {
	/// `μ*`: the clearing price within the market's bounds, in tokens per unit.
	pub clearing_price: FixedU128,
	/// `S(μ*)`, in units.
	pub demand_at_clearing_price: FixedU128,
	/// The posted price `μ_t`.
	pub price: FixedU128,
	/// `|μ_t − μ*|`.
	pub distance: FixedU128,
	/// `S(μ_t) − m`, in units.
	pub excess_demand: FixedI128,
}

/// What a demand curve would get and pay in a market at its posted price.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct QuoteView<Balance> {
	/// The allocation before any rationing, in units.
	pub allocation: FixedU128,
	/// The payment `(μ + τ)·x + g` (zero when `x = 0`), in tokens.
	pub payment: FixedU128,
	/// The same payment in the token's smallest unit.
	pub payment_in_balance: Balance,
}
