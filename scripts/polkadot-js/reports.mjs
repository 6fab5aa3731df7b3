#!/usr/bin/env node
// The paper's Algorithm 1 with private utilities, on a live development chain: 20 agents keep
// their α, β to themselves and, every block, report their best response to the posted price
// (`report_demand`). The chain holds each agent's demand as the line through its last two
// reports, so the price climbs to the agents' μ* without crossing it even though every report
// answers a price one block old. With --quantities the agents re-submit fixed quantities instead
// (the old way) and the price never settles.
//
// DESIGN
// - Node: starts `equilibrium-node --dev --tmp --sealing manual` on free ports (lib/node.mjs) and
//   seals every block itself (engine_createBlock, then engine_finalizeBlock) once the pool has
//   accepted that block's transactions, so each report lands in the block it was meant for and
//   a run is reproducible for a seed. The node is always stopped: on success, on any error, on
//   SIGINT/SIGTERM/SIGHUP, and at the time limit (--time-limit, default 600 s).
// - Agents: --seed (default 1) seeds the PRNG of lib/agents.mjs, which draws 20 agents from the
//   paper's distribution, α ~ U(5, 20), β ~ U(0.5, 5), quantized to 10⁻⁶. α and β stay in this
//   process: they are printed, never sent to the chain. Each agent is a fresh account
//   (//ReportsAgentNN) funded with 1 000 EQ by transfers from Alice … Ferdie, and bids
//   `Quantity { x: 0 }` with a budget of 200 EQ per epoch for 2 epochs (400 EQ into escrow).
//   199 tokens (the budget less g) are more than every α, so the budget never caps a best
//   response: (B − g)/(μ + τ) ≥ α/(β + τ + μ) at every price (checked).
// - Market: created with sudo (Alice) so that market 0's bidders do not interfere: capacity
//   m = 50, τ = 0.5, g = 1, SafeguardedNewton { maxRelativeChange: 100 %, minChange: 1 }, prices
//   in [0, 100], epochs of 400 blocks (the whole run is in the first, open, half of the first
//   epoch: a replaced order counts at once), tolerance 10⁻⁶, payee Ferdie.
// - Every block: read the posted price μ (storage `contractEquilibrium.markets`); each agent
//   computes its best response as the chain would count its order, exactly (BigInt,
//   lib/mechanism.mjs `orderDemandAt`: x = max(0, ⌊α/(β + τ + μ)⌋ − 1), capped by
//   ⌊(B − g)/(μ + τ)⌋, rounded as curve.rs and order.rs round), and sends
//   `report_demand(market, x, μ)`; then the block is sealed. The step in a block's
//   on_initialize runs before its reports, so the reports answering μ_t (posted in block t) are
//   in block t + 1 and the step of block t + 2 is the first to see them: one block of lag.
// - μ*: the price at which the agents' backed demand Σ d_i(μ) equals m, by bisection to 10⁻¹⁸
//   on the same exact demand (lib/mechanism.mjs `clearingPrice`). The chain never sees it.
// - Checks (reports mode; exit 1 if any fails): the price never falls and never exceeds
//   μ* + 10⁻¹²; it is within 10⁻⁶ of μ* after at most 30 blocks of reports; after every block
//   every agent's stored line (`contractEquilibrium.bids`: its order's curve, or the queued
//   `next` order's) equals the line this script computes with its own replica of
//   `DemandCurve::after_report` (lib/mechanism.mjs `afterReport`, the probe width from lib/book.mjs
//   `widthAbove`); and every step's S̃ (PriceUpdated's aggregate demand) equals the replica's
//   book of those lines on the market's price grid (lib/book.mjs) at the price the step started
//   from. With --quantities the book check still applies; the price is only watched, and the
//   run says whether it settled (it does not: Newton sees no slope in fixed quantities and
//   jumps by its cap), exit 0.
// - Known limit (docs/polkadot-js.md): the book leaves a line out of the grid cell where it ends
//   (interpolated there it would show more than the line), so an agent that still demands a
//   little at μ* but whose line ends inside μ*'s cell counts for nothing there, and the price
//   stops just below μ* (seeds 134, 625, 743: by 3·10⁻⁶ to 10⁻⁴); the 10⁻⁶ check then fails.
//   Should the price ever exceed μ*, the run prints the lines whose contracts show more than
//   the line.
//
// Output: the agents, the market, μ*, a table row per block (--quiet: every 5th block, and the
// blocks where something happens), a line per check and a summary.

import { parseArgs } from 'node:util';
import { connect, dispatchErrorName, innerFailure, keyPair } from './lib/chain.mjs';
import { absDiff, eqToPlanck, fixedToNumber, formatEq, formatFixed, max, toFixed } from './lib/fixed.mjs';
import * as replica from './lib/mechanism.mjs';
import * as book from './lib/book.mjs';
import { describeParams, encodeCurve, encodeParams, readBids } from './lib/market.mjs';
import { drawPaperAgents } from './lib/agents.mjs';
import { NodeGuard, defaultNodeBinary, startNode } from './lib/node.mjs';

// ---------------------------------------------------------------------------------------------
// Options and constants.

const USAGE = `usage: scripts/reports [--seed N|random] [--blocks N] [--quantities] [--quiet] [--time-limit SECONDS] [--node PATH]
  --seed N          PRNG seed for the agents' private α, β (default 1); "random" picks one (printed)
  --blocks N        blocks of reports (default 40)
  --quantities      re-submit fixed quantities every block instead (the old way): the price does not settle
  --quiet           print a table row only every 5 blocks and where something happens
  --time-limit S    stop everything and fail after S seconds (default 600)
  --node PATH       the equilibrium-node binary (default: the release build)`;

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      blocks: { type: 'string', default: '40' },
      quantities: { type: 'boolean', default: false },
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
const SEED = options.seed === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(options.seed);
const BLOCKS = Number(options.blocks);
const TIME_LIMIT_S = Number(options['time-limit']);
const QUANTITIES = options.quantities;
if (!Number.isInteger(SEED) || SEED < 0 || !Number.isInteger(BLOCKS) || BLOCKS < 1 || !(TIME_LIMIT_S > 0)) {
  console.error(`error: --seed must be a non-negative integer (or "random"), --blocks a positive integer and --time-limit positive\n${USAGE}`);
  process.exit(2);
}

const AGENTS = 20;
const FUNDING = eqToPlanck('1000');
const BUDGET = eqToPlanck('200'); // per epoch: 199 tokens after g, more than any α (< 20), so it never caps a best response
const ORDER_EPOCHS = 2; // the run stays in the first half of epoch 0; 2 leaves room for a report in a sealed half
const FUNDERS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
const BALANCE_UNIT = 10n ** 12n;
const CONVERGE_WITHIN = 30; // blocks of reports by which the price must be within the tolerance of μ*
const SLACK = 1_000_000n; // 10⁻¹²: how far above μ* the price may be (fixed-point rounding)
const QUIET_EVERY = 5;
const PARAMS = {
  capacity: toFixed('50'),
  unitFee: toFixed('0.5'),
  fixedFee: toFixed('1'),
  stepRule: { kind: 'SafeguardedNewton', maxRelativeChange: 1_000_000_000n, minChange: toFixed('1') }, // Perbill: 100 %
  priceFloor: 0n,
  priceCeiling: toFixed('100'),
  epochLength: 400,
  tolerance: toFixed('0.000001'),
  payee: keyPair('//Ferdie').address,
};

// ---------------------------------------------------------------------------------------------
// Output, failures, and always stopping the node.

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

let node = null;
let api = null;
const guard = new NodeGuard({ timeLimitS: TIME_LIMIT_S, say });

// ---------------------------------------------------------------------------------------------
// Formatting.

const fmtPrice = (inner) => formatFixed(inner, 12).padStart(16);
const fmtQty = (inner) => formatFixed(inner, 9).padStart(14);
const fmtDist = (inner) => (inner === 0n ? '0' : fixedToNumber(inner).toExponential(2)).padStart(9);
/** A line or quantity, short and exact enough to read. */
function describeCurve(curve) {
  if (curve.kind === 'Linear') return `Linear { quantity ${formatFixed(curve.quantity, 9)}, price ${formatFixed(curve.price, 12)}, slope ${formatFixed(curve.slope, 9)} }`;
  if (curve.kind === 'Quantity') return `Quantity { x ${formatFixed(curve.x, 9)} }`;
  return `LogUtility { α ${formatFixed(curve.alpha)}, β ${formatFixed(curve.beta)} }`;
}
const sameCurve = (a, b) => a.kind === b.kind && ['x', 'quantity', 'price', 'slope', 'alpha', 'beta'].every((key) => a[key] === b[key]);

// ---------------------------------------------------------------------------------------------
// The chain: transactions queued for the next block, then the block sealed.

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

  /** Signs `tx` and hands it to the pool for the next block. */
  async queue(tx, pair, label) {
    const nonce = await this.nextNonce(pair);
    await tx.signAsync(pair, { nonce });
    this.pending.push({ hash: tx.hash.toHex(), label, submitted: api.rpc.author.submitExtrinsic(tx) });
  }

  /**
   * Seals one block with everything queued, after the pool accepted it all; fails if a
   * transaction was left out or failed (also inside sudo). Returns { number, hash, events }.
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
    for (const p of pending) {
      const index = indexOf.get(p.hash);
      if (index === undefined) throw new Fatal(`${p.label} was not included in block #${number}`);
      const own = events.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index);
      const failed = own.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
      const error = failed ? dispatchErrorName(api, failed.event.data.dispatchError) : innerFailure(api, own);
      if (error) throw new Fatal(`${p.label} failed in block #${number}: ${error}`);
    }
    return { number, hash: hash.toHex(), events };
  }
}

// ---------------------------------------------------------------------------------------------
// The agents' side: private demand, best responses, the lines the chain should hold.

/** An agent's backed demand as the chain counts an order: its curve with its budget, in the market's fees. */
const privateOrder = (agent) => replica.order({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta }, replica.toTokens(BUDGET, BALANCE_UNIT), PARAMS.fixedFee);

/** The best response to `price`, exact: order.rs `Order::demand_at` of the agent's private curve. */
const bestResponse = (agent, price) => replica.orderDemandAt(agent.order, PARAMS.unitFee, price);

/**
 * The book the chain steps on, from the curves the script expects it to hold: each order entered
 * on the grid (book.rs `GridOrder`, `BookTotals::add`), as the gridded demand S̃.
 */
function expectedBook(curves, grid) {
  const totals = book.emptyTotals();
  const tokens = replica.toTokens(BUDGET, BALANCE_UNIT);
  for (const curve of curves) {
    book.addOrder(totals, book.gridOrder(replica.order(curve, tokens, PARAMS.fixedFee), PARAMS.unitFee, grid), grid);
  }
  return book.griddedDemand(grid, totals);
}

// ---------------------------------------------------------------------------------------------
// The run.

const run = {
  agents: [],
  marketId: null,
  muStar: null,
  rows: [], // { k, number, answered, price, distance, demand, reported }
  reachedAt: null, // the first block of reports (1-based) after which |μ − μ*| ≤ tolerance
  fell: [], // blocks in which the price fell
  above: [], // blocks in which the price exceeded μ* + slack
  lineChecks: 0,
  lineMismatches: [],
  bookChecks: 0,
  bookMismatches: [],
};

async function main() {
  const mode = QUANTITIES ? 'fixed quantities, re-submitted every block (--quantities)' : 'report_demand every block: lines through the last two reports';
  say(`contract-equilibrium private reports — seed ${SEED} (reproduce with --seed ${SEED}), ${mode}, ${BLOCKS} blocks, time limit ${TIME_LIMIT_S} s`);
  try {
    node = guard.node = await startNode({ binary: options.node, sealing: 'manual' });
  } catch (error) {
    throw new Fatal(error.message);
  }
  say(`node ${options.node} (pid ${node.pid}) on ${node.url}, --sealing manual, log ${node.logFile}`);
  api = guard.api = await connect(node.url);
  say(`connected: ${await api.rpc.system.chain()}, spec ${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion} [${seconds()} s]`);
  ensure(api.tx.contractEquilibrium.reportDemand !== undefined, 'the runtime has contractEquilibrium.reportDemand',
    'rebuild the node: this runtime predates private reports');

  // The agents: private α, β, drawn here and never sent.
  const agents = drawPaperAgents(SEED, AGENTS).map((draw, i) => {
    const name = `A${String(i + 1).padStart(2, '0')}`;
    const agent = { name, pair: keyPair(`//ReportsAgent${String(i + 1).padStart(2, '0')}`), ...draw };
    agent.order = privateOrder(agent);
    agent.line = { kind: 'Quantity', x: 0n }; // the curve the chain should hold for it
    return agent;
  });
  run.agents = agents;
  say(`\nagents (α ~ U(5,20), β ~ U(0.5,5); private: printed here, never sent to the chain):`);
  for (const agent of agents) {
    say(`  ${agent.name} α ${formatFixed(agent.alpha).padEnd(9)} β ${formatFixed(agent.beta).padEnd(8)} exit price α − β − τ ${formatFixed(replica.satSub(replica.satSub(agent.alpha, agent.beta), PARAMS.unitFee), 6).padStart(10)}  ${agent.pair.address}`);
  }
  const spendable = replica.satSub(replica.toTokens(BUDGET, BALANCE_UNIT), PARAMS.fixedFee);
  ensure(agents.every((agent) => spendable >= agent.alpha),
    `every budget less g (${formatFixed(spendable)} tokens) is at least the agent's α: (B − g)/(μ + τ) ≥ α/(β + τ + μ) at every price, so no budget caps a best response`);

  // μ*, from the private demands.
  const grid = book.priceGridOf(PARAMS);
  const orders = agents.map((agent) => agent.order);
  run.muStar = replica.clearingPrice(orders, PARAMS);
  const muStar = run.muStar;
  const demandAtStar = replica.aggregateDemand(orders, PARAMS.unitFee, muStar);
  const demandBelow = replica.aggregateDemand(orders, PARAMS.unitFee, muStar - 1n);
  ensure(muStar > PARAMS.priceFloor && muStar < PARAMS.priceCeiling && demandAtStar <= PARAMS.capacity && demandBelow > PARAMS.capacity,
    `μ* of the private agents = ${formatFixed(muStar)} (bisection to 10⁻¹⁸: Σ d_i(μ*) = ${formatFixed(demandAtStar)} ≤ m = ${formatFixed(PARAMS.capacity)} < Σ d_i(μ* − 10⁻¹⁸) = ${formatFixed(demandBelow)}); capacity binds, Σ d_i(0) = ${formatFixed(replica.aggregateDemand(orders, PARAMS.unitFee, 0n), 6)}`);

  // Block 1: the market (sudo) and the funding.
  const sealer = new Sealer();
  const alice = keyPair('//Alice');
  say(`\nmarket (sudo): ${describeParams(PARAMS).map(([key, value]) => `${key} ${value}`).join(', ')}`);
  await sealer.queue(api.tx.sudo.sudo(api.tx.contractEquilibrium.createMarket(encodeParams(PARAMS))), alice, 'sudo(createMarket)');
  const funders = FUNDERS.map(keyPair);
  for (const [i, agent] of agents.entries()) {
    await sealer.queue(api.tx.balances.transferKeepAlive(agent.pair.address, FUNDING), funders[i % funders.length], `fund ${agent.name}`);
  }
  const first = await sealer.seal();
  const created = first.events.find(({ event }) => api.events.contractEquilibrium.MarketCreated.is(event));
  ensure(created !== undefined, `block #${first.number}: sudo created the market, ${agents.length} agents funded with ${formatEq(FUNDING)} EQ each`);
  run.marketId = created.event.data.market.toNumber();
  const marketId = run.marketId;
  say(`market ${marketId} created in block #${first.number}; its epoch 0 is sealed from block #${first.number + Math.floor(PARAMS.epochLength / 2)} on (the run ends before)`);

  // Block 2: every agent bids Quantity { x: 0 }.
  const zero = { kind: 'Quantity', x: 0n };
  for (const agent of agents) {
    await sealer.queue(api.tx.contractEquilibrium.submitDemand(marketId, encodeCurve(zero), BUDGET, ORDER_EPOCHS), agent.pair, `${agent.name} bids Quantity { x: 0 }`);
  }
  const second = await sealer.seal();
  const submitted = second.events.filter(({ event }) => api.events.contractEquilibrium.DemandSubmitted.is(event) && event.data.market.toNumber() === marketId);
  ensure(submitted.length === agents.length && submitted.every(({ event }) => event.data.countsFrom.toNumber() === 0),
    `block #${second.number}: ${agents.length} bids of Quantity { x: 0 }, ${formatEq(BUDGET)} EQ per epoch for ${ORDER_EPOCHS} epochs, counting at once (epoch 0, open book)`);

  // The reports.
  say(`\nevery block each agent ${QUANTITIES ? 'submits Quantity { x } with x its best response' : 'calls report_demand(market, x, μ) with x its best response'} to the price μ posted in the block before;`);
  say(`the step of block t + 1 sees the reports of block t, which answer μ_{t−1}: one block of lag.`);
  printHeader();
  let head = second;
  let price = await readPrice(head.hash, marketId);
  let stepFrom = price; // the price the next block's step starts from
  let previousCurves = agents.map((agent) => agent.line);
  for (let k = 1; k <= BLOCKS; k += 1) {
    const answered = price;
    let reported = 0n;
    for (const agent of agents) {
      const x = bestResponse(agent, answered);
      reported += x;
      if (QUANTITIES) {
        agent.line = { kind: 'Quantity', x };
        await sealer.queue(api.tx.contractEquilibrium.submitDemand(marketId, encodeCurve(agent.line), BUDGET, ORDER_EPOCHS), agent.pair, `${agent.name} submits Quantity { x: ${formatFixed(x, 6)} }`);
      } else {
        agent.line = replica.afterReport(agent.line, x, answered, book.widthAbove(grid, answered));
        await sealer.queue(api.tx.contractEquilibrium.reportDemand(marketId, x, answered), agent.pair, `${agent.name} reports ${formatFixed(x, 6)} at ${formatFixed(answered, 9)}`);
      }
    }
    const sealed = await sealer.seal();
    head = sealed;
    const step = priceUpdate(sealed, marketId);
    price = await readPrice(sealed.hash, marketId);
    if (step.price !== price) throw new Fatal(`block #${sealed.number}: PriceUpdated says ${formatFixed(step.price)}, storage ${formatFixed(price)}`);

    // The step's S̃: the book of the curves stored before this block, at the price it started from.
    const expected = replica.demandAt(expectedBook(previousCurves, grid), PARAMS.unitFee, stepFrom);
    run.bookChecks += 1;
    if (expected !== step.aggregateDemand) {
      run.bookMismatches.push(`block #${sealed.number}: PriceUpdated S̃ = ${formatFixed(step.aggregateDemand)}, the replica's book ${formatFixed(expected)} at μ = ${formatFixed(stepFrom)}`);
    }
    // The curves the chain holds now: the replica's lines (or quantities).
    await compareLines(agents, sealed, marketId);
    previousCurves = agents.map((agent) => agent.line);

    const distance = absDiff(price, muStar);
    const notes = [];
    if (price < stepFrom) {
      run.fell.push(sealed.number);
      notes.push('fell');
    }
    if (price > muStar + SLACK) {
      run.above.push(sealed.number);
      notes.push('above μ*');
    }
    if (distance <= PARAMS.tolerance && run.reachedAt === null) {
      run.reachedAt = k;
      notes.push(`within ${formatFixed(PARAMS.tolerance)} of μ*`);
    }
    if (step.converged) notes.push('converged');
    const row = { k, number: sealed.number, answered, price, distance, demand: step.aggregateDemand, reported, notes };
    run.rows.push(row);
    const interesting = notes.some((note) => note !== 'converged') || k === 1 || k === BLOCKS;
    if (!options.quiet || k % QUIET_EVERY === 0 || interesting) printRow(row);
    stepFrom = price;
  }

  // One agent's line in full, the chain's against the replica's.
  const shown = agents[0];
  const stored = (await readBids(api, marketId, head.hash)).get(shown.pair.address);
  say(`\n${shown.name}'s order after block #${head.number}: the chain holds ${describeCurve(stored.next?.curve ?? stored.order.curve)}; the replica's: ${describeCurve(shown.line)}`);
}

/** Prints the table's header. */
function printHeader() {
  say(`\n${'k'.padStart(3)} ${'block'.padStart(5)} ${'reports answer'.padStart(16)} ${'Σ x reported'.padStart(14)} ${'price μ'.padStart(16)} ${'|μ − μ*|'.padStart(9)} ${'S̃ (step)'.padStart(14)}  notes`);
}

/** Prints one row: k-th block of reports, the price they answered, the price after the block, its distance to μ*, the step's S̃. */
function printRow(row) {
  say(`${String(row.k).padStart(3)} ${String(row.number).padStart(5)} ${fmtPrice(row.answered)} ${fmtQty(row.reported)} ${fmtPrice(row.price)} ${fmtDist(row.distance)} ${fmtQty(row.demand)}  ${row.notes.join(', ')}`);
}

/** The posted price of market `id` after block `hash` (storage `contractEquilibrium.markets`). */
async function readPrice(hash, id) {
  const market = await (await api.at(hash)).query.contractEquilibrium.markets(id);
  if (market.isNone) throw new Fatal(`market ${id} is gone`);
  return market.unwrap().price.toBigInt();
}

/** The market's PriceUpdated in block `sealed`: { price, aggregateDemand, converged }. */
function priceUpdate(sealed, id) {
  const found = sealed.events.find(({ event }) => api.events.contractEquilibrium.PriceUpdated.is(event) && event.data.market.toNumber() === id);
  if (!found) throw new Fatal(`block #${sealed.number}: no PriceUpdated for market ${id}`);
  const { price, aggregateDemand, converged } = found.event.data;
  return { price: price.toBigInt(), aggregateDemand: aggregateDemand.toBigInt(), converged: converged.isTrue };
}

/** Compares every agent's stored curve (its latest order's: `next`, else `order`) with the replica's. */
async function compareLines(agents, sealed, id) {
  const bids = await readBids(api, id, sealed.hash);
  for (const agent of agents) {
    const bid = bids.get(agent.pair.address);
    const stored = bid ? (bid.next ?? bid.order).curve : null;
    run.lineChecks += 1;
    if (stored === null || !sameCurve(stored, agent.line)) {
      run.lineMismatches.push(`block #${sealed.number}, ${agent.name}: the chain holds ${stored ? describeCurve(stored) : 'no bid'}, the replica ${describeCurve(agent.line)}`);
    }
  }
}

/** The checks and the summary at the end of a run that got through its blocks. */
function conclude() {
  const rows = run.rows;
  const tol = formatFixed(PARAMS.tolerance);
  check(run.bookMismatches.length === 0,
    `every step's S̃ (PriceUpdated's aggregate demand, ${run.bookChecks} blocks) equals the replica's book of the ${QUANTITIES ? 'quantities' : 'lines'} on the grid at the price the step started from`,
    run.bookMismatches.slice(0, 3).join('; '));
  check(run.lineMismatches.length === 0,
    QUANTITIES
      ? `after every block every agent's stored curve (bids(market, who): its latest order's) is the quantity it submitted (${run.lineChecks} compared)`
      : `after every block every agent's stored line (bids(market, who): its latest order's curve) equals the replica's after_report line (${run.lineChecks} lines compared)`,
    run.lineMismatches.slice(0, 3).join('; '));
  if (QUANTITIES) {
    const tail = rows.slice(-Math.min(10, rows.length));
    const settled = tail.every((row) => row.distance <= PARAMS.tolerance);
    const low = tail.reduce((m, row) => (row.price < m ? row.price : m), tail[0].price);
    const high = tail.reduce((m, row) => max(m, row.price), 0n);
    say(`\nfixed quantities: ${settled ? 'the price settled within the tolerance (unexpected)' : 'did not converge'} — over the last ${tail.length} blocks the price ranged over [${formatFixed(low, 9)}, ${formatFixed(high, 9)}], |μ − μ*| up to ${fixedToNumber(tail.reduce((m, row) => max(m, row.distance), 0n)).toExponential(3)}; it fell in ${run.fell.length} of ${rows.length} blocks and rose above μ* + 10⁻¹² in ${run.above.length}`);
    return;
  }
  check(run.fell.length === 0, 'the price never fell', run.fell.length ? `it fell in blocks #${run.fell.join(', #')}` : '');
  const highest = rows.reduce((m, row) => max(m, row.price), 0n);
  check(run.above.length === 0,
    `the price never exceeded μ* + 10⁻¹² (highest ${formatFixed(highest)}, μ* ${formatFixed(run.muStar)})`,
    run.above.length ? `above in blocks #${run.above.join(', #')}` : '');
  check(run.reachedAt !== null && run.reachedAt <= CONVERGE_WITHIN,
    `the price is within ${tol} of μ* after at most ${CONVERGE_WITHIN} blocks of reports`,
    run.reachedAt === null ? `not within ${rows.length} blocks: last |μ − μ*| = ${fixedToNumber(rows.at(-1).distance).toExponential(3)}` : `after ${run.reachedAt}`);
  if (run.reachedAt !== null) {
    const after = rows.slice(run.reachedAt - 1);
    check(after.every((row) => row.distance <= PARAMS.tolerance), `once within ${tol}, it stayed (${after.length} blocks)`);
  }
  if (run.above.length > 0) explainOvershoot();
}

/**
 * Why the price went above μ*: at the last price, the book's S̃ (each line's contracts at the two
 * grid prices around μ, interpolated) against the lines themselves and the agents' true demand;
 * the agents whose contracts there exceed their line, with the cell their line ends in.
 */
function explainOvershoot() {
  const price = run.rows.at(-1).price;
  const grid = book.priceGridOf(PARAMS);
  const { lower, position } = book.locate(grid, price);
  const [left, right] = [book.gridPrice(grid, lower), book.gridPrice(grid, lower + 1)];
  const tokens = replica.toTokens(BUDGET, BALANCE_UNIT);
  let gridded = 0n;
  let lines = 0n;
  let truth = 0n;
  const culprits = [];
  for (const agent of run.agents) {
    const entered = book.gridOrder(replica.order(agent.line, tokens, PARAMS.fixedFee), PARAMS.unitFee, grid);
    const contract = book.interpolate(book.unitsAt(entered, grid, lower), book.unitsAt(entered, grid, lower + 1), position, 'down');
    const line = replica.curveDemandAt(agent.line, PARAMS.unitFee, price);
    const wants = bestResponse(agent, price);
    gridded += contract;
    lines += line;
    truth += wants;
    if (contract > line + replica.MIN_CHORD_FALL) {
      culprits.push(`${agent.name} (α ${formatFixed(agent.alpha)}, β ${formatFixed(agent.beta)}): ${describeCurve(agent.line)}, limit price ${formatFixed(replica.curveExitPrice(agent.line, PARAMS.unitFee), 9)}; at μ the line demands ${formatFixed(line, 9)}, its contracts interpolate to ${formatFixed(contract, 9)} (${formatFixed(book.unitsAt(entered, grid, lower), 9)} at g_${lower}, ${formatFixed(book.unitsAt(entered, grid, lower + 1), 9)} at g_${lower + 1}), the agent wants ${formatFixed(wants, 9)}`);
    }
  }
  say(`
why the price is above μ*: at μ = ${formatFixed(price)}, in grid cell ${lower} [${formatFixed(left, 9)}, ${formatFixed(right, 9)}], the book's S̃ = ${formatFixed(gridded, 9)}, the lines' own Σ = ${formatFixed(lines, 9)}, the agents' true Σ x = ${formatFixed(truth, 9)} (m = ${formatFixed(PARAMS.capacity)}).`);
  say(culprits.length
    ? `a line that ends inside the price's grid cell is interpolated between its contract at g_${lower} and zero at g_${lower + 1}, above the line itself:
  ${culprits.join('\n  ')}`
    : 'no line ends inside the price\'s grid cell.');
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
  if (node) say(`node log (last lines):\n${node.tail(15)}`);
  exitCode = 1;
} finally {
  await guard.shutdown();
}
if (node && exitCode === 0) node.removeLog();
else if (node) say(`the node's log is kept at ${node.logFile}`);

const failed = checks.filter((c) => !c.ok);
const last = run.rows.at(-1);
say(`\nsummary (seed ${SEED}, ${QUANTITIES ? 'fixed quantities' : 'lines'}, ${run.rows.length} blocks of reports, ${seconds()} s):`);
if (run.muStar !== null) say(`  μ* of the private agents = ${formatFixed(run.muStar)}`);
if (last) say(`  last price ${formatFixed(last.price)} (|μ − μ*| = ${last.distance === 0n ? '0' : fixedToNumber(last.distance).toExponential(3)}); ${run.reachedAt === null ? `never within ${formatFixed(PARAMS.tolerance)} of μ*` : `within ${formatFixed(PARAMS.tolerance)} of μ* after ${run.reachedAt} blocks of reports`}${QUANTITIES ? (run.reachedAt === null || last.distance > PARAMS.tolerance ? ': did not converge' : '') : ''}`);
say(`  ${checks.length - failed.length} of ${checks.length} checks passed${failed.length ? `; FAILED: ${failed.map((c) => c.what).join(' | ')}` : ''}`);
process.exit(exitCode);
