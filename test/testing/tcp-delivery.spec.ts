/**
 * desim/testing's TCP delivery property, in CI: 80 cases per variant (tahoe, reno, newreno, cubic) and 80 SACK ones, each a small transfer
 * over a link with up to 30% loss both ways, jitter (reordering), duplication and a drop-tail queue
 * of 2, 10 or 1000 packets, with partitions, holds, crashes, loss and latency episodes that heal.
 * Every byte must arrive exactly once and in order, and the sender's invariants must hold after
 * every input and every segment sent. The fast-check seed is pinned (test/fc.ts); a failure prints
 * it with the shrunk case and writes a scenario `desim run` replays.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { VARIANTS } from '../../src/protocols/tcp/index.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { parseScenarioText, validateScenario } from '../../src/scenarios/loader.js';
import { PropertyFailure, checkTcpDelivery, runTcpCase, tcpCaseArb, tcpCaseToScenario, type TcpCase } from '../../src/testing/index.js';
import { fcParams } from '../fc.js';

const tmp = mkdtempSync(join(tmpdir(), 'desim-tcp-prop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('desim/testing: TCP delivers every byte once, in order, under loss, reordering, duplication and healing faults', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: 80 cases`, () => {
      const r = checkTcpDelivery({
        name: `tcp-${variant}`,
        counterexampleDir: tmp,
        cases: tcpCaseArb({ variants: [variant] }),
        params: fcParams({ numRuns: 80 }),
      });
      expect(r.numRuns).toBe(80);
    });
  }

  it('sack (reno, newreno and cubic, limited transmit and PRR on): 80 cases', () => {
    const r = checkTcpDelivery({
      name: 'tcp-sack',
      counterexampleDir: tmp,
      cases: tcpCaseArb({ variants: ['reno', 'newreno', 'cubic'], sack: true }),
      params: fcParams({ numRuns: 80 }),
    });
    expect(r.numRuns).toBe(80);
  });

  it('every variant is drawn by default, cubic included', () => {
    const drawn = new Set(fc.sample(tcpCaseArb(), { seed: 7, numRuns: 200 }).map((c) => c.variant));
    expect([...drawn].sort()).toEqual([...VARIANTS].sort());
    expect(drawn.has('cubic')).toBe(true);
  });

  it('a SACK case replays as a SACK flow (its scenario file says sack: true)', () => {
    const cases = fc.sample(tcpCaseArb({ variants: ['reno', 'newreno'], sack: true }), { seed: 7, numRuns: 20 });
    expect(cases.every((c) => c.sack === true && c.variant !== 'tahoe')).toBe(true);
    const scenario = tcpCaseToScenario(cases[0] as TcpCase, { name: 'x', duration_s: 10 });
    expect((scenario['protocol'] as { tcp: { flows: { sack?: boolean }[] } }).tcp.flows[0]?.sack).toBe(true);
    expect(fc.sample(tcpCaseArb(), { seed: 7, numRuns: 20 }).some((c) => c.sack !== undefined)).toBe(false);
  });

  it('the cases reach what they claim: heavy loss, timeouts, every fault kind', () => {
    const cases = fc.sample(tcpCaseArb(), { seed: 7, numRuns: 200 });
    expect(cases.some((c) => (c.link.loss as number) >= 0.25)).toBe(true);
    expect(cases.some((c) => (c.link.jitter_ms ?? 0) > 0 && (c.link.duplicate ?? 0) > 0)).toBe(true);
    for (const verb of ['partition', 'hold', 'crash', 'set_loss', 'set_latency_ms'])
      expect(
        cases.some((c) => c.faults.some((f) => verb in f)),
        verb,
      ).toBe(true);
    const results = cases.slice(0, 40).map((c) => runTcpCase(c, { duration_s: 3000 }));
    expect(results.filter((r) => r.timeouts > 0).length).toBeGreaterThan(5);
  });

  it('a case that fails the property (its path cut for good) is written as a scenario that desim run replays', () => {
    const stuck: TcpCase = {
      variant: 'reno',
      bytes: 5000,
      seed: 1,
      mss_bytes: 500,
      delayed_ack: false,
      link: { latency_ms: 10, bandwidth_bps: 10_000_000, queue_packets: 10, loss: 0 },
      faults: [{ at_s: 0, partition: [['A'], ['B']], name: 'p' }],
    };
    let err: unknown;
    try {
      checkTcpDelivery({ name: 'stuck', counterexampleDir: tmp, cases: fc.constant(stuck), duration_s: 20, params: fcParams({ numRuns: 1 }) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropertyFailure);
    const f = err as PropertyFailure;
    expect(f.violation).toMatch(/delivered 0 of 5000 bytes by 20 s/);
    expect(f.message).toMatch(/fast-check seed/);
    const text = readFileSync(f.scenarioFile, 'utf8');
    expect(text).toMatch(/# replay: desim run /);
    const scenario = validateScenario(parseScenarioText(text), BUILTIN_DRIVERS, f.scenarioFile);
    expect(scenario.faults).toEqual(stuck.faults);
  });
});
