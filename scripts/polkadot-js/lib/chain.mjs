// Connecting to the chain, signing, and waiting for transactions, with named errors.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

export const DEFAULT_URL = 'ws://127.0.0.1:9944';

/** A dispatch that failed on chain; `name` is `Pallet.Error`, `BadOrigin`, `Token.FundsUnavailable`… */
export class DispatchFailed extends Error {
  constructor(what, errorName, details = {}) {
    super(`${what} failed: ${errorName}`);
    this.errorName = errorName;
    Object.assign(this, details);
  }
}

/**
 * Connects to `url`; fails after `timeoutMs` instead of retrying forever (WsProvider's default).
 */
export async function connect(url = DEFAULT_URL, { timeoutMs = 30_000 } = {}) {
  await cryptoWaitReady();
  const provider = new WsProvider(url, 1_000);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`could not connect to ${url} within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const api = await Promise.race([ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: false }), timeout]);
    return api;
  } catch (error) {
    await provider.disconnect().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

let keyring;
/** An sr25519 key pair from a secret URI ("//Alice", "//Alice//stash", a mnemonic…). */
export function keyPair(uri) {
  keyring ??= new Keyring({ type: 'sr25519', ss58Format: 42 });
  return keyring.addFromUri(uri, { name: uri });
}

/** The name of a DispatchError: `Pallet.Error` for module errors, else the variant (and detail). */
export function dispatchErrorName(api, dispatchError) {
  if (dispatchError.isModule) {
    const meta = api.registry.findMetaError(dispatchError.asModule);
    return `${meta.section.charAt(0).toUpperCase()}${meta.section.slice(1)}.${meta.name}`;
  }
  if (dispatchError.isToken) return `Token.${dispatchError.asToken.type}`;
  if (dispatchError.isArithmetic) return `Arithmetic.${dispatchError.asArithmetic.type}`;
  if (dispatchError.isTransactional) return `Transactional.${dispatchError.asTransactional.type}`;
  return dispatchError.type;
}

/** A call's name as `pallet.method`. */
export const callName = (tx) => `${tx.method.section}.${tx.method.method}`;

/**
 * The failure hidden in `events` of a successful extrinsic: the inner result of `sudo.sudo`
 * (Sudo.Sudid) and of a batch-like wrapper. Returns an error name or null.
 */
export function innerFailure(api, events) {
  for (const { event } of events) {
    if (api.events.sudo?.Sudid?.is(event) && event.data.sudoResult.isErr) {
      return dispatchErrorName(api, event.data.sudoResult.asErr);
    }
  }
  return null;
}

/**
 * Signs `tx` with `pair`, submits it, and resolves when it is in a block (or finalized) and
 * succeeded: { blockHash, events (of this extrinsic), fee (planck, TransactionFeePaid) }.
 * Rejects with DispatchFailed (`error.errorName` = `Pallet.Error`) if the dispatch failed, also
 * inside `sudo.sudo`; with a plain Error if the pool rejects it or after `timeoutMs`.
 */
export function signAndWait(api, tx, pair, { nonce = -1, timeoutMs = 120_000, label = callName(tx) } = {}) {
  return new Promise((resolve, reject) => {
    let unsubscribe = null;
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (unsubscribe) unsubscribe();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new Error(`${label}: not in a block within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    tx.signAndSend(pair, { nonce }, (result) => {
      const { status, events, dispatchError } = result;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish(new Error(`${label}: transaction ${status.type}`));
        return;
      }
      if (!(status.isInBlock || status.isFinalized)) return;
      const blockHash = status.isInBlock ? status.asInBlock : status.asFinalized;
      const feeEvent = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
      const fee = feeEvent ? feeEvent.event.data.actualFee.toBigInt() : 0n;
      if (dispatchError) {
        finish(new DispatchFailed(label, dispatchErrorName(api, dispatchError), { blockHash, events, fee }));
        return;
      }
      const inner = innerFailure(api, events);
      if (inner) {
        finish(new DispatchFailed(label, inner, { blockHash, events, fee }));
        return;
      }
      finish(null, { blockHash, events, fee });
    }).then((unsub) => {
      unsubscribe = unsub;
      if (settled) unsub();
    }, (error) => finish(new Error(`${label}: ${error.message}`)));
  });
}

/** The first event `pallet.Name` among `events` ({ event } records), or undefined. */
export function findEvent(api, events, section, method) {
  const matcher = api.events[section]?.[method];
  if (!matcher) throw new Error(`no event ${section}.${method} in the metadata`);
  return events.find(({ event }) => matcher.is(event))?.event;
}

/** The events of block `hash`. */
export async function blockEvents(api, hash) {
  return api.query.system.events.at(hash);
}

/** Runs `body(api)` with a connection to `url` and always disconnects. */
export async function withApi(url, body, options) {
  const api = await connect(url, options);
  try {
    return await body(api);
  } finally {
    await api.disconnect().catch(() => {});
  }
}
