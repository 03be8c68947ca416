/**
 * A tiny sans-I/O key-value node for testing the UDP host without gossip:
 * a put is stored and pushed to every peer; a `tick` timer re-pushes every
 * key every `intervalNs` (so a restarted peer catches up). Messages are JSON
 * objects (so the first byte is always `{`); client requests and replies are
 * messages too, as in the gossip wire.
 */
import dgram from 'node:dgram';
import { Outbox, type Action, type ProtocolNode } from '../../src/protocols/sans-io.js';
import type { NodeId } from '../../src/net/network.js';
import type { ClientService, Codec } from '../../src/transport/udp-host.js';
import { framePlain, openPlain } from '../../src/transport/envelope.js';

export type ToyCall = { op: 'put'; key: string; value: string } | { op: 'get'; key: string } | { op: 'stats' };
export type ToyReply = { found: boolean; value?: string; stats?: Record<string, number> };
export type ToyMsg = { t: 'kv'; key: string; value: string } | { t: 'req'; id: number; call: ToyCall } | { t: 'rep'; id: number; reply: ToyReply };

export class ToyNode implements ProtocolNode<ToyMsg, ToyCall, ToyReply> {
  readonly store = new Map<string, string>();
  readonly received: { from: NodeId; msg: ToyMsg }[] = [];
  /** Client calls applied. */
  callsApplied = 0;
  private readonly out = new Outbox<ToyMsg>();

  constructor(
    private readonly peers: readonly NodeId[],
    private readonly intervalNs: number,
  ) {}

  start(now: number): void {
    this.out.setTimer('tick', now + this.intervalNs);
  }

  handleMessage(from: NodeId, msg: ToyMsg): void {
    this.received.push({ from, msg });
    if (msg.t === 'kv') this.store.set(msg.key, msg.value);
  }

  handleTimer(_timer: string, now: number): void {
    for (const [key, value] of this.store) for (const p of this.peers) this.out.send(p, { t: 'kv', key, value }, 0);
    this.out.setTimer('tick', now + this.intervalNs);
  }

  handleCall(call: ToyCall): ToyReply {
    this.callsApplied++;
    if (call.op === 'put') {
      this.store.set(call.key, call.value);
      for (const p of this.peers) this.out.send(p, { t: 'kv', key: call.key, value: call.value }, 0);
      return { found: true };
    }
    if (call.op === 'stats') return { found: true, stats: { keys: this.store.size } };
    const value = this.store.get(call.key);
    return value === undefined ? { found: false } : { found: true, value };
  }

  pollActions(): readonly Action<ToyMsg>[] {
    return this.out.drain();
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const toyCodec: Codec<ToyMsg> = {
  encode: (m) => enc.encode(JSON.stringify(m)),
  decode: (b) => {
    if (b[0] !== 0x7b) throw new Error('not a toy message');
    const m = JSON.parse(dec.decode(b)) as ToyMsg | null;
    if (typeof m !== 'object' || m === null || !['kv', 'req', 'rep'].includes(m.t)) throw new Error('bad toy message');
    if (m.t === 'kv' && (typeof m.key !== 'string' || typeof m.value !== 'string')) throw new Error('bad kv message');
    if (m.t === 'req' && (typeof m.id !== 'number' || typeof m.call !== 'object' || m.call === null)) throw new Error('bad request');
    return m;
  },
};

export function toyClient(node: ToyNode): ClientService<ToyMsg> {
  return {
    requestId: (m) => (m.t === 'req' ? m.id : undefined),
    answer: (m, now, hostStats) => {
      if (m.t !== 'req') throw new Error('not a request');
      const reply = node.handleCall(m.call);
      if (m.call.op === 'stats') reply.stats = { ...hostStats(), ...reply.stats };
      return { t: 'rep', id: m.id, reply };
    },
  };
}

/** Sends one toy client call (a padded plain frame) from a fresh socket and resolves with the reply (undefined after `timeoutMs`). */
export async function toyCall(port: number, id: number, call: ToyCall, timeoutMs = 1000): Promise<ToyReply | undefined> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  try {
    return await new Promise<ToyReply | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      s.on('message', (buf) => {
        const opened = openPlain(buf);
        const m = toyCodec.decode(opened.ok ? opened.payload : buf);
        if (m.t === 'rep' && m.id === id) {
          clearTimeout(timer);
          resolve(m.reply);
        }
      });
      // Padded, as real clients do: the host never answers with more bytes than it received.
      s.send(framePlain(toyCodec.encode({ t: 'req', id, call }), 1400), port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}
