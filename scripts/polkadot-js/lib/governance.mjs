// Referendum helpers: the proposal's preimage, vote specifications, the referendum's phase,
// and the scheduler task that enacts a passed referendum.

import { bnToU8a, compactToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { eqToPlanck, formatEq } from './fixed.mjs';
import { encodeParams } from './market.mjs';

/** The origin of the market_admin track (track 1), as Referenda.submit takes it. */
export const MARKET_ADMIN_ORIGIN = { Origins: 'MarketAdmin' };
/** The origin of the root track (track 0). */
export const ROOT_ORIGIN = { system: 'Root' };

export const CONVICTIONS = ['None', 'Locked1x', 'Locked2x', 'Locked3x', 'Locked4x', 'Locked5x', 'Locked6x'];

/**
 * The proposal `ContractEquilibrium.set_market_params(market, params)`: the call, its SCALE
 * bytes (what Preimage.notePreimage stores), their blake2-256 hash and length (what
 * Referenda.submit refers to as `{ Lookup: { hash, len } }`).
 */
export function setParamsProposal(api, market, params) {
  const call = api.tx.contractEquilibrium.setMarketParams(market, encodeParams(params));
  const bytes = call.method.toU8a();
  return { call, bytes, hex: u8aToHex(bytes), hash: u8aToHex(blake2AsU8a(bytes, 256)), len: bytes.length };
}

/**
 * The scheduler's name for the task that enacts referendum `index`:
 * blake2_256(SCALE(("assembly", "enactment", index))) — pallet-referenda's `schedule_enactment`.
 * Scheduler.Dispatched { id } carries it, with the enacted call's result.
 */
export function enactmentTaskId(index) {
  const encoded = u8aConcat(
    stringToU8a('assembly'), // [u8; 8], no length prefix
    compactToU8a(9), stringToU8a('enactment'), // &str
    bnToU8a(index, { bitLength: 32, isLe: true }), // u32
  );
  return u8aToHex(blake2AsU8a(encoded, 256));
}

/**
 * Parses "//Alice:aye:Locked3x:200000" (voter URI, aye|nay, conviction, EQ) into
 * { uri, aye, conviction, balance (planck) }. The conviction may be given as 0..6 too.
 */
export function parseVote(spec) {
  const parts = spec.split(':');
  if (parts.length !== 4) throw new Error(`a vote is URI:aye|nay:CONVICTION:EQ, got "${spec}"`);
  const [uri, side, convictionText, amount] = parts;
  if (side !== 'aye' && side !== 'nay') throw new Error(`vote "${spec}": the side must be aye or nay`);
  const conviction = /^\d$/.test(convictionText) ? CONVICTIONS[Number(convictionText)] : CONVICTIONS.find(
    (name) => name.toLowerCase() === convictionText.toLowerCase(),
  );
  if (!conviction) throw new Error(`vote "${spec}": conviction must be one of ${CONVICTIONS.join(', ')}`);
  const balance = eqToPlanck(amount, `vote "${spec}" amount`);
  if (balance === 0n) throw new Error(`vote "${spec}": the amount must be positive`);
  return { uri, aye: side === 'aye', conviction, balance };
}

export const describeVote = (vote) =>
  `${vote.uri} ${vote.aye ? 'aye' : 'nay'} ${vote.conviction} ${formatEq(vote.balance)} EQ`;

/** ConvictionVoting.vote(index, Standard { vote: { aye, conviction }, balance }). */
export const voteTx = (api, index, vote) => api.tx.convictionVoting.vote(index, {
  Standard: { vote: { aye: vote.aye, conviction: vote.conviction }, balance: vote.balance },
});

/** The referendum track whose id is `trackId`: { id, name, decisionDeposit, preparePeriod, … }. */
export function trackInfo(api, trackId) {
  for (const [id, info] of api.consts.referenda.tracks) {
    if (id.toNumber() === trackId) {
      return {
        id: trackId,
        name: new TextDecoder().decode(info.name.toU8a(true)).replace(/\0+$/, ''),
        maxDeciding: info.maxDeciding.toNumber(),
        decisionDeposit: info.decisionDeposit.toBigInt(),
        preparePeriod: info.preparePeriod.toNumber(),
        decisionPeriod: info.decisionPeriod.toNumber(),
        confirmPeriod: info.confirmPeriod.toNumber(),
        minEnactmentPeriod: info.minEnactmentPeriod.toNumber(),
      };
    }
  }
  throw new Error(`no referendum track ${trackId}`);
}

/** The track a proposal origin goes to: market_admin (1) or root (0). */
export const MARKET_ADMIN_TRACK = 1;
export const ROOT_TRACK = 0;

/**
 * A referendum's phase from its ReferendumInfoFor entry (an Option), at some block `now`:
 * { phase, ended, tally? } with phase one of
 *   'unknown', 'awaiting decision deposit', 'preparing', 'queued', 'deciding', 'confirming',
 *   'approved', 'rejected', 'cancelled', 'timed out', 'killed'.
 * 'approved' means passed and awaiting enactment by the scheduler.
 */
export function referendumPhase(infoOption, now, track) {
  if (infoOption.isNone) return { phase: 'unknown', ended: true };
  const info = infoOption.unwrap();
  if (info.isOngoing) {
    const status = info.asOngoing;
    const tally = {
      ayes: status.tally.ayes.toBigInt(),
      nays: status.tally.nays.toBigInt(),
      support: status.tally.support.toBigInt(),
    };
    let phase;
    if (status.deciding.isSome) {
      phase = status.deciding.unwrap().confirming.isSome ? 'confirming' : 'deciding';
    } else if (status.decisionDeposit.isNone) {
      phase = 'awaiting decision deposit';
    } else if (status.inQueue.isTrue) {
      phase = 'queued';
    } else {
      phase = 'preparing';
    }
    const detail = { submitted: status.submitted.toNumber() };
    if (status.deciding.isSome) {
      const deciding = status.deciding.unwrap();
      detail.decidingSince = deciding.since.toNumber();
      if (deciding.confirming.isSome) detail.confirmingUntil = deciding.confirming.unwrap().toNumber();
      if (track) detail.decisionEnds = detail.decidingSince + track.decisionPeriod;
    } else if (track) {
      detail.prepareEnds = detail.submitted + track.preparePeriod;
    }
    return { phase, ended: false, tally, ...detail, now };
  }
  const names = { isApproved: 'approved', isRejected: 'rejected', isCancelled: 'cancelled', isTimedOut: 'timed out', isKilled: 'killed' };
  for (const [flag, phase] of Object.entries(names)) {
    if (info[flag]) return { phase, ended: phase !== 'approved' };
  }
  return { phase: info.type, ended: true };
}

/** Conviction-weighted ayes/nays and support (capital of ayes), in EQ text. */
export const describeTally = (tally) => (tally
  ? `ayes ${formatEq(tally.ayes, 0)} nays ${formatEq(tally.nays, 0)} support ${formatEq(tally.support, 0)} EQ`
  : '');
