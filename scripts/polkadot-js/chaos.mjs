// scripts/chaos: fault scenarios against the four-validator network (see that script's header).
// Prints one table per scenario and exits non-zero if any check fails.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from './lib/node.mjs';
import { Network, equivocations, hashAt, sleep } from './lib/network.mjs';

const { values: options } = parseArgs({
  options: {
    node: { type: 'string' },
    kills: { type: 'string', default: '10' },
    scenarios: { type: 'string', default: 'kill-one,kill-two' },
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

function table(title, header, rows) {
  console.log(`\n${title}`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
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

const dir = mkdtempSync(join(tmpdir(), 'equilibrium-chaos-'));
// Eight distinct free ports (the OS picks them; a port is held only while it is probed).
const ports = [];
while (ports.length < 8) {
  const port = await freePort();
  if (!ports.includes(port)) ports.push(port);
}
const network = new Network({ binary: options.node, dir, rpcPorts: ports.slice(0, 4), p2pPorts: ports.slice(4) });
let exitCode = 0;
const started = Date.now();
try {
  network.start();
  await network.waitFor({ beyond: 1, timeoutMs: 180_000 });
  console.log(`network up in ${seconds(Date.now() - started)} s: ${network.validators.map((v) => `${v.name} ${v.wsUrl}`).join(', ')}`);
  const scenarios = options.short ? ['kill-one'] : options.scenarios.split(',');
  for (const scenario of scenarios) {
    if (scenario === 'kill-one') await killOne(network, options.short ? 1 : Number(options.kills));
    else if (scenario === 'kill-two') await killTwo(network);
    else throw new Error(`unknown scenario ${scenario}`);
  }
  const { checked, different } = await checkFinalizedKept(network);
  console.log(`\nfinalized heads reported during the run: ${checked} checked on every validator, ${different} different`);
  const equivocating = network.validators.flatMap((v) => equivocations(v.log()).map((line) => `${v.name}: ${line}`));
  check(equivocating.length === 0, `equivocations in the logs:\n${equivocating.join('\n')}`);
  console.log(`equivocations in the logs: ${equivocating.length}`);
} catch (error) {
  failures.push(error.message);
} finally {
  await network.stop();
}
if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  for (const validator of network.validators) console.error(`--- ${validator.name} (${validator.logFile}):\n${validator.tail(15)}`);
  exitCode = 1;
  console.error(`logs kept in ${dir}`);
} else {
  console.log(`\nall checks passed in ${seconds(Date.now() - started)} s`);
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
