//! # Contract-equilibrium pallet
//!
//! A market for a shared resource of capacity `m` per epoch, cleared by a smart contract as in
//! Cha et al., "Mechanism Design and Equilibrium Analysis of Smart Contract–Mediated Resource
//! Allocation" (arXiv 2510.05504).
//!
//! - Governance ([`Config::MarketAdminOrigin`]) creates markets and sets their
//!   [`MarketParams`]: capacity, fees, price bounds, step rule, epoch length, tolerance, payee.
//! - Anyone places a demand with [`Pallet::submit_demand`]: a [`DemandCurve`] (the paper's
//!   log-utility agent, evaluated by the chain at every price, or a quantity reported from
//!   off-chain) and a budget, which is held together with a storage deposit.
//! - The order book is sealed for the second half of every epoch: a bid placed then counts
//!   from the next epoch, and a change to a counted bid takes effect once the epoch has settled.
//!   The price takes its last steps of an epoch on exactly the bids the epoch settles, and every
//!   bid that counted pays for what it is allocated.
//! - A bid counts only as far as its budget pays for it, `g` included
//!   ([`contract_equilibrium_primitives::Order`]), in the price and in settlement alike.
//! - Every block, for every market, the pallet computes the aggregate backed demand `S(μ)` and
//!   moves the price one step towards the clearing price `μ*` (where `S(μ*) = m`), by the
//!   market's [`StepRule`].
//! - Every epoch it settles: each bid is allocated its backed demand at the posted price
//!   (rationed pro rata when demand exceeds capacity) and pays `(μ + τ)·x + g` from its held
//!   budget: `μ·x` to the market's payee, `τ·x + g` to [`Config::FeeDestination`]. The pallet
//!   moves its own holds whatever locks the bidder has placed; a payment that still fails voids
//!   the allocation.
//! - Governance closes a market with [`Pallet::close_market`]: every bid is refunded.
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
	DemandCurve, FixedI128, FixedU128, MarketParams, Perbill, StepRule,
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
pub type BidOf<T> = Bid<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

/// A market's parameters for runtime `T`.
pub type MarketParamsOf<T> = MarketParams<<T as frame_system::Config>::AccountId>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::FixedPointOperand;

	/// The pallet's storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The native token: budgets and deposits are held in it and payments made in it.
		type Currency: Inspect<Self::AccountId, Balance: FixedPointOperand>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Who creates markets and changes their parameters (governance).
		type MarketAdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Where the fees `τ·x + g` go (e.g. the treasury's account).
		type FeeDestination: Get<Self::AccountId>;

		/// The token's smallest units per whole token (10¹² for 12 decimals): prices and fees are
		/// set in whole tokens and converted with it when payments are made.
		#[pallet::constant]
		type BalanceUnit: Get<BalanceOf<Self>>;

		/// The storage deposit held for each bid, returned when the bid is removed.
		#[pallet::constant]
		type BidDeposit: Get<BalanceOf<Self>>;

		/// The most bids a market holds.
		#[pallet::constant]
		type MaxBidders: Get<u32>;

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
		/// The unspent budget of a bid: what settlements may still charge.
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

	/// Each open market's bids, at most [`Config::MaxBidders`], in the order they were placed.
	#[pallet::storage]
	pub type Bids<T: Config> =
		StorageMap<_, Twox64Concat, MarketId, BoundedVec<BidOf<T>, T::MaxBidders>, ValueQuery>;

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

	/// Markets, and demands in them, that exist from the first block (e.g. a development chain's
	/// demo market).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The markets to create, in order: the first gets identifier 0.
		pub markets: Vec<MarketParamsOf<T>>,
		/// The demands to place: `(market, bidder, curve, budget)`. Each bidder's budget and bid
		/// deposit are held from its genesis balance, exactly as [`Pallet::submit_demand`] does.
		pub demands: Vec<(MarketId, T::AccountId, DemandCurve, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for params in &self.markets {
				Pallet::<T>::do_create_market(params.clone())
					.expect("genesis markets must have valid parameters");
			}
			for (market, who, curve, budget) in &self.demands {
				Pallet::<T>::do_submit_demand(who.clone(), *market, *curve, *budget)
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
		/// Governance closed a market: every bid was refunded and the market removed.
		MarketClosed {
			/// The market.
			market: MarketId,
			/// How many bids were refunded.
			bids: u32,
		},
		/// A bidder placed or replaced its demand.
		DemandSubmitted {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
			/// The demand curve.
			curve: DemandCurve,
			/// The budget held for it.
			budget: BalanceOf<T>,
			/// The first epoch this demand counts in: the epoch under way while it is open, the
			/// next one once it is sealed.
			counts_from: EpochIndex,
		},
		/// A bidder asked to leave; its bid is settled at the end of the epoch and then removed.
		DemandWithdrawalScheduled {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
		},
		/// A bid was removed and its remaining budget and deposit released.
		DemandWithdrawn {
			/// The market.
			market: MarketId,
			/// The bidder.
			who: T::AccountId,
			/// What was released (remaining budget plus deposit).
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
		/// A bid was settled for an epoch.
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
		/// An epoch was settled.
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
		/// `α` is zero or above 10⁶.
		AlphaOutOfRange,
		/// `β` is below 10⁻³ or above 10⁶.
		BetaOutOfRange,
		/// The reported quantity is above 10⁹ units.
		QuantityOutOfRange,
		/// The budget is below the bid deposit.
		BudgetBelowDeposit,
		/// The market already holds [`Config::MaxBidders`] bids.
		TooManyBidders,
		/// The caller's free balance cannot cover the budget and deposit.
		InsufficientBalance,
		/// The caller has no bid in this market.
		NoDemand,
		/// The caller's bid is already being withdrawn.
		AlreadyWithdrawing,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Steps every market's price once and settles the markets whose epoch ends; returns
		/// the benchmarked weight of that work.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::do_on_initialize(now)
		}

		fn integrity_test() {
			assert!(T::MaxBidders::get() > 0, "MaxBidders must be positive");
			assert!(T::MaxMarkets::get() > 0, "MaxMarkets must be positive");
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

		/// Replaces a market's parameters (governance only); they apply from the next block.
		/// The price stays where it is, clamped into the new bounds at once.
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

		/// Places or replaces the caller's demand in `market`: holds `budget` (what settlements
		/// may charge) and, for a new bid, the bid deposit. The bid counts only as far as what
		/// is left of its budget pays for it. Placing a demand again cancels a pending
		/// withdrawal.
		///
		/// In the first half of an epoch the demand counts at once. In the second half (the
		/// book is sealed) a new bid counts from the next epoch, and a bid that counts is
		/// replaced once the epoch has settled: the new budget is held in full now and what is
		/// left of the old one released then.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_demand(T::MaxBidders::get()))]
		pub fn submit_demand(
			origin: OriginFor<T>,
			market: MarketId,
			curve: DemandCurve,
			budget: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_demand(who, market, curve, budget)
		}

		/// Asks to remove the caller's demand from `market`. A bid that counts in the epoch
		/// under way still takes part in (and pays for) it; at its settlement the bid is removed
		/// and the rest of its budget and its deposit are released. A bid that does not count
		/// yet (placed while the book was sealed) is removed and refunded at once.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::withdraw_demand(T::MaxBidders::get()))]
		pub fn withdraw_demand(origin: OriginFor<T>, market: MarketId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_demand(who, market)
		}

		/// Closes a market (governance only): the epoch under way is not settled, every bid's
		/// budget and deposit are released, and the market and its history are removed. It no
		/// longer counts towards [`Config::MaxMarkets`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::close_market(T::MaxBidders::get()))]
		pub fn close_market(origin: OriginFor<T>, market: MarketId) -> DispatchResult {
			T::MarketAdminOrigin::ensure_origin(origin)?;
			Self::do_close_market(market)
		}
	}
}
