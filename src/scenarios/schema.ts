/**
 * The scenario file schema: the common top level (name, seed, duration,
 * network, faults, outputs) here, each protocol's section and workload entries
 * in its driver. Objects are strict: an unknown key is an error (with a
 * did-you-mean, see loader.ts). Defaults are filled in here and nowhere else;
 * `docs/scenario-defaults.md` is the table of them.
 */
import { z } from 'zod';
import type { ProtocolDriver } from './driver.js';

const nonNeg = (what = 'a number >= 0') => z.number({ error: `expected ${what}` }).min(0);
const prob = () => z.number().min(0).max(1);

/** A latency distribution in milliseconds. */
export const delayDistSchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('constant'), ms: nonNeg() }),
  z.strictObject({ dist: z.literal('uniform'), min_ms: nonNeg(), max_ms: nonNeg() }),
  z.strictObject({ dist: z.literal('exponential'), mean_ms: z.number().positive() }),
  z.strictObject({ dist: z.literal('normal'), mean_ms: nonNeg(), sd_ms: nonNeg() }),
  z.strictObject({ dist: z.literal('lognormal'), mu: z.number(), sigma: nonNeg() }),
  z.strictObject({ dist: z.literal('pareto'), scale_ms: z.number().positive(), shape: z.number().positive() }),
]);

/** Latency: milliseconds, or a distribution. */
export const latencySchema = z.union([nonNeg(), delayDistSchema]);

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

const linkFields = {
  latency_ms: latencySchema.optional(),
  jitter_ms: nonNeg().optional(),
  loss: lossSchema.optional(),
  duplicate: prob().optional(),
  bandwidth_bps: z.number().positive().optional(),
  queue_packets: z.int().min(0).optional(),
  queue_bytes: z.int().min(0).optional(),
};

/** A link section (every field optional; unset fields keep the default link's value). */
export const linkSchema = z.strictObject(linkFields);

/** The network section. */
export const networkSchema = z.strictObject({
  nodes: z.union([
    z.int().min(1).max(1_000_000),
    z.array(z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'expected a name of letters, digits, _ . : -')).min(1),
  ]),
  link: linkSchema.default({}),
  links: z
    .array(z.strictObject({ from: z.string(), to: z.string(), both_ways: z.boolean().default(true), ...linkFields }))
    .default([]),
});

const FAULT_VERBS = ['partition', 'repair', 'hold', 'release', 'crash', 'restart', 'set_latency_ms', 'set_loss'] as const;
const groups = z.array(z.array(z.string()).min(1, 'expected a non-empty group of node names')).min(1).max(2);

/** One fault entry: `at_s` plus exactly one verb. */
export const faultSchema = z
  .strictObject({
    at_s: nonNeg(),
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
        message:
          verbs.length === 0
            ? `expected one of ${FAULT_VERBS.join(', ')}`
            : `expected exactly one verb, got ${verbs.join(' and ')}`,
      });
      return;
    }
    const verb = verbs[0];
    if ((verb === 'set_latency_ms' || verb === 'set_loss') && f.between === undefined) {
      ctx.addIssue({ code: 'custom', path: ['between'], message: `expected [nodeA, nodeB] with ${verb}` });
    }
    if (f.keep_state !== undefined && verb !== 'restart') {
      ctx.addIssue({ code: 'custom', path: ['keep_state'], message: 'keep_state goes with restart' });
    }
  });

/** The outputs section. */
export const outputsSchema = z.strictObject({
  traces: z.union([z.enum(['all', 'none']), z.array(z.string())]).default('all'),
  plots: z.boolean().default(true),
});

/** Builds the whole scenario schema from the registered drivers. */
export function scenarioSchema(drivers: readonly ProtocolDriver[]) {
  const protocolShape: Record<string, z.ZodType> = {};
  for (const d of drivers) protocolShape[d.name] = d.schema.optional();
  const names = drivers.map((d) => d.name);
  return z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, _ . - (it names the output folder)'),
    description: z.string().default(''),
    seed: z.int().min(0).max(2 ** 32 - 1).default(1),
    duration_s: z.number().positive(),
    network: networkSchema.optional(),
    protocol: z.strictObject(protocolShape).superRefine((p, ctx) => {
      const set = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] !== undefined);
      if (set.length !== 1) ctx.addIssue({ code: 'custom', message: `expected exactly one protocol section: one of ${names.join(', ')}` });
    }),
    workload: z.array(z.unknown()).default([]),
    faults: z.array(faultSchema).default([]),
    outputs: outputsSchema.default({ traces: 'all', plots: true }),
  });
}

/** The JSON Schema of scenario files (for editors), with every driver's section and workload entries. */
export function scenarioJsonSchema(drivers: readonly ProtocolDriver[]): object {
  const base = scenarioSchema(drivers);
  const workloadEntry = drivers.length === 1 ? (drivers[0] as ProtocolDriver).workloadSchema : z.union(drivers.map((d) => d.workloadSchema) as unknown as [z.ZodType, z.ZodType]);
  const withWorkload = base.extend({ workload: z.array(workloadEntry).default([]) });
  const js = z.toJSONSchema(withWorkload, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...js, title: 'desim scenario' };
}
