//! The pallet's stored and reported types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use contract_equilibrium_primitives::{
	BookTotals, Clearing, DemandCurve, FixedI128, FixedU128, MarketParams,
};
use scale_info::TypeInfo;

/// A market's identifier: markets are numbered from zero in order of creation.
pub type MarketId = u32;

/// An epoch's number within its market, from zero.
pub type EpochIndex = u32;

/// A market: what governance set and where the price stands.
///
/// Its epoch under way runs from `epoch_start` for `epoch_length` blocks and is sealed from
/// [`Market::seal_block`] on (see [`Bid`]).
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
	/// The length of the epoch under way, in blocks: the parameters' when it started (a new
	/// length applies from the next epoch, so that nobody can unseal or shorten one under way).
	pub epoch_length: u32,
}

impl<AccountId, BlockNumber: sp_runtime::traits::AtLeast32BitUnsigned + Copy>
	Market<AccountId, BlockNumber>
{
	/// The first block of the epoch under way in which the book is sealed: `⌊L/2⌋` blocks after
	/// the epoch started.
	pub fn seal_block(&self) -> BlockNumber {
		self.epoch_start.saturating_add(BlockNumber::from(self.epoch_length / 2))
	}

	/// The block whose first step settles the epoch under way.
	pub fn epoch_end(&self) -> BlockNumber {
		self.epoch_start.saturating_add(BlockNumber::from(self.epoch_length))
	}
}

/// A market's order book in aggregate: the sums of the contracts of the bids that count in the
/// epoch under way, on the market's price grid (see `contract_equilibrium_primitives::book`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Book {
	/// The contracts of the orders that count in the epoch under way.
	pub totals: BookTotals,
	/// How many orders count in the epoch under way.
	pub counted: u32,
	/// How many bids the market holds (counted, waiting to count, or ended and not yet
	/// settled).
	pub bids: u32,
}

/// What changes in a market's book when one of its epochs starts: orders that start counting
/// and orders that stop.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct BookChange {
	/// The contracts of the orders that start counting.
	pub entering: BookTotals,
	/// The contracts of the orders that stop counting.
	pub leaving: BookTotals,
	/// How many orders start counting.
	pub entering_count: u32,
	/// How many orders stop counting.
	pub leaving_count: u32,
}

/// An order's terms: how it demands, what it may pay per epoch, and the epochs it counts in.
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
pub struct OrderTerms<Balance> {
	/// How the bidder demands.
	pub curve: DemandCurve,
	/// The most the order pays in one epoch, `g` included, in the token's smallest unit.
	pub budget: Balance,
	/// The first epoch it counts in.
	pub from: EpochIndex,
	/// The first epoch it no longer counts in: it counts in `from .. until`.
	pub until: EpochIndex,
	/// The first grid index at which it takes no part (see
	/// `contract_equilibrium_primitives::GridOrder`), fixed when the order was placed.
	pub exit: u16,
}

impl<Balance> OrderTerms<Balance> {
	/// Whether the order counts in epoch `epoch`.
	pub fn counts_in(&self, epoch: EpochIndex) -> bool {
		self.from <= epoch && epoch < self.until
	}
}

/// A bidder's orders in a market, with the escrow that pays for them.
///
/// An epoch of `L` blocks is open for its first `⌊L/2⌋` blocks and sealed for the rest. While
/// it is open, orders placed, replaced or withdrawn take effect at once (in the rest of the
/// epoch's price steps and in its settlement). Once it is sealed, a change takes effect when the
/// next epoch starts: an order that counts still settles the epoch under way, and pays for it.
///
/// The bid is settled lazily: each epoch's outcome is recorded for the market as a whole (a
/// [`Clearing`]), and the bid's allocation and payment for the epochs it counted in are worked
/// out from those records whenever it is next touched — by its bidder (a new order, a
/// withdrawal) or by anyone ([`crate::Pallet::settle_bid`]).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Bid<Balance> {
	/// The order in force, or the last one.
	pub order: OrderTerms<Balance>,
	/// An order placed while the book was sealed, to replace `order` from the next epoch.
	pub next: Option<OrderTerms<Balance>>,
	/// The epochs before this one are settled.
	pub settled_to: EpochIndex,
	/// What the pallet's escrow holds for this bid: the budgets of the epochs not yet settled.
	pub escrow: Balance,
	/// The storage deposit held while the bid exists.
	pub deposit: Balance,
}

impl<Balance: Copy> Bid<Balance> {
	/// The order in force and the one queued after it, if any, in that order.
	pub fn orders(&self) -> impl Iterator<Item = OrderTerms<Balance>> {
		[Some(self.order), self.next].into_iter().flatten()
	}

	/// The epochs of `terms` (one of [`Bid::orders`]) that are not settled yet and come before
	/// `through`.
	pub fn due_epochs(
		&self,
		terms: &OrderTerms<Balance>,
		through: EpochIndex,
	) -> core::ops::Range<EpochIndex> {
		terms.from.max(self.settled_to)..terms.until.min(through)
	}
}

/// What one epoch of a market produced.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct EpochOutcome<Balance> {
	/// How the epoch settled: its price and the weights every bid is settled with.
	pub clearing: Clearing,
	/// `S̃(μ)`: the demand counted at the price, in units.
	pub demand: FixedU128,
	/// The units allocated, never above capacity.
	pub total_allocated: FixedU128,
	/// How many orders counted.
	pub bidders: u32,
	/// How many of them received an allocation.
	pub participants: u32,
	/// What was paid out to the payee and the fee destination, in the token's smallest unit.
	pub total_paid: Balance,
	/// `m`: the capacity the epoch had, in units (`total_allocated` never exceeds it).
	pub capacity: FixedU128,
}

/// An epoch's clearing, kept while some bid that counted in it is not settled yet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ClearingRecord {
	/// How the epoch settled.
	pub clearing: Clearing,
	/// How many bids that counted in the epoch are not settled for it yet.
	pub unsettled: u32,
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

/// A bid as the runtime API reports it: as stored, with what settling it now would charge.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct BidView<Balance> {
	/// The bid as stored.
	pub bid: Bid<Balance>,
	/// The units it has been allocated in the epochs settled for the market but not yet for it.
	pub unsettled_allocation: FixedU128,
	/// What it owes for those epochs, in the token's smallest unit.
	pub unsettled_payment: Balance,
}
