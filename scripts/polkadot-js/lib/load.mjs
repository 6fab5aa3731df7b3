// Load: a chain spec with many pre-funded accounts, pre-signed extrinsics, and a run that submits
// them at a sustained rate and measures inclusion and finality block by block.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import { sleep } from './network.mjs';

/**
 * The transaction pool's limits for a load test: room for several blocks of transactions that
 * are included but not yet finalized (the pool keeps them until then). The defaults (8 192
 * transactions, 20 MiB) hold about three blocks of transfers.
 */
export const POOL_ARGS = ['--pool-limit', '65536', '--pool-kbytes', '131072'];

/** What every load account holds at genesis: 10⁶ EQ. */
export const LOAD_ENDOWMENT = 10n ** 18n;

/** `count` sr25519 load accounts, each from its own seed (fast: no mnemonic derivation). */
export async function loadAccounts(count) {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  return Array.from({ length: count }, (_, i) => {
    const seed = createHash('sha256').update(`contract-equilibrium load account ${i}`).digest('hex');
    return keyring.addFromUri(`0x${seed}`);
  });
}

/**
 * Writes the raw chain spec of `chain` (`dev` or `local`) with `accounts` endowed at genesis, in
 * `dir`; returns its path. The accounts are added to the genesis patch's balances as text, so
 * that the balances' big integers are kept exactly.
 */
export function loadChainSpec(binary, chain, accounts, dir) {
  const plain = execFileSync(binary, ['build-spec', '--chain', chain, '--disable-default-bootnode'], {
    encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'],
  });
  const anchor = /"balances":\s*\{\s*"balances":\s*\[/;
  if (!anchor.test(plain)) throw new Error(`the ${chain} chain spec has no genesis balances to extend`);
  const entries = accounts.map((pair) => `["${pair.address}", ${LOAD_ENDOWMENT}],`).join('');
  const plainPath = join(dir, `${chain}-load.json`);
  writeFileSync(plainPath, plain.replace(anchor, (match) => `${match}${entries}`));
  const raw = execFileSync(binary, ['build-spec', '--chain', plainPath, '--raw', '--disable-default-bootnode'], {
    encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'],
  });
  const rawPath = join(dir, `${chain}-load-raw.json`);
  writeFileSync(rawPath, raw);
  return rawPath;
}

/** Quantiles of a list of numbers (nearest rank). */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Signs `perAccount` extrinsics for each account, nonces from its next one, immortal (so that
 * they stay valid however long they wait): `build(account index, k)` gives the call. Returns
 * `[{ hex, hash, kind }]` in submission order (round-robin over the accounts, so that each is
 * ready in the pool when its turn comes).
 */
export async function presign(api, pairs, perAccount, build) {
  const genesisHash = api.genesisHash;
  const nonces = [];
  for (let i = 0; i < pairs.length; i += 100) {
    const chunk = pairs.slice(i, i + 100);
    nonces.push(...(await Promise.all(chunk.map((pair) => api.rpc.system.accountNextIndex(pair.address)))).map((n) => n.toNumber()));
  }
  const signed = [];
  for (let k = 0; k < perAccount; k += 1) {
    for (let i = 0; i < pairs.length; i += 1) {
      const { tx, kind } = build(i, k);
      tx.sign(pairs[i], {
        blockHash: genesisHash,
        genesisHash,
        era: 0,
        nonce: nonces[i] + k,
        runtimeVersion: api.runtimeVersion,
        signedExtensions: api.registry.signedExtensions,
      });
      signed.push({ hex: tx.toHex(), hash: tx.hash.toHex(), kind });
    }
  }
  return signed;
}

/**
 * Submits `signed` through `submitters` in turn (default: `provider`, which also follows the
 * chain), keeping at most `inFlight` submitted but not yet finalized,
 * and follows the chain until every submitted extrinsic is finalized (or nothing has moved for
 * `stallMs`). Stops submitting once `blocks` blocks have included load. Returns the measurements.
 */
export async function runLoad({ api, provider, submitters = [provider], signed, inFlight, blocks, stallMs = 60_000, say = () => {} }) {
  const pending = new Map(); // hash → { kind, submitted, included?, block?, finalized? }
  const rejected = [];
  const blockRows = [];
  let next = 0;
  let includedCount = 0;
  let finalizedCount = 0;
  let lastProgress = Date.now();
  let loadedBlocks = 0;
  let firstLoadedBlock = null;
  let lastFinalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  const maxNormal = api.consts.system.blockWeights.perClass.normal.maxTotal.unwrap().refTime.toBigInt();

  const unsubscribeHeads = await api.rpc.chain.subscribeNewHeads((header) => onHead(header).catch((error) => say(`block tracking: ${error.message}`)));
  async function onHead(header) {
    const seen = Date.now();
    const hash = header.hash.toHex();
    const number = header.number.toNumber();
    const block = await provider.send('chain_getBlock', [hash]);
    const ours = [];
    const kinds = {};
    for (const extrinsic of block.block.extrinsics) {
      const id = blake2AsHex(hexToU8a(extrinsic), 256);
      const entry = pending.get(id);
      if (entry && entry.included === undefined) {
        entry.included = seen;
        entry.block = number;
        includedCount += 1;
        ours.push(id);
        kinds[entry.kind] = (kinds[entry.kind] ?? 0) + 1;
      }
    }
    if (ours.length > 0) {
      lastProgress = seen;
      loadedBlocks += 1;
      firstLoadedBlock ??= number;
    }
    const weight = await api.query.system.blockWeight.at(hash).catch(() => null);
    const normal = weight ? weight.normal.refTime.toBigInt() : 0n;
    blockRows.push({
      number, seen, extrinsics: block.block.extrinsics.length, ours: ours.length, kinds,
      weightPercent: Number((normal * 10_000n) / maxNormal) / 100,
    });
    say(`#${number}: ${ours.length} of ours (${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}), ${block.block.extrinsics.length} extrinsics, normal weight ${blockRows.at(-1).weightPercent} %`);
  }
  // Finality from the canonical chain: the bodies of the newly finalized blocks.
  let finalizing = Promise.resolve();
  const unsubscribeFinalized = await api.rpc.chain.subscribeFinalizedHeads((header) => {
    const number = header.number.toNumber();
    finalizing = finalizing.then(async () => {
      for (let n = lastFinalized + 1; n <= number; n += 1) {
        const hash = await provider.send('chain_getBlockHash', [n]);
        const block = await provider.send('chain_getBlock', [hash]);
        const seen = Date.now();
        for (const extrinsic of block.block.extrinsics) {
          const entry = pending.get(blake2AsHex(hexToU8a(extrinsic), 256));
          if (entry && entry.finalized === undefined) {
            if (entry.included === undefined) {
              entry.included = seen;
              includedCount += 1;
            }
            entry.finalized = seen;
            entry.finalizedIn = n;
            finalizedCount += 1;
            lastProgress = seen;
          }
        }
        lastFinalized = n;
      }
    }).catch((error) => say(`finality tracking: ${error.message}`));
  });

  const started = Date.now();
  let submitting = 0;
  while (true) {
    // Not yet finalized: the transaction pool keeps a transaction until its block is final.
    const outstanding = next - rejected.length - finalizedCount;
    if (loadedBlocks < blocks && next < signed.length && outstanding < inFlight) {
      const { hex, hash, kind } = signed[next];
      next += 1;
      submitting += 1;
      pending.set(hash, { kind, submitted: Date.now() });
      submitters[next % submitters.length].send('author_submitExtrinsic', [hex]).then(
        () => { submitting -= 1; },
        (error) => {
          submitting -= 1;
          pending.delete(hash);
          rejected.push({ hash, kind, reason: error.message });
        },
      );
      if (next % 200 === 0) await sleep(0); // let the subscriptions run
      continue;
    }
    const all = [...pending.values()];
    const done = all.every((entry) => entry.finalized !== undefined);
    const stopped = loadedBlocks >= blocks || next >= signed.length;
    if (stopped && submitting === 0 && done) break;
    if (Date.now() - lastProgress > stallMs) break;
    await sleep(100);
  }
  await unsubscribeHeads();
  await unsubscribeFinalized();

  const entries = [...pending.values()];
  const included = entries.filter((entry) => entry.included !== undefined);
  const finalized = entries.filter((entry) => entry.finalized !== undefined);
  const loaded = blockRows.filter((row) => row.ours > 0);
  // Full blocks: loaded blocks between the first and the last (the ramp-up and the tail excluded).
  const middle = loaded.slice(1, -1);
  const firstSubmit = Math.min(...entries.map((entry) => entry.submitted));
  const lastFinal = Math.max(...finalized.map((entry) => entry.finalized));
  return {
    submitted: next,
    rejected,
    notIncluded: entries.length - included.length,
    included: included.length,
    finalized: finalized.length,
    loadedBlocks: loaded.length,
    perBlock: {
      mean: middle.length ? middle.reduce((s, row) => s + row.ours, 0) / middle.length : NaN,
      max: Math.max(0, ...loaded.map((row) => row.ours)),
      weightPercent: middle.length ? middle.reduce((s, row) => s + row.weightPercent, 0) / middle.length : NaN,
    },
    finalizedTps: finalized.length / ((lastFinal - firstSubmit) / 1000),
    inclusion: {
      p50: quantile(included.map((e) => e.included - e.submitted), 0.5),
      p95: quantile(included.map((e) => e.included - e.submitted), 0.95),
    },
    finality: {
      p50: quantile(finalized.map((e) => e.finalized - e.submitted), 0.5),
      p95: quantile(finalized.map((e) => e.finalized - e.submitted), 0.95),
    },
    seconds: (Date.now() - started) / 1000,
    blocks: blockRows,
  };
}
