//! # Liquidity-market pallet
//!
//! Isolated lending markets: one loan asset, one collateral asset each. Lenders supply the loan
//! asset for shares; borrowers pledge collateral and borrow against it; the borrow rate — the
//! price of liquidity — follows utilization, by a kinked model or by an adaptive one whose rate
//! at target takes a dual-ascent step per block (see [`liquidity_market_primitives`]).
//!
//! - [`Pallet::create_market`] (governance) opens a market with its rate model, reserve factor,
//!   risk parameters and caps; [`Pallet::tune_market`] changes them and pauses supply, borrowing
//!   or liquidation.
//! - [`Pallet::supply`] / [`Pallet::withdraw`]: the loan asset in for shares, shares out for it.
//! - [`Pallet::deposit_collateral`] / [`Pallet::withdraw_collateral`].
//! - [`Pallet::borrow`] / [`Pallet::repay`].
//! - [`Pallet::liquidate`] (anyone): repays part of an unhealthy position's debt for its
//!   collateral plus a bonus.
//! - [`Pallet::buy_collateral`] (anyone): buys what the market's own liquidations seized.
//!
//! **Interest first.** Every call accrues the market's interest up to the current block before
//! it reads a total (the lazy-state ordering the anchors got wrong): one index update, O(1)
//! whatever the number of positions.
//!
//! **Own ledger.** The pallet's account holds every market's assets, but each market counts only
//! what its own calls moved (`cash`, `total_collateral`): a donation to the account changes no
//! exchange rate. Shares have virtual shares and round in the market's favour.
//!
//! **Prices.** A borrow and a collateral withdrawal that leaves debt need fresh oracle prices of
//! both assets and must leave the debt within the collateral factor; with a stale price they
//! stop, while supply, repayment and deposits go on.
//!
//! **Liquidation without a keeper.** Every position with debt is filed in a queue by its debt
//! shares per unit of collateral (see [`liquidity_market_primitives::queue`]): interest and
//! prices move every position's health alike, so they move only the market-wide threshold, and
//! the unhealthy positions are the highest keys. Liquidators may take any unhealthy position
//! ([`Pallet::liquidate`]); whatever they leave, the chain takes itself at the start of a block,
//! at most [`Config::MaxLiquidationsPerBlock`] a block from the top of the queue, whatever the
//! number of healthy positions below: it takes over the debt and the collateral
//! (`absorbed_debt`, `absorbed_collateral`) and sells the collateral to anyone at the oracle
//! price less the bonus ([`Pallet::buy_collateral`]). Debt that no collateral covers is written
//! off when it appears, from the reserves first, then from the lenders. Liquidations need fresh
//! prices and wait [`Config::LiquidationGracePeriod`] after a price turns fresh again, so that a
//! borrower can act on a price the oracle could not report.
//!
//! A position's storage is paid by a deposit held in the native token while it exists.
//! Benchmarks and the runtime integration come next (issue 16).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use liquidity_market_primitives::{AdaptiveRate, FixedU128, KinkedRate, RateModel, RiskParams};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

/// The native token's balance type.
pub type NativeBalanceOf<T> =
	<<T as Config>::Currency as frame_support::traits::fungible::Inspect<
		<T as frame_system::Config>::AccountId,
	>>::Balance;

/// A market as stored for runtime `T`.
pub type MarketOf<T> =
	Market<<T as Config>::AssetId, frame_system::pallet_prelude::BlockNumberFor<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, fungibles},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::Perbill;

	/// The pallet's storage version.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// What identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord;

		/// The assets markets lend and take as collateral.
		type Assets: fungibles::Inspect<Self::AccountId, AssetId = Self::AssetId, Balance = u128>
			+ fungibles::Mutate<Self::AccountId>;

		/// The native token, in which position deposits are held.
		type Currency: fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Prices of whole units of the assets.
		type Oracle: pallet_oracle::PriceOracle<Self::AssetId, BlockNumberFor<Self>>;

		/// Who creates markets: governance.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The pallet's identifier: its account holds the markets' assets.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The most markets.
		#[pallet::constant]
		type MaxMarkets: Get<u32>;

		/// The deposit held while an account has a position in a market (its storage).
		#[pallet::constant]
		type PositionDeposit: Get<NativeBalanceOf<Self>>;

		/// The most positions the chain liquidates itself at the start of a block, over all
		/// markets.
		#[pallet::constant]
		type MaxLiquidationsPerBlock: Get<u32>;

		/// How many blocks liquidations wait after a price turns fresh again.
		#[pallet::constant]
		type LiquidationGracePeriod: Get<BlockNumberFor<Self>>;

		/// The most governance lowers a market's liquidation threshold a block.
		#[pallet::constant]
		type MaxThresholdStepPerBlock: Get<Perbill>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;

		/// Assets for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetId>;
	}

	/// Why the pallet holds native funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a position.
		PositionDeposit,
	}

	/// The identifier the next market gets.
	#[pallet::storage]
	pub type NextMarketId<T> = StorageValue<_, MarketId, ValueQuery>;

	/// The markets, by identifier.
	#[pallet::storage]
	pub type Markets<T: Config> = StorageMap<_, Twox64Concat, MarketId, MarketOf<T>>;

	/// Positions, by market and account; each carries its owner's deposit.
	#[pallet::storage]
	pub type Positions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Blake2_128Concat, T::AccountId, Position>;

	/// The liquidation queue: every position with debt, by market, bucket of its key (debt
	/// shares per unit of collateral) and account.
	#[pallet::storage]
	pub type LiquidationQueue<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, MarketId>,
			NMapKey<Twox64Concat, u16>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
	>;

	/// How many positions each non-empty bucket of the queue holds.
	#[pallet::storage]
	pub type BucketSizes<T> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Twox64Concat, u16, u32, ValueQuery>;

	/// Which buckets are occupied: 64 buckets a word, by market and word.
	#[pallet::storage]
	pub type OccupiedBuckets<T> =
		StorageDoubleMap<_, Twox64Concat, MarketId, Twox64Concat, u8, u64, ValueQuery>;

	/// Which of the 256 words of [`OccupiedBuckets`] are non-zero, by market (two 128-bit
	/// halves): the highest occupied bucket in two reads.
	#[pallet::storage]
	pub type OccupiedWords<T> = StorageMap<_, Twox64Concat, MarketId, [u128; 2], ValueQuery>;

	/// The pallet's events.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A market was created.
		MarketCreated {
			/// Its identifier.
			market: MarketId,
			/// Its parameters.
			params: MarketParams<T::AssetId>,
		},
		/// A lender supplied the loan asset.
		Supplied {
			/// The market.
			market: MarketId,
			/// The lender.
			who: T::AccountId,
			/// The amount supplied.
			amount: u128,
			/// The shares received.
			shares: u128,
		},
		/// A lender withdrew the loan asset.
		Withdrawn {
			/// The market.
			market: MarketId,
			/// The lender.
			who: T::AccountId,
			/// The amount paid out.
			amount: u128,
			/// The shares burned.
			shares: u128,
		},
		/// A borrower pledged collateral.
		CollateralDeposited {
			/// The market.
			market: MarketId,
			/// The borrower.
			who: T::AccountId,
			/// The amount.
			amount: u128,
		},
		/// A borrower took collateral back.
		CollateralWithdrawn {
			/// The market.
			market: MarketId,
			/// The borrower.
			who: T::AccountId,
			/// The amount.
			amount: u128,
		},
		/// A borrower borrowed.
		Borrowed {
			/// The market.
			market: MarketId,
			/// The borrower.
			who: T::AccountId,
			/// The amount lent.
			amount: u128,
			/// The debt shares taken on.
			shares: u128,
		},
		/// A borrower repaid.
		Repaid {
			/// The market.
			market: MarketId,
			/// The borrower.
			who: T::AccountId,
			/// The amount repaid.
			amount: u128,
			/// The debt shares retired.
			shares: u128,
		},
		/// An unhealthy position was liquidated.
		Liquidated {
			/// The market.
			market: MarketId,
			/// The borrower.
			borrower: T::AccountId,
			/// Who repaid the debt; `None` when the market took the position over itself.
			liquidator: Option<T::AccountId>,
			/// The debt repaid.
			repaid: u128,
			/// The collateral seized for it.
			seized: u128,
		},
		/// Debt that no collateral covers was written off.
		BadDebt {
			/// The market.
			market: MarketId,
			/// The borrower it was owed by, `None` for absorbed debt the collateral sold did not
			/// cover.
			borrower: Option<T::AccountId>,
			/// The amount written off.
			amount: u128,
			/// The part of it the reserves bore; lenders bore the rest.
			from_reserves: u128,
		},
		/// Collateral the market had seized was sold.
		CollateralBought {
			/// The market.
			market: MarketId,
			/// The buyer.
			who: T::AccountId,
			/// The collateral bought.
			amount: u128,
			/// What the buyer paid in the loan asset.
			paid: u128,
		},
		/// Governance changed a market.
		MarketTuned {
			/// The market.
			market: MarketId,
			/// What changed.
			tuning: MarketTuning,
		},
		/// Interest was accrued.
		InterestAccrued {
			/// The market.
			market: MarketId,
			/// The interest borrowers now owe in addition.
			interest: u128,
			/// The part of it kept as reserves.
			to_reserves: u128,
			/// The borrow rate per block it accrued at.
			rate: FixedU128,
		},
	}

	/// The pallet's errors.
	#[pallet::error]
	pub enum Error<T> {
		/// No market has this identifier.
		UnknownMarket,
		/// The rate model's parameters are invalid.
		InvalidRateModel,
		/// The risk parameters are invalid.
		InvalidRiskParams,
		/// The loan and the collateral asset must differ.
		SameAsset,
		/// There are already `MaxMarkets` markets.
		TooManyMarkets,
		/// The amount must be positive.
		ZeroAmount,
		/// The amount is worth less than one share: nothing would be credited.
		ZeroShares,
		/// The supply would exceed the market's supply cap.
		SupplyCapReached,
		/// The borrows would exceed the market's borrow cap.
		BorrowCapReached,
		/// The market does not hold that much of the loan asset.
		InsufficientCash,
		/// The position holds fewer shares.
		InsufficientShares,
		/// The position holds less collateral.
		InsufficientCollateral,
		/// A price needed is stale or missing: borrowing and collateral withdrawals wait.
		StalePrice,
		/// The debt would exceed what the collateral allows.
		Undercollateralized,
		/// The position owes nothing.
		NoDebt,
		/// The position is healthy: it cannot be liquidated.
		NotLiquidatable,
		/// A price turned fresh less than the grace period ago: liquidations wait.
		LiquidationGracePeriod,
		/// The market holds less seized collateral.
		InsufficientSeizedCollateral,
		/// The collateral costs more than the buyer's limit.
		PriceAboveLimit,
		/// Governance paused this in the market.
		Paused,
		/// Liquidating this position takes its whole debt (its collateral covers it only
		/// whole), more than `max_repay`.
		MaxRepayTooLow,
		/// The debt would be worth no more than the market's dust value: borrow more, or repay
		/// all of it.
		DustDebt,
		/// An amount overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Liquidates the unhealthy positions liquidators left, highest keys first, at most
		/// [`Config::MaxLiquidationsPerBlock`].
		fn on_initialize(_now: BlockNumberFor<T>) -> Weight {
			Self::liquidate_queued()
		}

		fn integrity_test() {
			assert!(T::MaxMarkets::get() > 0, "MaxMarkets must be positive");
			assert!(T::MaxMarkets::get() <= 256, "MaxMarkets above 256: the hook's scan grows");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a market with `params` (distinct assets, a valid rate model and risk
		/// parameters). Governance only.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_market())]
		pub fn create_market(
			origin: OriginFor<T>,
			params: MarketParams<T::AssetId>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_create_market(params)
		}

		/// Supplies `amount` of the loan asset to `market` for shares (rounded down).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::supply())]
		pub fn supply(origin: OriginFor<T>, market: MarketId, amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_supply(who, market, amount)
		}

		/// Redeems `shares` of `market` for the loan asset (rounded down), from its cash.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, market: MarketId, shares: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, market, shares)
		}

		/// Pledges `amount` of the collateral asset in `market`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deposit_collateral())]
		pub fn deposit_collateral(
			origin: OriginFor<T>,
			market: MarketId,
			amount: u128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit_collateral(who, market, amount)
		}

		/// Takes `amount` of collateral back; with debt, only at fresh prices and within the
		/// collateral factor.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw_collateral())]
		pub fn withdraw_collateral(
			origin: OriginFor<T>,
			market: MarketId,
			amount: u128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_collateral(who, market, amount)
		}

		/// Borrows `amount` of the loan asset, at fresh prices and within the collateral
		/// factor, the borrow cap and the market's cash.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::borrow())]
		pub fn borrow(origin: OriginFor<T>, market: MarketId, amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_borrow(who, market, amount)
		}

		/// Repays up to `amount` of the caller's debt (all of it if `amount` is larger).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::repay())]
		pub fn repay(origin: OriginFor<T>, market: MarketId, amount: u128) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_repay(who, market, amount)
		}

		/// Changes a live market (governance only): its rate model, reserve factor, risk
		/// parameters, caps and pause flags, after accruing its interest at the old ones. A lower
		/// liquidation threshold is reached gradually.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::tune_market())]
		pub fn tune_market(
			origin: OriginFor<T>,
			market: MarketId,
			tuning: MarketTuning,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_tune_market(market, tuning)
		}

		/// Repays up to `max_repay` of `borrower`'s debt in `market` — at most the close
		/// factor's share, all of it when the position is deep under water or dust — for that
		/// value plus the liquidation bonus in its collateral. The position must be unhealthy at
		/// fresh prices, past the grace period. Anyone may call it.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::liquidate())]
		pub fn liquidate(
			origin: OriginFor<T>,
			market: MarketId,
			borrower: T::AccountId,
			max_repay: u128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(max_repay > 0, Error::<T>::ZeroAmount);
			Self::do_liquidate(Some(who), market, borrower, max_repay).map(|_| ())
		}

		/// Buys `amount` of the collateral the market seized, at its fresh oracle price less
		/// the liquidation bonus, paying at most `max_payment` of the loan asset.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::buy_collateral())]
		pub fn buy_collateral(
			origin: OriginFor<T>,
			market: MarketId,
			amount: u128,
			max_payment: u128,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_buy_collateral(who, market, amount, max_payment)
		}
	}
}
