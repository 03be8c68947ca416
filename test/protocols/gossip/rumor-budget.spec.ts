/**
 * The rumor budget (`rumorBudget`, scenario key `rumor_budget`): at most that
 * many rumor messages per contact, the least sent first and among them the
 * newest; the rest wait. Without a budget (the simulator's default) every hot
 * rumor goes out every round, as before.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import type { GossipConfig } from '../../../src/protocols/gossip/config.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig, type PresetName } from '../../../src/protocols/gossip/presets.js';
import type { GossipMessage } from '../../../src/protocols/gossip/wire.js';
import { gossipDriver, toGossipConfig } from '../../../src/scenarios/drivers/gossip.js';
import * as gossipModule from '../../../src/testing/gossip-module.js';
import { nodeNames, runCase, type ClusterCase } from '../../../src/testing/index.js';

const S = 1_000_000_000;
const BIG = 'v'.repeat(400); // three such entries fill a 1400-byte message

function node(preset: PresetName, overrides: Partial<GossipConfig>): GossipNode {
  const n = new GossipNode({
    id: 0,
    peers: [0, 1, 2],
    rng: new Random('n0'),
    config: resolveConfig(preset, { intervalNs: S, phase: 'aligned', ...overrides }),
  });
  n.start(0);
  for (let i = 0; i < 9; i++) n.put(`k${i}`, BIG, 10 + i); // k8 is the newest
  n.pollActions();
  return n;
}

type Send = Extract<Action<GossipMessage>, { type: 'send' }>;
/** The keys of each rumor message the node sent since the last poll. */
function rumorPages(n: GossipNode): string[][] {
  return n
    .pollActions()
    .filter((a): a is Send => a.type === 'send' && a.msg.type === 'rumor')
    .map((a) => (a.msg as Extract<GossipMessage, { type: 'rumor' }>).rumors.map((e) => e.key));
}

describe('rumor budget', () => {
  it('without one (the default) every hot rumor goes out every round, in the order they became hot', () => {
    const n = node('demers-feedback-counter', {});
    n.handleTimer('gossip', S);
    expect(rumorPages(n)).toEqual([
      ['k0', 'k1', 'k2'],
      ['k3', 'k4', 'k5'],
      ['k6', 'k7', 'k8'],
    ]);
  });

  it('budget 1: one message per round, the newest unsent rumors first, then round-robin by sends (newest first among equals)', () => {
    const n = node('demers-feedback-counter', { rumorBudget: 1 });
    const rounds: string[][][] = [];
    for (let r = 1; r <= 4; r++) {
      n.handleTimer('gossip', r * S);
      rounds.push(rumorPages(n));
    }
    expect(rounds).toEqual([[['k8', 'k7', 'k6']], [['k5', 'k4', 'k3']], [['k2', 'k1', 'k0']], [['k8', 'k7', 'k6']]]);
    // A new write jumps the queue.
    n.put('new', 1, 4 * S + 10);
    n.pollActions();
    n.handleTimer('gossip', 5 * S);
    expect(rumorPages(n)).toEqual([['new', 'k5', 'k4', 'k3']]); // 'new' is small: four fit
    expect(n.hotRumors).toBe(10); // none lost: they wait
  });

  it('blind counter under a budget counts only the rounds in which a rumor was sent', () => {
    const n = node('demers-blind-counter', { rumorBudget: 1, k: 2 });
    const hotAfter: number[] = [];
    for (let r = 1; r <= 7; r++) {
      n.handleTimer('gossip', r * S);
      rumorPages(n);
      hotAfter.push(n.hotRumors);
    }
    // Each group of three is sent in rounds g and g + 3, and retired when round g + 3 is settled (at g + 4).
    expect(hotAfter).toEqual([9, 9, 9, 9, 6, 3, 0]);
  });

  it('a pull answer is bounded the same way', () => {
    const n = node('demers-pull-feedback-counter', { rumorBudget: 2 });
    n.handleMessage(1, { type: 'rumor', rumors: [], pull: true, reply: false }, S + 1_000_000);
    expect(rumorPages(n)).toEqual([
      ['k8', 'k7', 'k6'],
      ['k5', 'k4', 'k3'],
    ]);
    n.handleMessage(2, { type: 'rumor', rumors: [], pull: true, reply: false }, S + 2_000_000);
    expect(rumorPages(n)).toEqual([
      ['k2', 'k1', 'k0'],
      ['k8', 'k7', 'k6'],
    ]);
  });

  it('is a scenario key: none by default, an integer in [1, 1000000], refused otherwise; the node refuses a bad value', () => {
    expect(gossipDriver.schema.parse({}).rumor_budget).toBe('none');
    expect(toGossipConfig(gossipDriver.schema.parse({})).rumorBudget).toBe(Infinity);
    expect(toGossipConfig(gossipDriver.schema.parse({ rumor_budget: 4 })).rumorBudget).toBe(4);
    for (const bad of [0, 1.5, -1, 1_000_001, 'all']) expect(gossipDriver.schema.safeParse({ rumor_budget: bad }).success).toBe(false);
    for (const bad of [0, 1.5, NaN]) {
      expect(() => new GossipNode({ id: 0, peers: [0, 1], rng: new Random('x'), config: { rumorBudget: bad } })).toThrow(/rumor budget/);
    }
  });

  it('a 3-node cluster under a burst of 120 large writes converges with a budget of 1, sending a fraction of the rumor messages', () => {
    const nodes = nodeNames(3);
    const c: ClusterCase = {
      nodes,
      seed: 7,
      link: { latency_ms: 5, loss: 0.05 },
      workload: Array.from({ length: 120 }, (_, i) => ({
        at_s: 1 + i / 100,
        node: nodes[i % 3] as string,
        call: { op: 'put', key: `k${i % 60}`, value: `${i}${BIG}` },
      })),
      faults: [],
    };
    const rumorMessages = (budget: number | 'none'): number => {
      const view = runCase(gossipModule, c, { duration_s: 120, options: { anti_entropy: { interval_s: 2 }, rumor_budget: budget } });
      expect(gossipModule.problems(view)).toEqual([]);
      return view.nodes.reduce((sum, n) => sum + (n as GossipNode).sent.rumor, 0);
    };
    const free = rumorMessages('none');
    const bounded = rumorMessages(1);
    console.log(`rumor messages for 120 writes of 400 bytes on 3 nodes: ${free} without a budget, ${bounded} with rumor_budget 1`);
    expect(bounded).toBeLessThan(free);
  });
});
