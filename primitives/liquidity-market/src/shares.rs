//! Supply and borrow shares, with virtual shares and rounding in the protocol's favour.
//!
//! A lender's claim and a borrower's debt are both **shares** of a total: a lender owns
//! `shares/total_shares` of what lenders are owed, a borrower owes `shares/total_shares` of the
//! total borrows. Interest raises the totals, not the shares, so an accrual touches no position.
//!
//! **Virtual shares** (as Morpho Blue): every conversion counts [`VIRTUAL_SHARES`] more shares
//! and [`VIRTUAL_ASSETS`] more assets than the market holds, as if a phantom had deposited at
//! creation. The first depositor of an empty market can then no longer set the exchange rate
//! to anything it likes (the Hundred Finance and Compound-fork "empty market" losses): inflating
//! the assets per share by a donation gives most of the donation to the phantom.
//!
//! Debt shares ([`to_debt_shares`], [`debt_of`]) have no virtual assets: see there.
//!
//! **Rounding** always favours the market: shares minted for a supply and assets paid for a
//! withdrawal round down; shares burned for a withdrawal of assets, debt shares minted for a
//! borrow and assets owed for a debt round up. Converting to shares and back never gains.

use sp_arithmetic::{helpers_128bit::multiply_by_rational_with_rounding, Rounding};

/// The shares of the phantom depositor every conversion counts: 10⁶.
pub const VIRTUAL_SHARES: u128 = 1_000_000;

/// The assets of the phantom depositor every conversion counts: one unit of the asset.
pub const VIRTUAL_ASSETS: u128 = 1;

/// The shares worth `assets` when `total_shares` are worth `total_assets`, rounded as asked:
/// `assets·(total_shares + 10⁶)/(total_assets + 1)`. `None` on overflow.
pub fn to_shares(
	assets: u128,
	total_assets: u128,
	total_shares: u128,
	rounding: Rounding,
) -> Option<u128> {
	multiply_by_rational_with_rounding(
		assets,
		total_shares.checked_add(VIRTUAL_SHARES)?,
		total_assets.checked_add(VIRTUAL_ASSETS)?,
		rounding,
	)
}

/// The assets `shares` are worth when `total_shares` are worth `total_assets`, rounded as
/// asked: `shares·(total_assets + 1)/(total_shares + 10⁶)`. `None` on overflow.
pub fn to_assets(
	shares: u128,
	total_assets: u128,
	total_shares: u128,
	rounding: Rounding,
) -> Option<u128> {
	multiply_by_rational_with_rounding(
		shares,
		total_assets.checked_add(VIRTUAL_ASSETS)?,
		total_shares.checked_add(VIRTUAL_SHARES)?,
		rounding,
	)
}

/// Debt shares worth `assets` of debt when `total_shares` owe `total_borrows`, rounded as
/// asked: `assets·total_shares/total_borrows`, or [`VIRTUAL_SHARES`] per unit when nothing is
/// owed. `None` on overflow.
///
/// Debt has no virtual assets: a phantom's share of the debt would be interest that no
/// borrower pays (a one-unit loan would pay half its interest). Nothing outside the market
/// moves the debt per share — it grows by interest only — so there is nothing to inflate, and
/// the starting scale keeps each share a millionth of a unit, so rounding up costs a new
/// borrower at most that.
pub fn to_debt_shares(
	assets: u128,
	total_borrows: u128,
	total_shares: u128,
	rounding: Rounding,
) -> Option<u128> {
	if total_borrows == 0 || total_shares == 0 {
		return assets.checked_mul(VIRTUAL_SHARES);
	}
	multiply_by_rational_with_rounding(assets, total_shares, total_borrows, rounding)
}

/// The debt `shares` owe when `total_shares` owe `total_borrows`, rounded as asked:
/// `shares·total_borrows/total_shares`, zero when no shares exist. `None` on overflow.
pub fn debt_of(
	shares: u128,
	total_borrows: u128,
	total_shares: u128,
	rounding: Rounding,
) -> Option<u128> {
	if total_shares == 0 {
		return Some(0);
	}
	multiply_by_rational_with_rounding(shares, total_borrows, total_shares, rounding)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::arithmetic_side_effects)]
	use super::*;
	use proptest::prelude::*;

	/// A pool of lenders' assets and shares, as the pallet will keep it.
	#[derive(Default)]
	struct Pool {
		assets: u128,
		shares: u128,
	}

	impl Pool {
		fn supply(&mut self, assets: u128) -> u128 {
			let shares = to_shares(assets, self.assets, self.shares, Rounding::Down).unwrap();
			self.assets += assets;
			self.shares += shares;
			shares
		}

		fn redeem(&mut self, shares: u128) -> u128 {
			let assets = to_assets(shares, self.assets, self.shares, Rounding::Down).unwrap();
			self.assets -= assets;
			self.shares -= shares;
			assets
		}
	}

	#[test]
	fn the_first_depositor_cannot_steal_from_the_second() {
		// The attack of the empty-market losses: deposit one unit, inflate the assets per share
		// with a large donation (here counted, as if the market read its account balance; the
		// pallet's cash ledger ignores donations altogether), and wait for a victim whose deposit
		// rounds down to few shares.
		let unit = 1_000_000_000_000u128;
		let mut pool = Pool::default();
		let attacker_shares = pool.supply(1);
		let donation = 10_000 * unit;
		pool.assets += donation;
		let victim_deposit = 19_999 * unit;
		let victim_shares = pool.supply(victim_deposit);
		assert!(victim_shares > 0);
		let attacker_out = pool.redeem(attacker_shares);
		let victim_out = pool.redeem(victim_shares);
		// The attacker loses half of the donation to the phantom (which holds as many shares) ...
		assert!(attacker_out < donation * 51 / 100, "attacker got {attacker_out}");
		// ... while the victim gets back all but a millionth of its deposit (measured: it loses
		// 8·10⁻⁸ of it, 0.0017 units against the attacker's 5 000).
		assert!(
			victim_out >= victim_deposit - victim_deposit / 1_000_000,
			"victim got {victim_out}"
		);
	}

	#[test]
	fn an_empty_market_converts_one_to_a_million() {
		assert_eq!(to_shares(5, 0, 0, Rounding::Down), Some(5_000_000));
		assert_eq!(to_assets(5_000_000, 5, 5_000_000, Rounding::Down), Some(5));
		assert_eq!(to_shares(u128::MAX, 0, u128::MAX, Rounding::Down), None);
	}

	proptest! {
		/// Supplying and redeeming at once never returns more than was supplied; borrowing and
		/// repaying never costs less than was borrowed.
		#[test]
		fn round_trips_never_gain(
			assets in 0u128..=u128::from(u64::MAX),
			total_assets in 0u128..=u128::from(u64::MAX),
			total_shares in 0u128..=(u128::from(u64::MAX) * 1_000_000),
		) {
			let minted = to_shares(assets, total_assets, total_shares, Rounding::Down).unwrap();
			let back = to_assets(
				minted,
				total_assets + assets,
				total_shares + minted,
				Rounding::Down,
			).unwrap();
			prop_assert!(back <= assets);
			// Debt: shares rounded up, owed assets rounded up.
			let debt_shares = to_shares(assets, total_assets, total_shares, Rounding::Up).unwrap();
			let owed = to_assets(
				debt_shares,
				total_assets + assets,
				total_shares + debt_shares,
				Rounding::Up,
			).unwrap();
			prop_assert!(owed >= assets);
			// Withdrawing assets burns at least the shares they are worth.
			let burned = to_shares(assets, total_assets, total_shares, Rounding::Up).unwrap();
			prop_assert!(burned >= minted);
		}

		/// A borrower owes at least what it borrowed, and the debts of all shares never add up
		/// to more than one unit per borrower above the total.
		#[test]
		fn debt_round_trips_never_favour_the_borrower(
			assets in 1u128..=u128::from(u64::MAX),
			total_borrows in 0u128..=u128::from(u64::MAX),
			total_shares in 0u128..=(u128::from(u64::MAX) * 1_000_000),
		) {
			let (total_borrows, total_shares) =
				if total_borrows == 0 || total_shares == 0 { (0, 0) } else { (total_borrows, total_shares) };
			let shares = to_debt_shares(assets, total_borrows, total_shares, Rounding::Up).unwrap();
			let owed = debt_of(shares, total_borrows + assets, total_shares + shares, Rounding::Up).unwrap();
			prop_assert!(owed >= assets);
			let others = debt_of(total_shares, total_borrows + assets, total_shares + shares, Rounding::Down).unwrap();
			prop_assert!(owed + others <= total_borrows + assets + 1);
		}

		/// Whatever the first depositor and its donation, it gets back at most what it put in.
		#[test]
		fn inflating_the_share_price_never_pays(
			first in 1u128..=1_000_000_000_000_000,
			donation in 0u128..=1_000_000_000_000_000_000,
			victim in 1u128..=1_000_000_000_000_000_000,
		) {
			let mut pool = Pool::default();
			let attacker_shares = pool.supply(first);
			pool.assets += donation;
			let victim_shares = pool.supply(victim);
			let attacker_out = pool.redeem(attacker_shares);
			let victim_out = pool.redeem(victim_shares);
			prop_assert!(attacker_out <= first + donation);
			prop_assert!(attacker_out + victim_out <= first + donation + victim);
		}
	}
}
