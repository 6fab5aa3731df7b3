// An exact BigInt replica of the chain's market math (primitives/contract-equilibrium and the
// pallet's settlement), so that a client can predict every price step, μ*, allocation and
// payment to the last unit and compare them with what the chain reports.
//
// Values are FixedU128 inner integers (× 10^18) unless named `...Planck`. Curves are
// { kind: 'LogUtility', alpha, beta }, { kind: 'Quantity', x } or { kind: 'Linear', quantity,
// price, slope } (a line through reported points, see `afterReport`). What the chain counts is an
// order (order.rs `Order`): { kind: 'Order', curve, budget, fixedFee }, a curve backed by what is
// left of its budget (tokens, fixed point) in a market with fixed fee g. As the Rust functions
// are generic over the `Demand` trait, the functions below that take `demands` accept curves and
// orders alike (`demandAt`, `slopesAt`, `exitPrice`, `steepestSlopeFrom` dispatch on `kind`),
// and so does a book's demand on its price grid, { kind: 'Gridded', grid, totals } (book.rs
// `GriddedDemand`, see book.mjs `griddedDemand`).
// Rounding and saturation follow the Rust code function by function (see the comments naming
// each).

import { FIXED_ONE, fixedDiv, max, min, mulDiv } from './fixed.mjs';
// book.mjs imports this module too. The cycle is safe: neither module calls the other at load
// time, and book.mjs's gridded functions are function declarations (bound before either runs).
import { griddedDemandAt, griddedExitPrice, griddedSlopesAt, griddedSteepestSlope, griddedSteepestSlopeBetween } from './book.mjs';

/** `FixedU128::max_value()`'s inner value, u128::MAX = 2^128 − 1. */
export const MAX_FIXED = (1n << 128n) - 1n;
/** A u128 result saturated at MAX (`saturating_add`/`saturating_mul` of FixedU128 or u128). */
export const sat = (value) => (value > MAX_FIXED ? MAX_FIXED : value);
/** `saturating_sub`: a − b, zero if negative. */
export const satSub = (a, b) => (a > b ? a - b : 0n);

/** fixed.rs `mul_div`: a·b/c on inner values, rounded as asked; MAX on overflow or when c = 0. */
export const satMulDiv = (a, b, c, rounding = 'down') => (c === 0n ? MAX_FIXED : sat(mulDiv(a, b, c, rounding)));
/** fixed.rs `mul`: a·b, rounded as asked; saturates. */
export const satMul = (a, b, rounding = 'down') => satMulDiv(a, b, FIXED_ONE, rounding);
/** fixed.rs `div`: a/b, rounded as asked; saturates (also when b = 0). */
export const satDiv = (a, b, rounding = 'down') => satMulDiv(a, FIXED_ONE, b, rounding);

// ---------------------------------------------------------------------------------------------
// Demand curves (curve.rs `DemandCurve`) and orders (order.rs `Order`).

/** curve.rs `MAX_QUANTITY`: 10⁹ units, the most a report or a line may demand. */
export const MAX_QUANTITY = 1_000_000_000n * FIXED_ONE;
/** curve.rs `MAX_SLOPE`: 10¹² units per token, the steepest a line may be. */
export const MAX_SLOPE = 1_000_000_000_000n * FIXED_ONE;
/** curve.rs `MIN_CHORD_FALL`: 10⁻¹² units, the smallest fall in demand a slope is measured from. */
export const MIN_CHORD_FALL = 1_000_000n;

/**
 * curve.rs `demand_at`: max(0, ⌊α/(β+τ+μ)⌋ − 1), the reported x, or a line's
 * quantity + slope·(price − μ): above its price `quantity − ⌈slope·(μ − price)⌉` (zero if
 * negative), at or below it `quantity + ⌊slope·(price − μ)⌋` (at most 10⁹).
 */
export function curveDemandAt(curve, unitFee, price) {
  if (curve.kind === 'Quantity') return curve.x;
  if (curve.kind === 'Linear') {
    if (price <= curve.price) return min(sat(curve.quantity + satMul(curve.slope, curve.price - price, 'down')), MAX_QUANTITY);
    return satSub(curve.quantity, satMul(curve.slope, price - curve.price, 'up'));
  }
  const marginalCost = sat(sat(curve.beta + unitFee) + price);
  return satSub(satDiv(curve.alpha, marginalCost, 'down'), FIXED_ONE);
}

/** curve.rs `slopes_at`: (|x'| just below μ, |x'| just above μ) of one curve. */
export function curveSlopesAt(curve, unitFee, price) {
  if (curve.kind === 'Quantity') return [0n, 0n];
  if (curve.kind === 'Linear') {
    // Sloped where the line is strictly between zero and the cap on each side.
    const level = curveDemandAt(curve, unitFee, price);
    const left = level < MAX_QUANTITY ? curve.slope : 0n;
    const right = level === 0n ? 0n : curve.slope;
    const exit = curveExitPrice(curve, unitFee) ?? 0n;
    return price > exit ? [0n, 0n] : [left, right];
  }
  const marginalCost = sat(sat(curve.beta + unitFee) + price);
  if (curve.alpha < marginalCost) return [0n, 0n];
  const slope = satMulDiv(satDiv(curve.alpha, marginalCost, 'down'), FIXED_ONE, marginalCost, 'down');
  return curve.alpha === marginalCost ? [slope, 0n] : [slope, slope];
}

/**
 * curve.rs `exit_price`: α − β − τ (zero if negative); a line's limit price
 * price + ⌈quantity/slope⌉ (its price when it demands nothing there); null for a reported quantity.
 */
export function curveExitPrice(curve, unitFee) {
  if (curve.kind === 'Quantity') return null;
  if (curve.kind === 'Linear') {
    return curve.quantity === 0n ? curve.price : sat(curve.price + satDiv(curve.quantity, curve.slope, 'up'));
  }
  return satSub(satSub(curve.alpha, curve.beta), unitFee);
}

/**
 * curve.rs `steepest_slope_from`: a bound on |x'| at or above `floor` — a log-utility agent's
 * slope at the floor, a line's slope while it demands something above the floor, zero for a
 * reported quantity.
 */
export function curveSteepestSlopeFrom(curve, unitFee, floor) {
  if (curve.kind === 'Quantity') return 0n;
  if (curve.kind === 'Linear') {
    const exit = curveExitPrice(curve, unitFee);
    return exit !== null && exit > floor ? curve.slope : 0n;
  }
  return curveSlopesAt(curve, unitFee, floor)[0];
}

/**
 * curve.rs `DemandCurve::after_report`: the curve an order has after its agent reports demanding
 * `quantity` units at `price`, given its `previous` curve and the probe width (book.mjs
 * `widthAbove(grid, price)`: how far the next grid price lies above `price`). A line through
 * (price, quantity) whose slope is
 * - the previous line's, when the report answers the same price, or a higher one at which demand
 *   fell by less than 10⁻¹² (MIN_CHORD_FALL), unless that slope is zero;
 * - the chord's, ⌈(q₀ − quantity)/(price − p₀)⌉, when the previous curve is a line through
 *   (p₀, q₀) with p₀ < price;
 * - otherwise (a first report, a price that fell, a demand that rose, no slope) the probe slope
 *   ⌊quantity/probeWidth⌋ (10¹² when the width is zero);
 * at most 10¹² (MAX_SLOPE), and 10¹² rather than zero for a positive quantity.
 */
export function afterReport(previous, quantity, price, probeWidth) {
  let chord = null;
  if (previous.kind === 'Linear') {
    const fall = satSub(previous.quantity, quantity);
    if (price < previous.price || quantity > previous.quantity || previous.slope === 0n) chord = null;
    else if (price === previous.price || fall < MIN_CHORD_FALL) chord = previous.slope;
    else chord = satDiv(fall, price - previous.price, 'up');
  }
  const probe = () => (probeWidth === 0n ? MAX_SLOPE : satDiv(quantity, probeWidth, 'down'));
  let slope = min(chord ?? probe(), MAX_SLOPE);
  if (quantity !== 0n && slope === 0n) slope = MAX_SLOPE;
  return { kind: 'Linear', quantity, price, slope };
}

/** order.rs `Order` { curve, budget (tokens), fixed_fee }. */
export const order = (curve, budget, fixedFee) => ({ kind: 'Order', curve, budget, fixedFee });

/** order.rs `Order::spendable`: B − g, what the budget leaves for units (zero when B ≤ g). */
const spendable = (o) => satSub(o.budget, o.fixedFee);

/** order.rs `Order::budget_cap`: ⌊(B − g)/(μ + τ)⌋ (MAX when μ + τ = 0). */
export const budgetCap = (o, unitFee, price) => satDiv(spendable(o), sat(price + unitFee), 'down');

/** order.rs `Order::capped_at`: whether the budget cap, not the curve, limits the demand at μ. */
const cappedAt = (o, unitFee, price) => budgetCap(o, unitFee, price) < curveDemandAt(o.curve, unitFee, price);

/** order.rs `Demand for Order::demand_at`: 0 if B ≤ g, else min(x(μ), ⌊(B − g)/(μ + τ)⌋). */
export function orderDemandAt(o, unitFee, price) {
  if (spendable(o) === 0n) return 0n;
  return min(curveDemandAt(o.curve, unitFee, price), budgetCap(o, unitFee, price));
}

/**
 * order.rs `Demand for Order::slopes_at`: zero where the budget backs nothing (B ≤ g); where the cap
 * binds, its slope k/c² both sides (k = B − g, c = μ + τ: ⌊⌊k/c⌋/c⌋); else the curve's slopes.
 */
export function orderSlopesAt(o, unitFee, price) {
  if (spendable(o) === 0n) return [0n, 0n];
  if (cappedAt(o, unitFee, price)) {
    const cost = sat(price + unitFee);
    const slope = satMulDiv(satDiv(spendable(o), cost, 'down'), FIXED_ONE, cost, 'down');
    return [slope, slope];
  }
  return curveSlopesAt(o.curve, unitFee, price);
}

/** order.rs `Demand for Order::exit_price`: 0 when B ≤ g, else the curve's exit price. */
export function orderExitPrice(o, unitFee) {
  if (spendable(o) === 0n) return 0n;
  return curveExitPrice(o.curve, unitFee);
}

/**
 * order.rs `Demand for Order::steepest_slope_from`: with c = floor + τ, k = B − g, w = x(floor),
 *   max( min(⌈k/⌊c²⌋⌉, ⌈w²/k⌉),  min(α/(β+c)² [curve.rs, rounded down], ⌈(⌈k/c⌉ + 1)²/α⌉) )
 * (the second term zero for a reported quantity, the curve's `steepest_slope_from` for a line);
 * zero when B ≤ g. Every ⌈·⌉/⌊·⌋ is on the
 * FixedU128 inner values, as fixed.rs `mul_div` rounds them; each saturates at MAX.
 */
export function orderSteepestSlopeFrom(o, unitFee, floor) {
  const k = spendable(o);
  if (k === 0n) return 0n;
  const cost = sat(floor + unitFee);
  const wanted = curveDemandAt(o.curve, unitFee, floor);
  const capPiece = min(
    satMulDiv(k, FIXED_ONE, satMul(cost, cost, 'down'), 'up'),
    satMulDiv(wanted, wanted, k, 'up'),
  );
  let curvePiece = 0n;
  if (o.curve.kind === 'LogUtility') {
    const perUnit = sat(satDiv(k, cost, 'up') + FIXED_ONE);
    curvePiece = min(curveSlopesAt(o.curve, unitFee, floor)[0], satMulDiv(perUnit, perUnit, o.curve.alpha, 'up'));
  } else if (o.curve.kind === 'Linear') {
    curvePiece = curveSteepestSlopeFrom(o.curve, unitFee, floor);
  }
  return max(capPiece, curvePiece);
}

// The `Demand` trait: a curve (demand as declared), an order (demand backed by a budget), or a
// book's gridded demand (book.rs `GriddedDemand`: { kind: 'Gridded', grid, totals }).

/** order.rs `Demand::demand_at`. */
export const demandAt = (demand, unitFee, price) => (demand.kind === 'Order'
  ? orderDemandAt(demand, unitFee, price)
  : demand.kind === 'Gridded' ? griddedDemandAt(demand, unitFee, price) : curveDemandAt(demand, unitFee, price));
/** order.rs `Demand::slopes_at`: (|d'| just below μ, |d'| just above μ). */
export const slopesAt = (demand, unitFee, price) => (demand.kind === 'Order'
  ? orderSlopesAt(demand, unitFee, price)
  : demand.kind === 'Gridded' ? griddedSlopesAt(demand, unitFee, price) : curveSlopesAt(demand, unitFee, price));
/** order.rs `Demand::exit_price` (null: no bound). */
export const exitPrice = (demand, unitFee) => (demand.kind === 'Order'
  ? orderExitPrice(demand, unitFee)
  : demand.kind === 'Gridded' ? griddedExitPrice(demand, unitFee) : curveExitPrice(demand, unitFee));
/**
 * order.rs `Demand::steepest_slope_from`: a bound on |d'| above `floor` (for a curve, curve.rs
 * `steepest_slope_from`, `impl Demand for DemandCurve`; for a gridded book, its steepest cell).
 */
export const steepestSlopeFrom = (demand, unitFee, floor) => (demand.kind === 'Order'
  ? orderSteepestSlopeFrom(demand, unitFee, floor)
  : demand.kind === 'Gridded' ? griddedSteepestSlope(demand, unitFee, floor) : curveSteepestSlopeFrom(demand, unitFee, floor));

/**
 * order.rs `Demand::steepest_slope_between`: a bound on |d'| over [low, high] — the bound from the
 * floor for curves and orders (the trait's default), the steepest cell meeting [low, high] for a
 * gridded book.
 */
export const steepestSlopeBetween = (demand, unitFee, floor, low, high) => (demand.kind === 'Gridded'
  ? griddedSteepestSlopeBetween(demand, unitFee, floor, low, high)
  : steepestSlopeFrom(demand, unitFee, floor));

// ---------------------------------------------------------------------------------------------
// The market: S(μ), L, the price step, μ*.

/** equilibrium.rs `aggregate_demand`: S(μ). */
export const aggregateDemand = (demands, unitFee, price) =>
  demands.reduce((sum, demand) => sat(sum + demandAt(demand, unitFee, price)), 0n);

/** equilibrium.rs `lipschitz_bound`: L = Σ steepest_slope_from(τ, floor). */
export const lipschitzBound = (demands, unitFee, floor) =>
  demands.reduce((sum, demand) => sat(sum + steepestSlopeFrom(demand, unitFee, floor)), 0n);

/** equilibrium.rs `lipschitz_bound_between`: Σ steepest_slope_between(τ, floor, low, high). */
export const lipschitzBoundBetween = (demands, unitFee, floor, low, high) =>
  demands.reduce((sum, demand) => sat(sum + steepestSlopeBetween(demand, unitFee, floor, low, high)), 0n);

/** market.rs `clamp_price`. */
export const clampPrice = (params, price) => min(max(price, params.priceFloor), params.priceCeiling);

/** step.rs `effective_step_size`: min(eta, 1/L) (eta when L = 0). */
export function effectiveStepSize(demands, params, eta) {
  const bound = lipschitzBound(demands, params.unitFee, params.priceFloor);
  if (bound === 0n) return eta;
  return min(eta, satDiv(FIXED_ONE, bound, 'down'));
}

/**
 * step.rs `next_price` for the DualAscent rule (the scenario's rule): returns
 * { price, aggregateDemand, excessDemand (signed), converged, stepSize }.
 */
export function nextPriceDualAscent(demands, params, startPrice) {
  if (params.stepRule.kind !== 'DualAscent') {
    throw new Error('the replica implements the DualAscent rule only');
  }
  const price = clampPrice(params, startPrice);
  const demand = aggregateDemand(demands, params.unitFee, price);
  const capacity = params.capacity;
  const eta = params.stepRule.eta;
  // step.rs `dual_ascent_target`: η_eff = min(η, 1/L) with L bounding |S'| between the price and
  // where η alone would take it (clamped).
  const stepWith = (size) => (demand >= capacity
    ? sat(price + satMul(size, demand - capacity, 'down'))
    : satSub(price, satMul(size, capacity - demand, 'down')));
  const reach = clampPrice(params, stepWith(eta));
  const bound = lipschitzBoundBetween(demands, params.unitFee, params.priceFloor, min(price, reach), max(price, reach));
  const stepSize = bound === 0n ? eta : min(eta, satDiv(FIXED_ONE, bound, 'down'));
  const target = stepWith(stepSize);
  const next = clampPrice(params, target);
  const excess = demand > capacity ? demand - capacity : capacity - demand;
  const pushedAgainstBound = (next === params.priceFloor && demand < capacity)
    || (next === params.priceCeiling && demand > capacity);
  const moved = next > price ? next - price : price - next;
  const converged = moved <= params.tolerance && (excess <= params.tolerance || pushedAgainstBound);
  return { price: next, aggregateDemand: demand, excessDemand: demand - capacity, converged, stepSize };
}

/** equilibrium.rs `clearing_price`: the exact μ* by bisection to one unit of 10^-18. */
export function clearingPrice(demands, params) {
  const clears = (price) => aggregateDemand(demands, params.unitFee, price) <= params.capacity;
  if (clears(params.priceFloor)) return params.priceFloor;
  if (!clears(params.priceCeiling)) return params.priceCeiling;
  let low = params.priceFloor;
  let high = params.priceCeiling;
  for (let i = 0; i < 128; i += 1) {
    const halfWidth = (high - low) / 2n;
    if (halfWidth === 0n) break;
    const middle = low + halfWidth;
    if (clears(middle)) high = middle;
    else low = middle;
  }
  return high;
}

// ---------------------------------------------------------------------------------------------
// Settlement.

/** fixed.rs `LN_2`: ln 2 to 18 decimals. */
const LN_2 = 693_147_180_559_945_309n;

/**
 * fixed.rs `ln_1p`: ln(1 + x) for x ≥ 0, as the chain computes it: 1 + x = 2^k·z, z ∈ [1, 2),
 * then k·ln 2 + 2·(t + t³/3 + t⁵/5 + …) with t = (z − 1)/(z + 1), every division and product
 * rounded to nearest (ties down), the series summed until its term rounds to zero.
 */
export function ln1p(x) {
  const two = 2n * FIXED_ONE;
  let z = sat(FIXED_ONE + x);
  let halvings = 0n;
  while (z >= two) {
    z = satDiv(z, two, 'nearestPrefDown');
    halvings += 1n;
  }
  const t = satDiv(satSub(z, FIXED_ONE), sat(z + FIXED_ONE), 'nearestPrefDown');
  const tSquared = satMul(t, t, 'nearestPrefDown');
  let power = t;
  let series = 0n;
  let denominator = 1n;
  while (power !== 0n) {
    series = sat(series + satDiv(power, denominator * FIXED_ONE, 'nearestPrefDown'));
    power = satMul(power, tSquared, 'nearestPrefDown');
    denominator += 2n;
  }
  // `saturating_mul` by whole numbers: exact products, saturated.
  return sat(sat(LN_2 * halvings) + sat(series * 2n));
}

/**
 * settlement.rs `total_surplus`: Σ α·ln(1 + x) − β·x over log-utility agents, each term's value
 * rounded down and its cost up (a negative term counts zero); reported quantities and lines count
 * zero.
 * `allocations`: [[curve, x], …].
 */
export const totalSurplus = (allocations) => allocations.reduce((sum, [curve, allocation]) => {
  if (curve.kind !== 'LogUtility') return sum;
  const value = satMul(curve.alpha, ln1p(allocation), 'down');
  return sat(sum + satSub(value, satMul(curve.beta, allocation, 'up')));
}, 0n);

/** settlement.rs `payment_for`: (μ + τ)·x rounded up, plus g; zero when x = 0. */
export function paymentFor(allocation, unitFee, fixedFee, price) {
  if (allocation === 0n) return 0n;
  return sat(satMul(sat(price + unitFee), allocation, 'up') + fixedFee);
}

/**
 * settlement.rs `covers_fixed_fee`: the paper's participation decision, α·ln(1 + x) − β·x (value
 * down, cost up: `total_surplus`) ≥ `payment_for(x)` = (μ + τ)·x + g. False for x = 0; true for a
 * reported quantity or a line with x > 0.
 */
export function coversFixedFee(curve, allocation, unitFee, fixedFee, price) {
  if (allocation === 0n) return false;
  if (curve.kind !== 'LogUtility') return true;
  return totalSurplus([[curve, allocation]]) >= paymentFor(allocation, unitFee, fixedFee, price);
}

/**
 * The pallet's `to_balance`: whole tokens (fixed point) → planck, rounded down
 * (`saturating_mul_int`: saturates at u128::MAX).
 */
export const toBalance = (tokens, balanceUnit) => sat(mulDiv(tokens, balanceUnit, FIXED_ONE, 'down'));

/** impls.rs `to_balance_up`: tokens to planck, rounded up (what a payment costs). */
export const toBalanceUp = (tokens, balanceUnit) => sat(mulDiv(tokens, balanceUnit, FIXED_ONE, 'up'));
/**
 * The pallet's `to_tokens`: planck → whole tokens (fixed point), rounded down
 * (`checked_from_rational`, zero when it overflows). For BalanceUnit 10^12 it is exact:
 * planck · 10^6.
 */
export function toTokens(planck, balanceUnit) {
  const tokens = mulDiv(planck, FIXED_ONE, balanceUnit, 'down');
  return tokens > MAX_FIXED ? 0n : tokens;
}

/**
 * The pallet's `order`: a bid { curve, budget (planck) } as the chain counts it, its curve backed
 * by what is left of its budget, `to_tokens(bid.budget)`, with the market's fixed fee.
 */
export const orderOfBid = (bid, params, balanceUnit) => order(bid.curve, toTokens(bid.budget, balanceUnit), params.fixedFee);
/** The pallet's `orders`: every bid's order, in the bids' order (zero budgets included). */
export const ordersOfBids = (bids, params, balanceUnit) => bids.map((bid) => orderOfBid(bid, params, balanceUnit));

/** settlement.rs `ration`: pro-rata shares rounded down when Σx > m. */
export function ration(allocations, capacity) {
  const total = allocations.reduce((sum, x) => sat(sum + x), 0n);
  if (total <= capacity) return allocations.slice();
  return allocations.map((x) => mulDiv(x, capacity, total, 'down'));
}

/**
 * settlement.rs `allocate`: each order's backed demand at `price`, rationed pro rata to the
 * capacity.
 */
export function allocate(orders, params, price) {
  return ration(orders.map((o) => demandAt(o, params.unitFee, price)), params.capacity);
}

/**
 * The per-order settlement of storage version 1 (the pallet before the order book on a grid),
 * which no script uses any more: the pallet now settles an epoch with book.mjs `clear` and each
 * bid with book.mjs `settleOrder`.
 * The pallet's `settle` (steps 1–2) for one market: given its bids in storage order
 * [{ who, curve, budget }], its params and posted price, returns per bid
 * { who, allocation, payment, toPayee, toFees } as the chain computes them (assuming both
 * recipients can receive, which holds for existing accounts, and that both transfers succeed,
 * which `Fortitude::Force` makes so whatever locks the bidder has placed).
 */
export function settle(bids, params, price, balanceUnit) {
  // 1. Backed demand at the posted price, rationed pro rata to capacity.
  const allocations = allocate(ordersOfBids(bids, params, balanceUnit), params, price);
  return bids.map((bid, index) => {
    let allocation = allocations[index];
    // 2. affordable_allocation (a guard: backed demand fits in the budget)
    if (allocation !== 0n
      && toBalanceUp(paymentFor(allocation, params.unitFee, params.fixedFee, price), balanceUnit) > bid.budget) {
      const affordable = toTokens(bid.budget, balanceUnit);
      if (affordable <= params.fixedFee) allocation = 0n;
      else allocation = min(allocation, satDiv(affordable - params.fixedFee, sat(price + params.unitFee), 'down'));
    }
    if (allocation === 0n) return { who: bid.who, allocation, payment: 0n, toPayee: 0n, toFees: 0n };
    // charge
    const payment = min(toBalanceUp(paymentFor(allocation, params.unitFee, params.fixedFee, price), balanceUnit), bid.budget);
    const toPayee = min(toBalance(satMul(price, allocation, 'down'), balanceUnit), payment);
    return { who: bid.who, allocation, payment, toPayee, toFees: payment - toPayee };
  });
}

/** How a settled payment splits between the payee and the fee destination (the pallet's `charge`). */
export function splitPayment(price, allocation, payment, balanceUnit) {
  const toPayee = min(toBalance(satMul(price, allocation, 'down'), balanceUnit), payment);
  return { toPayee, toFees: payment - toPayee };
}
