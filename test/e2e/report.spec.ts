/**
 * `desim report`: report.html of a run and of a sweep, opened in a real
 * headless Chromium with no network. Every chart rendered marks, the page
 * logged no console errors, every CSV link resolves, and nothing was fetched
 * from outside the file. Skipped with a printed reason where Chromium is not
 * installed, unless CI=true (then it must run: .ci/run installs Chromium).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, findChromium } from '../scenarios/cdp.js';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-report-'));

function desim(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`desim ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

const chromium = findChromium();
const ci = process.env['CI'] === 'true';
if (chromium === undefined && !ci)
  console.log('report.spec: Chromium not found (Debian: apt-get install chromium): skipping the browser checks of report.html');

interface PageCheck {
  charts: { name: string; rendered: string | null; marks: number }[];
  links: string[];
  title: string;
}

/** Opens report.html, waits for every chart, and collects what the checks need. */
async function openReport(browser: Browser, file: string, screenshot?: string) {
  const session = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  browser.on('Runtime.consoleAPICalled', (p, s) => {
    if (s === session && (p['type'] === 'error' || p['type'] === 'assert')) errors.push(JSON.stringify(p['args']));
  });
  browser.on('Runtime.exceptionThrown', (p, s) => {
    if (s === session) errors.push(JSON.stringify(p['exceptionDetails']));
  });
  browser.on('Log.entryAdded', (p, s) => {
    const entry = p['entry'] as { level: string; text: string; url?: string };
    if (s === session && entry.level === 'error') errors.push(`${entry.text} ${entry.url ?? ''}`);
  });
  browser.on('Network.requestWillBeSent', (p, s) => {
    if (s === session) requests.push((p['request'] as { url: string }).url);
  });
  await browser.send('Runtime.enable', {}, session);
  await browser.send('Log.enable', {}, session);
  await browser.send('Network.enable', {}, session);
  await browser.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }, session);
  await browser.send('Page.enable', {}, session);
  await browser.send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 1300, deviceScaleFactor: 1, mobile: false }, session);
  await browser.send('Page.navigate', { url: pathToFileURL(file).href }, session);
  // Wait for the page's own signal that every chart settled; no short limit (the test has none either).
  for (;;) {
    const state = await browser
      .evaluate<string | null>(session, "document.body ? document.body.getAttribute('data-charts') : null")
      .catch(() => null);
    if (state === 'done') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const check = await browser.evaluate<PageCheck>(
    session,
    `({
      title: document.title,
      charts: [...document.querySelectorAll('.desim-chart')].map((el) => ({
        name: el.getAttribute('data-name'),
        rendered: el.getAttribute('data-rendered'),
        marks: el.querySelectorAll('svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > rect, svg g.role-mark > circle, svg g.role-mark > g').length,
      })),
      links: [...document.querySelectorAll('a[href$=".csv"]')].map((a) => a.href),
    })`,
  );
  if (screenshot !== undefined) {
    const shot = (await browser.send('Page.captureScreenshot', { format: 'png' }, session)) as { data: string };
    writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
  }
  return { check, errors, requests };
}

describe('desim report', () => {
  let browser: Browser | undefined;
  beforeAll(() => {
    desim(['run', 'tcp-original', '--out', 'run', '--quiet']);
    desim(['run', 'gossip-original', '--out', 'gossip', '--quiet']);
    writeFileSync(
      join(dir, 'plan.yaml'),
      'scenario: tcp-mathis-padhye\nset: { duration_s: 30 }\nvary:\n  protocol.tcp.bottleneck.loss: 0.001..0.05 log 4\nreps: 3\n',
    );
    desim(['sweep', 'plan.yaml', '--out', 'sweep', '--jobs', '1', '--quiet']);
    for (const d of ['run', 'gossip', 'sweep']) expect(desim(['report', d]).stdout).toBe(`wrote ${join(d, 'report.html')}\n`);
    if (chromium !== undefined) browser = Browser.launch(chromium);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("writes one self-contained page per folder, recorded in the folder's marker, with links to every CSV", () => {
    for (const d of ['run', 'gossip', 'sweep']) {
      const html = readFileSync(join(dir, d, 'report.html'), 'utf8');
      // Nothing loaded from elsewhere: no src= or stylesheet links, the bundles inline.
      expect(html).not.toMatch(/<script[^>]+src=/);
      expect(html).not.toMatch(/<link[^>]+stylesheet/);
      expect(html).toContain('vegaLite.compile');
      for (const csv of readdirSync(join(dir, d)).filter((f) => f.endsWith('.csv'))) expect(html).toContain(`href="${csv}"`);
      const marker = JSON.parse(readFileSync(join(dir, d, d === 'sweep' ? 'sweep.json' : 'meta.json'), 'utf8')) as { files: string[] };
      expect(marker.files).toContain('report.html');
    }
    // A report.html desim did not write is never replaced: exit 2, the file untouched.
    cpSync(join(dir, 'run'), join(dir, 'theirs'), { recursive: true });
    const meta = JSON.parse(readFileSync(join(dir, 'theirs', 'meta.json'), 'utf8')) as { files: string[] };
    writeFileSync(join(dir, 'theirs', 'meta.json'), JSON.stringify({ ...meta, files: meta.files.filter((f) => f !== 'report.html') }));
    writeFileSync(join(dir, 'theirs', 'report.html'), 'mine');
    const r = spawnSync(process.execPath, [CLI, 'report', 'theirs'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`desim: ${join('theirs', 'report.html')}: exists and desim did not write it; move it away to let desim write the report\n`);
    expect(readFileSync(join(dir, 'theirs', 'report.html'), 'utf8')).toBe('mine');
    const none = spawnSync(process.execPath, [CLI, 'report', 'nowhere'], { cwd: dir, encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toBe('desim: nowhere: no such folder\n');
  });

  it.skipIf(chromium === undefined && !ci)(
    'renders in headless Chromium with no network: every chart has marks, no console errors, every CSV link resolves',
    async () => {
      expect(chromium, 'CI=true: Chromium must be installed (.ci/run installs it)').toBeDefined();
      for (const d of ['run', 'gossip', 'sweep']) {
        const shot = join(dir, `${d}.png`);
        const { check, errors, requests } = await openReport(browser as Browser, resolve(dir, d, 'report.html'), shot);
        expect(errors, `${d}: console errors`).toEqual([]);
        expect(check.charts.length, `${d}: charts`).toBeGreaterThan(0);
        for (const c of check.charts) {
          expect(c.rendered, `${d}/${c.name}`).toBe('ok');
          expect(c.marks, `${d}/${c.name}: mark elements`).toBeGreaterThan(0);
        }
        const csvs = readdirSync(join(dir, d))
          .filter((f) => f.endsWith('.csv'))
          .sort();
        const linked = [...new Set(check.links.map((h) => fileURLToPath(h)))];
        for (const f of linked) expect(existsSync(f), f).toBe(true);
        expect(csvs.every((f) => linked.includes(resolve(dir, d, f)))).toBe(true);
        expect(
          requests.filter((u) => !/^(file|data|about|blob):/.test(u)),
          `${d}: requests`,
        ).toEqual([]);
        expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
        // DESIM_REPORT_SCREENSHOT=path keeps the sweep's screenshot (docs/report-screenshot.png).
        const keep = process.env['DESIM_REPORT_SCREENSHOT'];
        if (d === 'sweep' && keep !== undefined) copyFileSync(shot, keep);
      }
      // A sweep report draws one chart per non-model metric of the sweep.
      const sweepMetrics = (JSON.parse(readFileSync(join(dir, 'sweep', 'sweep.json'), 'utf8')) as { metrics: string[] }).metrics;
      expect(sweepMetrics.length).toBeGreaterThan(5);
    },
  );
});
