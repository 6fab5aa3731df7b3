//! The liquidity market of `pallets/liquidity-market` in the simulator: one market lending a
//! stable asset against one collateral asset, lenders and borrowers who respond to the rate, a
//! collateral price path with a crash, and the chain's liquidation.
//!
//! **Every formula is the chain's.** Utilization, both rate models and the adaptive model's step,
//! accrual, supply and debt shares, the borrow limit, health, liquidation, the liquidation queue's
//! buckets, the discounted sale price and the oracle's bounded move are calls into
//! [`liquidity_market_primitives`]. [`Market`] sequences them as the pallet's `impls.rs` does:
//! interest first, debt shares rounded up on a borrow, the whole debt retiring all of a
//! position's shares, a liquidation by the chain's hook taking the repaid debt and the seized
//! collateral over (`absorbed_debt`, `absorbed_collateral`), a sale recovering the absorbed debt
//! with any excess to the reserves, and, once nothing is left to sell, the rest written off —
//! reserves first, as is any bad debt a liquidation books.
//!
//! **What is the simulator's own**: when borrowers borrow and repay, how much lenders supply, the
//! collateral's market price, and when a buyer takes the seized collateral. All of it is drawn and
//! decided in fixed point, so a seed gives the same run on every machine.

use crate::agents::{DrawSeed, Uniform};
use contract_equilibrium_primitives::fixed::{div, mul};
use liquidity_market_primitives::{
	borrow_limit, bounded_move, debt_of, discounted_price, health, liquidation,
	queue::{position_bucket, threshold_bucket},
	supply_rate, to_assets, to_debt_shares, to_shares, utilization, Accrual, AdaptiveRate,
	FixedU128, KinkedRate, Liquidation, Perbill, Priced, RateModel, RiskParams,
};
use rand::Rng;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating},
	FixedPointNumber, Rounding,
};

/// Blocks in a year at 6-second blocks: a rate per block times this is the simple annual rate.
pub const BLOCKS_PER_YEAR: u32 = 5_256_000;

/// The decimals of the loan asset (a stable, like USDD).
pub const LOAN_DECIMALS: u8 = 6;

/// The decimals of the collateral asset.
pub const COLLATERAL_DECIMALS: u8 = 12;

/// A rate per block as a simple annual rate (a fraction: 0.05 is 5 % a year).
pub fn annual(rate_per_block: FixedU128) -> f64 {
	rate_per_block.to_float() * f64::from(BLOCKS_PER_YEAR)
}

/// An amount of the loan asset in whole units.
pub fn whole(amount: u128) -> f64 {
	amount as f64 / 10f64.powi(i32::from(LOAN_DECIMALS))
}

/// The loan asset: a stable at price 1.
pub fn loan_asset() -> Priced {
	Priced { price: FixedU128::one(), decimals: LOAN_DECIMALS }
}

/// The collateral asset at `price` (loan units per whole unit).
pub fn collateral_asset(price: FixedU128) -> Priced {
	Priced { price, decimals: COLLATERAL_DECIMALS }
}

/// A borrower's position, with the queue bucket it is filed in (as the pallet files it: when its
/// own shares or collateral change, never on a price move or an accrual).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
	/// The collateral pledged, in the collateral asset's smallest unit.
	pub collateral: u128,
	/// The debt shares.
	pub borrow_shares: u128,
	/// `position_bucket(borrow_shares, collateral)`.
	pub bucket: Option<u16>,
}

impl Position {
	fn refile(&mut self) {
		self.bucket = position_bucket(self.borrow_shares, self.collateral);
	}
}

/// Why the market refused a borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
	/// Nothing to borrow, or a zero share.
	Zero,
	/// Not that much cash in the market.
	Cash,
	/// The debt would exceed the borrow limit.
	Undercollateralized,
}

/// Every flow of the loan asset into and out of the market's books, to check that none is
/// created or lost (see [`Market::conservation_residual`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
	/// What lenders supplied.
	pub supplied: u128,
	/// What lenders withdrew.
	pub withdrawn: u128,
	/// The interest borrowers were charged.
	pub interest: u128,
	/// The part of it the reserves took.
	pub to_reserves: u128,
	/// What sales of seized collateral fetched beyond the absorbed debt (to the reserves).
	pub sale_excess: u128,
	/// Bad debt booked by liquidations whose collateral ran out.
	pub bad_debt: u128,
	/// Absorbed debt the sales did not recover, written off when the last of it was sold.
	pub unrecovered: u128,
	/// The part of both losses the reserves bore.
	pub from_reserves: u128,
	/// Units the borrows lost to rounding: owed by nobody once the last debt share retired.
	pub forgiven: u128,
	/// Units paid in above the borrows left (the debt rounds up, so a repayment may exceed
	/// what the market counts).
	pub overpaid: u128,
	/// Liquidations.
	pub liquidations: u32,
	/// What the sales of seized collateral fetched.
	pub sale_proceeds: u128,
}

impl Ledger {
	/// All the debt written off: what liquidations booked and what sales did not recover.
	pub fn written_off(&self) -> u128 {
		self.bad_debt.saturating_add(self.unrecovered)
	}
}

/// A market's totals and parameters: `pallets/liquidity-market`'s `MarketState` and
/// `MarketParams` for one market, with its calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Market {
	/// The rate model.
	pub model: RateModel,
	/// The share of interest kept as reserves.
	pub reserve_factor: Perbill,
	/// Collateral factor, liquidation threshold and bonus, close factor.
	pub risk: RiskParams,
	/// The loan asset the market holds by its own ledger.
	pub cash: u128,
	/// Everything borrowers owe.
	pub total_borrows: u128,
	/// The protocol's share of the interest.
	pub reserves: u128,
	/// All lenders' shares.
	pub supply_shares: u128,
	/// All borrowers' debt shares.
	pub borrow_shares: u128,
	/// All collateral pledged.
	pub total_collateral: u128,
	/// Debt the market took over from positions it liquidated.
	pub absorbed_debt: u128,
	/// The collateral seized by those liquidations, for sale.
	pub absorbed_collateral: u128,
	/// The borrow index.
	pub borrow_index: FixedU128,
	/// The adaptive model's rate at target (zero for a kinked model).
	pub rate_at_target: FixedU128,
	/// The flows, for the conservation check.
	pub ledger: Ledger,
}

impl Market {
	/// A new market, as `create_market` opens it.
	pub fn new(model: RateModel, reserve_factor: Perbill, risk: RiskParams) -> Self {
		Self {
			model,
			reserve_factor,
			risk,
			cash: 0,
			total_borrows: 0,
			reserves: 0,
			supply_shares: 0,
			borrow_shares: 0,
			total_collateral: 0,
			absorbed_debt: 0,
			absorbed_collateral: 0,
			borrow_index: FixedU128::one(),
			rate_at_target: model.initial_rate_at_target(),
			ledger: Ledger::default(),
		}
	}

	/// What lenders are owed in all: `cash + total_borrows + absorbed_debt − reserves`.
	pub fn supplied(&self) -> u128 {
		self.cash
			.saturating_add(self.total_borrows)
			.saturating_add(self.absorbed_debt)
			.saturating_sub(self.reserves)
	}

	/// The chain's utilization of the market.
	pub fn utilization(&self) -> FixedU128 {
		utilization(self.cash, self.total_borrows)
	}

	/// The borrow rate per block the next accrual charges.
	pub fn borrow_rate(&self) -> FixedU128 {
		self.model.borrow_rate(self.rate_at_target, self.utilization())
	}

	/// The rate lenders earn per block.
	pub fn supply_rate(&self) -> FixedU128 {
		supply_rate(self.utilization(), self.borrow_rate(), self.reserve_factor)
	}

	/// Accrues `blocks` blocks of interest at the rate the utilization gives and steps the rate at
	/// target as many times (the pallet's `accrue`).
	pub fn accrue(&mut self, blocks: u32) {
		let utilization = self.utilization();
		let rate = self.model.borrow_rate(self.rate_at_target, utilization);
		let mut totals = Accrual {
			borrow_index: self.borrow_index,
			total_borrows: self.total_borrows,
			reserves: self.reserves,
		};
		let before = self.reserves;
		let accrued = totals.accrue(rate, blocks, self.reserve_factor);
		self.borrow_index = totals.borrow_index;
		self.total_borrows = totals.total_borrows;
		self.reserves = totals.reserves;
		self.ledger.interest = self.ledger.interest.saturating_add(accrued.interest);
		self.ledger.to_reserves =
			self.ledger.to_reserves.saturating_add(self.reserves.saturating_sub(before));
		self.rate_at_target =
			self.model.rate_at_target_after(self.rate_at_target, utilization, blocks);
	}

	/// `supply`: the loan asset in, supply shares (rounded down) out; `None` for zero shares.
	pub fn supply(&mut self, amount: u128) -> Option<u128> {
		let shares = to_shares(amount, self.supplied(), self.supply_shares, Rounding::Down)?;
		if amount == 0 || shares == 0 {
			return None;
		}
		self.cash = self.cash.saturating_add(amount);
		self.supply_shares = self.supply_shares.saturating_add(shares);
		self.ledger.supplied = self.ledger.supplied.saturating_add(amount);
		Some(shares)
	}

	/// `withdraw`: `shares` burned, the loan asset (rounded down) out; `None` when it is zero or
	/// more than the cash.
	pub fn withdraw(&mut self, shares: u128) -> Option<u128> {
		let amount = to_assets(shares, self.supplied(), self.supply_shares, Rounding::Down)?;
		if shares == 0 || amount == 0 || amount > self.cash || shares > self.supply_shares {
			return None;
		}
		self.cash = self.cash.saturating_sub(amount);
		self.supply_shares = self.supply_shares.saturating_sub(shares);
		self.ledger.withdrawn = self.ledger.withdrawn.saturating_add(amount);
		Some(amount)
	}

	/// `deposit_collateral`.
	pub fn deposit_collateral(&mut self, position: &mut Position, amount: u128) {
		position.collateral = position.collateral.saturating_add(amount);
		self.total_collateral = self.total_collateral.saturating_add(amount);
		position.refile();
	}

	/// What `shares` of debt are worth, rounded up.
	pub fn debt(&self, shares: u128) -> u128 {
		debt_of(shares, self.total_borrows, self.borrow_shares, Rounding::Up).unwrap_or(u128::MAX)
	}

	/// `borrow`: debt shares (rounded up) for `amount` of cash, if the position's debt stays
	/// within its borrow limit at the prices `loan` and `collateral`.
	pub fn borrow(
		&mut self,
		position: &mut Position,
		amount: u128,
		loan: Priced,
		collateral: Priced,
	) -> Result<(), Refusal> {
		if amount == 0 {
			return Err(Refusal::Zero);
		}
		if amount > self.cash {
			return Err(Refusal::Cash);
		}
		let shares = to_debt_shares(amount, self.total_borrows, self.borrow_shares, Rounding::Up)
			.ok_or(Refusal::Zero)?;
		let total_borrows = self.total_borrows.saturating_add(amount);
		let borrow_shares = self.borrow_shares.saturating_add(shares);
		let owned = position.borrow_shares.saturating_add(shares);
		let debt = debt_of(owned, total_borrows, borrow_shares, Rounding::Up).unwrap_or(u128::MAX);
		let limit = borrow_limit(position.collateral, collateral, &self.risk);
		if loan.value(debt, Rounding::Up) > limit {
			return Err(Refusal::Undercollateralized);
		}
		self.total_borrows = total_borrows;
		self.borrow_shares = borrow_shares;
		self.cash = self.cash.saturating_sub(amount);
		position.borrow_shares = owned;
		position.refile();
		Ok(())
	}

	/// `repay`: up to the whole debt in; returns what was paid.
	pub fn repay(&mut self, position: &mut Position, amount: u128) -> u128 {
		if position.borrow_shares == 0 || amount == 0 {
			return 0;
		}
		let debt = self.debt(position.borrow_shares);
		let paid = amount.min(debt);
		let Some(shares) = self.retire_debt(position.borrow_shares, debt, paid) else { return 0 };
		self.cash = self.cash.saturating_add(paid);
		position.borrow_shares = position.borrow_shares.saturating_sub(shares);
		position.refile();
		paid
	}

	/// The chain's own liquidation of `position` (the hook's `do_liquidate` without a
	/// liquidator): repays up to the close factor's share — all of it below the full-close health
	/// — takes the repaid debt and the seized collateral over, and writes off what no collateral
	/// covers. `None` for a healthy position.
	pub fn liquidate(
		&mut self,
		position: &mut Position,
		loan: Priced,
		collateral: Priced,
	) -> Option<Liquidation> {
		if position.borrow_shares == 0 {
			return None;
		}
		let debt = self.debt(position.borrow_shares);
		let outcome =
			liquidation(debt, loan, position.collateral, collateral, &self.risk, u128::MAX);
		if outcome == Liquidation::default() {
			return None;
		}
		let settled = outcome.repaid.saturating_add(outcome.bad_debt);
		let shares = self.retire_debt(position.borrow_shares, debt, settled)?;
		position.borrow_shares = position.borrow_shares.saturating_sub(shares);
		position.collateral = position.collateral.saturating_sub(outcome.seized);
		position.refile();
		self.total_collateral = self.total_collateral.saturating_sub(outcome.seized);
		self.absorbed_debt = self.absorbed_debt.saturating_add(outcome.repaid);
		self.absorbed_collateral = self.absorbed_collateral.saturating_add(outcome.seized);
		self.write_off(outcome.bad_debt);
		self.ledger.bad_debt = self.ledger.bad_debt.saturating_add(outcome.bad_debt);
		self.ledger.liquidations = self.ledger.liquidations.saturating_add(1);
		Some(outcome)
	}

	/// `buy_collateral`: sells `amount` of the seized collateral at the oracle price less the
	/// bonus (`discounted_price`); the proceeds recover the absorbed debt, any excess goes to the
	/// reserves, and when the last of it is sold the absorbed debt left is written off. Returns
	/// what the buyer paid; `None` when there is not that much or the price is zero.
	pub fn buy_collateral(
		&mut self,
		amount: u128,
		loan: Priced,
		collateral: Priced,
	) -> Option<u128> {
		if amount == 0 || amount > self.absorbed_collateral {
			return None;
		}
		let paid = discounted_price(amount, collateral, loan, &self.risk);
		if paid == 0 {
			return None;
		}
		self.cash = self.cash.saturating_add(paid);
		self.absorbed_collateral = self.absorbed_collateral.saturating_sub(amount);
		let recovered = paid.min(self.absorbed_debt);
		self.absorbed_debt = self.absorbed_debt.saturating_sub(recovered);
		let excess = paid.saturating_sub(recovered);
		self.reserves = self.reserves.saturating_add(excess);
		self.ledger.sale_excess = self.ledger.sale_excess.saturating_add(excess);
		self.ledger.sale_proceeds = self.ledger.sale_proceeds.saturating_add(paid);
		let unrecovered = if self.absorbed_collateral == 0 { self.absorbed_debt } else { 0 };
		self.absorbed_debt = self.absorbed_debt.saturating_sub(unrecovered);
		self.write_off(unrecovered);
		self.ledger.unrecovered = self.ledger.unrecovered.saturating_add(unrecovered);
		Some(paid)
	}

	/// Retires the debt shares that paying `amount` of a position's `debt` is worth and takes
	/// `amount` off the borrows (the pallet's `retire_debt`); `None` for zero shares.
	fn retire_debt(&mut self, owed_shares: u128, debt: u128, amount: u128) -> Option<u128> {
		let shares = if amount >= debt {
			owed_shares
		} else {
			to_debt_shares(amount, self.total_borrows, self.borrow_shares, Rounding::Down)?
				.min(owed_shares)
		};
		if shares == 0 {
			return None;
		}
		self.ledger.overpaid =
			self.ledger.overpaid.saturating_add(amount.saturating_sub(self.total_borrows));
		self.total_borrows = self.total_borrows.saturating_sub(amount);
		self.borrow_shares = self.borrow_shares.saturating_sub(shares);
		if self.borrow_shares == 0 {
			self.ledger.forgiven = self.ledger.forgiven.saturating_add(self.total_borrows);
			self.total_borrows = 0;
		}
		Some(shares)
	}

	/// Books `loss` as lost: the reserves bear it first, the lenders the rest (through
	/// [`Self::supplied`]).
	fn write_off(&mut self, loss: u128) {
		let from_reserves = loss.min(self.reserves);
		self.reserves = self.reserves.saturating_sub(from_reserves);
		self.ledger.from_reserves = self.ledger.from_reserves.saturating_add(from_reserves);
	}

	/// `cash + borrows + absorbed debt + everything written off + rounding forgiven` less
	/// `supplied − withdrawn + interest + sale excess + rounding overpaid`: zero when no unit of
	/// the loan asset was created or lost.
	pub fn conservation_residual(&self) -> i128 {
		let ledger = &self.ledger;
		let held = [
			self.cash,
			self.total_borrows,
			self.absorbed_debt,
			ledger.bad_debt,
			ledger.unrecovered,
			ledger.forgiven,
		];
		let flows = [ledger.supplied, ledger.interest, ledger.sale_excess, ledger.overpaid];
		let sum = |values: &[u128]| values.iter().map(|value| *value as i128).sum::<i128>();
		sum(&held) - sum(&flows) + ledger.withdrawn as i128
	}
}

/// The market, its agents and its paths: everything but the rate model, which is compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
	/// Blocks simulated after block 0 (where the market opens at its target).
	pub blocks: u32,
	/// The first block whose borrowers have the shocked reservation rates.
	pub shock_block: u32,
	/// The block whose market price has crashed.
	pub crash_block: u32,
	/// Borrowers.
	pub borrowers: usize,
	/// Reservation rates per block: a borrower borrows when the rate is below its own.
	pub reservation: Uniform,
	/// From the shock on, every reservation rate (and every one redrawn) is this times as high.
	pub demand_shock: FixedU128,
	/// A borrower borrows this share of its collateral's market value.
	pub ltv: Uniform,
	/// The market value of a borrower's collateral at the start, in whole loan units: uniform
	/// integers from the first to the second.
	pub collateral_value: (u64, u64),
	/// The collateral's price at the start, in loan units per whole unit.
	pub initial_price: FixedU128,
	/// Each block the market price is multiplied by a factor uniform in `[1 − a, 1 + a]`.
	pub price_step: FixedU128,
	/// At the crash the market price is multiplied by this.
	pub crash_to: FixedU128,
	/// The oracle's bound on its move per block (the chain's `max_change_per_block`).
	pub oracle_pace: Perbill,
	/// A borrower reviews its position after a gap uniform in `1..=review_gap` blocks.
	pub review_gap: u32,
	/// At a review, the chance that the borrower's reservation rate is redrawn (its needs
	/// changed).
	pub redraw: Perbill,
	/// A borrower with debt repays it all once the rate exceeds its reservation rate by this
	/// share.
	pub hysteresis: FixedU128,
	/// Lenders want `1 + elasticity·(r_s/r_s0 − 1)` times their initial supply at the supply rate
	/// `r_s` (`r_s0` the supply rate at the start), within [`Self::lender_bounds`].
	pub lender_elasticity: FixedU128,
	/// The least and most multiple of their initial supply lenders want.
	pub lender_bounds: (FixedU128, FixedU128),
	/// Each block lenders supply or withdraw this share of the gap to what they want.
	pub lender_pace: Perbill,
	/// The target utilization of the adaptive model, and the kink of the kinked one.
	pub target: FixedU128,
	/// The adaptive model's initial rate at target: the rate of both models at the target.
	pub initial_rate: FixedU128,
	/// The adaptive model's steepness `C`: `r*/C` at zero utilization, `r*·C` at full.
	pub steepness: FixedU128,
	/// The adaptive model's step size `η`.
	pub step_size: FixedU128,
	/// The adaptive model's bounds on the rate at target.
	pub rate_at_target_bounds: (FixedU128, FixedU128),
	/// The reserve factor.
	pub reserve_factor: Perbill,
	/// The risk parameters.
	pub risk: RiskParams,
	/// The most positions the chain liquidates a block (the runtime's `MaxLiquidationsPerBlock`).
	pub liquidations_per_block: u32,
}

/// `value` per block as a fixed-point rate: `value·10⁻¹²`.
const fn per_block(value_e12: u128) -> FixedU128 {
	FixedU128::from_inner(value_e12 * 1_000_000)
}

impl Setup {
	/// The experiment's market (see `docs/results.md`, section 8).
	pub fn standard() -> Self {
		let initial_rate = per_block(10_000); // 10⁻⁸ a block, 5.26 % a year
		Self {
			blocks: 12_000,
			shock_block: 2_000,
			crash_block: 10_000,
			borrowers: 300,
			// 0.2 to 3 times the initial rate: 1.05 % to 15.8 % a year.
			reservation: Uniform::new(per_block(2_000), per_block(30_000)),
			demand_shock: FixedU128::saturating_from_integer(3u32),
			ltv: Uniform::new(
				FixedU128::saturating_from_rational(3u32, 10u32),
				FixedU128::saturating_from_rational(7u32, 10u32),
			),
			collateral_value: (10_000, 100_000),
			initial_price: FixedU128::saturating_from_integer(2_000u32),
			// ±0.06 % a block: a standard deviation of 0.035 % a block, 79 % a year.
			price_step: FixedU128::saturating_from_rational(6u32, 10_000u32),
			crash_to: FixedU128::saturating_from_rational(2u32, 5u32),
			oracle_pace: Perbill::from_percent(10),
			review_gap: 199,
			redraw: Perbill::from_percent(20),
			hysteresis: FixedU128::saturating_from_rational(1u32, 10u32),
			lender_elasticity: FixedU128::saturating_from_rational(1u32, 4u32),
			lender_bounds: (
				FixedU128::saturating_from_rational(1u32, 2u32),
				FixedU128::saturating_from_integer(3u32),
			),
			lender_pace: Perbill::from_parts(500_000), // 0.05 % of the gap a block
			target: FixedU128::saturating_from_rational(9u32, 10u32),
			initial_rate,
			steepness: FixedU128::saturating_from_integer(4u32),
			step_size: FixedU128::from_inner(300_000_000), // 3·10⁻¹⁰
			rate_at_target_bounds: (per_block(200), per_block(400_000)),
			reserve_factor: Perbill::from_percent(10),
			risk: RiskParams {
				collateral_factor: Perbill::from_percent(75),
				liquidation_threshold: Perbill::from_percent(80),
				liquidation_bonus: Perbill::from_percent(5),
				close_factor: Perbill::from_percent(50),
				full_close_health: FixedU128::saturating_from_rational(95u32, 100u32),
				dust_value: FixedU128::one(),
			},
			liquidations_per_block: 32,
		}
	}

	/// The adaptive model with step size `step_size`.
	pub fn adaptive_with(&self, step_size: FixedU128) -> RateModel {
		RateModel::Adaptive(AdaptiveRate {
			target_utilization: self.target,
			step_size,
			steepness: self.steepness,
			min_rate_at_target: self.rate_at_target_bounds.0,
			max_rate_at_target: self.rate_at_target_bounds.1,
			initial_rate_at_target: self.initial_rate,
		})
	}

	/// The adaptive model.
	pub fn adaptive(&self) -> RateModel {
		self.adaptive_with(self.step_size)
	}

	/// The kinked model that is the adaptive model's curve frozen at its initial rate at target:
	/// the kink at the target, `r*₀/C` at zero utilization, `r*₀` at the kink, `r*₀·C` at full
	/// utilization (rounded as the adaptive curve rounds them).
	pub fn kinked(&self) -> RateModel {
		let rate = self.initial_rate;
		let base = div(rate, self.steepness, Rounding::Up);
		RateModel::Kinked(KinkedRate {
			base,
			slope_low: rate.saturating_sub(base),
			slope_high: mul(rate, self.steepness, Rounding::Up).saturating_sub(rate),
			kink: self.target,
		})
	}

	/// Draws replication `seed`: the borrowers, their reviews and the market price path. Both
	/// rate models run on the same draw.
	pub fn draw(&self, seed: DrawSeed) -> Paths {
		let mut rng = seed.rng();
		let start = collateral_asset(self.initial_price);
		let borrowers: Vec<BorrowerDraw> = (0..self.borrowers)
			.map(|_| {
				let reservation = self.reservation.sample(&mut rng);
				let ltv = self.ltv.sample(&mut rng);
				let value = rng.gen_range(self.collateral_value.0..=self.collateral_value.1);
				let collateral =
					start.amount(FixedU128::saturating_from_integer(value), Rounding::Down);
				BorrowerDraw { reservation, ltv, collateral }
			})
			.collect();
		let mut reviews = Vec::new();
		for borrower in 0..self.borrowers {
			let mut block = rng.gen_range(1..=self.review_gap);
			while block <= self.blocks {
				let redraw = rng.gen_range(0..1_000_000_000u32) < self.redraw.deconstruct();
				let redraw = redraw.then(|| self.reservation.sample(&mut rng));
				reviews.push(Review { block, borrower: borrower as u32, redraw });
				block += rng.gen_range(1..=self.review_gap);
			}
		}
		reviews.sort_by_key(|review| (review.block, review.borrower));
		let step = Uniform::new(
			FixedU128::one().saturating_sub(self.price_step),
			FixedU128::one().saturating_add(self.price_step),
		);
		let mut price = self.initial_price;
		let mut prices = Vec::with_capacity(self.blocks as usize + 1);
		prices.push(price);
		for block in 1..=self.blocks {
			price = price.saturating_mul(step.sample(&mut rng));
			if block == self.crash_block {
				price = price.saturating_mul(self.crash_to);
			}
			prices.push(price);
		}
		Paths { borrowers, reviews, prices }
	}
}

/// A borrower as drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowerDraw {
	/// Its reservation rate per block at the start.
	pub reservation: FixedU128,
	/// The share of its collateral's market value it borrows.
	pub ltv: FixedU128,
	/// Its collateral, in the collateral asset's smallest unit.
	pub collateral: u128,
}

/// A borrower's review of its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Review {
	/// The block.
	pub block: u32,
	/// The borrower.
	pub borrower: u32,
	/// Its new reservation rate, if its needs changed.
	pub redraw: Option<FixedU128>,
}

/// One replication's draw: what both rate models see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
	/// The borrowers.
	pub borrowers: Vec<BorrowerDraw>,
	/// Their reviews, by block.
	pub reviews: Vec<Review>,
	/// The collateral's market price at blocks `0..=blocks`.
	pub prices: Vec<FixedU128>,
}

/// What happened in one block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
	/// Borrows.
	pub borrows: u32,
	/// Borrows refused for lack of cash.
	pub rationed: u32,
	/// Full repayments.
	pub repayments: u32,
	/// Liquidations.
	pub liquidations: u32,
	/// Liquidatable positions left for the next block by the per-block budget.
	pub deferred: u32,
	/// Whether lenders wanted to withdraw more than the market's cash.
	pub withdrawal_short: bool,
	/// Whether a buyer took the seized collateral.
	pub sale: bool,
}

/// The market at the end of a block, for an observer.
pub struct BlockView<'a> {
	/// The block (0: the market as opened).
	pub block: u32,
	/// The market.
	pub market: &'a Market,
	/// The oracle's price of the collateral.
	pub oracle_price: FixedU128,
	/// The collateral's market price.
	pub market_price: FixedU128,
	/// What happened.
	pub activity: Activity,
}

/// The lenders, as one holder of all supply shares.
struct Lenders {
	shares: u128,
	base_supply: u128,
	base_rate: FixedU128,
}

impl Lenders {
	/// What the lenders want to have supplied at the supply rate `rate`.
	fn wanted(&self, setup: &Setup, rate: FixedU128) -> u128 {
		let ratio = div(rate, self.base_rate, Rounding::Down);
		let one = FixedU128::one();
		let multiple = if ratio >= one {
			one.saturating_add(mul(
				setup.lender_elasticity,
				ratio.saturating_sub(one),
				Rounding::Down,
			))
		} else {
			one.saturating_sub(mul(
				setup.lender_elasticity,
				one.saturating_sub(ratio),
				Rounding::Up,
			))
		};
		let (low, high) = setup.lender_bounds;
		multiple.max(low).min(high).saturating_mul_int(self.base_supply)
	}

	/// Supplies or withdraws `lender_pace` of the gap to what the lenders want.
	fn step(&mut self, setup: &Setup, market: &mut Market, activity: &mut Activity) {
		let claim = to_assets(self.shares, market.supplied(), market.supply_shares, Rounding::Down)
			.unwrap_or(0);
		let wanted = self.wanted(setup, market.supply_rate());
		if wanted > claim {
			let amount = setup.lender_pace.mul_floor(wanted - claim);
			if let Some(shares) = market.supply(amount) {
				self.shares = self.shares.saturating_add(shares);
			}
		} else {
			let wanted_out = setup.lender_pace.mul_floor(claim - wanted);
			activity.withdrawal_short = wanted_out > market.cash;
			let amount = wanted_out.min(market.cash);
			let shares = to_shares(amount, market.supplied(), market.supply_shares, Rounding::Down)
				.unwrap_or(0)
				.min(self.shares);
			if market.withdraw(shares).is_some() {
				self.shares = self.shares.saturating_sub(shares);
			}
		}
	}
}

/// Runs the market with rate model `model` on `paths`, calling `observe` at the end of every block
/// (and once for the market as opened); returns the market at the end.
///
/// Block 0: lenders supply what makes the initial borrowers' loans a utilization at the target,
/// every borrower pledges its collateral, and those whose reservation rate exceeds the rate at
/// the target borrow. Every later block, in order: the oracle moves towards the market price by at
/// most its pace; interest accrues for the block (and the adaptive rate at target steps); the
/// chain liquidates unhealthy positions, worst first, at most `liquidations_per_block`; a buyer
/// takes the seized collateral if its discounted price is at most its market value; the borrowers
/// due review their positions; lenders move towards the supply they want.
pub fn simulate(
	setup: &Setup,
	paths: &Paths,
	model: RateModel,
	mut observe: impl FnMut(&BlockView),
) -> Market {
	let loan = loan_asset();
	let mut market = Market::new(model, setup.reserve_factor, setup.risk);
	let mut reservations: Vec<FixedU128> = paths.borrowers.iter().map(|b| b.reservation).collect();
	let mut positions = vec![Position::default(); paths.borrowers.len()];
	let start = collateral_asset(paths.prices[0]);
	let loan_of = |draw: &BorrowerDraw, collateral: u128, price: Priced| {
		loan.amount(
			mul(price.value(collateral, Rounding::Down), draw.ltv, Rounding::Down),
			Rounding::Down,
		)
	};
	let initial: u128 = paths
		.borrowers
		.iter()
		.filter(|draw| draw.reservation > setup.initial_rate)
		.map(|draw| loan_of(draw, draw.collateral, start))
		.sum();
	let base_supply = multiply_by_rational_with_rounding(
		initial,
		FixedU128::accuracy(),
		setup.target.into_inner(),
		Rounding::Up,
	)
	.unwrap_or(u128::MAX);
	let mut lenders = Lenders {
		shares: 0,
		base_supply,
		base_rate: supply_rate(setup.target, setup.initial_rate, setup.reserve_factor),
	};
	lenders.shares = market.supply(base_supply).unwrap_or(0);
	let mut activity = Activity::default();
	for (draw, position) in paths.borrowers.iter().zip(positions.iter_mut()) {
		market.deposit_collateral(position, draw.collateral);
		if draw.reservation > setup.initial_rate {
			let amount = loan_of(draw, draw.collateral, start);
			if market.borrow(position, amount, loan, start).is_ok() {
				activity.borrows += 1;
			}
		}
	}
	let mut oracle = paths.prices[0];
	observe(&BlockView {
		block: 0,
		market: &market,
		oracle_price: oracle,
		market_price: oracle,
		activity,
	});

	let mut reviews = paths.reviews.iter().peekable();
	let mut candidates: Vec<(FixedU128, usize)> = Vec::new();
	for block in 1..=setup.blocks {
		let mut activity = Activity::default();
		let market_price = paths.prices[block as usize];
		oracle = bounded_move(oracle, market_price, setup.oracle_pace, 1);
		let priced = collateral_asset(oracle);
		market.accrue(1);

		// The hook: unhealthy positions, worst first, within the budget. Only positions filed at
		// most one bucket below the threshold's can be unhealthy (a bucket spans 1.6 %).
		candidates.clear();
		let threshold = threshold_bucket(
			priced,
			loan,
			market.total_borrows,
			market.borrow_shares,
			&market.risk,
		);
		if let Some(threshold) = threshold {
			let floor = threshold.saturating_sub(1);
			for (index, position) in positions.iter().enumerate() {
				if position.bucket.is_some_and(|bucket| bucket >= floor) {
					let debt = market.debt(position.borrow_shares);
					let h = health(position.collateral, priced, debt, loan, &market.risk);
					if let Some(h) = h.filter(|h| *h < FixedU128::one()) {
						candidates.push((h, index));
					}
				}
			}
		}
		candidates.sort_unstable();
		let budget = setup.liquidations_per_block as usize;
		activity.deferred = candidates.len().saturating_sub(budget) as u32;
		for (_, index) in candidates.iter().take(budget) {
			if market.liquidate(&mut positions[*index], loan, priced).is_some() {
				activity.liquidations += 1;
			}
		}

		// A buyer takes the seized collateral when it costs no more than it is worth.
		if market.absorbed_collateral > 0 {
			let amount = market.absorbed_collateral;
			let price = discounted_price(amount, priced, loan, &market.risk);
			let worth = loan.amount(
				collateral_asset(market_price).value(amount, Rounding::Down),
				Rounding::Down,
			);
			if price <= worth {
				activity.sale = market.buy_collateral(amount, loan, priced).is_some();
			}
		}

		// Borrowers.
		let shocked = block >= setup.shock_block;
		let valued = collateral_asset(market_price);
		while let Some(review) = reviews.next_if(|review| review.block == block) {
			let index = review.borrower as usize;
			if let Some(reservation) = review.redraw {
				reservations[index] = reservation;
			}
			let reservation = if shocked {
				mul(reservations[index], setup.demand_shock, Rounding::Down)
			} else {
				reservations[index]
			};
			let position = &mut positions[index];
			let rate = market.borrow_rate();
			if position.borrow_shares == 0 {
				if rate < reservation && position.collateral > 0 {
					let amount = loan_of(&paths.borrowers[index], position.collateral, valued);
					match market.borrow(position, amount, loan, priced) {
						Ok(()) => activity.borrows += 1,
						Err(Refusal::Cash) => activity.rationed += 1,
						Err(_) => {},
					}
				}
			} else {
				let ceiling = mul(
					reservation,
					FixedU128::one().saturating_add(setup.hysteresis),
					Rounding::Up,
				);
				if rate > ceiling {
					let debt = market.debt(position.borrow_shares);
					if market.repay(position, debt) > 0 {
						activity.repayments += 1;
					}
				}
			}
		}

		lenders.step(setup, &mut market, &mut activity);
		observe(&BlockView {
			block,
			market: &market,
			oracle_price: oracle,
			market_price,
			activity,
		});
	}
	market
}

#[cfg(test)]
mod tests {
	use super::*;

	fn market() -> Market {
		let setup = Setup::standard();
		Market::new(setup.kinked(), setup.reserve_factor, setup.risk)
	}

	#[test]
	fn supply_borrow_repay_and_withdraw_conserve_the_loan_asset() {
		let mut market = market();
		// Thousands of USDD, so that a block's interest is large enough for the reserves' share
		// not to round down to nothing.
		let unit = 1_000_000_000u128;
		let price = collateral_asset(FixedU128::saturating_from_integer(2_000u32));
		let shares = market.supply(1_000 * unit).unwrap();
		let mut position = Position::default();
		market.deposit_collateral(&mut position, 1_000_000_000_000_000);
		// 2 000 000 of collateral: the limit is 1 500 000.
		assert_eq!(
			market.borrow(&mut position, 1_600 * unit, loan_asset(), price),
			Err(Refusal::Cash)
		);
		market.supply(1_000 * unit).unwrap();
		assert_eq!(
			market.borrow(&mut position, 1_600 * unit, loan_asset(), price),
			Err(Refusal::Undercollateralized)
		);
		assert_eq!(market.borrow(&mut position, 900 * unit, loan_asset(), price), Ok(()));
		assert!(position.bucket.is_some());
		for _ in 0..1_000 {
			market.accrue(1);
			assert_eq!(market.conservation_residual(), 0);
		}
		assert!(market.ledger.interest > 0 && market.reserves > 0);
		let debt = market.debt(position.borrow_shares);
		assert_eq!(market.repay(&mut position, u128::MAX), debt);
		assert_eq!((position.borrow_shares, position.bucket, market.total_borrows), (0, None, 0));
		assert!(market.withdraw(shares).is_some());
		assert_eq!(market.conservation_residual(), 0);
	}

	#[test]
	fn a_crash_is_liquidated_sold_and_written_off_reserves_first() {
		let mut market = market();
		let unit = 1_000_000u128;
		market.supply(2_000 * unit).unwrap();
		let mut position = Position::default();
		market.deposit_collateral(&mut position, 1_000_000_000_000);
		let at = |price: u32| collateral_asset(FixedU128::saturating_from_integer(price));
		market.borrow(&mut position, 1_400 * unit, loan_asset(), at(2_000)).unwrap();
		market.accrue(100);
		assert_eq!(market.liquidate(&mut position, loan_asset(), at(2_000)), None);
		// At 1 500 the health is 1 200/1 400: the whole debt, for 1 400·1.05/1 500 of collateral.
		let outcome = market.liquidate(&mut position, loan_asset(), at(1_500)).unwrap();
		assert_eq!(outcome.bad_debt, 0);
		assert_eq!(position.borrow_shares, 0);
		assert_eq!(market.absorbed_debt, outcome.repaid);
		// Sold after a crash to 800: it fetches 800/1 050 of what it was seized for.
		let reserves = market.reserves;
		let paid =
			market.buy_collateral(market.absorbed_collateral, loan_asset(), at(800)).unwrap();
		assert!(paid < outcome.repaid);
		assert_eq!(market.ledger.unrecovered, outcome.repaid - paid);
		assert_eq!(market.ledger.from_reserves, reserves);
		assert_eq!((market.reserves, market.absorbed_debt), (0, 0));
		assert_eq!(market.conservation_residual(), 0);
	}
}
