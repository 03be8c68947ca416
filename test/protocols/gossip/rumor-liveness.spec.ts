/**
 * Rumor liveness: with one node crashed for good, random loss and random
 * writes, every hot rumor on the live nodes retires within a bound. A crashed
 * peer never answers, so only the live peer's feedback (or the blind counter)
 * can retire a rumor; a rumor that can no longer be sent, or whose feedback
 * can never match, would stay hot for ever and keep the node's gossip timer
 * running (what a real cluster showed after a SIGKILL: "A and B have no hot
 * rumors" never came).
 *
 * The property (desim/testing on src/testing/gossip-module.ts): 3 nodes, n2
 * crashed from a time in [0, 5] s to the end, link loss in [0, 0.4] and jitter
 * in [0, 300] ms (reordering), with or without a rumor budget, up to 12
 * puts and deletes of 2 keys at random nodes in [0, 10] s; `BOUND_S` after the
 * last write every live node has no hot rumor. A failure prints the
 * fast-check seed, the shrunk case and a scenario file that `desim run`
 * replays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig } from '../../../src/protocols/gossip/presets.js';
import * as gossipModule from '../../../src/testing/gossip-module.js';
import type { GossipMessage, KvCall, KvReply } from '../../../src/protocols/gossip/wire.js';
import { checkProtocol, nodeNames, timeArb, workloadArb, type ClusterCase, type ClusterView } from '../../../src/testing/index.js';
import { fcParams } from '../../fc.js';

const dir = mkdtempSync(join(tmpdir(), 'gossip-rumor-liveness-'));
const built = resolve('dist/src/testing/gossip-module.js');

/** Writes end by this time (s). */
const WRITES_UNTIL_S = 10;
/**
 * Time after the last write by which every hot rumor must have retired (s):
 * 250 rounds of 1 s. The slowest rule here is feedback + coin with fanout 1:
 * a round's push goes to the live peer with probability 1/2, it and its
 * feedback both arrive with probability 0.6^2 at 40% loss, and the coin then
 * retires the rumor with probability 1/3, so a rumor survives a round with
 * probability at most 0.94, and 250 rounds with probability below 2e-7.
 */
const BOUND_S = 250;

const write = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b'), value: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b') }) },
);

const nodes = nodeNames(3);

/** 3 nodes, the last crashed for good, random loss and writes, a preset whose rumors can retire. */
const cases: fc.Arbitrary<ClusterCase> = fc
  .record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    loss: fc.integer({ min: 0, max: 40 }).map((l) => l / 100),
    jitter: fc.integer({ min: 0, max: 300 }),
    crashAt: timeArb(0, 5),
    workload: workloadArb(nodes, write, { until_s: WRITES_UNTIL_S, minCalls: 1, maxCalls: 12 }),
    options: fc.record({
      preset: fc.constantFrom('default', 'demers-feedback-counter', 'demers-feedback-coin', 'demers-blind-counter', 'demers-pull-feedback-counter'),
      anti_entropy: fc.record({ interval_s: fc.constantFrom(0, 0.5, 1, 2, 10) }),
      regossip_anti_entropy: fc.boolean(),
      counter_reset: fc.boolean(),
      tombstone_gc_s: fc.constantFrom(1, 300),
      rumor_budget: fc.constantFrom('none', 1, 2),
    }),
  })
  .map((r): ClusterCase => ({
    nodes,
    seed: r.seed,
    link: { latency_ms: 5, loss: r.loss, ...(r.jitter > 0 ? { jitter_ms: r.jitter } : {}) },
    workload: r.workload,
    faults: [{ at_s: r.crashAt, crash: 'n2' }],
    // regossip_anti_entropy is refused without anti-entropy.
    options: { ...r.options, regossip_anti_entropy: r.options.regossip_anti_entropy && r.options.anti_entropy.interval_s > 0 },
  }));

/** Names and hot-rumor counts of the live nodes that still have hot rumors. */
function stillHot(view: ClusterView<GossipMessage, KvCall, KvReply>): string[] {
  const out: string[] = [];
  view.nodes.forEach((n, i) => {
    const hot = (n as GossipNode).hotRumors;
    if (view.up[i] === true && hot > 0) out.push(`${view.names[i]}: ${hot} hot rumors`);
  });
  return out;
}

describe('rumor liveness with a peer crashed for good', () => {
  it(`every hot rumor on the live nodes retires within ${BOUND_S} s of the last write (random loss, writes, presets)`, () => {
    let runs = 0;
    checkProtocol({
      module: gossipModule,
      modulePath: built,
      cases,
      duration_s: WRITES_UNTIL_S + BOUND_S,
      counterexampleDir: dir,
      name: 'rumor-liveness',
      params: fcParams({ numRuns: 400 }),
      property: (view) => {
        runs++;
        const hot = stillHot(view);
        if (hot.length > 0) return `hot rumors ${BOUND_S} s after the last write: ${hot.join(', ')}`;
        return undefined;
      },
    });
    expect(runs).toBe(400);
  });

  it('a hot rumor superseded by a version learned through anti-entropy retires at once (default preset; it was kept hot, unsent, for ever)', () => {
    const S = 1_000_000_000;
    const n = new GossipNode({ id: 0, peers: [0, 1, 2], rng: new Random('n0'), config: resolveConfig('default') });
    n.start(0);
    const v1 = { key: 'k', value: 1, ts: 5, origin: 1, deleted: false };
    const v2 = { key: 'k', value: 2, ts: 9, origin: 1, deleted: false };
    const other = { key: 'j', value: 3, ts: 6, origin: 1, deleted: false };
    n.handleMessage(1, { type: 'rumor', rumors: [v1, other], pull: false, reply: false }, S);
    expect(n.hotRumors).toBe(2);
    n.handleMessage(1, { type: 'delta', entries: [v2] }, S + 1);
    expect(n.store.entry('k')).toEqual(v2);
    expect(n.hotRumors).toBe(1); // j is still spread; the superseded k = 1 is not
    n.pollActions();
    n.handleTimer('gossip', 3 * S);
    const sent = n.pollActions().flatMap((a) => (a.type === 'send' && a.msg.type === 'rumor' ? a.msg.rumors : []));
    expect(sent.map((e) => e.key)).toEqual(['j', 'j']);
  });
});
