/**
 * fast-check generators for cluster cases: a node count, a lossy link, a
 * workload of writes and a fault schedule that heals by a horizon. Written to
 * be lifted into `desim/testing`: the fault schedule is plain
 * {@link TimedFault} data, and {@link caseToScenarioYaml} turns a case into a
 * scenario file that replays it with `desim run`.
 */
import fc from 'fast-check';
import type { Fault, TimedFault } from '../../../src/protocols/net/faults.js';

/** One write of a workload (times in ms, nodes by id). */
export interface WriteCase {
  readonly atMs: number;
  readonly node: number;
  readonly op: 'put' | 'delete';
  readonly key: string;
  readonly value: number;
}

/** A whole cluster case. */
export interface ClusterCase {
  readonly seed: number;
  readonly nodes: number;
  readonly lossPct: number;
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly writes: readonly WriteCase[];
  /** Faults, every one healed (repaired, released, restarted) by `healByMs`. */
  readonly faults: readonly TimedFault[];
  readonly healByMs: number;
  readonly preset: 'default' | 'original' | 'demers-feedback-counter' | 'demers-blind-coin';
  readonly clock: 'hlc' | 'physical';
  readonly maxOffsetMs: number;
  readonly maxDriftPpm: number;
}

const MS = 1_000_000;

/** Two non-empty groups splitting nodes 0..n-1. */
export function splitArb(n: number): fc.Arbitrary<[number[], number[]]> {
  return fc
    .array(fc.boolean(), { minLength: n, maxLength: n })
    .filter((side) => side.some((x) => x) && side.some((x) => !x))
    .map((side) => {
      const a: number[] = [];
      const b: number[] = [];
      side.forEach((x, i) => (x ? a : b).push(i));
      return [a, b];
    });
}

/**
 * A fault schedule on nodes 0..n-1 within [0, horizonMs]: up to `maxEpisodes`
 * episodes, each a partition (then repair), a hold (then release) or a crash
 * (then restart, with or without state), all healed by the horizon.
 */
export function faultScheduleArb(n: number, horizonMs: number, maxEpisodes = 6): fc.Arbitrary<TimedFault[]> {
  const window = fc
    .tuple(fc.integer({ min: 0, max: horizonMs - 1 }), fc.integer({ min: 1, max: horizonMs }))
    .map(([a, len]) => [a, Math.min(horizonMs, a + len)] as const);
  const episode = fc.oneof(
    fc.tuple(fc.constant('partition' as const), window, splitArb(n), fc.boolean()),
    fc.tuple(fc.constant('hold' as const), window, splitArb(n), fc.boolean()),
    fc.tuple(fc.constant('crash' as const), window, fc.integer({ min: 0, max: n - 1 }), fc.boolean()),
  );
  return fc.array(episode, { maxLength: maxEpisodes }).map((eps) => {
    const out: TimedFault[] = [];
    eps.forEach(([kind, [start, end], arg, flag], i) => {
      const name = `f${i}`;
      let begin: Fault;
      let heal: Fault;
      if (kind === 'crash') {
        begin = { type: 'crash', node: arg };
        heal = { type: 'restart', node: arg, keepState: flag };
      } else {
        const [a, b] = arg;
        begin = kind === 'partition' ? { type: 'partition', a, b, oneWay: flag, name } : { type: 'hold', a, b, oneWay: flag, name };
        heal = kind === 'partition' ? { type: 'repair', name } : { type: 'release', name };
      }
      out.push({ atNs: start * MS, fault: begin }, { atNs: end * MS, fault: heal });
    });
    // Stable order by time (list order breaks ties, as scheduleFaults applies them).
    return out.map((f, i) => ({ f, i })).sort((x, y) => x.f.atNs - y.f.atNs || x.i - y.i).map((x) => x.f);
  });
}

/** Writes at random nodes and times in [0, horizonMs), keys from a small set so writes collide. */
export function writesArb(n: number, horizonMs: number, maxWrites = 30): fc.Arbitrary<WriteCase[]> {
  const write = fc.record({
    atMs: fc.integer({ min: 0, max: horizonMs - 1 }),
    node: fc.integer({ min: 0, max: n - 1 }),
    op: fc.constantFrom('put' as const, 'put' as const, 'put' as const, 'delete' as const),
    key: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    value: fc.integer({ min: 0, max: 999 }),
  });
  return fc.array(write, { minLength: 1, maxLength: maxWrites }).map((ws) => [...ws].sort((x, y) => x.atMs - y.atMs));
}

/** A cluster case: 3..maxNodes nodes, loss up to maxLossPct %, writes and faults within horizonMs. */
export function clusterCaseArb(options: { maxNodes?: number; maxLossPct?: number; horizonMs?: number } = {}): fc.Arbitrary<ClusterCase> {
  const maxNodes = options.maxNodes ?? 40;
  const horizonMs = options.horizonMs ?? 15_000;
  return fc.integer({ min: 3, max: maxNodes }).chain((nodes) =>
    fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      nodes: fc.constant(nodes),
      lossPct: fc.integer({ min: 0, max: options.maxLossPct ?? 50 }),
      latencyMinMs: fc.integer({ min: 0, max: 5 }),
      latencyMaxMs: fc.integer({ min: 5, max: 50 }),
      writes: writesArb(nodes, horizonMs),
      faults: faultScheduleArb(nodes, horizonMs),
      healByMs: fc.constant(horizonMs),
      preset: fc.constantFrom('default' as const, 'original' as const, 'demers-feedback-counter' as const, 'demers-blind-coin' as const),
      clock: fc.constantFrom('hlc' as const, 'physical' as const),
      maxOffsetMs: fc.integer({ min: 0, max: 200 }),
      maxDriftPpm: fc.integer({ min: 0, max: 500 }),
    }),
  );
}

function groups(a: readonly number[], b: readonly number[]): string {
  return `[[${a.map((i) => `n${i}`).join(', ')}], [${b.map((i) => `n${i}`).join(', ')}]]`;
}

/** The case as a scenario file for the `gossip` driver (`antiEntropyS` and `durationS` as the test ran it). */
export function caseToScenarioYaml(c: ClusterCase, antiEntropyS: number, durationS: number): string {
  const lines = [
    `name: gossip-convergence-counterexample`,
    `description: "replays a failing case of the gossip convergence property (seed ${c.seed})"`,
    `seed: ${c.seed}`,
    `duration_s: ${durationS}`,
    `network:`,
    `  nodes: ${c.nodes}`,
    `  link: { latency_ms: { dist: uniform, min_ms: ${c.latencyMinMs}, max_ms: ${c.latencyMaxMs} }, loss: ${c.lossPct / 100} }`,
    `protocol:`,
    `  gossip:`,
    `    preset: ${c.preset}`,
    `    anti_entropy: { interval_s: ${antiEntropyS} }`,
    `    tombstone_gc_s: never`,
    `    clock: { kind: ${c.clock}, max_offset_ms: ${c.maxOffsetMs}, max_drift_ppm: ${c.maxDriftPpm} }`,
    `workload:`,
    ...c.writes.map((w) =>
      w.op === 'put'
        ? `  - { at_s: ${w.atMs / 1000}, node: n${w.node}, op: put, key: ${w.key}, value: ${w.value} }`
        : `  - { at_s: ${w.atMs / 1000}, node: n${w.node}, op: delete, key: ${w.key} }`,
    ),
    `faults:${c.faults.length === 0 ? ' []' : ''}`,
  ];
  for (const { atNs, fault: f } of c.faults) {
    const at = atNs / 1e9;
    switch (f.type) {
      case 'partition':
        lines.push(`  - { at_s: ${at}, partition: ${groups(f.a, f.b)}, one_way: ${f.oneWay === true}, name: ${f.name} }`);
        break;
      case 'hold':
        lines.push(`  - { at_s: ${at}, hold: ${groups(f.a, f.b)}, one_way: ${f.oneWay === true}, name: ${f.name} }`);
        break;
      case 'repair':
        lines.push(`  - { at_s: ${at}, repair: ${f.name ?? 'all'} }`);
        break;
      case 'release':
        lines.push(`  - { at_s: ${at}, release: ${f.name ?? 'all'} }`);
        break;
      case 'crash':
        lines.push(`  - { at_s: ${at}, crash: n${f.node} }`);
        break;
      case 'restart':
        lines.push(`  - { at_s: ${at}, restart: n${f.node}, keep_state: ${f.keepState !== false} }`);
        break;
      default:
        break;
    }
  }
  return lines.join('\n') + '\n';
}
