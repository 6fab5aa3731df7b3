//! # Liquidity-market pallet
//!
//! Isolated lending markets: one loan asset, one collateral asset each. Lenders supply the loan
//! asset for shares; borrowers pledge collateral and borrow against it; the borrow rate — the
//! price of liquidity — follows utilization, by a kinked model or by an adaptive one whose rate
//! at target takes a dual-ascent step per block (see [`liquidity_market_primitives`]).
//!
//! - [`Pallet::create_market`] (governance) opens a market with its rate model, reserve factor,
//!   risk parameters and caps.
//! - [`Pallet::supply`] / [`Pallet::withdraw`]: the loan asset in for shares, shares out for it.
//! - [`Pallet::deposit_collateral`] / [`Pallet::withdraw_collateral`].
//! - [`Pallet::borrow`] / [`Pallet::repay`].
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
//! A position's storage is paid by a deposit held in the native token while it exists.
//! Liquidation, benchmarks and the runtime integration come next (issue 16).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use liquidity_market_primitives::{FixedU128, RateModel, RiskParams};
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
		type Currency: fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

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

		/// Weights of the calls.
		type WeightInfo: WeightInfo;
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
		/// An amount overflowed.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxMarkets::get() > 0, "MaxMarkets must be positive");
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
	}
}
