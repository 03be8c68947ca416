import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/kernel/random.js';
import type { Action } from '../../../src/protocols/sans-io.js';
import { GossipNode } from '../../../src/protocols/gossip/node.js';
import { resolveConfig } from '../../../src/protocols/gossip/presets.js';
import type { Entry } from '../../../src/protocols/gossip/store.js';
import type { GossipMessage } from '../../../src/protocols/gossip/wire.js';
import { gossipDriver } from '../../../src/scenarios/drivers/gossip.js';
import { checkScenario, parseScenarioText } from '../../../src/scenarios/loader.js';

const S = 1_000_000_000;
const e: Entry = { key: 'k', value: 'v', ts: 5, origin: 3, deleted: false };

function node(regossip: boolean): GossipNode {
  const n = new GossipNode({
    id: 0,
    peers: [0, 1, 2, 3, 4],
    rng: new Random('n0'),
    config: resolveConfig('default', { regossipAntiEntropy: regossip }),
  });
  n.start(0);
  n.pollActions();
  return n;
}

function rumorsSent(actions: readonly Action<GossipMessage>[]): Entry[] {
  return actions.flatMap((a) => (a.type === 'send' && a.msg.type === 'rumor' ? a.msg.rumors : []));
}

/** Delivers `msg` at t = 1 s, then runs the node's gossip timer at 2 s; returns the rumors it sent. */
function afterRound(n: GossipNode, msg: GossipMessage): Entry[] {
  n.handleMessage(3, msg, S);
  n.pollActions();
  n.handleTimer('gossip', 2 * S);
  return rumorsSent(n.pollActions());
}

describe('regossip_anti_entropy', () => {
  for (const [form, msg] of [
    ['a delta', { type: 'delta', entries: [e] }],
    ['an inline summary item', { type: 'summary', buckets: 64, bucket: 0, first: true, last: true, items: [e] }],
  ] as const) {
    it(`a version learned from ${form} becomes a hot rumor only when the option is on`, () => {
      const on = node(true);
      expect(afterRound(on, msg)).toContainEqual(e);
      expect(on.store.entry('k')).toEqual(e);

      const off = node(false);
      expect(afterRound(off, msg)).toEqual([]);
      expect(off.hotRumors).toBe(0);
      expect(off.store.entry('k')).toEqual(e);
    });
  }

  it('is a scenario key (default false) and is refused when not a boolean', () => {
    expect(gossipDriver.schema.parse({}).regossip_anti_entropy).toBe(false);
    expect(gossipDriver.schema.parse({ regossip_anti_entropy: true }).regossip_anti_entropy).toBe(true);
    expect(gossipDriver.schema.safeParse({ regossip_anti_entropy: 'yes' }).success).toBe(false);
  });

  it('is refused, with its path, where it could not act (no rumor mongering, or no anti-entropy)', () => {
    for (const [extra, why] of [
      ['mode: off', 'mode is off'],
      ['anti_entropy: { interval_s: 0 }', 'anti_entropy.interval_s is 0'],
    ] as const) {
      const r = checkScenario(
        parseScenarioText(`
name: x
duration_s: 1
network: { nodes: 3 }
protocol: { gossip: { regossip_anti_entropy: true, ${extra} } }
`),
        [gossipDriver],
      );
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.issues).toContainEqual({ path: 'protocol.gossip.regossip_anti_entropy', message: expect.stringContaining(why) });
    }
  });
});
