// A network of validators on 127.0.0.1: the `local` chain's four validators (Alice, Bob, Charlie,
// Dave), each with its own ports, node key and base path, and the JSON-RPC calls that watch it.
// Used by scripts/network (a network to use), scripts/chaos (faults) and scripts/load.

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './node.mjs';

/** The validators of the `local` chain, in the order of its genesis (`LOCAL_TESTNET_VALIDATORS`). */
export const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One JSON-RPC call over HTTP; rejects on an RPC error or after `timeoutMs`. */
export async function rpc(url, method, params = [], timeoutMs = 5_000) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 1, jsonrpc: '2.0', method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** What a node reports: peers, best and finalized numbers, and the finalized hash. */
export async function status(url) {
  const [health, best, finalizedHash] = await Promise.all([
    rpc(url, 'system_health'),
    rpc(url, 'chain_getHeader'),
    rpc(url, 'chain_getFinalizedHead'),
  ]);
  const finalized = await rpc(url, 'chain_getHeader', [finalizedHash]);
  return {
    peers: health.peers,
    syncing: health.isSyncing,
    best: parseInt(best.number, 16),
    finalized: parseInt(finalized.number, 16),
    finalizedHash,
  };
}

/** `status(url)`, or null if the node does not answer. */
export async function tryStatus(url) {
  try {
    return await status(url);
  } catch {
    return null;
  }
}

/** The canonical hash at `height` on the node at `url`, or null. */
export async function hashAt(url, height) {
  return rpc(url, 'chain_getBlockHash', [height]);
}

/**
 * A validator of the network: a node process that can be started, killed and restarted on the
 * same base path.
 */
export class Validator {
  constructor({ name, binary, chainSpec, dir, p2pPort, rpcPort, bootnodes, extraArgs = [] }) {
    Object.assign(this, { name, binary, chainSpec, dir, p2pPort, rpcPort, bootnodes, extraArgs });
    this.basePath = join(dir, name);
    this.logFile = join(dir, `${name}.log`);
    this.url = `http://127.0.0.1:${rpcPort}`;
    this.wsUrl = `ws://127.0.0.1:${rpcPort}`;
    this.child = null;
    this.exited = null;
    this.starts = 0;
    /** Extra arguments for the next start only (fault scenarios). */
    this.nextArgs = null;
  }

  /** The node key (deterministic, so the peer id and the bootnode addresses stay the same). */
  get nodeKeyFile() {
    return join(this.dir, `${this.name}.node-key`);
  }

  /** Writes the node key and returns the peer id. */
  prepareKey() {
    if (!existsSync(this.nodeKeyFile)) {
      const secret = createHash('sha256').update(`contract-equilibrium local network ${this.name}`).digest('hex');
      writeFileSync(this.nodeKeyFile, secret);
    }
    this.peerId = execFileSync(this.binary, ['key', 'inspect-node-key', '--file', this.nodeKeyFile], {
      encoding: 'utf8',
    }).trim();
    return this.peerId;
  }

  /** The address other nodes dial. */
  get multiaddr() {
    return `/ip4/127.0.0.1/tcp/${this.p2pPort}/p2p/${this.peerId}`;
  }

  /** The arguments of a normal start: the validator's key, its ports, the others as bootnodes. */
  arguments() {
    return [
      '--chain', this.chainSpec,
      '--base-path', this.basePath,
      `--${this.name}`,
      '--node-key-file', this.nodeKeyFile,
      '--listen-addr', `/ip4/127.0.0.1/tcp/${this.p2pPort}`,
      '--rpc-port', String(this.rpcPort),
      '--rpc-cors', 'all',
      '--no-mdns', '--no-prometheus', '--no-telemetry', '--allow-private-ip',
      ...this.bootnodes.flatMap((address) => ['--bootnodes', address]),
      ...this.extraArgs,
    ];
  }

  /** Starts the node (appending to its log). `args` replaces the normal arguments if given. */
  start(args = this.nextArgs ?? this.arguments()) {
    this.nextArgs = null;
    mkdirSync(this.basePath, { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n===== start ${++this.starts} at ${new Date().toISOString()}: ${args.join(' ')}\n`);
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Both streams into one log, which closes once the process has exited.
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    this.exited = null;
    this.child = child;
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        log.end();
        resolve(this.exited);
      });
    });
    return this;
  }

  get running() {
    return this.child !== null && this.exited === null;
  }

  /** SIGKILL (a machine losing power, as far as the node can tell) and wait for the exit. */
  async kill() {
    if (!this.running) return this.exited;
    this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000) {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const exited = await this.exitPromise;
    clearTimeout(timer);
    return exited;
  }

  /** Synchronous SIGKILL for exit handlers. */
  killNow() {
    if (this.running) {
      try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  /** The node's log so far. */
  log() {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 20) {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  status() {
    return tryStatus(this.url);
  }
}

/**
 * The four-validator network in `dir`: writes the raw `local` chain spec (once, unless
 * `chainSpec` names one) and the node
 * keys, and knows each validator's ports: p2p `p2pPorts[i]` and RPC `rpcPorts[i]`, or
 * `p2pBase + i` and `rpcBase + i`.
 */
export class Network {
  constructor({ binary, dir, p2pBase, rpcBase, p2pPorts, rpcPorts, chainSpec, extraArgs = [], names = VALIDATORS }) {
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.chainSpec = chainSpec ?? join(dir, 'local-raw.json');
    if (!existsSync(this.chainSpec)) {
      const spec = execFileSync(binary, ['build-spec', '--chain', 'local', '--raw', '--disable-default-bootnode'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      writeFileSync(this.chainSpec, spec);
    }
    this.validators = names.map((name, i) => new Validator({
      name,
      binary,
      chainSpec: this.chainSpec,
      dir,
      p2pPort: p2pPorts ? p2pPorts[i] : p2pBase + i,
      rpcPort: rpcPorts ? rpcPorts[i] : rpcBase + i,
      bootnodes: [],
      extraArgs,
    }));
    for (const validator of this.validators) validator.prepareKey();
    for (const validator of this.validators) {
      validator.bootnodes = this.validators.filter((other) => other !== validator).map((other) => other.multiaddr);
    }
    process.on('exit', () => this.killNow());
  }

  byName(name) {
    return this.validators.find((validator) => validator.name === name);
  }

  start() {
    for (const validator of this.validators) validator.start();
  }

  async stop() {
    await Promise.all(this.validators.map((validator) => validator.stop()));
  }

  killNow() {
    for (const validator of this.validators) validator.killNow();
  }

  /** Every validator's status (null for one that does not answer). */
  statuses() {
    return Promise.all(this.validators.map((validator) => validator.status()));
  }

  /**
   * Waits until every running validator (or those in `among`) has `peers` peers and their
   * finalized height has advanced past `beyond`; returns their statuses. Throws after
   * `timeoutMs`, naming what was missing.
   */
  async waitFor({ among = this.validators.filter((v) => v.running), peers = among.length - 1, beyond = 0, timeoutMs = 120_000 }) {
    const deadline = Date.now() + timeoutMs;
    let last = [];
    while (Date.now() < deadline) {
      const gone = among.find((validator) => validator.child !== null && !validator.running);
      if (gone) throw new Error(`${gone.name} exited (${JSON.stringify(gone.exited)}):\n${gone.tail(10)}`);
      last = await Promise.all(among.map((validator) => validator.status()));
      if (last.every((s) => s && s.peers >= peers && s.finalized > beyond)) return last;
      await sleep(1_000);
    }
    const seen = among.map((v, i) => `${v.name}: ${last[i] ? `${last[i].peers} peers, finalized #${last[i].finalized}` : 'no answer'}`);
    throw new Error(`within ${timeoutMs / 1000} s the network did not reach ${peers} peers each and finality beyond #${beyond} (${seen.join('; ')})`);
  }
}

/** Lines of a node's log that report an equivocation (a validator signing two blocks or votes). */
export function equivocations(log) {
  return log.split('\n').filter((line) => /equivocat/i.test(line));
}

/** `count` distinct free TCP ports on 127.0.0.1 (the OS picks each; held only while probed). */
export async function distinctPorts(count) {
  const ports = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  return ports;
}

/** Prints a titled table with aligned columns. */
export function table(title, header, rows) {
  console.log(`\n${title}`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
