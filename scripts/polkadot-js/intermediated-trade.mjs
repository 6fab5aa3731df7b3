#!/usr/bin/env node
// Plays rounds of the intermediated-trade contract (pallet index 30) on a live development chain,
// as its four participants would from Polkadot.js:
//
//   1. funds four fresh accounts from Alice: BDrm, BDmm, RM and MM (1 000 EQ each);
//   2. round 1, the worked example D(r) = r, S(r) = 10 − r: BDrm opens the round with a stake
//      cap of 50 EQ (each participant then holds BaseDeposit + 50 EQ), BDmm joins, both clients
//      consent and both dealers commit with blake2_256(SCALE((domain, genesis hash, round,
//      dealer, report, salt))) computed here exactly as the chain does; a stranger's reveal
//      fails with WrongParty; both reveal; the contract's TradingInstructions must be Q* = 2.5,
//      r_mm = 2.5, r_rm = 7.5, r_bd = 5 with a stake of 12.5 EQ, and every deposit comes down to
//      BaseDeposit + 12.5 EQ; then the fixed sequence BDmm → MM offer/accept, BDrm → RM
//      offer/accept, BDrm → BDmm offer/accept; checks the three RepoLegRecorded, RoundSettled's
//      payments (RM 18.75 EQ; MM, BDmm and BDrm 6.25 EQ each) and every balance to the planck
//      (fees from TransactionFeePaid), and that nothing stays held;
//   3. round 2: BDmm reveals another report than the one it committed to; checks Deviated,
//      RoundAborted { BadReveal } and that its deposit went to the other side (BDrm and RM,
//      half each), none of it to MM, its own client;
//   4. round 3, the private path: each dealer sends the other its report and salt encrypted
//      (NaCl secretbox under an sr25519 key agreement), checks the one it receives against the
//      commitment on chain, computes the contract's selection here (a replica of
//      `intermediated_trade_primitives::select`), and both `agree` to it: the terms become the
//      instructions with no report ever on chain, and the round settles as round 1 did;
//   5. round 4, collusion caught: both dealers agree to terms that overcharge RM (r_rm = 8.5);
//      RM disputes, both dealers must reveal, and both forfeit their deposits to the other side's
//      client (RoundAborted { FalseAgreement });
//   6. round 5, lock and walk away: RM accepts (its interest is held), then locks its whole
//      balance by delegating it in conviction voting; the round still settles and MM, BDmm and
//      BDrm are paid in full, to the planck (last, as RM's balance stays locked).
//
// Without --url it starts its own throw-away node (`--dev --tmp --sealing instant`, free ports:
// one block per transaction) and always stops it. With --url it uses a running dev chain
// (scripts/dev-chain; Aura or instant sealing). Exit 0 when every check passed, 1 otherwise.

import { parseArgs } from 'node:util';
import {
  blake2AsU8a, naclDecrypt, naclEncrypt, randomAsU8a, sr25519Agreement, sr25519PairFromSeed,
} from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { DispatchFailed, connect, findEvent, keyPair, signAndWait } from './lib/chain.mjs';
import { FIXED_ONE, PLANCK_PER_EQ, eqToPlanck, fixedDiv, fixedMul, formatEq, formatFixed, max, min, mulDiv, toFixed } from './lib/fixed.mjs';
import { defaultNodeBinary, startNode } from './lib/node.mjs';

const USAGE = `usage: scripts/intermediated-trade [--url ws://127.0.0.1:9944] [--node PATH] [--time-limit SECONDS]
  --url URL         use a running development chain (default: start a throw-away node)
  --node PATH       the equilibrium-node binary (default: the release build)
  --time-limit S    stop everything and fail after S seconds (default 300)`;

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      url: { type: 'string' },
      node: { type: 'string', default: defaultNodeBinary() },
      'time-limit': { type: 'string', default: '300' },
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
const TIME_LIMIT_S = Number(options['time-limit']);

const say = (...args) => console.log(...args);
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
let node = null;
let api = null;
let failures = 0;

function check(condition, what, detail = '') {
  if (condition) say(`  ✓ ${what}`);
  else {
    failures += 1;
    say(`  ✗ ${what}${detail ? ` (${detail})` : ''}`);
  }
}

process.on('exit', () => node?.killNow());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));
const timeLimit = setTimeout(() => {
  console.error(`the time limit of ${TIME_LIMIT_S} s was reached`);
  process.exit(1);
}, TIME_LIMIT_S * 1000);

// ---------------------------------------------------------------------------------------------
// Reports, commitments and accounting.

const FUNDING = eqToPlanck('1000');
const zero = 0n;
const demand = (chokeRate, slope, hurdle = zero) => ({ schedule: { Demand: { chokeRate, slope } }, hurdle });
const supply = (reservationRate, slope, hurdle = zero) => ({ schedule: { Supply: { reservationRate, slope } }, hurdle });

/** The report's type name in the metadata (the `report` argument of `reveal`). */
const reportType = () => api.tx.intermediatedTrade.reveal.meta.args[1].type.toString();

/** The commitments' domain tag (`COMMITMENT_DOMAIN`, 24 bytes encoded as they are). */
const COMMITMENT_DOMAIN = stringToU8a('intermediated-trade/v1/c');

/**
 * blake2_256(SCALE((domain, genesis hash, round, dealer, report, salt))): the tuple's encoding
 * is the concatenation of its fields' encodings.
 */
function commitment(round, dealer, report, salt) {
  const encoded = u8aConcat(
    COMMITMENT_DOMAIN,
    api.genesisHash.toU8a(),
    api.createType('u32', round).toU8a(),
    api.createType('AccountId', dealer).toU8a(),
    api.createType(reportType(), report).toU8a(),
    salt,
  );
  return blake2AsU8a(encoded, 256);
}

/**
 * The contract's selection for a round, exactly as the pallet makes it from revealed reports
 * (`intermediated_trade_primitives::select`, then the stake cap: `max_joint_profit` in planck,
 * rounded up, must not exceed the round's cap), on inner FixedU128 values with the same
 * roundings: what each dealer runs off-chain on the private path. Returns null when the
 * contract selects no trade — then a dealer must not agree to any terms.
 */
function selectTerms(supply, demand, hurdle, stakeCapPlanck) {
  const terms = selectWithoutCap(supply, demand, hurdle);
  if (!terms) return null;
  const widest = demand.chokeRate - supply.reservationRate;
  const sigmaUp = mulDiv(demand.slope, supply.slope, demand.slope + supply.slope, 'up');
  const stakeTokens = mulDiv(fixedMul(widest, widest, 'up'), sigmaUp, 4n * FIXED_ONE, 'up');
  const stakePlanck = mulDiv(stakeTokens, PLANCK_PER_EQ, FIXED_ONE, 'up');
  return stakePlanck > stakeCapPlanck ? null : terms;
}

/** `intermediated_trade_primitives::select`. */
function selectWithoutCap(supply, demand, hurdle) {
  const widest = demand.chokeRate - supply.reservationRate;
  if (widest <= 0n) return null;
  const room = widest - hurdle;
  if (room <= 0n) return null;
  const sigma = mulDiv(demand.slope, supply.slope, demand.slope + supply.slope, 'down');
  let quantity = min(mulDiv(widest, sigma, 2n * FIXED_ONE, 'down'), fixedMul(room, sigma, 'down'));
  if (quantity === 0n) return null;
  let mmRate = 0n;
  let rmRate = 0n;
  for (let pass = 0; pass < 3; pass += 1) {
    mmRate = supply.reservationRate + fixedDiv(quantity, supply.slope, 'up');
    rmRate = max(0n, demand.chokeRate - fixedDiv(quantity, demand.slope, 'up'));
    if (rmRate < mmRate) return null;
    if (rmRate - mmRate >= hurdle) break;
    const cut = fixedMul(hurdle - (rmRate - mmRate) + 2n, sigma, 'up') + 1n;
    quantity -= cut;
    if (quantity <= 0n) return null;
  }
  if (rmRate - mmRate < hurdle) return null;
  return { quantity, rmRate, mmRate, bdRate: (rmRate + mmRate) / 2n };
}

/** A dealer's key for the private exchange of reports (not its account key). */
const exchangeKey = (uri) => sr25519PairFromSeed(blake2AsU8a(`${uri}/report-exchange`, 256));

const fees = new Map(); // address → planck paid in fees since the start

/** Signs and waits, adding the fee to the signer's account; returns the result. */
async function send(tx, pair, label) {
  const result = await signAndWait(api, tx, pair, { label });
  fees.set(pair.address, (fees.get(pair.address) ?? 0n) + result.fee);
  return result;
}

/** Expects `tx` to fail with `errorName`; accounts for its fee. */
async function expectFailure(tx, pair, label, errorName) {
  try {
    await signAndWait(api, tx, pair, { label });
    check(false, `${label} fails with ${errorName}`, 'it succeeded');
  } catch (error) {
    if (!(error instanceof DispatchFailed)) throw error;
    fees.set(pair.address, (fees.get(pair.address) ?? 0n) + error.fee);
    check(error.errorName === errorName, `${label} fails with ${errorName}`, `got ${error.errorName}`);
  }
}

const free = async (pair) => (await api.query.system.account(pair.address)).data.free.toBigInt();
const heldByPallet = async (pair) => {
  const holds = await api.query.balances.holds(pair.address);
  return holds
    .filter((hold) => hold.id.isIntermediatedTrade)
    .reduce((sum, hold) => sum + hold.amount.toBigInt(), 0n);
};
const event = (result, method) => findEvent(api, result.events, 'intermediatedTrade', method);

// ---------------------------------------------------------------------------------------------

async function main() {
  say(`intermediated-trade round on a development chain, time limit ${TIME_LIMIT_S} s`);
  let url = options.url;
  if (!url) {
    node = await startNode({ binary: options.node, sealing: 'instant' });
    url = node.url;
    say(`node ${options.node} (pid ${node.pid}) on ${url}, --sealing instant, log ${node.logFile}`);
  }
  api = await connect(url);
  say(`connected: ${await api.rpc.system.chain()}, spec ${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion} [${seconds()} s]`);
  const consts = api.consts.intermediatedTrade;
  const baseDeposit = consts.baseDeposit.toBigInt();
  const stakeCap = eqToPlanck('50');
  const capDeposit = baseDeposit + stakeCap;
  const stake = eqToPlanck('12.5');
  const termsDeposit = baseDeposit + stake;
  say(`constants: base deposit ${formatEq(baseDeposit)} EQ, round deposit ${formatEq(consts.roundDeposit.toBigInt())} EQ, windows join ${consts.joinWindow} / commit ${consts.commitWindow} / reveal ${consts.revealWindow} / step ${consts.stepWindow} blocks, ${consts.maxRoundsPerAccount} rounds per account`);

  // Fresh participants (a run on a persistent chain gets fresh ones each time).
  const tag = Date.now().toString(36);
  const alice = keyPair('//Alice');
  const bdrm = keyPair(`//IntermediatedTrade/${tag}/BDrm`);
  const bdmm = keyPair(`//IntermediatedTrade/${tag}/BDmm`);
  const rm = keyPair(`//IntermediatedTrade/${tag}/RM`);
  const mm = keyPair(`//IntermediatedTrade/${tag}/MM`);
  const stranger = keyPair('//Eve');
  const parties = { BDrm: bdrm, BDmm: bdmm, RM: rm, MM: mm };
  say('\nfunding the participants from Alice:');
  for (const [name, pair] of Object.entries(parties)) {
    await send(api.tx.balances.transferKeepAlive(pair.address, FUNDING), alice, `fund ${name}`);
    say(`  ${name.padEnd(4)} ${pair.address}  ${formatEq(FUNDING)} EQ`);
  }
  // Block 1 stored its parent's hash: from then on BlockHash(0) is the genesis hash.
  check((await api.query.system.blockHash(0)).eq(api.genesisHash), 'the chain\'s BlockHash(0) is the genesis hash the commitments bind (block 1 and later)');
  const start = {};
  for (const [name, pair] of Object.entries(parties)) start[name] = await free(pair);

  // --- Round 1: the worked example -------------------------------------------------------------
  say('\nround 1: D(r) = r (MM, reported by BDmm), S(r) = 10 − r (RM, reported by BDrm), no hurdles');
  const rmReport = demand(toFixed('10'), toFixed('1'));
  const mmReport = supply(toFixed('0'), toFixed('1'));
  const rmSalt = randomAsU8a(32);
  const mmSalt = randomAsU8a(32);
  const it = api.tx.intermediatedTrade;

  /** Opens a round and binds all four: BDmm joins, both dealers commit, both clients consent. */
  async function openAndBind(rmSaltN, mmSaltN, mmCommitted = mmReport) {
    const opened = await send(it.openRound(bdmm.address, rm.address, mm.address, stakeCap), bdrm, 'open_round');
    const id = event(opened, 'RoundOpened').data.round.toNumber();
    await send(it.joinRound(id), bdmm, 'join_round');
    await send(it.commit(id, commitment(id, bdrm.address, rmReport, rmSaltN)), bdrm, 'BDrm commit');
    await send(it.commit(id, commitment(id, bdmm.address, mmCommitted, mmSaltN)), bdmm, 'BDmm commit');
    // Each client attests the commitment of the report its dealer showed it.
    await send(it.consent(id, commitment(id, bdrm.address, rmReport, rmSaltN)), rm, 'RM consent');
    const last = await send(it.consent(id, commitment(id, bdmm.address, mmCommitted, mmSaltN)), mm, 'MM consent');
    check(event(last, 'RevealsOpened') !== undefined, `on-chain round ${id}: all four bound, reveals open`);
    return id;
  }

  const round = await openAndBind(rmSalt, mmSalt);
  say(`  BDrm opened round ${round} (stake cap ${formatEq(stakeCap)} EQ), BDmm joined, both committed (${u8aToHex(commitment(round, bdrm.address, rmReport, rmSalt)).slice(0, 18)}…), RM and MM consented`);
  for (const [name, pair] of Object.entries(parties)) {
    const extra = name === 'BDrm' ? consts.roundDeposit.toBigInt() : 0n;
    check((await heldByPallet(pair)) === capDeposit + extra, `${name} holds BaseDeposit + stake cap = ${formatEq(capDeposit)} EQ${extra ? ' and the round deposit' : ''}`);
  }
  await expectFailure(it.reveal(round, rmReport, rmSalt), stranger, 'a stranger\'s reveal', 'IntermediatedTrade.WrongParty');
  await send(it.reveal(round, rmReport, rmSalt), bdrm, 'BDrm reveal');
  const revealed = await send(it.reveal(round, mmReport, mmSalt), bdmm, 'BDmm reveal');
  const instructions = event(revealed, 'TradingInstructions');
  check(instructions !== undefined, 'both reveals open their commitments (computed here) and the contract sends instructions');
  const terms = instructions.data.terms;
  const t = {
    quantity: terms.quantity.toBigInt(),
    mmRate: terms.mmRate.toBigInt(),
    rmRate: terms.rmRate.toBigInt(),
    bdRate: terms.bdRate.toBigInt(),
  };
  say(`  terms: Q* = ${formatFixed(t.quantity)}, r_mm = ${formatFixed(t.mmRate)}, r_rm = ${formatFixed(t.rmRate)}, r_bd = ${formatFixed(t.bdRate)}`);
  check(t.quantity === toFixed('2.5') && t.mmRate === toFixed('2.5') && t.rmRate === toFixed('7.5') && t.bdRate === toFixed('5'),
    'Q* = 2.5, r_mm = 2.5, r_rm = 7.5, r_bd = 5');
  check(instructions.data.stake.toBigInt() === stake, `the stake is the largest joint profit, ${formatEq(stake)} EQ`);
  for (const [name, pair] of Object.entries(parties)) {
    const extra = name === 'BDrm' ? consts.roundDeposit.toBigInt() : 0n;
    check((await heldByPallet(pair)) === termsDeposit + extra, `${name}'s deposit came down to BaseDeposit + stake = ${formatEq(termsDeposit)} EQ`);
  }

  await expectFailure(it.offer(round, t.quantity, t.rmRate), bdmm, 'an offer on other terms', 'IntermediatedTrade.TermsMismatch');
  const steps = [
    ['BDmm offers MM r_mm', it.offer, bdmm, t.mmRate],
    ['MM accepts', it.accept, mm, t.mmRate],
    ['BDrm offers RM r_rm', it.offer, bdrm, t.rmRate],
    ['RM accepts (its interest is held)', it.accept, rm, t.rmRate],
    ['BDrm offers BDmm r_bd', it.offer, bdrm, t.bdRate],
    ['BDmm accepts: the round settles', it.accept, bdmm, t.bdRate],
  ];
  let settled = null;
  for (const [label, call, pair, rate] of steps) {
    const result = await send(call(round, t.quantity, rate), pair, label);
    const ok = event(result, label.includes('offers') ? 'OfferMade' : 'OfferAccepted') !== undefined;
    check(ok, `${label} (${formatFixed(rate)})`);
    settled = result;
  }
  const legs = settled.events.filter(({ event: e }) => api.events.intermediatedTrade.RepoLegRecorded.is(e));
  check(legs.length === 3, 'three repo legs recorded (MM → BDmm → BDrm → RM, cash off-chain)');
  for (const { event: e } of legs) {
    const leg = e.data.leg;
    say(`    leg: cash lender ${leg.cashLender.toString().slice(0, 8)}… → borrower ${leg.cashBorrower.toString().slice(0, 8)}…, Q ${formatFixed(leg.quantity.toBigInt())} at ${formatFixed(leg.rate.toBigInt())}, interest ${formatEq(leg.interest.toBigInt())} EQ`);
  }
  const payments = event(settled, 'RoundSettled').data.payments;
  const p = {
    rm: payments.rmPaid.toBigInt(),
    mm: payments.mmReceived.toBigInt(),
    bdmm: payments.mmDealerReceived.toBigInt(),
    bdrm: payments.rmDealerReceived.toBigInt(),
  };
  say(`  payments: RM paid ${formatEq(p.rm)} EQ; MM ${formatEq(p.mm)}, BDmm ${formatEq(p.bdmm)}, BDrm ${formatEq(p.bdrm)} EQ`);
  check(p.rm === eqToPlanck('18.75') && p.mm === eqToPlanck('6.25') && p.bdmm === eqToPlanck('6.25') && p.bdrm === eqToPlanck('6.25'),
    'RM pays 18.75 EQ; MM and each dealer receive 6.25 EQ');
  const expectedDelta = { BDrm: p.bdrm, BDmm: p.bdmm, RM: -p.rm, MM: p.mm };
  for (const [name, pair] of Object.entries(parties)) {
    const delta = (await free(pair)) - start[name] + (fees.get(pair.address) ?? 0n);
    check(delta === expectedDelta[name], `${name}: free balance moved by ${formatEq(expectedDelta[name] < 0n ? -expectedDelta[name] : expectedDelta[name])} EQ ${expectedDelta[name] < 0n ? 'down' : 'up'} plus fees, to the planck`, `got ${delta}`);
    check((await heldByPallet(pair)) === 0n, `${name}: nothing held by the pallet`);
  }
  check((await api.query.intermediatedTrade.rounds(round)).isNone, `round ${round} removed from storage`);

  // --- Round 2: a bad reveal ------------------------------------------------------------------
  say('\nround 2: BDmm reveals a report other than the one it committed to');
  const before = {};
  for (const [name, pair] of Object.entries(parties)) before[name] = { free: await free(pair), fees: fees.get(pair.address) ?? 0n };
  // Fresh salts every round: a reused salt would let anyone test guesses against the new
  // commitment with the salt revealed in the previous round.
  const rmSalt2 = randomAsU8a(32);
  const mmSalt2 = randomAsU8a(32);
  const round2 = await openAndBind(rmSalt2, mmSalt2);
  await send(it.reveal(round2, rmReport, rmSalt2), bdrm, 'BDrm reveal');
  const bad = await send(it.reveal(round2, supply(toFixed('0'), toFixed('1'), toFixed('1')), mmSalt2), bdmm, 'BDmm bad reveal');
  const deviated = event(bad, 'Deviated');
  const aborted = event(bad, 'RoundAborted');
  check(deviated?.data.who.toString() === bdmm.address && deviated.data.forfeited.toBigInt() === capDeposit,
    `Deviated: BDmm forfeits ${formatEq(capDeposit)} EQ`);
  check(aborted?.data.reason.isBadReveal === true, 'RoundAborted { reason: BadReveal }');
  const half = capDeposit / 2n;
  const expected2 = { BDrm: capDeposit - half, BDmm: -capDeposit, RM: half, MM: 0n };
  for (const [name, pair] of Object.entries(parties)) {
    const feesNow = (fees.get(pair.address) ?? 0n) - before[name].fees;
    const delta = (await free(pair)) - before[name].free + feesNow;
    check(delta === expected2[name], `${name}: ${expected2[name] < 0n ? '−' : '+'}${formatEq(expected2[name] < 0n ? -expected2[name] : expected2[name])} EQ (plus fees)${name === 'MM' ? ': BDmm\'s own client gets none of its forfeit' : ''}`, `got ${delta}`);
    check((await heldByPallet(pair)) === 0n, `${name}: nothing held by the pallet`);
  }

  // --- Round 3: the private path -----------------------------------------------------------
  say('\nround 3: the private path — reports exchanged encrypted between the dealers, terms agreed, none published');
  const before4 = {};
  for (const [name, pair] of Object.entries(parties)) before4[name] = { free: await free(pair), fees: fees.get(pair.address) ?? 0n };
  const rmSalt4 = randomAsU8a(32);
  const mmSalt4 = randomAsU8a(32);
  const round4 = await openAndBind(rmSalt4, mmSalt4);
  const stored4 = (await api.query.intermediatedTrade.rounds(round4)).unwrap();
  // Each dealer seals its report and salt for the other under their shared sr25519 key.
  const keys = { BDrm: exchangeKey(`${tag}/BDrm`), BDmm: exchangeKey(`${tag}/BDmm`) };
  const shared = sr25519Agreement(keys.BDrm.secretKey, keys.BDmm.publicKey);
  check(u8aToHex(shared) === u8aToHex(sr25519Agreement(keys.BDmm.secretKey, keys.BDrm.publicKey)), 'both dealers derive the same key (sr25519 agreement)');
  const seal = (report, salt) => naclEncrypt(u8aConcat(salt, api.createType(reportType(), report).toU8a()), shared);
  const open = (sealed) => {
    const plain = naclDecrypt(sealed.encrypted, sealed.nonce, shared);
    return { salt: plain.slice(0, 32), report: api.createType(reportType(), plain.slice(32)) };
  };
  const fromBdrm = open(seal(rmReport, rmSalt4));
  const fromBdmm = open(seal(mmReport, mmSalt4));
  check(u8aToHex(commitment(round4, bdrm.address, fromBdrm.report, fromBdrm.salt)) === stored4.rmCommitment.unwrap().toHex(),
    'BDmm opens BDrm\'s sealed report and it matches BDrm\'s commitment on chain');
  check(u8aToHex(commitment(round4, bdmm.address, fromBdmm.report, fromBdmm.salt)) === stored4.mmCommitment.unwrap().toHex(),
    'BDrm opens BDmm\'s sealed report and it matches BDmm\'s commitment on chain');
  const demandOf = (report) => ({ chokeRate: report.schedule.asDemand.chokeRate.toBigInt(), slope: report.schedule.asDemand.slope.toBigInt() });
  const supplyOf = (report) => ({ reservationRate: report.schedule.asSupply.reservationRate.toBigInt(), slope: report.schedule.asSupply.slope.toBigInt() });
  const hurdles = max(fromBdrm.report.hurdle.toBigInt(), fromBdmm.report.hurdle.toBigInt());
  const selected = selectTerms(supplyOf(fromBdmm.report), demandOf(fromBdrm.report), hurdles, stakeCap);
  check(selectTerms(supplyOf(fromBdmm.report), demandOf(fromBdrm.report), hurdles, eqToPlanck('12')) === null,
    'the off-chain selection refuses terms whose stake (12.5 EQ) exceeds a 12 EQ cap, as the chain would');
  check(selected && selected.quantity === t.quantity && selected.rmRate === t.rmRate && selected.mmRate === t.mmRate && selected.bdRate === t.bdRate,
    'both dealers compute the contract\'s selection off-chain: the same terms as round 1');
  await send(it.agree(round4, selected), bdrm, 'BDrm agrees');
  const agreed = await send(it.agree(round4, selected), bdmm, 'BDmm agrees');
  check(event(agreed, 'TermsAgreed') !== undefined, 'TermsAgreed: the agreed terms are the instructions');
  const after4 = (await api.query.intermediatedTrade.rounds(round4)).unwrap();
  check(after4.rmReport.isNone && after4.mmReport.isNone, 'no report on chain: the public learns the terms only');
  for (const [, call, pair, rate] of steps) await send(call(round4, t.quantity, rate), pair, 'step');
  check((await api.query.intermediatedTrade.rounds(round4)).isNone, `round ${round4} settled`);
  for (const [name, pair] of Object.entries(parties)) {
    const feesNow = (fees.get(pair.address) ?? 0n) - before4[name].fees;
    const delta = (await free(pair)) - before4[name].free + feesNow;
    check(delta === expectedDelta[name], `${name}: ${expectedDelta[name] < 0n ? '−' : '+'}${formatEq(expectedDelta[name] < 0n ? -expectedDelta[name] : expectedDelta[name])} EQ (plus fees), as in round 1`, `got ${delta}`);
  }

  // --- Round 4: colluding dealers, caught by RM's dispute --------------------------------------
  say('\nround 4: both dealers agree to overcharge RM (r_rm = 8.5); RM disputes');
  const before5 = {};
  for (const [name, pair] of Object.entries(parties)) before5[name] = { free: await free(pair), fees: fees.get(pair.address) ?? 0n };
  const rmSalt5 = randomAsU8a(32);
  const mmSalt5 = randomAsU8a(32);
  const round5 = await openAndBind(rmSalt5, mmSalt5);
  const inflated = { quantity: t.quantity, mmRate: t.mmRate, rmRate: toFixed('8.5'), bdRate: toFixed('5.5') };
  await send(it.agree(round5, inflated), bdrm, 'BDrm agrees to inflated terms');
  await send(it.agree(round5, inflated), bdmm, 'BDmm agrees to inflated terms');
  const disputed = await send(it.dispute(round5), rm, 'RM disputes');
  check(event(disputed, 'Disputed') !== undefined, 'Disputed: both dealers must now reveal');
  await send(it.reveal(round5, rmReport, rmSalt5), bdrm, 'BDrm reveal');
  const resolved = await send(it.reveal(round5, mmReport, mmSalt5), bdmm, 'BDmm reveal');
  check(event(resolved, 'RoundAborted')?.data.reason.isFalseAgreement === true, 'RoundAborted { reason: FalseAgreement }: the agreement was not the contract\'s selection');
  const expected5 = { BDrm: -capDeposit, BDmm: -capDeposit, RM: capDeposit, MM: capDeposit };
  for (const [name, pair] of Object.entries(parties)) {
    const feesNow = (fees.get(pair.address) ?? 0n) - before5[name].fees;
    const delta = (await free(pair)) - before5[name].free + feesNow;
    check(delta === expected5[name], `${name}: ${expected5[name] < 0n ? '−' : '+'}${formatEq(expected5[name] < 0n ? -expected5[name] : expected5[name])} EQ (plus fees)`, `got ${delta}`);
    check((await heldByPallet(pair)) === 0n, `${name}: nothing held by the pallet`);
  }

  // --- Round 5 (last: RM's balance stays locked): RM accepts, locks everything and walks away ------------------------------------
  say('\nround 5: RM accepts, then locks its whole balance (a conviction-voting delegation) and walks away');
  const before3 = {};
  for (const [name, pair] of Object.entries(parties)) before3[name] = { free: await free(pair), fees: fees.get(pair.address) ?? 0n };
  const rmSalt3 = randomAsU8a(32);
  const mmSalt3 = randomAsU8a(32);
  const round3 = await openAndBind(rmSalt3, mmSalt3);
  await send(it.reveal(round3, rmReport, rmSalt3), bdrm, 'BDrm reveal');
  await send(it.reveal(round3, mmReport, mmSalt3), bdmm, 'BDmm reveal');
  for (const [, call, pair, rate] of steps.slice(0, 4)) await send(call(round3, t.quantity, rate), pair, 'step');
  // Delegate everything that is left after the delegation's own fee: the lock then covers the
  // whole balance, the held interest included.
  const balanceOf = async () => {
    const { data } = await api.query.system.account(rm.address);
    return data.free.toBigInt() + data.reserved.toBigInt();
  };
  const trackId = api.consts.referenda.tracks[0][0];
  const delegate = (amount) => api.tx.convictionVoting.delegate(trackId, alice.address, 'Locked1x', amount);
  const whole = await balanceOf();
  const delegationFee = (await delegate(whole).paymentInfo(rm)).partialFee.toBigInt();
  await send(delegate(whole - delegationFee), rm, 'RM delegates everything');
  const locks = await api.query.balances.locks(rm.address);
  const locked = locks.reduce((max, lock) => (lock.amount.toBigInt() > max ? lock.amount.toBigInt() : max), 0n);
  const freeNow = await free(rm);
  // A lock freezes the total balance: what it covers beyond the free balance is frozen on hold.
  check(locked - freeNow >= p.rm, `RM's lock (${formatEq(locked)} EQ) freezes all of its held interest: only ${formatEq(freeNow > locked ? freeNow - locked : 0n)} EQ free is unlocked`, `lock ${locked}, free ${freeNow}`);
  const settled3 = await send(it.offer(round3, t.quantity, t.bdRate), bdrm, 'BDrm offers BDmm r_bd');
  const last3 = await send(it.accept(round3, t.quantity, t.bdRate), bdmm, 'BDmm accepts');
  void settled3;
  const payments3 = event(last3, 'RoundSettled')?.data.payments;
  check(payments3?.rmPaid.toBigInt() === p.rm && payments3?.mmReceived.toBigInt() === p.mm
    && payments3?.mmDealerReceived.toBigInt() === p.bdmm && payments3?.rmDealerReceived.toBigInt() === p.bdrm,
  'RoundSettled reports every leg paid in full despite the lock');
  for (const [name, pair] of Object.entries(parties)) {
    const feesNow = (fees.get(pair.address) ?? 0n) - before3[name].fees;
    const delta = (await free(pair)) - before3[name].free + feesNow;
    check(delta === expectedDelta[name], `${name}: ${expectedDelta[name] < 0n ? '−' : '+'}${formatEq(expectedDelta[name] < 0n ? -expectedDelta[name] : expectedDelta[name])} EQ (plus fees), to the planck`, `got ${delta}`);
    check((await heldByPallet(pair)) === 0n, `${name}: nothing held by the pallet`);
  }

  say(`\n${failures === 0 ? 'all checks passed' : `${failures} check(s) failed`} [${seconds()} s]`);
  return failures === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`error: ${error?.stack ?? error}`);
  if (node) console.error(`the node's log: ${node.logFile}\n${node.tail(20)}`);
} finally {
  clearTimeout(timeLimit);
  if (api) await Promise.race([api.disconnect().catch(() => {}), new Promise((r) => setTimeout(r, 3_000))]);
  if (node) await node.stop();
}
process.exit(code);
