// An exact BigInt replica of the order book in aggregate (primitives/contract-equilibrium/src/
// book.rs): demand kept on a price grid, the gridded demand the price rules step on, the clearing
// record of an epoch and each bid's O(1) settlement from it.
//
// Values are FixedU128 inner integers (× 10^18), as in mechanism.mjs; grid indices are Numbers
// (Rust `usize`), participant counts Numbers saturating at u32::MAX. Shapes:
// - a grid (`PriceGrid`): { floor, span } from `priceGrid(floor, ceiling)`;
// - a position (`GridPosition`): { lower, position };
// - an entered order (`GridOrder`): { order, unitFee, exit }, `order` a mechanism.mjs `order(...)`;
// - totals (`BookTotals`): { units: BigInt[513], participants: Number[513] };
// - the gridded demand (`GriddedDemand`): { kind: 'Gridded', grid, totals }, which mechanism.mjs's
//   `demandAt`, `slopesAt`, `exitPrice`, `steepestSlopeFrom` (and so `aggregateDemand`,
//   `lipschitzBound`, `nextPriceDualAscent`, `clearingPrice`) accept like any other demand.
// Rounding and saturation follow the Rust code function by function.
//
// mechanism.mjs imports the gridded functions from here: they are function declarations, so the
// import cycle is safe whichever module is loaded first (nothing here runs mechanism.mjs code at
// load time).

import { FIXED_ONE, max, min } from './fixed.mjs';
import { coversFixedFee, curveExitPrice, orderDemandAt, paymentFor, sat, satDiv, satMul, satSub } from './mechanism.mjs';

/** book.rs `GRID_POINTS`: K, the number of grid prices. */
export const GRID_POINTS = 513;
/** book.rs `POINTS_PER_DOUBLING`: grid points per doubling of the price above the floor. */
export const POINTS_PER_DOUBLING = 16;
/** book.rs `LAST`: K − 1. */
export const LAST = GRID_POINTS - 1;
/** u32::MAX, where a participant count saturates. */
export const U32_MAX = 0xffff_ffff;

/** book.rs `FRACTIONS`: 2^(−r/16) for r = 0 … 15, rounded down to 18 decimals. */
export const FRACTIONS = Object.freeze([
  1_000_000_000_000_000_000n,
  957_603_280_698_573_646n,
  917_004_043_204_671_231n,
  878_126_080_186_649_741n,
  840_896_415_253_714_543n,
  805_245_165_974_627_154n,
  771_105_412_703_970_411n,
  738_413_072_969_749_655n,
  707_106_781_186_547_524n,
  677_127_773_468_446_364n,
  648_419_777_325_504_832n,
  620_928_906_036_742_024n,
  594_603_557_501_360_533n,
  569_394_317_378_345_826n,
  545_253_866_332_628_829n,
  522_136_891_213_706_920n,
]);

const satU32 = (count) => (count > U32_MAX ? U32_MAX : count);

// ---------------------------------------------------------------------------------------------
// The grid.

/** book.rs `PriceGrid::new`: the grid between floor and ceiling (a ceiling below the floor is the floor). */
export const priceGrid = (floor, ceiling) => ({ floor, span: satSub(ceiling, floor) });

/** book.rs `PriceGrid::of`: the grid of a market's price bounds (mechanism.mjs params). */
export const priceGridOf = (params) => priceGrid(params.priceFloor, params.priceCeiling);

/** book.rs `PriceGrid::price`: g_j = floor + ⌊span·⌊2^(−(K−1−j)/16)⌋⌋ (g_0 = floor; j > K − 1 is K − 1). */
export function gridPrice(grid, index) {
  if (index === 0) return grid.floor;
  const stepsDown = Math.max(LAST - index, 0);
  const whole = Math.floor(stepsDown / POINTS_PER_DOUBLING);
  const fraction = FRACTIONS[stepsDown % POINTS_PER_DOUBLING] ?? 0n;
  // `checked_shr`: None (→ 0) for a shift of 128 bits or more.
  const shifted = whole < 128 ? fraction >> BigInt(whole) : 0n;
  return sat(grid.floor + satMul(grid.span, shifted, 'down'));
}

/** book.rs `PriceGrid::locate`: { lower: j ∈ [0, K − 2], position: t ∈ [0, 1] rounded down } of μ on the grid. */
export function locate(grid, price) {
  // The largest j in [0, K − 2] with g_j ≤ μ (j = 0 below the floor), then
  // t = min(1, ⌊(min(μ, g_{j+1}) − g_j)/(g_{j+1} − g_j)⌋).
  let low = 0;
  let high = LAST - 1;
  while (low < high) {
    const middle = Math.floor((low + high + 1) / 2);
    if (gridPrice(grid, middle) <= price) low = middle;
    else high = middle - 1;
  }
  const left = gridPrice(grid, low);
  const right = gridPrice(grid, low + 1);
  let position;
  if (right <= left) {
    // A cell of zero width (a span too small to separate the points).
    position = price >= right ? FIXED_ONE : 0n;
  } else {
    position = min(satDiv(satSub(min(price, right), left), right - left, 'down'), FIXED_ONE);
  }
  return { lower: low, position };
}

/**
 * book.rs `PriceGrid::width_above`: how far above `price` the next grid price lies (zero at and
 * above the ceiling), the width over which a first report's line falls to zero
 * (mechanism.mjs `afterReport`).
 */
export function widthAbove(grid, price) {
  return satSub(gridPrice(grid, locate(grid, price).lower + 1), price);
}

/** book.rs `interpolate`: (1 − t)·lower + t·upper, one rounding (of t·|upper − lower|) in the direction asked of the result. */
export function interpolate(lower, upper, position, rounding) {
  // When lower ≥ upper the product is subtracted, so it is rounded the other way.
  const t = min(position, FIXED_ONE);
  if (lower >= upper) {
    const against = rounding === 'up' ? 'down' : rounding === 'down' ? 'up' : rounding;
    return satSub(lower, satMul(t, lower - upper, against));
  }
  return sat(lower + satMul(t, upper - lower, rounding));
}

// ---------------------------------------------------------------------------------------------
// Orders on the grid.

/** book.rs `GridOrder::new`: { order, unitFee, exit }, the exit found by bisection over [0, K]. */
export function gridOrder(o, unitFee, grid) {
  // Takes part at g_j: settlement.rs `covers_fixed_fee(curve, D(g_j), τ, g, g_j)`.
  // A line takes part at g_j only if it ends at or beyond g_{j+1} (it would be interpolated
  // above itself in the cell where it ends).
  const lineEnd = o.curve.kind === 'Linear' ? curveExitPrice(o.curve, unitFee) : null;
  const takesPart = (index) => {
    const price = gridPrice(grid, index);
    const units = orderDemandAt(o, unitFee, price);
    if (lineEnd !== null && index + 1 < GRID_POINTS && lineEnd < gridPrice(grid, index + 1)) return false;
    return coversFixedFee(o.curve, units, unitFee, o.fixedFee, price);
  };
  let low = 0;
  let high = GRID_POINTS;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (takesPart(middle)) low = middle + 1;
    else high = middle;
  }
  return { order: o, unitFee, exit: low };
}

/** book.rs `GridOrder::units_at`: D_j, the order's backed demand at g_j (zero at and above its exit). */
export function unitsAt(entered, grid, index) {
  if (index >= entered.exit) return 0n;
  return orderDemandAt(entered.order, entered.unitFee, gridPrice(grid, index));
}

/** book.rs `GridOrder::payment_at`: P_j = (g_j + τ)·D_j (rounded up) + g, at most the budget; zero where D_j = 0. */
export function paymentAt(entered, grid, index) {
  const units = unitsAt(entered, grid, index);
  if (units === 0n) return 0n;
  return min(paymentFor(units, entered.unitFee, entered.order.fixedFee, gridPrice(grid, index)), entered.order.budget);
}

// ---------------------------------------------------------------------------------------------
// Totals. The mutating functions change `totals` in place (as the Rust `&mut self` methods do)
// and return it.

/** book.rs `BookTotals::default`: no contract at any price. */
export const emptyTotals = () => ({
  units: new Array(GRID_POINTS).fill(0n),
  participants: new Array(GRID_POINTS).fill(0),
});

/** book.rs `BookTotals` `Clone`: an independent copy. */
export const cloneTotals = (totals) => ({ units: totals.units.slice(), participants: totals.participants.slice() });

/** book.rs `BookTotals::is_empty`: whether C_0 = 0. */
export const isEmpty = (totals) => (totals.participants[0] ?? 0) === 0;

/** book.rs `BookTotals::add`: A_j += D_j, C_j += 1 for j below the order's exit (saturating). */
export function addOrder(totals, entered, grid) {
  for (let index = 0; index < Math.min(entered.exit, GRID_POINTS); index += 1) {
    totals.units[index] = sat(totals.units[index] + unitsAt(entered, grid, index));
    totals.participants[index] = satU32(totals.participants[index] + 1);
  }
  return totals;
}

/** book.rs `BookTotals::remove`: A_j −= D_j, C_j −= 1 for j below the order's exit (saturating at zero). */
export function removeOrder(totals, entered, grid) {
  for (let index = 0; index < Math.min(entered.exit, GRID_POINTS); index += 1) {
    totals.units[index] = satSub(totals.units[index], unitsAt(entered, grid, index));
    totals.participants[index] = Math.max(totals.participants[index] - 1, 0);
  }
  return totals;
}

/** book.rs `BookTotals::merge`: adds every contract of `other` (saturating). */
export function merge(totals, other) {
  for (let index = 0; index < GRID_POINTS; index += 1) {
    totals.units[index] = sat(totals.units[index] + other.units[index]);
    totals.participants[index] = satU32(totals.participants[index] + other.participants[index]);
  }
  return totals;
}

/** book.rs `BookTotals::subtract`: removes every contract of `other` (saturating at zero). */
export function subtract(totals, other) {
  for (let index = 0; index < GRID_POINTS; index += 1) {
    totals.units[index] = satSub(totals.units[index], other.units[index]);
    totals.participants[index] = Math.max(totals.participants[index] - other.participants[index], 0);
  }
  return totals;
}

/** book.rs `BookTotals::units_at`: A_j (zero beyond the grid). */
export const totalUnitsAt = (totals, index) => totals.units[index] ?? 0n;

/** book.rs `BookTotals::participants_at`: C_j (zero beyond the grid). */
export const participantsAt = (totals, index) => totals.participants[index] ?? 0;

// ---------------------------------------------------------------------------------------------
// The gridded demand S̃(μ) = (1 − t)·A_j + t·A_{j+1}. The unit fee is ignored, as in Rust: the
// contracts were entered under the market's own.

/** book.rs `GriddedDemand { grid, totals }`: a demand for mechanism.mjs's price rules. */
export const griddedDemand = (grid, totals) => ({ kind: 'Gridded', grid, totals });

/** book.rs `GriddedDemand::cell_slope`: ⌊or⌈(A_j − A_{j+1})/(g_{j+1} − g_j)⌉ (zero on a cell of zero width). */
export function cellSlope(gridded, lower, rounding) {
  const upper = lower + 1;
  const width = satSub(gridPrice(gridded.grid, upper), gridPrice(gridded.grid, lower));
  if (width === 0n) return 0n;
  const fall = satSub(totalUnitsAt(gridded.totals, lower), totalUnitsAt(gridded.totals, upper));
  return satDiv(fall, width, rounding);
}

/** book.rs `Demand for GriddedDemand::demand_at`: S̃(μ), interpolated and rounded down. */
export function griddedDemandAt(gridded, _unitFee, price) {
  const { lower, position } = locate(gridded.grid, price);
  return interpolate(totalUnitsAt(gridded.totals, lower), totalUnitsAt(gridded.totals, lower + 1), position, 'down');
}

/** book.rs `Demand for GriddedDemand::slopes_at`: [|S̃'| below μ, |S̃'| above μ], the cells' slopes rounded down. */
export function griddedSlopesAt(gridded, _unitFee, price) {
  const { lower, position } = locate(gridded.grid, price);
  const inside = cellSlope(gridded, lower, 'down');
  if (position === 0n && lower > 0) return [cellSlope(gridded, lower - 1, 'down'), inside];
  if (position === FIXED_ONE && lower + 2 < GRID_POINTS) return [inside, cellSlope(gridded, lower + 1, 'down')];
  return [inside, inside];
}

/** book.rs `Demand for GriddedDemand::exit_price`: the first g_j with A_j = 0 (null if none). */
export function griddedExitPrice(gridded, _unitFee) {
  for (let index = 0; index < GRID_POINTS; index += 1) {
    if (totalUnitsAt(gridded.totals, index) === 0n) return gridPrice(gridded.grid, index);
  }
  return null;
}

/** book.rs `Demand for GriddedDemand::steepest_slope_from`: the steepest cell's slope, rounded up (the floor is ignored). */
export function griddedSteepestSlope(gridded, _unitFee, _floor) {
  let steepest = 0n;
  for (let lower = 0; lower < LAST; lower += 1) steepest = max(steepest, cellSlope(gridded, lower, 'up'));
  return steepest;
}

/**
 * book.rs `Demand for GriddedDemand::steepest_slope_between`: the steepest of the cells that meet
 * [low, high], rounded up (from the cell holding `low` to the cell holding `high`).
 */
export function griddedSteepestSlopeBetween(gridded, _unitFee, _floor, low, high) {
  const first = locate(gridded.grid, low).lower;
  const last = max(first, locate(gridded.grid, high).lower);
  let steepest = 0n;
  for (let lower = first; lower <= last; lower += 1) steepest = max(steepest, cellSlope(gridded, lower, 'up'));
  return steepest;
}

// ---------------------------------------------------------------------------------------------
// Clearing and settlement.

/** book.rs `clear`: { clearing: { price, lower, lowerWeight, upperWeight }, totals: { demand, allocated, toPayee, fees, participants } }. */
export function clear(grid, totals, unitFee, fixedFee, capacity, price) {
  const { lower, position } = locate(grid, price);
  const upper = lower + 1;
  const unitsLower = totalUnitsAt(totals, lower);
  const unitsUpper = totalUnitsAt(totals, upper);
  const demand = interpolate(unitsLower, unitsUpper, position, 'up');
  const rationing = demand <= capacity ? FIXED_ONE : satDiv(capacity, demand, 'down');
  const lowerWeight = satMul(rationing, satSub(FIXED_ONE, position), 'down');
  const upperWeight = satMul(rationing, position, 'down');
  const weighted = (weight, value) => satMul(weight, value, 'down');

  const priceLower = gridPrice(grid, lower);
  const priceUpper = gridPrice(grid, upper);
  // `fixed_fee.saturating_mul(FixedU128::from_u32(C))`: an exact product, saturated.
  const feesAt = (units, participants) => sat(satMul(unitFee, units, 'down') + sat(fixedFee * BigInt(participants)));
  let participants = 0;
  if (lowerWeight !== 0n) participants = participantsAt(totals, lower);
  else if (upperWeight !== 0n) participants = participantsAt(totals, upper);
  const clearing = {
    price: min(max(gridPrice(grid, 0), price), gridPrice(grid, LAST)),
    lower: Math.min(lower, 0xffff),
    lowerWeight,
    upperWeight,
  };
  const owed = {
    demand,
    allocated: sat(weighted(lowerWeight, unitsLower) + weighted(upperWeight, unitsUpper)),
    toPayee: sat(weighted(lowerWeight, satMul(priceLower, unitsLower, 'down'))
      + weighted(upperWeight, satMul(priceUpper, unitsUpper, 'down'))),
    fees: sat(weighted(lowerWeight, feesAt(unitsLower, participantsAt(totals, lower)))
      + weighted(upperWeight, feesAt(unitsUpper, participantsAt(totals, upper)))),
    participants,
  };
  return { clearing, totals: owed };
}

/** book.rs `Clearing::settle`: { allocation, payment } of an entered order from an epoch's clearing record. */
export function settleOrder(clearing, entered, grid) {
  // Receives w_j·D_j + w_{j+1}·D_{j+1} (each rounded down), pays w_j·P_j + w_{j+1}·P_{j+1} (each
  // rounded up), at most its budget.
  const lower = clearing.lower;
  const upper = lower + 1;
  const allocation = sat(satMul(clearing.lowerWeight, unitsAt(entered, grid, lower), 'down')
    + satMul(clearing.upperWeight, unitsAt(entered, grid, upper), 'down'));
  const payment = min(sat(satMul(clearing.lowerWeight, paymentAt(entered, grid, lower), 'up')
    + satMul(clearing.upperWeight, paymentAt(entered, grid, upper), 'up')), entered.order.budget);
  return { allocation, payment };
}
