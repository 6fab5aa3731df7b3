// scripts/chaos: fault scenarios against the four-validator network (see that script's header).
// Prints one table per scenario and exits non-zero if any check fails.

import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { POOL_ARGS, loadAccounts, loadChainSpec, presign } from './lib/load.mjs';
import { Network, Validator, distinctPorts, equivocations, hashAt, rpc, sleep, table } from './lib/network.mjs';

const { values: options } = parseArgs({
  options: {
    node: { type: 'string' },
    kills: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: 'kill-one,kill-two,faults' },
    short: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});

// A small deterministic generator, so that a run can be repeated with --seed.
let state = BigInt(options.seed) || 1n;
function random() {
  state ^= (state << 13n) & 0xffffffffffffffffn;
  state ^= state >> 7n;
  state ^= (state << 17n) & 0xffffffffffffffffn;
  return Number(state % 1_000_000n) / 1_000_000;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
  return ok;
}

const seconds = (ms) => (ms / 1000).toFixed(1);

/** Waits until `predicate(statuses)` holds for the given validators; returns ms waited or null. */
async function until(validators, predicate, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const statuses = await Promise.all(validators.map((v) => v.status()));
    if (statuses.every((s) => s !== null) && predicate(statuses)) return Date.now() - started;
    await sleep(500);
  }
  return null;
}

/**
 * The finalized heads a validator reported, by height: after a restart, the hash at each of them
 * must be the same (a finalized block is never reverted).
 */
const finalizedSeen = new Map(); // name → Map(height → hash)
async function recordFinalized(validators) {
  for (const validator of validators) {
    const s = await validator.status();
    if (!s) continue;
    if (!finalizedSeen.has(validator.name)) finalizedSeen.set(validator.name, new Map());
    finalizedSeen.get(validator.name).set(s.finalized, s.finalizedHash);
  }
}

/** Checks every finalized head each validator ever reported against its chain and Alice's. */
async function checkFinalizedKept(network) {
  let checked = 0;
  let different = 0;
  for (const [name, heads] of finalizedSeen) {
    const validator = network.byName(name);
    for (const [height, hash] of heads) {
      const now = await hashAt(validator.url, height).catch(() => null);
      const others = await Promise.all(network.validators.map((v) => hashAt(v.url, height).catch(() => null)));
      checked += 1;
      if (now !== hash || others.some((other) => other !== null && other !== hash)) {
        different += 1;
        check(false, `${name} finalized #${height} as ${hash}, now ${now}, others ${others.join(' ')}`);
      }
    }
  }
  return { checked, different };
}

async function killOne(network, rounds) {
  const rows = [];
  for (let round = 1; round <= rounds; round += 1) {
    const victim = pick(network.validators);
    const survivors = network.validators.filter((v) => v !== victim);
    await recordFinalized(network.validators);
    const delay = Math.floor(random() * 12_000);
    await sleep(delay);
    const before = await victim.status();
    await recordFinalized([victim]);
    await victim.kill();
    const killedAt = Date.now();
    const survivorStatus = await Promise.all(survivors.map((v) => v.status()));
    const finalizedAtKill = Math.max(before?.finalized ?? 0, ...survivorStatus.map((s) => s?.finalized ?? 0));
    // Finality goes on without the victim: two more blocks finalized on every survivor.
    const advanced = await until(survivors, (all) => all.every((s) => s.finalized >= finalizedAtKill + 2), 90_000);
    check(advanced !== null, `round ${round}: finality did not advance on the other three with ${victim.name} down`);
    await recordFinalized(survivors);
    // Restart on the same base path; it must catch up with what the others have finalized.
    const target = Math.max(...(await Promise.all(survivors.map((v) => v.status()))).map((s) => s?.finalized ?? 0));
    const downMs = Date.now() - killedAt;
    victim.start();
    const caughtUp = await until([victim], ([s]) => s.finalized >= target && s.peers >= 1, 120_000);
    check(caughtUp !== null, `round ${round}: ${victim.name} did not catch up to #${target} after its restart`);
    check(victim.running, `round ${round}: ${victim.name} exited after its restart: ${JSON.stringify(victim.exited)}`);
    const after = await victim.status();
    const kept = before ? (await hashAt(victim.url, before.finalized).catch(() => null)) === before.finalizedHash : false;
    check(kept, `round ${round}: ${victim.name} reports another hash at its finalized #${before?.finalized}`);
    rows.push([
      round, victim.name, seconds(delay), before ? `#${before.best}/#${before.finalized}` : '-',
      advanced === null ? 'NO' : seconds(advanced), seconds(downMs),
      caughtUp === null ? 'NO' : seconds(caughtUp), after ? `#${after.finalized}` : '-', kept ? 'same' : 'DIFFERENT',
    ]);
  }
  table(`SIGKILL one validator of four, ${rounds} times (seconds)`,
    ['round', 'killed', 'after', 'best/fin at kill', 'others +2 fin', 'down', 'caught up', 'fin now', 'its fin head'], rows);
}

async function killTwo(network) {
  const rows = [];
  const a = pick(network.validators);
  const second = pick(network.validators.filter((v) => v !== a));
  const survivors = network.validators.filter((v) => v !== a && v !== second);
  await recordFinalized(network.validators);
  await Promise.all([a.kill(), second.kill()]);
  // A vote round under way may still complete: let it settle, then watch for 30 s.
  await sleep(8_000);
  const start = await Promise.all(survivors.map((v) => v.status()));
  await sleep(30_000);
  const end = await Promise.all(survivors.map((v) => v.status()));
  const stalled = start.every((s, i) => s && end[i] && end[i].finalized === s.finalized);
  const bestMoved = start.some((s, i) => s && end[i] && end[i].best > s.best);
  check(stalled, `two of four down: finality advanced (${start.map((s) => s?.finalized)} → ${end.map((s) => s?.finalized)})`);
  rows.push(['two down (30 s)', `${a.name}+${second.name}`, `fin ${start.map((s) => s?.finalized).join('/')} → ${end.map((s) => s?.finalized).join('/')}`,
    stalled ? 'stopped' : 'ADVANCED', bestMoved ? 'best went on' : 'best stopped']);
  await recordFinalized(survivors);
  // One returns: three of four again, finality resumes.
  const stalledAt = Math.max(...end.map((s) => s?.finalized ?? 0));
  a.start();
  const resumed = await until([...survivors, a], (all) => all.every((s) => s.finalized > stalledAt), 180_000);
  check(resumed !== null, `finality did not resume after ${a.name} returned`);
  rows.push(['one returns', a.name, `resumed beyond #${stalledAt}`, resumed === null ? 'NO' : `${seconds(resumed)} s`, '']);
  second.start();
  const all = await until(network.validators, (statuses) => statuses.every((s) => s.finalized > stalledAt + 1 && s.peers >= 3), 180_000);
  check(all !== null, 'the network did not recover all four validators');
  rows.push(['both back', second.name, 'all four finalizing', all === null ? 'NO' : `${seconds(all)} s`, '']);
  table('SIGKILL two validators of four', ['step', 'who', 'finalized', 'finality', 'best blocks'], rows);
}

/** The first line of a node's log since `offset` that says what went wrong, or null. */
function firstError(validator, offset) {
  const line = validator.log().slice(offset).split('\n')
    .find((l) => /error|panicked|No space|below threshold|corrupt|Essential task|Failed|will not/i.test(l) && !/API-WS/.test(l));
  return line ? line.replace(/^\S+ \S+\s+/, '').replace(/`\/[^`]*`/g, '`…`').trim() : null;
}

/** Whether `validator` authored a block since `offset` in its log. */
const authoredSince = (validator, offset) => /Pre-sealed block for proposal|Prepared block for proposing/.test(validator.log().slice(offset));

/**
 * One faulty start of `victim` (`args` replace its normal arguments; `prepare` runs while it is
 * down, `during` once it has started). Watches it for `watchMs`: the other three must finalize two
 * more blocks, and nothing finalized may change; its log must say what went wrong (`expect`
 * matches the first error). Then `repair` runs and `victim` restarts normally and must catch up.
 * Returns a table row.
 */
async function fault(network, victim, name, { args, prepare = () => {}, during = () => {}, repair = () => {}, expect, watchMs = 30_000 }) {
  const others = network.validators.filter((v) => v !== victim);
  await recordFinalized(network.validators);
  await victim.stop();
  await prepare();
  const offset = victim.log().length;
  const before = Math.max(...(await Promise.all(others.map((v) => v.status()))).map((s) => s?.finalized ?? 0));
  victim.start(args);
  const started = Date.now();
  await during();
  await sleep(Math.max(0, watchMs - (Date.now() - started)));
  const after = await Promise.all(others.map((v) => v.status()));
  const advanced = after.every((s) => s && s.finalized >= before + 2);
  check(advanced, `${name}: the other three did not keep finalizing (#${before} → ${after.map((s) => s?.finalized)})`);
  const own = await victim.status();
  const behaviour = !victim.running
    ? `exited (${victim.exited.signal ?? `code ${victim.exited.code}`})`
    : `running, finalized #${own?.finalized ?? '?'}${authoredSince(victim, offset) ? ', authoring' : ', not authoring'}`;
  const fullError = firstError(victim, offset) ?? '(no error logged)';
  check(!expect || expect.test(fullError), `${name}: expected an error matching ${expect} in ${victim.name}'s log, found: ${fullError}`);
  const error = fullError.slice(0, 110);
  await victim.stop();
  await repair();
  await recordFinalized(others);
  const target = Math.max(...(await Promise.all(others.map((v) => v.status()))).map((s) => s?.finalized ?? 0));
  victim.start();
  const caughtUp = await until([victim], ([s]) => s.finalized >= target && s.peers >= 1, 180_000);
  check(caughtUp !== null, `${name}: ${victim.name} did not catch up after the repair`);
  return [name, victim.name, behaviour, error, advanced ? 'yes' : 'NO', caughtUp === null ? 'NO' : `${seconds(caughtUp)} s`];
}

/** The database directory of a validator (ParityDb). */
const databaseOf = (validator) => {
  const chains = join(validator.basePath, 'chains');
  const [chain] = readdirSync(chains);
  return join(chains, chain, 'paritydb');
};

async function faults(network) {
  const rows = [];
  const victim = network.validators.at(-1);
  const normal = victim.arguments();
  // Another validator's name flag: the keys of a development account that is no authority.
  const noAuthorityKey = /keystore holds none of the/;
  rows.push(await fault(network, victim, 'wrong key (--eve)', { args: normal.map((a) => (a === `--${victim.name}` ? '--eve' : a)), expect: noAuthorityKey }));
  rows.push(await fault(network, victim, 'no key (--validator)', { args: normal.map((a) => (a === `--${victim.name}` ? '--validator' : a)), expect: noAuthorityKey }));
  // Corrupt the database: overwrite 64 KiB in the middle of every data file (not the lock or the
  // metadata, whose damage only shows as a parse error).
  rows.push(await fault(network, victim, 'corrupted database', {
    prepare: () => {
      const db = join(databaseOf(victim), 'full');
      for (const file of readdirSync(db).filter((f) => f !== 'lock' && f !== 'metadata')) {
        const size = statSync(join(db, file)).size;
        if (size === 0) continue;
        const fd = openSync(join(db, file), 'r+');
        const garbage = Buffer.alloc(Math.min(65_536, size), 0xa5);
        writeSync(fd, garbage, 0, garbage.length, Math.floor(size / 2) - Math.floor(garbage.length / 2));
        closeSync(fd);
      }
    },
    // The operator's remedy: drop the database and sync again from the others.
    repair: () => rmSync(databaseOf(victim), { recursive: true, force: true }),
  }));
  // A full disk: the base path copied onto a small tmpfs that fills up while the node runs. The
  // node watches its database's free space (--db-storage-threshold, 1024 MiB by default; 64 here
  // for a 512 MiB disk) and must stop with an error before a write fails.
  const mount = join(network.dir, 'full-disk');
  let mounted = false;
  try {
    mkdirSync(mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', mount], { stdio: 'ignore' });
    mounted = true;
  } catch {
    rows.push(['full disk', victim.name, 'skipped: mounting a tmpfs needs root', '', '', '']);
  }
  if (mounted) {
    const basePath = join(mount, victim.name);
    rows.push(await fault(network, victim, 'full disk (tmpfs)', {
      args: [...normal.map((a) => (a === victim.basePath ? basePath : a)),
        '--db-storage-threshold', '64', '--db-storage-polling-period', '1'],
      // ParityDb's index files are sparse: copy them as such.
      prepare: () => execFileSync('cp', ['-a', '--sparse=always', victim.basePath, basePath]),
      // Once it runs, fill the disk to 32 MiB short of full.
      during: async () => {
        await sleep(8_000);
        const { bavail, bsize } = statfsSync(mount);
        const fill = bavail * bsize - 32 * 1024 * 1024;
        if (fill > 0) execFileSync('fallocate', ['-l', String(fill), join(mount, 'filler')]);
      },
      expect: /below threshold/,
      repair: () => {
        execFileSync('umount', [mount]);
        mounted = false;
      },
    }));
    if (mounted) execFileSync('umount', [mount]);
  }
  table('Faults on one validator of four (the other three must keep finalizing)',
    ['fault', 'node', 'behaviour', 'first error in its log', 'others finalize', 'catch-up after repair'], rows);
}

/**
 * The single development node under transfer load, SIGKILLed `rounds` times at a random moment
 * and restarted on its database each time.
 */
async function devKill(rounds) {
  const devDir = join(dir, 'dev');
  mkdirSync(devDir, { recursive: true });
  const pairs = await loadAccounts(200);
  const spec = loadChainSpec(options.node, 'dev', pairs, devDir);
  const [rpcPort, p2pPort] = await distinctPorts(2);
  const node = new Validator({ name: 'dev', binary: options.node, chainSpec: spec, dir: devDir, p2pPort, rpcPort, bootnodes: [] });
  node.prepareKey();
  const args = ['--chain', spec, '--alice', '--validator', '--force-authoring', '--base-path', node.basePath,
    '--node-key-file', node.nodeKeyFile, '--rpc-port', String(rpcPort), '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-mdns', '--no-prometheus', '--no-telemetry', ...POOL_ARGS];
  devNode = node;
  const rows = [];
  let totalLost = 0;
  for (let round = 1; round <= rounds; round += 1) {
    node.start(args);
    const up = await until([node], ([s]) => s.best >= 1, 120_000);
    if (!check(up !== null, `dev-kill round ${round}: the node did not come back:\n${node.tail(10)}`)) break;
    // Load: 200 accounts, 10 transfers each, signed from their current nonces.
    const provider = new WsProvider(node.wsUrl, false);
    await provider.connect();
    const api = await ApiPromise.create({ provider, noInitWarn: true });
    const signed = await presign(api, pairs, 10, (i) => ({ tx: api.tx.balances.transferKeepAlive(pairs[(i + 1) % pairs.length].address, 1n), kind: 'transfer' }));
    await Promise.all(signed.map(({ hex }) => rpc(node.url, 'author_submitExtrinsic', [hex]).catch(() => null)));
    await api.disconnect();
    await sleep(3_000 + Math.floor(random() * 9_000));
    const before = await node.status();
    const tail = [];
    for (let n = Math.max(1, before.finalized - 2); n <= before.best; n += 1) tail.push([n, await hashAt(node.url, n)]);
    const loadInTail = (await rpc(node.url, 'chain_getBlock', [tail.at(-1)[1]])).block.extrinsics.length - 1;
    await node.kill();
    node.start(args);
    const back = await until([node], () => true, 120_000);
    check(back !== null, `dev-kill round ${round}: the node did not restart on its database:\n${node.tail(10)}`);
    const after = await node.status();
    // The highest block of the old tail the restarted node still has, with the same hash.
    let kept = 0;
    for (const [n, hash] of tail) {
      if ((await hashAt(node.url, n).catch(() => null)) === hash) kept = n;
    }
    const finalizedKept = (await hashAt(node.url, before.finalized).catch(() => null)) === before.finalizedHash && after.finalized >= before.finalized;
    check(finalizedKept, `dev-kill round ${round}: finalized #${before.finalized} lost or changed`);
    const lost = before.best - kept;
    totalLost += lost;
    // It goes on producing blocks.
    const moving = await until([node], ([s]) => s.best > Math.max(before.best, after.best), 60_000);
    check(moving !== null, `dev-kill round ${round}: no new block after the restart`);
    rows.push([round, `#${before.best}/#${before.finalized}`, loadInTail, `#${after.best}/#${after.finalized}`, lost, finalizedKept ? 'kept' : 'LOST', moving === null ? 'NO' : `${seconds(moving)} s`]);
    await node.stop();
  }
  devNode = null;
  table(`SIGKILL the development node under load, ${rounds} times`,
    ['round', 'best/fin at kill', 'load in best', 'best/fin after restart', 'blocks lost', 'finalized', 'next block'], rows);
  console.log(`unfinalized blocks lost in all: ${totalLost}`);
}

let devNode = null;
const dir = mkdtempSync(join(tmpdir(), 'equilibrium-chaos-'));
const ports = await distinctPorts(8);
const network = new Network({ binary: options.node, dir, rpcPorts: ports.slice(0, 4), p2pPorts: ports.slice(4) });
let exitCode = 0;
const started = Date.now();
try {
  const scenarios = options.short ? ['kill-one'] : options.scenarios.split(',');
  if (scenarios.some((scenario) => scenario !== 'dev-kill')) {
    network.start();
    await network.waitFor({ beyond: 1, timeoutMs: 180_000 });
    console.log(`network up in ${seconds(Date.now() - started)} s: ${network.validators.map((v) => `${v.name} ${v.wsUrl}`).join(', ')}`);
  }
  for (const scenario of scenarios) {
    if (scenario === 'kill-one') await killOne(network, options.short ? 1 : Number(options.kills));
    else if (scenario === 'kill-two') await killTwo(network);
    else if (scenario === 'faults') await faults(network);
    else if (scenario === 'dev-kill') await devKill(Number(options.kills));
    else throw new Error(`unknown scenario ${scenario}`);
  }
  const { checked, different } = network.validators.some((v) => v.running) ? await checkFinalizedKept(network) : { checked: 0, different: 0 };
  console.log(`\nfinalized heads reported during the run: ${checked} checked on every validator, ${different} different`);
  const equivocating = network.validators.flatMap((v) => equivocations(v.log()).map((line) => `${v.name}: ${line}`));
  check(equivocating.length === 0, `equivocations in the logs:\n${equivocating.join('\n')}`);
  console.log(`equivocations in the logs: ${equivocating.length}`);
} catch (error) {
  failures.push(error.message);
} finally {
  await network.stop();
  if (devNode) await devNode.stop();
}
if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  for (const validator of network.validators) {
    if (validator.starts > 0) console.error(`--- ${validator.name} (${validator.logFile}):\n${validator.tail(15)}`);
  }
  exitCode = 1;
  console.error(`logs kept in ${dir}`);
} else {
  console.log(`\nall checks passed in ${seconds(Date.now() - started)} s`);
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
