//! The pallet's stored and reported types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use contract_equilibrium_primitives::{DemandCurve, FixedI128, FixedU128, MarketParams, Perbill};
use scale_info::TypeInfo;
use sp_runtime::traits::{Saturating, Zero};

/// A market's identifier: markets are numbered from zero in order of creation.
pub type MarketId = u32;

/// An epoch's number within its market, from zero.
pub type EpochIndex = u32;

/// A market: what governance set and where the price stands.
///
/// Its epoch under way runs from `epoch_start` for `params.epoch_length` blocks and is sealed
/// from [`Market::seal_block`] on (see [`Bid`]).
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

/// What happens to a bid once the epoch under way has settled.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum NextOrder<Balance> {
	/// The bid stays as it is.
	Keep,
	/// The bid is replaced: from the next epoch it demands by `curve` with `budget`, which is
	/// held already, in full; what is left of the old budget is then released.
	Replace {
		/// The new demand curve.
		curve: DemandCurve,
		/// The new budget, held since the replacement was asked for.
		budget: Balance,
	},
	/// The bid leaves: it is removed and its holds released.
	Withdraw,
}

impl<AccountId, BlockNumber: sp_runtime::traits::AtLeast32BitUnsigned + Copy>
	Market<AccountId, BlockNumber>
{
	/// The first block of the epoch under way in which the book is sealed: `⌊L/2⌋` blocks after
	/// the epoch started.
	pub fn seal_block(&self) -> BlockNumber {
		self.epoch_start.saturating_add(BlockNumber::from(self.params.epoch_length / 2))
	}

	/// The block whose first step settles the epoch under way.
	pub fn epoch_end(&self) -> BlockNumber {
		self.epoch_start.saturating_add(BlockNumber::from(self.params.epoch_length))
	}
}

/// A bidder's standing demand in a market.
///
/// An epoch of `L` blocks is open for its first `⌊L/2⌋` blocks and sealed for the rest. While
/// it is open, bids placed or replaced count at once (in the rest of its price steps and in its
/// settlement). Once it is sealed, a new bid counts from the next epoch and a replacement takes
/// effect when the next epoch starts, after this one has settled with the old bid. So the price
/// takes at least `⌈L/2⌉` steps on exactly the bids the epoch settles. A withdrawal always waits
/// for the settlement of the epoch in which the bid counted.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Bid<AccountId, Balance> {
	/// Who bids.
	pub bidder: AccountId,
	/// How the bidder demands.
	pub curve: DemandCurve,
	/// What is left of the budget, held from the bidder's balance: the most the bidder can
	/// still be charged. Each settlement draws its payment from it, and the bid counts only as
	/// far as it pays.
	pub budget: Balance,
	/// The storage deposit held while the bid exists.
	pub deposit: Balance,
	/// The first epoch the bid counts in.
	pub counted_from: EpochIndex,
	/// What happens to the bid once the epoch under way has settled.
	pub next: NextOrder<Balance>,
}

impl<AccountId, Balance> Bid<AccountId, Balance> {
	/// Whether the bid counts in epoch `epoch`.
	pub fn counts_in(&self, epoch: EpochIndex) -> bool {
		self.counted_from <= epoch
	}

	/// The budget held for a pending replacement, if any.
	pub fn replacement_budget(&self) -> Option<&Balance> {
		match &self.next {
			NextOrder::Replace { budget, .. } => Some(budget),
			_ => None,
		}
	}
}

impl<AccountId, Balance: Saturating + Zero + Copy> Bid<AccountId, Balance> {
	/// Everything held as budget for this bid: what is left of its budget plus a pending
	/// replacement's.
	pub fn held_budget(&self) -> Balance {
		self.budget.saturating_add(self.replacement_budget().copied().unwrap_or_else(Zero::zero))
	}
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
	/// `m`: the capacity the epoch had, in units (`total_allocated` never exceeds it).
	pub capacity: FixedU128,
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
