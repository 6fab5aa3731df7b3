#!/usr/bin/env node
// Checks the BigInt replica of the order book on a price grid (lib/book.mjs, and the gridded
// demand through lib/mechanism.mjs's price rules) against test vectors printed by the chain's own
// Rust code (sim/examples/book_vectors.rs).
//
//   node book-vectors.mjs [vectors.json]
//
// Without a path it runs `cargo run -q -p equilibrium-sim --example book_vectors` from the
// repository root. Prints the number of values checked; exits non-zero on the first mismatch.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as book from './lib/book.mjs';
import * as replica from './lib/mechanism.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function readVectors() {
  const file = process.argv[2];
  if (file) return readFileSync(file, 'utf8');
  const root = path.resolve(here, '..', '..');
  console.log('running cargo run -q -p equilibrium-sim --example book_vectors …');
  return execFileSync('cargo', ['run', '-q', '-p', 'equilibrium-sim', '--example', 'book_vectors'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

class Mismatch extends Error {}

let checks = 0;
const show = (value) => (typeof value === 'bigint' ? `${value}` : JSON.stringify(value));
/** Compares one replica value with the Rust one (a BigInt against a decimal string, or numbers, booleans, null). */
function check(what, got, expected) {
  const want = typeof got === 'bigint' && typeof expected === 'string' ? BigInt(expected) : expected;
  if (got !== want) throw new Mismatch(`${what}: the replica gives ${show(got)}, Rust ${show(want)}`);
  checks += 1;
}

const big = (text) => BigInt(text);
const curveOf = (curve) => (curve.kind === 'LogUtility'
  ? { kind: 'LogUtility', alpha: big(curve.alpha), beta: big(curve.beta) }
  : { kind: 'Quantity', x: big(curve.x) });

function checkTotals(what, totals, expected) {
  check(`${what}: length`, totals.units.length, expected.units.length);
  for (let index = 0; index < expected.units.length; index += 1) {
    check(`${what}: A_${index}`, totals.units[index], expected.units[index]);
    check(`${what}: C_${index}`, totals.participants[index], expected.participants[index]);
  }
}

function checkGrid(vectors, label) {
  const floor = big(vectors.floor);
  const grid = book.priceGrid(floor, big(vectors.ceiling));

  for (const { index, price } of vectors.prices) check(`${label} price(${index})`, book.gridPrice(grid, index), price);
  for (const { price, lower, position } of vectors.locate) {
    const found = book.locate(grid, big(price));
    check(`${label} locate(${price}).lower`, found.lower, lower);
    check(`${label} locate(${price}).position`, found.position, position);
  }

  const entered = vectors.orders.map((o, n) => {
    const order = replica.order(curveOf(o.curve), big(o.budget), big(o.fixed_fee));
    const gridOrder = book.gridOrder(order, big(o.unit_fee), grid);
    check(`${label} order ${n} exit`, gridOrder.exit, o.exit);
    for (const { index, units, payment } of o.at) {
      check(`${label} order ${n} units_at(${index})`, book.unitsAt(gridOrder, grid, index), units);
      check(`${label} order ${n} payment_at(${index})`, book.paymentAt(gridOrder, grid, index), payment);
    }
    return gridOrder;
  });

  const totals = book.emptyTotals();
  for (const gridOrder of entered) book.addOrder(totals, gridOrder, grid);
  checkTotals(`${label} totals`, totals, vectors.totals);
  const removed = book.cloneTotals(totals);
  for (const gridOrder of [entered[0], entered[2]]) book.removeOrder(removed, gridOrder, grid);
  checkTotals(`${label} totals after removing orders 0 and 2`, removed, vectors.removed);
  const merged = book.merge(book.cloneTotals(totals), removed);
  checkTotals(`${label} merged totals`, merged, vectors.merged);
  const subtracted = book.subtract(book.cloneTotals(merged), totals);
  checkTotals(`${label} subtracted totals`, subtracted, vectors.subtracted);
  const empty = book.emptyTotals();
  check(`${label} is_empty(full)`, book.isEmpty(totals), vectors.is_empty.full);
  check(`${label} is_empty(empty)`, book.isEmpty(empty), vectors.is_empty.empty);

  const gridded = book.griddedDemand(grid, totals);
  const griddedEmpty = book.griddedDemand(grid, empty);
  const unitFee = big(vectors.market.unit_fee);
  for (const { price, demand, slope_below: below, slope_above: above } of vectors.demand) {
    const mu = big(price);
    check(`${label} gridded demand_at(${price})`, book.griddedDemandAt(gridded, unitFee, mu), demand);
    check(`${label} demandAt(gridded, ${price})`, replica.demandAt(gridded, unitFee, mu), demand);
    const [slopeBelow, slopeAbove] = book.griddedSlopesAt(gridded, unitFee, mu);
    check(`${label} gridded slopes_at(${price}).0`, slopeBelow, below);
    check(`${label} gridded slopes_at(${price}).1`, slopeAbove, above);
    const viaTrait = replica.slopesAt(gridded, unitFee, mu);
    check(`${label} slopesAt(gridded, ${price}).0`, viaTrait[0], below);
    check(`${label} slopesAt(gridded, ${price}).1`, viaTrait[1], above);
  }
  const exitOf = (value) => (value === null ? null : `${value}`);
  check(`${label} gridded exit_price`, exitOf(book.griddedExitPrice(gridded, unitFee)), vectors.exit_price);
  check(`${label} exitPrice(gridded)`, exitOf(replica.exitPrice(gridded, unitFee)), vectors.exit_price);
  check(`${label} gridded exit_price (empty)`, exitOf(book.griddedExitPrice(griddedEmpty, unitFee)), vectors.exit_price_empty);
  check(`${label} gridded steepest_slope_from`, book.griddedSteepestSlope(gridded, unitFee, floor), vectors.steepest_slope);
  check(`${label} steepestSlopeFrom(gridded)`, replica.steepestSlopeFrom(gridded, unitFee, floor), vectors.steepest_slope);
  check(`${label} gridded steepest_slope_from (empty)`, book.griddedSteepestSlope(griddedEmpty, unitFee, floor), vectors.steepest_slope_empty);

  const books = { full: totals, removed, empty };
  for (const c of vectors.clear) {
    const what = `${label} clear(${c.book}, m ${c.capacity}, μ ${c.price}, τ ${c.unit_fee}, g ${c.fixed_fee})`;
    const { clearing, totals: owed } = book.clear(grid, books[c.book], big(c.unit_fee), big(c.fixed_fee), big(c.capacity), big(c.price));
    check(`${what}.clearing.price`, clearing.price, c.clearing.price);
    check(`${what}.clearing.lower`, clearing.lower, c.clearing.lower);
    check(`${what}.clearing.lower_weight`, clearing.lowerWeight, c.clearing.lower_weight);
    check(`${what}.clearing.upper_weight`, clearing.upperWeight, c.clearing.upper_weight);
    check(`${what}.totals.demand`, owed.demand, c.totals.demand);
    check(`${what}.totals.allocated`, owed.allocated, c.totals.allocated);
    check(`${what}.totals.to_payee`, owed.toPayee, c.totals.to_payee);
    check(`${what}.totals.fees`, owed.fees, c.totals.fees);
    check(`${what}.totals.participants`, owed.participants, c.totals.participants);
    c.settle.forEach(({ allocation, payment }, n) => {
      const settled = book.settleOrder(clearing, entered[n], grid);
      check(`${what} settle(order ${n}).allocation`, settled.allocation, allocation);
      check(`${what} settle(order ${n}).payment`, settled.payment, payment);
    });
  }

  // The price rules of mechanism.mjs on [gridded], as step.rs / equilibrium.rs run them.
  const m = vectors.market;
  const params = {
    capacity: big(m.capacity),
    unitFee: big(m.unit_fee),
    fixedFee: big(m.fixed_fee),
    stepRule: { kind: 'DualAscent', eta: big(m.eta) },
    priceFloor: big(m.price_floor),
    priceCeiling: big(m.price_ceiling),
    tolerance: big(m.tolerance),
  };
  const demands = [gridded];
  check(`${label} lipschitz_bound([gridded])`, replica.lipschitzBound(demands, params.unitFee, params.priceFloor), m.lipschitz_bound);
  const target = replica.clearingPrice(demands, params);
  check(`${label} clearing_price([gridded])`, target, m.clearing_price);
  check(`${label} S(clearing price)`, replica.aggregateDemand(demands, params.unitFee, target), m.demand_at_clearing_price);
  for (const s of m.steps) {
    const step = replica.nextPriceDualAscent(demands, params, big(s.start));
    const what = `${label} next_price([gridded], ${s.start})`;
    check(`${what}.price`, step.price, s.price);
    check(`${what}.aggregate_demand`, step.aggregateDemand, s.aggregate_demand);
    check(`${what}.excess_demand`, step.excessDemand, s.excess_demand);
    check(`${what}.converged`, step.converged, s.converged);
  }
}

function main() {
  const vectors = JSON.parse(readVectors());
  check('GRID_POINTS', book.GRID_POINTS, vectors.constants.grid_points);
  check('POINTS_PER_DOUBLING', book.POINTS_PER_DOUBLING, vectors.constants.points_per_doubling);
  for (const { lower, upper, position, rounding, result } of vectors.interpolate) {
    check(`interpolate(${lower}, ${upper}, ${position}, ${rounding})`, book.interpolate(big(lower), big(upper), big(position), rounding), result);
  }
  vectors.grids.forEach((grid, n) => checkGrid(grid, `grid ${n} [${grid.floor}, ${grid.ceiling}]`));
  console.log(`book replica: all ${checks} values match the Rust vectors (${vectors.grids.length} grids)`);
}

try {
  main();
} catch (error) {
  if (error instanceof Mismatch) {
    console.error(`MISMATCH after ${checks} matching values — ${error.message}`);
    process.exit(1);
  }
  throw error;
}
