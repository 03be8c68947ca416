/**
 * The package as users get it: `npm pack`, install the tarball into an empty
 * folder, and run a script that imports `desim` and `desim/testing`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm pack', () => {
  it('installs into an empty folder and runs a small simulation through desim and desim/testing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'desim-pack-'));
    execFileSync(npm, ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: resolve('.'), stdio: 'pipe' });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const fcVersion = (
      JSON.parse(execFileSync(npm, ['ls', 'fast-check', '--json'], { cwd: resolve('.'), encoding: 'utf8' })) as {
        dependencies: Record<string, { version: string }>;
      }
    ).dependencies['fast-check']?.version;
    execFileSync(
      npm,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tgz as string), `fast-check@${fcVersion}`],
      { cwd: app, stdio: 'pipe' },
    );
    writeFileSync(
      join(app, 'main.mjs'),
      `import { Simulator, Network, seconds, loadScenario, BUILTIN_DRIVERS, executeScenario } from 'desim';
import { clusterCaseArb, nodeNames } from 'desim/testing';
import fc from 'fast-check';
const sim = new Simulator({ seed: 1 });
const net = new Network(sim, { nodes: 2, defaultLink: { latency: seconds(0.01) } });
let got = 0;
net.attach(1, () => { got++; });
for (let i = 0; i < 5; i++) net.send(0, 1, { i }, 100);
sim.run();
const [c] = fc.sample(clusterCaseArb({ call: fc.constant(1), healBy_s: 1 }), { seed: 1, numRuns: 1 });
const s = loadScenario(new URL('./node_modules/desim/src/scenarios/bundled/tcp-original.yaml', import.meta.url).pathname, BUILTIN_DRIVERS);
const r = executeScenario({ ...s, outputs: { traces: [], plots: false } }, undefined);
console.log(JSON.stringify({ got, now: sim.now, names: nodeNames(2), nodes: c.nodes.length > 0, goodput: r.metrics.goodput_bps > 0 }));
`,
    );
    const out = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ got: 5, now: 10_000_000, names: ['n0', 'n1'], nodes: true, goodput: true });
  });
});
