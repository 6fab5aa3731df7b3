//! # Contract-equilibrium pallet
//!
//! A market for a shared resource of capacity `m` per epoch, cleared by a smart contract as in
//! Cha et al., "Mechanism Design and Equilibrium Analysis of Smart Contract–Mediated Resource
//! Allocation" (arXiv 2510.05504).
//!
//! - Governance ([`Config::MarketAdminOrigin`]) creates markets and sets their
//!   [`MarketParams`]: capacity, fees, price bounds, step rule, epoch length, tolerance, payee.
//! - Anyone places an order with [`Pallet::submit_demand`]: a [`DemandCurve`] (the paper's
//!   log-utility agent, evaluated by the chain at every price, a fixed quantity, or a line), a
//!   budget per epoch and a number of epochs. The budgets of all its epochs move
//!   into the pallet's escrow account; a storage deposit is held.
//! - An order counts only as far as its budget pays for it, `g` included, and a declared
//!   log-utility agent only where its allocation is worth its price and `g` (the paper's
//!   participation decision). The chain keeps every order's contract at each price of a fixed
//!   grid and their sums (the *book*, [`contract_equilibrium_primitives::book`]), so that pricing
//!   and settling cost the same whether a market holds ten bids or a hundred thousand.
//! - An agent that keeps its utility private (the paper's Algorithm 1) answers posted prices
//!   with [`Pallet::report_demand`]: each report is a point of its demand curve, and its order
//!   becomes the line through its last two points, so lagged reports cannot make the price
//!   overshoot.
//! - Every block, for every market, the pallet moves the price one step towards the clearing
//!   price `μ*` of the book (where `S̃(μ*) = m`), by the market's [`StepRule`] (a Robbins–Monro
//!   rule, for noisy reports, remembers its state in [`StepMemories`]).
//! - The book is sealed for the second half of every epoch: a change then takes effect from the
//!   next epoch, so the price takes its last steps of an epoch on exactly the orders the epoch
//!   settles, and every order that counted pays.
//! - Every epoch the pallet settles the book as a whole: it records the epoch's [`Clearing`]
//!   (price and rationing) and pays the market's payee and [`Config::FeeDestination`] out of
//!   escrow. Each bid's allocation and payment follow from the record and are settled lazily —
//!   when its bidder next acts, or by anyone with [`Pallet::settle_bid`] — in work bounded by
//!   [`Config::MaxOrderEpochs`].
//! - Governance closes a market with [`Pallet::close_market`]; every bid then settles what it
//!   owes and is refunded the rest — when touched, or by the pallet itself with the blocks'
//!   spare weight (`on_idle`).
//!
//! The math is pure and lives in [`contract_equilibrium_primitives`]; `docs/mechanism.md`
//! explains the model, the step rules, why they converge, and the units.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use contract_equilibrium_primitives::{
	Clearing, DemandCurve, FixedI128, FixedU128, MarketParams, Perbill, StepMemory, StepRule,
};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// A market as stored for runtime `T`.
pub type MarketOf<T> =
	Market<<T as frame_system::Config>::AccountId, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// A bid as stored for runtime `T`.
pub type BidOf<T> = Bid<BalanceOf<T>>;

/// An order's terms for runtime `T`.
pub type OrderTermsOf<T> = OrderTerms<BalanceOf<T>>;

/// An order placed at genesis: `(market, bidder, curve, budget per epoch, epochs)`.
pub type GenesisOrder<T> =
	(MarketId, <T as frame_system::Config>::AccountId, DemandCurve, BalanceOf<T>, u32);

/// A market's parameters for runtime `T`.
pub type MarketParamsOf<T> = MarketParams<<T as frame_system::Config>::AccountId>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::FixedPointOperand;

	/// The pallet's storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native token: budgets are escrowed, deposits held and payments made in it.
		type Currency: Inspect<Self::AccountId, Balance: FixedPointOperand>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Who creates markets and changes their parameters (governance).
		type MarketAdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Where the fees `τ·x + g` go (e.g. the treasury's account).
		type FeeDestination: Get<Self::AccountId>;

		/// The pallet's identifier, from which its escrow account is derived.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The token's smallest units per whole token (10¹² for 12 decimals): prices and fees are
		/// set in whole tokens and converted with it when payments are made.
		#[pallet::constant]
		type BalanceUnit: Get<BalanceOf<Self>>;

		/// The storage deposit held for each bid, returned when the bid is removed; also the
		/// smallest budget per epoch.
		#[pallet::constant]
		type BidDeposit: Get<BalanceOf<Self>>;

		/// The most bids a market holds.
		#[pallet::constant]
		type MaxBidders: Get<u32>;

		/// The most epochs one order lasts: it bounds the work of settling a bid.
		#[pallet::constant]
		type MaxOrderEpochs: Get<u32>;

		/// The most markets open at once (closed markets do not count).
		#[pallet::constant]
		type MaxMarkets: Get<u32>;

		/// How many past epochs' outcomes each market keeps.
		#[pallet::constant]
		type EpochHistoryDepth: Get<u32>;

		/// Weights of the calls and of the per-block work, from the benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds a bidder's funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The budget of a bid, in storage version 1 (budgets are escrowed since version 2;
		/// kept so that version-1 holds can be migrated).
		BidBudget,
		/// The storage deposit of a bid.
		BidDeposit,
	}

	/// The identifier the next market gets: the number of markets ever created.
	#[pallet::storage]
	pub type NextMarketId<T> = StorageValue<_, MarketId, ValueQuery>;

	/// The open markets, by identifier, with their count.
	#[pallet::storage]
	pub type Markets<T: Config> = CountedStorageMap<_, Twox64Concat, MarketId, MarketOf<T>>;

	/// Markets governance closed that still hold bids, as they were when they closed: their
	/// bids settle the epochs before `epoch` and are refunded the rest. Removed with the last bid.
	#[pallet::storage]
	pub type ClosedMarkets<T: Config> = StorageMap<_, Twox64Concat, MarketId, MarketOf<T>>;

	/// Each market's book: the orders that count in its epoch under way, in aggregate. Kept after
	/// a market closes until its last bid has left.
	#[pallet::storage]
	pub type Books<T: Config> = StorageMap<_, Twox64Concat, MarketId, Book>;

	/// What changes in a market's book when an epoch starts, for the epochs ahead (at most
	/// [`Config::MaxOrderEpochs`] ahead).
	#[pallet::storage]
	pub type BookChanges<T: Config> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Twox64Concat, EpochIndex, BookChange>;

	/// Each bidder's bid in each market.
	#[pallet::storage]
	pub type Bids<T: Config> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Blake2_128Concat, T::AccountId, BidOf<T>>;

	/// How each settled epoch cleared, kept while some bid that counted in it is not settled.
	#[pallet::storage]
	pub type Clearings<T: Config> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Twox64Concat, EpochIndex, ClearingRecord>;

	/// What each open market's price rule remembers between blocks (only a Robbins–Monro rule
	/// remembers anything: its step count, the sign of the last excess and the average
	/// price). Cleared when governance changes the market's parameters or closes it.
	#[pallet::storage]
	pub type StepMemories<T: Config> =
		StorageMap<_, Twox64Concat, MarketId, StepMemory, ValueQuery>;

	/// Each market's outcomes of its last [`Config::EpochHistoryDepth`] epochs.
	#[pallet::storage]
	pub type EpochOutcomes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		MarketId,
		Twox64Concat,
		EpochIndex,
		EpochOutcome<BalanceOf<T>>,
	>;

	/// Markets, and orders in them, that exist from the first block (e.g. a development chain's
	/// demo market).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The markets to create, in order: the first gets identifier 0.
		pub markets: Vec<MarketParamsOf<T>>,
		/// The orders to place: `(market, bidder, curve, budget per epoch, epochs)`. Each
		/// bidder's budgets are escrowed and its deposit held from its genesis balance, exactly
		/// as [`Pallet::submit_demand`] does.
		pub demands: Vec<GenesisOrder<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::ensure_escrow_account();
			for params in &self.markets {
				Pallet::<T>::do_create_market(params.clone())
					.expect("genesis markets must have valid parameters");
			}
			for (market, who, curve, budget, epochs) in &self.demands {
				Pallet::<T>::do_submit_demand(who.clone(), *market, *curve, *budget, *epochs)
					.expect("genesis demands must be valid and affordable");
			}
		}
	}

	/// What happened.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance created a market; its price starts at the floor.
		MarketCreated {
			/// The new market.
			market: MarketId,
			/// Its parameters.
			params: MarketParamsOf<T>,
		},
		/// Governance changed a market's parameters; they apply from the next block.
		MarketParamsUpdated {
			/// The market.
			market: MarketId,
			/// The new parameters.
			params: MarketParamsOf<T>,
		},
		/// Governance closed a market: the epoch under way is not settled, and each bid settles
		/// what it owes and is refunded the rest when it is next touched.
		MarketClosed {
			/// The market.
			market: MarketId,
			/// How many bids it still holds.
			bids: u32,
		},
		/// A bidder placed or replaced its order.
		DemandSubmitted {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
			/// The demand curve.
			curve: DemandCurve,
			/// The budget per epoch.
			budget: BalanceOf<T>,
			/// The first epoch the order counts in: the epoch under way while the book is open,
			/// the next one once it is sealed.
			counts_from: EpochIndex,
			/// The first epoch it no longer counts in.
			counts_until: EpochIndex,
		},
		/// A bidder asked to leave while the book was sealed: its order still settles the epoch
		/// under way, after which anyone may remove the bid ([`Pallet::settle_bid`]).
		DemandWithdrawalScheduled {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
			/// The last epoch the order counts in.
			leaves_after: EpochIndex,
		},
		/// A bid was removed: its unspent escrow was refunded and its deposit released.
		DemandWithdrawn {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
			/// What was returned (unspent escrow plus deposit).
			released: BalanceOf<T>,
		},
		/// The price moved one step.
		PriceUpdated {
			/// The market.
			market: MarketId,
			/// The new price, in tokens per unit.
			price: FixedU128,
			/// The aggregate demand `S` at the previous price, in units.
			aggregate_demand: FixedU128,
			/// `S − m`, in units.
			excess_demand: FixedI128,
			/// Whether the market has converged.
			converged: bool,
		},
		/// A bid was settled for an epoch it counted in.
		BidSettled {
			/// The market.
			market: MarketId,
			/// The epoch.
			epoch: EpochIndex,
			/// The bidder.
			who: T::AccountId,
			/// The units allocated.
			allocation: FixedU128,
			/// What the bidder paid, in the token's smallest unit.
			payment: BalanceOf<T>,
		},
		/// An epoch was settled: its clearing is recorded and the payee and fee destination paid.
		EpochSettled {
			/// The market.
			market: MarketId,
			/// The epoch.
			epoch: EpochIndex,
			/// What it produced.
			outcome: EpochOutcome<BalanceOf<T>>,
		},
	}

	/// Why a call failed. A failed call changes nothing.
	#[pallet::error]
	pub enum Error<T> {
		/// There is no market with this identifier.
		UnknownMarket,
		/// [`Config::MaxMarkets`] markets are open already.
		TooManyMarkets,
		/// The capacity is zero or above 10⁹ units.
		CapacityOutOfRange,
		/// The price floor is above the price ceiling.
		PriceBoundsInverted,
		/// The price ceiling is above 10⁹ tokens per unit.
		PriceCeilingTooHigh,
		/// A fee is above 10⁹ tokens.
		FeeTooHigh,
		/// The epoch length is zero.
		ZeroEpochLength,
		/// The tolerance is zero.
		ZeroTolerance,
		/// The step rule's parameters are zero.
		InvalidStepRule,
		/// The payee account does not exist: it could not receive payments.
		PayeeDoesNotExist,
		/// The market holds bids, whose contracts are priced on its fees and price bounds: those
		/// change only on a market without bids (close it and create a new one).
		TermsFixedByBids,
		/// `α` is zero or above 10⁶.
		AlphaOutOfRange,
		/// `β` is below 10⁻³ or above 10⁶.
		BetaOutOfRange,
		/// The reported quantity is above 10⁹ units.
		QuantityOutOfRange,
		/// The budget per epoch is below the bid deposit.
		BudgetBelowDeposit,
		/// The number of epochs is zero or above [`Config::MaxOrderEpochs`].
		EpochsOutOfRange,
		/// The market already holds [`Config::MaxBidders`] bids.
		TooManyBidders,
		/// The caller's free balance cannot cover the escrow and deposit.
		InsufficientBalance,
		/// There is no such bid in this market.
		NoDemand,
		/// The bid already leaves after the epoch under way.
		AlreadyWithdrawing,
		/// The bid has nothing to settle and has not ended.
		NothingToSettle,
		/// A line's price is above 10⁹ tokens per unit.
		ReportedPriceOutOfRange,
		/// A line's slope is above 10¹² units per token, or zero with a positive quantity.
		SlopeOutOfRange,
		/// The bid's order declares a log-utility curve: reports update lines and quantities.
		NotReporting,
		/// The bid's latest order has no epoch left to count in.
		OrderEnded,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Settles the markets whose epoch ends and steps every market's price once; returns
		/// the benchmarked weight of that work, which does not depend on the number of bids.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(now)
		}

		/// With the block's spare weight, settles and refunds the bids of closed markets, as
		/// many as fit: a closed market empties without anyone having to act.
		fn on_idle(_now: BlockNumberFor<T>, remaining_weight: Weight) -> Weight {
			Self::do_sweep_closed_markets(remaining_weight)
		}

		fn integrity_test() {
			assert!(T::MaxBidders::get() > 0, "MaxBidders must be positive");
			assert!(T::MaxMarkets::get() > 0, "MaxMarkets must be positive");
			assert!(T::MaxOrderEpochs::get() > 0, "MaxOrderEpochs must be positive");
			assert!(T::EpochHistoryDepth::get() > 0, "EpochHistoryDepth must be positive");
			assert!(!T::BalanceUnit::get().is_zero(), "BalanceUnit must be positive");
			assert!(!T::BidDeposit::get().is_zero(), "BidDeposit must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a market with `params` (governance only). Its price starts at the floor and
		/// its first epoch now.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_market())]
		pub fn create_market(origin: OriginFor<T>, params: MarketParamsOf<T>) -> DispatchResult {
			T::MarketAdminOrigin::ensure_origin(origin)?;
			Self::do_create_market(params)
		}

		/// Replaces a market's parameters (governance only); they apply from the next block, a
		/// new epoch length from the next epoch. The price stays where it is, clamped into the
		/// new bounds at once. Fees and price bounds change only while the market holds no bids.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_market_params())]
		pub fn set_market_params(
			origin: OriginFor<T>,
			market: MarketId,
			params: MarketParamsOf<T>,
		) -> DispatchResult {
			T::MarketAdminOrigin::ensure_origin(origin)?;
			Self::do_set_market_params(market, params)
		}

		/// Places or replaces the caller's order in `market`: demand by `curve`, paying at most
		/// `budget` per epoch, `g` included, for `epochs` epochs. The budgets of all its epochs
		/// move into escrow (less what a replaced order leaves there); a new bid's deposit is
		/// held. What an epoch does not spend is refunded when the bid is next settled.
		///
		/// In the first half of an epoch the order counts at once and replaces the old one at
		/// once. In the second half (the book is sealed) it counts from the next epoch, and an
		/// old order that counts still settles the epoch under way.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_demand(
			T::MaxBidders::get(),
			T::MaxOrderEpochs::get().saturating_mul(2),
		))]
		pub fn submit_demand(
			origin: OriginFor<T>,
			market: MarketId,
			curve: DemandCurve,
			budget: BalanceOf<T>,
			epochs: u32,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (bids, settled) = Self::do_submit_demand(who, market, curve, budget, epochs)?;
			Ok(Some(T::WeightInfo::submit_demand(bids, settled)).into())
		}

		/// Withdraws the caller's order from `market`. While the book is open, or when the order
		/// does not count yet, the bid leaves at once, refunded. While it is sealed, an order that
		/// counts still settles (and pays for) the epoch under way and the bid can be removed
		/// after that.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_demand(T::MaxOrderEpochs::get().saturating_mul(2)))]
		pub fn withdraw_demand(
			origin: OriginFor<T>,
			market: MarketId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let settled = Self::do_withdraw_demand(who, market)?;
			Ok(Some(T::WeightInfo::withdraw_demand(settled)).into())
		}

		/// Closes a market (governance only): the epoch under way is not settled, the market
		/// stops, and it no longer counts towards [`Config::MaxMarkets`]. Each bid settles what it
		/// owes for the epochs that did settle and is refunded the rest when it is next touched
		/// ([`Pallet::settle_bid`], [`Pallet::withdraw_demand`]) or, at the latest, when the
		/// pallet sweeps the closed market with the blocks' spare weight.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::close_market(T::MaxOrderEpochs::get().saturating_add(1)))]
		pub fn close_market(origin: OriginFor<T>, market: MarketId) -> DispatchResultWithPostInfo {
			T::MarketAdminOrigin::ensure_origin(origin)?;
			let changes = Self::do_close_market(market)?;
			Ok(Some(T::WeightInfo::close_market(changes)).into())
		}

		/// Reports that the caller demands `quantity` units at `price` (the paper's Algorithm 1:
		/// an agent that keeps its utility private answers a posted price with its best
		/// response). The caller's order — which must exist and be a line or a quantity — becomes
		/// the line through this point and the previous one, so that the market sees how its
		/// demand responds to the price; a first report, or one after the price fell, is a line
		/// that falls to zero one grid cell above `price` (a limit order at `price`). Budget per
		/// epoch and last epoch stay as they were; the new line counts as a replaced order does
		/// ([`Pallet::submit_demand`]).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::report_demand(
			T::MaxBidders::get(),
			T::MaxOrderEpochs::get().saturating_mul(2).saturating_sub(1),
		))]
		pub fn report_demand(
			origin: OriginFor<T>,
			market: MarketId,
			quantity: FixedU128,
			price: FixedU128,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (bids, settled) = Self::do_report_demand(who, market, quantity, price)?;
			Ok(Some(T::WeightInfo::report_demand(bids, settled)).into())
		}

		/// Settles `who`'s bid in `market` for the epochs settled since it was last touched
		/// (anyone may call it): charges it from escrow, refunds what those epochs did not
		/// spend, and removes the bid, refunded in full, once its orders have ended or the
		/// market has closed.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::settle_bid(T::MaxOrderEpochs::get().saturating_mul(2)))]
		pub fn settle_bid(
			origin: OriginFor<T>,
			market: MarketId,
			who: T::AccountId,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let settled = Self::do_settle_bid(who, market)?;
			Ok(Some(T::WeightInfo::settle_bid(settled)).into())
		}
	}
}
