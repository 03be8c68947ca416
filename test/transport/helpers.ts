/** Shared helpers for the transport tests: free loopback ports and bounded polling. */
import dgram from 'node:dgram';
import { freeUdpPorts } from '../../src/bench/udp.js';

/** `n` distinct UDP ports that were free on 127.0.0.1 a moment ago (the bench's helper). */
export { freeUdpPorts };

/** Returns a port P such that P .. P + n - 1 were all free on 127.0.0.1 a moment ago. */
export async function freeConsecutivePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [base] = (await freeUdpPorts(1)) as [number];
    if (base + n - 1 > 65535) continue;
    const sockets = Array.from({ length: n }, () => dgram.createSocket('udp4'));
    const ok = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            s.once('error', () => resolve(false));
            s.bind(base + i, '127.0.0.1', () => resolve(true));
          }),
      ),
    );
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    );
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free UDP ports found`);
}

/**
 * Polls `check` every `everyMs` until it returns a value other than undefined,
 * or rejects after `attempts` tries with `what` in the message. Not a timing
 * assertion: the bound (5 minutes by default) only keeps a broken build from
 * hanging. It was 20 s, which a CI run on a busy 2-core machine did hit.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, attempts = 3000, everyMs = 100): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any thrown value, as String() shows it
  throw new Error(`gave up waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
}

/** Sends raw bytes from a throwaway socket (optionally bound to a given port) to 127.0.0.1:port. */
export async function sendRaw(port: number, payloads: readonly Uint8Array[], fromPort = 0): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(fromPort, '127.0.0.1', () => resolve()));
  for (const p of payloads) await new Promise<void>((resolve) => s.send(p, port, '127.0.0.1', () => resolve()));
  await new Promise<void>((resolve) => s.close(() => resolve()));
}
