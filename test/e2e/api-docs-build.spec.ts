/**
 * `npm run docs` builds, offline, with no warning (typedoc.json treats warnings as errors), and the
 * pages are what docs/guide/index.md promises: the guide as the landing page with its three
 * tutorials, the exports of each entry point grouped by the layer that defines them, and internals
 * left out. Runs TypeDoc itself (about a minute), with the project's typedoc.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Reflection {
  readonly name: string;
  readonly id: number;
  readonly children?: readonly Reflection[];
  readonly groups?: readonly { readonly title: string; readonly children: readonly number[] }[];
  readonly documents?: readonly { readonly name: string }[];
  readonly readme?: readonly { readonly text: string }[];
}

const LAYERS = [
  'Kernel',
  'Network',
  'Protocols: the sans-I/O contract',
  'Protocols: gossip',
  'Protocols: TCP',
  'Simulation',
  'Scenarios',
  'Output files',
];

describe('npm run docs', () => {
  it('builds with no warning: the guide as landing page, exports grouped by layer, no internals', () => {
    const out = mkdtempSync(join(tmpdir(), 'desim-api-'));
    try {
      const r = spawnSync(
        process.execPath,
        [resolve('node_modules/typedoc/bin/typedoc'), '--out', join(out, 'html'), '--json', join(out, 'api.json')],
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
      const log = `${r.stdout}${r.stderr}`;
      expect(r.status, log).toBe(0);
      expect(log).not.toMatch(/warning|error/i);

      const project = JSON.parse(readFileSync(join(out, 'api.json'), 'utf8')) as Reflection;
      expect(project.readme?.map((p) => p.text).join('')).toContain('three tutorials');
      expect(project.documents?.map((d) => d.name)).toEqual([
        '1. A scenario from scratch',
        '2. A sweep to a figure',
        '3. Your own protocol with a property test',
      ]);
      expect(project.children?.map((m) => m.name)).toEqual(['desim', 'desim/testing']);

      const [desim, testing] = project.children as [Reflection, Reflection];
      // Every export sits in its layer's group, in the layer order, and in exactly one group.
      expect(desim.groups?.map((g) => g.title)).toEqual(LAYERS);
      expect(testing.groups?.map((g) => g.title)).toEqual(['Testing']);
      for (const m of [desim, testing]) {
        const grouped = (m.groups ?? []).flatMap((g) => g.children);
        expect(new Set(grouped).size).toBe(grouped.length);
        expect([...grouped].sort((a, b) => a - b)).toEqual((m.children ?? []).map((c) => c.id).sort((a, b) => a - b));
      }
      const group = (name: string) => desim.groups?.find((g) => g.children.includes(desim.children?.find((c) => c.name === name)?.id ?? -1))?.title;
      expect([group('Simulator'), group('Network'), group('Outbox'), group('GossipNode'), group('TcpSender')]).toEqual([
        'Kernel',
        'Network',
        'Protocols: the sans-I/O contract',
        'Protocols: gossip',
        'Protocols: TCP',
      ]);
      expect([group('SimHost'), group('runSweep'), group('CsvWriter')]).toEqual(['Simulation', 'Scenarios', 'Output files']);
      // Anti-entropy's message builders are the gossip node's business, not the API.
      const names = (desim.children ?? []).map((c) => c.name);
      expect(names.filter((n) => ['answerDigest', 'answerRequest', 'answerSummary', 'buildDigests', 'paginate'].includes(n))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
