// The flood of the security test, as a process of its own (an attacker's program, not the test's):
//   node flooder.mjs ROOT PORT KEY_BASE64
// sends 20,000 sealed 400-byte puts of 2,000 keys to 127.0.0.1:PORT from one socket, in 100 bursts
// of 200, one burst every 100 ms, with ROOT's compiled envelope and wire code. It prints
// "burst N" after each burst and "done SECONDS" at the end.
import { Buffer } from 'node:buffer';
import dgram from 'node:dgram';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const [root, port, keyBase64] = process.argv.slice(2);
const dist = (file) => pathToFileURL(path.join(root, 'dist/src', file)).href;
const { Keyring, SEALED_OVERHEAD } = await import(dist('transport/envelope.js'));
const { encode } = await import(dist('protocols/gossip/wire.js'));
const ring = new Keyring([Buffer.from(keyBase64, 'base64')]);
const socket = dgram.createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
const value = 'v'.repeat(400);
const t0 = performance.now();
for (let burst = 0; burst < 100; burst++) {
  for (let j = 0; j < 200; j++) {
    const i = burst * 200 + j;
    const msg = encode({ type: 'client-request', id: i, call: { op: 'put', key: `f${i % 2000}`, value } });
    socket.send(ring.seal(msg, Date.now(), 1400 + SEALED_OVERHEAD), Number(port), '127.0.0.1');
  }
  process.stdout.write(`burst ${burst}\n`);
  const next = t0 + (burst + 1) * 100;
  await sleep(Math.max(0, next - performance.now()));
}
process.stdout.write(`done ${((performance.now() - t0) / 1000).toFixed(1)}\n`);
socket.close();
