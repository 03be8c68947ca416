/**
 * The real node's gossip configuration: bounded rumor traffic by default
 * (the simulator's default is no budget), overridable.
 */
import { describe, expect, it } from 'vitest';
import { REAL_NODE_RUMOR_BUDGET } from '../../src/protocols/gossip/config.js';
import { resolveConfig } from '../../src/protocols/gossip/presets.js';
import { gossipConfigFromCli, startGossipNode } from '../../src/transport/gossip-udp.js';
import { freeUdpPorts } from './helpers.js';

describe('real-node gossip configuration', () => {
  it('has a rumor budget of REAL_NODE_RUMOR_BUDGET unless told otherwise; the simulator default has none', () => {
    expect(REAL_NODE_RUMOR_BUDGET).toBe(8);
    expect(resolveConfig('default').rumorBudget).toBe(Infinity);
    expect(gossipConfigFromCli({}).rumorBudget).toBe(REAL_NODE_RUMOR_BUDGET);
    expect(gossipConfigFromCli({ preset: 'push-pull', rumorBudget: 2 }).rumorBudget).toBe(2);
    expect(gossipConfigFromCli({ rumorBudget: Infinity }).rumorBudget).toBe(Infinity);
  });

  it('startGossipNode bounds the budget when its config does not set one', async () => {
    const [port] = (await freeUdpPorts(1)) as [number];
    const running = await startGossipNode({ name: 'A', listen: { host: '127.0.0.1', port }, peers: [], seed: 'x', config: { intervalNs: 1e8 } });
    try {
      expect(running.node.config.rumorBudget).toBe(REAL_NODE_RUMOR_BUDGET);
      expect(running.node.config.intervalNs).toBe(1e8);
    } finally {
      await running.stop();
    }
  });
});
