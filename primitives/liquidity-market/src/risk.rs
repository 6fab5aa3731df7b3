//! Collateral, health and liquidation.
//!
//! Amounts are in each asset's smallest unit (`u128`). Prices come from the oracle as
//! [`FixedU128`] values of **one whole unit** of the asset (`10^decimals` of its smallest unit)
//! in a common numeraire; values are [`FixedU128`] amounts of that numeraire.
//!
//! For a position with collateral `c` and debt `d`:
//! - **borrow limit**: `value(c)·collateral_factor` — a borrow or a collateral withdrawal must
//!   leave `value(d)` at most this;
//! - **health**: `h = value(c)·liquidation_threshold / value(d)` (`None`, infinitely healthy,
//!   without debt); liquidatable when `h < 1`. The threshold exceeds the collateral factor, so a
//!   fresh position is not liquidatable at once;
//! - **close factor**: a liquidation repays at most 50 % of the debt, all of it when `h` is below
//!   the full-close health (0.95) or the debt is dust;
//! - **seized collateral**: `value(repaid)·(1 + bonus)` worth of collateral at its price, rounded
//!   down, at most the whole collateral;
//! - **liquidation price**: the collateral price at which `h = 1`, `value(d)/(c·threshold)` per
//!   whole unit — what a borrower watches;
//! - **a liquidation** ([`liquidation`]) repays up to the close factor's share and seizes that
//!   plus the bonus in collateral. When the collateral does not cover it, all the collateral goes
//!   for what it covers and the rest of the debt — owed by a position with nothing left — is
//!   **bad debt**, booked at once.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use contract_equilibrium_primitives::fixed::{div, mul, mul_div};
use scale_info::TypeInfo;
use sp_arithmetic::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating},
	FixedPointNumber, FixedU128, Perbill, Rounding,
};

/// Why risk parameters are refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RiskError {
	/// The collateral factor is zero or not below the liquidation threshold.
	CollateralFactorNotBelowThreshold,
	/// The liquidation threshold with the bonus reaches 100 %: a liquidation would seize more
	/// collateral than a position at the threshold has.
	BonusTooLarge,
	/// The close factor is zero.
	ZeroCloseFactor,
	/// The full-close health is not below 1.
	FullCloseHealthNotBelowOne,
}

/// A market's risk parameters.
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct RiskParams {
	/// The share of the collateral's value that may be borrowed (e.g. 75 %).
	pub collateral_factor: Perbill,
	/// The share of the collateral's value the debt may reach before the position can be
	/// liquidated (e.g. 80 %); above the collateral factor.
	pub liquidation_threshold: Perbill,
	/// What a liquidator receives in collateral beyond the value it repays (e.g. 5 %).
	pub liquidation_bonus: Perbill,
	/// The share of the debt one liquidation may repay (e.g. 50 %).
	pub close_factor: Perbill,
	/// Below this health the whole debt may be repaid at once (e.g. 0.95).
	pub full_close_health: FixedU128,
	/// A debt worth at most this (numeraire) may be repaid whole, so that no dust is left that
	/// nobody would liquidate.
	pub dust_value: FixedU128,
}

impl RiskParams {
	/// Checks the parameters.
	pub fn validate(&self) -> Result<(), RiskError> {
		if self.collateral_factor.is_zero() || self.collateral_factor >= self.liquidation_threshold
		{
			return Err(RiskError::CollateralFactorNotBelowThreshold);
		}
		// threshold·(1 + bonus) < 1: at the threshold the collateral covers repaid debt plus
		// bonus.
		let covered = FixedU128::from_perbill(self.liquidation_threshold).saturating_mul(
			FixedU128::one().saturating_add(FixedU128::from_perbill(self.liquidation_bonus)),
		);
		if covered >= FixedU128::one() {
			return Err(RiskError::BonusTooLarge);
		}
		if self.close_factor.is_zero() {
			return Err(RiskError::ZeroCloseFactor);
		}
		if self.full_close_health >= FixedU128::one() {
			return Err(RiskError::FullCloseHealthNotBelowOne);
		}
		Ok(())
	}
}

/// An asset's price and the size of its whole unit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Priced {
	/// The oracle's price of one whole unit, in the numeraire.
	pub price: FixedU128,
	/// The asset's decimals: a whole unit is `10^decimals` of its smallest unit.
	pub decimals: u8,
}

impl Priced {
	/// `10^decimals`, saturating.
	fn unit(&self) -> u128 {
		10u128.saturating_pow(u32::from(self.decimals))
	}

	/// The value of `amount` (smallest units), rounded as asked; saturates.
	pub fn value(&self, amount: u128, rounding: Rounding) -> FixedU128 {
		let whole = multiply_by_rational_with_rounding(
			amount,
			FixedU128::accuracy(),
			self.unit(),
			rounding,
		)
		.map(FixedU128::from_inner)
		.unwrap_or_else(|| FixedU128::from_inner(u128::MAX));
		mul(whole, self.price, rounding)
	}

	/// How much of the asset (smallest units) is worth `value`, rounded as asked; saturates,
	/// and is `u128::MAX` for a zero price.
	pub fn amount(&self, value: FixedU128, rounding: Rounding) -> u128 {
		let whole = div(value, self.price, rounding);
		multiply_by_rational_with_rounding(
			whole.into_inner(),
			self.unit(),
			FixedU128::accuracy(),
			rounding,
		)
		.unwrap_or(u128::MAX)
	}
}

/// The most a position with `collateral` may owe in value: `value(collateral)·collateral_factor`,
/// rounded down.
pub fn borrow_limit(collateral: u128, asset: Priced, params: &RiskParams) -> FixedU128 {
	mul(
		asset.value(collateral, Rounding::Down),
		FixedU128::from_perbill(params.collateral_factor),
		Rounding::Down,
	)
}

/// The health of a position: `value(collateral)·threshold / value(debt)`, collateral rounded
/// down and debt up (a position is never judged healthier than it is); `None` without debt.
pub fn health(
	collateral: u128,
	collateral_asset: Priced,
	debt: u128,
	debt_asset: Priced,
	params: &RiskParams,
) -> Option<FixedU128> {
	if debt == 0 {
		return None;
	}
	let covered = mul(
		collateral_asset.value(collateral, Rounding::Down),
		FixedU128::from_perbill(params.liquidation_threshold),
		Rounding::Down,
	);
	Some(div(covered, debt_asset.value(debt, Rounding::Up), Rounding::Down))
}

/// Whether a position may be liquidated: it owes something and its health is below 1.
pub fn is_liquidatable(health: Option<FixedU128>) -> bool {
	health.is_some_and(|h| h < FixedU128::one())
}

/// The most one liquidation may repay of `debt` (smallest units of the loan asset): all of it
/// when the health is below the full-close health or the debt is dust, the close factor of it
/// (rounded up) otherwise; zero for a healthy position.
pub fn max_repay(
	debt: u128,
	debt_asset: Priced,
	health: Option<FixedU128>,
	params: &RiskParams,
) -> u128 {
	match health {
		Some(h) if h < FixedU128::one() => {
			let dust = debt_asset.value(debt, Rounding::Up) <= params.dust_value;
			if h < params.full_close_health || dust {
				debt
			} else {
				params.close_factor.mul_ceil(debt)
			}
		},
		_ => 0,
	}
}

/// The collateral (smallest units) a liquidator receives for repaying `repaid` of the debt:
/// `value(repaid)·(1 + bonus)` at the collateral's price, rounded down, at most `collateral`.
pub fn seized_collateral(
	repaid: u128,
	debt_asset: Priced,
	collateral: u128,
	collateral_asset: Priced,
	params: &RiskParams,
) -> u128 {
	let value = mul(
		debt_asset.value(repaid, Rounding::Down),
		FixedU128::one().saturating_add(FixedU128::from_perbill(params.liquidation_bonus)),
		Rounding::Down,
	);
	collateral_asset.amount(value, Rounding::Down).min(collateral)
}

/// What `amount` of collateral is worth in the loan asset at the liquidation discount:
/// `value(amount)/(1 + bonus)`, rounded up. A liquidator who takes all of a position's
/// collateral repays this much, and the market sells the collateral it seized at this price.
pub fn discounted_price(
	amount: u128,
	collateral_asset: Priced,
	debt_asset: Priced,
	params: &RiskParams,
) -> u128 {
	let value = div(
		collateral_asset.value(amount, Rounding::Down),
		FixedU128::one().saturating_add(FixedU128::from_perbill(params.liquidation_bonus)),
		Rounding::Up,
	);
	debt_asset.amount(value, Rounding::Up)
}

/// What one liquidation does to a position.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Liquidation {
	/// The debt repaid (smallest units of the loan asset), by the liquidator or the market.
	pub repaid: u128,
	/// The collateral seized for it (smallest units of the collateral asset).
	pub seized: u128,
	/// The debt written off: what is left of it once all the collateral is gone.
	pub bad_debt: u128,
}

/// Liquidates a position owing `debt` against `collateral` for at most `requested` of the loan
/// asset: nothing for a healthy position; otherwise `repaid = min(max_repay, requested)` and
/// [`seized_collateral`] for it. A repayment worth less than one unit of collateral becomes the
/// whole debt. When the seizure takes all the collateral:
/// - if the collateral is worth the whole debt, the whole debt is repaid (possibly more than
///   `requested`: the caller refuses that) for all of it, the bonus being what is left over;
/// - otherwise the repayment shrinks to what the collateral covers at the bonus
///   ([`discounted_price`]: never more than the bonus to the liquidator), and the rest of the
///   debt is bad debt.
pub fn liquidation(
	debt: u128,
	debt_asset: Priced,
	collateral: u128,
	collateral_asset: Priced,
	params: &RiskParams,
	requested: u128,
) -> Liquidation {
	let h = health(collateral, collateral_asset, debt, debt_asset, params);
	let mut repaid = max_repay(debt, debt_asset, h, params).min(requested);
	if repaid == 0 {
		return Liquidation::default();
	}
	let mut seized = seized_collateral(repaid, debt_asset, collateral, collateral_asset, params);
	if seized == 0 {
		repaid = debt;
		seized = seized_collateral(debt, debt_asset, collateral, collateral_asset, params);
	}
	if seized > 0 && seized < collateral {
		return Liquidation { repaid, seized, bad_debt: 0 };
	}
	let worth =
		debt_asset.amount(collateral_asset.value(collateral, Rounding::Down), Rounding::Down);
	if worth >= debt {
		return Liquidation { repaid: debt, seized: collateral, bad_debt: 0 };
	}
	let repaid = discounted_price(collateral, collateral_asset, debt_asset, params).min(repaid);
	Liquidation { repaid, seized: collateral, bad_debt: debt.saturating_sub(repaid) }
}

/// The collateral price (numeraire per whole unit) below which the position becomes
/// liquidatable: `value(debt) / (collateral/10^decimals · threshold)`, rounded up (filed no
/// later than it must be); `None` without debt, the largest price without collateral.
pub fn liquidation_price(
	collateral: u128,
	collateral_decimals: u8,
	debt: u128,
	debt_asset: Priced,
	params: &RiskParams,
) -> Option<FixedU128> {
	if debt == 0 {
		return None;
	}
	let unit_priced = Priced { price: FixedU128::one(), decimals: collateral_decimals };
	let whole_collateral = unit_priced.value(collateral, Rounding::Down);
	let covered = mul(
		whole_collateral,
		FixedU128::from_perbill(params.liquidation_threshold),
		Rounding::Down,
	);
	Some(mul_div(debt_asset.value(debt, Rounding::Up), FixedU128::one(), covered, Rounding::Up))
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use proptest::prelude::*;

	fn params() -> RiskParams {
		RiskParams {
			collateral_factor: Perbill::from_percent(75),
			liquidation_threshold: Perbill::from_percent(80),
			liquidation_bonus: Perbill::from_percent(5),
			close_factor: Perbill::from_percent(50),
			full_close_health: FixedU128::saturating_from_rational(95u32, 100u32),
			dust_value: FixedU128::saturating_from_integer(1u32),
		}
	}

	const UNIT: u128 = 1_000_000_000_000;

	fn priced(price: u32) -> Priced {
		Priced { price: FixedU128::saturating_from_integer(price), decimals: 12 }
	}

	#[test]
	fn parameters_are_checked() {
		assert!(params().validate().is_ok());
		let mut bad = params();
		bad.collateral_factor = Perbill::from_percent(80);
		assert_eq!(bad.validate(), Err(RiskError::CollateralFactorNotBelowThreshold));
		let mut bad = params();
		bad.liquidation_threshold = Perbill::from_percent(96);
		assert_eq!(bad.validate(), Err(RiskError::BonusTooLarge));
		let mut bad = params();
		bad.close_factor = Perbill::zero();
		assert_eq!(bad.validate(), Err(RiskError::ZeroCloseFactor));
		let mut bad = params();
		bad.full_close_health = FixedU128::one();
		assert_eq!(bad.validate(), Err(RiskError::FullCloseHealthNotBelowOne));
	}

	#[test]
	fn a_position_from_borrow_to_liquidation() {
		let p = params();
		// 10 units of collateral at 100 = 1 000; limit 750 of a stable (price 1).
		let limit = borrow_limit(10 * UNIT, priced(100), &p);
		assert_eq!(limit, FixedU128::saturating_from_integer(750u32));
		let debt = 750 * UNIT;
		// Health 800/750 at price 100: not liquidatable.
		let h = health(10 * UNIT, priced(100), debt, priced(1), &p);
		assert_eq!(h, Some(FixedU128::saturating_from_rational(800u32, 750u32)));
		assert!(!is_liquidatable(h));
		assert_eq!(max_repay(debt, priced(1), h, &p), 0);
		// Liquidation price: 750 / (10·0.8) = 93.75.
		let at = liquidation_price(10 * UNIT, 12, debt, priced(1), &p).unwrap();
		assert_eq!(at, FixedU128::saturating_from_rational(9375u32, 100u32));
		// At 93 the health is 744/750 (0.992): half may be repaid.
		let h = health(10 * UNIT, priced(93), debt, priced(1), &p);
		assert!(is_liquidatable(h));
		assert_eq!(max_repay(debt, priced(1), h, &p), 375 * UNIT);
		// Repaying 375 seizes 375·1.05/93 = 4.2338… units.
		let seized = seized_collateral(375 * UNIT, priced(1), 10 * UNIT, priced(93), &p);
		assert_eq!(seized, 375 * UNIT * 105 / 100 / 93);
		// After a crash to 40 (health 0.43) all of it, but never more collateral than there is.
		let h = health(10 * UNIT, priced(40), debt, priced(1), &p);
		assert_eq!(max_repay(debt, priced(1), h, &p), debt);
		assert_eq!(seized_collateral(debt, priced(1), 10 * UNIT, priced(40), &p), 10 * UNIT);
	}

	#[test]
	fn dust_is_repaid_whole_and_no_debt_is_healthy() {
		let p = params();
		// Collateral worth 1.2, debt worth 1: health 0.96, above the full-close health.
		let h = health(6 * UNIT / 5, priced(1), UNIT / 2, priced(2), &p);
		assert!(is_liquidatable(h) && h.unwrap() > p.full_close_health);
		// Debt worth 1 (the dust value): whole.
		assert_eq!(max_repay(UNIT / 2, priced(2), h, &p), UNIT / 2);
		assert_eq!(health(UNIT, priced(1), 0, priced(1), &p), None);
		assert_eq!(liquidation_price(UNIT, 12, 0, priced(1), &p), None);
	}

	#[test]
	fn a_liquidation_books_what_the_collateral_cannot_cover() {
		let p = params();
		let debt = 750 * UNIT;
		// Healthy: nothing.
		assert_eq!(
			liquidation(debt, priced(1), 10 * UNIT, priced(100), &p, u128::MAX),
			Liquidation::default()
		);
		// At 93, half, as `max_repay` and `seized_collateral` say; a smaller request caps it.
		let at_93 = liquidation(debt, priced(1), 10 * UNIT, priced(93), &p, u128::MAX);
		assert_eq!(at_93.repaid, 375 * UNIT);
		assert_eq!(at_93.seized, 375 * UNIT * 105 / 100 / 93);
		assert_eq!(at_93.bad_debt, 0);
		assert_eq!(liquidation(debt, priced(1), 10 * UNIT, priced(93), &p, UNIT).repaid, UNIT);
		// At 40 the collateral (400) covers 400/1.05 = 380.95… of the debt: the rest is bad.
		let at_40 = liquidation(debt, priced(1), 10 * UNIT, priced(40), &p, u128::MAX);
		assert_eq!(at_40.seized, 10 * UNIT);
		assert_eq!(at_40.repaid, 400 * UNIT * 100 / 105 + 1);
		assert_eq!(at_40.bad_debt, debt - at_40.repaid);
	}

	#[test]
	fn a_solvent_position_leaves_no_bad_debt_and_nothing_is_seized_for_free() {
		let p = params();
		// Collateral worth 1.02 of the debt (health 0.816): all of it for the whole debt, no
		// bad debt (the bonus shrinks to 2 %).
		let debt = 1_000 * UNIT;
		let at = liquidation(debt, priced(1), 10 * UNIT, priced(102), &p, u128::MAX);
		assert_eq!(at, Liquidation { repaid: debt, seized: 10 * UNIT, bad_debt: 0 });
		// A repayment worth less than one unit of collateral: the whole debt, all of the one
		// unit, never a repayment for nothing.
		let coarse = Priced { price: FixedU128::saturating_from_integer(1_000u32), decimals: 0 };
		let tiny = liquidation(
			900,
			Priced { price: FixedU128::one(), decimals: 0 },
			1,
			coarse,
			&p,
			u128::MAX,
		);
		assert!(tiny.seized == 1 && tiny.repaid == 900 && tiny.bad_debt == 0);
	}

	#[test]
	fn values_respect_decimals() {
		let six = Priced { price: FixedU128::one(), decimals: 6 };
		let eighteen = Priced { price: FixedU128::one(), decimals: 18 };
		assert_eq!(
			six.value(2_500_000, Rounding::Down),
			FixedU128::saturating_from_rational(5u32, 2u32)
		);
		assert_eq!(
			eighteen.amount(FixedU128::saturating_from_rational(5u32, 2u32), Rounding::Down),
			2_500_000_000_000_000_000
		);
	}

	proptest! {
		/// A position is liquidatable exactly when the collateral price is below its
		/// liquidation price (up to one unit of rounding at the boundary), a liquidation never
		/// seizes more than the collateral or more value than repaid plus bonus, and a position at
		/// its borrow limit is healthy.
		#[test]
		fn liquidation_price_health_and_seizure_agree(
			collateral in 1u128..=1_000_000 * UNIT,
			debt in 1u128..=1_000_000 * UNIT,
			price in 1u64..=1_000_000,
		) {
			let p = params();
			let price = FixedU128::saturating_from_rational(price, 1_000u64);
			let c = Priced { price, decimals: 12 };
			let stable = priced(1);
			let h = health(collateral, c, debt, stable, &p);
			let at = liquidation_price(collateral, 12, debt, stable, &p).unwrap();
			if price > at {
				prop_assert!(!is_liquidatable(h) || h.unwrap() >= FixedU128::saturating_from_rational(999_999u64, 1_000_000u64));
			}
			if price < at {
				prop_assert!(is_liquidatable(h) || at - price <= FixedU128::saturating_from_rational(1u64, 1_000_000u64) * at);
			}
			let repay = max_repay(debt, stable, h, &p);
			prop_assert!(repay <= debt);
			let seized = seized_collateral(repay, stable, collateral, c, &p);
			prop_assert!(seized <= collateral);
			let paid_value = stable.value(repay, Rounding::Up);
			prop_assert!(c.value(seized, Rounding::Down) <= paid_value.saturating_mul(FixedU128::saturating_from_rational(105u32, 100u32)).saturating_add(FixedU128::from_inner(1)));
			// Borrowing up to the limit leaves the position healthy.
			let limit = borrow_limit(collateral, c, &p);
			let max_debt = stable.amount(limit, Rounding::Down);
			if max_debt > 0 {
				prop_assert!(!is_liquidatable(health(collateral, c, max_debt, stable, &p)));
			}
		}
	}
}
