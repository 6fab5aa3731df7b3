#!/usr/bin/env node
// The end-to-end scenario: the paper's agents trade on a live development chain, the price
// converges as the mechanism promises, a referendum changes the market's capacity, and every
// balance is accounted for to the planck.
//
// DESIGN
// - Node: starts `equilibrium-node --dev --tmp --sealing manual` on free ports and seals every
//   block itself (engine_createBlock, then engine_finalizeBlock), after submitting that block's
//   transactions and seeing the pool accept them. So each transaction lands in the block it was
//   meant for, each Quantity agent reports exactly once per block, and the run is reproducible.
//   The node is always stopped: on success, on any error, on SIGINT/SIGTERM/SIGHUP, and when the
//   global time limit (--time-limit, default 600 s) is hit.
// - Agents: --seed (default 1) seeds a PRNG (mulberry32) that draws 20 agents from the paper's
//   distribution, α ~ U(5, 20), β ~ U(0.5, 5), quantized to 10⁻⁶. Each is a fresh account
//   (//ScenarioAgentNN) funded with 10 000 EQ by transfers from Alice … Ferdie (there is no
//   utility pallet: one block of transfers with explicit nonces). The first 16 bid as
//   LogUtility { α, β } (the chain evaluates their best response); the last 4 keep their α, β
//   private and bid Quantity { x }, re-reporting every block their best response
//   x = max(0, α/(β+τ+μ) − 1) to the last price they saw, as Algorithm 1's agents do. Budgets are
//   1 000 EQ each.
// - Market: a fresh market created with sudo (Alice), so that market 0's demo bidders do not
//   interfere: capacity 20, τ = 0.5, g = 0.5, DualAscent { eta: 1 } (so the step is
//   η = min(1, 1/L) = 1/L, the largest the chain allows), prices in [0, 100], epochs of 25
//   blocks, tolerance 10⁻⁶, payee a fresh account (//ScenarioPayee).
// - Phases: A) the 16 LogUtility agents bid in one block; the price climbs from the floor to μ*.
//   B) the 4 Quantity agents join and report every block; the price moves to the equilibrium
//   μ** of all 20 agents' true best responses. C) a referendum on the market_admin track
//   (preimage, submit, decision deposit, conviction votes by Alice and Bob, enactment by the
//   scheduler) raises the capacity to 30; the price re-converges to the new μ**.
//   D) invalid demands are rejected with their named errors (AlphaOutOfRange, BetaOutOfRange,
//   QuantityOutOfRange, BudgetBelowDeposit, UnknownMarket) and parameter changes by signed
//   accounts (a bidder, and Alice without sudo) fail with BadOrigin; nothing changes.
//   E) after the next settlement, the final accounting.
// - Bounds (lib/bounds.mjs, where the derivations are written out):
//   A) with price-responsive bids only, the map μ ↦ μ + η(S(μ) − m) is non-decreasing (η ≤ 1/L),
//      so the price approaches μ* from below without crossing it and
//      |μ_{t+1} − μ*| ≤ (1 − η·ℓ)|μ_t − μ*|, ℓ = |S'(μ*)| (the least slope on [μ_0, μ*]).
//      The promise checked: the runtime API's distance |μ_t − μ*| ≤ tolerance after at most
//      T_A = ⌈ln(d_0/tol)/(−ln(1 − η·ℓ))⌉ blocks, and μ_t ≤ μ* at every block.
//   B, C) reports lag one block, so the step sees S_L(μ_t) + Q(μ_{t−1}): a second-order
//      recursion e_{t+1} = (1 − η·a_t)·e_t − η·b_t·e_{t−1} in e_t = μ_t − μ**, bounded by
//      interval arithmetic from the two measured starting errors with the slopes' ranges over
//      the reachable prices. This is looser than A's bound and is documented as such. The
//      promise checked: within T_B (T_C) blocks both |μ_t − μ**| and the runtime API's distance
//      |μ_t − μ*_t| (μ*_t computed with the standing reports) are ≤ tolerance.
//   Floats are used for the bounds only (with safety margins); the chain's fixed-point rounding
//   is absorbed by a 10⁻¹² slack on the tolerance.
// - Exactness (BigInt, lib/mechanism.mjs replicates the chain's math): every PriceUpdated of the
//   scenario's market must equal the replica's step (price, S, S − m, converged); every block the
//   runtime API's μ*, S(μ*) and excess demand must equal the replica's; every BidSettled's
//   allocation and payment must equal the replica's settlement. After every settlement and at
//   the end, each agent's free and reserved balances must equal the model built from the events
//   (Balances.Transfer in, TransactionPayment.TransactionFeePaid out, budget and deposit held on
//   DemandSubmitted, payments drawn from the held budget on BidSettled), the Bids storage must
//   equal the model, the payee must have received exactly Σ μ·x (to_balance, rounded down) and
//   the treasury exactly the fees τ·x + g of every market's settlements, and the total issuance
//   must have fallen by exactly the transaction fees (they are burned).
//
// Output: a table with one row per block (price μ after the block, S at the previous price, the
// capacity m of the step, the runtime API's μ*, |μ − μ*|, events), a line per check, and a
// summary. Exit 0 when every check passed, 1 otherwise.

import { parseArgs } from 'node:util';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { encodeAddress } from '@polkadot/util-crypto';
import { connect, dispatchErrorName, innerFailure, keyPair } from './lib/chain.mjs';
import { absDiff, eqToPlanck, fixedToNumber, formatEq, formatFixed, toFixed } from './lib/fixed.mjs';
import * as replica from './lib/mechanism.mjs';
import { decodeCurve, decodeParams, encodeCurve, encodeParams, readBids, readEquilibrium, readMarket, sameParams } from './lib/market.mjs';
import { MARKET_ADMIN_ORIGIN, MARKET_ADMIN_TRACK, enactmentTaskId, referendumPhase, setParamsProposal, trackInfo, voteTx } from './lib/governance.mjs';
import { agentFloats, drawPaperAgents } from './lib/agents.mjs';
import { delayedBound, monotoneBound } from './lib/bounds.mjs';
import { defaultNodeBinary, startNode } from './lib/node.mjs';

// ---------------------------------------------------------------------------------------------
// Options and constants.

const USAGE = `usage: scripts/scenario [--seed N|random] [--time-limit SECONDS] [--node PATH] [--quiet]
  --seed N          PRNG seed for the agents (default 1); "random" picks one (printed)
  --time-limit S    stop everything and fail after S seconds (default 600)
  --node PATH       the equilibrium-node binary (default: the release build)
  --quiet           print a table row only every 10 blocks and at events`;

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      'time-limit': { type: 'string', default: '600' },
      node: { type: 'string', default: defaultNodeBinary() },
      quiet: { type: 'boolean', default: false },
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
const TIME_LIMIT_S = Number(options['time-limit']);
if (!Number.isInteger(SEED) || SEED < 0 || !(TIME_LIMIT_S > 0)) {
  console.error(`error: --seed must be a non-negative integer (or "random") and --time-limit positive\n${USAGE}`);
  process.exit(2);
}

const LOG_AGENTS = 16;
const QUANTITY_AGENTS = 4;
const FUNDING = eqToPlanck('10000');
const BUDGET = eqToPlanck('1000');
const PAYEE_FUNDING = eqToPlanck('1');
const FUNDERS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
const PROPOSER = '//Charlie';
const VOTES = [
  { uri: '//Alice', aye: true, conviction: 'Locked3x', balance: eqToPlanck('200000') },
  { uri: '//Bob', aye: true, conviction: 'Locked1x', balance: eqToPlanck('100000') },
];
const NEW_CAPACITY = toFixed('30');
const HOLD_BLOCKS = 3; // blocks a converged price must stay within tolerance
const BALANCE_UNIT = 10n ** 12n;

// ---------------------------------------------------------------------------------------------
// Output, failures, and always stopping the node.

const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (...args) => console.log(...args);
const checks = [];
function check(ok, what, detail = '') {
  checks.push({ ok, what, detail });
  say(`${ok ? 'PASS' : 'FAIL'}: ${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
/** A failed check that makes going on pointless. */
class Fatal extends Error {}
function ensure(ok, what, detail) {
  if (!check(ok, what, detail)) throw new Fatal(what);
}

let node = null;
let api = null;
let stopping = null;
let interrupted = null; // the signal or time limit that stopped the run
/**
 * Closes the connection first (at most 3 s; otherwise the provider keeps reconnecting to the
 * stopping node), then stops the node (SIGTERM, then SIGKILL after 10 s).
 */
async function shutdown() {
  stopping ??= (async () => {
    if (api) await Promise.race([api.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
    if (node) {
      const result = await node.stop();
      say(`node stopped (pid ${node.pid}, ${result?.signal ?? `exit ${result?.code}`})`);
    }
  })();
  return stopping;
}
function interrupt(reason, code) {
  if (interrupted) return;
  interrupted = reason;
  console.error(`\n${reason}: stopping the node`);
  shutdown().finally(() => {
    if (node) say(`the node's log is kept at ${node.logFile}`);
    process.exit(code);
  });
}
// The last resort: whatever ends this process, the node goes with it.
process.on('exit', () => {
  node?.killNow();
  try { node?.removeTmpDir(); } catch { /* best effort */ }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => interrupt(signal, 130));
// Requests cut off by the shutdown reject; anything else unexpected ends the run (and the node).
process.on('unhandledRejection', (error) => {
  if (stopping) return;
  console.error(`error: ${error?.stack ?? error}`);
  interrupt('unexpected error', 1);
});
const timeLimit = setTimeout(() => interrupt(`the time limit of ${TIME_LIMIT_S} s was reached`, 1), TIME_LIMIT_S * 1000);

// ---------------------------------------------------------------------------------------------
// Formatting.

const fmtPrice = (inner) => formatFixed(inner, 9).padStart(13);
const fmtQty = (inner) => formatFixed(inner, 6).padStart(11);
const fmtDist = (inner) => (inner === 0n ? '0' : fixedToNumber(inner).toExponential(2)).padStart(9);
const fmtM = (inner) => formatFixed(inner, 3).padStart(6);

// ---------------------------------------------------------------------------------------------
// The chain driver: submits a block's transactions, seals the block, reports each outcome.

class Driver {
  constructor() {
    this.nonces = new Map();
    this.pending = [];
  }

  async nextNonce(pair) {
    if (!this.nonces.has(pair.address)) {
      this.nonces.set(pair.address, (await api.rpc.system.accountNextIndex(pair.address)).toNumber());
    }
    const nonce = this.nonces.get(pair.address);
    this.nonces.set(pair.address, nonce + 1);
    return nonce;
  }

  /** Signs `tx` and has the pool accept it for the next block. `expect`: an error name, or null. */
  async queue(tx, pair, label, expect = null) {
    const nonce = await this.nextNonce(pair);
    await tx.signAsync(pair, { nonce });
    this.pending.push({ hash: tx.hash.toHex(), label, who: pair.address, expect, submitted: api.rpc.author.submitExtrinsic(tx) });
  }

  /** Seals one block with everything queued; returns { number, hash, events, outcomes }. */
  async seal() {
    const pending = this.pending;
    this.pending = [];
    const results = await Promise.allSettled(pending.map((p) => p.submitted));
    const rejected = results.findIndex((r) => r.status === 'rejected');
    if (rejected >= 0) {
      this.nonces.clear();
      throw new Fatal(`the pool rejected ${pending[rejected].label}: ${results[rejected].reason.message}`);
    }
    const created = await api.rpc.engine.createBlock(true, false);
    const hash = created.blockHash;
    await api.rpc.engine.finalizeBlock(hash);
    const [block, events] = await Promise.all([
      pending.length ? api.rpc.chain.getBlock(hash) : null,
      api.query.system.events.at(hash),
    ]);
    const number = block ? block.block.header.number.toNumber() : (await api.rpc.chain.getHeader(hash)).number.toNumber();
    const outcomes = [];
    if (pending.length) {
      const indexOf = new Map(block.block.extrinsics.map((ex, i) => [ex.hash.toHex(), i]));
      for (const p of pending) {
        const index = indexOf.get(p.hash);
        if (index === undefined) throw new Fatal(`${p.label} was not included in block #${number}`);
        const own = events.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index);
        const failed = own.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
        let error = failed ? dispatchErrorName(api, failed.event.data.dispatchError) : innerFailure(api, own);
        outcomes.push({ ...p, index, error, events: own });
        if (p.expect === null && error) throw new Fatal(`${p.label} failed in block #${number}: ${error}`);
        if (p.expect !== null) {
          check(error === p.expect, `${p.label} is rejected with ${p.expect}`, error ? `got ${error}` : 'it succeeded');
          error = null;
        }
      }
    }
    return { number, hash, events, outcomes };
  }
}

// ---------------------------------------------------------------------------------------------
// The model: what the scenario expects the chain's state to be, built from the events.

const model = {
  marketId: null,
  params: null,
  price: 0n,
  priceAt: new Map(), // block number → price after it
  bids: [], // storage order: { who, curve, budget, deposit }
  accounts: new Map(), // address → { name, free, reserved }
  payeeReceived: 0n,
  treasuryReceived: 0n,
  feesBurned: 0n,
  settlements: 0,
  lastOutcome: null,
};
const activeCurves = () => model.bids.filter((bid) => bid.budget > 0n).map((bid) => bid.curve);

function track(address, name, free = 0n) {
  model.accounts.set(address, { name, free, reserved: 0n });
}

/** Applies one block's events to the model, checking each market event against the replica. */
function applyEvents(blockNumber, events) {
  const notes = [];
  let priceEvent = null;
  let settledNow = false;
  let expectedSettlement = null;
  let settledIndex = 0;
  const otherMarketSettlements = new Map(); // market → [{ allocation, payment }]
  const ce = api.events.contractEquilibrium;
  for (const { event } of events) {
    const data = event.data;
    if (api.events.balances.Transfer.is(event)) {
      const from = model.accounts.get(data.from.toString());
      const to = model.accounts.get(data.to.toString());
      if (from) from.free -= data.amount.toBigInt();
      if (to) to.free += data.amount.toBigInt();
    } else if (api.events.transactionPayment.TransactionFeePaid.is(event)) {
      model.feesBurned += data.actualFee.toBigInt();
      const who = model.accounts.get(data.who.toString());
      if (who) who.free -= data.actualFee.toBigInt();
    } else if (ce.BidSettled.is(event)) {
      const market = data.market.toNumber();
      const allocation = data.allocation.toBigInt();
      const payment = data.payment.toBigInt();
      if (market !== model.marketId) {
        if (!otherMarketSettlements.has(market)) otherMarketSettlements.set(market, []);
        otherMarketSettlements.get(market).push({ allocation, payment });
        continue;
      }
      expectedSettlement ??= replica.settle(model.bids, model.params, model.price, BALANCE_UNIT);
      const expected = expectedSettlement[settledIndex];
      const bid = model.bids[settledIndex];
      settledIndex += 1;
      const who = data.who.toString();
      if (!expected || expected.who !== who || expected.allocation !== allocation || expected.payment !== payment) {
        throw new Fatal(`block #${blockNumber}: BidSettled for ${nameOf(who)} (allocation ${formatFixed(allocation)}, payment ${payment}) differs from the replica (${expected ? `${formatFixed(expected.allocation)}, ${expected.payment}` : 'no such bid'})`);
      }
      bid.budget -= payment;
      model.accounts.get(who).reserved -= payment;
      model.payeeReceived += expected.toPayee;
      const payee = model.accounts.get(model.params.payee);
      if (payee) payee.free += expected.toPayee;
      model.treasuryReceived += expected.toFees;
    } else if (ce.EpochSettled.is(event)) {
      const market = data.market.toNumber();
      const outcome = data.outcome;
      if (market === model.marketId) {
        if (settledIndex !== model.bids.length) throw new Fatal(`block #${blockNumber}: ${settledIndex} BidSettled events for ${model.bids.length} bids`);
        settledNow = true;
        model.settlements += 1;
        model.lastOutcome = { epoch: data.epoch.toNumber(), allocated: outcome.totalAllocated.toBigInt(), paid: outcome.totalPaid.toBigInt(), price: outcome.price.toBigInt() };
        notes.push(`epoch ${data.epoch.toNumber()} settled: ${formatFixed(outcome.totalAllocated.toBigInt(), 3)} units, ${formatEq(outcome.totalPaid.toBigInt(), 3)} EQ paid`);
      } else {
        // Other markets' fees reach the treasury too: split each payment at its settlement price.
        for (const { allocation, payment } of otherMarketSettlements.get(market) ?? []) {
          model.treasuryReceived += replica.splitPayment(outcome.price.toBigInt(), allocation, payment, BALANCE_UNIT).toFees;
        }
        otherMarketSettlements.delete(market);
      }
    } else if (ce.PriceUpdated.is(event) && data.market.toNumber() === model.marketId) {
      const step = replica.nextPriceDualAscent(activeCurves(), model.params, model.price);
      const got = {
        price: data.price.toBigInt(),
        aggregateDemand: data.aggregateDemand.toBigInt(),
        excessDemand: data.excessDemand.toBigInt(),
        converged: data.converged.isTrue,
      };
      if (got.price !== step.price || got.aggregateDemand !== step.aggregateDemand
        || got.excessDemand !== step.excessDemand || got.converged !== step.converged) {
        throw new Fatal(`block #${blockNumber}: PriceUpdated ${JSON.stringify(got, (k, v) => (typeof v === 'bigint' ? v.toString() : v))} differs from the replica's step ${JSON.stringify(step, (k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
      }
      model.price = got.price;
      priceEvent = got;
      if (got.converged) notes.push('converged');
    } else if (ce.DemandSubmitted.is(event) && data.market.toNumber() === model.marketId) {
      const who = data.who.toString();
      const budget = data.budget.toBigInt();
      const account = model.accounts.get(who);
      const bid = model.bids.find((b) => b.who === who);
      if (bid) {
        const delta = budget - bid.budget;
        account.free -= delta;
        account.reserved += delta;
        bid.budget = budget;
        bid.curve = decodeCurve(data.curve);
      } else {
        const deposit = api.consts.contractEquilibrium.bidDeposit.toBigInt();
        account.free -= budget + deposit;
        account.reserved += budget + deposit;
        model.bids.push({ who, curve: decodeCurve(data.curve), budget, deposit });
      }
    } else if (ce.MarketParamsUpdated.is(event) && data.market.toNumber() === model.marketId) {
      model.params = decodeParams(data.params);
      notes.push(`MarketParamsUpdated: capacity ${formatFixed(model.params.capacity)}`);
    } else if (ce.MarketCreated.is(event)) {
      model.marketId = data.market.toNumber();
      model.params = decodeParams(data.params);
      model.price = model.params.priceFloor;
      notes.push(`MarketCreated #${model.marketId}`);
    }
  }
  model.priceAt.set(blockNumber, model.price);
  return { notes, priceEvent, settledNow };
}

const names = new Map();
const nameOf = (address) => names.get(address) ?? address.slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Blocks: seal, apply, compare with the runtime API, print a row.

const scenario = {
  phase: 'S', // S(etup), then A … E
  reporters: [], // Quantity agents reporting every block
  referendum: null, // { index, taskId, enactedAt, lastPhase }
  blocks: 0,
  onEpoch: null,
};

async function block(extraNotes = []) {
  // Algorithm 1: each Quantity agent reports its best response to the last posted price.
  for (const agent of scenario.reporters) {
    const x = replica.demandAt({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta }, model.params.unitFee, model.price);
    await driver.queue(api.tx.contractEquilibrium.submitDemand(model.marketId, encodeCurve({ kind: 'Quantity', x }), BUDGET), agent.pair, `${agent.name} reports`);
  }
  const sealed = await driver.seal();
  scenario.blocks += 1;
  const { notes, priceEvent, settledNow } = applyEvents(sealed.number, sealed.events);
  notes.push(...extraNotes);
  if (scenario.reporters.length) notes.push(`${scenario.reporters.length} reports`);

  let eq = null;
  if (model.marketId !== null) {
    eq = await readEquilibrium(api, model.marketId, sealed.hash);
    const curves = activeCurves();
    const muStar = replica.clearingPrice(curves, model.params);
    const excess = replica.aggregateDemand(curves, model.params.unitFee, replica.clampPrice(model.params, model.price)) - model.params.capacity;
    if (eq.clearingPrice !== muStar || eq.price !== model.price || eq.excessDemand !== excess
      || eq.demandAtClearingPrice !== replica.aggregateDemand(curves, model.params.unitFee, muStar)) {
      throw new Fatal(`block #${sealed.number}: the runtime API's equilibrium (μ* ${formatFixed(eq.clearingPrice)}, price ${formatFixed(eq.price)}, excess ${formatFixed(eq.excessDemand)}) differs from the replica (μ* ${formatFixed(muStar)}, price ${formatFixed(model.price)}, excess ${formatFixed(excess)})`);
    }
  }
  if (scenario.referendum) notes.push(...await followReferendum(sealed));

  const row = priceEvent && eq
    ? `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${fmtPrice(priceEvent.price)} ${fmtQty(priceEvent.aggregateDemand)} ${fmtM(priceEvent.aggregateDemand - priceEvent.excessDemand)} ${fmtPrice(eq.clearingPrice)} ${fmtDist(eq.distance)}  ${notes.join('; ')}`
    : `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${''.padStart(13)} ${''.padStart(11)} ${''.padStart(6)} ${''.padStart(13)} ${''.padStart(9)}  ${notes.join('; ')}`;
  const interesting = notes.some((n) => n !== `${scenario.reporters.length} reports` && n !== 'converged');
  if (!options.quiet || interesting || sealed.number % 10 === 0) say(row);
  if (settledNow) await checkBalances(sealed, `after the settlement in block #${sealed.number}`);
  return { ...sealed, eq };
}

function printHeader() {
  say(`${'block'.padStart(5)} ph ${'price μ'.padStart(13)} ${'S(μ_prev)'.padStart(11)} ${'m'.padStart(6)} ${'μ* (API)'.padStart(13)} ${'|μ−μ*|'.padStart(9)}  events`);
}

// ---------------------------------------------------------------------------------------------
// Balance accounting.

async function checkBalances(sealed, when) {
  const addresses = [...model.accounts.keys()];
  const at = await api.at(sealed.hash);
  const [accounts, bids] = await Promise.all([
    at.query.system.account.multi(addresses),
    readBids(api, model.marketId, sealed.hash),
  ]);
  const mismatches = [];
  addresses.forEach((address, i) => {
    const expected = model.accounts.get(address);
    const data = accounts[i].data;
    const free = data.free.toBigInt();
    const reserved = data.reserved.toBigInt();
    const frozen = data.frozen.toBigInt();
    if (free !== expected.free || reserved !== expected.reserved || frozen !== 0n) {
      mismatches.push(`${expected.name}: free ${free} (expected ${expected.free}), reserved ${reserved} (expected ${expected.reserved}), frozen ${frozen}`);
    }
  });
  const sameBids = bids.length === model.bids.length && bids.every((bid, i) => {
    const m = model.bids[i];
    return bid.who === m.who && bid.budget === m.budget && bid.deposit === m.deposit
      && JSON.stringify(bid.curve, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(m.curve, (k, v) => (typeof v === 'bigint' ? v.toString() : v));
  });
  if (!sameBids) mismatches.push('the Bids storage differs from the model');
  const outcome = model.lastOutcome;
  check(mismatches.length === 0,
    `balances ${when}: ${addresses.length} accounts' free and reserved balances and ${bids.length} bids match the events to the planck`,
    mismatches.length ? mismatches.slice(0, 5).join('; ') : (outcome ? `epoch ${outcome.epoch}: ${formatFixed(outcome.allocated, 6)} units at μ = ${formatFixed(outcome.price, 9)}, ${formatEq(outcome.paid)} EQ paid` : ''));
}

// ---------------------------------------------------------------------------------------------
// Governance.

async function followReferendum(sealed) {
  const ref = scenario.referendum;
  const notes = [];
  const info = await api.query.referenda.referendumInfoFor.at(sealed.hash, ref.index);
  const state = referendumPhase(info, sealed.number, ref.track);
  let dispatched = null;
  for (const { event } of sealed.events) {
    if (event.section === 'referenda' && event.data.index?.toNumber?.() === ref.index) notes.push(`Referenda.${event.method}`);
    if (api.events.scheduler.Dispatched.is(event) && event.data.id.isSome && event.data.id.unwrap().toHex() === ref.taskId) {
      dispatched = event.data.result.isErr ? dispatchErrorName(api, event.data.result.asErr) : 'ok';
    }
  }
  if (dispatched) {
    notes.push(`enactment dispatched: ${dispatched}`);
    if (dispatched !== 'ok') throw new Fatal(`the enactment of referendum #${ref.index} failed: ${dispatched}`);
    ref.enactedAt = sealed.number;
  }
  if (state.phase !== ref.lastPhase) notes.push(`ref #${ref.index} ${state.phase}`);
  ref.lastPhase = state.phase;
  if (state.ended) throw new Fatal(`referendum #${ref.index} was ${state.phase} in block #${sealed.number}`);
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Convergence phases.

/**
 * Seals blocks until the price is within tolerance (`within(sealed)` true) and stays there for
 * HOLD_BLOCKS more blocks; checks that it got there within `bound` blocks of `startBlock`.
 * Goes on up to 2·bound + 20 blocks to measure a miss, then fails.
 */
async function converge({ label, startBlock, bound, within, everyBlock }) {
  const limit = (Number.isFinite(bound) ? bound * 2 : 2000) + 20;
  let reached = null;
  let stayed = true;
  for (let t = 1; t <= limit; t += 1) {
    const sealed = await block();
    if (everyBlock) everyBlock(sealed);
    const ok = within(sealed);
    if (reached === null && ok) reached = sealed.number - startBlock;
    else if (reached !== null && !ok) stayed = false;
    if (reached !== null && sealed.number - startBlock >= reached + HOLD_BLOCKS) break;
  }
  check(reached !== null && reached <= bound,
    `${label}: within tolerance after ${reached ?? `more than ${limit}`} blocks; the bound is ${bound}`);
  check(stayed, `${label}: stayed within tolerance for the ${HOLD_BLOCKS} blocks after`);
  if (reached === null) throw new Fatal(`${label} did not converge`);
  return reached;
}

// ---------------------------------------------------------------------------------------------
// The scenario.

const driver = new Driver();
const summary = {};

async function main() {
  say(`contract-equilibrium scenario — seed ${SEED} (reproduce with --seed ${SEED}), time limit ${TIME_LIMIT_S} s`);
  try {
    node = await startNode({ binary: options.node, sealing: 'manual' });
  } catch (error) {
    throw new Fatal(error.message);
  }
  say(`node ${options.node} (pid ${node.pid}) on ${node.url}, --sealing manual, log ${node.logFile}`);
  api = await connect(node.url);
  say(`connected: ${await api.rpc.system.chain()}, spec ${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion} [${seconds()} s]`);

  // Agents and accounts.
  const draws = drawPaperAgents(SEED, LOG_AGENTS + QUANTITY_AGENTS);
  const agents = draws.map((draw, i) => {
    const name = `${i < LOG_AGENTS ? 'L' : 'Q'}${String(i + 1).padStart(2, '0')}`;
    const pair = keyPair(`//ScenarioAgent${String(i + 1).padStart(2, '0')}`);
    names.set(pair.address, name);
    return { name, pair, kind: i < LOG_AGENTS ? 'LogUtility' : 'Quantity', ...draw };
  });
  const logAgents = agents.filter((a) => a.kind === 'LogUtility');
  const quantityAgents = agents.filter((a) => a.kind === 'Quantity');
  const payee = keyPair('//ScenarioPayee');
  names.set(payee.address, 'payee');
  for (const agent of agents) track(agent.pair.address, agent.name);
  track(payee.address, 'payee');
  const treasury = encodeAddress(u8aConcat(stringToU8a('modl'), api.consts.treasury.palletId.toU8a(), new Uint8Array(20)), 42);
  say(`agents (α ~ U(5,20), β ~ U(0.5,5)):`);
  for (const agent of agents) {
    say(`  ${agent.name} ${agent.kind.padEnd(10)} α ${formatFixed(agent.alpha).padEnd(9)} β ${formatFixed(agent.beta).padEnd(8)} ${agent.pair.address}`);
  }

  // Genesis state (no block is sealed before block 1; genesis has no parent for api.at).
  const [treasuryStart, issuanceStart] = await Promise.all([
    api.query.system.account(treasury),
    api.query.balances.totalIssuance(),
  ]);

  // Block 1: the market (sudo) and the funding (transfers from the dev accounts).
  const alice = keyPair('//Alice');
  const params = {
    capacity: toFixed('20'),
    unitFee: toFixed('0.5'),
    fixedFee: toFixed('0.5'),
    stepRule: { kind: 'DualAscent', eta: toFixed('1') },
    priceFloor: 0n,
    priceCeiling: toFixed('100'),
    epochLength: 25,
    tolerance: toFixed('0.000001'),
    payee: payee.address,
  };
  say(`\nmarket: capacity 20, τ 0.5, g 0.5, DualAscent { eta: 1 }, prices [0, 100], epochs of 25 blocks, tolerance 1e-6; created by sudo`);
  await driver.queue(api.tx.sudo.sudo(api.tx.contractEquilibrium.createMarket(encodeParams(params))), alice, 'sudo(createMarket)');
  const funders = FUNDERS.map(keyPair);
  let f = 0;
  for (const agent of agents) {
    await driver.queue(api.tx.balances.transferKeepAlive(agent.pair.address, FUNDING), funders[f % funders.length], `fund ${agent.name}`);
    f += 1;
  }
  await driver.queue(api.tx.balances.transferKeepAlive(payee.address, PAYEE_FUNDING), funders[f % funders.length], 'fund the payee');
  printHeader();
  await block([`${agents.length + 1} transfers`]);
  ensure(model.marketId !== null, `sudo created market ${model.marketId}`);
  say(`market ${model.marketId} created; ${agents.length} agents funded with ${formatEq(FUNDING)} EQ each from ${FUNDERS.length} dev accounts`);

  // Phase A: the LogUtility agents bid in one block; the price climbs from the floor.
  scenario.phase = 'A';
  for (const agent of logAgents) {
    await driver.queue(api.tx.contractEquilibrium.submitDemand(model.marketId, encodeCurve({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta }), BUDGET), agent.pair, `${agent.name} bids`);
  }
  const a0 = await block([`${logAgents.length} LogUtility bids`]);
  const floatsL = logAgents.map(agentFloats);
  const floatsQ = quantityAgents.map(agentFloats);
  const tau = fixedToNumber(model.params.unitFee);
  {
    const muStar = a0.eq.clearingPrice;
    ensure(muStar > model.params.priceFloor && muStar < model.params.priceCeiling, 'phase A: capacity binds (μ* strictly inside the price bounds)', `μ* = ${formatFixed(muStar)}`);
    const eta = replica.effectiveStepSize(activeCurves(), model.params, model.params.stepRule.eta);
    const L = replica.lipschitzBound(activeCurves(), model.params.unitFee, model.params.priceFloor);
    const bound = monotoneBound({ agents: floatsL, unitFee: tau, start: fixedToNumber(model.price), muStar: fixedToNumber(muStar), eta: fixedToNumber(eta), tolerance: fixedToNumber(model.params.tolerance) });
    say(`\nphase A — ${logAgents.length} LogUtility agents from μ_0 = ${formatFixed(model.price)} to μ* = ${formatFixed(muStar)} (runtime API):`);
    say(`  L = ${fixedToNumber(L).toFixed(6)}, η_eff = min(1, 1/L) = ${formatFixed(eta, 9)}, ℓ = |S'(μ*)| = ${bound.ell.toFixed(6)}; |μ_t − μ*| ≤ (1 − η·ℓ)^t·|μ_0 − μ*| = ${bound.rate.toFixed(6)}^t·${fixedToNumber(absDiff(model.price, muStar)).toFixed(6)}`);
    say(`  promise checked: |μ_t − μ*| ≤ ${formatFixed(model.params.tolerance)} within ${bound.blocks} blocks, and μ_t ≤ μ* at every block (no overshoot)`);
    let overshoot = 0n;
    const reached = await converge({
      label: 'phase A (LogUtility agents, exact monotone bound)',
      startBlock: a0.number,
      bound: bound.blocks,
      within: (sealed) => sealed.eq.distance <= model.params.tolerance,
      everyBlock: (sealed) => {
        if (sealed.eq.price > sealed.eq.clearingPrice && sealed.eq.price - sealed.eq.clearingPrice > overshoot) {
          overshoot = sealed.eq.price - sealed.eq.clearingPrice;
        }
      },
    });
    check(overshoot <= 100n, 'phase A: the price approached μ* from below without crossing it (up to 10⁻¹⁶)', overshoot ? `crossed by ${formatFixed(overshoot)}` : '');
    summary.A = { reached, bound: bound.blocks, muStar };
  }

  // Phase B: the Quantity agents join and report their best response every block.
  scenario.phase = 'B';
  const previousPrice = model.price;
  scenario.reporters = quantityAgents;
  const b0 = await block(['Quantity agents join']);
  {
    const allAsLog = agents.map((a) => ({ kind: 'LogUtility', alpha: a.alpha, beta: a.beta }));
    const muStarStar = replica.clearingPrice(allAsLog, model.params);
    const eta = replica.effectiveStepSize(activeCurves(), model.params, model.params.stepRule.eta);
    const e0 = fixedToNumber(model.price) - fixedToNumber(muStarStar);
    const eMinus1 = fixedToNumber(previousPrice) - fixedToNumber(muStarStar);
    const bound = delayedBound({ logAgents: floatsL, quantityAgents: floatsQ, unitFee: tau, floor: fixedToNumber(model.params.priceFloor), ceiling: fixedToNumber(model.params.priceCeiling), muStarStar: fixedToNumber(muStarStar), e0, eMinus1, eta: fixedToNumber(eta), tolerance: fixedToNumber(model.params.tolerance) });
    say(`\nphase B — ${quantityAgents.length} Quantity agents report x(μ_{t−1}) every block; μ** (all ${agents.length} agents' true best responses) = ${formatFixed(muStarStar)}:`);
    say(`  η_eff = ${formatFixed(eta, 9)} (L counts LogUtility bids only); e_0 = ${e0.toExponential(3)}, e_−1 = ${eMinus1.toExponential(3)}; one-block report lag → second-order recursion, asymptotic rate ${bound.rate.toFixed(6)}`);
    say(`  promise checked (looser, lagged reports): |μ_t − μ**| and the API's |μ_t − μ*_t| ≤ ${formatFixed(model.params.tolerance)} within ${bound.blocks} blocks`);
    ensure(Number.isFinite(bound.blocks), 'phase B: a convergence bound exists for these agents');
    const reached = await converge({
      label: 'phase B (with lagged Quantity reports, interval bound)',
      startBlock: b0.number,
      bound: bound.blocks,
      within: (sealed) => sealed.eq.distance <= model.params.tolerance && absDiff(sealed.eq.price, muStarStar) <= model.params.tolerance,
    });
    summary.B = { reached, bound: bound.blocks, muStar: muStarStar };
  }

  // Phase C: a referendum raises the capacity; the price re-converges.
  scenario.phase = 'C';
  {
    const track = trackInfo(api, MARKET_ADMIN_TRACK);
    const proposedParams = { ...model.params, capacity: NEW_CAPACITY };
    const proposal = setParamsProposal(api, model.marketId, proposedParams);
    const index = (await api.query.referenda.referendumCount()).toNumber();
    const proposer = keyPair(PROPOSER);
    say(`\nphase C — referendum #${index}: ${PROPOSER} proposes contractEquilibrium.setMarketParams(${model.marketId}, capacity ${formatFixed(model.params.capacity)} → ${formatFixed(NEW_CAPACITY)}) on track ${track.id} (${track.name}); preimage ${proposal.len} bytes, ${proposal.hash.slice(0, 18)}…`);
    await driver.queue(api.tx.preimage.notePreimage(proposal.hex), proposer, 'Preimage.notePreimage');
    await driver.queue(api.tx.referenda.submit(MARKET_ADMIN_ORIGIN, { Lookup: { hash: proposal.hash, len: proposal.len } }, { After: 0 }), proposer, 'Referenda.submit');
    await driver.queue(api.tx.referenda.placeDecisionDeposit(index), proposer, 'Referenda.placeDecisionDeposit');
    scenario.referendum = { index, track, taskId: enactmentTaskId(index), lastPhase: '', enactedAt: null };
    const submitted = await block(['preimage, submit, decision deposit']);
    const submittedEvent = submitted.events.find(({ event }) => api.events.referenda.Submitted.is(event))?.event;
    ensure(submittedEvent?.data.index.toNumber() === index && submittedEvent.data.track.toNumber() === MARKET_ADMIN_TRACK,
      `referendum #${index} submitted on track ${MARKET_ADMIN_TRACK} with its decision deposit`);
    for (const vote of VOTES) {
      await driver.queue(voteTx(api, index, vote), keyPair(vote.uri), `${vote.uri} votes ${vote.aye ? 'aye' : 'nay'} ${vote.conviction} ${formatEq(vote.balance)} EQ`);
    }
    await block(VOTES.map((v) => `${v.uri.slice(2)} ${v.aye ? 'aye' : 'nay'} ${v.conviction} ${formatEq(v.balance)}`));
    const maxBlocks = track.preparePeriod + track.decisionPeriod + track.confirmPeriod + track.minEnactmentPeriod + 5;
    let latest = submitted.number;
    while (scenario.referendum.enactedAt === null && latest < submitted.number + maxBlocks) {
      latest = (await block()).number;
    }
    const enactedAt = scenario.referendum.enactedAt;
    ensure(enactedAt !== null && sameParams(model.params, proposedParams),
      `referendum #${index} enacted by the scheduler ${enactedAt === null ? 'never' : `in block #${enactedAt}, ${enactedAt - submitted.number} blocks after submission`}; the market has the proposed parameters`);
    scenario.referendum = null;
    summary.governance = { index, blocks: enactedAt - submitted.number };

    const allAsLog = agents.map((a) => ({ kind: 'LogUtility', alpha: a.alpha, beta: a.beta }));
    const muStarStar = replica.clearingPrice(allAsLog, model.params);
    const eta = replica.effectiveStepSize(activeCurves(), model.params, model.params.stepRule.eta);
    const e0 = fixedToNumber(model.price) - fixedToNumber(muStarStar);
    const eMinus1 = fixedToNumber(model.priceAt.get(enactedAt - 1)) - fixedToNumber(muStarStar);
    const bound = delayedBound({ logAgents: floatsL, quantityAgents: floatsQ, unitFee: tau, floor: fixedToNumber(model.params.priceFloor), ceiling: fixedToNumber(model.params.priceCeiling), muStarStar: fixedToNumber(muStarStar), e0, eMinus1, eta: fixedToNumber(eta), tolerance: fixedToNumber(model.params.tolerance) });
    ensure(muStarStar < summary.B.muStar, 'more capacity lowers the equilibrium price', `μ** ${formatFixed(summary.B.muStar, 9)} → ${formatFixed(muStarStar, 9)}`);
    say(`  the new capacity applies from block #${enactedAt + 1}; new μ** = ${formatFixed(muStarStar)}; e_0 = ${e0.toExponential(3)}, e_−1 = ${eMinus1.toExponential(3)}`);
    say(`  promise checked (lagged reports): |μ_t − μ**| and the API's |μ_t − μ*_t| ≤ ${formatFixed(model.params.tolerance)} within ${bound.blocks} blocks of the enactment`);
    ensure(Number.isFinite(bound.blocks), 'phase C: a convergence bound exists for these agents');
    const reached = await converge({
      label: 'phase C (after the referendum, interval bound)',
      startBlock: enactedAt,
      bound: bound.blocks,
      within: (sealed) => sealed.eq.distance <= model.params.tolerance && absDiff(sealed.eq.price, muStarStar) <= model.params.tolerance,
    });
    summary.C = { reached, bound: bound.blocks, muStar: muStarStar };
  }

  // Phase D: invalid demands and non-governance parameter changes are refused by name.
  scenario.phase = 'D';
  say(`\nphase D — invalid demands and parameter changes by signed accounts:`);
  {
    const market = model.marketId;
    const paramsBefore = model.params;
    const [l1, l2, l3, l4, l5] = logAgents;
    const q1 = quantityAgents[0];
    const tx = api.tx.contractEquilibrium;
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'LogUtility', alpha: 0n, beta: toFixed('1') }), BUDGET), l1.pair, `${l1.name}: a demand with α = 0`, 'ContractEquilibrium.AlphaOutOfRange');
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'LogUtility', alpha: toFixed('10'), beta: toFixed('0.0001') }), BUDGET), l2.pair, `${l2.name}: a demand with β = 0.0001`, 'ContractEquilibrium.BetaOutOfRange');
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'Quantity', x: toFixed('2000000000') }), BUDGET), l3.pair, `${l3.name}: a reported quantity of 2·10⁹`, 'ContractEquilibrium.QuantityOutOfRange');
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'LogUtility', alpha: toFixed('10'), beta: toFixed('1') }), eqToPlanck('0.05')), l4.pair, `${l4.name}: a budget of 0.05 EQ (below the 0.1 EQ bid deposit)`, 'ContractEquilibrium.BudgetBelowDeposit');
    await driver.queue(tx.submitDemand(99, encodeCurve({ kind: 'LogUtility', alpha: toFixed('10'), beta: toFixed('1') }), BUDGET), l5.pair, `${l5.name}: a demand in market 99`, 'ContractEquilibrium.UnknownMarket');
    await driver.queue(tx.setMarketParams(market, encodeParams({ ...paramsBefore, capacity: toFixed('1000') })), q1.pair, `${q1.name} (a bidder, signed): setMarketParams`, 'BadOrigin');
    await driver.queue(tx.setMarketParams(market, encodeParams({ ...paramsBefore, capacity: toFixed('1000') })), alice, '//Alice (the sudo key, but signed): setMarketParams', 'BadOrigin');
    await driver.queue(tx.createMarket(encodeParams(paramsBefore)), l1.pair, `${l1.name} (signed): createMarket`, 'BadOrigin');
    const sealed = await block(['8 invalid calls']);
    const after = await readMarket(api, market, sealed.hash);
    const marketCount = (await api.query.contractEquilibrium.nextMarketId.at(sealed.hash)).toNumber();
    check(sameParams(after.params, paramsBefore) && marketCount === model.marketId + 1,
      'the refused calls changed nothing: the market keeps its parameters and no market was created');
  }

  // Phase E: the next settlement, then the final accounting.
  scenario.phase = 'E';
  const settlementsBefore = model.settlements;
  say(`\nphase E — until the next settlement (every ${model.params.epochLength} blocks), then the final accounting:`);
  let last = null;
  for (let i = 0; i <= model.params.epochLength && model.settlements === settlementsBefore; i += 1) last = await block();
  ensure(model.settlements > settlementsBefore, 'the epoch settled');
  scenario.reporters = [];
  const at = await api.at(last.hash);
  const [payeeAccount, treasuryAccount, issuance] = await Promise.all([
    at.query.system.account(payee.address),
    at.query.system.account(treasury),
    at.query.balances.totalIssuance(),
  ]);
  check(payeeAccount.data.free.toBigInt() === PAYEE_FUNDING + model.payeeReceived,
    `the payee received exactly Σ μ·x over ${model.settlements} settlements`, `${formatEq(model.payeeReceived)} EQ`);
  check(treasuryAccount.data.free.toBigInt() - treasuryStart.data.free.toBigInt() === model.treasuryReceived,
    'the treasury received exactly the fees τ·x + g of every market\'s settlements', `${formatEq(model.treasuryReceived)} EQ`);
  check(issuanceStart.toBigInt() - issuance.toBigInt() === model.feesBurned,
    'the total issuance fell by exactly the transaction fees (burned); settlements moved funds without minting or burning',
    `${formatEq(model.feesBurned)} EQ of fees`);
}

let exitCode = 1;
try {
  await main();
  exitCode = checks.every((c) => c.ok) ? 0 : 1;
} catch (error) {
  if (interrupted) await new Promise(() => {}); // interrupt() reports, stops the node and exits
  if (!(error instanceof Fatal)) check(false, 'the scenario ran to the end', error.stack ?? String(error));
  else say(`stopped: ${error.message}`);
  if (node) say(`node log (last lines):\n${node.tail(15)}`);
  exitCode = 1;
} finally {
  clearTimeout(timeLimit);
  await shutdown();
}
if (node && exitCode === 0) node.removeLog();
else if (node) say(`the node's log is kept at ${node.logFile}`);

const failed = checks.filter((c) => !c.ok);
say(`\nsummary (seed ${SEED}, ${scenario.blocks} blocks, ${seconds()} s):`);
for (const phase of ['A', 'B', 'C']) {
  const s = summary[phase];
  if (s) say(`  phase ${phase}: μ ${phase === 'A' ? 'reached μ*' : 'reached μ**'} = ${formatFixed(s.muStar, 9)} within 1e-6 in ${s.reached} blocks (bound ${s.bound})`);
}
if (summary.governance) say(`  referendum #${summary.governance.index}: enacted ${summary.governance.blocks} blocks after submission`);
say(`  ${checks.length - failed.length} of ${checks.length} checks passed${failed.length ? `; FAILED: ${failed.map((c) => c.what).join(' | ')}` : ''}`);
process.exit(exitCode);
