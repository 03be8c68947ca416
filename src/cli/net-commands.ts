/**
 * The real-network commands, as yargs command modules for the CLI to
 * register: `desim node`, `desim kv put|get|del|members|stats`, `desim cluster`.
 *
 * Only the handlers read the process (argv, signals), write to stdout and
 * stderr and set exit codes. Exit codes: 0 success; 1 `kv get` found nothing
 * (or a node failed: state file or port unusable, or its last save at
 * shutdown failed); 2 bad arguments, or a data file locked by another live
 * node; 3 no reply from the node; 4 the node answered with an error (a
 * refused write, an ack timeout).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { count } from '../io/count.js';
import { REAL_NODE_RUMOR_BUDGET } from '../protocols/gossip/config.js';
import { PRESET_NAMES, type PresetName } from '../protocols/gossip/presets.js';
import type { Value } from '../protocols/gossip/store.js';
import type { KvAck } from '../protocols/gossip/wire.js';
import { AddressError, formatAddress, parseAddress, parseAddressList, type UdpAddress } from '../transport/address.js';
import { nodeName, startCluster } from '../transport/cluster.js';
import { gossipConfigFromCli, startGossipNode, type RunningGossipNode } from '../transport/gossip-udp.js';
import { KvClient, KvRemoteError, KvRequestError, KvTimeoutError } from '../transport/kv-client.js';
import { Keyring, KeyFileError } from '../transport/envelope.js';
import { DataLockedError, PersistError } from '../transport/persist.js';
import { DataPathError } from '../transport/persist-error.js';
import type { HostLogEvent } from '../transport/udp-host.js';
import { DEFAULT_SWIM_CONFIG, type SwimConfig } from '../protocols/swim/config.js';
import { NS_PER_MS } from '../protocols/sans-io.js';
import { DEFAULT_MAX_MEMBERS, MAX_MAX_MEMBERS } from '../transport/swim-udp.js';
import type { MemberRow } from '../transport/swim-wire.js';
import { numberFlag, UsageError } from './flags.js';

/** Exit codes of the real-network commands. */
export const EXIT = { ok: 0, notFound: 1, failed: 1, usage: 2, noReply: 3, remoteError: 4 } as const;

function fail(message: string, code: number): never {
  process.stderr.write(`desim: ${message}\n`);
  process.exit(code);
}

function positiveMs(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a number of milliseconds > 0, got ${v}`);
  return v;
}

function address(text: string, option: string): UdpAddress {
  try {
    return parseAddress(text);
  } catch (err) {
    throw new UsageError(`--${option}: ${(err as Error).message}`);
  }
}

/** Runs a handler body, turning usage errors into exit code 2 and other known errors into their codes. */
async function guarded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof AddressError ||
      err instanceof KvRequestError ||
      err instanceof RangeError ||
      err instanceof KeyFileError
    ) {
      fail(err.message, EXIT.usage);
    }
    if (err instanceof DataLockedError || err instanceof DataPathError) fail(err.message, EXIT.usage);
    if (err instanceof PersistError) fail(err.message, EXIT.failed);
    if (err instanceof KvTimeoutError) fail(err.message, EXIT.noReply);
    if (err instanceof KvRemoteError) fail(`node error: ${err.message}`, EXIT.remoteError);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') fail(`cannot bind: ${(err as Error).message}`, EXIT.failed);
    throw err;
  }
}

// ---------------------------------------------------------------- node

interface NodeArgs {
  id: string;
  listen: string;
  peers: string;
  interval?: number | undefined;
  'anti-entropy'?: number | undefined;
  fanout?: number | undefined;
  preset: string;
  data?: string | undefined;
  seed?: string | undefined;
  verbose: boolean;
  'key-file'?: string | undefined;
  insecure: boolean;
  'max-ahead'?: number | undefined;
  'client-rate'?: number | undefined;
  'rumor-budget'?: number | undefined;
  join?: string | undefined;
  'probe-interval'?: number | undefined;
  'probe-timeout'?: number | undefined;
  'suspicion-mult'?: number | undefined;
  'max-members'?: number | undefined;
}

/** Range of `--probe-interval`, ms. */
export const PROBE_INTERVAL_RANGE_MS = [10, 600_000] as const;

/** The SWIM options of `desim node`, checked (usage errors name the flag and its range). */
export function swimOptionsFromCli(o: {
  probeIntervalMs?: number | undefined;
  probeTimeoutMs?: number | undefined;
  suspicionMult?: number | undefined;
  maxMembers?: number | undefined;
}): { swim: Partial<SwimConfig>; maxMembers: number } {
  const [lo, hi] = PROBE_INTERVAL_RANGE_MS;
  const interval = o.probeIntervalMs ?? DEFAULT_SWIM_CONFIG.probeIntervalNs / NS_PER_MS;
  if (!(Number.isInteger(interval) && interval >= lo && interval <= hi))
    throw new UsageError(`--probe-interval must be an integer number of ms in ${lo}..${hi}, got ${o.probeIntervalMs}`);
  const timeout = o.probeTimeoutMs ?? Math.max(1, Math.floor(interval / 2));
  if (!(Number.isInteger(timeout) && timeout >= 1 && timeout < interval))
    throw new UsageError(`--probe-timeout must be an integer number of ms in 1..${interval - 1} (below --probe-interval), got ${o.probeTimeoutMs}`);
  const mult = o.suspicionMult ?? DEFAULT_SWIM_CONFIG.suspicionMult;
  if (!(Number.isInteger(mult) && mult >= 1 && mult <= 1000))
    throw new UsageError(`--suspicion-mult must be an integer in 1..1000, got ${o.suspicionMult}`);
  const maxMembers = o.maxMembers ?? DEFAULT_MAX_MEMBERS;
  if (!(Number.isInteger(maxMembers) && maxMembers >= 2 && maxMembers <= MAX_MAX_MEMBERS))
    throw new UsageError(`--max-members must be an integer in 2..${MAX_MAX_MEMBERS}, got ${o.maxMembers}`);
  return { swim: { probeIntervalNs: interval * NS_PER_MS, probeTimeoutNs: timeout * NS_PER_MS, suspicionMult: mult }, maxMembers };
}

/** The keyring of `--key-file`, or undefined without the option. Throws {@link KeyFileError} (exit 2). */
function keyringOf(file: string | undefined): Keyring | undefined {
  return file === undefined ? undefined : Keyring.load(path.resolve(file));
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.');
}

function logLine(name: string, e: HostLogEvent): string {
  switch (e.kind) {
    case 'drop':
      return `[${name}] dropped datagram from ${e.from}: ${e.reason} (${e.detail})`;
    case 'error':
      return `[${name}] error in ${e.where}: ${e.detail}`;
    case 'trace':
      return `[${name}] ${e.name} ${JSON.stringify(e.data)}`;
  }
}

/** `desim node`: one gossip node on a real UDP socket. */
export const nodeCommand: CommandModule<object, NodeArgs> = {
  command: 'node',
  describe: 'Run one gossip key-value node on a real UDP socket (loopback demo: see `desim cluster`)',
  builder: (y: Argv<object>) =>
    y
      .option('id', { type: 'string', demandOption: true, describe: 'node name (A, B, ...), used in logs and the state file' })
      .option('listen', { type: 'string', demandOption: true, describe: 'address to bind, HOST:PORT (e.g. 127.0.0.1:5001)' })
      .option('peers', {
        type: 'string',
        default: '',
        describe: 'the other nodes, comma-separated HOST:PORT (every node must be given the same member set)',
      })
      .option('interval', numberFlag({ describe: "gossip round length, ms > 0 (default: the preset's, 1000)" }))
      .option('anti-entropy', numberFlag({ describe: 'anti-entropy period, ms > 0; 0 turns it off (default: 10 rounds)' }))
      .option('fanout', numberFlag({ describe: "peers contacted per round, an integer >= 1 (default: the preset's)" }))
      .option('preset', { type: 'string', choices: PRESET_NAMES, default: 'default', describe: 'gossip preset' })
      .option('data', {
        type: 'string',
        describe: 'state file FILE (with FILE.wal, the write-ahead log, and FILE.lock): writes are answered once on disk',
      })
      .option('seed', { type: 'string', describe: "seed of the node's random choices (default: random)" })
      .option('verbose', { type: 'boolean', default: false, describe: 'log every dropped datagram on stderr' })
      .option('key-file', {
        type: 'string',
        describe: 'keyring: one 32-byte key per line (hex or base64); the first seals, all open; reread on SIGHUP',
      })
      .option('insecure', { type: 'boolean', default: false, describe: 'allow --listen on a non-loopback address without --key-file' })
      .option(
        'client-rate',
        numberFlag({
          describe: 'client requests per second accepted from one source address, >= 0; 0 = unlimited (default 1000)',
        }),
      )
      .option('max-ahead', numberFlag({ describe: "drop versions stamped more than this many ms (> 0) ahead of this node's clock (default 500)" }))
      .option(
        'rumor-budget',
        numberFlag({
          describe: `rumor datagrams sent per peer and round (least sent, newest first; the rest wait), an integer in 0..1000000; 0 = no budget (default ${REAL_NODE_RUMOR_BUDGET})`,
        }),
      )
      .option('join', {
        type: 'string',
        describe: 'SWIM members to join through, comma-separated HOST:PORT; one is enough (the peers are tried too)',
      })
      .option(
        'probe-interval',
        numberFlag({
          describe: `SWIM protocol period T, ms: one probe per member per period (integer, ${PROBE_INTERVAL_RANGE_MS[0]}..${PROBE_INTERVAL_RANGE_MS[1]}; default 1000)`,
        }),
      )
      .option('probe-timeout', numberFlag({ describe: 'SWIM wait for a direct ack before indirect probes, ms (integer, 1..T-1; default T/2)' }))
      .option(
        'suspicion-mult',
        numberFlag({
          describe: 'a suspect is declared dead after suspicion-mult * max(1, log10 n) periods (integer, 1..1000; default 4)',
        }),
      )
      .option(
        'max-members',
        numberFlag({
          describe: `SWIM address book cap, this node included; at the cap new addresses are refused and counted (integer, 2..${MAX_MAX_MEMBERS}; default ${DEFAULT_MAX_MEMBERS})`,
        }),
      )
      .example('$0 node --id D --listen 127.0.0.1:5004 --join 127.0.0.1:5001', 'a fourth node that knows one member of the demo cluster')
      .example(
        '$0 node --id A --listen 127.0.0.1:5001 --peers 127.0.0.1:5002 --key-file cluster.key',
        'a node whose datagrams are sealed with AES-256-GCM',
      )
      .example('$0 node --id A --listen 127.0.0.1:5001 --peers 127.0.0.1:5002,127.0.0.1:5003', 'node A of the 3-node demo'),
  handler: (argv) =>
    guarded(async () => {
      const listen = address(argv.listen, 'listen');
      let peers: UdpAddress[];
      try {
        peers = parseAddressList(argv.peers);
      } catch (err) {
        throw new UsageError(`--peers: ${(err as Error).message}`);
      }
      if (argv.fanout !== undefined && (!Number.isInteger(argv.fanout) || argv.fanout < 1))
        throw new UsageError(`--fanout must be an integer >= 1, got ${argv.fanout}`);
      const budget = argv['rumor-budget'];
      if (budget !== undefined && !(Number.isInteger(budget) && budget >= 0 && budget <= 1_000_000)) {
        throw new UsageError(`--rumor-budget must be an integer in [0, 1000000] (0 = no budget), got ${budget}`);
      }
      const config = gossipConfigFromCli({
        rumorBudget: budget === 0 ? Infinity : budget,
        preset: argv.preset as PresetName,
        intervalMs: positiveMs('interval', argv.interval),
        antiEntropyMs: argv['anti-entropy'] === 0 ? 0 : positiveMs('anti-entropy', argv['anti-entropy']),
        fanout: argv.fanout,
        maxAheadMs: positiveMs('max-ahead', argv['max-ahead']),
      });
      let join: UdpAddress[];
      try {
        join = parseAddressList(argv.join ?? '');
      } catch (err) {
        throw new UsageError(`--join: ${(err as Error).message}`);
      }
      if (argv.join !== undefined && join.length === 0) throw new UsageError('--join: expected at least one HOST:PORT');
      const { swim, maxMembers } = swimOptionsFromCli({
        probeIntervalMs: argv['probe-interval'],
        probeTimeoutMs: argv['probe-timeout'],
        suspicionMult: argv['suspicion-mult'],
        maxMembers: argv['max-members'],
      });
      const clientRate = argv['client-rate'];
      if (clientRate !== undefined && !(Number.isFinite(clientRate) && clientRate >= 0))
        throw new UsageError(`--client-rate must be a number >= 0, got ${clientRate}`);
      const keyFile = argv['key-file'];
      const keyring = keyringOf(keyFile);
      if (keyring === undefined && !isLoopback(listen.host) && !argv.insecure) {
        throw new UsageError(
          `--listen ${formatAddress(listen)} is not a loopback address: give --key-file (datagrams sealed with a shared key), or --insecure to accept unauthenticated datagrams from the network`,
        );
      }
      const name = argv.id;
      if (keyring === undefined) {
        process.stderr.write(
          `[${name}] warning: no --key-file: datagrams are not authenticated; any process that can reach ${formatAddress(listen)} can read and write this store\n`,
        );
      }
      const seed = argv.seed ?? randomBytes(8).toString('hex');
      const log = (e: HostLogEvent): void => {
        if (e.kind !== 'drop' || argv.verbose) process.stderr.write(logLine(name, e) + '\n');
      };
      const running: RunningGossipNode = await startGossipNode({
        name,
        listen,
        peers,
        config,
        seed,
        onLog: log,
        ...(argv.data !== undefined ? { dataFile: path.resolve(argv.data) } : {}),
        ...(keyring !== undefined ? { keyring } : {}),
        ...(clientRate !== undefined ? { clientRatePerSource: clientRate } : {}),
        swim,
        join,
        maxMembers,
      });
      if (keyFile !== undefined) {
        // Key rotation without downtime: rewrite the key file, then SIGHUP every node.
        process.on('SIGHUP', () => {
          try {
            const ring = Keyring.load(path.resolve(keyFile));
            running.host.setKeyring(ring);
            process.stderr.write(`[${name}] SIGHUP: reloaded ${count(ring.size, 'key')} from ${keyFile}; sealing with ${ring.ids()[0]}\n`);
          } catch (err) {
            process.stderr.write(`[${name}] SIGHUP: kept the old keys: ${(err as Error).message}\n`);
          }
        });
      }
      const ready = {
        event: 'listening',
        id: name,
        pid: process.pid,
        address: formatAddress(running.address),
        node_id: running.membership.self,
        origin_id: running.originId,
        peers: peers.map(formatAddress),
        interval_ms: config.intervalNs / 1e6,
        anti_entropy_ms: config.antiEntropyIntervalNs / 1e6,
        loaded_entries: running.loadedEntries,
        seed,
        key_ids: keyring?.ids() ?? [],
        join: join.map(formatAddress),
        incarnation: running.swim.node.currentIncarnation,
        probe_interval_ms: running.swim.config.probeIntervalNs / NS_PER_MS,
        probe_timeout_ms: running.swim.config.probeTimeoutNs / NS_PER_MS,
        suspicion_mult: running.swim.config.suspicionMult,
        max_members: maxMembers,
      };
      process.stdout.write(JSON.stringify(ready) + '\n');
      process.stderr.write(
        `[${name}] listening on ${ready.address} (node id ${ready.node_id}), peers ${ready.peers.join(', ') || '(none)'}` +
          (argv.data !== undefined
            ? `, data ${argv.data} (${count(running.loadedEntries, 'entry', 'entries')} loaded, ${running.replayedRecords} from the log)`
            : '') +
          '\n',
      );
      if (running.tornBytes > 0)
        process.stderr.write(`[${name}] dropped a torn last log record (${count(running.tornBytes, 'byte')}, never acknowledged)\n`);
      if (running.removedTemp.length > 0)
        process.stderr.write(`[${name}] removed temporary files of an interrupted save: ${running.removedTemp.join(', ')}\n`);
      if (running.previousId !== undefined) {
        process.stderr.write(
          `[${name}] the data was written as node id ${running.previousId}; the member set changed, this node is now id ${running.membership.self} (versions and origin id ${running.originId} are kept)\n`,
        );
      }
      // Ctrl-C in `desim cluster` reaches a node twice (SIGINT from the terminal, SIGTERM from the
      // cluster): the first signal starts the stop, later ones are ignored so the flush completes.
      let stopping = false;
      const stopError = await new Promise<string | undefined>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          process.stderr.write(`[${name}] ${signal}: stopping\n`);
          void running.stop().then(
            () => resolve(undefined),
            (err: unknown) => resolve(err instanceof Error ? err.message : String(err)),
          );
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      if (stopError !== undefined) {
        // Writes acknowledged earlier are in the log; what failed is the last snapshot (or the log itself).
        process.stderr.write(`[${name}] the last save failed: ${stopError}\n`);
        process.stdout.write(JSON.stringify({ event: 'stopped', id: name, error: stopError }) + '\n');
        process.exit(EXIT.failed);
      }
      process.stdout.write(JSON.stringify({ event: 'stopped', id: name }) + '\n');
      process.exit(EXIT.ok);
    }),
};

// ---------------------------------------------------------------- kv

interface KvArgs {
  node: string;
  timeout: number;
  retries: number;
  json: boolean;
  'key-file'?: string | undefined;
  key?: string;
  value?: string;
  ack?: string;
  'ack-timeout'?: number;
}

/** Largest `--ack replicated:N`. */
export const MAX_ACK_REPLICAS = 255;

/**
 * Parses `--ack`: `local` (the node that takes the write has it on disk;
 * the default) or `replicated:N` (N nodes, that one included, hold it;
 * N in 1..255). Returns the wire ack, or undefined for `local`.
 */
export function parseAck(text: string | undefined, timeoutMs: number | undefined): KvAck | undefined {
  const m = text === undefined || text === 'local' ? null : /^replicated:(\d+)$/.exec(text);
  const n = text === undefined || text === 'local' ? 1 : m === null ? NaN : Number(m[1]);
  if (!Number.isInteger(n) || n < 1 || n > MAX_ACK_REPLICAS)
    throw new UsageError(`--ack must be local or replicated:N with N in 1..${MAX_ACK_REPLICAS}, got ${JSON.stringify(text)}`);
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000))
    throw new UsageError(`--ack-timeout must be an integer number of ms in 1..600000, got ${timeoutMs}`);
  // Only a wait for other nodes can time out: a timeout given without one would be ignored.
  if (n === 1 && timeoutMs !== undefined)
    throw new UsageError(
      `--ack-timeout acts only with --ack replicated:N, N >= 2 (with ${text ?? 'local'} the node answers once the write is on its disk)`,
    );
  return n === 1 ? undefined : { replicas: n, timeoutMs: timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS };
}

/** How long `--ack replicated:N` waits for the other nodes by default (ms). */
const DEFAULT_ACK_TIMEOUT_MS = 2000;

function ackOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('ack', { type: 'string', default: 'local', describe: 'answer when: local = on disk at the node; replicated:N = N nodes hold the write' })
    .option(
      'ack-timeout',
      numberFlag({
        describe: 'with replicated:N (N >= 2 only), give up waiting after this many ms (1..600000; default 2000) and report how many nodes confirmed',
      }),
    );
}

function kvOptions<T>(y: Argv<T>): Argv<T> {
  return y
    .option('node', { type: 'string', default: '127.0.0.1:5001', describe: 'the node to ask, HOST:PORT' })
    .option('timeout', numberFlag({ default: 500, describe: 'wait per attempt, ms > 0' }))
    .option('retries', numberFlag({ default: 3, describe: 'attempts after the first, an integer >= 0' }))
    .option('key-file', { type: 'string', describe: "the cluster's keyring (see desim node --key-file)" });
}

async function withClient(argv: KvArgs, fn: (c: KvClient) => Promise<void>): Promise<void> {
  await guarded(async () => {
    if (!(argv.timeout > 0)) throw new UsageError(`--timeout must be > 0 ms, got ${argv.timeout}`);
    if (!Number.isInteger(argv.retries) || argv.retries < 0) throw new UsageError(`--retries must be an integer >= 0, got ${argv.retries}`);
    const keyring = keyringOf(argv['key-file']);
    const client = new KvClient({
      node: address(argv.node, 'node'),
      timeoutMs: argv.timeout,
      retries: argv.retries,
      ...(keyring !== undefined ? { keyring } : {}),
    });
    try {
      await fn(client);
    } finally {
      client.close();
    }
  });
}

function parseValue(text: string, json: boolean): Value {
  if (!json) return text;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`--json: VALUE ${JSON.stringify(text)} is not JSON`);
  }
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new UsageError('--json: VALUE must be a JSON string, number, boolean or null (no objects or arrays)');
}

/** The member table as aligned text: a header line, then one line per member. */
export function formatMembers(rows: readonly MemberRow[]): string {
  const cells = [['address', 'state', 'incarnation'], ...rows.map((r) => [r.address, r.state, String(r.incarnation)])];
  const widths = [0, 1].map((i) => Math.max(...cells.map((c) => (c[i] as string).length)));
  return cells
    .map((c) => `${(c[0] as string).padEnd(widths[0] as number)}  ${(c[1] as string).padEnd(widths[1] as number)}  ${c[2] as string}\n`)
    .join('');
}

function printValue(v: Value, json: boolean): string {
  return typeof v === 'string' && !json ? v : JSON.stringify(v);
}

const KEY_DESCRIPTION = 'the key, any string (quote it for the shell if it holds spaces)';

/** `desim kv`: client of a running node. */
export const kvCommand: CommandModule<object, KvArgs> = {
  command: 'kv <command>',
  describe: 'Talk to a running node: put, get, del, members, stats',
  builder: (y: Argv<object>) =>
    y
      .command<KvArgs>({
        command: 'put <key> <value>',
        describe: 'Store VALUE under KEY (a string; with --json, a JSON scalar)',
        builder: (b: Argv<object>) =>
          ackOptions(kvOptions(b))
            .positional('key', { type: 'string', demandOption: true, describe: KEY_DESCRIPTION })
            .positional('value', {
              type: 'string',
              demandOption: true,
              describe: 'the value: a string as given, or with --json a JSON number, boolean, null or quoted string',
            })
            .option('json', {
              type: 'boolean',
              default: false,
              describe: 'parse VALUE as JSON (number, boolean, null, string)',
            }) as unknown as Argv<KvArgs>,
        handler: (argv) =>
          withClient(argv, async (c) => {
            const ack = parseAck(argv.ack, argv['ack-timeout']);
            await c.put(String(argv.key), parseValue(String(argv.value), argv.json), ack);
          }),
      })
      .command<KvArgs>({
        command: 'get <key>',
        describe: 'Print the value of KEY on stdout, or "not found" on stderr with exit code 1',
        builder: (b: Argv<object>) =>
          kvOptions(b)
            .positional('key', { type: 'string', demandOption: true, describe: KEY_DESCRIPTION })
            .option('json', { type: 'boolean', default: false, describe: 'print the value as JSON (strings quoted)' }) as unknown as Argv<KvArgs>,
        handler: (argv) =>
          withClient(argv, async (c) => {
            const v = await c.get(String(argv.key));
            if (v === undefined) fail('not found', EXIT.notFound);
            process.stdout.write(printValue(v, argv.json) + '\n');
          }),
      })
      .command<KvArgs>({
        command: 'del <key>',
        aliases: ['delete'],
        describe: 'Delete KEY (a tombstone, spread by gossip like a put)',
        builder: (b: Argv<object>) =>
          ackOptions(kvOptions(b)).positional('key', { type: 'string', demandOption: true, describe: KEY_DESCRIPTION }) as unknown as Argv<KvArgs>,
        handler: (argv) => withClient(argv, async (c) => c.del(String(argv.key), parseAck(argv.ack, argv['ack-timeout']))),
      })
      .command<KvArgs>({
        command: 'members',
        describe: "Print the node's SWIM member table: address, state (alive, suspect, dead, left), incarnation",
        builder: (b: Argv<object>) =>
          kvOptions(b).option('json', {
            type: 'boolean',
            default: false,
            describe: 'print one JSON array of {address, state, incarnation}',
          }) as unknown as Argv<KvArgs>,
        handler: (argv) =>
          withClient(argv, async (c) => {
            const rows = await c.members();
            process.stdout.write(argv.json ? JSON.stringify(rows) + '\n' : formatMembers(rows));
          }),
      })
      .command<KvArgs>({
        command: 'stats',
        describe: "Print the node's counters: messages in/out, dropped datagrams by reason, keys, peers seen",
        builder: (b: Argv<object>) =>
          kvOptions(b).option('json', { type: 'boolean', default: false, describe: 'print one JSON object' }) as unknown as Argv<KvArgs>,
        handler: (argv) =>
          withClient(argv, async (c) => {
            const s = await c.stats();
            if (argv.json) {
              process.stdout.write(JSON.stringify(s) + '\n');
              return;
            }
            const width = Math.max(...Object.keys(s).map((k) => k.length));
            for (const [k, v] of Object.entries(s)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
          }),
      })
      .demandCommand(1, 'Say which kv command: put, get, del, members or stats.')
      .example('$0 kv members --node 127.0.0.1:5001', "the node's member table")
      .example('$0 kv put --node 127.0.0.1:5001 temperature 25.5', 'store a string (answered once it is on disk at that node)')
      .example('$0 kv put --ack replicated:2 temperature 25.5', 'answered once two nodes hold it (exit 4 after --ack-timeout otherwise)')
      .example('$0 kv get --node 127.0.0.1:5003 temperature', 'prints 25.5, or "not found" on stderr with exit code 1')
      .example('$0 kv stats --node 127.0.0.1:5002 --json', 'counters as one JSON object') as unknown as Argv<KvArgs>,
  handler: () => {},
};

// ---------------------------------------------------------------- cluster

interface ClusterArgs {
  nodes: number;
  'base-port': number;
  interval?: number | undefined;
  'anti-entropy'?: number | undefined;
  'data-dir'?: string | undefined;
  verbose: boolean;
  'key-file'?: string | undefined;
  'probe-interval'?: number | undefined;
}

/** `desim cluster`: the 3-node demo in one command. */
export const clusterCommand: CommandModule<object, ClusterArgs> = {
  command: 'cluster',
  describe: 'Start N gossip nodes as local processes on 127.0.0.1 (Ctrl-C stops them all)',
  builder: (y: Argv<object>) =>
    y
      .option('nodes', numberFlag({ default: 3, describe: 'number of nodes, an integer in 1..26 (named A, B, C, ...)' }))
      .option('base-port', numberFlag({ default: 5001, describe: 'port of node A; node i listens on base-port + i (all below 65536)' }))
      .option('interval', numberFlag({ describe: 'gossip round length, ms > 0 (passed to every node)' }))
      .option('anti-entropy', numberFlag({ describe: 'anti-entropy period, ms > 0; 0 turns it off (passed to every node)' }))
      .option('data-dir', { type: 'string', describe: "keep node X's store in DIR/X.json" })
      .option('verbose', { type: 'boolean', default: false, describe: 'nodes log every dropped datagram' })
      .option('key-file', { type: 'string', describe: 'keyring passed to every node (see desim node --key-file)' })
      .option(
        'probe-interval',
        numberFlag({
          describe: `SWIM protocol period, ms, passed to every node (integer, ${PROBE_INTERVAL_RANGE_MS[0]}..${PROBE_INTERVAL_RANGE_MS[1]}; default 1000)`,
        }),
      )
      .example('$0 cluster', 'nodes A, B, C on 127.0.0.1:5001..5003')
      .example('$0 node --id D --listen 127.0.0.1:5004 --join 127.0.0.1:5001', 'then, in another terminal: a fourth node joins'),
  handler: (argv) =>
    guarded(async () => {
      const cliPath = process.argv[1];
      if (cliPath === undefined) throw new UsageError('cannot find the desim script to start nodes with');
      const nodeArgs: string[] = [];
      if (argv.interval !== undefined) nodeArgs.push('--interval', String(positiveMs('interval', argv.interval)));
      const antiEntropy = argv['anti-entropy'];
      // Refused here, not by every node.
      if (antiEntropy !== undefined) nodeArgs.push('--anti-entropy', String(antiEntropy === 0 ? 0 : positiveMs('anti-entropy', antiEntropy)));
      if (argv.verbose) nodeArgs.push('--verbose');
      if (argv['probe-interval'] !== undefined) {
        swimOptionsFromCli({ probeIntervalMs: argv['probe-interval'] }); // refused here, not by every node
        nodeArgs.push('--probe-interval', String(argv['probe-interval']));
      }
      if (argv['key-file'] !== undefined) {
        keyringOf(argv['key-file']); // a bad key file is a usage error here, not three failed nodes
        nodeArgs.push('--key-file', path.resolve(argv['key-file']));
      }
      const cluster = startCluster({
        nodes: argv.nodes,
        basePort: argv['base-port'],
        cliPath,
        nodeArgs,
        ...(argv['data-dir'] !== undefined ? { dataDir: path.resolve(argv['data-dir']) } : {}),
        onLine: (name, stream, line) => {
          const out = stream === 'stdout' ? process.stdout : process.stderr;
          out.write(line.startsWith(`[${name}]`) ? `${line}\n` : `[${name}] ${line}\n`);
        },
      });
      process.stderr.write(`desim cluster: ${count(cluster.members.length, 'node')}; try in another terminal:\n`);
      const first = cluster.members[0];
      if (first !== undefined) {
        const a = formatAddress(first.address);
        const b = formatAddress((cluster.members[1] ?? first).address);
        process.stderr.write(`  desim kv put --node ${a} greeting hello\n  desim kv get --node ${b} greeting\n  desim kv stats --node ${b}\n`);
        const next = `${first.address.host}:${first.address.port + cluster.members.length}`;
        process.stderr.write(`  desim node --id ${nodeName(cluster.members.length)} --listen ${next} --join ${a}\n  desim kv members --node ${b}\n`);
      }
      process.stderr.write('Ctrl-C stops every node.\n');
      let stopping = false;
      let startFailed = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`desim cluster: ${signal}: stopping every node\n`);
        void cluster.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      cluster.ready.catch((err: unknown) => {
        if (stopping) return;
        startFailed = true;
        stopping = true;
        process.stderr.write(`desim cluster: ${(err as Error).message}; stopping every node\n`);
        void cluster.stop();
      });
      await cluster.allExited;
      process.exit(stopping && !startFailed ? EXIT.ok : EXIT.failed);
    }),
};

/** The three commands, for `yargs.command(realNetworkCommands)`. */
export const realNetworkCommands = [nodeCommand, kvCommand, clusterCommand] as const;
