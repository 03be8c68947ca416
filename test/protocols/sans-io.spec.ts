import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/protocols/sans-io.js';

describe('Outbox', () => {
  it('queues actions in order and drain() returns them once', () => {
    const out = new Outbox<string>();
    expect(out.drain()).toEqual([]);
    out.send(3, 'hello', 120);
    out.setTimer('rto', 5_000);
    out.cancelTimer('rto');
    out.trace('cwnd', { cwnd_pkts: 4, phase: 'slow-start', ok: true });
    expect(out.drain()).toEqual([
      { type: 'send', to: 3, msg: 'hello', sizeBytes: 120 },
      { type: 'set-timer', timer: 'rto', atNs: 5_000 },
      { type: 'cancel-timer', timer: 'rto' },
      { type: 'trace', name: 'cwnd', data: { cwnd_pkts: 4, phase: 'slow-start', ok: true } },
    ]);
    expect(out.drain()).toEqual([]);
  });

  it('a drained batch is not changed by later actions', () => {
    const out = new Outbox<number>();
    out.send(1, 1, 1);
    const first = out.drain();
    out.send(2, 2, 2);
    expect(first).toEqual([{ type: 'send', to: 1, msg: 1, sizeBytes: 1 }]);
    expect(out.drain()).toEqual([{ type: 'send', to: 2, msg: 2, sizeBytes: 2 }]);
  });

  it('the empty batch is frozen, so a driver cannot queue into it by mistake', () => {
    const out = new Outbox<number>();
    const empty = out.drain();
    expect(Object.isFrozen(empty)).toBe(true);
    out.send(1, 1, 1);
    expect(empty).toHaveLength(0);
  });

  it('clear() drops every queued action', () => {
    const out = new Outbox<string>();
    out.send(0, 'x', 1);
    out.setTimer('t', 1);
    out.clear();
    expect(out.drain()).toEqual([]);
  });
});
