/**
 * A tiny sans-I/O key-value node for testing the UDP host without gossip:
 * a put is stored and pushed to every peer; a `tick` timer re-pushes every
 * key every `intervalNs` (so a restarted peer catches up). Messages are
 * `{ key, value }` objects encoded as JSON behind the byte 0x7b ('{').
 */
import { Outbox, type ProtocolNode } from '../../src/protocols/sans-io.js';
import type { NodeId } from '../../src/protocols/net/network.js';
import type { CallAdapter, Codec, KvRequest } from '../../src/transport/udp-host.js';
import type { ClientReply } from '../../src/transport/client-wire.js';

export interface ToyMsg {
  readonly key: string;
  readonly value: string;
}
export type ToyCall = KvRequest;
export type ToyReply = { found: boolean; value?: string };

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
    this.store.set(msg.key, msg.value);
  }

  handleTimer(_timer: string, now: number): void {
    for (const [key, value] of this.store) for (const p of this.peers) this.out.send(p, { key, value }, 0);
    this.out.setTimer('tick', now + this.intervalNs);
  }

  handleCall(call: ToyCall): ToyReply {
    this.callsApplied++;
    if (call.op === 'put') {
      this.store.set(call.key, call.value);
      for (const p of this.peers) this.out.send(p, { key: call.key, value: call.value }, 0);
      return { found: true };
    }
    const value = this.store.get(call.key);
    if (call.op === 'del') return { found: this.store.delete(call.key) };
    return value === undefined ? { found: false } : { found: true, value };
  }

  pollActions(): ReturnType<Outbox<ToyMsg>['drain']> {
    return this.out.drain();
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const toyCodec: Codec<ToyMsg> = {
  encode: (m) => enc.encode(JSON.stringify(m)),
  decode: (b) => {
    if (b[0] !== 0x7b) throw new Error('not a toy message');
    const m = JSON.parse(dec.decode(b)) as unknown;
    if (typeof m !== 'object' || m === null || typeof (m as ToyMsg).key !== 'string' || typeof (m as ToyMsg).value !== 'string') {
      throw new Error('bad toy message');
    }
    return m as ToyMsg;
  },
};

export function toyCalls(node: ToyNode): CallAdapter<ToyCall, ToyReply> {
  return {
    toCall: (req) => req,
    toReply: (r, req): ClientReply => {
      if (!r.found) return { status: 'not_found' };
      return req.op === 'get' ? { status: 'ok', value: r.value ?? '' } : { status: 'ok' };
    },
    stats: () => ({ keys: node.store.size }),
  };
}
