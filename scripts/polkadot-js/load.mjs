// scripts/load: sustained load from pre-funded accounts with pre-signed extrinsics, against a
// throw-away dev node and a throw-away four-validator network (see that script's header).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Network, Validator, distinctPorts, sleep, table } from './lib/network.mjs';
import { POOL_ARGS, loadAccounts, loadChainSpec, presign, runLoad } from './lib/load.mjs';

const { values: options } = parseArgs({
  options: {
    node: { type: 'string' },
    targets: { type: 'string', default: 'dev,network' },
    modes: { type: 'string', default: 'transfer,demand,mixed' },
    accounts: { type: 'string', default: '1000' },
    'per-account': { type: 'string', default: '60' },
    blocks: { type: 'string', default: '20' },
    'in-flight': { type: 'string', default: '20000' },
    verbose: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const ACCOUNTS = Number(options.accounts);
const PER_ACCOUNT = Number(options['per-account']);
const BLOCKS = Number(options.blocks);
const IN_FLIGHT = Number(options['in-flight']);
const MARKET = 0;
const EQ = 10n ** 12n;
const FIXED_ONE = 10n ** 18n;
const say = options.verbose ? (line) => console.log(`  ${line}`) : () => {};

/** The call an account sends as its k-th extrinsic of a mode. */
function builder(api, pairs, mode) {
  const transfer = (i) => ({
    tx: api.tx.balances.transferKeepAlive(pairs[(i + 1) % pairs.length].address, EQ),
    kind: 'transfer',
  });
  // A fixed quantity (0.01 units, varied so that each order really changes), 10 EQ per epoch for
  // two epochs: replacing the account's order each time.
  const demand = (i, k) => ({
    tx: api.tx.contractEquilibrium.submitDemand(MARKET, { Quantity: { x: FIXED_ONE / 100n + BigInt(k) } }, 10n * EQ, 2),
    kind: 'submit_demand',
  });
  if (mode === 'transfer') return transfer;
  if (mode === 'demand') return demand;
  return (i, k) => ((i + k) % 2 === 0 ? transfer(i) : demand(i, k));
}

/** The weight-derived limit per block for the mode's first extrinsic. */
async function weightLimit(api, provider, signedHex) {
  // Raw JSON-RPC: this @polkadot/api release decodes the answer with an outdated type.
  const info = await provider.send('payment_queryInfo', [signedHex]);
  const dispatchWeight = BigInt(info.weight.ref_time ?? info.weight.refTime);
  const weights = api.consts.system.blockWeights;
  const normal = weights.perClass.normal;
  const maxTotal = normal.maxTotal.unwrap().refTime.toBigInt();
  const base = normal.baseExtrinsic.refTime.toBigInt();
  const perExtrinsic = dispatchWeight + base;
  const byWeight = Number((maxTotal - weights.baseBlock.refTime.toBigInt()) / perExtrinsic);
  const maxLength = api.consts.system.blockLength.max.normal.toNumber();
  const byLength = Math.floor(maxLength / ((signedHex.length - 2) / 2));
  return { byWeight, byLength, perExtrinsicUs: Number(perExtrinsic) / 1e6 };
}

const failures = [];
const rows = [];
const dir = mkdtempSync(join(tmpdir(), 'equilibrium-load-'));
let running = [];
process.on('exit', () => running.forEach((v) => v.killNow()));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const pairs = await loadAccounts(ACCOUNTS);
console.log(`${ACCOUNTS} load accounts; ${PER_ACCOUNT} pre-signed extrinsics each per mode; at most ${IN_FLIGHT} in flight; load over at least ${BLOCKS} blocks`);

for (const target of options.targets.split(',')) {
  const chain = target === 'dev' ? 'dev' : 'local';
  const spec = loadChainSpec(options.node, chain, pairs, dir);
  let nodes;
  if (target === 'dev') {
    const [rpcPort, p2pPort] = await distinctPorts(2);
    const node = new Validator({ name: 'dev', binary: options.node, chainSpec: spec, dir, p2pPort, rpcPort, bootnodes: [] });
    node.prepareKey();
    node.start(['--chain', spec, '--alice', '--validator', '--force-authoring', '--base-path', node.basePath,
      '--node-key-file', node.nodeKeyFile,
      '--rpc-port', String(rpcPort), '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
      '--no-mdns', '--no-prometheus', '--no-telemetry', ...POOL_ARGS]);
    nodes = [node];
    const deadline = Date.now() + 120_000;
    while (!(await node.status())) {
      if (!node.running || Date.now() > deadline) throw new Error(`the dev node did not start:\n${node.tail(10)}`);
      await sleep(500);
    }
  } else {
    const ports = await distinctPorts(8);
    const network = new Network({ binary: options.node, dir: join(dir, 'network'), chainSpec: spec, rpcPorts: ports.slice(0, 4), p2pPorts: ports.slice(4), extraArgs: POOL_ARGS });
    network.start();
    nodes = network.validators;
    await network.waitFor({ beyond: 0, timeoutMs: 180_000 });
  }
  running = nodes;
  const provider = new WsProvider(nodes[0].wsUrl, 1_000);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  // Clients of a network reach different nodes: the load goes to every validator in turn.
  const submitters = [provider];
  for (const node of nodes.slice(1)) {
    const other = new WsProvider(node.wsUrl, 1_000);
    await other.isReady;
    submitters.push(other);
  }
  // Wait for the first finalized block (the network checked its own).
  while ((await api.rpc.chain.getFinalizedHead()).eq(api.genesisHash)) await sleep(1_000);
  console.log(`\n== ${target}: ${nodes.length} validator(s), load sent to ${nodes.map((node) => node.name).join(', ')} in turn, blocks followed on ${nodes[0].wsUrl}`);

  for (const mode of options.modes.split(',')) {
    const started = Date.now();
    const signed = await presign(api, pairs, PER_ACCOUNT, builder(api, pairs, mode));
    const signSeconds = (Date.now() - started) / 1000;
    const limit = await weightLimit(api, provider, signed[0].hex);
    console.log(`${mode}: ${signed.length} extrinsics signed in ${signSeconds.toFixed(1)} s; weight-derived limit ${limit.byWeight} per block (${limit.perExtrinsicUs.toFixed(1)} µs each), length limit ${limit.byLength}`);
    const result = await runLoad({ api, provider, submitters, signed, inFlight: IN_FLIGHT, blocks: BLOCKS, say });
    const dropped = result.rejected.length + result.notIncluded + (result.included - result.finalized);
    if (dropped > 0) {
      failures.push(`${target} ${mode}: ${result.rejected.length} valid extrinsics refused (${result.rejected.slice(0, 3).map((r) => r.reason).join('; ')}), `
        + `${result.notIncluded} not included and ${result.included - result.finalized} not finalized when the chain stopped moving for 60 s`);
    }
    if (result.loadedBlocks < BLOCKS) failures.push(`${target} ${mode}: load spread over ${result.loadedBlocks} blocks only (raise --per-account)`);
    rows.push({ target, mode, limit, result });
    console.log(`${mode}: ${result.submitted} submitted, ${result.included} included in ${result.loadedBlocks} blocks, ${result.finalized} finalized, ${dropped} dropped; ${result.perBlock.mean.toFixed(0)} per block (max ${result.perBlock.max}), ${result.finalizedTps.toFixed(0)} finalized TPS`);
  }
  await api.disconnect();
  await Promise.all(submitters.slice(1).map((other) => other.disconnect()));
  await Promise.all(nodes.map((node) => node.stop()));
  running = [];
}

const ms = (value) => (Number.isFinite(value) ? (value / 1000).toFixed(1) : '-');
table('Load (per block: mean over the loaded blocks between the first and the last; limits per block from the weight each\n'
  + 'extrinsic declares before dispatch and from the weight the loaded blocks actually used; latencies in seconds from\n'
  + 'submission: in full blocks (normal weight near 100 %) they include the wait in the queue)',
  ['target', 'mode', 'blocks', 'incl/block', 'max', 'limit: declared', 'actual weight', 'normal weight %', 'fin TPS', 'incl p50', 'p95', 'fin p50', 'p95', 'dropped'],
  rows.map(({ target, mode, limit, result }) => [
    target, mode, result.loadedBlocks, result.perBlock.mean.toFixed(0), result.perBlock.max, limit.byWeight,
    Math.floor((result.perBlock.mean * 100) / result.perBlock.weightPercent),
    result.perBlock.weightPercent.toFixed(1), result.finalizedTps.toFixed(0),
    ms(result.inclusion.p50), ms(result.inclusion.p95), ms(result.finality.p50), ms(result.finality.p95),
    result.rejected.length + result.notIncluded + (result.included - result.finalized),
  ]));
for (const target of new Set(rows.map((row) => row.target))) {
  const of = (mode) => rows.find((row) => row.target === target && row.mode === mode)?.result.perBlock.mean;
  const ratio = of('demand') / of('transfer');
  // Only full blocks say what the chain holds; below that both modes carry what was sent.
  const full = ['demand', 'transfer'].every((mode) => (rows.find((row) => row.target === target && row.mode === mode)?.result.perBlock.weightPercent ?? 0) >= 90);
  if (Number.isFinite(ratio)) {
    console.log(`${target}: submit_demand / transfers per block = ${ratio.toFixed(2)} (goal ≥ 0.8)`
      + (full ? '' : ': blocks were not full, so this is the load sent, not what the chain holds (raise --in-flight)'));
  }
}
if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}\nlogs in ${dir}`);
  process.exit(1);
}
if (!options.keep) rmSync(dir, { recursive: true, force: true });
process.exit(0);
