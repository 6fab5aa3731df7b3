//! The lending markets' stored types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidity_market_primitives::{FixedU128, RateModel, RiskParams};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// A market's identifier.
pub type MarketId = u32;

/// What governance sets when it creates a market.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct MarketParams<AssetId> {
	/// The asset lenders supply and borrowers take.
	pub loan_asset: AssetId,
	/// Its decimals: the oracle prices whole units.
	pub loan_decimals: u8,
	/// The asset borrowers pledge.
	pub collateral_asset: AssetId,
	/// Its decimals.
	pub collateral_decimals: u8,
	/// How the borrow rate follows utilization.
	pub rate_model: RateModel,
	/// The share of interest kept as reserves.
	pub reserve_factor: Perbill,
	/// Collateral factor, liquidation threshold and bonus, close factor.
	pub risk: RiskParams,
	/// The most lenders may be owed in all, in the loan asset's smallest unit.
	pub supply_cap: u128,
	/// The most borrowers may owe in all, in the loan asset's smallest unit.
	pub borrow_cap: u128,
}

/// A market's totals, brought up to date by every interaction (interest first).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct MarketState<BlockNumber> {
	/// The loan asset the market holds by its own ledger: supplied and repaid, less lent and
	/// withdrawn. Donations to the pallet's account are not counted.
	pub cash: u128,
	/// Everything borrowers owe, interest included.
	pub total_borrows: u128,
	/// The protocol's share of the interest (part of what `cash + total_borrows` covers).
	pub reserves: u128,
	/// All lenders' shares.
	pub supply_shares: u128,
	/// All borrowers' debt shares.
	pub borrow_shares: u128,
	/// All collateral pledged, in the collateral asset's smallest unit.
	pub total_collateral: u128,
	/// Debt the market took over from positions it liquidated itself: owed to lenders, to be
	/// recovered by selling [`Self::absorbed_collateral`] (`buy_collateral`).
	pub absorbed_debt: u128,
	/// The collateral seized by the market's own liquidations, for sale at a discount.
	pub absorbed_collateral: u128,
	/// The borrow index: 1 at creation, never falls.
	pub borrow_index: FixedU128,
	/// The adaptive model's rate at target (zero for a kinked model).
	pub rate_at_target: FixedU128,
	/// The block interest was last accrued in.
	pub last_accrued: BlockNumber,
}

impl<BlockNumber> MarketState<BlockNumber> {
	/// What lenders are owed in all: `cash + total_borrows + absorbed_debt − reserves`.
	pub fn supplied(&self) -> u128 {
		self.cash
			.saturating_add(self.total_borrows)
			.saturating_add(self.absorbed_debt)
			.saturating_sub(self.reserves)
	}
}

/// What governance has paused in a market. Repaying, withdrawing and taking collateral back
/// are never paused: users can always leave.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct PauseFlags {
	/// No new supply.
	pub supply: bool,
	/// No new borrowing.
	pub borrow: bool,
	/// No liquidation, by accounts or by the chain.
	pub liquidation: bool,
}

/// What governance changes in a live market; `None` leaves a field as it is.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct MarketTuning {
	/// A new rate model; the adaptive rate at target restarts from the model's initial value.
	pub rate_model: Option<RateModel>,
	/// A new reserve factor.
	pub reserve_factor: Option<Perbill>,
	/// New risk parameters. A lower liquidation threshold is reached gradually, at most
	/// `MaxThresholdStepPerBlock` a block, so that no position becomes liquidatable at once;
	/// everything else applies at once.
	pub risk: Option<RiskParams>,
	/// A new supply cap.
	pub supply_cap: Option<u128>,
	/// A new borrow cap.
	pub borrow_cap: Option<u128>,
	/// New pause flags.
	pub pause: Option<PauseFlags>,
}

/// A market as stored.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Market<AssetId, BlockNumber> {
	/// What governance set; `params.risk.liquidation_threshold` is the threshold in force.
	pub params: MarketParams<AssetId>,
	/// The totals.
	pub state: MarketState<BlockNumber>,
	/// A lower liquidation threshold governance set, which the threshold in force approaches
	/// by at most `MaxThresholdStepPerBlock` a block.
	pub threshold_target: Option<Perbill>,
	/// What is paused.
	pub pause: PauseFlags,
}

/// An account's position in a market.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Position {
	/// Its supply shares.
	pub supply_shares: u128,
	/// Its collateral, in the collateral asset's smallest unit.
	pub collateral: u128,
	/// Its debt shares.
	pub borrow_shares: u128,
}

impl Position {
	/// Whether the position holds nothing (and is removed).
	pub fn is_empty(&self) -> bool {
		self.supply_shares == 0 && self.collateral == 0 && self.borrow_shares == 0
	}
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId> {
	/// A loan asset and a collateral asset, with their decimals, that exist and can be minted.
	fn assets() -> ((AssetId, u8), (AssetId, u8));
}
