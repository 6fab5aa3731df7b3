// An exact BigInt replica of the chain's market math (primitives/contract-equilibrium and the
// pallet's settlement), so that a client can predict every price step, μ*, allocation and
// payment to the last unit and compare them with what the chain reports.
//
// Values are FixedU128 inner integers (× 10^18) unless named `...Planck`. Curves are
// { kind: 'LogUtility', alpha, beta } or { kind: 'Quantity', x }. Rounding follows the Rust
// code function by function (see the comments naming each).

import { FIXED_ONE, fixedDiv, fixedMul, max, min, mulDiv } from './fixed.mjs';

const MAX_FIXED = (1n << 128n) - 1n;
const sat = (value) => (value > MAX_FIXED ? MAX_FIXED : value);

/** curve.rs `demand_at`: max(0, ⌊α/(β+τ+μ)⌋ − 1), or the reported x. */
export function demandAt(curve, unitFee, price) {
  if (curve.kind === 'Quantity') return curve.x;
  const marginalCost = curve.beta + unitFee + price;
  const ratio = fixedDiv(curve.alpha, marginalCost, 'down');
  return ratio > FIXED_ONE ? ratio - FIXED_ONE : 0n;
}

/** curve.rs `slopes_at`: (|S'| just below μ, |S'| just above μ) of one curve. */
export function slopesAt(curve, unitFee, price) {
  if (curve.kind === 'Quantity') return [0n, 0n];
  const marginalCost = curve.beta + unitFee + price;
  if (curve.alpha < marginalCost) return [0n, 0n];
  const slope = mulDiv(fixedDiv(curve.alpha, marginalCost, 'down'), FIXED_ONE, marginalCost, 'down');
  return curve.alpha === marginalCost ? [slope, 0n] : [slope, slope];
}

/** equilibrium.rs `aggregate_demand`: S(μ). */
export const aggregateDemand = (curves, unitFee, price) =>
  curves.reduce((sum, curve) => sat(sum + demandAt(curve, unitFee, price)), 0n);

/** equilibrium.rs `lipschitz_bound`: L = Σ slope_below at the floor. */
export const lipschitzBound = (curves, unitFee, floor) =>
  curves.reduce((sum, curve) => sat(sum + slopesAt(curve, unitFee, floor)[0]), 0n);

/** market.rs `clamp_price`. */
export const clampPrice = (params, price) => min(max(price, params.priceFloor), params.priceCeiling);

/** step.rs `effective_step_size`: min(eta, 1/L) (eta when L = 0). */
export function effectiveStepSize(curves, params, eta) {
  const bound = lipschitzBound(curves, params.unitFee, params.priceFloor);
  if (bound === 0n) return eta;
  return min(eta, fixedDiv(FIXED_ONE, bound, 'down'));
}

/**
 * step.rs `next_price` for the DualAscent rule (the scenario's rule): returns
 * { price, aggregateDemand, excessDemand (signed), converged, stepSize }.
 */
export function nextPriceDualAscent(curves, params, startPrice) {
  if (params.stepRule.kind !== 'DualAscent') {
    throw new Error('the replica implements the DualAscent rule only');
  }
  const price = clampPrice(params, startPrice);
  const demand = aggregateDemand(curves, params.unitFee, price);
  const stepSize = effectiveStepSize(curves, params, params.stepRule.eta);
  const capacity = params.capacity;
  const target = demand >= capacity
    ? sat(price + fixedMul(stepSize, demand - capacity, 'down'))
    : max(0n, price - fixedMul(stepSize, capacity - demand, 'down'));
  const next = clampPrice(params, target);
  const excess = demand > capacity ? demand - capacity : capacity - demand;
  const pushedAgainstBound = (next === params.priceFloor && demand < capacity)
    || (next === params.priceCeiling && demand > capacity);
  const moved = next > price ? next - price : price - next;
  const converged = moved <= params.tolerance && (excess <= params.tolerance || pushedAgainstBound);
  return { price: next, aggregateDemand: demand, excessDemand: demand - capacity, converged, stepSize };
}

/** equilibrium.rs `clearing_price`: the exact μ* by bisection to one unit of 10^-18. */
export function clearingPrice(curves, params) {
  const clears = (price) => aggregateDemand(curves, params.unitFee, price) <= params.capacity;
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

/** settlement.rs `payment_for`: (μ + τ)·x rounded up, plus g; zero when x = 0. */
export function paymentFor(allocation, unitFee, fixedFee, price) {
  if (allocation === 0n) return 0n;
  return fixedMul(price + unitFee, allocation, 'up') + fixedFee;
}

/** The pallet's `to_balance`: whole tokens (fixed point) → planck, rounded down. */
export const toBalance = (tokens, balanceUnit) => mulDiv(tokens, balanceUnit, FIXED_ONE, 'down');
/** The pallet's `to_tokens`: planck → whole tokens (fixed point), rounded down. */
export const toTokens = (planck, balanceUnit) => mulDiv(planck, FIXED_ONE, balanceUnit, 'down');

/** settlement.rs `ration`: pro-rata shares rounded down when Σx > m. */
export function ration(allocations, capacity) {
  const total = allocations.reduce((sum, x) => sum + x, 0n);
  if (total <= capacity) return allocations.slice();
  return allocations.map((x) => mulDiv(x, capacity, total, 'down'));
}

/**
 * The pallet's `settle` (steps 1–2) for one market: given its bids in storage order
 * [{ who, curve, budget }], its params and posted price, returns per bid
 * { who, allocation, payment, toPayee, toFees } as the chain computes them (assuming both
 * recipients can receive, which holds for existing accounts).
 */
export function settle(bids, params, price, balanceUnit) {
  const demands = bids.map((bid) => (bid.budget === 0n ? 0n : demandAt(bid.curve, params.unitFee, price)));
  const rationed = ration(demands, params.capacity);
  return bids.map((bid, index) => {
    let allocation = rationed[index];
    // affordable_allocation
    if (allocation !== 0n
      && toBalance(paymentFor(allocation, params.unitFee, params.fixedFee, price), balanceUnit) > bid.budget) {
      const affordable = toTokens(bid.budget, balanceUnit);
      if (affordable <= params.fixedFee) allocation = 0n;
      else allocation = min(allocation, fixedDiv(affordable - params.fixedFee, price + params.unitFee, 'down'));
    }
    if (allocation === 0n) return { who: bid.who, allocation, payment: 0n, toPayee: 0n, toFees: 0n };
    // charge
    const payment = min(toBalance(paymentFor(allocation, params.unitFee, params.fixedFee, price), balanceUnit), bid.budget);
    const toPayee = min(toBalance(fixedMul(price, allocation, 'down'), balanceUnit), payment);
    return { who: bid.who, allocation, payment, toPayee, toFees: payment - toPayee };
  });
}

/** How a settled payment splits between the payee and the fee destination (the pallet's `charge`). */
export function splitPayment(price, allocation, payment, balanceUnit) {
  const toPayee = min(toBalance(fixedMul(price, allocation, 'down'), balanceUnit), payment);
  return { toPayee, toFees: payment - toPayee };
}
