/**
 * The scenario file schema: the common top level (name, seed, duration,
 * network, faults, outputs) here, each protocol's section and workload entries
 * in its driver. Objects are strict: an unknown key is an error (with a
 * did-you-mean, see loader.ts). Defaults are filled in here and nowhere else;
 * `docs/scenario-defaults.md` is the table of them.
 */
import { z } from 'zod';
import type { ProtocolDriver } from './driver.js';
import { describeJsonSchema } from './schema-docs.js';

/*
 * Ranges. Every number in a scenario has one, here in the schema (so `desim
 * schema` and docs/scenario-defaults.md show it). They keep simulated time an
 * exact integer count of nanoseconds (2^53 ns, about 104 days, is the limit):
 * a run lasts at most MAX_DURATION_S, any one delay or timer parameter is at
 * most MAX_DELAY_MS, and a nonzero time is at least 1 ns (a shorter one would
 * round to zero). How much work a valid scenario asks for is bounded
 * separately, by the event estimate (see MAX_EVENTS in loader.ts).
 */

/** Longest run: 1,000,000 s (11.6 days, 1e15 ns), leaving room for delays past the end within 2^53 ns. */
export const MAX_DURATION_S = 1_000_000;
/** Longest single delay, jitter, clock offset or delay-distribution parameter: one hour. */
export const MAX_DELAY_MS = 3_600_000;
/** Shortest nonzero time in seconds: 1 ns. */
export const MIN_TIME_S = 1e-9;
/** Shortest nonzero time in milliseconds: 1 ns. */
export const MIN_TIME_MS = 1e-6;
/** Link and bottleneck rates: 1 bit/s to 1 Tbit/s. */
export const MIN_BANDWIDTH_BPS = 1;
export const MAX_BANDWIDTH_BPS = 1e12;
/** Queue limits (packets or bytes). */
export const MAX_QUEUE = 1_000_000_000;
/** Clock drift magnitude in parts per million (10%: a clock that runs 0.9 to 1.1 times true time). */
export const MAX_DRIFT_PPM = 100_000;

/** A time in seconds from the start of the run: [0, MAX_DURATION_S]. */
export const timeS = () => z.number().min(0).max(MAX_DURATION_S);
/** A positive duration in seconds: [1 ns, max]. */
export const positiveS = (max = MAX_DURATION_S) => z.number().min(MIN_TIME_S).max(max);
/** A delay in milliseconds: [0, MAX_DELAY_MS]. */
export const delayMs = () => z.number().min(0).max(MAX_DELAY_MS);
/** A positive delay in milliseconds: [1 ns, max]. */
export const positiveMs = (max = MAX_DELAY_MS) => z.number().min(MIN_TIME_MS).max(max);
/** A probability: [0, 1]. */
export const prob = () => z.number().min(0).max(1);
/** A rate in bits per second: [1, 1e12]. */
export const bandwidthBps = () => z.number().min(MIN_BANDWIDTH_BPS).max(MAX_BANDWIDTH_BPS);
/** A queue limit: an integer in [0, 1e9]. */
export const queueLimit = () => z.int().min(0).max(MAX_QUEUE);

/** A latency distribution in milliseconds (unbounded tails are cut where time ends; see the network). */
export const delayDistSchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('constant'), ms: delayMs() }),
  z.strictObject({ dist: z.literal('uniform'), min_ms: delayMs(), max_ms: delayMs() }),
  z.strictObject({ dist: z.literal('exponential'), mean_ms: positiveMs() }),
  z.strictObject({ dist: z.literal('normal'), mean_ms: delayMs(), sd_ms: delayMs() }),
  // mu and sigma are of ln(latency in ms): e^15 ms is about 54 minutes.
  z.strictObject({ dist: z.literal('lognormal'), mu: z.number().min(-30).max(15), sigma: z.number().min(0).max(10) }),
  z.strictObject({ dist: z.literal('pareto'), scale_ms: positiveMs(), shape: z.number().min(0.01).max(1000) }),
]);

/** Latency: milliseconds, or a distribution. */
export const latencySchema = z.union([delayMs(), delayDistSchema]);

/** Gilbert-Elliott burst loss. */
export const gilbertElliottSchema = z.strictObject({
  model: z.literal('gilbert-elliott'),
  p_good_to_bad: prob(),
  p_bad_to_good: prob(),
  loss_good: prob().default(0),
  loss_bad: prob().default(1),
});

/** Loss: a probability, or a Gilbert-Elliott model. */
export const lossSchema = z.union([prob(), gilbertElliottSchema]);

/**
 * A queue discipline (link `aqm`, `protocol.tcp.bottleneck.aqm`): drop-tail, RED (Floyd and Jacobson
 * 1993; defaults of ns-3's RedQueueDisc) or CoDel (RFC 8289's 5 ms and 100 ms). Needs a bandwidth.
 */
export const aqmSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('droptail') }),
    z.strictObject({
      kind: z.literal('red'),
      min_th_packets: z.number().min(0).max(MAX_QUEUE).default(5),
      max_th_packets: z.number().gt(0).max(MAX_QUEUE).default(15),
      max_p: z.number().gt(0).max(1).default(0.02),
      w_q: z.number().gt(0).max(1).default(0.002),
      gentle: z.boolean().default(true),
      mean_packet_bytes: z.int().min(1).max(1_000_000).default(500),
      ecn: z.boolean().default(false),
    }),
    z.strictObject({
      kind: z.literal('codel'),
      target_ms: positiveMs().default(5),
      interval_ms: positiveMs().default(100),
      ecn: z.boolean().default(false),
    }),
  ])
  .superRefine((a, ctx) => {
    if (a.kind === 'red' && !(a.max_th_packets > a.min_th_packets))
      ctx.addIssue({
        code: 'custom',
        path: ['max_th_packets'],
        message: `expected more than min_th_packets (${a.min_th_packets}), got ${a.max_th_packets}`,
      });
  });

/** A parsed queue discipline section. */
export type AqmSection = z.output<typeof aqmSchema>;

const linkFields = {
  latency_ms: latencySchema.optional(),
  jitter_ms: delayMs().optional(),
  loss: lossSchema.optional(),
  duplicate: prob().optional(),
  bandwidth_bps: bandwidthBps().optional(),
  queue_packets: queueLimit().optional(),
  queue_bytes: queueLimit().optional(),
  aqm: aqmSchema.optional(),
};

/** A link section (every field optional; unset fields keep the default link's value). */
export const linkSchema = z.strictObject(linkFields);

/** Most regions a scenario's network may have (a latency matrix of 64 x 64). */
export const MAX_REGIONS = 64;
const matrix = (cell: () => z.ZodNumber) => z.array(z.array(cell()).min(1).max(MAX_REGIONS)).min(1).max(MAX_REGIONS);

/** Regions: nodes by fractions or first indices, a latency (and loss) per ordered pair of regions (checked further in regions.ts). */
export const regionsSchema = z.strictObject({
  fractions: z.array(z.number().gt(0).max(1)).min(1).max(MAX_REGIONS).optional(),
  first: z.array(z.int().min(0).max(999_999)).min(1).max(MAX_REGIONS).optional(),
  latency_ms: matrix(delayMs),
  loss: z.union([prob(), matrix(prob)]).optional(),
});

/** The network section. */
export const networkSchema = z.strictObject({
  nodes: z.union([
    z.int().min(1).max(1_000_000),
    z
      .array(
        z
          .string()
          .min(1)
          .regex(/^[A-Za-z0-9_.:-]+$/, 'expected a name of letters, digits, _ . : -'),
      )
      .min(1),
  ]),
  link: linkSchema.default({}),
  links: z
    .array(
      z.strictObject({ from: z.string(), to: z.string(), both_ways: z.boolean().default(true), ...linkFields }).superRefine((l, ctx) => {
        // An override that sets no link key would change nothing: its from, to and both_ways would be ignored.
        if (Object.keys(linkFields).every((k) => l[k as keyof typeof linkFields] === undefined)) {
          ctx.addIssue({ code: 'custom', message: `sets no link key (${Object.keys(linkFields).join(', ')}): it would change nothing` });
        }
      }),
    )
    .default([]),
  regions: regionsSchema.optional(),
});

const FAULT_VERBS = ['partition', 'repair', 'hold', 'release', 'crash', 'restart', 'set_latency_ms', 'set_loss'] as const;
/** The keys besides `at_s` that go with each verb; any other would be silently ignored, so it is refused. */
const FAULT_KEYS: Readonly<Record<(typeof FAULT_VERBS)[number], readonly string[]>> = {
  partition: ['one_way', 'name'],
  repair: [],
  hold: ['one_way', 'name'],
  release: [],
  crash: [],
  restart: ['keep_state'],
  set_latency_ms: ['between', 'one_way'],
  set_loss: ['between', 'one_way'],
};
const FAULT_OPTIONS = ['keep_state', 'between', 'one_way', 'name'] as const;
const groups = z.array(z.array(z.string()).min(1, 'expected a non-empty group of node names')).min(1).max(2);

/** One fault entry: `at_s` plus exactly one verb. */
export const faultSchema = z
  .strictObject({
    at_s: timeS(),
    partition: groups.optional(),
    repair: z.string().optional(),
    hold: groups.optional(),
    release: z.string().optional(),
    crash: z.string().optional(),
    restart: z.string().optional(),
    keep_state: z.boolean().optional(),
    set_latency_ms: latencySchema.optional(),
    set_loss: lossSchema.optional(),
    between: z.tuple([z.string(), z.string()]).optional(),
    one_way: z.boolean().optional(),
    name: z.string().optional(),
  })
  .superRefine((f, ctx) => {
    const verbs = FAULT_VERBS.filter((v) => f[v] !== undefined);
    if (verbs.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: verbs.length === 0 ? `expected one of ${FAULT_VERBS.join(', ')}` : `expected exactly one verb, got ${verbs.join(' and ')}`,
      });
      return;
    }
    const verb = verbs[0] as (typeof FAULT_VERBS)[number];
    if ((verb === 'set_latency_ms' || verb === 'set_loss') && f.between === undefined) {
      ctx.addIssue({ code: 'custom', path: ['between'], message: `expected [nodeA, nodeB] with ${verb}` });
    }
    for (const key of FAULT_OPTIONS) {
      if (f[key] === undefined || FAULT_KEYS[verb].includes(key)) continue;
      const with_ = FAULT_VERBS.filter((v) => FAULT_KEYS[v].includes(key));
      ctx.addIssue({ code: 'custom', path: [key], message: `${key} goes with ${with_.join(' or ')}, not ${verb} (it would have no effect)` });
    }
  });

/** The outputs section. */
export const outputsSchema = z.strictObject({
  traces: z.union([z.enum(['all', 'none']), z.array(z.string())]).default('all'),
  plots: z.boolean().default(true),
});

/**
 * The protocol sections that may share one run: gossip nodes on every network
 * node and TCP flows between named nodes of the same network. The first owns
 * the workload; each keeps its own traces, tables and metrics.
 */
export const SHARED_PROTOCOLS = ['gossip', 'tcp'] as const;

/**
 * The store on SWIM's membership: with both sections the gossip nodes' peers are the members SWIM holds
 * live (`src/protocols/swim-store`). The gossip driver runs it and owns the workload (writes, reads, joins
 * and leaves); the SWIM section configures the membership and reports its own metrics.
 */
export const MEMBERSHIP_PROTOCOLS = ['gossip', 'swim'] as const;

/** True when `set` names exactly the sections of `pair`. */
export function isProtocolPair(set: readonly string[], pair: readonly string[]): boolean {
  return set.length === pair.length && pair.every((k) => set.includes(k));
}

/** Builds the whole scenario schema from the registered drivers. */
export function scenarioSchema(drivers: readonly ProtocolDriver[]) {
  const protocolShape: Record<string, z.ZodType> = {};
  for (const d of drivers) protocolShape[d.name] = d.schema.optional();
  const names = drivers.map((d) => d.name);
  return z.strictObject({
    name: z
      .string()
      .max(100)
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
        'expected 1 to 100 letters, digits, _ . or -, starting with a letter or digit (it names the output folder: no / or spaces)',
      ),
    description: z.string().default(''),
    seed: z
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1),
    duration_s: positiveS(),
    network: networkSchema.optional(),
    protocol: z.strictObject(protocolShape).superRefine((p, ctx) => {
      const set = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] !== undefined);
      const shared = isProtocolPair(set, SHARED_PROTOCOLS) || isProtocolPair(set, MEMBERSHIP_PROTOCOLS);
      if (set.length !== 1 && !shared)
        ctx.addIssue({
          code: 'custom',
          message: `expected exactly one protocol section (one of ${names.join(', ')}), or ${SHARED_PROTOCOLS.join(' and ')} together (TCP flows beside a gossip cluster), or ${MEMBERSHIP_PROTOCOLS.join(' and ')} together (the store on SWIM's membership), got ${set.length === 0 ? 'none' : set.join(', ')}`,
        });
    }),
    workload: z.array(z.unknown()).default([]),
    faults: z.array(faultSchema).default([]),
    outputs: outputsSchema.default({ traces: 'all', plots: true }),
  });
}

/**
 * The JSON Schema of scenario files (for editors), with every driver's section and workload entries,
 * and a description of every key with its unit, range and default (see schema-docs.ts).
 */
export function scenarioJsonSchema(drivers: readonly ProtocolDriver[]): object {
  const base = scenarioSchema(drivers);
  const workloadEntry =
    drivers.length === 1
      ? (drivers[0] as ProtocolDriver).workloadSchema
      : z.union(drivers.map((d) => d.workloadSchema) as unknown as [z.ZodType, z.ZodType]);
  const withWorkload = base.extend({ workload: z.array(workloadEntry).default([]) });
  const js = z.toJSONSchema(withWorkload, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return describeJsonSchema({ ...js, title: 'desim scenario' });
}
