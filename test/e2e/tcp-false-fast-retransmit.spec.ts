/**
 * Regression: after a retransmission timeout the sender sets recover = highTx - 1 (RFC 6582 3.2 step 4),
 * and three duplicate ACKs that cover no more than recover must not start a fast retransmit (3.2 step 2,
 * section 4). They come from go-back-N resending segments the receiver already holds. The sender used to
 * compare the ACK field itself with recover, so duplicates of exactly highTx (= recover + 1) passed: in
 * the first scenario below a timeout at 137.67036 s was followed by a fast retransmit at 137.87132 s whose
 * ACK was the pre-timeout highTx, halving ssthresh from 6.5 to 3 segments.
 *
 * The check reads only trace-cwnd.csv: highTx is the largest snd_nxt traced so far (snd_nxt only grows
 * past highTx by sending, and a record follows every input), so at a timeout row recover + 1 is the
 * largest snd_nxt of the rows before it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../src/scenarios/loader.js';
import { parseSets } from '../../src/scenarios/overrides.js';
import { runScenario } from '../../src/scenarios/runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-tcp-frr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The path of the report: 100 Mbps, 40 ms RTT, 333-packet queue, 2% loss, initial window 10. */
const PATH = [
  'protocol.tcp.bottleneck.bandwidth_bps=100000000',
  'protocol.tcp.bottleneck.delay_ms=20',
  'protocol.tcp.return_path.delay_ms=20',
  'protocol.tcp.bottleneck.queue_packets=333',
  'protocol.tcp.initial_window=10',
  'protocol.tcp.bottleneck.loss=0.02',
  'outputs.traces=[cwnd]',
];

interface Finding {
  timeouts: number;
  fastRetransmits: number;
  /** Third (or later) duplicate ACKs at exactly recover + 1 after a timeout: the case that used to fire. */
  duplicatesAtRecoverPlusOne: number;
  /** Fast retransmits whose ACK covers no more than the recover of the preceding timeout. */
  violations: string[];
}

function check(csv: string): Finding {
  const [header, ...rows] = csv.trim().split('\n');
  const col = (name: string): number => {
    const i = (header as string).split(',').indexOf(name);
    if (i < 0) throw new Error(`trace-cwnd.csv has no ${name} column`);
    return i;
  };
  const [iTime, iEvent, iUna, iNxt, iDup] = ['time_s', 'event', 'snd_una_bytes', 'snd_nxt_bytes', 'dupacks'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const f: Finding = { timeouts: 0, fastRetransmits: 0, duplicatesAtRecoverPlusOne: 0, violations: [] };
  let highTx = 0;
  let recover = -Infinity; // of the last timeout
  for (const row of rows) {
    const c = row.split(',');
    const event = c[iEvent];
    const ack = Number(c[iUna]);
    if (event === 'timeout') {
      f.timeouts++;
      recover = highTx - 1;
    } else if (event === 'fast_retransmit') {
      f.fastRetransmits++;
      if (ack - 1 <= recover) f.violations.push(`${c[iTime]} s: fast retransmit on ACK ${ack}, recover ${recover}`);
    } else if (event === 'dupack' && Number(c[iDup]) >= 3 && ack === recover + 1) {
      f.duplicatesAtRecoverPlusOne++;
    }
    highTx = Math.max(highTx, Number(c[iNxt]));
  }
  return f;
}

describe('no fast retransmit on duplicate ACKs at or below the recover of a timeout (RFC 6582 3.2 step 2, section 4)', () => {
  const cases = [
    { name: 'reno, the reported run (seed 1, 140 s)', sets: ['duration_s=140'] },
    {
      name: 'newreno (seed 5, 12 s)',
      sets: ['duration_s=12', 'seed=5', 'protocol.tcp.flows=[{variant: newreno, name: newreno}]'],
    },
  ];
  for (const { name, sets } of cases) {
    it(name, async () => {
      const parsed = parseSets([...PATH, ...sets]);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
      const scenario = loadScenario(resolveScenarioPath('tcp-mathis-padhye'), BUILTIN_DRIVERS, parsed.overrides);
      const out = join(tmp, name.split(' ')[0] as string);
      await runScenario(scenario, { outDir: out });
      const f = check(readFileSync(join(out, 'trace-cwnd.csv'), 'utf8'));
      expect(f.violations).toEqual([]);
      // The situation arose and was refused (else this test would prove nothing), and loss recovery still works.
      expect(f.duplicatesAtRecoverPlusOne).toBeGreaterThan(0);
      expect(f.timeouts).toBeGreaterThan(0);
      expect(f.fastRetransmits).toBeGreaterThan(f.timeouts);
    });
  }
});
