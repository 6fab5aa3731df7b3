//! Tests of every call, error and event, and of the anchors' known failures: empty-market
//! inflation, donations, lazy-state ordering, rounding drift, stale prices, liquidation on a
//! stale price, a crash larger than the collateral's margin.

#![allow(clippy::arithmetic_side_effects)]

use crate::{mock::*, Error, Event, Markets, Positions};
use frame_support::traits::{fungible::InspectHold, tokens::Preservation};
use frame_support::{assert_noop, assert_ok, traits::fungibles::Mutate};
use liquidity_market_primitives::{FixedU128, KinkedRate, RateModel};
use sp_runtime::{
	traits::{One, Zero},
	DispatchError, FixedPointNumber, Perbill, TokenError,
};

const MARKET: u32 = 0;

fn create() {
	assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), market_params()));
}

fn usd(who: AccountId) -> Balance {
	Assets::balance(USD, who)
}

fn state() -> crate::MarketState<u64> {
	Markets::<Test>::get(MARKET).unwrap().state
}

fn position(who: AccountId) -> crate::Position {
	Positions::<Test>::get(MARKET, who).unwrap_or_default()
}

/// Alice supplies 100 000 USD; Bob pledges 10 ETH (20 000 USD) and borrows 10 000 USD.
fn lend_and_borrow() {
	create();
	assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 100_000 * DOLLAR));
	assert_ok!(LiquidityMarket::deposit_collateral(RuntimeOrigin::signed(BOB), MARKET, 10 * ETHER));
	assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 10_000 * DOLLAR));
}

#[test]
fn governance_creates_markets() {
	build_and_execute(|| {
		assert_noop!(
			LiquidityMarket::create_market(RuntimeOrigin::signed(ALICE), market_params()),
			DispatchError::BadOrigin
		);
		create();
		System::assert_last_event(
			Event::MarketCreated { market: 0, params: market_params() }.into(),
		);
		assert_eq!(state().borrow_index, FixedU128::one());
		let mut adaptive = market_params();
		adaptive.rate_model = adaptive_model();
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), adaptive.clone()));
		assert_eq!(
			Markets::<Test>::get(1).unwrap().state.rate_at_target,
			adaptive.rate_model.initial_rate_at_target()
		);
		assert_noop!(
			LiquidityMarket::create_market(RuntimeOrigin::root(), market_params()),
			Error::<Test>::TooManyMarkets
		);
	});
}

#[test]
fn bad_markets_are_refused() {
	build_and_execute(|| {
		let mut same = market_params();
		same.collateral_asset = USD;
		assert_noop!(
			LiquidityMarket::create_market(RuntimeOrigin::root(), same),
			Error::<Test>::SameAsset
		);
		let mut rate = market_params();
		rate.rate_model = RateModel::Kinked(KinkedRate {
			base: FixedU128::from_inner(0),
			slope_low: FixedU128::from_inner(0),
			slope_high: FixedU128::from_inner(0),
			kink: FixedU128::one(),
		});
		assert_noop!(
			LiquidityMarket::create_market(RuntimeOrigin::root(), rate),
			Error::<Test>::InvalidRateModel
		);
		let mut risk = market_params();
		risk.risk.collateral_factor = Perbill::from_percent(90);
		assert_noop!(
			LiquidityMarket::create_market(RuntimeOrigin::root(), risk),
			Error::<Test>::InvalidRiskParams
		);
	});
}

#[test]
fn supply_and_withdraw_round_trip_with_a_deposit() {
	build_and_execute(|| {
		create();
		assert_noop!(
			LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), 7, DOLLAR),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 0),
			Error::<Test>::ZeroAmount
		);
		let before = usd(ALICE);
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 1_000 * DOLLAR));
		// An empty market: a million shares per unit (the virtual shares).
		let shares = 1_000 * DOLLAR * 1_000_000;
		System::assert_last_event(
			Event::Supplied { market: MARKET, who: ALICE, amount: 1_000 * DOLLAR, shares }.into(),
		);
		assert_eq!(position(ALICE).supply_shares, shares);
		assert_eq!(state().cash, 1_000 * DOLLAR);
		assert_eq!(
			Balances::balance_on_hold(&crate::HoldReason::PositionDeposit.into(), &ALICE),
			POSITION_DEPOSIT
		);
		assert_noop!(
			LiquidityMarket::withdraw(RuntimeOrigin::signed(ALICE), MARKET, shares + 1),
			Error::<Test>::InsufficientShares
		);
		assert_ok!(LiquidityMarket::withdraw(RuntimeOrigin::signed(ALICE), MARKET, shares));
		System::assert_last_event(
			Event::Withdrawn { market: MARKET, who: ALICE, amount: 1_000 * DOLLAR, shares }.into(),
		);
		assert_eq!(usd(ALICE), before);
		assert!(!Positions::<Test>::contains_key(MARKET, ALICE));
		assert_eq!(
			Balances::balance_on_hold(&crate::HoldReason::PositionDeposit.into(), &ALICE),
			0
		);
	});
}

#[test]
fn supply_respects_the_cap_and_the_funds() {
	build_and_execute(|| {
		let mut capped = market_params();
		capped.supply_cap = 500 * DOLLAR;
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), capped));
		assert_noop!(
			LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 501 * DOLLAR),
			Error::<Test>::SupplyCapReached
		);
		assert_noop!(
			LiquidityMarket::supply(RuntimeOrigin::signed(NOBODY), MARKET, DOLLAR),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn borrowing_needs_collateral_within_the_factor() {
	build_and_execute(|| {
		create();
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 100_000 * DOLLAR));
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, DOLLAR),
			Error::<Test>::Undercollateralized
		);
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(BOB),
			MARKET,
			10 * ETHER
		));
		System::assert_last_event(
			Event::CollateralDeposited { market: MARKET, who: BOB, amount: 10 * ETHER }.into(),
		);
		// 10 ETH at 2 000 = 20 000; 75 % of it = 15 000.
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 15_000 * DOLLAR + 1),
			Error::<Test>::Undercollateralized
		);
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 15_000 * DOLLAR));
		let shares = position(BOB).borrow_shares;
		System::assert_last_event(
			Event::Borrowed { market: MARKET, who: BOB, amount: 15_000 * DOLLAR, shares }.into(),
		);
		assert_eq!(usd(BOB), 1_015_000 * DOLLAR);
		assert_eq!(state().total_borrows, 15_000 * DOLLAR);
		// The collateral cannot leave while it backs the debt.
		assert_noop!(
			LiquidityMarket::withdraw_collateral(RuntimeOrigin::signed(BOB), MARKET, 1),
			Error::<Test>::Undercollateralized
		);
		assert_noop!(
			LiquidityMarket::withdraw_collateral(RuntimeOrigin::signed(BOB), MARKET, 11 * ETHER),
			Error::<Test>::InsufficientCollateral
		);
	});
}

#[test]
fn borrowing_is_bounded_by_cash_and_cap() {
	build_and_execute(|| {
		let mut capped = market_params();
		capped.borrow_cap = 1_000 * DOLLAR;
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), capped));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 2_000 * DOLLAR));
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(BOB),
			MARKET,
			10 * ETHER
		));
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 1_001 * DOLLAR),
			Error::<Test>::BorrowCapReached
		);
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 2_001 * DOLLAR),
			Error::<Test>::InsufficientCash
		);
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 0),
			Error::<Test>::ZeroAmount
		);
	});
}

#[test]
fn a_stale_price_stops_borrowing_and_withdrawing_collateral_only() {
	build_and_execute(|| {
		lend_and_borrow();
		set_price(ETH, FixedU128::saturating_from_integer(2_000u32), false);
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, DOLLAR),
			Error::<Test>::StalePrice
		);
		assert_noop!(
			LiquidityMarket::withdraw_collateral(RuntimeOrigin::signed(BOB), MARKET, ETHER),
			Error::<Test>::StalePrice
		);
		// Supply, repayment and deposits go on.
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(CHARLIE), MARKET, DOLLAR));
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, DOLLAR));
		assert_ok!(LiquidityMarket::deposit_collateral(RuntimeOrigin::signed(BOB), MARKET, ETHER));
		// Without debt, collateral leaves whatever the price.
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			ETHER
		));
		assert_ok!(LiquidityMarket::withdraw_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			ETHER
		));
		System::assert_last_event(
			Event::CollateralWithdrawn { market: MARKET, who: CHARLIE, amount: ETHER }.into(),
		);
	});
}

#[test]
fn interest_accrues_before_anything_reads_the_totals() {
	build_and_execute(|| {
		lend_and_borrow();
		// Utilization 10 %: the kinked rate is 1e-7·0.1/0.8 = 1.25e-8 a block.
		run_to_block(1 + 1_000_000);
		// The first call after a million blocks books the interest before it reads a total:
		// 10 000·1.25e-8·1e6 = 125 USD, 10 % of it to reserves.
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(CHARLIE), MARKET, 1_000 * DOLLAR));
		assert!(System::events().iter().any(|record| record.event
			== Event::InterestAccrued {
				market: MARKET,
				interest: 125 * DOLLAR,
				to_reserves: 12_500_000,
				rate: FixedU128::saturating_from_rational(125u32, 10_000_000_000u64),
			}
			.into()));
		assert_eq!(state().total_borrows, 10_125 * DOLLAR);
		assert_eq!(state().reserves, 12_500_000);
		// Charlie's shares were priced after the interest: fewer per dollar than Alice's.
		let alice_per_dollar = position(ALICE).supply_shares / 100_000;
		let charlie_per_dollar = position(CHARLIE).supply_shares / 1_000;
		assert!(charlie_per_dollar < alice_per_dollar);
		// Bob owes the interest; repaying more than the debt pays only the debt.
		let before = usd(BOB);
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, 20_000 * DOLLAR));
		assert_eq!(before - usd(BOB), 10_125 * DOLLAR);
		assert_eq!(state().total_borrows, 0);
		assert_eq!(position(BOB).borrow_shares, 0);
		assert_noop!(
			LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, DOLLAR),
			Error::<Test>::NoDebt
		);
		// Alice gets her deposit plus 90 % of the interest, less rounding.
		let alice_before = usd(ALICE);
		assert_ok!(LiquidityMarket::withdraw(
			RuntimeOrigin::signed(ALICE),
			MARKET,
			position(ALICE).supply_shares
		));
		let earned = usd(ALICE) - alice_before - 100_000 * DOLLAR;
		assert!((112_500_000 - 2 * DOLLAR..=112_500_000).contains(&earned), "earned {earned}");
	});
}

#[test]
fn partial_repayment_retires_shares_rounded_down() {
	build_and_execute(|| {
		lend_and_borrow();
		let shares = position(BOB).borrow_shares;
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, 4_000 * DOLLAR));
		let retired = shares - position(BOB).borrow_shares;
		System::assert_last_event(
			Event::Repaid { market: MARKET, who: BOB, amount: 4_000 * DOLLAR, shares: retired }
				.into(),
		);
		// Never more than the repaid amount is worth.
		assert!(retired * 10 <= shares * 4);
		assert_eq!(state().total_borrows, 6_000 * DOLLAR);
	});
}

#[test]
fn lenders_cannot_withdraw_what_is_lent() {
	build_and_execute(|| {
		lend_and_borrow();
		assert_noop!(
			LiquidityMarket::withdraw(
				RuntimeOrigin::signed(ALICE),
				MARKET,
				position(ALICE).supply_shares
			),
			Error::<Test>::InsufficientCash
		);
	});
}

#[test]
fn a_donation_changes_no_exchange_rate() {
	build_and_execute(|| {
		create();
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, DOLLAR));
		// The empty-market attack: donate to the pallet's account to inflate the share price.
		assert_ok!(<Assets as Mutate<AccountId>>::transfer(
			USD,
			&ALICE,
			&LiquidityMarket::account_id(),
			100_000 * DOLLAR,
			Preservation::Preserve,
		));
		assert_ok!(LiquidityMarket::supply(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			50_000 * DOLLAR
		));
		// Charlie's shares per dollar are Alice's: the ledger never saw the donation.
		assert_eq!(position(CHARLIE).supply_shares, 50_000 * position(ALICE).supply_shares);
		assert_ok!(LiquidityMarket::withdraw(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			position(CHARLIE).supply_shares
		));
		assert_eq!(usd(CHARLIE), 1_000_000 * DOLLAR);
	});
}

#[test]
fn a_tiny_loan_still_pays_interest() {
	build_and_execute(|| {
		// A market without a minimum debt (dust value 0), so that a one-unit loan exists.
		let mut params = market_params();
		params.risk.dust_value = FixedU128::zero();
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), params));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 1_000 * DOLLAR));
		assert_ok!(LiquidityMarket::deposit_collateral(RuntimeOrigin::signed(BOB), MARKET, ETHER));
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 1));
		for block in 2..=10 {
			run_to_block(block);
			assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(CHARLIE), MARKET, DOLLAR));
		}
		// Nine accruals of a one-unit loan: rounded up, each adds a unit.
		assert_eq!(state().total_borrows, 10);
		let before = usd(BOB);
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, 100));
		assert!(before - usd(BOB) >= 10);
	});
}

#[test]
fn the_adaptive_rate_climbs_while_utilization_is_above_target() {
	build_and_execute(|| {
		let mut params = market_params();
		params.rate_model = adaptive_model();
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), params.clone()));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 10_000 * DOLLAR));
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(BOB),
			MARKET,
			10 * ETHER
		));
		// Utilization 95 %, above the 90 % target.
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 9_500 * DOLLAR));
		let start = state().rate_at_target;
		run_to_block(101);
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(CHARLIE), MARKET, DOLLAR));
		let after = state().rate_at_target;
		// A hundred steps of η·(0.95 − 0.9) = 5e-10 each.
		let expected = start + FixedU128::saturating_from_rational(5u32, 100_000_000u64);
		let gap = if after > expected { after - expected } else { expected - after };
		assert!(gap.into_inner() < 1_000_000, "{after:?} against {expected:?}");
	});
}

fn set_eth_price(dollars: u32) {
	set_price(ETH, FixedU128::saturating_from_integer(dollars), true);
}

/// What `who` owes with interest to the current block.
fn debt(who: AccountId) -> Balance {
	let state = LiquidityMarket::accrued(MARKET).unwrap().state;
	liquidity_market_primitives::debt_of(
		position(who).borrow_shares,
		state.total_borrows,
		state.borrow_shares,
		sp_runtime::Rounding::Up,
	)
	.unwrap()
}

fn eth(who: AccountId) -> Balance {
	Assets::balance(ETH, who)
}

/// Funds `who` with native tokens for deposits, `dollars` USD and `ethers` ETH.
fn fund(who: AccountId, dollars: u128, ethers: u128) {
	use frame_support::traits::fungible::Mutate as _;
	Balances::set_balance(&who, 1_000);
	if dollars > 0 {
		assert_ok!(Assets::mint_into(USD, &who, dollars * DOLLAR));
	}
	if ethers > 0 {
		assert_ok!(Assets::mint_into(ETH, &who, ethers * ETHER));
	}
}

#[test]
fn healthy_positions_and_bad_calls_are_refused() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		// Health 16 000/10 000.
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::NotLiquidatable
		);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, ALICE, u128::MAX),
			Error::<Test>::NoDebt
		);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::none(), MARKET, BOB, 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), 7, BOB, 1),
			Error::<Test>::UnknownMarket
		);
		assert_noop!(
			LiquidityMarket::buy_collateral(RuntimeOrigin::signed(CHARLIE), MARKET, 1, u128::MAX),
			Error::<Test>::InsufficientSeizedCollateral
		);
		// The hook leaves healthy positions alone.
		next_block();
		assert_eq!(position(BOB).collateral, 10 * ETHER);
	});
}

#[test]
fn a_liquidator_repays_half_for_collateral_and_bonus() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		// At 1 240 the collateral covers 12 400·0.8 = 9 920 < 10 000 and a bit of interest.
		set_eth_price(1_240);
		let owed = debt(BOB);
		let (usd_before, eth_before) = (usd(CHARLIE), eth(CHARLIE));
		assert_ok!(LiquidityMarket::liquidate(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			BOB,
			u128::MAX
		));
		// Health 0.99 is above the full-close health: half, rounded up.
		let repaid = owed.div_ceil(2);
		// repaid·1.05 of value at 1 240 a whole ETH (10^12) per 10^6 of a dollar.
		let seized = repaid * 105 * 1_000_000 / (100 * 1_240);
		assert_eq!(usd_before - usd(CHARLIE), repaid);
		assert_eq!(eth(CHARLIE) - eth_before, seized);
		assert_eq!(position(BOB).collateral, 10 * ETHER - seized);
		assert!(debt(BOB).abs_diff(owed - repaid) <= 1);
		System::assert_has_event(
			Event::Liquidated {
				market: MARKET,
				borrower: BOB,
				liquidator: Some(CHARLIE),
				repaid,
				seized,
			}
			.into(),
		);
		// Healthy again: a second liquidation is refused.
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::NotLiquidatable
		);
	});
}

#[test]
fn a_liquidator_without_funds_changes_nothing() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		set_eth_price(1_240);
		fund(NOBODY, 0, 0);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(NOBODY), MARKET, BOB, u128::MAX),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn liquidations_wait_for_fresh_prices_and_the_grace_period() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		set_price(ETH, FixedU128::saturating_from_integer(1_000u32), false);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::StalePrice
		);
		next_block();
		assert_eq!(position(BOB).collateral, 10 * ETHER);
		// Fresh again since block 21: Bob has until block 31 to act on the price.
		set_eth_price(1_000);
		set_fresh_since(21);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::LiquidationGracePeriod
		);
		for _ in 22..31 {
			next_block();
		}
		assert_eq!(position(BOB).collateral, 10 * ETHER);
		next_block();
		assert_eq!(System::block_number(), 31);
		assert!(position(BOB).collateral < 10 * ETHER);
	});
}

#[test]
fn the_chain_takes_over_what_liquidators_leave_and_sells_it() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		let supplied = state().supplied();
		// Health 0.9 at 1 125: under the full-close health, so all the debt goes at once.
		set_eth_price(1_125);
		run_to_block(21);
		let owed = debt(BOB);
		<LiquidityMarket as frame_support::traits::Hooks<u64>>::on_initialize(21);
		let seized = owed * 105 * 1_000_000 / (100 * 1_125);
		let after = state();
		assert_eq!(position(BOB).borrow_shares, 0);
		assert_eq!(position(BOB).collateral, 10 * ETHER - seized);
		assert_eq!((after.absorbed_debt, after.absorbed_collateral), (owed, seized));
		System::assert_has_event(
			Event::Liquidated {
				market: MARKET,
				borrower: BOB,
				liquidator: None,
				repaid: owed,
				seized,
			}
			.into(),
		);
		// The lenders lost nothing (their claim now includes the absorbed debt; the block of
		// interest only added to it).
		assert!(after.supplied() >= supplied);
		// Anyone buys the collateral at 1 125/1.05 a whole ETH, within its limit.
		let half = seized / 2;
		let price = (half * 1_125 * 100).div_ceil(105 * 1_000_000);
		assert_noop!(
			LiquidityMarket::buy_collateral(
				RuntimeOrigin::signed(CHARLIE),
				MARKET,
				half,
				price - 1
			),
			Error::<Test>::PriceAboveLimit
		);
		assert_noop!(
			LiquidityMarket::buy_collateral(
				RuntimeOrigin::signed(CHARLIE),
				MARKET,
				seized + 1,
				u128::MAX
			),
			Error::<Test>::InsufficientSeizedCollateral
		);
		let usd_before = usd(CHARLIE);
		assert_ok!(LiquidityMarket::buy_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			half,
			price
		));
		assert_eq!(usd_before - usd(CHARLIE), price);
		assert_eq!(state().absorbed_debt, owed - price);
		// The rest: the sale recovers the debt to rounding, which is written off.
		assert_ok!(LiquidityMarket::buy_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			seized - half,
			u128::MAX
		));
		let sold = state();
		assert_eq!((sold.absorbed_debt, sold.absorbed_collateral), (0, 0));
		assert!(sold.supplied() + 2 >= after.supplied());
		// A stale price stops sales.
		set_price(ETH, FixedU128::saturating_from_integer(1_125u32), false);
		assert_noop!(
			LiquidityMarket::buy_collateral(RuntimeOrigin::signed(CHARLIE), MARKET, 1, u128::MAX),
			Error::<Test>::StalePrice
		);
	});
}

/// The known failure "a 60 % crash with more positions than a block can liquidate": twenty
/// positions under water and twenty healthy ones; the hook, four a block, clears the twenty in
/// ⌈20/4⌉ = 5 blocks, books the loss the collateral cannot cover (reserves first), and never
/// touches the healthy ones.
#[test]
fn a_crash_is_cleared_within_positions_over_budget_blocks_with_the_loss_booked() {
	build_and_execute(|| {
		create();
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 500_000 * DOLLAR));
		let risky: Vec<AccountId> = (100..120).collect();
		let safe: Vec<AccountId> = (200..220).collect();
		for who in risky.iter().chain(&safe) {
			fund(*who, 0, 2);
			assert_ok!(LiquidityMarket::deposit_collateral(
				RuntimeOrigin::signed(*who),
				MARKET,
				ETHER
			));
		}
		for who in &risky {
			assert_ok!(LiquidityMarket::borrow(
				RuntimeOrigin::signed(*who),
				MARKET,
				1_400 * DOLLAR
			));
		}
		for who in &safe {
			assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(*who), MARKET, 100 * DOLLAR));
		}
		run_to_block(1_000);
		let before = LiquidityMarket::accrued(MARKET).unwrap().state;
		assert!(before.reserves > 0);
		// 2 000 → 800: every risky position owes 1 400 and more against 800 of collateral.
		set_eth_price(800);
		for block in 1..=5 {
			next_block();
			let left = risky.iter().filter(|who| position(**who).borrow_shares > 0).count();
			assert_eq!(left, 20 - 4 * block);
		}
		let after = state();
		// All the collateral was seized and sells for 800/1.05 a position; the rest was lost.
		assert_eq!(after.absorbed_collateral, 20 * ETHER);
		// Each position's repayment rounded up; the hook then writes the whole down to what
		// 20 ETH fetch, rounded up once: a unit or so less.
		let covered = (800 * DOLLAR * 100).div_ceil(105);
		assert!(after.absorbed_debt <= 20 * covered && after.absorbed_debt + 20 > 20 * covered);
		assert_eq!(after.absorbed_debt, (20 * 800 * DOLLAR * 100).div_ceil(105));
		let events = System::events();
		let losses: Vec<(u128, u128, bool)> = events
			.iter()
			.filter_map(|record| match &record.event {
				RuntimeEvent::LiquidityMarket(Event::BadDebt {
					amount,
					from_reserves,
					borrower,
					..
				}) => Some((*amount, *from_reserves, borrower.is_some())),
				_ => None,
			})
			.collect();
		assert_eq!(losses.iter().filter(|(_, _, position)| *position).count(), 20);
		let lost: u128 = losses.iter().map(|(amount, _, _)| amount).sum();
		let from_reserves: u128 = losses.iter().map(|(_, reserves, _)| reserves).sum();
		// The reserves went first, all of them; the lenders bore the rest.
		assert!(from_reserves >= before.reserves);
		assert_eq!(after.reserves, 0);
		assert!(lost > 20 * 600 * DOLLAR);
		let interest = after.total_borrows + after.absorbed_debt + lost + after.cash
			- before.total_borrows
			- before.cash;
		assert!(interest < DOLLAR);
		assert!(before.supplied() - after.supplied() + interest + 1 >= lost - from_reserves);
		// The healthy positions were not touched, and nothing is left for the hook.
		for who in &safe {
			assert_eq!(position(*who).collateral, ETHER);
		}
		next_block();
		assert_eq!(state().absorbed_collateral, 20 * ETHER);
	});
}

#[test]
fn the_hook_budget_spans_markets_and_stale_markets_wait() {
	build_and_execute(|| {
		lend_and_borrow();
		let mut second = market_params();
		second.loan_asset = ETH;
		second.loan_decimals = 12;
		second.collateral_asset = USD;
		second.collateral_decimals = 6;
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), second));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(BOB), 1, 100 * ETHER));
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(CHARLIE),
			1,
			20_000 * DOLLAR
		));
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(CHARLIE), 1, 7 * ETHER));
		run_to_block(20);
		// ETH up: Charlie's debt (7 ETH) outgrows its 20 000 USD; ETH down would hurt Bob.
		set_eth_price(3_000);
		next_block();
		assert_eq!(Positions::<Test>::get(1, CHARLIE), None);
		assert_eq!(position(BOB).collateral, 10 * ETHER);
	});
}

#[test]
fn governance_tunes_a_live_market_and_pauses_it() {
	build_and_execute(|| {
		lend_and_borrow();
		let tuning = crate::MarketTuning {
			supply_cap: Some(200_000 * DOLLAR),
			pause: Some(crate::PauseFlags { supply: true, borrow: true, liquidation: false }),
			..Default::default()
		};
		assert_noop!(
			LiquidityMarket::tune_market(RuntimeOrigin::signed(ALICE), MARKET, tuning.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			LiquidityMarket::tune_market(RuntimeOrigin::root(), 7, tuning.clone()),
			Error::<Test>::UnknownMarket
		);
		let mut bad_risk = market_params().risk;
		bad_risk.collateral_factor = Perbill::from_percent(90);
		assert_noop!(
			LiquidityMarket::tune_market(
				RuntimeOrigin::root(),
				MARKET,
				crate::MarketTuning { risk: Some(bad_risk), ..Default::default() }
			),
			Error::<Test>::InvalidRiskParams
		);
		let bad_model = RateModel::Kinked(KinkedRate {
			base: FixedU128::zero(),
			slope_low: FixedU128::zero(),
			slope_high: FixedU128::zero(),
			kink: FixedU128::one(),
		});
		assert_noop!(
			LiquidityMarket::tune_market(
				RuntimeOrigin::root(),
				MARKET,
				crate::MarketTuning { rate_model: Some(bad_model), ..Default::default() }
			),
			Error::<Test>::InvalidRateModel
		);
		assert_ok!(LiquidityMarket::tune_market(RuntimeOrigin::root(), MARKET, tuning.clone()));
		System::assert_last_event(Event::MarketTuned { market: MARKET, tuning }.into());
		assert_eq!(Markets::<Test>::get(MARKET).unwrap().params.supply_cap, 200_000 * DOLLAR);
		// Supply and borrowing stop; repaying, withdrawing and collateral go on.
		assert_noop!(
			LiquidityMarket::supply(RuntimeOrigin::signed(CHARLIE), MARKET, DOLLAR),
			Error::<Test>::Paused
		);
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, DOLLAR),
			Error::<Test>::Paused
		);
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(BOB), MARKET, DOLLAR));
		assert_ok!(LiquidityMarket::withdraw(RuntimeOrigin::signed(ALICE), MARKET, 1_000_000));
		assert_ok!(LiquidityMarket::withdraw_collateral(RuntimeOrigin::signed(BOB), MARKET, ETHER));
		// Pausing liquidation stops the call and the hook.
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning {
				pause: Some(crate::PauseFlags { liquidation: true, ..Default::default() }),
				..Default::default()
			}
		));
		run_to_block(20);
		set_eth_price(1_000);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::Paused
		);
		next_block();
		assert_eq!(position(BOB).collateral, 9 * ETHER);
	});
}

#[test]
fn a_new_rate_model_applies_after_the_interest_at_the_old_one() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(1_001);
		// The old model's interest over the 1 000 blocks, as an interaction would have accrued.
		let at_old = LiquidityMarket::accrued(MARKET).unwrap().state.total_borrows;
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning { rate_model: Some(adaptive_model()), ..Default::default() }
		));
		let stored = Markets::<Test>::get(MARKET).unwrap();
		assert_eq!(stored.state.total_borrows, at_old);
		assert_eq!(stored.state.last_accrued, 1_001);
		assert_eq!(stored.state.rate_at_target, adaptive_model().initial_rate_at_target());
	});
}

/// Governance lowering the liquidation threshold under a borrower: nothing at once, 0.1 % a
/// block, so the borrower has the ramp's length to repay or add collateral.
#[test]
fn a_lower_liquidation_threshold_comes_gradually() {
	build_and_execute(|| {
		lend_and_borrow();
		// 15 000 against 20 000 at an 80 % threshold: health 1.067.
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 5_000 * DOLLAR));
		let mut risk = market_params().risk;
		risk.collateral_factor = Perbill::from_percent(70);
		risk.liquidation_threshold = Perbill::from_percent(74);
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning { risk: Some(risk), ..Default::default() }
		));
		let stored = Markets::<Test>::get(MARKET).unwrap();
		assert_eq!(stored.params.risk.liquidation_threshold, Perbill::from_percent(80));
		assert_eq!(stored.params.risk.collateral_factor, Perbill::from_percent(70));
		assert_eq!(stored.threshold_target, Some(Perbill::from_percent(74)));
		// The collateral factor applies at once: no new borrowing above 70 %.
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, DOLLAR),
			Error::<Test>::Undercollateralized
		);
		run_to_block(12);
		// 11 blocks later: 80 % − 1.1 %; Bob is still healthy (15 000 < 20 000·0.789).
		assert_eq!(
			LiquidityMarket::accrued(MARKET).unwrap().params.risk.liquidation_threshold,
			Perbill::from_parts(789_000_000)
		);
		assert_noop!(
			LiquidityMarket::liquidate(RuntimeOrigin::signed(CHARLIE), MARKET, BOB, u128::MAX),
			Error::<Test>::NotLiquidatable
		);
		// Below 75 % (after 50 blocks) Bob can be liquidated; the ramp ends at the target.
		run_to_block(100);
		let stored = LiquidityMarket::accrued(MARKET).unwrap();
		assert_eq!(stored.params.risk.liquidation_threshold, Perbill::from_percent(74));
		assert_eq!(stored.threshold_target, None);
		assert_ok!(LiquidityMarket::liquidate(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			BOB,
			u128::MAX
		));
		// A higher threshold applies at once, and a bonus the current threshold cannot carry is
		// refused.
		let mut higher = risk;
		higher.liquidation_threshold = Perbill::from_percent(85);
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning { risk: Some(higher), ..Default::default() }
		));
		assert_eq!(
			Markets::<Test>::get(MARKET).unwrap().params.risk.liquidation_threshold,
			Perbill::from_percent(85)
		);
		let mut greedy = risk;
		greedy.liquidation_bonus = Perbill::from_percent(30);
		assert_noop!(
			LiquidityMarket::tune_market(
				RuntimeOrigin::root(),
				MARKET,
				crate::MarketTuning { risk: Some(greedy), ..Default::default() }
			),
			Error::<Test>::InvalidRiskParams
		);
	});
}

/// Review finding: dust positions cost the hook as much as large ones, and a seizure could
/// round to nothing (the market then took over debt with no collateral to sell).
#[test]
fn no_dust_debt_and_no_seizure_of_nothing() {
	build_and_execute(|| {
		lend_and_borrow();
		// Charlie's loan must be worth more than the dust value (1 USD), and stay so.
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			ETHER
		));
		assert_noop!(
			LiquidityMarket::borrow(RuntimeOrigin::signed(CHARLIE), MARKET, DOLLAR),
			Error::<Test>::DustDebt
		);
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(CHARLIE), MARKET, 2 * DOLLAR));
		assert_noop!(
			LiquidityMarket::repay(RuntimeOrigin::signed(CHARLIE), MARKET, 3 * DOLLAR / 2),
			Error::<Test>::DustDebt
		);
		assert_ok!(LiquidityMarket::repay(RuntimeOrigin::signed(CHARLIE), MARKET, u128::MAX));
		// A market of ETH (12 decimals) lent against USD (6 decimals) with no dust value: one
		// unit of USD collateral, its debt at the limit, then ETH up 20 %. The seizure for half
		// the debt rounds to no USD unit: the whole debt goes, for the one unit.
		let mut reverse = market_params();
		reverse.loan_asset = ETH;
		reverse.loan_decimals = 12;
		reverse.collateral_asset = USD;
		reverse.collateral_decimals = 6;
		reverse.risk.dust_value = FixedU128::zero();
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), reverse));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), 1, ETHER));
		assert_ok!(LiquidityMarket::deposit_collateral(RuntimeOrigin::signed(BOB), 1, 1));
		// 1 µUSD·0.75 at 2 000 USD an ETH: 375 units of ETH.
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), 1, 375));
		run_to_block(20);
		set_eth_price(2_400);
		next_block();
		let reverse = Markets::<Test>::get(1).unwrap().state;
		assert_eq!(Positions::<Test>::get(1, BOB), None);
		assert_eq!(reverse.absorbed_collateral, 1);
		// The whole debt (375 and 19 blocks of interest), covered by the unit: 1 µUSD is worth
		// 416 units of ETH at 2 400.
		assert!(reverse.absorbed_debt > 375 && reverse.absorbed_debt < 416);
	});
}

/// Review finding: a claim the seized collateral no longer covers must not count for the
/// lenders until the last unit is sold (an informed lender would withdraw first).
#[test]
fn absorbed_debt_is_written_down_to_what_the_collateral_fetches() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		set_eth_price(1_125);
		next_block();
		let absorbed = state();
		assert!(absorbed.absorbed_debt > 0);
		// ETH falls another 30 %: at the next block the claim is what the collateral fetches.
		set_eth_price(787);
		next_block();
		let marked = state();
		let worth = (absorbed.absorbed_collateral * 787 * 100).div_ceil(105 * 1_000_000);
		assert_eq!(marked.absorbed_debt, worth);
		System::assert_has_event(
			Event::BadDebt {
				market: MARKET,
				borrower: None,
				amount: absorbed.absorbed_debt - worth,
				from_reserves: absorbed.reserves.min(absorbed.absorbed_debt - worth),
			}
			.into(),
		);
		// A sale of part of it settles its share at once; the rest of the claim stays covered.
		assert_ok!(LiquidityMarket::buy_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			marked.absorbed_collateral / 2,
			u128::MAX
		));
		let sold = state();
		assert!(sold.absorbed_debt <= worth - worth / 2 + 1);
	});
}

/// Review finding: sales must wait like liquidations (grace period, pause), or a lagging price
/// after an outage sells the collateral cheap.
#[test]
fn sales_wait_for_the_grace_period_and_stop_when_liquidation_is_paused() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		set_eth_price(1_125);
		next_block();
		let seized = state().absorbed_collateral;
		set_fresh_since(21);
		assert_noop!(
			LiquidityMarket::buy_collateral(
				RuntimeOrigin::signed(CHARLIE),
				MARKET,
				seized,
				u128::MAX
			),
			Error::<Test>::LiquidationGracePeriod
		);
		run_to_block(31);
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning {
				pause: Some(crate::PauseFlags { liquidation: true, ..Default::default() }),
				..Default::default()
			}
		));
		assert_noop!(
			LiquidityMarket::buy_collateral(
				RuntimeOrigin::signed(CHARLIE),
				MARKET,
				seized,
				u128::MAX
			),
			Error::<Test>::Paused
		);
	});
}

/// Review finding: the hook looked at the accrued totals with an event it never stored, and
/// repeated it every block.
#[test]
fn the_hook_accrues_silently_unless_it_liquidates() {
	build_and_execute(|| {
		lend_and_borrow();
		run_to_block(20);
		System::reset_events();
		next_block();
		next_block();
		assert!(System::events().is_empty());
		// With seized collateral the claim still covers (the price unchanged), nor does the
		// write-down look announce an accrual it does not store (Charlie's loan accrues).
		assert_ok!(LiquidityMarket::deposit_collateral(
			RuntimeOrigin::signed(CHARLIE),
			MARKET,
			10 * ETHER
		));
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(CHARLIE), MARKET, 1_000 * DOLLAR));
		set_eth_price(1_125);
		next_block();
		assert!(state().absorbed_collateral > 0);
		System::reset_events();
		next_block();
		next_block();
		assert!(System::events().is_empty());
	});
}

/// Review finding: re-sending the rate model in force restarted the adaptive rate, and
/// re-sending the threshold in force cancelled a ramp.
#[test]
fn resending_parameters_in_force_changes_nothing() {
	build_and_execute(|| {
		let mut params = market_params();
		params.rate_model = adaptive_model();
		assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), params.clone()));
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, 1_000 * DOLLAR));
		assert_ok!(LiquidityMarket::deposit_collateral(RuntimeOrigin::signed(BOB), MARKET, ETHER));
		assert_ok!(LiquidityMarket::borrow(RuntimeOrigin::signed(BOB), MARKET, 950 * DOLLAR));
		run_to_block(1_000);
		let mut lower = params.risk;
		lower.liquidation_threshold = Perbill::from_percent(78);
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning { risk: Some(lower), ..Default::default() }
		));
		let before = Markets::<Test>::get(MARKET).unwrap();
		assert!(before.state.rate_at_target > adaptive_model().initial_rate_at_target());
		assert_ok!(LiquidityMarket::tune_market(
			RuntimeOrigin::root(),
			MARKET,
			crate::MarketTuning {
				rate_model: Some(params.rate_model),
				risk: Some(params.risk),
				..Default::default()
			}
		));
		let after = Markets::<Test>::get(MARKET).unwrap();
		assert_eq!(after.state.rate_at_target, before.state.rate_at_target);
		assert_eq!(after.threshold_target, Some(Perbill::from_percent(78)));
	});
}

#[test]
fn try_state_catches_a_ledger_that_differs_from_the_positions() {
	new_test_ext().execute_with(|| {
		create();
		assert_ok!(LiquidityMarket::supply(RuntimeOrigin::signed(ALICE), MARKET, DOLLAR));
		Markets::<Test>::mutate(MARKET, |stored| {
			if let Some(stored) = stored {
				stored.state.supply_shares += 1;
			}
		});
		assert!(LiquidityMarket::do_try_state().is_err());
	});
}

mod action_sequences {
	//! Random sequences of every action — supply, withdraw, collateral in and out, borrow,
	//! repay, price moves, stale prices, time passing, liquidations by accounts and by the
	//! chain, sales of seized collateral, governance changing risk parameters and pausing — with the invariants checked after every
	//! step, and conservation at the end: every unit of both assets is with an account, the
	//! pallet's ledger, or (for donations, which never happen here) the pallet's account.
	use super::*;
	use proptest::prelude::*;

	#[derive(Debug, Clone)]
	enum Action {
		Supply(u8, u64),
		Withdraw(u8, u8),
		Deposit(u8, u64),
		TakeCollateral(u8, u64),
		Borrow(u8, u64),
		Repay(u8, u64),
		Price(u32),
		Stale(bool),
		Wait(u32),
		Liquidate(u8, u8, u64),
		Hook,
		Buy(u8, u64),
		Tune(u8, u8, [bool; 3]),
	}

	fn action() -> impl Strategy<Value = Action> {
		prop_oneof![
			(0u8..3, 1u64..200_000).prop_map(|(who, dollars)| Action::Supply(who, dollars)),
			(0u8..3, 1u8..=100).prop_map(|(who, percent)| Action::Withdraw(who, percent)),
			(0u8..3, 1u64..50_000).prop_map(|(who, milli)| Action::Deposit(who, milli)),
			(0u8..3, 1u64..50_000).prop_map(|(who, milli)| Action::TakeCollateral(who, milli)),
			(0u8..3, 1u64..100_000).prop_map(|(who, dollars)| Action::Borrow(who, dollars)),
			(0u8..3, 1u64..100_000).prop_map(|(who, dollars)| Action::Repay(who, dollars)),
			(100u32..5_000).prop_map(Action::Price),
			any::<bool>().prop_map(Action::Stale),
			(1u32..500_000).prop_map(Action::Wait),
			(0u8..3, 0u8..3, 1u64..100_000)
				.prop_map(|(who, borrower, dollars)| Action::Liquidate(who, borrower, dollars)),
			Just(Action::Hook),
			(0u8..3, 1u64..50_000).prop_map(|(who, milli)| Action::Buy(who, milli)),
			(60u8..95, 50u8..90, any::<[bool; 3]>())
				.prop_map(|(threshold, factor, pause)| Action::Tune(threshold, factor, pause)),
		]
	}

	fn total(asset: u32) -> Balance {
		[ALICE, BOB, CHARLIE, LiquidityMarket::account_id()]
			.iter()
			.map(|who| Assets::balance(asset, who))
			.sum()
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]
		#[test]
		fn every_action_sequence_keeps_the_invariants(
			actions in proptest::collection::vec(action(), 1..60),
			adaptive in any::<bool>(),
		) {
			new_test_ext().execute_with(|| {
				let mut params = market_params();
				if adaptive {
					params.rate_model = adaptive_model();
				}
				assert_ok!(LiquidityMarket::create_market(RuntimeOrigin::root(), params));
				let (usd_before, eth_before) = (total(USD), total(ETH));
				let mut block = 1u64;
				let mut eth_price = 2_000u32;
				for action in actions {
					let who = |index: u8| [ALICE, BOB, CHARLIE][usize::from(index)];
					// Every call either succeeds or fails with nothing changed (the
					// extrinsic is transactional); the invariants must hold either way.
					let _ = match action {
						Action::Supply(w, dollars) => LiquidityMarket::supply(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(dollars) * DOLLAR),
						Action::Withdraw(w, percent) => {
							let shares = position(who(w)).supply_shares * u128::from(percent) / 100;
							LiquidityMarket::withdraw(RuntimeOrigin::signed(who(w)), MARKET, shares)
						},
						Action::Deposit(w, milli) => LiquidityMarket::deposit_collateral(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(milli) * ETHER / 1_000),
						Action::TakeCollateral(w, milli) => LiquidityMarket::withdraw_collateral(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(milli) * ETHER / 1_000),
						Action::Borrow(w, dollars) => LiquidityMarket::borrow(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(dollars) * DOLLAR),
						Action::Repay(w, dollars) => LiquidityMarket::repay(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(dollars) * DOLLAR),
						Action::Price(price) => {
							eth_price = price;
							set_price(ETH, FixedU128::saturating_from_integer(price), true);
							Ok(())
						},
						Action::Stale(stale) => {
							set_price(ETH, FixedU128::saturating_from_integer(eth_price), !stale);
							Ok(())
						},
						Action::Wait(blocks) => {
							block += u64::from(blocks);
							run_to_block(block);
							Ok(())
						},
						Action::Liquidate(w, borrower, dollars) => LiquidityMarket::liquidate(
							RuntimeOrigin::signed(who(w)), MARKET, who(borrower),
							u128::from(dollars) * DOLLAR),
						Action::Hook => {
							next_block();
							block += 1;
							Ok(())
						},
						Action::Buy(w, milli) => LiquidityMarket::buy_collateral(
							RuntimeOrigin::signed(who(w)), MARKET, u128::from(milli) * ETHER / 1_000,
							u128::MAX),
						Action::Tune(threshold, factor, [supply, borrow, liquidation]) => {
							let mut risk = market_params().risk;
							risk.liquidation_threshold = Perbill::from_percent(threshold.into());
							risk.collateral_factor = Perbill::from_percent(factor.into());
							LiquidityMarket::tune_market(RuntimeOrigin::root(), MARKET, crate::MarketTuning {
								risk: Some(risk),
								pause: Some(crate::PauseFlags { supply, borrow, liquidation }),
								..Default::default()
							})
						},
					};
					LiquidityMarket::do_try_state().expect("invariants hold after every step");
				}
				// Nothing is created or lost: the assets only moved between the accounts and
				// the pallet.
				assert_eq!(total(USD), usd_before);
				assert_eq!(total(ETH), eth_before);
				// The ledger's cash is exactly what the pallet holds of the loan asset, and its
				// collateral what it holds of the other (no donations here).
				let state = Markets::<Test>::get(MARKET).unwrap().state;
				assert_eq!(Assets::balance(USD, LiquidityMarket::account_id()), state.cash);
				assert_eq!(
					Assets::balance(ETH, LiquidityMarket::account_id()),
					state.total_collateral + state.absorbed_collateral
				);
			});
		}
	}
}
