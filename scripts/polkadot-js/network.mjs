// scripts/network: the `local` chain's four validators on 127.0.0.1 (see that script's header).

import { parseArgs } from 'node:util';
import { Network, sleep } from './lib/network.mjs';

const { values: options } = parseArgs({
  options: {
    node: { type: 'string' },
    dir: { type: 'string' },
    'rpc-port': { type: 'string', default: '9945' },
    'p2p-port': { type: 'string', default: '30345' },
    time: { type: 'string' },
  },
});

const network = new Network({
  binary: options.node,
  dir: options.dir,
  rpcBase: Number(options['rpc-port']),
  p2pBase: Number(options['p2p-port']),
});

let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log('stopping the validators …');
  await network.stop();
  console.log(`stopped; the chain stays in ${options.dir} (--fresh starts again from genesis)`);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => shutdown(0));

network.start();
console.log(`starting ${network.validators.map((v) => v.name).join(', ')} in ${options.dir}`);
try {
  const statuses = await network.waitFor({ beyond: 0, timeoutMs: 180_000 });
  console.log(`every validator has ${Math.min(...statuses.map((s) => s.peers))} peers and finality advances`);
} catch (error) {
  console.error(`error: ${error.message}`);
  for (const validator of network.validators) console.error(`--- ${validator.name} (${validator.logFile}):\n${validator.tail(8)}`);
  await shutdown(1);
}
console.log('JSON-RPC endpoints (Polkadot.js Apps: Settings → custom endpoint):');
for (const validator of network.validators) {
  console.log(`  ${validator.name.padEnd(8)} ${validator.wsUrl}   log ${validator.logFile}`);
}

const until = options.time ? Date.now() + Number(options.time) * 1000 : Infinity;
while (Date.now() < until) {
  const statuses = await network.statuses();
  const line = network.validators.map((validator, i) => {
    const s = statuses[i];
    return `${validator.name} ${s ? `#${s.best} fin #${s.finalized} ${s.peers}p` : 'down'}`;
  });
  console.log(`${new Date().toISOString().slice(11, 19)}  ${line.join(' | ')}`);
  for (const validator of network.validators) {
    if (!validator.running) {
      console.error(`${validator.name} exited (${JSON.stringify(validator.exited)}):\n${validator.tail(10)}`);
      await shutdown(1);
    }
  }
  await sleep(6_000);
}
await shutdown(0);
