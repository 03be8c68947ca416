/**
 * The ports the UDP tests and `desim bench udp` give their nodes: distinct, free, and below the
 * ephemeral range the OS hands to client sockets, so no client of a test running beside them can
 * take one before its node binds it.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { freeUdpPorts } from '../../src/bench/udp.js';

function bind(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

describe('freeUdpPorts', () => {
  it('gives distinct ports below the ephemeral range (32768 and up) that can be bound at once', async () => {
    const ports = await freeUdpPorts(40);
    expect(new Set(ports).size).toBe(40);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(32_768);
    }
    const sockets = await Promise.all(ports.map(bind));
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
});
