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
//   (//ScenarioAgentNN) funded with 20 000 EQ by transfers from Alice … Ferdie (there is no
//   utility pallet: one block of transfers with explicit nonces; the same block funds phase E's
//   attacker, //ScenarioAttacker, with 10 EQ, its sniper, //ScenarioSniper, with 1 100 EQ, and
//   the keeper, //ScenarioKeeper, with 100 EQ). The first 16 bid as LogUtility { α, β } (the
//   chain evaluates their best response); the last 4 keep their α, β private and bid
//   Quantity { x }, re-reporting every block their best response x = max(0, α/(β+τ+μ) − 1) to
//   the last price they saw, as Algorithm 1's agents do (a response of zero is a withdrawal:
//   an order that demands nothing is refused). Every order pays at most 50 EQ per
//   epoch for 256 epochs (MaxOrderEpochs, longer than any run): 12 800 EQ move into the pallet's
//   escrow account when it is placed, and a report that replaces an order keeps the same terms.
// - Market: a fresh market created with sudo (Alice), so that market 0's demo bidders do not
//   interfere: capacity 20, τ = 0.5, g = 0.5, DualAscent { eta: 1 } (so the step is
//   η = min(1, 1/L) = 1/L, the largest the chain allows), prices in [0, 100], epochs of 25
//   blocks, tolerance 10⁻⁶, payee a fresh account (//ScenarioPayee).
// - Settlement is lazy: at an epoch's end the chain records the epoch's clearing (EpochSettled)
//   and pays the payee and the treasury out of escrow; each bid's allocation and payment
//   (BidSettled) follow when the bid is next touched. The reporters touch theirs every block;
//   for every other bid the keeper calls settle_bid in the block after each settlement (after
//   comparing the runtime API's bid view, what settling would allocate and charge, with the
//   replica's).
// - Phases: A) the 16 LogUtility agents bid in one block; the price climbs from the floor to μ*.
//   B) the 4 Quantity agents join (in the open half of an epoch, so that their bids count at once)
//   and report every block; the price moves to the equilibrium μ** of the declared book and the
//   reporters' true best responses. C) a referendum on the market_admin track (preimage, submit,
//   decision deposit, conviction votes by Alice and Bob, enactment by the scheduler) raises the
//   capacity to 30; the price re-converges to the new μ**.
//   D) invalid calls are rejected with their named errors (AlphaOutOfRange, BetaOutOfRange,
//   QuantityOutOfRange, BudgetBelowDeposit, UnknownMarket, EpochsOutOfRange twice,
//   NothingToSettle, NoDemand; TermsFixedByBids for a fee change through sudo; OrderBacksNothing
//   for 10⁹ units on a budget of g, on runtimes whose metadata has that error) and parameter
//   changes by signed accounts (a bidder, and Alice without sudo) fail with BadOrigin; nothing
//   changes.
//   E) three regressions ride the next settlement (the first two placed while the book is open
//   and at least ATTACK_LEAD blocks before it, otherwise the settlement after it; the third in
//   the block right before it), then the final accounting:
//   - unbacked demand: the attacker bids Quantity { x: 10⁹ } for one epoch on a budget of
//     g + 0.2 EQ, which backs 0.2/(g_j + τ) units at grid price g_j (at most 0.4): its contract
//     at every grid price must be exactly that, every PriceUpdated and runtime-API view is the
//     replica's with it, and the API's μ* moves no further than 0.4 units at every price would
//     move it (counted as declared, the first step would have taken the price to the ceiling:
//     printed). Settled by the keeper, it is allocated at most what 0.2 EQ pays for and pays at
//     most its budget, the honest bids lose no more than its allocation, and the ended bid
//     leaves with the rest of its escrow and its deposit. (A budget of g itself backs nothing:
//     runtimes that refuse such an order, OrderBacksNothing, are checked for it in phase D.)
//   - locks do not dodge payments: the LogUtility bidder with the largest demand (among those
//     that sign nothing later) delegates its votes (convictionVoting.delegate, track 1, to Dave)
//     with a lock on its whole balance, its deposit included, less twice the delegation's fee:
//     its frozen balance exceeds its free balance, so it could not pay from its own account.
//     Its budgets are in escrow already: the payee and the treasury must receive their epoch
//     payout from escrow, exactly the replica's, and when the keeper settles the locked bid it
//     must be charged exactly the replica's payment and refunded the rest of the epoch's budget.
//   - last-block sniping (issue 11's attack 2): in the block right before the settlement (the
//     book sealed) the sniper bids Quantity { x: 20 } on 1 000 EQ for one epoch (which backs all
//     20 units) and withdraws in the same block. Its DemandSubmitted counts from the next epoch,
//     and its DemandWithdrawn refunds its escrow and deposit at once; no BidSettled ever names
//     it, every honest bid is allocated and pays exactly what the replica settles without it (an
//     unsealed book would have settled it a share of the capacity at a price that never saw it:
//     checked to differ), the price steps and runtime-API views from that block to the
//     settlement equal the replica's without it, and its balance is back where it was less its
//     fees.
//   - a budget cut in the same block: the LogUtility bidder (not the locker) with the largest
//     demand resubmits its curve with a budget of 0.1 EQ (the deposit). The old order is cut to
//     the epoch under way (its budget for it stays in escrow, the rest is refunded at once) and
//     the cut one queues from the next epoch; settled, it pays the replica's full payment out of
//     the old budget (the cut applied at once would have paid 0), then the cut applies and the
//     old budget's remainder is refunded.
// - Bounds (lib/bounds.mjs, where the derivations are written out). The chain steps on its book
//   on a price grid, S̃ (book.rs): piecewise linear between the grid prices, L its steepest
//   cell anywhere on the grid.
//   A) with declared (LogUtility) orders only, the map μ ↦ μ + η(S̃(μ) − m) is non-decreasing
//      (η ≤ 1/L), so the price approaches the book's μ* from below without crossing it and
//      |μ_{t+1} − μ*| ≤ (1 − η·ℓ)|μ_t − μ*|, ℓ the least cell slope between μ_0 and μ*.
//      The promise checked: the runtime API's distance |μ_t − μ*| ≤ tolerance after at most
//      T_A = ⌈ln(d_0/tol)/(−ln(1 − η·ℓ))⌉ blocks, and μ_t ≤ μ* at every block.
//   B, C) reports lag one block while the order book is open, so the step sees
//      S̃_L(μ_t) + Q(μ_{t−1}) (S̃_L the declared orders' book, Q the reports, whose contracts are
//      the reported x at the grid prices around μ_t, checked every block): a second-order
//      recursion e_{t+1} = (1 − η·a_t)·e_t − η·b_t·e_{t−1} in e_t = μ_t − μ**; while it is sealed
//      (the second half of each epoch) a report queues for the next epoch and the step sees the
//      last one made while the book was open, e_{t−1} becoming that older e_j. Bounded by
//      interval arithmetic from the measured starting errors with the slopes' ranges over the
//      reachable prices (the cells' slopes for S̃_L, the curves' for Q). This is looser than A's
//      bound and is documented as such. The promise checked: from T_B (T_C) blocks on, for
//      HOLD_BLOCKS + 1 blocks, both |μ_t − μ**| and the runtime API's distance |μ_t − μ*_t|
//      (μ*_t computed with the standing reports) are ≤ tolerance (a stale report frozen while
//      the book is sealed can carry the price through the band and out again before it
//      settles, so the bound is for the first block from which it stays).
//   L is the book's steepest cell, and a report's contract falls where its budget stops backing
//   it, so the step size η = min(1, 1/L) may move with the reports: the recursion takes it over
//   a range (every reporter at its response to the lowest … the highest price its report may
//   have been made at), and every step size the phase uses is checked to lie in it. Budgets
//   never cap a true best response (each budget less g is at least α, checked), so a declared
//   order's contracts are its curve's (screened by the paper's participation decision).
//   Floats are used for the bounds only (with safety margins); the chain's fixed-point rounding
//   is absorbed by a 10⁻¹² slack on the tolerance.
// - Exactness (BigInt; lib/mechanism.mjs and lib/book.mjs replicate the chain's math): the model
//   keeps every bid as the chain stores it (its order terms, a queued next order, settled_to,
//   escrow, deposit) and builds the book from the orders that count in the epoch under way, each
//   entered on the grid as the chain enters it (book.rs `GridOrder`). Every market call the
//   scenario makes is replayed in the model (impls.rs `do_submit_demand`, `do_withdraw_demand`,
//   `do_settle_bid`: the sealed book, settling what is due, cutting and queueing orders, the
//   escrow top-up or refund, the deposit hold) and the events it must emit — BidSettled with
//   each epoch's allocation and payment (book.rs `Clearing::settle`), Balances.Transfer to and
//   from escrow, Balances.Held/Released, DemandSubmitted (counts_from, counts_until),
//   DemandWithdrawalScheduled, DemandWithdrawn — must be exactly the extrinsic's events, in
//   order. Every EpochSettled must come in the block the model expects with the outcome of
//   book.rs `clear` (clearing price, grid cell and weights, demand, allocation, bidders,
//   participants, total paid, capacity) and its payouts from escrow to the payee and the
//   treasury; market 0's settlements are checked the same way against its stored book. Every
//   PriceUpdated of the scenario's market must equal the replica's step on the book; every
//   block the runtime API's μ*, S̃(μ*) and excess demand must equal the replica's; after every
//   settlement the runtime API's bid view of every bid must equal the model's. After every
//   keeper block and at the end, each tracked account's free, reserved and frozen balances must
//   equal the model built from the events (transfers, fees, holds, locks), to the planck, and
//   the Bids, Books, BookChanges and Clearings storage must equal the model; what the bids paid
//   for each settled epoch may exceed what the epoch paid out by rounding dust (each bid's
//   payment is rounded up, the payouts down) and by no more than a planck per bid and two. The
//   payee must have received exactly the payouts Σ to_balance(Σ w·g·A), the treasury exactly
//   the fees of every market's settlements, the escrow must hold what its bids are owed, and the
//   total issuance must have fallen by exactly the transaction fees (they are burned).
//
// Output: a table with one row per block (price μ after the block, S̃ at the previous price, the
// capacity m of the step, the runtime API's μ*, |μ − μ*|, events), a line per check, and a
// summary. Exit 0 when every check passed, 1 otherwise.

import { parseArgs } from 'node:util';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { encodeAddress } from '@polkadot/util-crypto';
import { connect, dispatchErrorName, innerFailure, keyPair } from './lib/chain.mjs';
import { absDiff, eqToPlanck, fixedToNumber, formatEq, formatFixed, max, min, toFixed } from './lib/fixed.mjs';
import * as replica from './lib/mechanism.mjs';
import * as book from './lib/book.mjs';
import {
  bigintJson, decodeCurve, decodeOutcome, decodeParams, decodeTotals, encodeCurve, encodeParams, escrowAccount,
  readBidView, readBids, readBook, readBookChanges, readClearings, readEquilibrium, readMarket, sameParams,
} from './lib/market.mjs';
import { MARKET_ADMIN_ORIGIN, MARKET_ADMIN_TRACK, enactmentTaskId, referendumPhase, setParamsProposal, trackInfo, voteTx } from './lib/governance.mjs';
import { agentFloats, drawPaperAgents } from './lib/agents.mjs';
import { delayedBound, griddedCurve, monotoneBound } from './lib/bounds.mjs';
import { NodeGuard, defaultNodeBinary, startNode } from './lib/node.mjs';

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
const FUNDING = eqToPlanck('20000');
const BUDGET = eqToPlanck('50'); // per epoch: at least 2α + g for every agent (α < 20), so no budget caps a report near its price
const ORDER_EPOCHS = 256; // MaxOrderEpochs: every order outlasts the run (6 400 blocks)
const PAYEE_FUNDING = eqToPlanck('1');
const KEEPER_FUNDING = eqToPlanck('100');
const FUNDERS = ['//Alice', '//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];
const PROPOSER = '//Charlie';
const VOTES = [
  { uri: '//Alice', aye: true, conviction: 'Locked3x', balance: eqToPlanck('200000') },
  { uri: '//Bob', aye: true, conviction: 'Locked1x', balance: eqToPlanck('100000') },
];
const NEW_CAPACITY = toFixed('30');
const ATTACKER_FUNDING = eqToPlanck('10');
const ATTACK_QUANTITY = toFixed('1000000000'); // Quantity { x: 10⁹ }, the most a report may be
const ATTACK_MARGIN = eqToPlanck('0.2'); // what the attacker's budget leaves above g: it backs 0.2/(μ + τ) units
const DECLARED_BUDGET = 10n ** 24n; // planck: enough to back 10⁹ units at any price, for the counterfactual "counted as declared"
const ATTACK_LEAD = 3; // the unbacked bid stands for at least ATTACK_LEAD − 1 steps before the settlement
const LOCK_TARGET = '//Dave'; // whom the locking bidder delegates its votes to
const SNIPER_FUNDING = eqToPlanck('1100');
const SNIPE_QUANTITY = toFixed('20'); // issue 11's attack 2: Quantity { x: 20 } in the block before a settlement
const SNIPE_BUDGET = eqToPlanck('1000'); // ample: backs 20 units at any grid price up to 49.5 (checked at the posted one)
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
const guard = new NodeGuard({ timeLimitS: TIME_LIMIT_S, say });

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

  /**
   * Signs `tx` and has the pool accept it for the next block. `expect`: an error name, or null.
   * `call`: what the model replays when the call is one of the scenario market's —
   * { kind: 'submit', curve, budget, epochs } | { kind: 'withdraw' } | { kind: 'settle', who }.
   */
  async queue(tx, pair, label, expect = null, call = null) {
    const nonce = await this.nextNonce(pair);
    await tx.signAsync(pair, { nonce });
    this.pending.push({ hash: tx.hash.toHex(), label, who: pair.address, expect, call, submitted: api.rpc.author.submitExtrinsic(tx) });
  }

  /** Seals one block with everything queued; returns { number, hash, parentHash, events, outcomes }. */
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
    const [block, events] = await Promise.all([api.rpc.chain.getBlock(hash), api.query.system.events.at(hash)]);
    const { number: numberCodec, parentHash } = block.block.header;
    const number = numberCodec.toNumber();
    const outcomes = [];
    const indexOf = new Map(block.block.extrinsics.map((ex, i) => [ex.hash.toHex(), i]));
    for (const p of pending) {
      const index = indexOf.get(p.hash);
      if (index === undefined) throw new Fatal(`${p.label} was not included in block #${number}`);
      const own = events.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === index);
      const failed = own.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
      const error = failed ? dispatchErrorName(api, failed.event.data.dispatchError) : innerFailure(api, own);
      outcomes.push({ ...p, index, error, events: own });
      if (p.expect === null && error) throw new Fatal(`${p.label} failed in block #${number}: ${error}`);
      if (p.expect !== null) check(error === p.expect, `${p.label} is rejected with ${p.expect}`, error ? `got ${error}` : 'it succeeded');
    }
    return { number, hash, parentHash: parentHash.toHex(), events, outcomes };
  }
}

// ---------------------------------------------------------------------------------------------
// The model: what the scenario expects the chain's state to be, replaying the pallet.

const model = {
  marketId: null,
  params: null,
  price: 0n,
  priceAt: new Map(), // block number → price after it
  epoch: 0, // the epoch under way
  epochStart: 0, // the block it started in (the market's creation, or the settlement before it)
  epochLength: 0, // its length: the parameters' when it started (a new length applies from the next epoch)
  // Storage `Bids(market, who)`: who → { order, next, settledTo, escrow, deposit }, with order
  // terms { curve, budget (planck per epoch), from, until, exit } (market.mjs `decodeBid`).
  bids: new Map(),
  clearings: new Map(), // storage `Clearings`: epoch → { clearing, unsettled }
  outcomes: new Map(), // epoch → the outcome EpochSettled recorded, with its payouts { toPayee, fees }
  settledLog: [], // every BidSettled of the market: { block, epoch, who, allocation, payment }
  lastSettlementBlock: null,
  accounts: new Map(), // address → { name, free, reserved, frozen }
  escrow: null, // the pallet's escrow account
  treasury: null,
  deposit: 0n, // BidDeposit
  payeeReceived: 0n,
  treasuryReceived: 0n,
  feesBurned: 0n,
  settlements: 0,
  otherSettlements: 0, // other markets' settlements checked (market 0's)
  lastOutcome: null,
};

/** types.rs `OrderTerms::counts_in`. */
const countsIn = (terms, epoch) => terms.from <= epoch && epoch < terms.until;
/** A bid's order terms: its order, and the one queued after it. */
const termsOf = (bid) => (bid.next ? [bid.order, bid.next] : [bid.order]);
/**
 * types.rs `Market::seal_block`: the first block of the epoch under way in which the book is
 * sealed, ⌊L/2⌋ blocks after it started. From then on a new order counts from the next epoch.
 */
const sealBlock = () => model.epochStart + Math.floor(model.epochLength / 2);
/** types.rs `Market::epoch_end`: the block whose first step settles the epoch under way. */
const epochEnd = () => model.epochStart + model.epochLength;
const gridOf = () => book.priceGridOf(model.params);

/**
 * An order's contracts on the market's grid (book.rs `GridOrder::new`, `units_at`): { entered,
 * exit, units[j] for j < exit }. Cached by curve and budget (the market's fees and price bounds
 * cannot change while it holds bids).
 */
const contractsCache = new Map();
function contractsOf(terms) {
  const { unitFee, fixedFee, priceFloor, priceCeiling } = model.params;
  const key = JSON.stringify([terms.curve, terms.budget, unitFee, fixedFee, priceFloor, priceCeiling], bigintJson);
  let contracts = contractsCache.get(key);
  if (!contracts) {
    if (contractsCache.size > 1_000) contractsCache.clear();
    const grid = gridOf();
    const entered = book.gridOrder(replica.order(terms.curve, replica.toTokens(terms.budget, BALANCE_UNIT), fixedFee), unitFee, grid);
    const units = Array.from({ length: entered.exit }, (_, j) => book.unitsAt(entered, grid, j));
    contracts = { entered, exit: entered.exit, units };
    contractsCache.set(key, contracts);
  }
  return contracts;
}
/** book.rs `BookTotals::add` of cached contracts. */
function addContracts(totals, contracts) {
  for (let j = 0; j < contracts.exit; j += 1) {
    totals.units[j] = replica.sat(totals.units[j] + contracts.units[j]);
    totals.participants[j] += 1;
  }
}
/** The default selection: the orders that count in the epoch under way. */
const countedNow = (_who, terms) => (countsIn(terms, model.epoch) ? terms : null);
/**
 * The book of the orders `select(who, terms)` picks (it may return changed terms, or null to
 * leave an order out), plus `extra` [{ who, terms }]: { totals, counted, entries [{ who, terms }] }.
 */
function bookOf(select = countedNow, extra = []) {
  const totals = book.emptyTotals();
  const entries = [];
  for (const [who, bid] of model.bids) {
    for (const terms of termsOf(bid)) {
      const chosen = select(who, terms);
      if (chosen) entries.push({ who, terms: chosen });
    }
  }
  entries.push(...extra);
  for (const { terms } of entries) addContracts(totals, contractsOf(terms));
  return { totals, counted: entries.length, entries };
}
const without = (excluded) => (who, terms) => (who === excluded ? null : countedNow(who, terms));
const griddedOf = (totals) => [book.griddedDemand(gridOf(), totals)];

/** A bid's settlement for one epoch from its clearing (book.rs `Clearing::settle`; the pallet rounds the payment up to the planck, at most the budget). */
function settleTerms(clearing, terms) {
  const outcome = book.settleOrder(clearing, contractsOf(terms).entered, gridOf());
  return { allocation: outcome.allocation, payment: min(replica.toBalanceUp(outcome.payment, BALANCE_UNIT), terms.budget) };
}
/**
 * The pallet's `settle_epoch` on a book (book.rs `clear` at the posted price): the clearing, the
 * payouts in planck, and each order's settlement.
 */
function settleBook(select = countedNow, extra = []) {
  const { totals, counted, entries } = bookOf(select, extra);
  const { unitFee, fixedFee, capacity } = model.params;
  const { clearing, totals: owed } = book.clear(gridOf(), totals, unitFee, fixedFee, capacity, model.price);
  const perBid = new Map(entries.map(({ who, terms }) => [who, settleTerms(clearing, terms)]));
  return { clearing, owed, counted, perBid, toPayee: replica.toBalance(owed.toPayee, BALANCE_UNIT), fees: replica.toBalance(owed.fees, BALANCE_UNIT) };
}

/** The epochs `bid` counted in, settled for the market and not yet for it: [{ epoch, terms }] (impls.rs `settle_due`'s loop). */
function dueEpochs(bid, through = model.epoch) {
  const due = [];
  for (const terms of termsOf(bid)) {
    for (let epoch = Math.max(terms.from, bid.settledTo); epoch < Math.min(terms.until, through); epoch += 1) due.push({ epoch, terms });
  }
  return due;
}
/** Whether settling `bid` now removes it (impls.rs `do_settle_bid`: its orders have ended). */
const hasEnded = (bid) => bid.next === null && bid.order.until <= model.epoch;
/** impls.rs `unsettled`: what settling `bid` now would allocate and charge it. */
function unsettled(bid) {
  let allocation = 0n;
  let payment = 0n;
  for (const { epoch, terms } of dueEpochs(bid)) {
    const record = model.clearings.get(epoch);
    if (!record) continue;
    const settled = settleTerms(record.clearing, terms);
    allocation = replica.sat(allocation + settled.allocation);
    payment += settled.payment;
  }
  return { allocation, payment };
}
/** impls.rs `escrow_needed`: each order's budget for each of its epochs from `settled_to` on. */
const escrowNeeded = (bid) => termsOf(bid).reduce((sum, terms) => sum + terms.budget * BigInt(Math.max(0, terms.until - Math.max(terms.from, bid.settledTo))), 0n);

// The pallet's calls, replayed: each mutates the model and returns the events the chain must emit
// (the pallet's and the balance moves: { type: 'Transfer', from, to, amount }, { type: 'Held' |
// 'Released', who, amount }).

/** impls.rs `settle_due`: charges each due epoch from the bid's escrow; promotes a queued order whose time has come. */
function settleDue(who, bid, through, events) {
  const due = dueEpochs(bid, through);
  for (const { epoch, terms } of due) {
    const record = model.clearings.get(epoch);
    if (!record) throw new Fatal(`model: no clearing record for epoch ${epoch}, which ${nameOf(who)} owes`);
    const { allocation, payment } = settleTerms(record.clearing, terms);
    bid.escrow = replica.satSub(bid.escrow, payment);
    record.unsettled -= 1;
    if (record.unsettled === 0) model.clearings.delete(epoch);
    events.push({ type: 'BidSettled', epoch, who, allocation, payment });
  }
  bid.settledTo = Math.max(bid.settledTo, through);
  if (bid.next && bid.order.until <= bid.settledTo) {
    bid.order = bid.next;
    bid.next = null;
  }
  return due.length;
}
/** impls.rs `adjust_escrow`: tops the bid's escrow up to what it needs, or refunds the excess. */
function adjustEscrow(who, bid, events) {
  const needed = escrowNeeded(bid);
  if (needed > bid.escrow) events.push({ type: 'Transfer', from: who, to: model.escrow, amount: needed - bid.escrow });
  else if (bid.escrow > needed) events.push({ type: 'Transfer', from: model.escrow, to: who, amount: bid.escrow - needed });
  bid.escrow = needed;
}
/** impls.rs `remove_bid`: refunds what is left of the escrow and releases the deposit. */
function removeBid(who, bid, events) {
  model.bids.delete(who);
  if (bid.escrow > 0n) events.push({ type: 'Transfer', from: model.escrow, to: who, amount: bid.escrow });
  events.push({ type: 'Released', who, amount: bid.deposit });
  events.push({ type: 'DemandWithdrawn', who, released: bid.escrow + bid.deposit });
}

/** Replays one of the market's calls by `signer` in block `blockNumber` (impls.rs). */
function replay(call, signer, blockNumber) {
  const events = [];
  const epoch = model.epoch;
  const sealed = blockNumber >= sealBlock();
  if (call.kind === 'submit') {
    // `do_submit_demand`
    const { curve, budget, epochs } = call;
    const from = sealed ? epoch + 1 : epoch;
    const terms = { curve, budget, from, until: from + epochs, exit: 0 };
    terms.exit = contractsOf(terms).exit;
    let bid = model.bids.get(signer);
    if (bid) {
      settleDue(signer, bid, epoch, events);
      bid.next = null; // a queued order is dropped
      if (sealed && countsIn(bid.order, epoch)) {
        // The old order settles the epoch under way; the new one follows it.
        bid.order = { ...bid.order, until: Math.min(bid.order.until, from) };
        bid.next = terms;
      } else {
        bid.order = terms;
      }
    } else {
      bid = { order: terms, next: null, settledTo: epoch, escrow: 0n, deposit: model.deposit };
      events.push({ type: 'Held', who: signer, amount: model.deposit });
      model.bids.set(signer, bid);
    }
    adjustEscrow(signer, bid, events);
    events.push({ type: 'DemandSubmitted', who: signer, curve, budget, countsFrom: from, countsUntil: from + epochs });
  } else if (call.kind === 'withdraw') {
    // `do_withdraw_demand`
    const bid = model.bids.get(signer);
    if (!bid) throw new Fatal(`model: ${nameOf(signer)} withdraws without a bid`);
    settleDue(signer, bid, epoch, events); // first: a queued order whose time has come is the order in force
    const leavingAfter = sealed && countsIn(bid.order, epoch);
    bid.next = null;
    if (leavingAfter) {
      bid.order = { ...bid.order, until: Math.min(bid.order.until, epoch + 1) };
      adjustEscrow(signer, bid, events);
      events.push({ type: 'DemandWithdrawalScheduled', who: signer, leavesAfter: epoch });
    } else {
      removeBid(signer, bid, events);
    }
  } else if (call.kind === 'settle') {
    // `do_settle_bid`
    const bid = model.bids.get(call.who);
    if (!bid) throw new Fatal(`model: settle_bid of ${nameOf(call.who)}, who has no bid`);
    const settled = settleDue(call.who, bid, epoch, events);
    if (bid.next === null && bid.order.until <= epoch) {
      removeBid(call.who, bid, events);
    } else {
      if (settled === 0) throw new Fatal(`model: settle_bid of ${nameOf(call.who)} would fail with NothingToSettle`);
      adjustEscrow(call.who, bid, events);
    }
  } else {
    throw new Error(`unknown call ${call.kind}`);
  }
  return events;
}

function track(address, name, free = 0n) {
  model.accounts.set(address, { name, free, reserved: 0n, frozen: 0n });
}

const isDepositHold = (reason) => reason.isContractEquilibrium && reason.asContractEquilibrium.isBidDeposit;
/** The balance side of an event: applies it to the tracked accounts. */
function applyBalanceEvent(event) {
  const data = event.data;
  const balances = api.events.balances;
  if (balances.Transfer.is(event)) {
    const from = model.accounts.get(data.from.toString());
    const to = model.accounts.get(data.to.toString());
    if (from) from.free -= data.amount.toBigInt();
    if (to) to.free += data.amount.toBigInt();
  } else if (balances.Held.is(event) || balances.Released.is(event)) {
    const account = model.accounts.get(data.who.toString());
    const amount = (balances.Held.is(event) ? 1n : -1n) * data.amount.toBigInt();
    if (account) {
      account.free -= amount;
      account.reserved += amount;
    }
  } else if (balances.Locked.is(event) || balances.Unlocked.is(event)) {
    // The account's `frozen`: the largest of its locks (conviction voting's, here).
    const account = model.accounts.get(data.who.toString());
    if (account) account.frozen += (balances.Locked.is(event) ? 1n : -1n) * data.amount.toBigInt();
  } else if (api.events.transactionPayment.TransactionFeePaid.is(event)) {
    model.feesBurned += data.actualFee.toBigInt();
    const who = model.accounts.get(data.who.toString());
    if (who) who.free -= data.actualFee.toBigInt();
  }
}

/**
 * The events the model compares: this market's pallet events and every balance move (transfers,
 * deposit holds and releases), as plain objects in the shape `replay` produces.
 */
function normalized(events) {
  const ce = api.events.contractEquilibrium;
  const balances = api.events.balances;
  const out = [];
  for (const event of events) {
    const d = event.data;
    if (balances.Transfer.is(event)) out.push({ type: 'Transfer', from: d.from.toString(), to: d.to.toString(), amount: d.amount.toBigInt() });
    else if (balances.Held.is(event) || balances.Released.is(event)) {
      out.push({ type: event.method, who: d.who.toString(), amount: d.amount.toBigInt(), ...(isDepositHold(d.reason) ? {} : { reason: d.reason.toString() }) });
    } else if (event.section === 'contractEquilibrium' && d.market?.toNumber() === model.marketId) {
      if (ce.BidSettled.is(event)) out.push({ type: 'BidSettled', epoch: d.epoch.toNumber(), who: d.who.toString(), allocation: d.allocation.toBigInt(), payment: d.payment.toBigInt() });
      else if (ce.DemandSubmitted.is(event)) out.push({ type: 'DemandSubmitted', who: d.who.toString(), curve: decodeCurve(d.curve), budget: d.budget.toBigInt(), countsFrom: d.countsFrom.toNumber(), countsUntil: d.countsUntil.toNumber() });
      else if (ce.DemandWithdrawalScheduled.is(event)) out.push({ type: 'DemandWithdrawalScheduled', who: d.who.toString(), leavesAfter: d.leavesAfter.toNumber() });
      else if (ce.DemandWithdrawn.is(event)) out.push({ type: 'DemandWithdrawn', who: d.who.toString(), released: d.released.toBigInt() });
      else out.push({ type: event.method });
    }
  }
  return out;
}
const describeEvents = (list) => list.map((e) => JSON.stringify(e, (key, value) => {
  if (typeof value === 'bigint') return value.toString();
  if ((key === 'who' || key === 'from' || key === 'to') && typeof value === 'string') return nameOf(value);
  return value;
})).join(', ');

/** Applies one block's events to the model, checking each against the replica. */
async function applyBlock(sealed) {
  const { number, parentHash, events, outcomes } = sealed;
  const result = { notes: [], priceEvent: null, settledNow: false, settled: [], withdrawn: [], submitted: [], scheduled: [], payouts: [] };
  const initialization = [];
  const finalization = [];
  const byIndex = new Map();
  for (const { phase, event } of events) {
    if (phase.isApplyExtrinsic) {
      const index = phase.asApplyExtrinsic.toNumber();
      if (!byIndex.has(index)) byIndex.set(index, []);
      byIndex.get(index).push(event);
    } else if (phase.isInitialization) {
      initialization.push(event);
    } else {
      finalization.push(event);
    }
  }
  await applyInitialization(number, parentHash, initialization, result);
  const outcomeAt = new Map(outcomes.map((outcome) => [outcome.index, outcome]));
  for (const index of [...byIndex.keys()].sort((a, b) => a - b)) applyExtrinsic(number, outcomeAt.get(index) ?? null, byIndex.get(index), result);
  for (const event of finalization) applyBalanceEvent(event);
  model.priceAt.set(number, model.price);
  return result;
}

/** The block's on_initialize: settlements (paid out of escrow), price steps, enactments. */
async function applyInitialization(blockNumber, parentHash, events, result) {
  const ce = api.events.contractEquilibrium;
  let fromEscrow = []; // transfers out of escrow since the last EpochSettled: the payouts of the next one
  for (const event of events) {
    applyBalanceEvent(event);
    const data = event.data;
    const market = data.market?.toNumber?.();
    if (api.events.balances.Transfer.is(event) && data.from.toString() === model.escrow) {
      fromEscrow.push({ type: 'Transfer', from: model.escrow, to: data.to.toString(), amount: data.amount.toBigInt() });
    } else if (ce.EpochSettled.is(event)) {
      if (market === model.marketId) settleEpoch(blockNumber, data, fromEscrow, result);
      else await otherMarketSettled(market, data, fromEscrow, parentHash);
      fromEscrow = [];
    } else if (ce.PriceUpdated.is(event) && market === model.marketId) {
      stepPrice(blockNumber, data, result);
    } else if (ce.MarketParamsUpdated.is(event) && market === model.marketId) {
      updateParams(data, result);
    } else if (event.section === 'contractEquilibrium' && market === model.marketId) {
      throw new Fatal(`block #${blockNumber}: an unexpected ${event.method} of the market in on_initialize`);
    }
  }
  if (fromEscrow.length) throw new Fatal(`block #${blockNumber}: transfers out of escrow without a settlement: ${describeEvents(fromEscrow)}`);
}

/** EpochSettled of the scenario's market: checked against book.rs `clear` on the model's book. */
function settleEpoch(blockNumber, data, fromEscrow, result) {
  const epoch = data.epoch.toNumber();
  if (epoch !== model.epoch || blockNumber !== epochEnd()) {
    throw new Fatal(`block #${blockNumber}: epoch ${epoch} settled; the model expects epoch ${model.epoch} to settle in block #${epochEnd()}`);
  }
  const expected = settleBook();
  const expectedOutcome = {
    clearing: expected.clearing,
    demand: expected.owed.demand,
    totalAllocated: expected.owed.allocated,
    bidders: expected.counted,
    participants: expected.owed.participants,
    totalPaid: expected.toPayee + expected.fees,
    capacity: model.params.capacity,
  };
  const got = decodeOutcome(data.outcome);
  if (JSON.stringify(got, bigintJson) !== JSON.stringify(expectedOutcome, bigintJson)) {
    throw new Fatal(`block #${blockNumber}: EpochSettled ${JSON.stringify(got, bigintJson)} differs from the replica's clear ${JSON.stringify(expectedOutcome, bigintJson)}`);
  }
  const payouts = [[model.params.payee, expected.toPayee], [model.treasury, expected.fees]]
    .filter(([, amount]) => amount > 0n)
    .map(([to, amount]) => ({ type: 'Transfer', from: model.escrow, to, amount }));
  if (JSON.stringify(fromEscrow, bigintJson) !== JSON.stringify(payouts, bigintJson)) {
    throw new Fatal(`block #${blockNumber}: epoch ${epoch}'s payouts ${describeEvents(fromEscrow)} differ from the replica's ${describeEvents(payouts)}`);
  }
  // Phase E's counterfactuals, on the book the epoch settled.
  const unbacked = scenario.unbacked;
  if (unbacked) unbacked.without = settleBook(without(unbacked.who)).perBid;
  const sniped = scenario.sniped;
  if (sniped) {
    // Without the sniper, and as an unsealed book would have settled it: its order counted at
    // once (and its withdrawal, while the book was sealed, would have waited for the settlement).
    sniped.settlement = { without: settleBook(without(sniped.who)).perBid, unsealed: settleBook(without(sniped.who), [{ who: sniped.who, terms: sniped.terms }]).perBid };
  }
  const cut = scenario.cut;
  if (cut) {
    // The cut budget applied at once (before the book was sealed).
    cut.atOnce = settleBook((who, terms) => (countsIn(terms, model.epoch) ? (who === cut.who ? { ...terms, budget: cut.budget } : terms) : null)).perBid;
  }
  if (expected.counted > 0) model.clearings.set(epoch, { clearing: expected.clearing, unsettled: expected.counted });
  model.outcomes.set(epoch, { ...expectedOutcome, toPayee: expected.toPayee, fees: expected.fees, perBid: expected.perBid });
  model.payeeReceived += expected.toPayee;
  model.treasuryReceived += expected.fees;
  model.epoch += 1;
  model.epochStart = blockNumber;
  model.epochLength = model.params.epochLength;
  model.settlements += 1;
  model.lastSettlementBlock = blockNumber;
  model.lastOutcome = { epoch, allocated: got.totalAllocated, paid: got.totalPaid, price: got.clearing.price, bidders: got.bidders };
  result.settledNow = true;
  result.payouts.push(...payouts);
  result.notes.push(`epoch ${epoch} settled: ${formatFixed(got.totalAllocated, 3)} units, ${formatEq(got.totalPaid, 3)} EQ paid out`);
}

/** Another market's EpochSettled (market 0's): checked against `clear` on its book as stored before the block. */
async function otherMarketSettled(market, data, fromEscrow, parentHash) {
  const at = await api.at(parentHash);
  const [storedMarket, storedBook] = await Promise.all([at.query.contractEquilibrium.markets(market), at.query.contractEquilibrium.books(market)]);
  const stored = storedMarket.unwrap();
  const params = decodeParams(stored.params);
  const totals = decodeTotals(storedBook.unwrap().totals);
  const { clearing, totals: owed } = book.clear(book.priceGridOf(params), totals, params.unitFee, params.fixedFee, params.capacity, stored.price.toBigInt());
  const toPayee = replica.toBalance(owed.toPayee, BALANCE_UNIT);
  const fees = replica.toBalance(owed.fees, BALANCE_UNIT);
  const got = decodeOutcome(data.outcome);
  const payouts = [[params.payee, toPayee], [model.treasury, fees]].filter(([, amount]) => amount > 0n)
    .map(([to, amount]) => ({ type: 'Transfer', from: model.escrow, to, amount }));
  const same = JSON.stringify([got.clearing, got.demand, got.totalAllocated, got.participants, got.totalPaid], bigintJson)
    === JSON.stringify([clearing, owed.demand, owed.allocated, owed.participants, toPayee + fees], bigintJson)
    && JSON.stringify(fromEscrow, bigintJson) === JSON.stringify(payouts, bigintJson);
  if (!same) throw new Fatal(`market ${market}'s EpochSettled ${JSON.stringify(got, bigintJson)} (payouts ${describeEvents(fromEscrow)}) differs from clear on its stored book (${JSON.stringify({ clearing, owed }, bigintJson)})`);
  model.treasuryReceived += fees;
  model.otherSettlements += 1;
}

/** PriceUpdated of the scenario's market: the replica's step on the model's book. */
function stepPrice(blockNumber, data, result) {
  const step = replica.nextPriceDualAscent(griddedOf(bookOf().totals), model.params, model.price);
  const got = {
    price: data.price.toBigInt(),
    aggregateDemand: data.aggregateDemand.toBigInt(),
    excessDemand: data.excessDemand.toBigInt(),
    converged: data.converged.isTrue,
  };
  const differs = (s) => got.price !== s.price || got.aggregateDemand !== s.aggregateDemand
    || got.excessDemand !== s.excessDemand || got.converged !== s.converged;
  if (differs(step)) {
    throw new Fatal(`block #${blockNumber}: PriceUpdated ${JSON.stringify(got, bigintJson)} differs from the replica's step ${JSON.stringify(step, bigintJson)}`);
  }
  const sniped = scenario.sniped;
  if (sniped) {
    // Phase E: the same step without the sniper's bid must be the very same step.
    const other = replica.nextPriceDualAscent(griddedOf(bookOf(without(sniped.who)).totals), model.params, model.price);
    sniped.steps += 1;
    if (differs(other)) sniped.differences.push(`block #${blockNumber}: the step ${JSON.stringify(got, bigintJson)}, without the bid ${JSON.stringify(other, bigintJson)}`);
  }
  const unbacked = scenario.unbacked;
  if (unbacked?.standing()) {
    // Phase E: how far the unbacked report moved the step (from the step without it), and where
    // the step would have gone had the chain counted its 10⁹ units as declared.
    const other = replica.nextPriceDualAscent(griddedOf(bookOf(without(unbacked.who)).totals), model.params, model.price);
    unbacked.steps += 1;
    unbacked.maxStepShift = max(unbacked.maxStepShift, absDiff(got.price, other.price));
    if (unbacked.declared === null) {
      const declared = { curve: { kind: 'Quantity', x: ATTACK_QUANTITY }, budget: DECLARED_BUDGET };
      unbacked.declared = { from: model.price, to: replica.nextPriceDualAscent(griddedOf(bookOf(without(unbacked.who), [{ who: unbacked.who, terms: declared }]).totals), model.params, model.price).price, got: got.price };
    }
  }
  scenario.stepSizes?.push(step.stepSize);
  model.price = got.price;
  result.priceEvent = got;
  if (got.converged) result.notes.push('converged');
}

function updateParams(data, result) {
  model.params = decodeParams(data.params);
  model.price = replica.clampPrice(model.params, model.price); // clamped into the new bounds at once
  result.notes.push(`MarketParamsUpdated: capacity ${formatFixed(model.params.capacity)}`);
}

/** One extrinsic's events: balance moves applied; a market call replayed and its events compared. */
function applyExtrinsic(blockNumber, outcome, events, result) {
  const ce = api.events.contractEquilibrium;
  for (const event of events) {
    applyBalanceEvent(event);
    if (ce.MarketCreated.is(event)) {
      model.marketId = event.data.market.toNumber();
      model.params = decodeParams(event.data.params);
      model.price = model.params.priceFloor;
      model.epoch = 0;
      model.epochStart = blockNumber;
      model.epochLength = model.params.epochLength;
      result.notes.push(`MarketCreated #${model.marketId}`);
    } else if (ce.MarketParamsUpdated.is(event) && event.data.market.toNumber() === model.marketId) {
      updateParams(event.data, result);
    }
  }
  const got = normalized(events);
  if (outcome?.call && !outcome.error) {
    const expected = replay(outcome.call, outcome.who, blockNumber);
    if (JSON.stringify(got, bigintJson) !== JSON.stringify(expected, bigintJson)) {
      throw new Fatal(`block #${blockNumber}: ${outcome.label} emitted [${describeEvents(got)}], the replica expects [${describeEvents(expected)}]`);
    }
    for (const e of expected) {
      if (e.type === 'BidSettled') {
        model.settledLog.push({ block: blockNumber, ...e });
        result.settled.push(e);
      } else if (e.type === 'DemandWithdrawn') {
        result.withdrawn.push(e);
        result.notes.push(`${nameOf(e.who)} withdrawn`);
      } else if (e.type === 'DemandSubmitted') {
        result.submitted.push(e);
      } else if (e.type === 'DemandWithdrawalScheduled') {
        result.scheduled.push(e);
      }
    }
  } else {
    // Anything else (a funding transfer, a failed call, governance) must leave the market's bids
    // and the escrow alone.
    const touches = got.filter((e) => (e.type === 'Transfer' && (e.from === model.escrow || e.to === model.escrow))
      || !['Transfer', 'Held', 'Released', 'MarketCreated', 'MarketParamsUpdated'].includes(e.type));
    if (touches.length) throw new Fatal(`block #${blockNumber}: ${outcome?.label ?? `extrinsic`} touched the market or its escrow: ${describeEvents(touches)}`);
  }
}

const names = new Map();
const nameOf = (address) => names.get(address) ?? address.slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Blocks: seal, apply, compare with the runtime API, print a row.

const scenario = {
  phase: 'S', // S(etup), then A … E
  reporters: [], // Quantity agents reporting every block
  keeper: null, // the key pair that settles every bid in the block after each settlement
  referendum: null, // { index, taskId, enactedAt, lastPhase }
  // Phase E's unbacked bid { who, standing(), steps, views, differences, without }: while it
  // stands, every step and runtime-API view is also compared with the replica without it;
  // `without` is the epoch's settlement without it.
  unbacked: null,
  // Phase E's last-block sniping { who, terms, block, standing(), steps, views, differences,
  // unsealedView, apiView, settlement }: from the sniping block to the settlement, every step
  // and view is also compared with the replica without the sniper; the settlement is computed
  // without it and as an unsealed book would have settled it (`settlement.without`, `.unsealed`).
  sniped: null,
  // Phase E's budget cut in the last block { who, budget, atOnce }: `atOnce`, the settlement had
  // the cut applied at once.
  cut: null,
  // Phases B and C: the reporters' contracts at the grid prices around each price the step
  // starts from must be their reports (the bound's premise); { blocks, violations }.
  premise: null,
  stepSizes: null, // when an array, every step size η the replica computed is appended to it
  blocks: 0,
  head: 0, // the number of the last sealed block
  headHash: null,
  bidViews: 0, // runtime-API bid views compared
  keeperCalls: 0,
};

/**
 * The block after a settlement: compares the runtime API's view of every bid (what settling it
 * would allocate and charge) with the model's, then has the keeper settle every bid that owes
 * something or has ended.
 */
async function queueKeeper() {
  const market = model.marketId;
  const views = await Promise.all([...model.bids.keys()].map((who) => readBidView(api, market, who, scenario.headHash)));
  const mismatches = [];
  [...model.bids].forEach(([who, bid], i) => {
    const view = views[i];
    const expected = unsettled(bid);
    if (!view || JSON.stringify(view.bid, bigintJson) !== JSON.stringify(bid, bigintJson)
      || view.unsettledAllocation !== expected.allocation || view.unsettledPayment !== expected.payment) {
      mismatches.push(`${nameOf(who)}: API ${JSON.stringify(view, bigintJson)}, model ${JSON.stringify({ bid, ...expected }, bigintJson)}`);
    }
  });
  if (mismatches.length) throw new Fatal(`block #${scenario.head}: the runtime API's bid views differ from the model: ${mismatches.slice(0, 2).join('; ')}`);
  scenario.bidViews += views.length;
  let queued = 0;
  const reporting = new Set(scenario.reporters.map((agent) => agent.pair.address)); // they settle themselves
  for (const [who, bid] of model.bids) {
    if (reporting.has(who) || (dueEpochs(bid).length === 0 && !hasEnded(bid))) continue;
    await driver.queue(api.tx.contractEquilibrium.settleBid(market, who), scenario.keeper, `keeper: settleBid(${nameOf(who)})`, null, { kind: 'settle', who });
    queued += 1;
  }
  scenario.keeperCalls += queued;
  return queued;
}

async function block(extraNotes = []) {
  const notes = [...extraNotes];
  if (scenario.keeper && model.lastSettlementBlock !== null && model.lastSettlementBlock === scenario.head) {
    const queued = await queueKeeper();
    if (queued) notes.push(`keeper settles ${queued} bids`);
  }
  // Algorithm 1: each Quantity agent reports its best response to the last posted price. A
  // response of zero is no order (the chain refuses an order that takes part at no price): the
  // agent withdraws instead, unless its bid already demands nothing from now on — none, or, in
  // a sealed half, an order that leaves after the epoch under way with nothing queued. The block
  // is the settlement's when it ends the epoch: then its calls run in the next epoch's open half.
  const settling = scenario.head + 1 === epochEnd();
  const epochThen = settling ? model.epoch + 1 : model.epoch;
  const sealedThen = !settling && scenario.head + 1 >= sealBlock();
  let reports = 0;
  for (const agent of scenario.reporters) {
    const x = replica.demandAt({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta }, model.params.unitFee, model.price);
    if (x > 0n) {
      reports += 1;
      const curve = { kind: 'Quantity', x };
      await driver.queue(api.tx.contractEquilibrium.submitDemand(model.marketId, encodeCurve(curve), BUDGET, ORDER_EPOCHS), agent.pair, `${agent.name} reports`, null, { kind: 'submit', curve, budget: BUDGET, epochs: ORDER_EPOCHS });
      continue;
    }
    const bid = model.bids.get(agent.pair.address);
    const leaving = bid && sealedThen && bid.next === null && bid.order.until === epochThen + 1 && countsIn(bid.order, epochThen);
    if (bid && !leaving) {
      await driver.queue(api.tx.contractEquilibrium.withdrawDemand(model.marketId), agent.pair, `${agent.name} reports 0: withdraws`, null, { kind: 'withdraw' });
      notes.push(`${agent.name} reports 0`);
    }
  }
  const sealed = await driver.seal();
  scenario.blocks += 1;
  scenario.head = sealed.number;
  scenario.headHash = sealed.hash.toHex();
  const receivedBefore = { payee: model.payeeReceived, treasury: model.treasuryReceived };
  const { notes: eventNotes, priceEvent, settledNow, ...applied } = await applyBlock(sealed);
  // What the model says the payee and the treasury received in this block.
  const received = { payee: model.payeeReceived - receivedBefore.payee, treasury: model.treasuryReceived - receivedBefore.treasury };
  notes.unshift(...eventNotes);
  if (applied.settled.length) notes.push(`${applied.settled.length} BidSettled`);
  const routineReports = `${reports} reports`;
  if (scenario.reporters.length) notes.push(routineReports);

  let eq = null;
  if (model.marketId !== null) {
    eq = await readEquilibrium(api, model.marketId, sealed.hash);
    const view = (totals) => {
      const demands = griddedOf(totals);
      const muStar = replica.clearingPrice(demands, model.params);
      return {
        muStar,
        atMuStar: replica.aggregateDemand(demands, model.params.unitFee, muStar),
        excess: replica.aggregateDemand(demands, model.params.unitFee, replica.clampPrice(model.params, model.price)) - model.params.capacity,
      };
    };
    const differs = (v) => eq.clearingPrice !== v.muStar || eq.excessDemand !== v.excess || eq.demandAtClearingPrice !== v.atMuStar;
    const expected = view(bookOf().totals);
    if (differs(expected) || eq.price !== model.price) {
      throw new Fatal(`block #${sealed.number}: the runtime API's equilibrium (μ* ${formatFixed(eq.clearingPrice)}, price ${formatFixed(eq.price)}, excess ${formatFixed(eq.excessDemand)}) differs from the replica (μ* ${formatFixed(expected.muStar)}, price ${formatFixed(model.price)}, excess ${formatFixed(expected.excess)})`);
    }
    const sniped = scenario.sniped;
    if (sniped) {
      // Phase E: the view without the sniper's bid must be the very same view.
      const other = view(bookOf(without(sniped.who)).totals);
      sniped.views += 1;
      if (differs(other)) sniped.differences.push(`block #${sealed.number}: the API's μ* ${formatFixed(eq.clearingPrice)}, without the bid ${formatFixed(other.muStar)}`);
    }
    const unbacked = scenario.unbacked;
    if (unbacked?.standing()) {
      // Phase E: how far the unbacked report moved the runtime API's μ*: no further than a
      // report of its largest contract (what its budget backs at the floor) at every price would.
      const contracts = contractsOf(model.bids.get(unbacked.who).order);
      const largest = { curve: { kind: 'Quantity', x: contracts.units[0] }, budget: DECLARED_BUDGET };
      const withoutIt = view(bookOf(without(unbacked.who)).totals).muStar;
      const limit = view(bookOf(without(unbacked.who), [{ who: unbacked.who, terms: largest }]).totals).muStar;
      unbacked.views += 1;
      unbacked.maxViewShift = max(unbacked.maxViewShift, absDiff(eq.clearingPrice, withoutIt));
      unbacked.viewLimit = max(unbacked.viewLimit, limit - withoutIt);
      if (eq.clearingPrice < withoutIt || eq.clearingPrice > limit) unbacked.beyond.push(`block #${sealed.number}: μ* ${formatFixed(eq.clearingPrice)}, without it ${formatFixed(withoutIt)}, with ${formatFixed(contracts.units[0])} units at every price ${formatFixed(limit)}`);
    }
    if (sniped && sealed.number === sniped.block) {
      // What an unsealed book would have shown: the sniper's order counted at once.
      sniped.unsealedView = view(bookOf(without(sniped.who), [{ who: sniped.who, terms: sniped.terms }]).totals);
      sniped.apiView = { muStar: eq.clearingPrice, atMuStar: eq.demandAtClearingPrice, excess: eq.excessDemand };
    }
    if (scenario.premise) {
      // The bound's premise: at the grid prices around the price the next step starts from, each
      // standing report's contract is the reported quantity (its budget backs it there).
      const { lower } = book.locate(gridOf(), replica.clampPrice(model.params, model.price));
      scenario.premise.blocks += 1;
      for (const agent of scenario.reporters) {
        const bid = model.bids.get(agent.pair.address);
        for (const terms of bid ? termsOf(bid) : []) {
          // The order in force, and one queued for the next epoch (the settlement's step sees it).
          const contracts = contractsOf(terms);
          const at = (j) => (j < contracts.exit ? contracts.units[j] : 0n);
          if (at(lower) !== terms.curve.x || at(lower + 1) !== terms.curve.x) scenario.premise.violations.push(`block #${sealed.number}: ${agent.name}`);
        }
      }
    }
  }
  if (scenario.referendum) notes.push(...await followReferendum(sealed));

  const row = priceEvent && eq
    ? `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${fmtPrice(priceEvent.price)} ${fmtQty(priceEvent.aggregateDemand)} ${fmtM(priceEvent.aggregateDemand - priceEvent.excessDemand)} ${fmtPrice(eq.clearingPrice)} ${fmtDist(eq.distance)}  ${notes.join('; ')}`
    : `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${''.padStart(13)} ${''.padStart(11)} ${''.padStart(6)} ${''.padStart(13)} ${''.padStart(9)}  ${notes.join('; ')}`;
  const routine = new Set([routineReports, 'converged']);
  const interesting = notes.some((n) => !routine.has(n));
  if (!options.quiet || interesting || sealed.number % 10 === 0) say(row);
  if (model.lastSettlementBlock !== null && sealed.number === model.lastSettlementBlock + 1) {
    await checkBalances(sealed, `after the settlement in block #${model.lastSettlementBlock} and the keeper's block #${sealed.number}`);
  }
  return { ...sealed, eq, settledNow, received, ...applied };
}

function printHeader() {
  say(`${'block'.padStart(5)} ph ${'price μ'.padStart(13)} ${'S̃(μ_prev)'.padStart(11)} ${'m'.padStart(6)} ${'μ* (API)'.padStart(13)} ${'|μ−μ*|'.padStart(9)}  events`);
}

// ---------------------------------------------------------------------------------------------
// Balance and storage accounting.

/** The book changes the model's orders schedule (impls.rs `enter_book`): epoch → { entering, leaving, counts }. */
function expectedBookChanges() {
  const changes = new Map();
  const at = (epoch) => {
    if (!changes.has(epoch)) changes.set(epoch, { entering: book.emptyTotals(), leaving: book.emptyTotals(), enteringCount: 0, leavingCount: 0 });
    return changes.get(epoch);
  };
  for (const bid of model.bids.values()) {
    for (const terms of termsOf(bid)) {
      if (terms.until <= model.epoch || terms.from >= terms.until) continue;
      const contracts = contractsOf(terms);
      if (!countsIn(terms, model.epoch)) {
        const change = at(terms.from);
        addContracts(change.entering, contracts);
        change.enteringCount += 1;
      }
      const change = at(terms.until);
      addContracts(change.leaving, contracts);
      change.leavingCount += 1;
    }
  }
  return changes;
}

const sortedJson = (map) => JSON.stringify([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), bigintJson);

async function checkBalances(sealed, when) {
  const addresses = [...model.accounts.keys()];
  const at = await api.at(sealed.hash);
  const [accounts, bids, stored, changes, clearings] = await Promise.all([
    at.query.system.account.multi(addresses),
    readBids(api, model.marketId, sealed.hash),
    readBook(api, model.marketId, sealed.hash),
    readBookChanges(api, model.marketId, sealed.hash),
    readClearings(api, model.marketId, sealed.hash),
  ]);
  const mismatches = [];
  addresses.forEach((address, i) => {
    const expected = model.accounts.get(address);
    const data = accounts[i].data;
    const free = data.free.toBigInt();
    const reserved = data.reserved.toBigInt();
    const frozen = data.frozen.toBigInt();
    if (free !== expected.free || reserved !== expected.reserved || frozen !== expected.frozen) {
      mismatches.push(`${expected.name}: free ${free} (expected ${expected.free}), reserved ${reserved} (expected ${expected.reserved}), frozen ${frozen} (expected ${expected.frozen})`);
    }
  });
  if (sortedJson(bids) !== sortedJson(model.bids)) mismatches.push('the Bids storage differs from the model');
  const { totals, counted } = bookOf();
  if (!stored || JSON.stringify(stored, bigintJson) !== JSON.stringify({ totals, counted, bids: model.bids.size }, bigintJson)) {
    mismatches.push(`the Books storage (${stored?.counted} orders counted, ${stored?.bids} bids) differs from the model's book (${counted}, ${model.bids.size})`);
  }
  if (sortedJson(changes) !== sortedJson(expectedBookChanges())) mismatches.push(`the BookChanges storage (epochs ${[...changes.keys()].join(', ')}) differs from the model's orders`);
  if (sortedJson(clearings) !== sortedJson(model.clearings)) mismatches.push(`the Clearings storage (epochs ${[...clearings.keys()].join(', ')}) differs from the model's (${[...model.clearings.keys()].join(', ')})`);
  // Every epoch all of whose bids are settled: what they paid covers what it paid out, up to
  // rounding dust (each payment rounded up to the planck, the payouts down).
  let dust = 0n;
  let ledgers = 0;
  for (const [epoch, outcome] of model.outcomes) {
    if (outcome.ledgerChecked || model.clearings.has(epoch)) continue;
    const paid = model.settledLog.filter((s) => s.epoch === epoch).reduce((sum, s) => sum + s.payment, 0n);
    const excess = paid - outcome.totalPaid;
    if (excess < 0n || excess > BigInt(outcome.bidders + 2)) mismatches.push(`epoch ${epoch}: the bids paid ${paid}, the epoch paid out ${outcome.totalPaid}`);
    outcome.ledgerChecked = true;
    outcome.dust = excess;
    dust += excess;
    ledgers += 1;
  }
  const outcome = model.lastOutcome;
  check(mismatches.length === 0,
    `balances ${when}: ${addresses.length} accounts' free, reserved and frozen balances, ${bids.size} bids, the book, ${changes.size} scheduled book changes and ${clearings.size} clearing records match the model to the planck${ledgers ? `; the bids paid what the epoch paid out plus ${dust} planck of rounding` : ''}`,
    mismatches.length ? mismatches.slice(0, 5).join('; ') : (outcome ? `epoch ${outcome.epoch}: ${formatFixed(outcome.allocated, 6)} units at μ = ${formatFixed(outcome.price, 9)}, ${formatEq(outcome.paid)} EQ paid out` : ''));
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
 * `settled`: the bound is for the first block from which the price stays within tolerance for
 * HOLD_BLOCKS more blocks (the lagged phases: a stale report frozen while the book is sealed can
 * carry the price through the tolerance band and out again before it settles); then `reached` is
 * that block, and staying is part of it.
 */
async function converge({ label, startBlock, bound, within, everyBlock, settled = false }) {
  const limit = (Number.isFinite(bound) ? bound * 2 : 2000) + 20 + HOLD_BLOCKS;
  let reached = null;
  let stayed = true;
  for (let t = 1; t <= limit; t += 1) {
    const sealed = await block();
    if (everyBlock) everyBlock(sealed);
    const ok = within(sealed);
    if (reached === null && ok) reached = sealed.number - startBlock;
    else if (reached !== null && !ok) {
      if (settled) reached = null;
      else stayed = false;
    }
    if (reached !== null && sealed.number - startBlock >= reached + HOLD_BLOCKS) break;
  }
  if (settled && reached !== null && scenario.head - startBlock < reached + HOLD_BLOCKS) reached = null;
  check(reached !== null && reached <= bound,
    settled
      ? `${label}: within tolerance from ${reached ?? `more than ${limit}`} blocks on, for ${HOLD_BLOCKS + 1} blocks; the bound is ${bound}`
      : `${label}: within tolerance after ${reached ?? `more than ${limit}`} blocks; the bound is ${bound}`);
  if (!settled) check(stayed, `${label}: stayed within tolerance for the ${HOLD_BLOCKS} blocks after`);
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
    node = guard.node = await startNode({ binary: options.node, sealing: 'manual' });
  } catch (error) {
    throw new Fatal(error.message);
  }
  say(`node ${options.node} (pid ${node.pid}) on ${node.url}, --sealing manual, log ${node.logFile}`);
  api = guard.api = await connect(node.url);
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
  const curveOf = (agent) => ({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta });
  const payee = keyPair('//ScenarioPayee');
  names.set(payee.address, 'payee');
  const attacker = keyPair('//ScenarioAttacker');
  names.set(attacker.address, 'attacker');
  const sniper = keyPair('//ScenarioSniper');
  names.set(sniper.address, 'sniper');
  const keeper = keyPair('//ScenarioKeeper');
  names.set(keeper.address, 'keeper');
  for (const agent of agents) track(agent.pair.address, agent.name);
  track(payee.address, 'payee');
  track(attacker.address, 'attacker');
  track(sniper.address, 'sniper');
  track(keeper.address, 'keeper');
  const treasury = encodeAddress(u8aConcat(stringToU8a('modl'), api.consts.treasury.palletId.toU8a(), new Uint8Array(20)), 42);
  model.treasury = treasury;
  model.escrow = escrowAccount(api);
  model.deposit = api.consts.contractEquilibrium.bidDeposit.toBigInt();
  names.set(model.escrow, 'escrow');
  names.set(treasury, 'treasury');
  say(`agents (α ~ U(5,20), β ~ U(0.5,5)):`);
  for (const agent of agents) {
    say(`  ${agent.name} ${agent.kind.padEnd(10)} α ${formatFixed(agent.alpha).padEnd(9)} β ${formatFixed(agent.beta).padEnd(8)} ${agent.pair.address}`);
  }

  // Genesis state (no block is sealed before block 1).
  const [treasuryStart, issuanceStart, escrowStart] = await Promise.all([
    api.query.system.account(treasury),
    api.query.balances.totalIssuance(),
    api.query.system.account(model.escrow),
  ]);
  track(model.escrow, 'escrow', escrowStart.data.free.toBigInt());
  say(`the pallet's escrow account ${model.escrow} holds ${formatEq(escrowStart.data.free.toBigInt())} EQ at genesis (market 0's budgets and the existential deposit)`);
  scenario.headHash = api.genesisHash.toHex();

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
  const fund = async (address, amount, label) => {
    await driver.queue(api.tx.balances.transferKeepAlive(address, amount), funders[f % funders.length], label);
    f += 1;
  };
  for (const agent of agents) await fund(agent.pair.address, FUNDING, `fund ${agent.name}`);
  await fund(payee.address, PAYEE_FUNDING, 'fund the payee');
  await fund(attacker.address, ATTACKER_FUNDING, 'fund the attacker');
  await fund(sniper.address, SNIPER_FUNDING, 'fund the sniper');
  await fund(keeper.address, KEEPER_FUNDING, 'fund the keeper');
  printHeader();
  await block([`${f} transfers`]);
  ensure(model.marketId !== null, `sudo created market ${model.marketId}`);
  say(`market ${model.marketId} created; ${agents.length} agents funded with ${formatEq(FUNDING)} EQ each from ${FUNDERS.length} dev accounts (and phase E's attacker with ${formatEq(ATTACKER_FUNDING)} EQ, its sniper with ${formatEq(SNIPER_FUNDING)} EQ, the keeper with ${formatEq(KEEPER_FUNDING)} EQ)`);
  say(`orders: ${formatEq(BUDGET)} EQ per epoch for ${ORDER_EPOCHS} epochs (${formatEq(BUDGET * BigInt(ORDER_EPOCHS))} EQ into escrow); the keeper settles every bid in the block after each settlement`);
  scenario.keeper = keeper;
  ensure(agents.every((agent) => replica.toTokens(BUDGET, BALANCE_UNIT) >= model.params.fixedFee + 2n * agent.alpha),
    `every agent's budget per epoch less g is at least 2α: no budget caps a declared order's contract at any grid price, nor a report near the price it was made at`);

  // Phase A: the LogUtility agents bid in one block; the price climbs from the floor.
  scenario.phase = 'A';
  for (const agent of logAgents) {
    await driver.queue(api.tx.contractEquilibrium.submitDemand(model.marketId, encodeCurve(curveOf(agent)), BUDGET, ORDER_EPOCHS), agent.pair, `${agent.name} bids`, null, { kind: 'submit', curve: curveOf(agent), budget: BUDGET, epochs: ORDER_EPOCHS });
  }
  const a0 = await block([`${logAgents.length} LogUtility bids`]);
  const floatsQ = quantityAgents.map(agentFloats);
  const tau = fixedToNumber(model.params.unitFee);
  /** The float view of a book for the bounds (lib/bounds.mjs `griddedCurve`), slopes from the exact integer differences. */
  const curveOfBook = (totals) => {
    const grid = gridOf();
    const prices = Array.from({ length: book.GRID_POINTS }, (_, j) => book.gridPrice(grid, j));
    return griddedCurve({
      prices: prices.map(fixedToNumber),
      units: totals.units.map(fixedToNumber),
      slopes: prices.slice(0, -1).map((price, j) => {
        const width = prices[j + 1] - price;
        return width > 0n ? Number(totals.units[j] - totals.units[j + 1]) / Number(width) : 0;
      }),
    });
  };
  /** The cell whose slope is the book's L (the steepest), for printing. */
  const steepestCell = (totals) => {
    const gridded = griddedOf(totals)[0];
    let best = 0;
    let slope = 0n;
    for (let j = 0; j < book.LAST; j += 1) {
      const s = book.cellSlope(gridded, j, 'up');
      if (s > slope) [best, slope] = [j, s];
    }
    const show = (price) => (price === 0n ? '0' : fixedToNumber(price) < 1e-3 ? fixedToNumber(price).toExponential(3) : formatFixed(price, 6));
    return `cell ${best}, [${show(book.gridPrice(gridded.grid, best))}, ${show(book.gridPrice(gridded.grid, best + 1))}]`;
  };
  {
    // Every bid counts at once (placed in the open half).
    const { totals } = bookOf();
    const demands = griddedOf(totals);
    const muStar = a0.eq.clearingPrice;
    ensure(muStar > model.params.priceFloor && muStar < model.params.priceCeiling, 'phase A: capacity binds (μ* strictly inside the price bounds)', `μ* = ${formatFixed(muStar)}`);
    const eta = replica.effectiveStepSize(demands, model.params, model.params.stepRule.eta);
    const L = replica.lipschitzBound(demands, model.params.unitFee, model.params.priceFloor);
    const bound = monotoneBound({ book: curveOfBook(totals), start: fixedToNumber(model.price), muStar: fixedToNumber(muStar), eta: fixedToNumber(eta), tolerance: fixedToNumber(model.params.tolerance) });
    say(`\nphase A — ${logAgents.length} LogUtility agents from μ_0 = ${formatFixed(model.price)} to the book's μ* = ${formatFixed(muStar)} (runtime API):`);
    say(`  L = ${fixedToNumber(L).toFixed(6)} (the book's steepest cell, ${steepestCell(totals)}); each step's η = min(1, 1/L_local), L_local the steepest cell between the price and its target, so η ≥ min(1, 1/L) = ${formatFixed(eta, 9)}, ℓ = least cell slope on [μ_0, μ*] = ${bound.ell.toFixed(6)}; |μ_t − μ*| ≤ (1 − η·ℓ)^t·|μ_0 − μ*| = ${bound.rate.toFixed(6)}^t·${fixedToNumber(absDiff(model.price, muStar)).toFixed(6)}`);
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

  /**
   * Phases B and C: μ**, the equilibrium of the declared orders' book S̃_L and the reporters' true
   * best responses Q (their curves, evaluated exactly as they report them), and the interval bound
   * from the measured prices after block `startBlock` (e_0) and before it (e_−1).
   * The reports are one block old while the book is open; in the sealed half of an epoch the
   * price sees the last report made while it was open (made in block seal − 1, at the price
   * after block seal − 2), and the settlement starts the queued one made in the block before
   * it: `reportIndex` tells the bound which measured or bounded price each step's reports came
   * from (the reporters report in every block, their bids counting since phase B's first block,
   * which is in an open half).
   * The step size is η = min(eta, 1/L_t), L_t the steepest cell between the price and where eta
   * alone would take it (step.rs), so it is at least min(eta, 1/L) with L the steepest cell of the
   * whole book, and at most min(eta, 1/ℓ) with ℓ the least declared cell slope where the price may
   * be (lib/bounds.mjs). The lower end may move with the reports: L is the steepest cell of the
   * whole book, and a report's contract falls over the cells where its budget stops backing it,
   * more cells the larger the report (each cell's slope is non-decreasing in every report). When
   * every report standing was made at a price in [low, high], η lies between its value with every
   * reporter at x(low) and its value with every reporter at x(high) (x falls with the price). The
   * bound takes each step over that range; every step size the phase uses within the bound's
   * blocks is checked against the range's envelope.
   */
  const logAddresses = new Set(logAgents.map((a) => a.pair.address));
  function laggedBound(phase, startBlock) {
    const { stepRule } = model.params;
    const { epochLength } = model;
    const declared = bookOf((who, terms) => (logAddresses.has(who) ? countedNow(who, terms) : null)).totals;
    const trueCurves = quantityAgents.map(curveOf);
    const muStarStar = replica.clearingPrice([...griddedOf(declared), ...trueCurves], model.params);
    const withReports = (price) => {
      const totals = book.cloneTotals(declared);
      for (const curve of trueCurves) addContracts(totals, contractsOf({ curve: { kind: 'Quantity', x: replica.demandAt(curve, model.params.unitFee, price) }, budget: BUDGET }));
      return totals;
    };
    const toPrice = (value) => BigInt(Math.max(0, Math.round(value * 1e18)));
    const etaOf = (totals) => fixedToNumber(replica.effectiveStepSize(griddedOf(totals), model.params, stepRule.eta));
    const etaAt = new Map(); // memo: the bound revisits the same prices once its intervals saturate
    const etaWithReportsAt = (price) => {
      const key = toPrice(price);
      if (!etaAt.has(key)) etaAt.set(key, etaOf(withReports(key)));
      return etaAt.get(key);
    };
    const stepSizes = (low, high) => [etaWithReportsAt(low * (1 - 1e-12)) * (1 - 1e-12), etaWithReportsAt(high * (1 + 1e-12)) * (1 + 1e-12)];
    const measuredError = (j) => fixedToNumber(model.priceAt.get(startBlock + j)) - fixedToNumber(muStarStar);
    const e0 = measuredError(0);
    const eMinus1 = measuredError(-1);
    // Block n's epoch started at epochStartOf(n) (the epochs ahead settle every epochLength blocks).
    const half = Math.floor(epochLength / 2);
    const epochStartOf = (n) => model.epochStart + Math.floor((n - model.epochStart) / epochLength) * epochLength;
    const reportIndex = (t) => {
      const n = startBlock + t;
      const start = epochStartOf(n);
      const view = n < start + half ? t - 1 : start + half - 2 - startBlock;
      return { view, step: n + 1 === start + epochLength ? t - 1 : view };
    };
    const bound = delayedBound({ book: curveOfBook(declared), quantityAgents: floatsQ, unitFee: tau, floor: fixedToNumber(model.params.priceFloor), ceiling: fixedToNumber(model.params.priceCeiling), muStarStar: fixedToNumber(muStarStar), e0, eMinus1, eta: stepSizes, etaCap: fixedToNumber(stepRule.eta), tolerance: fixedToNumber(model.params.tolerance), reportIndex, measuredError, hold: HOLD_BLOCKS });
    return { muStarStar, e0, eMinus1, bound };
  }
  const fmtEta = ([low, high]) => (low <= high ? `[${low.toFixed(9)}, ${high.toFixed(9)}]` : '(no step)');
  /** Runs `converge`, then checks the step sizes of the bound's blocks against its η envelope and the reports' contracts. */
  async function convergeLagged(phase, bound, options) {
    scenario.stepSizes = [];
    scenario.premise = { blocks: 0, violations: [] };
    try {
      return await converge({ ...options, settled: true });
    } finally {
      const [low, high] = bound.etaEnvelope;
      const covered = scenario.stepSizes.slice(0, bound.steps).map(fixedToNumber);
      const outside = covered.filter((eta) => eta < low || eta > high);
      check(outside.length === 0, `phase ${phase}: the ${covered.length} step sizes of the bound's blocks lay within its range ${fmtEta(bound.etaEnvelope)}`,
        outside.length ? `outside: ${outside.slice(0, 3).map((eta) => eta.toFixed(12)).join(', ')}` : '');
      const { blocks, violations } = scenario.premise;
      check(violations.length === 0, `phase ${phase}: in all ${blocks} blocks the reports' contracts at the grid prices around the price were the reported quantities (the bound's premise)`, violations.slice(0, 3).join('; '));
      scenario.stepSizes = null;
      scenario.premise = null;
    }
  }

  // Phase B: the Quantity agents join and report their best response every block. They join
  // while the book is open, so that their bids count at once (a bid placed in a sealed half
  // counts from the next epoch).
  while (scenario.head + 1 >= sealBlock()) await block(['waiting for the book to open']);
  scenario.phase = 'B';
  scenario.reporters = quantityAgents;
  const b0 = await block(['Quantity agents join']);
  {
    const { muStarStar, e0, eMinus1, bound } = laggedBound('B', b0.number);
    say(`\nphase B — ${quantityAgents.length} Quantity agents report x(μ_{t−1}) every block; μ** (the declared book and the reporters' true best responses) = ${formatFixed(muStarStar)}:`);
    say(`  η ∈ ${fmtEta(bound.etaEnvelope)} (1/L, L the whole book's steepest cell); e_0 = ${e0.toExponential(3)}, e_−1 = ${eMinus1.toExponential(3)}; reports one block old while the book is open, frozen while it is sealed → delayed recursion, asymptotic rate ${bound.rate.toFixed(6)}`);
    say(`  promise checked (looser, lagged reports): |μ_t − μ**| and the API's |μ_t − μ*_t| ≤ ${formatFixed(model.params.tolerance)} from ${bound.blocks} blocks on, for ${HOLD_BLOCKS + 1} blocks`);
    ensure(Number.isFinite(bound.blocks), 'phase B: a convergence bound exists for these agents');
    const reached = await convergeLagged('B', bound, {
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

    const { muStarStar, e0, eMinus1, bound } = laggedBound('C', enactedAt);
    ensure(muStarStar < summary.B.muStar, 'more capacity lowers the equilibrium price', `μ** ${formatFixed(summary.B.muStar, 9)} → ${formatFixed(muStarStar, 9)}`);
    say(`  the new capacity applies from block #${enactedAt + 1}; new μ** = ${formatFixed(muStarStar)}; η ∈ ${fmtEta(bound.etaEnvelope)}; e_0 = ${e0.toExponential(3)}, e_−1 = ${eMinus1.toExponential(3)}`);
    say(`  promise checked (lagged reports): |μ_t − μ**| and the API's |μ_t − μ*_t| ≤ ${formatFixed(model.params.tolerance)} from ${bound.blocks} blocks after the enactment on, for ${HOLD_BLOCKS + 1} blocks`);
    ensure(Number.isFinite(bound.blocks), 'phase C: a convergence bound exists for these agents');
    const reached = await convergeLagged('C', bound, {
      label: 'phase C (after the referendum, interval bound)',
      startBlock: enactedAt,
      bound: bound.blocks,
      within: (sealed) => sealed.eq.distance <= model.params.tolerance && absDiff(sealed.eq.price, muStarStar) <= model.params.tolerance,
    });
    summary.C = { reached, bound: bound.blocks, muStar: muStarStar };
  }

  // Phase D: invalid calls and non-governance parameter changes are refused by name. Not in a
  // settlement block nor in the keeper's block after it (the keeper's settle_bid there must not
  // meet phase D's).
  scenario.phase = 'D';
  while (scenario.head + 1 === epochEnd() || scenario.head === model.lastSettlementBlock) await block(['phase D waits for the keeper']);
  say(`\nphase D — invalid calls and parameter changes by signed accounts:`);
  {
    const market = model.marketId;
    const paramsBefore = model.params;
    const [l1, l2, l3, l4, l5, l6] = logAgents;
    const q1 = quantityAgents[0];
    const tx = api.tx.contractEquilibrium;
    const agent = encodeCurve({ kind: 'LogUtility', alpha: toFixed('10'), beta: toFixed('1') });
    const maxEpochs = api.consts.contractEquilibrium.maxOrderEpochs.toNumber();
    const bidsBefore = JSON.stringify([...model.bids], bigintJson);
    ensure(model.bids.get(l6.pair.address) && dueEpochs(model.bids.get(l6.pair.address)).length === 0 && !hasEnded(model.bids.get(l6.pair.address)),
      `${l6.name}'s bid is settled through epoch ${model.epoch - 1} and has not ended: settling it again has nothing to do`);
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'LogUtility', alpha: 0n, beta: toFixed('1') }), BUDGET, ORDER_EPOCHS), l1.pair, `${l1.name}: a demand with α = 0`, 'ContractEquilibrium.AlphaOutOfRange');
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'LogUtility', alpha: toFixed('10'), beta: toFixed('0.0001') }), BUDGET, ORDER_EPOCHS), l2.pair, `${l2.name}: a demand with β = 0.0001`, 'ContractEquilibrium.BetaOutOfRange');
    await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'Quantity', x: toFixed('2000000000') }), BUDGET, ORDER_EPOCHS), l3.pair, `${l3.name}: a reported quantity of 2·10⁹`, 'ContractEquilibrium.QuantityOutOfRange');
    await driver.queue(tx.submitDemand(market, agent, eqToPlanck('0.05'), ORDER_EPOCHS), l4.pair, `${l4.name}: a budget of 0.05 EQ per epoch (below the 0.1 EQ bid deposit)`, 'ContractEquilibrium.BudgetBelowDeposit');
    await driver.queue(tx.submitDemand(99, agent, BUDGET, ORDER_EPOCHS), l5.pair, `${l5.name}: a demand in market 99`, 'ContractEquilibrium.UnknownMarket');
    await driver.queue(tx.submitDemand(market, agent, BUDGET, 0), l1.pair, `${l1.name}: an order for 0 epochs`, 'ContractEquilibrium.EpochsOutOfRange');
    await driver.queue(tx.submitDemand(market, agent, BUDGET, maxEpochs + 1), l2.pair, `${l2.name}: an order for ${maxEpochs + 1} epochs (MaxOrderEpochs is ${maxEpochs})`, 'ContractEquilibrium.EpochsOutOfRange');
    await driver.queue(tx.settleBid(market, l6.pair.address), keeper, `keeper: settleBid(${l6.name}), settled already`, 'ContractEquilibrium.NothingToSettle');
    await driver.queue(tx.settleBid(market, payee.address), keeper, 'keeper: settleBid(payee), who has no bid', 'ContractEquilibrium.NoDemand');
    await driver.queue(tx.setMarketParams(market, encodeParams({ ...paramsBefore, capacity: toFixed('1000') })), q1.pair, `${q1.name} (a bidder, signed): setMarketParams`, 'BadOrigin');
    await driver.queue(tx.setMarketParams(market, encodeParams({ ...paramsBefore, capacity: toFixed('1000') })), alice, '//Alice (the sudo key, but signed): setMarketParams', 'BadOrigin');
    await driver.queue(tx.createMarket(encodeParams(paramsBefore)), l1.pair, `${l1.name} (signed): createMarket`, 'BadOrigin');
    await driver.queue(api.tx.sudo.sudo(tx.setMarketParams(market, encodeParams({ ...paramsBefore, unitFee: toFixed('0.6') }))), alice, 'sudo(setMarketParams) raising τ while bids hold contracts priced on it', 'ContractEquilibrium.TermsFixedByBids');
    if (api.errors.contractEquilibrium.OrderBacksNothing) {
      // Runtimes that refuse an order taking part at no price (its budget does not cover g).
      await driver.queue(tx.submitDemand(market, encodeCurve({ kind: 'Quantity', x: ATTACK_QUANTITY }), replica.toBalance(model.params.fixedFee, BALANCE_UNIT), 1), attacker, 'attacker: Quantity 10⁹ on a budget of g (it backs nothing at any price)', 'ContractEquilibrium.OrderBacksNothing');
    }
    const invalid = driver.pending.length - scenario.reporters.length;
    const sealed = await block([`${invalid} invalid calls`]);
    const after = await readMarket(api, market, sealed.hash);
    const marketCount = (await api.query.contractEquilibrium.nextMarketId.at(sealed.hash)).toNumber();
    const storedBids = await readBids(api, market, sealed.hash);
    check(sameParams(after.params, paramsBefore) && marketCount === model.marketId + 1 && sortedJson(storedBids) === sortedJson(model.bids)
      && JSON.stringify([...model.bids].filter(([who]) => !scenario.reporters.some((r) => r.pair.address === who)), bigintJson)
        === JSON.stringify(JSON.parse(bidsBefore).filter(([who]) => !scenario.reporters.some((r) => r.pair.address === who))),
    'the refused calls changed nothing: the market keeps its parameters, no market was created, and every bid but the reporters\' (which reported) is as it was');
  }

  // Phase E: three regressions ride the next settlement, then the final accounting.
  scenario.phase = 'E';
  say(`\nphase E — at the next settlement, three regressions (unbacked demand; a lock on a bidder's whole balance; last-block sniping, with a budget cut in the same block), then the final accounting:`);
  const market = model.marketId;
  const deposit = model.deposit;
  {
    // The unbacked bid must count at once (be placed while the book is open) and stand for a few
    // steps before the settlement, and not in the keeper's block (which refunds the locker):
    // otherwise let blocks pass.
    const view = await readMarket(api, market);
    ensure(view.epoch === model.epoch && view.epochStart === model.epochStart && view.bidders === model.bids.size,
      `the market's epoch ${view.epoch} started in block #${view.epochStart} and it holds ${view.bidders} bids, as the model says`);
    while (scenario.head + 1 >= sealBlock() || epochEnd() - (scenario.head + 1) < ATTACK_LEAD || scenario.head === model.lastSettlementBlock) await block();
  }
  // A budget that backs a little: 0.2 EQ above g, so 0.2/(μ + τ) units at any price, whatever it reports.
  const attackBudget = replica.toBalance(model.params.fixedFee, BALANCE_UNIT) + ATTACK_MARGIN;
  /** A bid's demand at the posted price: its own contracts, interpolated (book.rs `GriddedDemand`). */
  const demandOf = (who) => replica.demandAt(book.griddedDemand(gridOf(), bookOf((w, t) => (w === who ? countedNow(w, t) : null)).totals), model.params.unitFee, model.price);
  const byDemand = (list) => list.map((agent) => ({ agent, demand: demandOf(agent.pair.address) }))
    .sort((a, b) => (a.demand === b.demand ? 0 : a.demand < b.demand ? 1 : -1));
  // The locker: the LogUtility bidder with the largest demand now among those that sign nothing
  // after it (phase D's calls were signed by the first five), since a locked account cannot pay fees.
  const candidates = byDemand(logAgents.slice(5));
  ensure(candidates.length > 0 && candidates[0].demand > 0n, 'a bidder to lock demands something at the posted price', candidates.length ? `${candidates[0].agent.name}: ${formatFixed(candidates[0].demand, 6)} units` : '');
  const locker = candidates[0].agent;
  const lockerAccount = model.accounts.get(locker.pair.address);
  const delegate = (balance) => api.tx.convictionVoting.delegate(MARKET_ADMIN_TRACK, keyPair(LOCK_TARGET).address, 'None', balance);
  const whole = lockerAccount.free + lockerAccount.reserved;
  const delegationFee = (await delegate(whole).paymentInfo(locker.pair)).partialFee.toBigInt();
  const lockAmount = whole - 2n * delegationFee;
  const lockerBudget = model.bids.get(locker.pair.address).order.budget;

  const attackCurve = { kind: 'Quantity', x: ATTACK_QUANTITY };
  scenario.unbacked = { who: attacker.address, steps: 0, views: 0, maxStepShift: 0n, maxViewShift: 0n, viewLimit: 0n, beyond: [], declared: null, without: null };
  scenario.unbacked.standing = () => model.bids.get(attacker.address) !== undefined && countsIn(model.bids.get(attacker.address).order, model.epoch);
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve(attackCurve), attackBudget, 1), attacker, `attacker: Quantity 10⁹ on a budget of ${formatEq(attackBudget)} EQ (g + ${formatEq(ATTACK_MARGIN)}) for one epoch`, null, { kind: 'submit', curve: attackCurve, budget: attackBudget, epochs: 1 });
  await driver.queue(delegate(lockAmount), locker.pair, `${locker.name}: convictionVoting.delegate of ${formatEq(lockAmount)} EQ`);
  const e1 = await block([`attacker: 10⁹ units on ${formatEq(attackBudget)} EQ for one epoch`, `${locker.name} locks ${formatEq(lockAmount)} EQ`]);
  ensure(!e1.settledNow, 'the unbacked bid and the lock are in place before the settlement');
  const attackBid = model.bids.get(attacker.address);
  const attackEpoch = model.epoch;
  const attackContracts = contractsOf(attackBid.order);
  const grid = gridOf();
  const margin = replica.toTokens(ATTACK_MARGIN, BALANCE_UNIT);
  // Its contract at each grid price is what 0.2 EQ pays for there: 0.2/(g_j + τ) units, at most 0.4.
  const backed = attackContracts.units.every((units, j) => units === replica.satDiv(margin, book.gridPrice(grid, j) + model.params.unitFee, 'down'));
  ensure(attackBid.order.from === attackEpoch && attackBid.order.until === attackEpoch + 1 && attackBid.escrow === attackBudget
    && attackContracts.exit === book.GRID_POINTS && backed,
  `unbacked demand: the attacker's Quantity { x: 10⁹ } counts in epoch ${attackEpoch} only, on ${formatEq(attackBudget)} EQ in escrow; at every grid price its contract is what the 0.2 EQ above g pays for, (B − g)/(g_j + τ) units (${formatFixed(attackContracts.units[0], 6)} at the floor, ${formatFixed(attackContracts.units[book.LAST], 6)} at the ceiling), not 10⁹`);
  const locked = (await api.query.system.account.at(e1.hash, locker.pair.address)).data;
  const liquidAfterLock = replica.satSub(locked.free.toBigInt(), replica.satSub(locked.frozen.toBigInt(), locked.reserved.toBigInt()));
  ensure(lockerAccount.frozen === lockAmount && locked.frozen.toBigInt() === lockAmount && liquidAfterLock <= 2n * delegationFee,
    `locks: ${locker.name} locked ${formatEq(lockAmount)} EQ of its ${formatEq(whole)} EQ, its deposit included (all but twice the delegation's fee of ${formatEq(delegationFee)} EQ): of its free ${formatEq(locked.free.toBigInt())} EQ it can move only ${formatEq(liquidAfterLock)} EQ`);

  const settlementsBefore = model.settlements;
  let previous = e1;
  let last = e1;
  const next = async (notes) => {
    previous = last;
    last = await block(notes);
    return last;
  };
  const sum = (items, value) => items.reduce((total, item) => total + value(item), 0n);
  /** What `who` paid in transaction fees in `sealed`. */
  const feesIn = (sealed, who) => sum(sealed.events.filter(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event) && event.data.who.toString() === who),
    ({ event }) => event.data.actualFee.toBigInt());

  // Last-block sniping and a budget cut, in the block right before the settlement (sealed).
  while (scenario.head + 2 < epochEnd() && model.settlements === settlementsBefore) await next();
  const snipeBlock = scenario.head + 1;
  ensure(model.settlements === settlementsBefore && snipeBlock + 1 === epochEnd() && snipeBlock >= sealBlock(),
    `last-block sniping: block #${snipeBlock} is the last before epoch ${model.epoch}'s settlement, in its sealed half (from block #${sealBlock()})`);
  const sniperBefore = (await api.query.system.account.at(last.hash, sniper.address)).data;
  const snipeCurve = { kind: 'Quantity', x: SNIPE_QUANTITY };
  // The sniper's order as an unsealed book would have counted it: at once, in the epoch under way.
  const snipeTerms = { curve: snipeCurve, budget: SNIPE_BUDGET, from: model.epoch, until: model.epoch + 1, exit: contractsOf({ curve: snipeCurve, budget: SNIPE_BUDGET }).exit };
  const snipeContracts = contractsOf(snipeTerms);
  const { lower: snipeCell } = book.locate(gridOf(), model.price);
  ensure(snipeContracts.units[snipeCell] === SNIPE_QUANTITY && snipeContracts.units[snipeCell + 1] === SNIPE_QUANTITY
    && sniperBefore.free.toBigInt() > SNIPE_BUDGET + deposit,
  `last-block sniping: a budget of ${formatEq(SNIPE_BUDGET)} EQ backs all ${formatFixed(SNIPE_QUANTITY)} units at the grid prices around the posted μ = ${formatFixed(model.price, 9)}, and the sniper can escrow it`);
  // The cutter: the LogUtility bidder (not the locker, which can pay no fees) with the largest
  // demand at the posted price, that it will pay for at the settlement.
  const cutter = byDemand(logAgents.filter((agent) => agent !== locker))[0];
  const cutBid = model.bids.get(cutter.agent.pair.address);
  ensure(cutter.demand > 0n && cutBid.next === null && cutBid.settledTo === model.epoch, `budget cut: ${cutter.agent.name} demands ${formatFixed(cutter.demand, 6)} units at the posted price, on a budget of ${formatEq(cutBid.order.budget)} EQ per epoch`);
  const cutBudget = deposit;
  const cutEpoch = model.epoch;
  scenario.sniped = { who: sniper.address, terms: snipeTerms, block: snipeBlock, steps: 0, views: 0, differences: [], unsealedView: null, apiView: null, settlement: null };
  scenario.sniped.standing = () => true;
  scenario.cut = { who: cutter.agent.pair.address, budget: cutBudget, atOnce: null };
  const cutterCurve = cutBid.order.curve;
  const oldBudget = cutBid.order.budget;
  const escrowBeforeCut = cutBid.escrow;
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve(snipeCurve), SNIPE_BUDGET, 1), sniper, `sniper: Quantity ${formatFixed(SNIPE_QUANTITY)} on ${formatEq(SNIPE_BUDGET)} EQ in the block before the settlement`, null, { kind: 'submit', curve: snipeCurve, budget: SNIPE_BUDGET, epochs: 1 });
  await driver.queue(api.tx.contractEquilibrium.withdrawDemand(market), sniper, 'sniper: withdraws in the same block', null, { kind: 'withdraw' });
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve(cutterCurve), cutBudget, ORDER_EPOCHS), cutter.agent.pair, `${cutter.agent.name}: cuts its budget to ${formatEq(cutBudget)} EQ (the deposit)`, null, { kind: 'submit', curve: cutterCurve, budget: cutBudget, epochs: ORDER_EPOCHS });
  const cutterBeforeCut = (await api.query.system.account.at(last.hash, cutter.agent.pair.address)).data;
  const s1 = await next([`sniper bids ${formatFixed(SNIPE_QUANTITY)} units on ${formatEq(SNIPE_BUDGET)} EQ and withdraws`, `${cutter.agent.name} cuts its budget to ${formatEq(cutBudget)} EQ`]);
  const snipeSubmitted = s1.submitted.filter((e) => e.who === sniper.address);
  const snipeLeft = s1.withdrawn.filter((w) => w.who === sniper.address);
  const [bidsAtSnipe, cutterAtSnipe] = await Promise.all([readBids(api, market, s1.hash), api.query.system.account.at(s1.hash, cutter.agent.pair.address)]);
  check(snipeSubmitted.length === 1 && snipeSubmitted[0].countsFrom === cutEpoch + 1 && snipeSubmitted[0].countsUntil === cutEpoch + 2,
    `last-block sniping: the sniper's Quantity { x: ${formatFixed(SNIPE_QUANTITY)} } placed in block #${snipeBlock} (sealed) counts from epoch ${snipeSubmitted[0]?.countsFrom}, the next (DemandSubmitted.countsFrom; epoch ${cutEpoch} is under way)`);
  check(snipeLeft.length === 1 && snipeLeft[0].released === SNIPE_BUDGET + deposit && !s1.scheduled.some((e) => e.who === sniper.address)
    && !bidsAtSnipe.has(sniper.address) && !model.bids.has(sniper.address),
  `last-block sniping: its withdrawal in the same block removed it at once (DemandWithdrawn, nothing scheduled), its escrow and deposit (${formatEq(SNIPE_BUDGET + deposit)} EQ) refunded; the Bids storage has no bid of it`);
  const cutSubmitted = s1.submitted.filter((e) => e.who === cutter.agent.pair.address);
  const cutStored = bidsAtSnipe.get(cutter.agent.pair.address);
  const cutEscrow = oldBudget + cutBudget * BigInt(ORDER_EPOCHS);
  check(cutSubmitted.length === 1 && cutSubmitted[0].countsFrom === cutEpoch + 1
    && cutStored?.order.budget === oldBudget && cutStored.order.until === cutEpoch + 1 && cutStored.next?.budget === cutBudget && cutStored.next.from === cutEpoch + 1
    && cutStored.escrow === cutEscrow
    && cutterAtSnipe.data.free.toBigInt() - cutterBeforeCut.free.toBigInt() === escrowBeforeCut - cutEscrow - feesIn(s1, cutter.agent.pair.address),
  `budget cut: ${cutter.agent.name}'s new budget of ${formatEq(cutBudget)} EQ per epoch queues from epoch ${cutEpoch + 1}; its old order is cut to epoch ${cutEpoch}, whose ${formatEq(oldBudget)} EQ stay in escrow with the new order's ${ORDER_EPOCHS} × ${formatEq(cutBudget)} EQ (${formatEq(cutEscrow)} EQ), and the rest, ${formatEq(escrowBeforeCut - cutEscrow)} EQ, came back at once`);

  const preSettlement = last;
  await next();
  ensure(model.settlements > settlementsBefore && last.settledNow, 'the epoch settled');
  const settlement = last;
  const outcome = model.outcomes.get(cutEpoch);
  scenario.reporters = [];
  // The block after the settlement: the keeper settles every bid (the reporters settled
  // themselves with their reports in the settlement block).
  await next();
  const keeperBlock = last;
  const unbacked = scenario.unbacked;
  scenario.unbacked = null;
  const sniped = scenario.sniped;
  scenario.sniped = null;
  const cut = scenario.cut;
  scenario.cut = null;
  const settledIn = (epoch) => model.settledLog.filter((s) => s.epoch === epoch);
  const ofEpoch = settledIn(cutEpoch);
  const settledOf = (who) => ofEpoch.find((s) => s.who === who);
  ensure(model.clearings.get(cutEpoch) === undefined && ofEpoch.length === outcome.bidders,
    `all ${outcome.bidders} bids that counted in epoch ${cutEpoch} were settled (${ofEpoch.filter((s) => s.block === settlement.number).length} by their own reports in block #${settlement.number}, ${ofEpoch.filter((s) => s.block === keeperBlock.number).length} by the keeper in block #${keeperBlock.number}); no clearing record is left`);

  // Unbacked demand.
  const declared = unbacked.declared;
  check(unbacked.steps >= ATTACK_LEAD - 1 && declared !== null && unbacked.beyond.length === 0 && declared.to - declared.got > toFixed('10'),
    `unbacked demand: while the attacker's bid stood (${unbacked.steps} price steps and ${unbacked.views} runtime-API views, each equal to the replica's with its backed contracts), it moved the API's μ* by at most ${formatFixed(unbacked.maxViewShift, 9)} (never beyond what ${formatFixed(attackContracts.units[0], 6)} units at every price would, ${formatFixed(unbacked.viewLimit, 9)}) and the price by at most ${formatFixed(unbacked.maxStepShift, 9)}; counted as declared, its first step would have taken μ from ${formatFixed(declared?.from ?? 0n, 6)} to ${formatFixed(declared?.to ?? 0n, 6)} instead of ${formatFixed(declared?.got ?? 0n, 6)}`,
    unbacked.beyond.slice(0, 2).join('; '));
  const attackSettled = settledOf(attacker.address);
  const attackCap = replica.satDiv(margin, book.gridPrice(grid, outcome.clearing.lower) + model.params.unitFee, 'down');
  check(attackSettled !== undefined && attackSettled.allocation <= attackCap && attackSettled.payment <= attackBudget && attackSettled.block === keeperBlock.number,
    `unbacked demand: settled by the keeper in block #${attackSettled?.block}, the attacker was allocated ${formatFixed(attackSettled?.allocation ?? 0n, 6)} units (at most the ${formatFixed(attackCap, 6)} its 0.2 EQ pays for) for ${formatEq(attackSettled?.payment ?? 0n)} EQ (at most its budget)`);
  const honest = ofEpoch.filter((s) => s.who !== attacker.address);
  const honestTotal = sum(honest, (s) => s.allocation);
  const honestWithout = sum(honest, (s) => unbacked.without?.get(s.who)?.allocation ?? 0n);
  const rounding = 2n * BigInt(ofEpoch.length);
  check(honestTotal + (attackSettled?.allocation ?? 0n) <= outcome.totalAllocated && outcome.totalAllocated - honestTotal - (attackSettled?.allocation ?? 0n) <= rounding
    && honestWithout >= honestTotal && honestWithout - honestTotal <= (attackSettled?.allocation ?? 0n) + rounding,
  `unbacked demand: the ${honest.length} honest bids were allocated ${formatFixed(honestTotal, 6)} units (the epoch allocated ${formatFixed(outcome.totalAllocated, 6)}, the attacker's share and ${outcome.totalAllocated - honestTotal - (attackSettled?.allocation ?? 0n)}·10⁻¹⁸ of per-bid rounding included): without the attacker ${formatFixed(honestWithout, 6)}, so they lost no more than what its budget paid for`);
  const left = keeperBlock.withdrawn.find((w) => w.who === attacker.address);
  check(left?.released === attackBudget - (attackSettled?.payment ?? 0n) + deposit && !model.bids.has(attacker.address),
    `unbacked demand: its order ended with the epoch, so the keeper's settlement removed it, the rest of its escrow and its deposit (${formatEq(left?.released ?? 0n)} EQ) refunded`);

  // Locks do not dodge payments.
  const lockerSettled = settledOf(locker.pair.address);
  check(lockerSettled !== undefined && lockerSettled.payment > 0n && lockerSettled.block === keeperBlock.number
    && lockerSettled.payment === outcome.perBid.get(locker.pair.address)?.payment,
  `locks: ${locker.name}, its whole balance locked, was charged the replica's ${formatEq(lockerSettled?.payment ?? 0n)} EQ for ${formatFixed(lockerSettled?.allocation ?? 0n, 6)} units out of its escrow when the keeper settled it in block #${keeperBlock.number}`);
  const payouts = settlement.payouts;
  const paidTo = (address) => sum(payouts.filter((t) => t.to === address), (t) => t.amount);
  check(paidTo(payee.address) === outcome.toPayee && paidTo(treasury) === outcome.fees && payouts.every((t) => t.from === model.escrow),
    `locks: epoch ${cutEpoch}'s payout came out of escrow in block #${settlement.number}, exactly the replica's: ${formatEq(outcome.toPayee)} EQ to the payee (Σ w·g·A) and ${formatEq(outcome.fees)} EQ to the treasury (Σ w·(τ·A + g·C)), ${locker.name}'s share included`);
  const [before, after] = await Promise.all([preSettlement.hash, settlement.hash].map(async (hash) => {
    const at = await api.at(hash);
    const [payeeAt, treasuryAt] = await Promise.all([at.query.system.account(payee.address), at.query.system.account(treasury)]);
    return { payee: payeeAt.data.free.toBigInt(), treasury: treasuryAt.data.free.toBigInt() };
  }));
  check(after.payee - before.payee === settlement.received.payee && after.treasury - before.treasury === settlement.received.treasury,
    `locks: in block #${settlement.number} the payee's balance rose by exactly the replica's payout (${formatEq(settlement.received.payee)} EQ) and the treasury's by exactly the fees (${formatEq(settlement.received.treasury)} EQ)`);
  const held = (await api.query.system.account.at(preSettlement.hash, locker.pair.address)).data;
  const [heldFree, heldReserved, heldFrozen] = [held.free.toBigInt(), held.reserved.toBigInt(), held.frozen.toBigInt()];
  const existential = api.consts.balances.existentialDeposit.toBigInt();
  const untouchable = heldFrozen > heldReserved ? heldFrozen - heldReserved : 0n;
  const politeLiquid = replica.satSub(heldFree, untouchable > existential ? untouchable : existential);
  check(lockerSettled !== undefined && lockerSettled.payment > politeLiquid,
    `locks: the check bites — before the settlement ${locker.name}'s lock of ${formatEq(heldFrozen)} EQ left it only ${formatEq(politeLiquid)} EQ it could have paid from its own account (a polite transfer), less than the ${formatEq(lockerSettled?.payment ?? 0n)} EQ it was charged: its budget was in escrow before the lock`);
  const [lockerBefore, lockerAfter] = await Promise.all([settlement.hash, keeperBlock.hash].map(async (hash) => (await api.query.system.account.at(hash, locker.pair.address)).data.free.toBigInt()));
  const lockerRefund = lockerBudget - (lockerSettled?.payment ?? 0n);
  check(lockerSettled !== undefined && lockerAfter - lockerBefore === lockerRefund,
    `locks: the rest of ${locker.name}'s ${formatEq(lockerBudget)} EQ budget for the epoch (${formatEq(lockerRefund)} EQ) came back from escrow to its locked account in block #${keeperBlock.number}`);

  // Last-block sniping.
  check(!model.settledLog.some((s) => s.who === sniper.address),
    `last-block sniping: no BidSettled names the sniper`);
  const withoutSniper = sniped.settlement?.without ?? new Map();
  const honestBids = ofEpoch.filter((s) => s.who !== attacker.address);
  check(ofEpoch.length === withoutSniper.size && ofEpoch.every((s) => withoutSniper.get(s.who)?.allocation === s.allocation && withoutSniper.get(s.who).payment === s.payment),
    `last-block sniping: the ${honestBids.length} honest bids were allocated ${formatFixed(sum(honestBids, (s) => s.allocation), 6)} units for ${formatEq(sum(honestBids, (s) => s.payment))} EQ, each exactly what the replica settles without the sniper`);
  const unsealed = sniped.settlement?.unsealed ?? new Map();
  const unsealedSnipe = unsealed.get(sniper.address);
  const honestLoss = sum(honestBids, (s) => s.allocation - (unsealed.get(s.who)?.allocation ?? s.allocation));
  check(unsealedSnipe !== undefined && unsealedSnipe.allocation > 0n && honestLoss > 0n,
    `last-block sniping: the check bites — had its order counted at once (an unsealed book), the sniper would have been settled ${formatFixed(unsealedSnipe?.allocation ?? 0n, 6)} units for ${formatEq(unsealedSnipe?.payment ?? 0n)} EQ at a posted μ = ${formatFixed(outcome.clearing.price, 9)} that never saw it, the honest bids ${formatFixed(honestLoss, 6)} units fewer`);
  const unsealedView = sniped.unsealedView;
  const apiView = sniped.apiView;
  check(sniped.differences.length === 0 && sniped.steps >= 2 && sniped.views >= 2 && unsealedView !== null && apiView !== null && unsealedView.muStar > apiView.muStar,
    `last-block sniping: from block #${sniped.block} to the settlement, all ${sniped.steps} price steps and ${sniped.views} runtime-API views (μ*, S̃(μ*), S̃(μ) − m) equal the replica's without the sniper (in block #${sniped.block} the API's μ* = ${formatFixed(apiView?.muStar ?? 0n, 9)}; an unsealed book would have shown ${formatFixed(unsealedView?.muStar ?? 0n, 9)})`,
    sniped.differences.slice(0, 2).join('; '));
  const sniperAfter = (await api.query.system.account.at(keeperBlock.hash, sniper.address)).data;
  const sniperFees = feesIn(s1, sniper.address);
  check(sniperFees > 0n && sniperAfter.free.toBigInt() === sniperBefore.free.toBigInt() - sniperFees
    && sniperAfter.reserved.toBigInt() === sniperBefore.reserved.toBigInt() && sniperAfter.frozen.toBigInt() === sniperBefore.frozen.toBigInt(),
  `last-block sniping: after the settlement the sniper's balance is back where it was (${formatEq(sniperBefore.free.toBigInt())} EQ free, ${formatEq(sniperBefore.reserved.toBigInt())} held) less only its transaction fees (${formatEq(sniperFees)} EQ for its 2 transactions)`);

  // Cutting the budget to the deposit in the last block.
  const cutSettled = settledOf(cut.who);
  const cutAtOnce = cut.atOnce?.get(cut.who);
  check(cutSettled !== undefined && cutSettled.allocation > 0n && cutSettled.payment > cutBudget && cutAtOnce?.payment === 0n,
    `budget cut: settled by the keeper, ${cutter.agent.name} paid the replica's full ${formatEq(cutSettled?.payment ?? 0n)} EQ for ${formatFixed(cutSettled?.allocation ?? 0n, 6)} units out of its old budget, more than its cut budget of ${formatEq(cutBudget)} EQ (with the cut applied at once it would have been allocated ${formatFixed(cutAtOnce?.allocation ?? 0n)} and paid ${formatEq(cutAtOnce?.payment ?? 0n)} EQ)`);
  const [bidsAfter, cutterAfter] = await Promise.all([readBids(api, market, keeperBlock.hash), api.query.system.account.at(keeperBlock.hash, cut.who)]);
  const cutterBeforeKeeper = (await api.query.system.account.at(previous.hash, cut.who)).data;
  const cutAfter = bidsAfter.get(cut.who);
  const oldRemainder = oldBudget - (cutSettled?.payment ?? 0n);
  check(cutAfter?.order.budget === cutBudget && cutAfter.next === null && cutAfter.order.from === cutEpoch + 1 && cutAfter.escrow === cutBudget * BigInt(cutAfter.order.until - model.epoch)
    && cutterAfter.data.free.toBigInt() - cutterBeforeKeeper.free.toBigInt() === oldRemainder,
  `budget cut: then the cut order took over (budget ${formatEq(cutBudget)} EQ from epoch ${cutEpoch + 1}, nothing queued, ${formatEq(cutAfter?.escrow ?? 0n)} EQ in escrow), and the old budget's remainder (${formatEq(oldRemainder)} EQ) came back in block #${keeperBlock.number}`);

  // The final accounting.
  const at = await api.at(last.hash);
  const [payeeAccount, treasuryAccount, issuance, escrowAccountNow] = await Promise.all([
    at.query.system.account(payee.address),
    at.query.system.account(treasury),
    at.query.balances.totalIssuance(),
    at.query.system.account(model.escrow),
  ]);
  check(payeeAccount.data.free.toBigInt() === PAYEE_FUNDING + model.payeeReceived,
    `the payee received exactly the payouts Σ to_balance(Σ w·g·A) of ${model.settlements} settlements`, `${formatEq(model.payeeReceived)} EQ`);
  check(treasuryAccount.data.free.toBigInt() - treasuryStart.data.free.toBigInt() === model.treasuryReceived,
    `the treasury received exactly the fees Σ to_balance(Σ w·(τ·A + g·C)) of every market's settlements (${model.settlements} of market ${model.marketId}, ${model.otherSettlements} of market 0)`, `${formatEq(model.treasuryReceived)} EQ`);
  check(issuanceStart.toBigInt() - issuance.toBigInt() === model.feesBurned,
    'the total issuance fell by exactly the transaction fees (burned); escrow, payouts, refunds and deposits moved funds without minting or burning',
    `${formatEq(model.feesBurned)} EQ of fees`);
  // The escrow holds what every bid of every market still has in it, less what they owe for
  // settled epochs (paid out already), plus the rounding dust of the payouts.
  const allBids = await at.query.contractEquilibrium.bids.entries();
  const owedViews = await Promise.all(allBids.map(([key]) => readBidView(api, key.args[0].toNumber(), key.args[1].toString(), last.hash)));
  const inEscrow = sum(owedViews, (view) => view.bid.escrow - view.unsettledPayment);
  const escrowBalance = escrowAccountNow.data.free.toBigInt();
  const surplus = escrowBalance - existential - inEscrow;
  const ourDust = sum([...model.outcomes.values()].filter((o) => o.ledgerChecked), (o) => o.dust);
  check(surplus >= ourDust && surplus >= 0n,
    `the escrow account is solvent: its ${formatEq(escrowBalance)} EQ cover the existential deposit and the ${formatEq(inEscrow)} EQ its ${allBids.length} bids (all markets) still have in it after what they owe, with ${surplus} planck of payout rounding to spare (${ourDust} of market ${model.marketId}'s settled epochs)`);
  summary.bidViews = scenario.bidViews;
  summary.keeperCalls = scenario.keeperCalls;
}

let exitCode = 1;
try {
  await main();
  exitCode = checks.every((c) => c.ok) ? 0 : 1;
} catch (error) {
  if (guard.interrupted) await new Promise(() => {}); // the guard reports, stops the node and exits
  if (!(error instanceof Fatal)) check(false, 'the scenario ran to the end', error.stack ?? String(error));
  else say(`stopped: ${error.message}`);
  if (node) say(`node log (last lines):\n${node.tail(15)}`);
  exitCode = 1;
} finally {
  await guard.shutdown();
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
say(`  ${model.settlements} settlements of market ${model.marketId} (and ${model.otherSettlements} of market 0) checked against the replica's clear; ${model.settledLog.length} BidSettled (the keeper made ${scenario.keeperCalls} settle_bid calls); ${scenario.bidViews} runtime-API bid views compared`);
say(`  ${checks.length - failed.length} of ${checks.length} checks passed${failed.length ? `; FAILED: ${failed.map((c) => c.what).join(' | ')}` : ''}`);
process.exit(exitCode);
