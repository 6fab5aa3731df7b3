#!/usr/bin/env node
// Changes a market's parameters by referendum on a running chain, as a token holder would:
//
//   1. reads the market through the runtime API (contractEquilibriumApi.market) and builds
//      ContractEquilibrium.set_market_params(market, params) with the parameters given on the
//      command line, every other parameter kept at its current on-chain value (refusing, before
//      anything is signed, parameters the enactment would reject: invalid ones, and new fees or
//      price bounds on a market that holds bids, TermsFixedByBids);
//   2. the proposer notes the call as a preimage (Preimage.notePreimage), submits it on the
//      market_admin track (Referenda.submit with origin Origins.MarketAdmin, proposal
//      { Lookup: { hash, len } }, enactment { After: 0 }) and places the decision deposit;
//   3. each voter votes with conviction (ConvictionVoting.vote, Standard);
//   4. unless --no-wait, it follows the referendum block by block (preparing, deciding,
//      confirming, approved, enacted — or rejected), waits for the scheduler to dispatch the
//      call (Scheduler.Dispatched with the referendum's enactment task id) and for
//      ContractEquilibrium.MarketParamsUpdated, then prints the new parameters and the runtime
//      API's new μ*.
//
// Exits 0 when the change is enacted (or submitted, with --no-wait), 1 on any failure (a named
// dispatch error, a rejected referendum, a failed enactment, a time limit), 2 on bad usage.
// Bounded: at most the track's prepare + decision + confirm + enactment periods (plus a margin)
// in blocks after submission, and --timeout seconds of wall-clock time overall.

import { parseArgs } from 'node:util';
import { DEFAULT_URL, DispatchFailed, connect, dispatchErrorName, findEvent, keyPair, signAndWait } from './lib/chain.mjs';
import { formatEq, formatFixed, toFixed } from './lib/fixed.mjs';
import { describeParams, paramsError, readEquilibrium, readMarket, sameParams, decodeParams } from './lib/market.mjs';
import {
  MARKET_ADMIN_ORIGIN, MARKET_ADMIN_TRACK, describeTally, describeVote, enactmentTaskId, parseVote,
  referendumPhase, setParamsProposal, trackInfo, voteTx,
} from './lib/governance.mjs';

const USAGE = `usage: scripts/governance [--url ${DEFAULT_URL}] --market ID [changes] [options]

changes (each keeps its current on-chain value when not given):
  --capacity N          units per epoch            --unit-fee X       EQ per unit
  --fixed-fee X         EQ per allocated bidder    --price-floor X    EQ per unit
  --price-ceiling X     EQ per unit                --epoch-length N   blocks
  --tolerance X         convergence tolerance      --eta X            DualAscent step (sets the rule)
  (fees and price bounds price the bids' contracts: a market with bids refuses to change them,
  ContractEquilibrium.TermsFixedByBids, and so does this script before signing anything)
options:
  --proposer URI        who notes, submits and places the decision deposit (default //Charlie)
  --vote URI:aye|nay:CONVICTION:EQ   repeatable; default //Alice:aye:Locked3x:200000 and
                        //Bob:aye:Locked1x:100000. CONVICTION is None, Locked1x … Locked6x.
  --no-wait             exit once the votes are in, without following the referendum
  --timeout SECONDS     overall wall-clock limit (default 900)
Values are exact decimals ("0.25", "1e-6"); FixedU128 values go on chain as value × 10^18.`;

function usageError(message) {
  console.error(`error: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      url: { type: 'string', default: DEFAULT_URL },
      market: { type: 'string' },
      capacity: { type: 'string' },
      'unit-fee': { type: 'string' },
      'fixed-fee': { type: 'string' },
      'price-floor': { type: 'string' },
      'price-ceiling': { type: 'string' },
      'epoch-length': { type: 'string' },
      tolerance: { type: 'string' },
      eta: { type: 'string' },
      proposer: { type: 'string', default: '//Charlie' },
      vote: { type: 'string', multiple: true },
      'no-wait': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '900' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (error) {
  usageError(error.message);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.market === undefined || !/^\d+$/.test(options.market)) usageError('--market ID is required (a market number)');
const marketId = Number(options.market);
const timeoutSeconds = Number(options.timeout);
if (!(timeoutSeconds > 0)) usageError('--timeout must be a positive number of seconds');

let votes;
try {
  votes = (options.vote ?? ['//Alice:aye:Locked3x:200000', '//Bob:aye:Locked1x:100000']).map(parseVote);
  const voters = votes.map((vote) => vote.uri);
  const twice = voters.find((uri, i) => voters.indexOf(uri) !== i);
  if (twice) throw new Error(`${twice} votes twice: one vote per voter`);
} catch (error) {
  usageError(error.message);
}

/** The proposed parameters: the current ones with the command line's changes. */
function proposedParams(current) {
  const next = { ...current, stepRule: { ...current.stepRule } };
  const fixedOption = (name, key) => {
    if (options[name] !== undefined) next[key] = toFixed(options[name], `--${name}`);
  };
  fixedOption('capacity', 'capacity');
  fixedOption('unit-fee', 'unitFee');
  fixedOption('fixed-fee', 'fixedFee');
  fixedOption('price-floor', 'priceFloor');
  fixedOption('price-ceiling', 'priceCeiling');
  fixedOption('tolerance', 'tolerance');
  if (options['epoch-length'] !== undefined) {
    if (!/^\d+$/.test(options['epoch-length'])) throw new Error('--epoch-length must be a whole number of blocks');
    next.epochLength = Number(options['epoch-length']);
  }
  if (options.eta !== undefined) next.stepRule = { kind: 'DualAscent', eta: toFixed(options.eta, '--eta') };
  return next;
}

const log = (...args) => console.log(...args);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

let api;
const deadline = setTimeout(() => {
  console.error(`error: time limit of ${timeoutSeconds} s reached`);
  process.exit(1);
}, timeoutSeconds * 1000);
deadline.unref();

async function main() {
  api = await connect(options.url);
  const [chain, head] = await Promise.all([api.rpc.system.chain(), api.rpc.chain.getHeader()]);
  log(`connected to ${options.url}: ${chain} at block #${head.number.toNumber()}`);

  const market = await readMarket(api, marketId);
  if (!market) throw new Error(`there is no market ${marketId}`);
  const current = market.params;
  let proposed;
  try {
    proposed = proposedParams(current);
  } catch (error) {
    usageError(error.message);
  }
  const invalid = paramsError(proposed, current, market.bidders);
  if (invalid === 'TermsFixedByBids') {
    throw new Error(`market ${marketId} holds ${market.bidders} bids, whose contracts are priced on its fees and price bounds: the enactment would fail with ContractEquilibrium.TermsFixedByBids (change them on a market without bids)`);
  }
  if (invalid) throw new Error(`the proposed parameters are invalid (the enactment would fail with ContractEquilibrium.${invalid})`);
  if (sameParams(current, proposed)) usageError('nothing to change: give at least one parameter that differs from the current value');

  const before = await readEquilibrium(api, marketId);
  log(`market ${marketId}: price ${formatFixed(market.price)}, μ* ${formatFixed(before.clearingPrice)}, ${market.bidders} bids`);
  const currentLines = describeParams(current);
  const proposedLines = describeParams(proposed);
  for (let i = 0; i < currentLines.length; i += 1) {
    const [name, value] = currentLines[i];
    const changed = value !== proposedLines[i][1];
    log(`  ${name.padEnd(14)} ${changed ? `${value} -> ${proposedLines[i][1]}` : value}`);
  }

  const proposal = setParamsProposal(api, marketId, proposed);
  const track = trackInfo(api, MARKET_ADMIN_TRACK);
  const proposer = keyPair(options.proposer);
  log(`proposal: contractEquilibrium.setMarketParams(${marketId}, …), ${proposal.len} bytes, hash ${proposal.hash}`);
  log(`track ${track.id} (${track.name}): decision deposit ${formatEq(track.decisionDeposit)} EQ, prepare ${track.preparePeriod}, decision ${track.decisionPeriod}, confirm ${track.confirmPeriod}, min enactment ${track.minEnactmentPeriod} blocks`);

  // 1. The preimage (skipped if this exact call is already noted).
  const status = await api.query.preimage.requestStatusFor(proposal.hash);
  if (status.isSome) {
    log(`preimage ${proposal.hash} is already noted`);
  } else {
    const noted = await signAndWait(api, api.tx.preimage.notePreimage(proposal.hex), proposer);
    log(`${options.proposer} noted the preimage (fee ${formatEq(noted.fee)} EQ) [${elapsed()}]`);
  }

  // 2. The referendum, on the market_admin track, enacted as early as the track allows.
  const submitted = await signAndWait(
    api,
    api.tx.referenda.submit(MARKET_ADMIN_ORIGIN, { Lookup: { hash: proposal.hash, len: proposal.len } }, { After: 0 }),
    proposer,
  );
  const submittedEvent = findEvent(api, submitted.events, 'referenda', 'Submitted');
  const index = submittedEvent.data.index.toNumber();
  const trackId = submittedEvent.data.track.toNumber();
  if (trackId !== MARKET_ADMIN_TRACK) throw new Error(`referendum #${index} went to track ${trackId}, not ${MARKET_ADMIN_TRACK}`);
  const submittedAt = (await api.rpc.chain.getHeader(submitted.blockHash)).number.toNumber();
  log(`${options.proposer} submitted referendum #${index} on track ${trackId} in block #${submittedAt} [${elapsed()}]`);

  // 3. The decision deposit.
  await signAndWait(api, api.tx.referenda.placeDecisionDeposit(index), proposer);
  log(`${options.proposer} placed the decision deposit of ${formatEq(track.decisionDeposit)} EQ [${elapsed()}]`);

  // 4. The votes (different voters in parallel).
  await Promise.all(votes.map(async (vote) => {
    await signAndWait(api, voteTx(api, index, vote), keyPair(vote.uri));
    log(`vote: ${describeVote(vote)} [${elapsed()}]`);
  }));

  if (options['no-wait']) {
    log(`referendum #${index} is submitted and voted; not waiting (--no-wait). Follow it in Polkadot.js Apps → Governance → Referenda.`);
    return 0;
  }

  // 5. Follow it block by block until the change is enacted.
  const maxBlock = submittedAt + track.preparePeriod + track.decisionPeriod + track.confirmPeriod + track.minEnactmentPeriod + 5;
  const taskId = enactmentTaskId(index);
  log(`following referendum #${index} until block #${maxBlock} at the latest (enactment task ${taskId.slice(0, 18)}…)`);
  return await follow({ index, track, taskId, maxBlock, proposed, submittedAt });
}

/** Processes every block after `submittedAt` in order; resolves with the exit code. */
function follow({ index, track, taskId, maxBlock, proposed, submittedAt }) {
  return new Promise((resolve, reject) => {
    let next = submittedAt + 1;
    let busy = false;
    let latest = submittedAt;
    let lastPhase = '';
    let unsubscribe = null;
    let done = false;
    const finish = (error, code) => {
      if (done) return;
      done = true;
      if (unsubscribe) unsubscribe();
      if (error) reject(error);
      else resolve(code);
    };

    async function processBlock(number) {
      const hash = await api.rpc.chain.getBlockHash(number);
      const [events, info] = await Promise.all([
        api.query.system.events.at(hash),
        api.query.referenda.referendumInfoFor.at(hash, index),
      ]);
      const state = referendumPhase(info, number, track);
      const notes = [];
      let enactedOk = false;
      let paramsUpdated = null;
      for (const { event } of events) {
        if (event.section === 'referenda' && event.data.index?.toNumber?.() === index) notes.push(`Referenda.${event.method}`);
        if (api.events.scheduler.Dispatched.is(event) && event.data.id.isSome && event.data.id.unwrap().toHex() === taskId) {
          if (event.data.result.isErr) {
            throw new Error(`the enactment of referendum #${index} failed in block #${number}: ${dispatchErrorName(api, event.data.result.asErr)}`);
          }
          enactedOk = true;
          notes.push('Scheduler.Dispatched(ok)');
        }
        if (api.events.contractEquilibrium.MarketParamsUpdated.is(event) && event.data.market.toNumber() === marketId) {
          paramsUpdated = decodeParams(event.data.params);
          notes.push('ContractEquilibrium.MarketParamsUpdated');
        }
      }
      let phase = state.phase;
      if (enactedOk && paramsUpdated) phase = 'enacted';
      let timing = '';
      if (state.phase === 'preparing' && state.prepareEnds) timing = ` (prepare ends #${state.prepareEnds})`;
      if (state.phase === 'deciding' && state.decisionEnds) timing = ` (decision period ends #${state.decisionEnds})`;
      if (state.phase === 'confirming') timing = ` (confirms at #${state.confirmingUntil})`;
      log(`  #${number} ${phase.padEnd(10)}${timing} ${describeTally(state.tally)}${notes.length ? `  ${notes.join(', ')}` : ''}`);
      lastPhase = phase;

      if (state.ended) throw new Error(`referendum #${index} was ${state.phase} in block #${number}`);
      if (phase === 'enacted') {
        if (!sameParams(paramsUpdated, proposed)) {
          throw new Error(`market ${marketId} changed in block #${number}, but not to the proposed parameters`);
        }
        const [market, eq] = await Promise.all([readMarket(api, marketId, hash), readEquilibrium(api, marketId, hash)]);
        log(`enacted in block #${number} [${elapsed()}]: market ${marketId} now has`);
        for (const [name, value] of describeParams(market.params)) log(`  ${name.padEnd(14)} ${value}`);
        log(`runtime API at #${number}: new μ* ${formatFixed(eq.clearingPrice)} (S(μ*) = ${formatFixed(eq.demandAtClearingPrice)}), price ${formatFixed(eq.price)}, distance ${formatFixed(eq.distance)}; the price moves towards μ* from the next block`);
        return true;
      }
      if (number >= maxBlock) {
        throw new Error(`referendum #${index} was not enacted by block #${maxBlock} (last phase: ${lastPhase})`);
      }
      return false;
    }

    async function drain() {
      if (busy || done) return;
      busy = true;
      try {
        while (!done && next <= latest) {
          const finished = await processBlock(next);
          next += 1;
          if (finished) finish(null, 0);
        }
      } catch (error) {
        finish(error);
      } finally {
        busy = false;
      }
    }

    api.rpc.chain.subscribeNewHeads((header) => {
      latest = Math.max(latest, header.number.toNumber());
      drain();
    }).then((unsub) => {
      unsubscribe = unsub;
      if (done) unsub();
    }, (error) => finish(error));
  });
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  if (error instanceof DispatchFailed) console.error(`error: ${error.message}`);
  else console.error(`error: ${error.message ?? error}`);
  exitCode = 1;
} finally {
  if (api) await api.disconnect().catch(() => {});
  clearTimeout(deadline);
}
process.exit(exitCode);
