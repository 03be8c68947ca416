/**
 * fast-check arbitraries for the network's property tests: link
 * configurations (every latency distribution, jitter, Bernoulli and
 * Gilbert-Elliott loss, duplication, bandwidth, drop-tail queues in packets and
 * bytes) and random timed programs of sends and fault verbs.
 */
import fc from 'fast-check';
import type { DelaySpec, LinkConfig, LossSpec } from '../../src/net/link.js';

const MS = 1_000_000;

export const delayArb: fc.Arbitrary<DelaySpec> = fc.oneof(
  fc.integer({ min: 0, max: 10 * MS }),
  fc.record({ dist: fc.constant('constant' as const), ns: fc.integer({ min: 0, max: 10 * MS }) }),
  fc
    .tuple(fc.integer({ min: 0, max: 10 * MS }), fc.integer({ min: 0, max: 10 * MS }))
    .map(([a, b]) => ({ dist: 'uniform' as const, minNs: Math.min(a, b), maxNs: Math.max(a, b) })),
  fc.record({ dist: fc.constant('exponential' as const), meanNs: fc.integer({ min: 0, max: 5 * MS }) }),
  fc.record({
    dist: fc.constant('normal' as const),
    meanNs: fc.integer({ min: 0, max: 5 * MS }),
    sdNs: fc.integer({ min: 0, max: 5 * MS }),
  }),
  fc.record({
    dist: fc.constant('lognormal' as const),
    mu: fc.double({ min: 10, max: 15, noNaN: true }),
    sigma: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    dist: fc.constant('pareto' as const),
    scaleNs: fc.integer({ min: 1, max: 3 * MS }),
    shape: fc.double({ min: 1.1, max: 4, noNaN: true }),
  }),
);

const prob = (max: number): fc.Arbitrary<number> => fc.double({ min: 0, max, noNaN: true });

export const lossArb: fc.Arbitrary<LossSpec> = fc.oneof(
  fc.constant(0),
  prob(0.5),
  fc.record(
    {
      model: fc.constant('gilbert-elliott' as const),
      pGoodToBad: prob(0.5),
      pBadToGood: prob(1),
      lossGood: prob(0.2),
      lossBad: prob(1),
    },
    { requiredKeys: ['model', 'pGoodToBad', 'pBadToGood'] },
  ),
);

export const linkArb: fc.Arbitrary<Partial<LinkConfig>> = fc.record(
  {
    latency: delayArb,
    jitterNs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 * MS })),
    loss: lossArb,
    duplicate: fc.oneof(fc.constant(0), prob(0.3)),
    bandwidthBps: fc.oneof(fc.constant(Infinity), fc.integer({ min: 100_000, max: 100_000_000 })),
    queuePackets: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 5 })),
    queueBytes: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 6000 })),
  },
  { requiredKeys: [] },
);

/** Which group each node is in: 0 = a, 1 = b, 2 = neither. */
const groupsArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 });

export type NetOp =
  | { readonly op: 'send'; readonly from: number; readonly to: number; readonly sizeBytes: number; readonly count: number }
  | { readonly op: 'partition'; readonly groups: readonly number[]; readonly oneWay: boolean }
  | { readonly op: 'repair'; readonly which: number | 'all' }
  | { readonly op: 'hold'; readonly groups: readonly number[]; readonly oneWay: boolean }
  | { readonly op: 'release'; readonly which: number | 'all' }
  | { readonly op: 'crash'; readonly node: number }
  | { readonly op: 'restart'; readonly node: number }
  | { readonly op: 'latency'; readonly a: number; readonly b: number; readonly latency: DelaySpec; readonly oneWay: boolean }
  | { readonly op: 'loss'; readonly a: number; readonly b: number; readonly loss: LossSpec; readonly oneWay: boolean };

const nodeArb = fc.nat({ max: 7 }); // reduced modulo the node count by the runner
const whichArb = fc.oneof(fc.constant('all' as const), fc.nat({ max: 5 }));

export const netOpArb: fc.Arbitrary<NetOp> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('send' as const),
      from: nodeArb,
      to: nodeArb,
      sizeBytes: fc.integer({ min: 1, max: 1500 }),
      count: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 12 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('partition' as const), groups: groupsArb, oneWay: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repair' as const), which: whichArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('hold' as const), groups: groupsArb, oneWay: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), which: whichArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crash' as const), node: nodeArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), node: nodeArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('latency' as const), a: nodeArb, b: nodeArb, latency: delayArb, oneWay: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('loss' as const), a: nodeArb, b: nodeArb, loss: lossArb, oneWay: fc.boolean() }),
  },
);

export interface TimedOp {
  readonly atNs: number;
  readonly op: NetOp;
}

export interface NetScenario {
  readonly nodes: number;
  readonly seed: number;
  readonly defaultLink: Partial<LinkConfig>;
  readonly overrides: readonly { readonly from: number; readonly to: number; readonly link: Partial<LinkConfig> }[];
  readonly ops: readonly TimedOp[];
}

export const netScenarioArb: fc.Arbitrary<NetScenario> = fc.record({
  nodes: fc.integer({ min: 2, max: 5 }),
  seed: fc.nat(),
  defaultLink: linkArb,
  overrides: fc.array(fc.record({ from: nodeArb, to: nodeArb, link: linkArb }), { maxLength: 4 }),
  ops: fc.array(fc.record({ atNs: fc.integer({ min: 0, max: 60 * MS }), op: netOpArb }), {
    minLength: 10,
    maxLength: 100,
    size: 'max',
  }),
});
