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
//   utility pallet: one block of transfers with explicit nonces; the same block funds phase E's
//   attacker, //ScenarioAttacker, with 10 EQ and its sniper, //ScenarioSniper, with 1 100 EQ).
//   The first 16 bid as
//   LogUtility { α, β } (the chain evaluates their best response); the last 4 keep their α, β
//   private and bid Quantity { x }, re-reporting every block their best response
//   x = max(0, α/(β+τ+μ) − 1) to the last price they saw, as Algorithm 1's agents do. Budgets are
//   1 000 EQ each.
// - Market: a fresh market created with sudo (Alice), so that market 0's demo bidders do not
//   interfere: capacity 20, τ = 0.5, g = 0.5, DualAscent { eta: 1 } (so the step is
//   η = min(1, 1/L) = 1/L, the largest the chain allows), prices in [0, 100], epochs of 25
//   blocks, tolerance 10⁻⁶, payee a fresh account (//ScenarioPayee).
// - Phases: A) the 16 LogUtility agents bid in one block; the price climbs from the floor to μ*.
//   B) the 4 Quantity agents join (in the open half of an epoch, so that their bids count at once)
//   and report every block; the price moves to the equilibrium μ** of all 20 agents' true best
//   responses. C) a referendum on the market_admin track
//   (preimage, submit, decision deposit, conviction votes by Alice and Bob, enactment by the
//   scheduler) raises the capacity to 30; the price re-converges to the new μ**.
//   D) invalid demands are rejected with their named errors (AlphaOutOfRange, BetaOutOfRange,
//   QuantityOutOfRange, BudgetBelowDeposit, UnknownMarket) and parameter changes by signed
//   accounts (a bidder, and Alice without sudo) fail with BadOrigin; nothing changes.
//   E) three regressions ride the next settlement (the first two placed while the book is open
//   and at least ATTACK_LEAD blocks before it, otherwise the settlement after it; the third in
//   the block right before it), then the final accounting:
//   - unbacked demand: the attacker bids Quantity { x: 10⁹ } on a budget of g (B − g = 0: it
//     backs nothing) and schedules its withdrawal in the same block. While the bid stands, every
//     PriceUpdated and runtime-API view must equal the replica's *without* it; at the settlement
//     it is allocated 0 and pays 0, every honest bid is allocated and pays exactly what it would
//     without it, and the bid leaves with its budget and deposit released.
//   - locks do not dodge payments: the LogUtility bidder with the largest demand (among those
//     that sign nothing later) delegates its votes (convictionVoting.delegate, track 1, to Dave)
//     with a lock on its whole balance, held budget included, less twice the delegation's fee:
//     its frozen balance exceeds its free balance, so a polite transfer out of its hold would be
//     refused. At the settlement it must pay exactly the replica's payment, moved out of its hold
//     to the payee and the treasury (Balances.TransferOnHold), whose balances must rise by exactly
//     what the model says; and the payment must exceed what a polite transfer could have moved.
//   - last-block sniping (issue 11's attack 2): in the block right before the settlement (the
//     book sealed) the sniper bids Quantity { x: 20 } on 1 000 EQ (which backs all 20 units) and
//     withdraws in the same block. Its DemandSubmitted counts from the next epoch, and its
//     DemandWithdrawn releases budget and deposit at once; the settlement has no BidSettled for
//     it, every honest bid is allocated and pays exactly what the replica settles without it
//     (an unsealed book would have settled it a share of the capacity at a price that never saw
//     it: checked to differ), the price steps and runtime-API views from that block to the
//     settlement equal the replica's without it, and its balance is back where it was less its
//     fees.
//   - a budget cut in the same block: the LogUtility bidder (not the locker) with the largest
//     demand resubmits its curve with a budget of 0.1 EQ (the deposit). It counts from the next
//     epoch; both budgets are held until the settlement, where it pays the replica's full
//     payment out of the old one (the cut applied at once would have paid 0); then the cut
//     applies and the old budget's remainder is released.
// - Bounds (lib/bounds.mjs, where the derivations are written out):
//   A) with price-responsive bids only, the map μ ↦ μ + η(S(μ) − m) is non-decreasing (η ≤ 1/L),
//      so the price approaches μ* from below without crossing it and
//      |μ_{t+1} − μ*| ≤ (1 − η·ℓ)|μ_t − μ*|, ℓ = |S'(μ*)| (the least slope on [μ_0, μ*]).
//      The promise checked: the runtime API's distance |μ_t − μ*| ≤ tolerance after at most
//      T_A = ⌈ln(d_0/tol)/(−ln(1 − η·ℓ))⌉ blocks, and μ_t ≤ μ* at every block.
//   B, C) reports lag one block while the order book is open, so the step sees
//      S_L(μ_t) + Q(μ_{t−1}): a second-order recursion e_{t+1} = (1 − η·a_t)·e_t − η·b_t·e_{t−1}
//      in e_t = μ_t − μ**; while it is sealed (the second half of each epoch) a report waits for
//      the settlement and the step sees the last one made while the book was open, e_{t−1}
//      becoming that older e_j. Bounded by interval arithmetic from the measured starting errors
//      with the slopes' ranges over the reachable prices. This is looser than A's bound and is
//      documented as such. The promise checked: from T_B (T_C) blocks on, for HOLD_BLOCKS + 1
//      blocks, both |μ_t − μ**| and the runtime API's distance |μ_t − μ*_t| (μ*_t computed with
//      the standing reports) are ≤ tolerance (a stale report frozen while the book is sealed can
//      carry the price through the band and out again before it settles, so the bound is for
//      the first block from which it stays).
//   L counts each report's backed term min(k/c², x²/k) (order.rs `steepest_slope_from`), so the
//   step size η = min(1, 1/L) moves with the reports: the recursion takes it over a range (no
//   reports … every reporter at its largest response on half its budget), and every step size
//   the phase uses is checked to lie in it. Budgets never cap a true best response (each budget
//   less g is at least α, checked), so μ** is the same for the orders as for the curves.
//   Floats are used for the bounds only (with safety margins); the chain's fixed-point rounding
//   is absorbed by a 10⁻¹² slack on the tolerance.
// - Exactness (BigInt, lib/mechanism.mjs replicates the chain's math): the replica counts every
//   bid as the chain does, as an order (order.rs): its curve capped by what the rest of its
//   budget pays for, min(x(μ), (B − g)/(μ + τ)), B = to_tokens(budget) (planck · 10⁶, exact),
//   and only the bids that count in the epoch under way (the model follows the sealed order
//   book: counted_from, and replacements and withdrawals pending until the settlement); at a
//   settlement a LogUtility bid whose allocation is not worth its payment gets nothing
//   (settlement.rs `covers_fixed_fee`).
//   Every PriceUpdated of the scenario's market must equal the replica's step (price, S, S − m,
//   converged); every block the runtime API's μ*, S(μ*) and excess demand must equal the
//   replica's; every BidSettled's allocation and payment must equal the replica's settlement,
//   every EpochSettled must come in the block the model expects with the market's capacity, and
//   every DemandSubmitted's counts_from must be the model's. After every settlement and at the end, each
//   tracked account's free, reserved and frozen balances must equal the model built from the
//   events (Balances.Transfer in, TransactionPayment.TransactionFeePaid out, budget and deposit
//   held on DemandSubmitted, payments drawn from the held budget on BidSettled, holds released
//   on DemandWithdrawn, the rest of a replaced budget released at the settlement,
//   Balances.Locked/Unlocked), the Bids storage must equal the model (counted_from and the
//   pending changes included), the payee must have received exactly Σ μ·x (to_balance, rounded
//   down) and
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
import { bigintJson, decodeCurve, decodeParams, encodeCurve, encodeParams, readBids, readEquilibrium, readMarket, sameParams } from './lib/market.mjs';
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
const ATTACKER_FUNDING = eqToPlanck('10');
const ATTACK_QUANTITY = toFixed('1000000000'); // Quantity { x: 10⁹ }, the most a report may be
const ATTACK_LEAD = 3; // the unbacked bid stands for at least ATTACK_LEAD − 1 steps before the settlement
const LOCK_TARGET = '//Dave'; // whom the locking bidder delegates its votes to
const SNIPER_FUNDING = eqToPlanck('1100');
const SNIPE_QUANTITY = toFixed('20'); // issue 11's attack 2: Quantity { x: 20 } in the block before a settlement
const SNIPE_BUDGET = BUDGET; // ample: backs 20 units at any price up to 49.5 (checked at the posted one)
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
  epoch: 0, // the epoch under way
  epochStart: 0, // the block it started in (the market's creation, or the settlement before it)
  // Storage order: { who, curve, budget, deposit, countedFrom, next }, next as market.mjs
  // `decodeNextOrder`: what happens to the bid once the epoch under way has settled.
  bids: [],
  accounts: new Map(), // address → { name, free, reserved, frozen }
  payeeReceived: 0n,
  treasuryReceived: 0n,
  feesBurned: 0n,
  settlements: 0,
  lastOutcome: null,
};
/** types.rs `Bid::counts_in`: whether a bid counts in the epoch under way. */
const counts = (bid) => bid.countedFrom <= model.epoch;
/**
 * types.rs `Market::seal_block`: the first block of the epoch under way in which the book is
 * sealed, ⌊L/2⌋ blocks after it started. From then on a new bid counts from the next epoch and
 * a replacement of a counted bid waits for the settlement.
 */
const sealBlock = () => model.epochStart + Math.floor(model.params.epochLength / 2);
/** types.rs `Market::epoch_end`: the block whose first step settles the epoch under way. */
const epochEnd = () => model.epochStart + model.params.epochLength;
/**
 * The bids as the chain counts them (the pallet's `counted_orders`): every bid that counts in
 * the epoch under way, its curve backed by what is left of its budget, with the market's fixed
 * fee. `without`: leave that bidder out (what the chain would count if it had not bid).
 */
const orders = (without = null) => replica.ordersOfBids(model.bids.filter((bid) => counts(bid) && bid.who !== without), model.params, BALANCE_UNIT);
/** Moves `amount` (may be negative) of `account`'s free balance onto hold. */
function hold(account, amount) {
  account.free -= amount;
  account.reserved += amount;
}

function track(address, name, free = 0n) {
  model.accounts.set(address, { name, free, reserved: 0n, frozen: 0n });
}

/** Applies one block's events to the model, checking each market event against the replica. */
function applyEvents(blockNumber, events) {
  const notes = [];
  let priceEvent = null;
  let settledNow = false;
  let expectedSettlement = null;
  let withoutUnbacked = null; // the replica's settlement without the unbacked bid (phase E)
  let settling = null; // the bids the epoch settles: those that count in it, in storage order
  let settledIndex = 0;
  const settled = []; // this market's BidSettled: { who, allocation, payment, toPayee, toFees, without }
  const withdrawn = []; // this market's DemandWithdrawn: { who, released }
  const transfersOnHold = []; // Balances.TransferOnHold from tracked accounts: { source, dest, amount }
  const otherMarketSettlements = new Map(); // market → [{ allocation, payment }]
  const unbacked = scenario.unbacked;
  const unbackedStands = () => unbacked !== null && model.bids.some((bid) => bid.who === unbacked.who && counts(bid));
  const ce = api.events.contractEquilibrium;
  for (const { event } of events) {
    const data = event.data;
    if (api.events.balances.Transfer.is(event)) {
      const from = model.accounts.get(data.from.toString());
      const to = model.accounts.get(data.to.toString());
      if (from) from.free -= data.amount.toBigInt();
      if (to) to.free += data.amount.toBigInt();
    } else if (api.events.balances.TransferOnHold.is(event)) {
      // Settlement payments out of a held budget: the model applies them on BidSettled.
      const source = data.source.toString();
      if (model.accounts.has(source)) transfersOnHold.push({ source, dest: data.dest.toString(), amount: data.amount.toBigInt() });
    } else if (api.events.balances.Locked.is(event) || api.events.balances.Unlocked.is(event)) {
      // The account's `frozen`: the largest of its locks (conviction voting's, here).
      const account = model.accounts.get(data.who.toString());
      if (account) account.frozen += (api.events.balances.Locked.is(event) ? 1n : -1n) * data.amount.toBigInt();
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
      if (expectedSettlement === null) {
        settling = model.bids.filter(counts);
        expectedSettlement = replica.settle(settling, model.params, model.price, BALANCE_UNIT);
        if (unbackedStands()) {
          const bids = settling.filter((bid) => bid.who !== unbacked.who);
          withoutUnbacked = new Map(replica.settle(bids, model.params, model.price, BALANCE_UNIT).map((s) => [s.who, s]));
        }
        const settleMap = (bids) => new Map(replica.settle(bids, model.params, model.price, BALANCE_UNIT).map((s) => [s.who, s]));
        const sniped = scenario.sniped;
        if (sniped) {
          // The settlement without the sniper, and as the chain settled it before the book was
          // sealed: the bid counted at once, and its withdrawal waited for the settlement.
          const bids = settling.filter((bid) => bid.who !== sniped.who);
          sniped.settlement = { without: settleMap(bids), unsealed: settleMap([...bids, sniped.bid]) };
        }
        const cut = scenario.cut;
        if (cut) {
          // The settlement had the cut budget applied at once (before the book was sealed).
          cut.atOnce = settleMap(settling.map((bid) => (bid.who === cut.who ? { ...bid, budget: cut.budget } : bid)));
        }
      }
      const expected = expectedSettlement[settledIndex];
      const bid = settling[settledIndex];
      settledIndex += 1;
      const who = data.who.toString();
      if (data.epoch.toNumber() !== model.epoch) throw new Fatal(`block #${blockNumber}: BidSettled for epoch ${data.epoch.toNumber()}, the model's is ${model.epoch}`);
      if (!expected || expected.who !== who || expected.allocation !== allocation || expected.payment !== payment) {
        throw new Fatal(`block #${blockNumber}: BidSettled for ${nameOf(who)} (allocation ${formatFixed(allocation)}, payment ${payment}) differs from the replica (${expected ? `${formatFixed(expected.allocation)}, ${expected.payment}` : 'no such bid'})`);
      }
      settled.push({ ...expected, without: withoutUnbacked?.get(who) ?? null });
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
        const counted = model.bids.filter(counts).length;
        if (settledIndex !== counted) throw new Fatal(`block #${blockNumber}: ${settledIndex} BidSettled events for ${counted} bids that count`);
        if (data.epoch.toNumber() !== model.epoch || blockNumber !== epochEnd()) {
          throw new Fatal(`block #${blockNumber}: epoch ${data.epoch.toNumber()} settled; the model expects epoch ${model.epoch} to settle in block #${epochEnd()}`);
        }
        if (outcome.capacity.toBigInt() !== model.params.capacity || outcome.bidders.toNumber() !== counted) {
          throw new Fatal(`block #${blockNumber}: EpochSettled records capacity ${formatFixed(outcome.capacity.toBigInt())} and ${outcome.bidders.toNumber()} bidders, the model ${formatFixed(model.params.capacity)} and ${counted}`);
        }
        // The changes asked for while the book was sealed: a replaced bid takes its new curve and
        // budget (held in full already) and releases what is left of the old one; withdrawing
        // bids leave on their DemandWithdrawn, which follows.
        for (const bid of model.bids) {
          if (bid.next.kind !== 'Replace') continue;
          hold(model.accounts.get(bid.who), -bid.budget);
          bid.curve = bid.next.curve;
          bid.budget = bid.next.budget;
          bid.next = { kind: 'Keep' };
        }
        model.epoch += 1;
        model.epochStart = blockNumber;
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
      const step = replica.nextPriceDualAscent(orders(), model.params, model.price);
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
      if (unbackedStands()) {
        // The same step without the unbacked bid: it must be the very same step.
        const without = replica.nextPriceDualAscent(orders(unbacked.who), model.params, model.price);
        unbacked.steps += 1;
        if (differs(without)) unbacked.differences.push(`block #${blockNumber}: the step ${JSON.stringify(got, bigintJson)}, without the bid ${JSON.stringify(without, bigintJson)}`);
      }
      if (scenario.sniped) {
        // From the sniping block to the settlement: the step without the sniper's bid.
        const sniped = scenario.sniped;
        const without = replica.nextPriceDualAscent(orders(sniped.who), model.params, model.price);
        sniped.steps += 1;
        if (differs(without)) sniped.differences.push(`block #${blockNumber}: the step ${JSON.stringify(got, bigintJson)}, without the sniper ${JSON.stringify(without, bigintJson)}`);
      }
      scenario.stepSizes?.push(step.stepSize);
      model.price = got.price;
      priceEvent = got;
      if (got.converged) notes.push('converged');
    } else if (ce.DemandSubmitted.is(event) && data.market.toNumber() === model.marketId) {
      // The pallet's `do_submit_demand`, in a block of the open or the sealed half of the epoch.
      const who = data.who.toString();
      const curve = decodeCurve(data.curve);
      const budget = data.budget.toBigInt();
      const account = model.accounts.get(who);
      const bid = model.bids.find((b) => b.who === who);
      const sealed = blockNumber >= sealBlock();
      let countsFrom;
      if (bid && sealed && counts(bid)) {
        // A counted bid in a sealed epoch: replaced once the epoch has settled; the new budget is
        // held in full now, instead of a replacement asked for before.
        hold(account, budget - (bid.next.kind === 'Replace' ? bid.next.budget : 0n));
        bid.next = { kind: 'Replace', curve, budget };
        countsFrom = model.epoch + 1;
      } else if (bid) {
        // At once; placing a demand again cancels a pending withdrawal.
        hold(account, budget - bid.budget);
        bid.curve = curve;
        bid.budget = budget;
        bid.next = { kind: 'Keep' };
        countsFrom = Math.max(bid.countedFrom, model.epoch);
      } else {
        const deposit = api.consts.contractEquilibrium.bidDeposit.toBigInt();
        hold(account, budget + deposit);
        countsFrom = sealed ? model.epoch + 1 : model.epoch;
        model.bids.push({ who, curve, budget, deposit, countedFrom: countsFrom, next: { kind: 'Keep' } });
      }
      if (data.countsFrom.toNumber() !== countsFrom) {
        throw new Fatal(`block #${blockNumber}: DemandSubmitted for ${nameOf(who)} counts from epoch ${data.countsFrom.toNumber()}, the model says ${countsFrom} (epoch ${model.epoch}, ${sealed ? 'sealed' : 'open'})`);
      }
    } else if (ce.DemandWithdrawalScheduled.is(event) && data.market.toNumber() === model.marketId) {
      // A counted bid leaves after the settlement; a pending replacement's budget is released.
      const bid = model.bids.find((b) => b.who === data.who.toString());
      if (!bid || !counts(bid)) throw new Fatal(`block #${blockNumber}: DemandWithdrawalScheduled for ${nameOf(data.who.toString())}, who has no bid that counts`);
      if (bid.next.kind === 'Replace') hold(model.accounts.get(bid.who), -bid.next.budget);
      bid.next = { kind: 'Withdraw' };
    } else if (ce.DemandWithdrawn.is(event) && data.market.toNumber() === model.marketId) {
      // At a settlement (after EpochSettled) a withdrawing bid leaves; a bid that does not count
      // yet leaves at once. Either way with what is left of its holds.
      const who = data.who.toString();
      const released = data.released.toBigInt();
      const index = model.bids.findIndex((b) => b.who === who);
      const bid = model.bids[index];
      if (!bid || !(bid.next.kind === 'Withdraw' || !counts(bid)) || released !== bid.budget + bid.deposit) {
        throw new Fatal(`block #${blockNumber}: DemandWithdrawn for ${nameOf(who)} released ${released}, the model expects ${bid ? `${bid.budget + bid.deposit} (next: ${bid.next.kind}, counted from epoch ${bid.countedFrom})` : 'no bid'}`);
      }
      model.bids.splice(index, 1);
      hold(model.accounts.get(who), -released);
      withdrawn.push({ who, released });
      notes.push(`${nameOf(who)} withdrawn`);
    } else if (ce.MarketParamsUpdated.is(event) && data.market.toNumber() === model.marketId) {
      model.params = decodeParams(data.params);
      model.price = replica.clampPrice(model.params, model.price); // clamped into the new bounds at once
      notes.push(`MarketParamsUpdated: capacity ${formatFixed(model.params.capacity)}`);
    } else if (ce.MarketCreated.is(event)) {
      model.marketId = data.market.toNumber();
      model.params = decodeParams(data.params);
      model.price = model.params.priceFloor;
      model.epoch = 0;
      model.epochStart = blockNumber;
      notes.push(`MarketCreated #${model.marketId}`);
    }
  }
  model.priceAt.set(blockNumber, model.price);
  return { notes, priceEvent, settledNow, settled, withdrawn, transfersOnHold };
}

const names = new Map();
const nameOf = (address) => names.get(address) ?? address.slice(0, 8);

// ---------------------------------------------------------------------------------------------
// Blocks: seal, apply, compare with the runtime API, print a row.

const scenario = {
  phase: 'S', // S(etup), then A … E
  reporters: [], // Quantity agents reporting every block
  referendum: null, // { index, taskId, enactedAt, lastPhase }
  // Phase E's unbacked bid { who, steps, views, differences }: while it stands, every step and
  // runtime-API view is also compared with the replica without it.
  unbacked: null,
  // Phase E's last-block sniping { who, block, bid, steps, views, differences, unsealedView,
  // apiView, settlement }: from the sniping block to the settlement, every step and view is also
  // compared with the replica without the sniper; the settlement is computed without it and as
  // an unsealed book would have settled it (`settlement.without`, `settlement.unsealed`).
  sniped: null,
  // Phase E's budget cut in the last block { who, budget, atOnce }: `atOnce`, the settlement had
  // the cut applied at once.
  cut: null,
  stepSizes: null, // when an array, every step size η the replica computed is appended to it
  blocks: 0,
  head: 0, // the number of the last sealed block
};

async function block(extraNotes = []) {
  // Algorithm 1: each Quantity agent reports its best response to the last posted price.
  for (const agent of scenario.reporters) {
    const x = replica.demandAt({ kind: 'LogUtility', alpha: agent.alpha, beta: agent.beta }, model.params.unitFee, model.price);
    await driver.queue(api.tx.contractEquilibrium.submitDemand(model.marketId, encodeCurve({ kind: 'Quantity', x }), BUDGET), agent.pair, `${agent.name} reports`);
  }
  const sealed = await driver.seal();
  scenario.blocks += 1;
  scenario.head = sealed.number;
  const receivedBefore = { payee: model.payeeReceived, treasury: model.treasuryReceived };
  const { notes, priceEvent, settledNow, ...applied } = applyEvents(sealed.number, sealed.events);
  // What the model says the payee and the treasury received in this block.
  const received = { payee: model.payeeReceived - receivedBefore.payee, treasury: model.treasuryReceived - receivedBefore.treasury };
  notes.push(...extraNotes);
  if (scenario.reporters.length) notes.push(`${scenario.reporters.length} reports`);

  let eq = null;
  if (model.marketId !== null) {
    eq = await readEquilibrium(api, model.marketId, sealed.hash);
    const view = (demands) => {
      const muStar = replica.clearingPrice(demands, model.params);
      return {
        muStar,
        atMuStar: replica.aggregateDemand(demands, model.params.unitFee, muStar),
        excess: replica.aggregateDemand(demands, model.params.unitFee, replica.clampPrice(model.params, model.price)) - model.params.capacity,
      };
    };
    const differs = (v) => eq.clearingPrice !== v.muStar || eq.excessDemand !== v.excess || eq.demandAtClearingPrice !== v.atMuStar;
    const expected = view(orders());
    if (differs(expected) || eq.price !== model.price) {
      throw new Fatal(`block #${sealed.number}: the runtime API's equilibrium (μ* ${formatFixed(eq.clearingPrice)}, price ${formatFixed(eq.price)}, excess ${formatFixed(eq.excessDemand)}) differs from the replica (μ* ${formatFixed(expected.muStar)}, price ${formatFixed(model.price)}, excess ${formatFixed(expected.excess)})`);
    }
    const unbacked = scenario.unbacked;
    if (unbacked && model.bids.some((bid) => bid.who === unbacked.who)) {
      // The view without the unbacked bid: it must be the very same view.
      const without = view(orders(unbacked.who));
      unbacked.views += 1;
      if (differs(without)) unbacked.differences.push(`block #${sealed.number}: the API's μ* ${formatFixed(eq.clearingPrice)}, without the bid ${formatFixed(without.muStar)}`);
    }
    const sniped = scenario.sniped;
    if (sniped) {
      // The view without the sniper's bid: it must be the very same view. After the sniping
      // block, an unsealed book would have counted the bid until the settlement.
      const without = view(orders(sniped.who));
      sniped.views += 1;
      if (differs(without)) sniped.differences.push(`block #${sealed.number}: the API's μ* ${formatFixed(eq.clearingPrice)}, without the sniper ${formatFixed(without.muStar)}`);
      if (sealed.number === sniped.block) {
        sniped.unsealedView = view([...orders(sniped.who), replica.orderOfBid(sniped.bid, model.params, BALANCE_UNIT)]);
        sniped.apiView = { muStar: eq.clearingPrice, atMuStar: eq.demandAtClearingPrice, excess: eq.excessDemand };
      }
    }
  }
  if (scenario.referendum) notes.push(...await followReferendum(sealed));

  const row = priceEvent && eq
    ? `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${fmtPrice(priceEvent.price)} ${fmtQty(priceEvent.aggregateDemand)} ${fmtM(priceEvent.aggregateDemand - priceEvent.excessDemand)} ${fmtPrice(eq.clearingPrice)} ${fmtDist(eq.distance)}  ${notes.join('; ')}`
    : `${String(sealed.number).padStart(5)} ${scenario.phase.padEnd(2)} ${''.padStart(13)} ${''.padStart(11)} ${''.padStart(6)} ${''.padStart(13)} ${''.padStart(9)}  ${notes.join('; ')}`;
  const interesting = notes.some((n) => n !== `${scenario.reporters.length} reports` && n !== 'converged');
  if (!options.quiet || interesting || sealed.number % 10 === 0) say(row);
  if (settledNow) await checkBalances(sealed, `after the settlement in block #${sealed.number}`);
  return { ...sealed, eq, settledNow, received, ...applied };
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
    if (free !== expected.free || reserved !== expected.reserved || frozen !== expected.frozen) {
      mismatches.push(`${expected.name}: free ${free} (expected ${expected.free}), reserved ${reserved} (expected ${expected.reserved}), frozen ${frozen} (expected ${expected.frozen})`);
    }
  });
  const sameBids = bids.length === model.bids.length && bids.every((bid, i) => {
    const m = model.bids[i];
    return bid.who === m.who && bid.budget === m.budget && bid.deposit === m.deposit && bid.countedFrom === m.countedFrom
      && JSON.stringify([bid.curve, bid.next], bigintJson) === JSON.stringify([m.curve, m.next], bigintJson);
  });
  if (!sameBids) mismatches.push('the Bids storage differs from the model');
  const outcome = model.lastOutcome;
  check(mismatches.length === 0,
    `balances ${when}: ${addresses.length} accounts' free, reserved and frozen balances and ${bids.length} bids match the events to the planck`,
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
  const attacker = keyPair('//ScenarioAttacker');
  names.set(attacker.address, 'attacker');
  const sniper = keyPair('//ScenarioSniper');
  names.set(sniper.address, 'sniper');
  for (const agent of agents) track(agent.pair.address, agent.name);
  track(payee.address, 'payee');
  track(attacker.address, 'attacker');
  track(sniper.address, 'sniper');
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
  f += 1;
  await driver.queue(api.tx.balances.transferKeepAlive(attacker.address, ATTACKER_FUNDING), funders[f % funders.length], 'fund the attacker');
  f += 1;
  await driver.queue(api.tx.balances.transferKeepAlive(sniper.address, SNIPER_FUNDING), funders[f % funders.length], 'fund the sniper');
  printHeader();
  await block([`${agents.length + 3} transfers`]);
  ensure(model.marketId !== null, `sudo created market ${model.marketId}`);
  say(`market ${model.marketId} created; ${agents.length} agents funded with ${formatEq(FUNDING)} EQ each from ${FUNDERS.length} dev accounts (and phase E's attacker with ${formatEq(ATTACKER_FUNDING)} EQ and sniper with ${formatEq(SNIPER_FUNDING)} EQ)`);

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
    // Every bid counts at once (placed in the open half) and every budget is ample, so the
    // orders demand what the curves do and L is the curves' bound.
    const orders = () => replica.ordersOfBids(model.bids, model.params, BALANCE_UNIT);
    const muStar = a0.eq.clearingPrice;
    ensure(muStar > model.params.priceFloor && muStar < model.params.priceCeiling, 'phase A: capacity binds (μ* strictly inside the price bounds)', `μ* = ${formatFixed(muStar)}`);
    const eta = replica.effectiveStepSize(orders(), model.params, model.params.stepRule.eta);
    const L = replica.lipschitzBound(orders(), model.params.unitFee, model.params.priceFloor);
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

  /**
   * Phases B and C: μ**, the equilibrium of every agent's true best response as the chain counts
   * it (the true curve as an order, backed by the agent's budget), and the interval bound from
   * the measured prices after block `startBlock` (e_0) and before it (e_−1).
   * The reports are one block old while the book is open; in the sealed half of an epoch the
   * price sees the last report made while it was open (made in block seal − 1, at the price
   * after block seal − 2), and the settlement applies the pending one made in the block before
   * it: `reportIndex` tells the bound which measured or bounded price each step's reports came
   * from (the reporters report in every block, their bids counting since phase B's first block,
   * which is in an open half).
   * The bounds reason about the curves, so no budget may cap a true best response: each budget
   * less g is at least the agent's α, so (μ + τ)·x(μ) < α never reaches it (and a LogUtility
   * bid's term in L is its curve's slope at the floor, whatever its budget).
   * The step size η = min(eta, 1/L) moves with the reports: L counts each report's backed term
   * min(k/c², x²/k) (order.rs `steepest_slope_from`). When every report standing was made at a
   * price in [low, high], η lies between its value with every reporter at x(low) on half its
   * budget and its value with every reporter at x(high) on its whole budget (x falls with the
   * price; a reporter tops its budget up to BUDGET at every report, and one settlement takes far
   * less than half of it). The bound takes each step over that range; every step size the phase
   * uses within the bound's blocks is checked against the range's envelope.
   */
  const trueCurves = new Map(agents.map((a) => [a.pair.address, { kind: 'LogUtility', alpha: a.alpha, beta: a.beta }]));
  const reporterAddresses = new Set(quantityAgents.map((a) => a.pair.address));
  function laggedBound(phase, startBlock) {
    const { unitFee, fixedFee, stepRule, epochLength } = model.params;
    ensure(model.bids.every((bid) => replica.toTokens(bid.budget, BALANCE_UNIT) >= fixedFee + trueCurves.get(bid.who).alpha),
      `phase ${phase}: every agent's budget less g is at least its α, so no budget caps a true best response`);
    const trueBids = model.bids.map((bid) => ({ ...bid, curve: trueCurves.get(bid.who) }));
    const muStarStar = replica.clearingPrice(replica.ordersOfBids(trueBids, model.params, BALANCE_UNIT), model.params);
    const withReports = (price, budget) => replica.ordersOfBids(model.bids.map((bid) => (reporterAddresses.has(bid.who)
      ? { ...bid, curve: { kind: 'Quantity', x: replica.demandAt(trueCurves.get(bid.who), unitFee, price) }, budget } : bid)), model.params, BALANCE_UNIT);
    const toPrice = (value) => BigInt(Math.max(0, Math.round(value * 1e18)));
    const stepSizes = (low, high) => [
      fixedToNumber(replica.effectiveStepSize(withReports(toPrice(low * (1 - 1e-12)), BUDGET / 2n), model.params, stepRule.eta)) * (1 - 1e-12),
      fixedToNumber(replica.effectiveStepSize(withReports(toPrice(high * (1 + 1e-12)), BUDGET), model.params, stepRule.eta)) * (1 + 1e-12),
    ];
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
    const bound = delayedBound({ logAgents: floatsL, quantityAgents: floatsQ, unitFee: tau, floor: fixedToNumber(model.params.priceFloor), ceiling: fixedToNumber(model.params.priceCeiling), muStarStar: fixedToNumber(muStarStar), e0, eMinus1, eta: stepSizes, tolerance: fixedToNumber(model.params.tolerance), reportIndex, measuredError, hold: HOLD_BLOCKS });
    return { muStarStar, e0, eMinus1, bound };
  }
  const fmtEta = ([low, high]) => (low <= high ? `[${low.toFixed(9)}, ${high.toFixed(9)}]` : '(no step)');
  /** Runs `converge`, then checks the step sizes of the bound's blocks against its η envelope. */
  async function convergeLagged(phase, bound, options) {
    scenario.stepSizes = [];
    try {
      return await converge({ ...options, settled: true });
    } finally {
      const [low, high] = bound.etaEnvelope;
      const covered = scenario.stepSizes.slice(0, bound.steps).map(fixedToNumber);
      const outside = covered.filter((eta) => eta < low || eta > high);
      check(outside.length === 0, `phase ${phase}: the ${covered.length} step sizes of the bound's blocks lay within its range ${fmtEta(bound.etaEnvelope)}`,
        outside.length ? `outside: ${outside.slice(0, 3).map((eta) => eta.toFixed(12)).join(', ')}` : '');
      scenario.stepSizes = null;
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
    say(`\nphase B — ${quantityAgents.length} Quantity agents report x(μ_{t−1}) every block; μ** (all ${agents.length} agents' true best responses) = ${formatFixed(muStarStar)}:`);
    say(`  η ∈ ${fmtEta(bound.etaEnvelope)} (1/L; L counts each report's backed term min(k/c², x²/k) too); e_0 = ${e0.toExponential(3)}, e_−1 = ${eMinus1.toExponential(3)}; reports one block old while the book is open, frozen while it is sealed → delayed recursion, asymptotic rate ${bound.rate.toFixed(6)}`);
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

  // Phase E: two regressions ride the next settlement, then the final accounting.
  // - Unbacked demand: an attacker reports Quantity { x: 10⁹ } on a budget of g, which backs
  //   nothing (B − g = 0), and schedules its withdrawal in the same block, so that the settlement
  //   that checks it also removes it and the rest of the run does not see it. While it stands,
  //   every price step and runtime-API view must be the one the replica computes without it; at
  //   the settlement it is allocated 0 and pays 0, and every honest bid is allocated and pays
  //   exactly what it would without it.
  // - Locks do not dodge payments: a LogUtility bidder delegates its votes with a lock on its
  //   whole balance, held budget included (all but twice the delegation's own fee, which is paid
  //   before the call runs), so its frozen balance exceeds its free balance and a polite transfer
  //   out of its hold would be refused. At the settlement it must pay exactly the replica's
  //   payment, which must reach the payee and the treasury.
  scenario.phase = 'E';
  say(`\nphase E — at the next settlement, three regressions (unbacked demand; a lock on a bidder's whole balance; last-block sniping, with a budget cut in the same block), then the final accounting:`);
  const market = model.marketId;
  const deposit = api.consts.contractEquilibrium.bidDeposit.toBigInt();
  {
    // The unbacked bid must count at once (be placed while the book is open) and stand for a few
    // steps before the settlement: otherwise let the next settlement pass first.
    const view = await readMarket(api, market);
    ensure(view.epoch === model.epoch && view.epochStart === model.epochStart, `the market's epoch ${view.epoch} started in block #${view.epochStart}, as the model says`);
    if (scenario.head + 1 >= sealBlock() || epochEnd() - (scenario.head + 1) < ATTACK_LEAD) {
      const before = model.settlements;
      for (let i = 0; i <= model.params.epochLength && model.settlements === before; i += 1) await block();
      ensure(model.settlements > before, 'the epoch settled');
    }
  }
  // The most a budget can be and still back nothing: g itself (B − g = 0).
  const attackBudget = replica.toBalance(model.params.fixedFee, BALANCE_UNIT);
  ensure(attackBudget >= deposit, `the market's fixed fee g = ${formatEq(attackBudget)} EQ is an allowed budget (at least the ${formatEq(deposit)} EQ bid deposit)`);
  // The locker: the LogUtility bidder with the largest demand now among those that sign nothing
  // after it (phase D's calls were signed by the first five), since a locked account cannot pay fees.
  const candidates = logAgents.slice(5).map((agent) => {
    const bid = model.bids.find((b) => b.who === agent.pair.address);
    return { agent, demand: replica.demandAt(replica.orderOfBid(bid, model.params, BALANCE_UNIT), model.params.unitFee, model.price) };
  }).sort((a, b) => (a.demand === b.demand ? 0 : a.demand < b.demand ? 1 : -1));
  ensure(candidates.length > 0 && candidates[0].demand > 0n, 'a bidder to lock demands something at the posted price', candidates.length ? `${candidates[0].agent.name}: ${formatFixed(candidates[0].demand, 6)} units` : '');
  const locker = candidates[0].agent;
  const lockerAccount = model.accounts.get(locker.pair.address);
  const delegate = (balance) => api.tx.convictionVoting.delegate(MARKET_ADMIN_TRACK, keyPair(LOCK_TARGET).address, 'None', balance);
  const whole = lockerAccount.free + lockerAccount.reserved;
  const delegationFee = (await delegate(whole).paymentInfo(locker.pair)).partialFee.toBigInt();
  const lockAmount = whole - 2n * delegationFee;

  scenario.unbacked = { who: attacker.address, steps: 0, views: 0, differences: [] };
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve({ kind: 'Quantity', x: ATTACK_QUANTITY }), attackBudget), attacker, `attacker: Quantity 10⁹ on a budget of ${formatEq(attackBudget)} EQ (= g)`);
  await driver.queue(api.tx.contractEquilibrium.withdrawDemand(market), attacker, 'attacker: withdraws at once (it leaves at the settlement)');
  await driver.queue(delegate(lockAmount), locker.pair, `${locker.name}: convictionVoting.delegate of ${formatEq(lockAmount)} EQ`);
  const e1 = await block([`attacker: 10⁹ units on ${formatEq(attackBudget)} EQ, withdrawing`, `${locker.name} locks ${formatEq(lockAmount)} EQ`]);
  ensure(!e1.settledNow, 'the unbacked bid and the lock are in place before the settlement');
  const attackBid = model.bids.find((b) => b.who === attacker.address);
  ensure(attackBid !== undefined && counts(attackBid) && attackBid.next.kind === 'Withdraw' && attackBid.budget === attackBudget,
    `unbacked demand: the attacker's Quantity { x: 10⁹ } counts in epoch ${model.epoch} on a budget of g (${formatEq(attackBudget)} EQ), its withdrawal scheduled for the settlement`);
  const locked = (await api.query.system.account.at(e1.hash, locker.pair.address)).data;
  ensure(lockerAccount.frozen === lockAmount && locked.frozen.toBigInt() === lockAmount && lockAmount > locked.free.toBigInt(),
    `locks: ${locker.name} locked ${formatEq(lockAmount)} EQ of its ${formatEq(whole)} EQ (delegation fee ${formatEq(delegationFee)} EQ), more than its free ${formatEq(locked.free.toBigInt())} EQ: the lock reaches into its held budget`);

  const settlementsBefore = model.settlements;
  let previous = e1;
  let last = e1;
  const next = async (notes) => {
    previous = last;
    last = await block(notes);
    return last;
  };
  const sum = (items, value) => items.reduce((total, item) => total + value(item), 0n);

  // Last-block sniping and a budget cut, in the block right before the settlement (sealed).
  while (scenario.head + 2 < epochEnd() && model.settlements === settlementsBefore) await next();
  const snipeBlock = scenario.head + 1;
  ensure(model.settlements === settlementsBefore && snipeBlock + 1 === epochEnd() && snipeBlock >= sealBlock(),
    `last-block sniping: block #${snipeBlock} is the last before epoch ${model.epoch}'s settlement, in its sealed half (from block #${sealBlock()})`);
  const sniperBefore = (await api.query.system.account.at(last.hash, sniper.address)).data;
  const snipeBid = { who: sniper.address, curve: { kind: 'Quantity', x: SNIPE_QUANTITY }, budget: SNIPE_BUDGET, deposit, countedFrom: model.epoch, next: { kind: 'Keep' } };
  ensure(replica.demandAt(replica.orderOfBid(snipeBid, model.params, BALANCE_UNIT), model.params.unitFee, model.price) === SNIPE_QUANTITY
    && sniperBefore.free.toBigInt() > SNIPE_BUDGET + deposit,
  `last-block sniping: a budget of ${formatEq(SNIPE_BUDGET)} EQ backs all ${formatFixed(SNIPE_QUANTITY)} units at the posted μ = ${formatFixed(model.price, 9)}, and the sniper can hold it`);
  // The cutter: the LogUtility bidder (not the locker, which can pay no fees) with the largest
  // demand at the posted price, that it will pay for at the settlement.
  const cutter = logAgents.filter((agent) => agent !== locker).map((agent) => {
    const bid = model.bids.find((b) => b.who === agent.pair.address);
    return { agent, bid, demand: replica.demandAt(replica.orderOfBid(bid, model.params, BALANCE_UNIT), model.params.unitFee, model.price) };
  }).sort((a, b) => (a.demand === b.demand ? 0 : a.demand < b.demand ? 1 : -1))[0];
  ensure(cutter.demand > 0n && cutter.bid.next.kind === 'Keep', `budget cut: ${cutter.agent.name} demands ${formatFixed(cutter.demand, 6)} units at the posted price, on a budget of ${formatEq(cutter.bid.budget)} EQ`);
  const cutterAccount = model.accounts.get(cutter.agent.pair.address);
  const cutBudget = deposit;
  scenario.sniped = { who: sniper.address, block: snipeBlock, bid: snipeBid, steps: 0, views: 0, differences: [], unsealedView: null, apiView: null, settlement: null };
  scenario.cut = { who: cutter.agent.pair.address, budget: cutBudget, atOnce: null };
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve(snipeBid.curve), SNIPE_BUDGET), sniper, `sniper: Quantity ${formatFixed(SNIPE_QUANTITY)} on ${formatEq(SNIPE_BUDGET)} EQ in the block before the settlement`);
  await driver.queue(api.tx.contractEquilibrium.withdrawDemand(market), sniper, 'sniper: withdraws in the same block');
  await driver.queue(api.tx.contractEquilibrium.submitDemand(market, encodeCurve(cutter.bid.curve), cutBudget), cutter.agent.pair, `${cutter.agent.name}: cuts its budget to ${formatEq(cutBudget)} EQ (the deposit)`);
  const s1 = await next([`sniper bids ${formatFixed(SNIPE_QUANTITY)} units on ${formatEq(SNIPE_BUDGET)} EQ and withdraws`, `${cutter.agent.name} cuts its budget to ${formatEq(cutBudget)} EQ`]);
  const ofWho = (sealed, event, who) => sealed.events.filter(({ event: e }) => event.is(e) && e.data.who.toString() === who).map(({ event: e }) => e.data);
  const ce = api.events.contractEquilibrium;
  const snipeSubmitted = ofWho(s1, ce.DemandSubmitted, sniper.address);
  const snipeLeft = s1.withdrawn.filter((w) => w.who === sniper.address);
  const [bidsAtSnipe, cutterAtSnipe] = await Promise.all([readBids(api, market, s1.hash), api.query.system.account.at(s1.hash, cutter.agent.pair.address)]);
  check(snipeSubmitted.length === 1 && snipeSubmitted[0].countsFrom.toNumber() === model.epoch + 1,
    `last-block sniping: the sniper's Quantity { x: ${formatFixed(SNIPE_QUANTITY)} } placed in block #${snipeBlock} (sealed) counts from epoch ${snipeSubmitted[0]?.countsFrom.toNumber()}, the next (DemandSubmitted.countsFrom; epoch ${model.epoch} is under way)`);
  check(snipeLeft.length === 1 && snipeLeft[0].released === SNIPE_BUDGET + deposit && ofWho(s1, ce.DemandWithdrawalScheduled, sniper.address).length === 0
    && !bidsAtSnipe.some((b) => b.who === sniper.address) && !model.bids.some((b) => b.who === sniper.address),
  `last-block sniping: its withdrawal in the same block removed it at once (DemandWithdrawn, nothing scheduled), its budget and deposit (${formatEq(SNIPE_BUDGET + deposit)} EQ) released; the Bids storage has no bid of it`);
  const cutBid = model.bids.find((b) => b.who === cutter.agent.pair.address);
  const cutSubmitted = ofWho(s1, ce.DemandSubmitted, cutter.agent.pair.address);
  const cutStored = bidsAtSnipe.find((b) => b.who === cutter.agent.pair.address);
  const oldBudget = cutBid.budget;
  check(cutSubmitted.length === 1 && cutSubmitted[0].countsFrom.toNumber() === model.epoch + 1
    && cutStored?.budget === oldBudget && cutStored.next.kind === 'Replace' && cutStored.next.budget === cutBudget
    && cutterAtSnipe.data.reserved.toBigInt() === oldBudget + cutBid.deposit + cutBudget && cutterAccount.reserved === oldBudget + cutBid.deposit + cutBudget,
  `budget cut: ${cutter.agent.name}'s new budget of ${formatEq(cutBudget)} EQ counts from epoch ${model.epoch + 1}; until the settlement both budgets are held (${formatEq(oldBudget)} + ${formatEq(cutBudget)} EQ, and the ${formatEq(cutBid.deposit)} EQ deposit)`);

  await next();
  ensure(model.settlements > settlementsBefore, 'the epoch settled');
  scenario.reporters = [];
  const unbacked = scenario.unbacked;
  scenario.unbacked = null;
  const sniped = scenario.sniped;
  scenario.sniped = null;
  const cut = scenario.cut;
  scenario.cut = null;

  // Unbacked demand.
  check(unbacked.differences.length === 0 && unbacked.steps >= ATTACK_LEAD - 1,
    `unbacked demand: while the attacker's bid stood, all ${unbacked.steps} price steps and ${unbacked.views} runtime-API views (μ*, S(μ*), S(μ) − m) equal the replica's without it`,
    unbacked.differences.slice(0, 2).join('; '));
  const attackSettled = last.settled.find((s) => s.who === attacker.address);
  check(attackSettled?.allocation === 0n && attackSettled.payment === 0n, 'unbacked demand: at the settlement the attacker was allocated 0 and paid 0',
    attackSettled ? `allocation ${formatFixed(attackSettled.allocation)}, payment ${attackSettled.payment}` : 'no BidSettled');
  const honest = last.settled.filter((s) => s.who !== attacker.address);
  const honestTotal = sum(honest, (s) => s.allocation);
  const asWithout = honest.every((s) => s.without !== null && s.without.allocation === s.allocation && s.without.payment === s.payment);
  check(asWithout && honestTotal === sum(honest, (s) => s.without?.allocation ?? 0n) && honestTotal === model.lastOutcome.allocated,
    `unbacked demand: the ${honest.length} honest bids were allocated ${formatFixed(honestTotal, 6)} units in all (the epoch's total) and each was allocated and paid exactly what it would have been without the attacker`);
  const left = last.withdrawn.find((w) => w.who === attacker.address);
  check(left?.released === attackBudget + deposit && !model.bids.some((b) => b.who === attacker.address),
    `unbacked demand: the attacker left at the settlement, its budget and deposit (${formatEq(attackBudget + deposit)} EQ) released`);

  // Locks do not dodge payments.
  const lockerSettled = last.settled.find((s) => s.who === locker.pair.address);
  const moved = last.transfersOnHold.filter((t) => t.source === locker.pair.address);
  const movedTo = (address) => sum(moved.filter((t) => t.dest === address), (t) => t.amount);
  check(lockerSettled !== undefined && lockerSettled.payment > 0n && movedTo(payee.address) === lockerSettled.toPayee
    && movedTo(treasury) === lockerSettled.toFees && sum(moved, (t) => t.amount) === lockerSettled.payment,
  `locks: ${locker.name}, its whole balance locked, paid the replica's ${formatEq(lockerSettled?.payment ?? 0n)} EQ for ${formatFixed(lockerSettled?.allocation ?? 0n, 6)} units out of its held budget: ${formatEq(movedTo(payee.address))} EQ to the payee, ${formatEq(movedTo(treasury))} EQ to the treasury`);
  const [before, after] = await Promise.all([previous.hash, last.hash].map(async (hash) => {
    const at = await api.at(hash);
    const [payeeAt, treasuryAt] = await Promise.all([at.query.system.account(payee.address), at.query.system.account(treasury)]);
    return { payee: payeeAt.data.free.toBigInt(), treasury: treasuryAt.data.free.toBigInt() };
  }));
  check(after.payee - before.payee === last.received.payee && after.treasury - before.treasury === last.received.treasury,
    `locks: in block #${last.number} the payee's balance rose by exactly the block's Σ μ·x (${formatEq(last.received.payee)} EQ) and the treasury's by exactly its fees (${formatEq(last.received.treasury)} EQ), ${locker.name}'s payment included`);
  const held = (await api.query.system.account.at(previous.hash, locker.pair.address)).data;
  const [heldFree, heldReserved, heldFrozen] = [held.free.toBigInt(), held.reserved.toBigInt(), held.frozen.toBigInt()];
  const politeLiquid = heldReserved - (heldFrozen > heldFree ? heldFrozen - heldFree : 0n);
  check(lockerSettled !== undefined && lockerSettled.payment > politeLiquid,
    `locks: the check bites — before the settlement ${locker.name}'s lock exceeded its free balance by ${formatEq(heldFrozen - heldFree)} EQ, so a polite transfer could have moved only ${formatEq(politeLiquid)} EQ of its ${formatEq(heldReserved)} EQ held, less than the ${formatEq(lockerSettled?.payment ?? 0n)} EQ it paid`);

  // Last-block sniping.
  check(ofWho(last, ce.BidSettled, sniper.address).length === 0 && !last.settled.some((s) => s.who === sniper.address),
    `last-block sniping: the settlement in block #${last.number} has no BidSettled for the sniper`);
  const withoutSniper = sniped.settlement?.without ?? new Map();
  const others = last.settled.filter((s) => s.who !== sniper.address);
  const honestBids = others.filter((s) => s.who !== attacker.address);
  check(others.length === withoutSniper.size && others.every((s) => withoutSniper.get(s.who)?.allocation === s.allocation && withoutSniper.get(s.who).payment === s.payment),
    `last-block sniping: the ${honestBids.length} honest bids were allocated ${formatFixed(sum(honestBids, (s) => s.allocation), 6)} units for ${formatEq(sum(honestBids, (s) => s.payment))} EQ, each exactly what the replica settles without the sniper`);
  const unsealed = sniped.settlement?.unsealed ?? new Map();
  const unsealedSnipe = unsealed.get(sniper.address);
  const honestLoss = sum(honestBids, (s) => s.allocation - (unsealed.get(s.who)?.allocation ?? s.allocation));
  check(unsealedSnipe !== undefined && unsealedSnipe.allocation > 0n && honestLoss > 0n,
    `last-block sniping: the check bites — had its bid counted at once (an unsealed book), the sniper would have been settled ${formatFixed(unsealedSnipe?.allocation ?? 0n, 6)} units for ${formatEq(unsealedSnipe?.payment ?? 0n)} EQ at a posted μ = ${formatFixed(model.lastOutcome.price, 9)} that never saw it, the honest bids ${formatFixed(honestLoss, 6)} units fewer`);
  const unsealedView = sniped.unsealedView;
  const apiView = sniped.apiView;
  check(sniped.differences.length === 0 && sniped.steps >= 2 && sniped.views >= 2 && unsealedView !== null && apiView !== null && unsealedView.muStar > apiView.muStar,
    `last-block sniping: from block #${sniped.block} to the settlement, all ${sniped.steps} price steps and ${sniped.views} runtime-API views (μ*, S(μ*), S(μ) − m) equal the replica's without the sniper (in block #${sniped.block} the API's μ* = ${formatFixed(apiView?.muStar ?? 0n, 9)}; an unsealed book would have shown ${formatFixed(unsealedView?.muStar ?? 0n, 9)})`,
    sniped.differences.slice(0, 2).join('; '));
  const sniperAfter = (await api.query.system.account.at(last.hash, sniper.address)).data;
  const sniperFees = sum(s1.events.filter(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event) && event.data.who.toString() === sniper.address),
    ({ event }) => event.data.actualFee.toBigInt());
  check(sniperFees > 0n && sniperAfter.free.toBigInt() === sniperBefore.free.toBigInt() - sniperFees
    && sniperAfter.reserved.toBigInt() === sniperBefore.reserved.toBigInt() && sniperAfter.frozen.toBigInt() === sniperBefore.frozen.toBigInt(),
  `last-block sniping: after the settlement the sniper's balance is back where it was (${formatEq(sniperBefore.free.toBigInt())} EQ free, ${formatEq(sniperBefore.reserved.toBigInt())} held) less only its transaction fees (${formatEq(sniperFees)} EQ for its 2 transactions)`);

  // Cutting the budget to the deposit in the last block.
  const cutSettled = last.settled.find((s) => s.who === cut.who);
  const cutAtOnce = cut.atOnce?.get(cut.who);
  check(cutSettled !== undefined && cutSettled.allocation > 0n && cutSettled.payment > cutBudget && cutAtOnce?.payment === 0n,
    `budget cut: at the settlement ${cutter.agent.name} paid the replica's full ${formatEq(cutSettled?.payment ?? 0n)} EQ for ${formatFixed(cutSettled?.allocation ?? 0n, 6)} units out of its old budget, more than its cut budget of ${formatEq(cutBudget)} EQ (with the cut applied at once it would have been allocated ${formatFixed(cutAtOnce?.allocation ?? 0n)} and paid ${formatEq(cutAtOnce?.payment ?? 0n)} EQ)`);
  const [bidsAfter, cutterAfter] = await Promise.all([readBids(api, market, last.hash), api.query.system.account.at(last.hash, cut.who)]);
  const cutAfter = bidsAfter.find((b) => b.who === cut.who);
  const oldRemainder = oldBudget - (cutSettled?.payment ?? 0n);
  check(cutAfter?.budget === cutBudget && cutAfter.next.kind === 'Keep' && cutAfter.countedFrom <= model.epoch
    && cutterAfter.data.reserved.toBigInt() === cutBudget + cutBid.deposit
    && cutterAfter.data.free.toBigInt() - cutterAtSnipe.data.free.toBigInt() === oldRemainder,
  `budget cut: the replacement applied after the settlement (budget ${formatEq(cutBudget)} EQ in epoch ${model.epoch}, nothing pending; ${formatEq(cutBudget + cutBid.deposit)} EQ held), and the old budget's remainder (${formatEq(oldRemainder)} EQ) was released in block #${last.number}`);

  // The final accounting.
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
