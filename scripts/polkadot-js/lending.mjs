#!/usr/bin/env node
// The lending market (pallet `liquidityMarket`, index 42) end to end on a live development chain,
// as its users would drive it from Polkadot.js: an oracle set up by governance, a market with an
// adaptive rate, lenders and borrowers, the rate at target climbing while utilization is above
// target, a price crash, the chain's own liquidations (no keeper), the sale of the collateral it
// seized, and every asset accounted for to the planck.
//
// DESIGN
// - Node: starts `equilibrium-node --dev --tmp --sealing manual` on free ports (lib/node.mjs) and
//   seals every block itself (engine_createBlock, then engine_finalizeBlock) once the pool has
//   accepted that block's transactions, so every call lands in the block it was meant for and
//   the run is reproducible. The node is always stopped: on success, on any error, on
//   SIGINT/SIGTERM/SIGHUP and at the time limit (--time-limit, default 600 s).
// - Assets: USDD (`{ WithId: 1 }`, 6 decimals, a million to each development account at
//   genesis) is lent against EQ (`Native`, 12 decimals).
// - Block 1: sudo (Alice) `oracle.setOracle` for USDD and for EQ: feeders Charlie, Dave and Eve,
//   min_feeds 2, max_age 20 blocks, max_change_per_block 10 %.
// - Block 2: the feeders post USDD 1 and EQ 2; sudo `liquidityMarket.createMarket` (market 0):
//   loan USDD against collateral EQ, an adaptive rate (target utilization 90 %, step size
//   η = 5·10⁻⁶, steepness 4, rate at target in [10⁻⁷, 2.5·10⁻⁴] from 10⁻⁵ a block), reserve
//   factor 10 %, collateral factor 75 %, liquidation threshold 80 %, bonus 5 %, close factor
//   50 %, full-close health 0.95, dust value 1, caps of 10⁹ USDD; Alice supplies 20 000 USDD
//   (her calls are ordered by nonce: the market exists before her supply).
// - Block 3: Bob pledges 10 000 EQ (worth 20 000 at 2) and borrows 14 000 USDD (70 %
//   utilization); Ferdie pledges 10 000 EQ. The accrual in this block covers block 2 → 3, when
//   the market had cash and no borrows (utilization 0): the rate at target takes one step down.
// - Block 4: Bob borrows 900 more (14 900, within his limit of 15 000 at price 2), then 200 more,
//   which must fail with Undercollateralized; Ferdie borrows 4 000: utilization 18 900/20 000 =
//   94.5 %, above the target.
// - Rates (--rate-blocks, default 10): the chain accrues lazily — the rate at target is stored
//   when a call accrues the market (the hook looks at the accrued totals silently and stores an
//   accrual only when it writes down or liquidates) — so every block Ferdie pledges 1 planck
//   more EQ, a call that accrues and leaves utilization unchanged. Per block: the utilization over the block, the borrow rate it accrued
//   at (InterestAccrued), the stored rate at target. Checked: while utilization is above target
//   the rate at target rises every block, below it it falls.
// - Crash: every block Charlie, Dave and Eve post EQ 0.8 (and USDD 1, so both prices stay
//   fresh); the published price moves at most 10 % of the previous block's a block: 1.8, 1.62,
//   … 0.8 in 9 blocks. Both prices have been fresh since block 2 and stay fresh (fed every
//   block, within max_age), so `fresh_since` never moves and the grace period (10 blocks after
//   it) is long past. Nobody calls `liquidate`: at the start of each block the chain's hook
//   liquidates what its queue shows unhealthy (`Liquidated` with `liquidator: None`, the debt
//   and collateral taken over as `absorbed_debt`, `absorbed_collateral`), and writes the absorbed
//   debt down to what the seized collateral fetches at the price less the bonus (`BadDebt` with
//   `borrower: None`, reserves first). The crash goes on until the price is 0.8 and three blocks
//   passed without a liquidation or a write-down (at most 40 blocks).
// - Sale: Charlie buys all the seized collateral (`buyCollateral(market, amount, maxPayment)`,
//   at prices fresh past the grace period); first with maxPayment one unit below the price
//   computed here (must fail with PriceAboveLimit), then at exactly that price: so the chain
//   charged exactly what the replica computed. The sale settles its share of the absorbed debt
//   (all of it); absorbed debt and collateral must go to 0.
// - Exact replica: every block is replayed here, in BigInt, from the chain's state before it
//   (the market, the positions of Alice, Bob, Charlie and Ferdie, the oracle's prices): the
//   hook (the write-down, the queue's buckets and its threshold in 64-bit mantissas of
//   primitives/liquidity-market queue.rs, each liquidation of risk.rs: health, close factor,
//   seized collateral, bad debt), then the block's calls in extrinsic order (accrual of
//   interest.rs and the adaptive step of rate.rs, shares of shares.rs, the sale). The market's
//   state, the positions and the pallet's events (with their phases) in every block must equal
//   the replica's to the unit.
// - Accounting: USDD summed over every account that touched it (Alice, Bob, Charlie, Ferdie,
//   the pallet's account; Dave and Eve for good measure) equals the total before, the asset's
//   supply is unchanged, each account moved exactly what its events say, and the pallet's USDD
//   equals the market's `cash` after every block. EQ: the pallet's account (`modl` + `eq/lendm`,
//   created by Bob's first pledge, 10 000 EQ, far above the existential deposit of 0.001 EQ)
//   holds exactly `total_collateral + absorbed_collateral` free after every block; Bob's position
//   keeps 10 000 EQ less everything seized from him; the position deposit (0.1 EQ) is held from
//   each account with a position, and from no other. Individual free EQ balances are not
//   summed: the dev chain's demo resource market (genesis, epochs of 10 blocks) settles in EQ
//   with Alice … Eve as bidders and Ferdie as payee, and every call pays fees.
//
// Output: a line per check, the rate table, the crash table, the liquidations and the sale, the
// accounts, a summary. --quiet: fewer table rows (every 5th, and where something happens).

import { parseArgs } from 'node:util';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, decodeAddress } from '@polkadot/util-crypto';
import { connect, dispatchErrorName, innerFailure, keyPair } from './lib/chain.mjs';
import { FIXED_ONE, formatDecimal, formatFixed, max, min, mulDiv, toFixed } from './lib/fixed.mjs';
import { NodeGuard, defaultNodeBinary, startNode } from './lib/node.mjs';

// ---------------------------------------------------------------------------------------------
// Options.

const USAGE = `usage: scripts/lending [--rate-blocks N] [--quiet] [--time-limit SECONDS] [--node PATH]
  --rate-blocks N   blocks with utilization above target before the crash (default 10)
  --quiet           print fewer table rows (every 5th, and where something happens)
  --time-limit S    stop everything and fail after S seconds (default 600)
  --node PATH       the equilibrium-node binary (default: the release build)`;

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      'rate-blocks': { type: 'string', default: '10' },
      quiet: { type: 'boolean', default: false },
      'time-limit': { type: 'string', default: '600' },
      node: { type: 'string', default: defaultNodeBinary() },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`error: ${error.message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const RATE_BLOCKS = Number(options['rate-blocks']);
const TIME_LIMIT_S = Number(options['time-limit']);
if (!Number.isInteger(RATE_BLOCKS) || RATE_BLOCKS < 1 || !(TIME_LIMIT_S > 0)) {
  console.error(`error: --rate-blocks must be a positive integer and --time-limit positive\n${USAGE}`);
  process.exit(2);
}
const QUIET = options.quiet;
const QUIET_EVERY = 5;

// ---------------------------------------------------------------------------------------------
// The scenario's constants.

const USDD_ID = 1;
const USDD = { WithId: USDD_ID };
const EQ = 'Native';
const USDD_DECIMALS = 6;
const EQ_DECIMALS = 12;
const usdd = (text) => toUnits(text, USDD_DECIMALS);
const eq = (text) => toUnits(text, EQ_DECIMALS);
function toUnits(text, decimals) {
  const [whole, fraction = ''] = String(text).split('.');
  return BigInt(whole + fraction.padEnd(decimals, '0'));
}
const PERCENT = 10_000_000; // one per cent, in Perbill parts

const ORACLE = { minFeeds: 2, maxAge: 20, maxChangePerBlock: 10 * PERCENT };
const PRICE_USDD = toFixed('1');
const PRICE_EQ = toFixed('2');
const CRASH_PRICE = toFixed('0.8');

const RATE_MODEL = {
  targetUtilization: toFixed('0.9'),
  stepSize: toFixed('0.000005'),
  steepness: toFixed('4'),
  minRateAtTarget: toFixed('0.0000001'),
  maxRateAtTarget: toFixed('0.00025'),
  initialRateAtTarget: toFixed('0.00001'),
};
const RESERVE_FACTOR = 10 * PERCENT;
const RISK = {
  collateralFactor: 75 * PERCENT,
  liquidationThreshold: 80 * PERCENT,
  liquidationBonus: 5 * PERCENT,
  closeFactor: 50 * PERCENT,
  fullCloseHealth: toFixed('0.95'),
  dustValue: toFixed('1'),
};
const CAP = usdd('1000000000');

const ALICE_SUPPLY = usdd('20000');
const BOB_COLLATERAL = eq('10000');
const BOB_BORROW = usdd('14000');
const BOB_MORE = usdd('900');
const BOB_TOO_MUCH = usdd('200');
const FERDIE_COLLATERAL = eq('10000');
const FERDIE_BORROW = usdd('4000');
const POKE = 1n; // planck of EQ Ferdie pledges every rate block: an accruing call that leaves utilization as it is
const CRASH_MAX_BLOCKS = 40;
const QUIET_AFTER_CRASH = 3; // blocks without a liquidation, at the crash price, before the sale
const BLOCKS_PER_YEAR = 5_256_000; // 6-second blocks, for the ≈ APR column only

// ---------------------------------------------------------------------------------------------
// Output, checks, and always stopping the node.

const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (...args) => console.log(...args);
const checks = [];
/** Records and prints a check; returns whether it passed. */
function check(ok, what, detail = '') {
  checks.push({ ok, what, detail });
  say(`${ok ? 'PASS' : 'FAIL'}: ${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
/** A failure that makes going on pointless. */
class Fatal extends Error {}
/** A check that stops the run when it fails. */
function ensure(ok, what, detail) {
  if (!check(ok, what, detail)) throw new Fatal(what);
}
const notes = []; // observations worth a line in the summary

let node = null;
let api = null;
const guard = new NodeGuard({ timeLimitS: TIME_LIMIT_S, say });

const fmtUsdd = (units, places) => formatDecimal(units, USDD_DECIMALS, places === undefined ? {} : { places });
const fmtEq = (planck, places) => formatDecimal(planck, EQ_DECIMALS, places === undefined ? {} : { places });
const fmtRate = (inner) => formatDecimal(inner, 18, { places: 18 });
const fmtPct = (inner, places = 4) => `${formatDecimal(inner, 16, { places })} %`;
const fmtApr = (rate) => `${((Number(rate) / 1e18) * BLOCKS_PER_YEAR * 100).toFixed(1)} %`;
const fmtHealth = (h) => (h === null ? '—' : formatFixed(h, 6));
const signed = (value, format) => (value < 0n ? `−${format(-value)}` : `+${format(value)}`);

// ---------------------------------------------------------------------------------------------
// The replica: primitives/liquidity-market and the pallet, in BigInt. FixedU128 values are their
// inner u128 (× 10^18), Perbill values their parts (× 10^9), amounts smallest units. Each
// function names the Rust function it replays; rounding follows it exactly.

const ONE = FIXED_ONE;
const U128_MAX = (1n << 128n) - 1n;
const PERBILL = 1_000_000_000n;
const VIRTUAL_SHARES = 1_000_000n;
const VIRTUAL_ASSETS = 1n;
const BUCKETS = 16_384;

const satU128 = (x) => (x > U128_MAX ? U128_MAX : x);
const satSub = (a, b) => (a > b ? a - b : 0n);
/** sp_arithmetic `multiply_by_rational_with_rounding`: null (None) for a zero divisor or a result above u128. */
function mulRational(a, b, c, rounding) {
  if (c === 0n) return null;
  const value = mulDiv(a, b, c, rounding);
  return value > U128_MAX ? null : value;
}
/** contract_equilibrium_primitives::fixed `mul_div`, `mul`, `div` (saturating). */
const fixedMulDiv = (a, b, c, rounding) => mulRational(a, b, c, rounding) ?? U128_MAX;
const fmul = (a, b, rounding) => fixedMulDiv(a, b, ONE, rounding);
const fdiv = (a, b, rounding) => fixedMulDiv(a, ONE, b, rounding);
/** `FixedU128::from_perbill`. */
const perbillFixed = (parts) => BigInt(parts) * 1_000_000_000n;
/** `Perbill::mul_floor`, `Perbill::mul_ceil`. */
const perbillFloor = (parts, x) => (x * BigInt(parts)) / PERBILL;
const perbillCeil = (parts, x) => (x * BigInt(parts) + PERBILL - 1n) / PERBILL;

// rate.rs -------------------------------------------------------------------------------------

/** rate.rs `kinked`. */
function kinked(base, slopeLow, slopeHigh, kink, utilization) {
  const u = min(utilization, ONE);
  const below = min(u, kink);
  const low = fmul(slopeLow, fdiv(below, kink, 'up'), 'up');
  const high = u > kink ? fmul(slopeHigh, min(fdiv(u - kink, satSub(ONE, kink), 'up'), ONE), 'up') : 0n;
  return satU128(satU128(base + low) + high);
}

/** rate.rs `AdaptiveRate::borrow_rate`. */
function borrowRate(model, rateAtTarget, utilization) {
  const floor = fdiv(rateAtTarget, model.steepness, 'up');
  return kinked(floor, satSub(rateAtTarget, floor), satSub(fmul(rateAtTarget, model.steepness, 'up'), rateAtTarget),
    model.targetUtilization, utilization);
}

/** rate.rs `AdaptiveRate::next_rate_at_target` with `step` (step.rs `dual_ascent_step`, then the bounds). */
function nextRateAtTarget(model, step, rateAtTarget, utilization) {
  const demand = min(utilization, ONE);
  const target = model.targetUtilization;
  const stepped = demand >= target
    ? satU128(rateAtTarget + fmul(step, demand - target, 'down'))
    : satSub(rateAtTarget, fmul(step, target - demand, 'down'));
  return min(max(stepped, model.minRateAtTarget), model.maxRateAtTarget);
}

/** rate.rs `RateModel::rate_at_target_after`: one step of `blocks` times the size. */
const rateAtTargetAfter = (model, rateAtTarget, utilization, blocks) =>
  nextRateAtTarget(model, satU128(model.stepSize * BigInt(blocks)), rateAtTarget, utilization);

// interest.rs ---------------------------------------------------------------------------------

/** interest.rs `utilization`. */
function utilization(cash, borrows) {
  const supplied = satU128(cash + borrows);
  if (supplied === 0n) return 0n;
  return min(mulRational(borrows, ONE, supplied, 'down') ?? ONE, ONE);
}

/**
 * The pallet's `accrue` on a copy of `state` to block `now`: interest.rs `Accrual::accrue` at the
 * rate the utilization gives, then the rate at target stepped `now − last_accrued` times.
 * Returns { state, event (InterestAccrued or null), utilization, rate, blocks }.
 */
function accrueState(model, reserveFactor, state, now) {
  if (now <= state.lastAccrued) return { state, event: null, utilization: null, rate: null, blocks: 0 };
  const blocks = now - state.lastAccrued;
  const u = utilization(state.cash, state.totalBorrows);
  const rate = borrowRate(model, state.rateAtTarget, u);
  let { borrowIndex, totalBorrows, reserves } = state;
  let interest = 0n;
  let toReserves = 0n;
  if (rate !== 0n) {
    const factor = satU128(rate * BigInt(blocks));
    const raw = mulRational(totalBorrows, factor, ONE, 'up') ?? U128_MAX;
    const kept = perbillFloor(reserveFactor, raw);
    const before = totalBorrows;
    totalBorrows = satU128(totalBorrows + raw);
    reserves = satU128(reserves + kept);
    borrowIndex = fmul(borrowIndex, satU128(ONE + factor), 'up');
    interest = totalBorrows - before;
    toReserves = min(kept, interest);
  }
  const next = {
    ...state,
    borrowIndex,
    totalBorrows,
    reserves,
    rateAtTarget: rateAtTargetAfter(model, state.rateAtTarget, u, blocks),
    lastAccrued: now,
  };
  const event = interest > 0n ? `InterestAccrued interest=${interest} toReserves=${toReserves} rate=${rate}` : null;
  return { state: next, event, utilization: u, rate, blocks, interest, toReserves };
}

// shares.rs -----------------------------------------------------------------------------------

const toShares = (assets, totalAssets, totalShares, rounding) =>
  mulRational(assets, totalShares + VIRTUAL_SHARES, totalAssets + VIRTUAL_ASSETS, rounding);
const toAssets = (shares, totalAssets, totalShares, rounding) =>
  mulRational(shares, totalAssets + VIRTUAL_ASSETS, totalShares + VIRTUAL_SHARES, rounding);
const toDebtShares = (assets, totalBorrows, totalShares, rounding) =>
  (totalBorrows === 0n || totalShares === 0n ? assets * VIRTUAL_SHARES : mulRational(assets, totalShares, totalBorrows, rounding));
const debtOf = (shares, totalBorrows, totalShares, rounding) =>
  (totalShares === 0n ? 0n : mulRational(shares, totalBorrows, totalShares, rounding));

// risk.rs -------------------------------------------------------------------------------------

/** risk.rs `Priced::value`: the value of `amount` at `priced = { price, decimals }`. */
function value(priced, amount, rounding) {
  const whole = mulRational(amount, ONE, 10n ** BigInt(priced.decimals), rounding) ?? U128_MAX;
  return fmul(whole, priced.price, rounding);
}
/** risk.rs `Priced::amount`: how much of the asset is worth `worth`. */
function amountOf(priced, worth, rounding) {
  const whole = fdiv(worth, priced.price, rounding);
  return mulRational(whole, 10n ** BigInt(priced.decimals), ONE, rounding) ?? U128_MAX;
}
/** risk.rs `borrow_limit`. */
const borrowLimit = (collateral, asset, risk) => fmul(value(asset, collateral, 'down'), perbillFixed(risk.collateralFactor), 'down');
/** risk.rs `health` (null without debt). */
function health(collateral, collateralAsset, debt, debtAsset, risk) {
  if (debt === 0n) return null;
  const covered = fmul(value(collateralAsset, collateral, 'down'), perbillFixed(risk.liquidationThreshold), 'down');
  return fdiv(covered, value(debtAsset, debt, 'up'), 'down');
}
/** risk.rs `max_repay`. */
function maxRepay(debt, debtAsset, h, risk) {
  if (h === null || h >= ONE) return 0n;
  const dust = value(debtAsset, debt, 'up') <= risk.dustValue;
  return h < risk.fullCloseHealth || dust ? debt : perbillCeil(risk.closeFactor, debt);
}
const bonusFactor = (risk) => satU128(ONE + perbillFixed(risk.liquidationBonus));
/** risk.rs `seized_collateral`. */
function seizedCollateral(repaid, debtAsset, collateral, collateralAsset, risk) {
  const worth = fmul(value(debtAsset, repaid, 'down'), bonusFactor(risk), 'down');
  return min(amountOf(collateralAsset, worth, 'down'), collateral);
}
/** risk.rs `discounted_price`. */
function discountedPrice(amount, collateralAsset, debtAsset, risk) {
  const worth = fdiv(value(collateralAsset, amount, 'down'), bonusFactor(risk), 'up');
  return amountOf(debtAsset, worth, 'up');
}
/**
 * risk.rs `liquidation`: { repaid, seized, badDebt } and, for printing, the health, whether the
 * whole debt was due (`full`) and which rule applied (`rule`).
 */
function liquidation(debt, debtAsset, collateral, collateralAsset, risk, requested) {
  const h = health(collateral, collateralAsset, debt, debtAsset, risk);
  const most = maxRepay(debt, debtAsset, h, risk);
  let repaid = min(most, requested);
  const full = most === debt;
  if (repaid === 0n) return { repaid: 0n, seized: 0n, badDebt: 0n, health: h, full, rule: 'none' };
  let seized = seizedCollateral(repaid, debtAsset, collateral, collateralAsset, risk);
  let rule = full ? 'whole debt' : 'close factor';
  if (seized === 0n) {
    repaid = debt;
    seized = seizedCollateral(debt, debtAsset, collateral, collateralAsset, risk);
    rule = 'a seizure of nothing: the whole debt';
  }
  if (seized > 0n && seized < collateral) return { repaid, seized, badDebt: 0n, health: h, full, rule };
  const worth = amountOf(debtAsset, value(collateralAsset, collateral, 'down'), 'down');
  if (worth >= debt) return { repaid: debt, seized: collateral, badDebt: 0n, health: h, full, rule: 'all the collateral for the whole debt' };
  const covered = min(discountedPrice(collateral, collateralAsset, debtAsset, risk), repaid);
  return { repaid: covered, seized: collateral, badDebt: satSub(debt, covered), health: h, full, rule: 'all the collateral, the rest bad debt' };
}

// queue.rs ------------------------------------------------------------------------------------

const msb = (x) => (x === 0n ? -1 : x.toString(2).length - 1);
/** queue.rs `bucket_of_ratio`. */
function bucketOfRatio(numerator, denominator) {
  if (denominator === 0n) return BUCKETS - 1;
  if (numerator === 0n) return 0;
  const [nMsb, dMsb] = [msb(numerator), msb(denominator)];
  const n = numerator << BigInt(127 - nMsb);
  const d = denominator << BigInt(127 - dMsb);
  const eight = (n * 128n) / d;
  const [exponent, mantissa] = eight >= 128n
    ? [nMsb - dMsb, Number(satSub(eight >> 1n, 64n))]
    : [nMsb - dMsb - 1, Number(satSub(eight, 64n))];
  return bucketAtExponent(exponent, mantissa);
}
/** queue.rs `bucket_at_exponent`: exponents −128 … 127, six-bit mantissas. */
function bucketAtExponent(exponent, mantissa) {
  if (exponent < -128) return 0;
  if (exponent > 127) return BUCKETS - 1;
  return Math.min((exponent + 128) * 64 + (mantissa & 63), BUCKETS - 1);
}

/** queue.rs `Wide`: mantissa·2^exponent with a 64-bit mantissa, truncated after each operation. */
const wide = {
  of(x) {
    if (x === 0n) return null;
    const top = msb(x);
    return { mantissa: top >= 63 ? x >> BigInt(top - 63) : x << BigInt(63 - top), exponent: top - 63 };
  },
  normalized({ mantissa, exponent }) {
    const top = mantissa === 0n ? -1 : msb(mantissa);
    if (top > 63) return { mantissa: mantissa >> BigInt(top - 63), exponent: exponent + (top - 63) };
    return { mantissa, exponent };
  },
  mul(a, b) {
    return wide.normalized({ mantissa: satU128(a.mantissa * b.mantissa), exponent: a.exponent + b.exponent });
  },
  div(a, b) {
    return wide.normalized({ mantissa: (a.mantissa << 63n) / b.mantissa, exponent: a.exponent - b.exponent - 63 });
  },
  powerOfTen(power) {
    const ten = wide.of(10n);
    let result = { mantissa: 1n << 63n, exponent: -63 };
    for (let i = 0; i < power; i += 1) result = wide.mul(result, ten);
    return result;
  },
  bucket({ mantissa, exponent }) {
    const top = msb(mantissa);
    const six = top >= 6 ? Number(mantissa >> BigInt(top - 6)) : 0;
    return bucketAtExponent(exponent + top, six);
  },
};
/** queue.rs `position_bucket` (null without debt). */
const positionBucket = (position) => (position.borrow > 0n ? bucketOfRatio(position.borrow, position.collateral) : null);
/** queue.rs `threshold_bucket`: the bucket of K* = P_c·threshold·u_l·S / (P_l·u_c·B) in Wide numbers (null without debt shares). */
function thresholdBucket(collateralAsset, debtAsset, totalBorrows, borrowShares, risk) {
  const shares = wide.of(borrowShares);
  if (shares === null) return null;
  const [loanPrice, borrows] = [wide.of(debtAsset.price), wide.of(totalBorrows)];
  if (loanPrice === null || borrows === null) return BUCKETS - 1;
  const [collateralPrice, threshold] = [wide.of(collateralAsset.price), wide.of(BigInt(risk.liquidationThreshold))];
  if (collateralPrice === null || threshold === null) return 0;
  const numerator = wide.mul(wide.mul(wide.mul(collateralPrice, threshold), wide.powerOfTen(debtAsset.decimals)), shares);
  const denominator = wide.mul(wide.mul(wide.mul(loanPrice, wide.of(1_000_000_000n)), wide.powerOfTen(collateralAsset.decimals)), borrows);
  return wide.bucket(wide.div(numerator, denominator));
}
/** queue.rs `first_liquidatable_bucket`. */
const firstLiquidatableBucket = (threshold) => (threshold !== null && threshold + 2 < BUCKETS ? threshold + 2 : null);

// oracle.rs -----------------------------------------------------------------------------------

/** oracle.rs `bounded_move` (FixedU128 `saturating_mul` rounds to nearest, half down). */
function boundedMove(anchor, target, maxChangePerBlock, blocks) {
  if (anchor === 0n) return target;
  const allowed = mulDiv(mulDiv(anchor, perbillFixed(maxChangePerBlock), ONE, 'nearestPrefDown'), BigInt(Math.max(blocks, 1)) * ONE, ONE, 'nearestPrefDown');
  return min(max(target, satSub(anchor, allowed)), satU128(anchor + allowed));
}

// ---------------------------------------------------------------------------------------------
// The model: one block of the pallet, replayed from the chain's state before it.

const emptyPosition = () => ({ supply: 0n, collateral: 0n, borrow: 0n });
const isEmpty = (p) => p.supply === 0n && p.collateral === 0n && p.borrow === 0n;

/**
 * One block of market `MARKET` from `before` (a snapshot of the parent block): the hook, then the
 * calls in their extrinsic order. Records the events the pallet must deposit, as strings
 * (`describeChainEvent` writes the chain's the same way), with their phase.
 */
class Model {
  constructor(before, now, consts) {
    this.now = now;
    this.consts = consts;
    this.market = before.market ? structuredClone(before.market) : null;
    this.positions = new Map([...before.positions].map(([who, p]) => [who, { ...p }]));
    this.prices = before.prices;
    this.events = []; // { phase, text }
    this.accruals = []; // { phase, utilization, rate, blocks, before, after, stored }
    this.liquidations = []; // { who, debt, collateral, health, full, repaid, seized, badDebt, fromReserves, price }
    this.sales = []; // { who, amount, paid, share, lost, fromReserves, price }
    this.writeDowns = []; // { block, lost, fromReserves, absorbedDebt, absorbedCollateral, price }
    this.threshold = null; // the hook's { threshold, first } buckets, if it got that far
  }

  get state() {
    return this.market.state;
  }

  position(who) {
    return { ...(this.positions.get(who) ?? emptyPosition()) };
  }

  /** `update_position`: stores the position, or removes it (and its deposit) when it empties. */
  store(who, position) {
    if (isEmpty(position)) this.positions.delete(who);
    else this.positions.set(who, position);
  }

  emit(phase, text) {
    this.events.push({ phase, text });
  }

  /**
   * The pallet's `accrue` to this block: `emit` deposits InterestAccrued (`accrued`, which every
   * call uses; the hook's look at the totals does not), `store` keeps the accrued state (a call
   * that succeeds stores its market). Returns the accrued state and the accrual's record.
   */
  accrue(phase, { store = true, emit = true } = {}) {
    const result = accrueState(this.market.params.rateModel, this.market.params.reserveFactor, this.state, this.now);
    if (emit && result.event) this.emit(phase, result.event);
    let record = null;
    if (result.blocks > 0) {
      record = { phase, stored: store, emitted: emit && result.event !== null, utilization: result.utilization, rate: result.rate,
        blocks: result.blocks, before: this.state.rateAtTarget, after: result.state.rateAtTarget, interest: result.interest ?? 0n };
      this.accruals.push(record);
    }
    if (store) this.market.state = result.state;
    return { state: result.state, record };
  }

  /** The priced assets, if both prices are fresh at this block: { loan, collateral, since }. */
  freshPrices() {
    const fresh = (record) => record && this.now - record.updatedAt <= record.maxAge;
    const { loan, collateral } = this.prices;
    if (!fresh(loan) || !fresh(collateral)) return null;
    return {
      loan: { price: loan.price, decimals: this.market.params.loanDecimals },
      collateral: { price: collateral.price, decimals: this.market.params.collateralDecimals },
      since: Math.max(loan.freshSince, collateral.freshSince),
    };
  }

  /** `liquidation_prices`: fresh, and past the grace period. */
  liquidationPrices() {
    const fresh = this.freshPrices();
    return fresh && this.now >= fresh.since + this.consts.gracePeriod ? fresh : null;
  }

  createMarket(params, phase) {
    this.market = {
      params: structuredClone(params),
      state: {
        cash: 0n, totalBorrows: 0n, reserves: 0n, supplyShares: 0n, borrowShares: 0n, totalCollateral: 0n,
        absorbedDebt: 0n, absorbedCollateral: 0n, borrowIndex: ONE, rateAtTarget: params.rateModel.initialRateAtTarget,
        lastAccrued: this.now,
      },
      thresholdTarget: null,
      pause: { supply: false, borrow: false, liquidation: false },
    };
    this.emit(phase, `MarketCreated market=${MARKET}`);
  }

  supply(who, amount, phase) {
    this.accrue(phase);
    const s = this.state;
    const supplied = satSub(satU128(s.cash + s.totalBorrows + s.absorbedDebt), s.reserves);
    const shares = toShares(amount, supplied, s.supplyShares, 'down');
    s.cash += amount;
    s.supplyShares += shares;
    const p = this.position(who);
    p.supply += shares;
    this.store(who, p);
    this.emit(phase, `Supplied who=${who} amount=${amount} shares=${shares}`);
  }

  depositCollateral(who, amount, phase) {
    this.accrue(phase);
    this.state.totalCollateral += amount;
    const p = this.position(who);
    p.collateral += amount;
    this.store(who, p);
    this.emit(phase, `CollateralDeposited who=${who} amount=${amount}`);
  }

  borrow(who, amount, phase) {
    this.accrue(phase);
    const s = this.state;
    const shares = toDebtShares(amount, s.totalBorrows, s.borrowShares, 'up');
    s.totalBorrows += amount;
    s.borrowShares += shares;
    s.cash -= amount;
    const p = this.position(who);
    p.borrow += shares;
    this.store(who, p);
    this.emit(phase, `Borrowed who=${who} amount=${amount} shares=${shares}`);
  }

  /** `retire_debt`: the shares retired, or null (ZeroShares). */
  retireDebt(owedShares, debt, amount) {
    const s = this.state;
    const shares = amount >= debt ? owedShares : min(toDebtShares(amount, s.totalBorrows, s.borrowShares, 'down'), owedShares);
    if (shares === 0n) return null;
    s.totalBorrows = satSub(s.totalBorrows, amount);
    s.borrowShares = satSub(s.borrowShares, shares);
    if (s.borrowShares === 0n) s.totalBorrows = 0n;
    return shares;
  }

  /** `write_off`: the reserves' part of `loss`. */
  writeOff(loss) {
    const fromReserves = min(loss, this.state.reserves);
    this.state.reserves -= fromReserves;
    return fromReserves;
  }

  /** `do_liquidate(None, …, u128::MAX)` in the hook; false (and nothing changed) on an error. */
  liquidateByChain(who) {
    const saved = { market: structuredClone(this.market), positions: new Map([...this.positions].map(([k, p]) => [k, { ...p }])),
      events: this.events.length, accruals: this.accruals.length, liquidations: this.liquidations.length };
    const fail = () => {
      this.market = saved.market;
      this.positions = saved.positions;
      this.events.length = saved.events;
      this.accruals.length = saved.accruals;
      this.liquidations.length = saved.liquidations;
      return false;
    };
    this.accrue('init');
    if (this.market.pause.liquidation) return fail();
    const prices = this.liquidationPrices();
    if (!prices) return fail();
    const p = this.position(who);
    if (p.borrow === 0n) return fail();
    const s = this.state;
    const debt = debtOf(p.borrow, s.totalBorrows, s.borrowShares, 'up');
    const outcome = liquidation(debt, prices.loan, p.collateral, prices.collateral, this.market.params.risk, U128_MAX);
    // (`MaxRepayTooLow` concerns liquidators only: the hook requests u128::MAX.)
    if (outcome.repaid === 0n && outcome.seized === 0n && outcome.badDebt === 0n) return fail();
    const shares = this.retireDebt(p.borrow, debt, outcome.repaid + outcome.badDebt);
    if (shares === null) return fail();
    const collateralBefore = p.collateral;
    p.borrow -= shares;
    p.collateral = satSub(p.collateral, outcome.seized);
    s.totalCollateral = satSub(s.totalCollateral, outcome.seized);
    s.absorbedDebt += outcome.repaid;
    s.absorbedCollateral += outcome.seized;
    const fromReserves = this.writeOff(outcome.badDebt);
    this.store(who, p);
    this.emit('init', `Liquidated borrower=${who} liquidator=None repaid=${outcome.repaid} seized=${outcome.seized}`);
    if (outcome.badDebt > 0n) this.emit('init', `BadDebt borrower=${who} amount=${outcome.badDebt} fromReserves=${fromReserves}`);
    this.liquidations.push({ who, debt, collateral: collateralBefore, ...outcome, fromReserves, price: prices.collateral.price, block: this.now });
    return true;
  }

  /**
   * The hook for this market (`liquidate_market_queue`): with positions queued or seized
   * collateral, liquidation not paused and prices fresh past the grace period, first the
   * write-down of the absorbed debt, then liquidations from the top of the queue down to the
   * first liquidatable bucket.
   */
  hook() {
    if (!this.market) return;
    const queued = () => [...this.positions].filter(([, p]) => p.borrow > 0n);
    const anyQueued = queued().length > 0; // OccupiedWords != [0, 0]
    const stored = structuredClone(this.market);
    if (!anyQueued && stored.state.absorbedCollateral === 0n) return;
    if (stored.pause.liquidation) return;
    const prices = this.liquidationPrices();
    if (!prices) return;
    if (stored.state.absorbedDebt > 0n) this.writeDownAbsorbed(prices);
    if (!anyQueued) return;
    // The threshold at the accrued totals of the market as read before the write-down; this
    // accrual is neither stored nor announced.
    const accrued = accrueState(stored.params.rateModel, stored.params.reserveFactor, stored.state, this.now).state;
    const risk = stored.params.risk;
    const threshold = thresholdBucket(prices.collateral, prices.loan, accrued.totalBorrows, accrued.borrowShares, risk);
    const first = firstLiquidatableBucket(threshold);
    this.threshold = { threshold, first };
    if (first === null) return;
    let done = 0;
    while (done < this.consts.maxLiquidationsPerBlock) {
      const filed = queued().map(([who, p]) => ({ who, bucket: positionBucket(p) }));
      if (filed.length === 0) break;
      const top = Math.max(...filed.map((f) => f.bucket));
      if (top < first) break;
      // The queue's order within a bucket: its Blake2_128Concat keys.
      const borrowers = filed.filter((f) => f.bucket === top).map((f) => f.who)
        .sort((a, b) => (storageKeyOrder(a) < storageKeyOrder(b) ? -1 : 1))
        .slice(0, this.consts.maxLiquidationsPerBlock - done);
      for (const who of borrowers) {
        done += 1;
        if (!this.liquidateByChain(who)) return;
      }
    }
  }

  /**
   * `write_down_absorbed`: the absorbed debt down to what the seized collateral fetches at the
   * discounted price, the difference written off (reserves first). It looks at the stored
   * market first; only when there is something to write down does it accrue (`accrued`, with
   * its InterestAccrued event) and store the market.
   */
  writeDownAbsorbed(prices) {
    const stored = this.state;
    const worth = discountedPrice(stored.absorbedCollateral, prices.collateral, prices.loan, this.market.params.risk);
    const lost = satSub(stored.absorbedDebt, worth);
    if (lost === 0n) return;
    this.accrue('init');
    const s = { ...this.state };
    s.absorbedDebt -= lost;
    const fromReserves = min(lost, s.reserves);
    s.reserves -= fromReserves;
    this.market.state = s;
    this.emit('init', `BadDebt borrower=None amount=${lost} fromReserves=${fromReserves}`);
    this.writeDowns.push({ block: this.now, lost, fromReserves, absorbedDebt: s.absorbedDebt, absorbedCollateral: s.absorbedCollateral, price: prices.collateral.price });
  }

  /** `do_buy_collateral`: at prices fresh past the grace period; the sale settles its share of the absorbed debt. */
  buyCollateral(who, amount, phase) {
    this.accrue(phase);
    if (this.market.pause.liquidation) throw new Fatal('the replica: liquidation is paused, the sale would fail');
    const prices = this.liquidationPrices();
    if (!prices) throw new Fatal('the replica has no prices fresh past the grace period for the sale');
    const s = this.state;
    const paid = discountedPrice(amount, prices.collateral, prices.loan, this.market.params.risk);
    const share = amount === s.absorbedCollateral
      ? s.absorbedDebt
      : min(mulRational(s.absorbedDebt, amount, s.absorbedCollateral, 'up'), s.absorbedDebt);
    s.cash += paid;
    s.absorbedCollateral = satSub(s.absorbedCollateral, amount);
    s.absorbedDebt = satSub(s.absorbedDebt, share);
    const lost = satSub(share, paid);
    const fromReserves = this.writeOff(lost);
    this.emit(phase, `CollateralBought who=${who} amount=${amount} paid=${paid}`);
    if (lost > 0n) this.emit(phase, `BadDebt borrower=None amount=${lost} fromReserves=${fromReserves}`);
    this.sales.push({ who, amount, paid, share, lost, fromReserves, price: prices.collateral.price });
    return paid;
  }

  /** Replays one call (`op`) of the block. */
  apply(op, phase) {
    switch (op.kind) {
      case 'createMarket': return this.createMarket(op.params, phase);
      case 'supply': return this.supply(op.who, op.amount, phase);
      case 'deposit': return this.depositCollateral(op.who, op.amount, phase);
      case 'borrow': return this.borrow(op.who, op.amount, phase);
      case 'buy': return this.buyCollateral(op.who, op.amount, phase);
      default: throw new Error(`unknown op ${op.kind}`);
    }
  }
}

const keyOrder = new Map();
/** An account's place in a Blake2_128Concat map: blake2_128(id) ++ id, as hex. */
function storageKeyOrder(who) {
  if (!keyOrder.has(who)) keyOrder.set(who, blake2AsHex(who, 128) + who.slice(2));
  return keyOrder.get(who);
}

// ---------------------------------------------------------------------------------------------
// The chain: accounts, snapshots, events, sealing.

const MARKET = 0;
const names = new Map(); // hex → name
const hexOf = (address) => u8aToHex(decodeAddress(address));
const nameOf = (hex) => names.get(hex) ?? `${hex.slice(0, 10)}…`;
let accounts = null; // { alice: { pair, hex }, … }
let palletHex = null;
let consts = null;
let tracked = []; // hex of the accounts whose positions the replica follows

/** Decodes `liquidityMarket.markets(id)`: null, or { params, state, thresholdTarget, pause } with BigInt fields. */
function decodeMarket(option) {
  if (option.isNone) return null;
  const m = option.unwrap();
  const s = m.state;
  const p = m.params;
  const big = (x) => x.toBigInt();
  const model = p.rateModel.isAdaptive ? p.rateModel.asAdaptive : null;
  return {
    params: {
      loanDecimals: p.loanDecimals.toNumber(),
      collateralDecimals: p.collateralDecimals.toNumber(),
      loanIsUsdd: p.loanAsset.isWithId && p.loanAsset.asWithId.toNumber() === USDD_ID,
      collateralIsNative: p.collateralAsset.isNative,
      rateModel: model && {
        kind: 'Adaptive',
        targetUtilization: big(model.targetUtilization),
        stepSize: big(model.stepSize),
        steepness: big(model.steepness),
        minRateAtTarget: big(model.minRateAtTarget),
        maxRateAtTarget: big(model.maxRateAtTarget),
        initialRateAtTarget: big(model.initialRateAtTarget),
      },
      reserveFactor: p.reserveFactor.toNumber(),
      risk: {
        collateralFactor: p.risk.collateralFactor.toNumber(),
        liquidationThreshold: p.risk.liquidationThreshold.toNumber(),
        liquidationBonus: p.risk.liquidationBonus.toNumber(),
        closeFactor: p.risk.closeFactor.toNumber(),
        fullCloseHealth: big(p.risk.fullCloseHealth),
        dustValue: big(p.risk.dustValue),
      },
      supplyCap: big(p.supplyCap),
      borrowCap: big(p.borrowCap),
    },
    state: {
      cash: big(s.cash),
      totalBorrows: big(s.totalBorrows),
      reserves: big(s.reserves),
      supplyShares: big(s.supplyShares),
      borrowShares: big(s.borrowShares),
      totalCollateral: big(s.totalCollateral),
      absorbedDebt: big(s.absorbedDebt),
      absorbedCollateral: big(s.absorbedCollateral),
      borrowIndex: big(s.borrowIndex),
      rateAtTarget: big(s.rateAtTarget),
      lastAccrued: s.lastAccrued.toNumber(),
    },
    thresholdTarget: m.thresholdTarget.isSome ? m.thresholdTarget.unwrap().toNumber() : null,
    pause: { supply: m.pause.supply.isTrue, borrow: m.pause.borrow.isTrue, liquidation: m.pause.liquidation.isTrue },
  };
}

/** An asset's published price with its oracle's max_age: null, or { price, median?, updatedAt, freshSince, anchor, maxAge }. */
function decodePrice(record, settings) {
  if (record.isNone || settings.isNone) return null;
  const r = record.unwrap();
  return {
    price: r.price.toBigInt(),
    updatedAt: r.updatedAt.toNumber(),
    freshSince: r.freshSince.toNumber(),
    anchor: r.anchor.toBigInt(),
    anchorBlocks: r.anchorBlocks.toNumber(),
    maxAge: settings.unwrap().maxAge.toNumber(),
  };
}

/** The state after block `hash`: the market, the tracked positions, the prices, the pallet's balances. */
async function snapshot(hash) {
  const at = await api.at(hash);
  const [header, market, usddPrice, eqPrice, usddOracle, eqOracle, palletAccount, palletUsdd, ...positions] = await Promise.all([
    api.rpc.chain.getHeader(hash),
    at.query.liquidityMarket.markets(MARKET),
    at.query.oracle.prices(USDD),
    at.query.oracle.prices(EQ),
    at.query.oracle.oracles(USDD),
    at.query.oracle.oracles(EQ),
    at.query.system.account(palletHex),
    at.query.assets.account(USDD_ID, palletHex),
    ...tracked.map((who) => at.query.liquidityMarket.positions(MARKET, who)),
  ]);
  return {
    hash: typeof hash === 'string' ? hash : hash.toHex(),
    number: header.number.toNumber(),
    market: decodeMarket(market),
    positions: new Map(tracked.flatMap((who, i) => (positions[i].isSome
      ? [[who, { supply: positions[i].unwrap().supplyShares.toBigInt(), collateral: positions[i].unwrap().collateral.toBigInt(), borrow: positions[i].unwrap().borrowShares.toBigInt() }]]
      : []))),
    prices: { loan: decodePrice(usddPrice, usddOracle), collateral: decodePrice(eqPrice, eqOracle) },
    pallet: {
      free: palletAccount.data.free.toBigInt(),
      reserved: palletAccount.data.reserved.toBigInt(),
      frozen: palletAccount.data.frozen.toBigInt(),
      providers: palletAccount.providers.toNumber(),
      sufficients: palletAccount.sufficients.toNumber(),
      usdd: palletUsdd.isSome ? palletUsdd.unwrap().balance.toBigInt() : 0n,
    },
  };
}

/** USDD balances of `who` (hex list) and the asset's supply, after block `hash`. */
async function usddBalances(hash, who) {
  const at = await api.at(hash);
  const [asset, ...balances] = await Promise.all([at.query.assets.asset(USDD_ID), ...who.map((w) => at.query.assets.account(USDD_ID, w))]);
  return {
    supply: asset.unwrap().supply.toBigInt(),
    balances: new Map(who.map((w, i) => [w, balances[i].isSome ? balances[i].unwrap().balance.toBigInt() : 0n])),
  };
}

/** What `who` holds for position deposits of this pallet, after block `hash`. */
async function heldForPositions(hash, who) {
  const at = await api.at(hash);
  const holds = await at.query.balances.holds(who);
  return holds
    .filter((hold) => hold.id.type === 'LiquidityMarket' && hold.id.value.type === 'PositionDeposit')
    .reduce((sum, hold) => sum + hold.amount.toBigInt(), 0n);
}

/** The pallet's event `e` as the replica writes it. */
function describeChainEvent(e) {
  const d = e.data;
  const acc = (x) => x.toHex();
  const opt = (o) => (o.isNone ? 'None' : o.unwrap().toHex());
  const n = (x) => x.toBigInt().toString();
  switch (e.method) {
    case 'MarketCreated': return `MarketCreated market=${d.market.toNumber()}`;
    case 'Supplied': case 'Withdrawn': case 'Borrowed': case 'Repaid':
      return `${e.method} who=${acc(d.who)} amount=${n(d.amount)} shares=${n(d.shares)}`;
    case 'CollateralDeposited': case 'CollateralWithdrawn': return `${e.method} who=${acc(d.who)} amount=${n(d.amount)}`;
    case 'Liquidated': return `Liquidated borrower=${acc(d.borrower)} liquidator=${opt(d.liquidator)} repaid=${n(d.repaid)} seized=${n(d.seized)}`;
    case 'BadDebt': return `BadDebt borrower=${opt(d.borrower)} amount=${n(d.amount)} fromReserves=${n(d.fromReserves)}`;
    case 'CollateralBought': return `CollateralBought who=${acc(d.who)} amount=${n(d.amount)} paid=${n(d.paid)}`;
    case 'InterestAccrued': return `InterestAccrued interest=${n(d.interest)} toReserves=${n(d.toReserves)} rate=${n(d.rate)}`;
    default: return `${e.method} ${JSON.stringify(d.toHuman())}`;
  }
}
/** Replaces the hex accounts in an event text by names, for printing. */
const readable = (text) => text.replace(/0x[0-9a-f]{64}/g, (hex) => nameOf(hex));

/** The pallet's events of a sealed block, in order: { phase: 'init' | 'ext' | 'final', index, text, event }. */
function marketEvents(sealed) {
  return sealed.events
    .filter(({ event }) => event.section === 'liquidityMarket')
    .map(({ phase, event }) => ({
      phase: phase.isInitialization ? 'init' : phase.isApplyExtrinsic ? 'ext' : 'final',
      index: phase.isApplyExtrinsic ? phase.asApplyExtrinsic.toNumber() : null,
      text: describeChainEvent(event),
      event,
    }));
}

class Sealer {
  constructor() {
    this.nonces = new Map();
    this.pending = [];
  }

  /** The next nonce of `pair`, counted here after the first (explicit nonces: many per block). */
  async nextNonce(pair) {
    if (!this.nonces.has(pair.address)) {
      this.nonces.set(pair.address, (await api.rpc.system.accountNextIndex(pair.address)).toNumber());
    }
    const nonce = this.nonces.get(pair.address);
    this.nonces.set(pair.address, nonce + 1);
    return nonce;
  }

  /**
   * Signs `tx` and hands it to the pool for the next block. `op`: what the replica replays of it
   * (null for calls outside the market); `expect`: the error it must fail with, or null.
   */
  async queue(tx, pair, label, { op = null, expect = null } = {}) {
    const nonce = await this.nextNonce(pair);
    await tx.signAsync(pair, { nonce });
    this.pending.push({ hash: tx.hash.toHex(), label, op, expect, submitted: api.rpc.author.submitExtrinsic(tx) });
  }

  /**
   * Seals one block with everything queued, after the pool accepted it all. Fails if a
   * transaction was left out, or failed unexpectedly (also inside sudo); checks the expected
   * failures. Returns { number, hash, events, outcomes (in extrinsic order) }.
   */
  async seal() {
    const pending = this.pending;
    this.pending = [];
    const results = await Promise.allSettled(pending.map((p) => p.submitted));
    const rejected = results.findIndex((r) => r.status === 'rejected');
    if (rejected >= 0) throw new Fatal(`the pool rejected ${pending[rejected].label}: ${results[rejected].reason.message}`);
    const created = await api.rpc.engine.createBlock(true, false);
    const hash = created.blockHash;
    await api.rpc.engine.finalizeBlock(hash);
    const [block, events] = await Promise.all([api.rpc.chain.getBlock(hash), api.query.system.events.at(hash)]);
    const number = block.block.header.number.toNumber();
    const indexOf = new Map(block.block.extrinsics.map((ex, i) => [ex.hash.toHex(), i]));
    const outcomes = [];
    for (const p of pending) {
      const index = indexOf.get(p.hash);
      if (index === undefined) throw new Fatal(`${p.label} was not included in block #${number}`);
      const own = events.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index);
      const failed = own.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
      const error = failed ? dispatchErrorName(api, failed.event.data.dispatchError) : innerFailure(api, own);
      if (p.expect === null && error) throw new Fatal(`${p.label} failed in block #${number}: ${error}`);
      if (p.expect !== null) check(error === p.expect, `block #${number}: ${p.label} is refused with ${p.expect}`, error ? (error === p.expect ? '' : `got ${error}`) : 'it succeeded');
      outcomes.push({ ...p, index, error, events: own });
    }
    outcomes.sort((a, b) => a.index - b.index);
    return { number, hash: hash.toHex(), events, outcomes };
  }
}

// ---------------------------------------------------------------------------------------------
// Every block: sealed, replayed, compared.

const run = {
  head: null, // the snapshot after the last block
  blocks: 0,
  modelMismatches: [],
  eventMismatches: [],
  ledgerMismatches: [], // pallet USDD ≠ cash, pallet free EQ ≠ total_collateral + absorbed_collateral
  hookAccrualEvents: 0, // InterestAccrued the hook deposited without storing the accrual
  writeDowns: [], // the hook's write-downs of the absorbed debt
  hookAccrualBlocks: [],
  rateRows: [],
  crashRows: [],
  liquidations: [], // the replica's, confirmed by the chain's events
  sales: [],
  events: { supplied: new Map(), borrowed: new Map(), deposited: new Map(), paid: new Map(), bought: new Map() },
  claims: [], // [label, Alice's claim]
};

const add = (map, key, amount) => map.set(key, (map.get(key) ?? 0n) + amount);

/** Seals the queued block, replays it and compares the chain with the replica. */
async function sealAndVerify(sealer) {
  const before = run.head;
  const sealed = await sealer.seal();
  const after = await snapshot(sealed.hash);
  run.head = after;
  run.blocks += 1;

  // The replica: the hook, then the calls that succeeded, in extrinsic order.
  const model = new Model(before, sealed.number, consts);
  if (model.market) {
    if (model.market.thresholdTarget !== null) throw new Fatal('a threshold target is set: the replica does not step thresholds');
    model.hook();
  }
  for (const outcome of sealed.outcomes) {
    if (outcome.op && !outcome.error) model.apply(outcome.op, `ext#${outcome.index}`);
  }

  // Events: the chain's, with their phases, against the replica's.
  const observed = marketEvents(sealed);
  const chainTexts = observed.map((e) => `${e.phase === 'ext' ? `ext#${e.index}` : e.phase} ${e.text}`);
  const modelTexts = model.events.map((e) => `${e.phase} ${e.text}`);
  if (chainTexts.join('\n') !== modelTexts.join('\n')) {
    run.eventMismatches.push(`block #${sealed.number}:\n    chain:   ${chainTexts.map(readable).join('\n             ') || '(none)'}\n    replica: ${modelTexts.map(readable).join('\n             ') || '(none)'}`);
    say(`MISMATCH in the events of block #${sealed.number} (details at the end)`);
  }
  for (const e of observed) {
    if (e.event.data.market && e.event.data.market.toNumber() !== MARKET) run.eventMismatches.push(`block #${sealed.number}: an event of market ${e.event.data.market}`);
    const d = e.event.data;
    if (e.event.method === 'Supplied') add(run.events.supplied, d.who.toHex(), d.amount.toBigInt());
    if (e.event.method === 'Borrowed') add(run.events.borrowed, d.who.toHex(), d.amount.toBigInt());
    if (e.event.method === 'CollateralDeposited') add(run.events.deposited, d.who.toHex(), d.amount.toBigInt());
    if (e.event.method === 'CollateralBought') {
      add(run.events.paid, d.who.toHex(), d.paid.toBigInt());
      add(run.events.bought, d.who.toHex(), d.amount.toBigInt());
    }
  }
  const hookAccruals = model.accruals.filter((a) => a.phase === 'init' && a.emitted && !a.stored).length;
  if (hookAccruals > 0) {
    run.hookAccrualEvents += hookAccruals;
    run.hookAccrualBlocks.push(sealed.number);
  }

  // State: the market and the tracked positions, to the unit.
  if (model.market || after.market) {
    const differences = [];
    if (!model.market || !after.market) differences.push(`market: chain ${after.market ? 'exists' : 'none'}, replica ${model.market ? 'exists' : 'none'}`);
    else {
      for (const [key, expected] of Object.entries(model.market.state)) {
        if (after.market.state[key] !== expected) differences.push(`${key}: chain ${after.market.state[key]}, replica ${expected}`);
      }
      for (const who of tracked) {
        const c = after.positions.get(who) ?? null;
        const m = model.positions.get(who) ?? null;
        const text = (p) => (p ? `supply ${p.supply}, collateral ${p.collateral}, borrow ${p.borrow}` : 'none');
        if (text(c) !== text(m)) differences.push(`${nameOf(who)}'s position: chain ${text(c)}, replica ${text(m)}`);
      }
    }
    if (differences.length) {
      run.modelMismatches.push(`block #${sealed.number}: ${differences.join('; ')}`);
      say(`MISMATCH in the state after block #${sealed.number}: ${differences.join('; ')}`);
    }
  }

  // The pallet's ledgers against its account.
  if (after.market) {
    const s = after.market.state;
    if (after.pallet.usdd !== s.cash) run.ledgerMismatches.push(`block #${sealed.number}: the pallet holds ${fmtUsdd(after.pallet.usdd)} USDD, cash ${fmtUsdd(s.cash)}`);
    const pledged = s.totalCollateral + s.absorbedCollateral;
    if (after.pallet.free !== pledged) run.ledgerMismatches.push(`block #${sealed.number}: the pallet's free EQ ${fmtEq(after.pallet.free)}, total_collateral + absorbed_collateral ${fmtEq(pledged)}`);
  }
  return { sealed, before, after, model };
}

// ---------------------------------------------------------------------------------------------
// The scenario.

const oracleSettings = (feeders) => [feeders, ORACLE.minFeeds, ORACLE.maxAge, ORACLE.maxChangePerBlock];
const feedAll = async (sealer, eqPrice) => {
  for (const feeder of [accounts.charlie, accounts.dave, accounts.eve]) {
    await sealer.queue(api.tx.oracle.feed(USDD, PRICE_USDD), feeder.pair, `${nameOf(feeder.hex)} feeds USDD ${formatFixed(PRICE_USDD)}`);
    await sealer.queue(api.tx.oracle.feed(EQ, eqPrice), feeder.pair, `${nameOf(feeder.hex)} feeds EQ ${formatFixed(eqPrice)}`);
  }
};

/** The chain's market parameters (camelCase, for `createMarket`) and the replica's. */
function marketParams() {
  const chain = {
    loanAsset: USDD,
    loanDecimals: USDD_DECIMALS,
    collateralAsset: EQ,
    collateralDecimals: EQ_DECIMALS,
    rateModel: { Adaptive: RATE_MODEL },
    reserveFactor: RESERVE_FACTOR,
    risk: RISK,
    supplyCap: CAP,
    borrowCap: CAP,
  };
  const replica = {
    loanDecimals: USDD_DECIMALS,
    collateralDecimals: EQ_DECIMALS,
    loanIsUsdd: true,
    collateralIsNative: true,
    rateModel: { kind: 'Adaptive', ...RATE_MODEL },
    reserveFactor: RESERVE_FACTOR,
    risk: { ...RISK },
    supplyCap: CAP,
    borrowCap: CAP,
  };
  return { chain, replica };
}

/** The debt and health of `who` in a snapshot, at its published prices. */
function standing(snap, who) {
  const p = snap.positions.get(who) ?? emptyPosition();
  const s = snap.market.state;
  const debt = debtOf(p.borrow, s.totalBorrows, s.borrowShares, 'up');
  const loan = { price: snap.prices.loan.price, decimals: USDD_DECIMALS };
  const collateral = { price: snap.prices.collateral.price, decimals: EQ_DECIMALS };
  return { position: p, debt, health: health(p.collateral, collateral, debt, loan, snap.market.params.risk), limit: borrowLimit(p.collateral, collateral, snap.market.params.risk) };
}

/** What Alice's supply shares are worth (`to_assets`, rounded down) in a snapshot. */
function aliceClaim(snap) {
  const s = snap.market.state;
  const shares = snap.positions.get(accounts.alice.hex)?.supply ?? 0n;
  return toAssets(shares, satSub(s.cash + s.totalBorrows + s.absorbedDebt, s.reserves), s.supplyShares, 'down');
}

async function main() {
  say(`lending market end to end — ${RATE_BLOCKS} blocks above target, a crash of EQ from ${formatFixed(PRICE_EQ)} to ${formatFixed(CRASH_PRICE)}, time limit ${TIME_LIMIT_S} s`);
  try {
    node = guard.node = await startNode({ binary: options.node, sealing: 'manual' });
  } catch (error) {
    throw new Fatal(error.message);
  }
  say(`node ${options.node} (pid ${node.pid}) on ${node.url}, --sealing manual, log ${node.logFile}`);
  api = guard.api = await connect(node.url);
  say(`connected: ${await api.rpc.system.chain()}, spec ${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion} [${seconds()} s]`);
  ensure(api.tx.liquidityMarket?.buyCollateral !== undefined && api.tx.oracle?.feed !== undefined && api.tx.assets !== undefined,
    'the runtime has the lending market, the oracle and the assets', 'rebuild the node: this runtime predates the lending market');

  // Constants and accounts.
  const c = api.consts.liquidityMarket;
  consts = {
    positionDeposit: c.positionDeposit.toBigInt(),
    maxLiquidationsPerBlock: c.maxLiquidationsPerBlock.toNumber(),
    gracePeriod: c.liquidationGracePeriod.toNumber(),
  };
  const palletId = c.palletId.toU8a();
  const palletAccount = u8aConcat(stringToU8a('modl'), palletId, new Uint8Array(32 - 4 - palletId.length));
  palletHex = u8aToHex(palletAccount);
  ensure(new TextDecoder().decode(palletId) === 'eq/lendm', `the pallet's identifier is "eq/lendm"; its account is ${api.createType('AccountId', palletAccount).toString()} ("modl" + "eq/lendm" + zeros)`);
  say(`constants: position deposit ${fmtEq(consts.positionDeposit)} EQ, at most ${consts.maxLiquidationsPerBlock} liquidations a block, grace period ${consts.gracePeriod} blocks`);
  accounts = Object.fromEntries(['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'].map((name) => {
    const pair = keyPair(`//${name}`);
    const hex = hexOf(pair.address);
    names.set(hex, name);
    return [name.toLowerCase(), { pair, hex }];
  }));
  names.set(palletHex, 'pallet');
  const { alice, bob, charlie, dave, eve, ferdie } = accounts;
  tracked = [alice.hex, bob.hex, charlie.hex, ferdie.hex];
  const usddHolders = [alice.hex, bob.hex, charlie.hex, dave.hex, eve.hex, ferdie.hex, palletHex];

  const genesis = await api.rpc.chain.getBlockHash(0);
  const startUsdd = await usddBalances(genesis, usddHolders);
  run.head = await snapshot(genesis);
  ensure(run.head.market === null, 'the chain starts without a lending market (a fresh --dev chain)');
  say(`USDD at genesis: supply ${fmtUsdd(startUsdd.supply)}; Alice … Ferdie ${fmtUsdd(startUsdd.balances.get(alice.hex))} each`);
  const sealer = new Sealer();

  // Block 1: the oracles.
  const feeders = [charlie.pair.address, dave.pair.address, eve.pair.address];
  await sealer.queue(api.tx.sudo.sudo(api.tx.oracle.setOracle(USDD, ...oracleSettings(feeders))), alice.pair, 'sudo(oracle.setOracle(USDD))');
  await sealer.queue(api.tx.sudo.sudo(api.tx.oracle.setOracle(EQ, ...oracleSettings(feeders))), alice.pair, 'sudo(oracle.setOracle(EQ))');
  const b1 = await sealAndVerify(sealer);
  const oracleSet = b1.sealed.events.filter(({ event }) => api.events.oracle.OracleSet.is(event));
  ensure(oracleSet.length === 2, `block #${b1.sealed.number}: sudo set the oracles of USDD and EQ — feeders Charlie, Dave, Eve; min ${ORACLE.minFeeds} feeds; max age ${ORACLE.maxAge} blocks; at most ${ORACLE.maxChangePerBlock / PERCENT} % a block`);

  // Block 2: prices, the market, Alice's supply.
  const { chain: chainParams, replica: replicaParams } = marketParams();
  await feedAll(sealer, PRICE_EQ);
  await sealer.queue(api.tx.sudo.sudo(api.tx.liquidityMarket.createMarket(chainParams)), alice.pair, 'sudo(liquidityMarket.createMarket)', { op: { kind: 'createMarket', params: replicaParams } });
  await sealer.queue(api.tx.liquidityMarket.supply(MARKET, ALICE_SUPPLY), alice.pair, `Alice supplies ${fmtUsdd(ALICE_SUPPLY)} USDD`, { op: { kind: 'supply', who: alice.hex, amount: ALICE_SUPPLY } });
  const b2 = await sealAndVerify(sealer);
  const created = b2.sealed.events.find(({ event }) => api.events.liquidityMarket.MarketCreated.is(event));
  ensure(created !== undefined && created.event.data.market.toNumber() === MARKET, `block #${b2.sealed.number}: sudo created market ${MARKET}`);
  const stored = b2.after.market.params;
  ensure(JSON.stringify(stored, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(replicaParams, (k, v) => (typeof v === 'bigint' ? v.toString() : v)),
    'the stored parameters are the ones sent: USDD (6 decimals) against EQ (12), adaptive rate, reserve factor 10 %, risk 75/80/5/50 %, full close 0.95, dust 1');
  const { loan: usddRecord, collateral: eqRecord } = b2.after.prices;
  ensure(usddRecord?.price === PRICE_USDD && eqRecord?.price === PRICE_EQ,
    `block #${b2.sealed.number}: the published prices are USDD ${formatFixed(PRICE_USDD)}, EQ ${formatFixed(PRICE_EQ)} (fresh since #${usddRecord?.freshSince}, #${eqRecord?.freshSince})`);
  const freshSince = Math.max(usddRecord.freshSince, eqRecord.freshSince);
  say(`market ${MARKET}: adaptive rate (target ${fmtPct(RATE_MODEL.targetUtilization, 0)}, η ${formatFixed(RATE_MODEL.stepSize)}, steepness ${formatFixed(RATE_MODEL.steepness)}, rate at target in [${formatFixed(RATE_MODEL.minRateAtTarget)}, ${formatFixed(RATE_MODEL.maxRateAtTarget)}] from ${formatFixed(RATE_MODEL.initialRateAtTarget)} a block); Alice supplied ${fmtUsdd(ALICE_SUPPLY)} USDD for ${b2.after.positions.get(alice.hex).supply} shares`);
  say(`the pallet's account after block #${b2.sealed.number}: ${fmtUsdd(b2.after.pallet.usdd)} USDD, ${fmtEq(b2.after.pallet.free)} EQ free, providers ${b2.after.pallet.providers}, sufficients ${b2.after.pallet.sufficients} (USDD is a sufficient asset: the account exists without EQ)`);

  // Block 3: Bob pledges and borrows 70 %, Ferdie pledges.
  await feedAll(sealer, PRICE_EQ);
  await sealer.queue(api.tx.liquidityMarket.depositCollateral(MARKET, BOB_COLLATERAL), bob.pair, `Bob pledges ${fmtEq(BOB_COLLATERAL)} EQ`, { op: { kind: 'deposit', who: bob.hex, amount: BOB_COLLATERAL } });
  await sealer.queue(api.tx.liquidityMarket.borrow(MARKET, BOB_BORROW), bob.pair, `Bob borrows ${fmtUsdd(BOB_BORROW)} USDD`, { op: { kind: 'borrow', who: bob.hex, amount: BOB_BORROW } });
  await sealer.queue(api.tx.liquidityMarket.depositCollateral(MARKET, FERDIE_COLLATERAL), ferdie.pair, `Ferdie pledges ${fmtEq(FERDIE_COLLATERAL)} EQ`, { op: { kind: 'deposit', who: ferdie.hex, amount: FERDIE_COLLATERAL } });
  const b3 = await sealAndVerify(sealer);
  say(`block #${b3.sealed.number}: Bob pledged ${fmtEq(BOB_COLLATERAL)} EQ and borrowed ${fmtUsdd(BOB_BORROW)} USDD; Ferdie pledged ${fmtEq(FERDIE_COLLATERAL)} EQ; the pallet's account now holds ${fmtEq(b3.after.pallet.free)} EQ free (providers ${b3.after.pallet.providers})`);
  rateRow(b3, 'idle block 2→3: utilization 0');

  // Block 4: above the target; a borrow beyond Bob's limit fails.
  await feedAll(sealer, PRICE_EQ);
  await sealer.queue(api.tx.liquidityMarket.borrow(MARKET, BOB_MORE), bob.pair, `Bob borrows ${fmtUsdd(BOB_MORE)} USDD more`, { op: { kind: 'borrow', who: bob.hex, amount: BOB_MORE } });
  await sealer.queue(api.tx.liquidityMarket.borrow(MARKET, BOB_TOO_MUCH), bob.pair, `Bob borrows ${fmtUsdd(BOB_TOO_MUCH)} USDD more (beyond his limit)`, { op: { kind: 'borrow', who: bob.hex, amount: BOB_TOO_MUCH }, expect: 'LiquidityMarket.Undercollateralized' });
  await sealer.queue(api.tx.liquidityMarket.borrow(MARKET, FERDIE_BORROW), ferdie.pair, `Ferdie borrows ${fmtUsdd(FERDIE_BORROW)} USDD`, { op: { kind: 'borrow', who: ferdie.hex, amount: FERDIE_BORROW } });
  const b4 = await sealAndVerify(sealer);
  const bob4 = standing(b4.after, bob.hex);
  say(`block #${b4.sealed.number}: Bob owes ${fmtUsdd(bob4.debt)} USDD (limit ${formatFixed(bob4.limit)} at EQ ${formatFixed(PRICE_EQ)}, health ${fmtHealth(bob4.health)}), Ferdie borrowed ${fmtUsdd(FERDIE_BORROW)}: utilization ${fmtPct(utilization(b4.after.market.state.cash, b4.after.market.state.totalBorrows))}`);
  rateRow(b4, 'utilization 70 %');
  run.claims.push(['after the borrows', aliceClaim(b4.after)]);

  // The rate phase.
  say(`\nrates: every block Ferdie pledges ${POKE} planck of EQ — a call that accrues the market (interest first) and leaves utilization unchanged; the feeders keep both prices fresh.`);
  for (let k = 1; k <= RATE_BLOCKS; k += 1) {
    await feedAll(sealer, PRICE_EQ);
    await sealer.queue(api.tx.liquidityMarket.depositCollateral(MARKET, POKE), ferdie.pair, `Ferdie pledges ${POKE} planck`, { op: { kind: 'deposit', who: ferdie.hex, amount: POKE } });
    const block = await sealAndVerify(sealer);
    rateRow(block, '', k);
  }
  printRateTable();
  const above = run.rateRows.filter((r) => r.kind === 'above');
  const rising = above.filter((r) => r.after > r.before);
  check(above.length >= RATE_BLOCKS && rising.length === above.length,
    `while utilization was above the ${fmtPct(RATE_MODEL.targetUtilization, 0)} target (${above.length} blocks) the stored rate at target rose every block: ${fmtRate(above[0]?.before ?? 0n)} → ${fmtRate(above.at(-1)?.after ?? 0n)}`,
    rising.length === above.length ? '' : `it did not rise in blocks #${above.filter((r) => r.after <= r.before).map((r) => r.number).join(', #')}`);
  const below = run.rateRows.filter((r) => r.kind === 'below');
  check(below.length > 0 && below.every((r) => r.after < r.before), `while utilization was below the target (${below.length} blocks: the idle block, 70 %) the rate at target fell every block`);
  const withEvent = run.rateRows.filter((r) => r.eventRate !== null);
  check(withEvent.length >= RATE_BLOCKS + 1 && withEvent.every((r) => r.eventRate === r.replicaRate),
    `every InterestAccrued rate of these blocks (${withEvent.length}) is the replica's borrow_rate(rate at target, utilization) (rate.rs), to 10⁻¹⁸`);
  const afterRates = run.head;
  run.claims.push(['before the crash', aliceClaim(afterRates)]);

  // The crash.
  say(`\ncrash: every block the feeders post EQ ${formatFixed(CRASH_PRICE)} (and USDD ${formatFixed(PRICE_USDD)}); the published price moves at most ${ORACLE.maxChangePerBlock / PERCENT} % of the previous block's. Nobody calls liquidate.`);
  say(`prices fresh since block #${freshSince}: liquidations allowed from block #${freshSince + consts.gracePeriod} (grace ${consts.gracePeriod} blocks). Bob's liquidation price now: ${formatFixed(liquidationPriceOf(afterRates, bob.hex), 9)}, Ferdie's ${formatFixed(liquidationPriceOf(afterRates, ferdie.hex), 9)}.`);
  let quietBlocks = 0;
  let expectedPrice = afterRates.prices.collateral.price;
  let reachedAt = null;
  const priceMismatches = [];
  for (let k = 1; k <= CRASH_MAX_BLOCKS; k += 1) {
    await feedAll(sealer, CRASH_PRICE);
    const block = await sealAndVerify(sealer);
    const published = block.after.prices.collateral;
    expectedPrice = boundedMove(expectedPrice, CRASH_PRICE, ORACLE.maxChangePerBlock, 1);
    if (published.price !== expectedPrice) priceMismatches.push(`#${block.sealed.number}: ${formatFixed(published.price)} (expected ${formatFixed(expectedPrice)})`);
    if (published.freshSince !== eqRecord.freshSince || block.after.prices.loan.freshSince !== usddRecord.freshSince) {
      priceMismatches.push(`#${block.sealed.number}: fresh_since moved to ${published.freshSince} / ${block.after.prices.loan.freshSince}`);
    }
    const confirmed = block.model.liquidations;
    run.liquidations.push(...confirmed);
    run.writeDowns.push(...block.model.writeDowns);
    crashRow(block, k);
    if (published.price === CRASH_PRICE && reachedAt === null) reachedAt = block.sealed.number;
    quietBlocks = confirmed.length + block.model.writeDowns.length > 0 ? 0 : quietBlocks + 1;
    if (reachedAt !== null && quietBlocks >= QUIET_AFTER_CRASH && run.liquidations.length > 0) break;
  }
  printCrashTable();
  check(priceMismatches.length === 0, `the published EQ price fell by the bounded move every block (oracle.rs bounded_move: ${ORACLE.maxChangePerBlock / PERCENT} % of the previous block's), reaching ${formatFixed(CRASH_PRICE)} in block #${reachedAt}; fresh_since never moved`, priceMismatches.slice(0, 3).join('; '));
  const bobLiquidations = run.liquidations.filter((l) => l.who === bob.hex);
  const chainLiquidated = [];
  for (const e of run.crashRows.flatMap((r) => r.events)) if (e.event.method === 'Liquidated') chainLiquidated.push(e);
  ensure(bobLiquidations.length > 0, `the chain's hook liquidated Bob (${bobLiquidations.length} liquidation${bobLiquidations.length === 1 ? '' : 's'}, in blocks #${bobLiquidations.map((l) => l.block).join(', #')})`);
  check(chainLiquidated.length === run.liquidations.length && chainLiquidated.every((e) => e.phase === 'init' && e.event.data.liquidator.isNone),
    `every Liquidated event came from the block's initialization (the hook) with liquidator None (${chainLiquidated.length} events); nobody called liquidate`);
  check(run.liquidations.every((l) => l.block >= freshSince + consts.gracePeriod), `no liquidation before the grace period ended (block #${freshSince + consts.gracePeriod})`);
  check(run.liquidations.every((l) => l.who === bob.hex), 'only Bob was liquidated: Ferdie (10 000 EQ for 4 000 USDD) stays healthy at 0.8');
  printLiquidations();
  if (run.writeDowns.length) {
    const lost = run.writeDowns.reduce((a, w) => a + w.lost, 0n);
    const fromReserves = run.writeDowns.reduce((a, w) => a + w.fromReserves, 0n);
    say(`the hook wrote the absorbed debt down ${run.writeDowns.length} times as the price fell (BadDebt { borrower: None } in blocks #${run.writeDowns.map((w) => w.block).join(', #')}): ${fmtUsdd(lost)} USDD in all, ${fmtUsdd(fromReserves)} from the reserves, ${fmtUsdd(lost - fromReserves)} from the lenders`);
  }
  const beforeSale = run.head;
  run.claims.push(['after the crash, before the sale', aliceClaim(beforeSale)]);

  // The sale.
  const seized = beforeSale.market.state.absorbedCollateral;
  ensure(seized > 0n, `the market holds ${fmtEq(seized)} EQ of seized collateral against ${fmtUsdd(beforeSale.market.state.absorbedDebt)} USDD of absorbed debt`);
  const preview = new Model(beforeSale, beforeSale.number + 1, consts);
  preview.hook();
  const price = preview.buyCollateral(charlie.hex, seized, 'ext');
  say(`\nsale: at EQ ${formatFixed(beforeSale.prices.collateral.price)} less the ${RISK.liquidationBonus / PERCENT} % bonus, ${fmtEq(seized)} EQ cost ${fmtUsdd(price)} USDD (risk.rs discounted_price, rounded up). Charlie offers one unit less first, then exactly that.`);
  await sealer.queue(api.tx.liquidityMarket.buyCollateral(MARKET, seized, price - 1n), charlie.pair, `Charlie buys ${fmtEq(seized)} EQ for at most ${fmtUsdd(price - 1n)} USDD`, { op: { kind: 'buy', who: charlie.hex, amount: seized }, expect: 'LiquidityMarket.PriceAboveLimit' });
  await sealer.queue(api.tx.liquidityMarket.buyCollateral(MARKET, seized, price), charlie.pair, `Charlie buys ${fmtEq(seized)} EQ for at most ${fmtUsdd(price)} USDD`, { op: { kind: 'buy', who: charlie.hex, amount: seized } });
  const sale = await sealAndVerify(sealer);
  run.sales.push(...sale.model.sales);
  const bought = sale.sealed.events.find(({ event }) => api.events.liquidityMarket.CollateralBought.is(event));
  ensure(bought !== undefined && bought.event.data.amount.toBigInt() === seized && bought.event.data.paid.toBigInt() === price,
    `block #${sale.sealed.number}: Charlie bought all ${fmtEq(seized)} EQ for exactly ${fmtUsdd(price)} USDD`);
  const s = sale.after.market.state;
  check(s.absorbedDebt === 0n && s.absorbedCollateral === 0n, `absorbed debt and absorbed collateral are 0 after the sale (${fmtUsdd(s.absorbedDebt)} USDD, ${fmtEq(s.absorbedCollateral)} EQ)`);
  const badDebt = sale.sealed.events.filter(({ event, phase }) => phase.isApplyExtrinsic && api.events.liquidityMarket.BadDebt.is(event));
  const saleRecord = sale.model.sales[0];
  check(badDebt.length === (saleRecord.lost > 0n ? 1 : 0) && badDebt.every(({ event }) => event.data.borrower.isNone && event.data.amount.toBigInt() === saleRecord.lost),
    saleRecord.lost > 0n
      ? `the sale settled its share of the absorbed debt (${fmtUsdd(saleRecord.share)} USDD) for ${fmtUsdd(saleRecord.paid)}: BadDebt { borrower: None, amount ${fmtUsdd(saleRecord.lost)}, from reserves ${fmtUsdd(saleRecord.fromReserves)} }`
      : `the sale settled the whole absorbed debt (${fmtUsdd(saleRecord.share)} USDD, already written down to what the collateral fetches) for exactly that: no BadDebt at the sale`);
  const transfers = sale.sealed.events.filter(({ event }) => api.events.balances.Transfer.is(event)
    && event.data.from.toHex() === palletHex && event.data.to.toHex() === charlie.hex);
  const paidIn = sale.sealed.events.filter(({ event }) => api.events.assets.Transferred.is(event)
    && event.data.from.toHex() === charlie.hex && event.data.to.toHex() === palletHex);
  check(transfers.length === 1 && transfers[0].event.data.amount.toBigInt() === seized && paidIn.length === 1 && paidIn[0].event.data.amount.toBigInt() === price,
    `the sale moved ${fmtEq(seized)} EQ from the pallet's account to Charlie (balances.Transfer) and ${fmtUsdd(price)} USDD from Charlie to it (assets.Transferred)`);
  run.claims.push(['after the sale', aliceClaim(sale.after)]);

  // Accounting.
  await accounting(startUsdd, usddHolders, sale.after);
}

/** The collateral price at which `who` becomes liquidatable (risk.rs `liquidation_price`). */
function liquidationPriceOf(snap, who) {
  const { position, debt } = standing(snap, who);
  if (debt === 0n) return 0n;
  const covered = fmul(value({ price: ONE, decimals: EQ_DECIMALS }, position.collateral, 'down'), perbillFixed(RISK.liquidationThreshold), 'down');
  return fixedMulDiv(value({ price: snap.prices.loan.price, decimals: USDD_DECIMALS }, debt, 'up'), ONE, covered, 'up');
}

/** One row of the rate table: the accrual of the block's first call. */
function rateRow(block, note, k = null) {
  const accrual = block.model.accruals.find((a) => a.phase.startsWith('ext') && a.stored);
  const own = marketEvents(block.sealed).find((e) => e.phase === 'ext' && e.event.method === 'InterestAccrued');
  const state = block.after.market.state;
  if (!accrual) {
    run.rateRows.push({ number: block.sealed.number, kind: 'none', note: note || 'no accrual', eventRate: null, replicaRate: null, before: state.rateAtTarget, after: state.rateAtTarget, state });
    return;
  }
  const kind = accrual.utilization > RATE_MODEL.targetUtilization ? 'above' : accrual.utilization < RATE_MODEL.targetUtilization ? 'below' : 'at';
  run.rateRows.push({
    k,
    number: block.sealed.number,
    kind,
    note,
    utilization: accrual.utilization,
    eventRate: own ? own.event.data.rate.toBigInt() : null, // no event when no interest accrued (no borrows)
    replicaRate: accrual.rate,
    before: block.before.market.state.rateAtTarget,
    after: state.rateAtTarget,
    interest: own ? own.event.data.interest.toBigInt() : 0n,
    utilizationNow: utilization(state.cash, state.totalBorrows),
    state,
  });
}

function printRateTable() {
  const rows = run.rateRows;
  say(`\n${'block'.padStart(5)}  ${'U over the block'.padStart(16)}  ${'borrow rate/block'.padStart(20)}  ${'≈ APR'.padStart(9)}  ${'rate at target after'.padStart(20)}  ${'Δ rate at target'.padStart(21)}  ${'U now'.padStart(10)}  ${'interest (USDD)'.padStart(15)}  ${'total borrows'.padStart(15)}  note`);
  rows.forEach((r, i) => {
    const interesting = i < 2 || i === rows.length - 1 || r.kind !== 'above' || r.after <= r.before;
    if (QUIET && !interesting && (r.k ?? 0) % QUIET_EVERY !== 0) return;
    const delta = r.after - r.before;
    say(`${String(r.number).padStart(5)}  ${(r.utilization === undefined ? '—' : fmtPct(r.utilization)).padStart(16)}  ${(r.eventRate === null ? '—' : fmtRate(r.eventRate)).padStart(20)}  ${(r.eventRate === null ? '—' : fmtApr(r.eventRate)).padStart(9)}  ${fmtRate(r.after).padStart(20)}  ${signed(delta, fmtRate).padStart(21)}  ${fmtPct(r.utilizationNow ?? 0n).padStart(10)}  ${fmtUsdd(r.interest ?? 0n).padStart(15)}  ${fmtUsdd(r.state.totalBorrows, 6).padStart(15)}  ${r.note || (r.kind === 'above' ? 'above target: rises' : '')}`);
  });
}

/** One row of the crash table. */
function crashRow(block, k) {
  const snap = block.after;
  const bob = standing(snap, accounts.bob.hex);
  const ferdie = standing(snap, accounts.ferdie.hex);
  const events = marketEvents(block.sealed).filter((e) => ['Liquidated', 'BadDebt'].includes(e.event.method));
  const updates = block.sealed.events.filter(({ event }) => api.events.oracle.PriceUpdated.is(event) && event.data.asset.isNative);
  run.crashRows.push({
    k,
    number: block.sealed.number,
    hookPrice: block.before.prices.collateral.price,
    price: snap.prices.collateral.price,
    median: updates.length ? updates.at(-1).event.data.median.toBigInt() : null,
    bob,
    ferdie,
    absorbedDebt: snap.market.state.absorbedDebt,
    absorbedCollateral: snap.market.state.absorbedCollateral,
    events,
    notes: [
      ...block.model.writeDowns.map((w) => `absorbed debt written down by ${fmtUsdd(w.lost)} (BadDebt)`),
      ...block.model.liquidations.map((l) => `${nameOf(l.who)} liquidated: repaid ${fmtUsdd(l.repaid)}, seized ${fmtEq(l.seized, 6)} EQ${l.badDebt ? `, bad debt ${fmtUsdd(l.badDebt)}` : ''}`),
    ],
  });
}

function printCrashTable() {
  const rows = run.crashRows;
  say(`\n${'block'.padStart(5)}  ${'EQ price (hook)'.padStart(15)}  ${'EQ price after'.padStart(14)}  ${'Bob debt'.padStart(14)}  ${'Bob collateral'.padStart(16)}  ${'Bob health'.padStart(10)}  ${'Ferdie health'.padStart(13)}  ${'absorbed debt'.padStart(14)}  ${'absorbed EQ'.padStart(16)}  the hook`);
  rows.forEach((r, i) => {
    const interesting = i === 0 || i === rows.length - 1 || r.notes.length > 0 || (r.price === CRASH_PRICE && rows[i - 1]?.price !== CRASH_PRICE);
    if (QUIET && !interesting) return;
    say(`${String(r.number).padStart(5)}  ${formatFixed(r.hookPrice, 9).padStart(15)}  ${formatFixed(r.price, 9).padStart(14)}  ${fmtUsdd(r.bob.debt).padStart(14)}  ${fmtEq(r.bob.position.collateral, 6).padStart(16)}  ${fmtHealth(r.bob.health).padStart(10)}  ${fmtHealth(r.ferdie.health).padStart(13)}  ${fmtUsdd(r.absorbedDebt).padStart(14)}  ${fmtEq(r.absorbedCollateral, 6).padStart(16)}  ${r.notes.join('; ')}`);
  });
  say('(EQ price (hook): the price the block\'s hook saw, published by the block before; health at the price after the block)');
}

function printLiquidations() {
  say('\nthe hook\'s liquidations (each equal to the replica\'s, from the state before its block):');
  for (const l of run.liquidations) {
    const due = l.full ? (l.health < RISK.fullCloseHealth ? `health ${fmtHealth(l.health)} < ${formatFixed(RISK.fullCloseHealth)}: the whole debt` : 'dust: the whole debt')
      : `health ${fmtHealth(l.health)} ≥ ${formatFixed(RISK.fullCloseHealth)}: the close factor, ⌈${RISK.closeFactor / PERCENT} % of ${fmtUsdd(l.debt)}⌉`;
    const rule = ['whole debt', 'close factor'].includes(l.rule) ? due : `${due}; ${l.rule}`;
    const expectedSeized = l.seized < l.collateral ? `⌊${fmtUsdd(l.repaid)}·1.05/${formatFixed(l.price)}⌋` : 'all of it';
    say(`  block #${l.block}: ${nameOf(l.who)} at EQ ${formatFixed(l.price)}, owing ${fmtUsdd(l.debt)} USDD against ${fmtEq(l.collateral)} EQ — ${rule}: repaid ${fmtUsdd(l.repaid)} USDD, seized ${fmtEq(l.seized)} EQ (${expectedSeized})${l.badDebt ? `, bad debt ${fmtUsdd(l.badDebt)} (reserves ${fmtUsdd(l.fromReserves)})` : ''}`);
  }
}

/** The balances at the end: USDD summed and explained, EQ in the pallet's account, the deposits. */
async function accounting(start, holders, last) {
  const { alice, bob, charlie, ferdie } = accounts;
  const end = await usddBalances(last.hash, holders);
  say('\nUSDD by account (units of 10⁻⁶):');
  say(`${'account'.padEnd(8)}  ${'at genesis'.padStart(20)}  ${'at the end'.padStart(20)}  ${'change'.padStart(18)}  ${'by the events'.padStart(18)}`);
  let sumStart = 0n;
  let sumEnd = 0n;
  const explained = new Map();
  for (const who of holders) {
    const expected = (run.events.borrowed.get(who) ?? 0n) - (run.events.supplied.get(who) ?? 0n) - (run.events.paid.get(who) ?? 0n);
    explained.set(who, who === palletHex ? last.market.state.cash : expected);
  }
  const mismatched = [];
  for (const who of holders) {
    const a = start.balances.get(who);
    const b = end.balances.get(who);
    sumStart += a;
    sumEnd += b;
    const change = b - a;
    const want = who === palletHex ? explained.get(who) - a : explained.get(who);
    if (change !== want) mismatched.push(`${nameOf(who)}: changed by ${change}, the events say ${want}`);
    say(`${nameOf(who).padEnd(8)}  ${fmtUsdd(a).padStart(20)}  ${fmtUsdd(b).padStart(20)}  ${signed(change, fmtUsdd).padStart(18)}  ${(who === palletHex ? `cash ${fmtUsdd(explained.get(who))}` : signed(want, fmtUsdd)).padStart(18)}`);
  }
  check(sumEnd === sumStart && end.supply === start.supply, `USDD summed over Alice … Ferdie and the pallet's account is unchanged, to the unit: ${fmtUsdd(sumStart)} → ${fmtUsdd(sumEnd)}; the asset's supply too (${fmtUsdd(end.supply)})`);
  check(mismatched.length === 0, 'each account\'s USDD moved exactly what its events say (Supplied, Borrowed, CollateralBought), and the pallet\'s account holds exactly the market\'s cash', mismatched.join('; '));
  check(run.ledgerMismatches.length === 0, `after every block (${run.blocks}) the pallet's USDD equalled cash and its free EQ equalled total_collateral + absorbed_collateral, to the planck`, run.ledgerMismatches.slice(0, 3).join('; '));

  // EQ.
  const s = last.market.state;
  const deposited = [...run.events.deposited.values()].reduce((a, b) => a + b, 0n);
  const sold = [...run.events.bought.values()].reduce((a, b) => a + b, 0n);
  check(last.pallet.free === s.totalCollateral + s.absorbedCollateral && last.pallet.free === deposited - sold && last.pallet.reserved === 0n,
    `the pallet's account holds ${fmtEq(last.pallet.free)} EQ free = total_collateral ${fmtEq(s.totalCollateral)} + absorbed ${fmtEq(s.absorbedCollateral)} = pledged ${fmtEq(deposited)} − sold ${fmtEq(sold)}; nothing reserved, no existential-deposit difference (the account was created by Bob's pledge of ${fmtEq(BOB_COLLATERAL)} EQ)`);
  const seizedFromBob = run.liquidations.filter((l) => l.who === bob.hex).reduce((a, l) => a + l.seized, 0n);
  const bobPosition = last.positions.get(bob.hex) ?? emptyPosition();
  check(bobPosition.collateral === BOB_COLLATERAL - seizedFromBob,
    `Bob's position keeps ${fmtEq(bobPosition.collateral)} EQ = ${fmtEq(BOB_COLLATERAL)} − ${fmtEq(seizedFromBob)} seized (the Liquidated events), and owes ${fmtUsdd(standing(last, bob.hex).debt)} USDD`);
  const ferdiePosition = last.positions.get(ferdie.hex) ?? emptyPosition();
  const pokes = (run.events.deposited.get(ferdie.hex) ?? 0n) - FERDIE_COLLATERAL;
  check(ferdiePosition.collateral === FERDIE_COLLATERAL + pokes && pokes === POKE * BigInt(RATE_BLOCKS), `Ferdie's position keeps his ${fmtEq(FERDIE_COLLATERAL)} EQ and the ${pokes} planck of his pokes`);
  const total = [...last.positions.values()].reduce((a, p) => a + p.collateral, 0n);
  check(total === s.totalCollateral, `the positions' collateral adds up to total_collateral (${fmtEq(total)} EQ)`);

  // Deposits.
  const holds = [];
  for (const who of [alice.hex, bob.hex, charlie.hex, ferdie.hex]) {
    const held = await heldForPositions(last.hash, who);
    const has = last.positions.has(who);
    holds.push({ who, held, has, ok: held === (has ? consts.positionDeposit : 0n) });
  }
  check(holds.every((h) => h.ok), `the position deposit of ${fmtEq(consts.positionDeposit)} EQ is held (balances.holds, LiquidityMarket.PositionDeposit) from each account with a position and from no other: ${holds.map((h) => `${nameOf(h.who)} ${fmtEq(h.held)}${h.has ? ' (position)' : ''}`).join(', ')}`);

  say('\nAlice\'s claim (her supply shares at the exchange rate, to_assets rounded down):');
  for (const [label, claim] of run.claims) say(`  ${label.padEnd(34)} ${fmtUsdd(claim).padStart(14)} USDD`);
}

/** The checks that span the run, and the mismatches in full. */
function conclude() {
  check(run.modelMismatches.length === 0, `after every block (${run.blocks}) the market's state and the positions of Alice, Bob, Charlie and Ferdie equal the replica's, to the unit`, run.modelMismatches.slice(0, 3).join('\n  '));
  check(run.eventMismatches.length === 0, `every block's liquidityMarket events (and their phases) equal the replica's`, run.eventMismatches.length ? `\n  ${run.eventMismatches.slice(0, 3).join('\n  ')}` : '');
  if (run.hookAccrualEvents > 0) {
    notes.push(`the hook deposited ${run.hookAccrualEvents} InterestAccrued event${run.hookAccrualEvents === 1 ? '' : 's'} whose accrual it did not store (blocks #${run.hookAccrualBlocks.join(', #')}): write_down_absorbed starts with accrued(market), which deposits the event, and returns Ok without storing the market when there is nothing to write down, so with_storage_layer keeps the event; the next stored accrual deposits a second event for the same blocks — summing InterestAccrued overcounts interest (the replica does the same, so this is not a failed check)`);
  }
}

let exitCode = 1;
try {
  await main();
  conclude();
  exitCode = checks.every((c) => c.ok) ? 0 : 1;
} catch (error) {
  if (guard.interrupted) await new Promise(() => {}); // the guard reports, stops the node and exits
  if (!(error instanceof Fatal)) check(false, 'the run went to the end', error.stack ?? String(error));
  else say(`stopped: ${error.message}`);
  if (run.modelMismatches.length || run.eventMismatches.length) {
    say(`mismatches so far:\n  ${[...run.modelMismatches, ...run.eventMismatches].slice(0, 5).join('\n  ')}`);
  }
  if (node) say(`node log (last lines):\n${node.tail(15)}`);
  exitCode = 1;
} finally {
  await guard.shutdown();
}
if (node && exitCode === 0) node.removeLog();
else if (node) say(`the node's log is kept at ${node.logFile}`);

const failed = checks.filter((c) => !c.ok);
const above = run.rateRows.filter((r) => r.kind === 'above');
const bobLiquidations = run.liquidations.filter((l) => accounts && l.who === accounts.bob.hex);
const saleRecord = run.sales[0];
say(`\nsummary (${run.blocks} blocks, ${seconds()} s):`);
if (above.length) {
  say(`  rate at target, ${above.length} blocks above target (U ≈ ${fmtPct(above.at(-1).utilization, 2)}): ${fmtRate(above[0].before)} → ${fmtRate(above.at(-1).after)} a block; borrow rate ${fmtRate(above[0].eventRate ?? 0n)} → ${fmtRate(above.at(-1).eventRate ?? 0n)} (≈ ${fmtApr(above.at(-1).eventRate ?? 0n)} a year at 6 s blocks)`);
}
if (bobLiquidations.length) {
  const repaid = bobLiquidations.reduce((a, l) => a + l.repaid, 0n);
  const seized = bobLiquidations.reduce((a, l) => a + l.seized, 0n);
  const bad = bobLiquidations.reduce((a, l) => a + l.badDebt, 0n);
  say(`  the chain liquidated Bob ${bobLiquidations.length} time${bobLiquidations.length === 1 ? '' : 's'} (blocks #${bobLiquidations.map((l) => l.block).join(', #')}, at EQ ${bobLiquidations.map((l) => formatFixed(l.price)).join(', ')}): ${fmtUsdd(repaid)} USDD of debt taken over for ${fmtEq(seized)} EQ${bad ? `, ${fmtUsdd(bad)} USDD bad debt` : ', no bad debt at liquidation'}`);
}
if (run.writeDowns.length) {
  const lost = run.writeDowns.reduce((a, w) => a + w.lost, 0n);
  const fromReserves = run.writeDowns.reduce((a, w) => a + w.fromReserves, 0n);
  say(`  absorbed debt written down by the hook ${run.writeDowns.length} times: ${fmtUsdd(lost)} USDD (reserves ${fmtUsdd(fromReserves)}, lenders ${fmtUsdd(lost - fromReserves)})`);
}
if (saleRecord) {
  say(`  Charlie bought the ${fmtEq(saleRecord.amount)} EQ for ${fmtUsdd(saleRecord.paid)} USDD at EQ ${formatFixed(saleRecord.price)}, settling ${fmtUsdd(saleRecord.share)} USDD of absorbed debt${saleRecord.lost ? `, ${fmtUsdd(saleRecord.lost)} written off at the sale` : ''}`);
}
if (run.claims.length >= 2) say(`  Alice's claim: ${run.claims.map(([label, claim]) => `${fmtUsdd(claim, 2)} (${label})`).join(' → ')}`);
for (const note of notes) say(`  NOTE: ${note}`);
say(`  ${checks.length - failed.length} of ${checks.length} checks passed${failed.length ? `; FAILED: ${failed.map((c) => c.what).join(' | ')}` : ''}`);
process.exit(exitCode);
