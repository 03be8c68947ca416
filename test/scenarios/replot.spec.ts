/**
 * `desim plot DIR` (replotFolder): figures an earlier draw left in the folder
 * and this draw does not make are removed, by the folder's marker only: a
 * user's file of the same kind stays, and the marker lists exactly what is there
 * (and, for a run, the formats a replay of it draws).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveScenarioPath } from '../../src/scenarios/bundled.js';
import { BUILTIN_DRIVERS } from '../../src/scenarios/drivers/index.js';
import { loadScenario } from '../../src/scenarios/loader.js';
import { replotFolder } from '../../src/scenarios/replot.js';
import { runScenario } from '../../src/scenarios/runner.js';

const root = mkdtempSync(join(tmpdir(), 'desim-replot-'));
const listed = (dir: string): string[] => (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { files: string[] }).files;
/** The figure formats the run's record names for a replay (absent: svg alone). */
const formats = (dir: string): unknown => (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { formats?: unknown }).formats;

describe('desim plot', () => {
  it('removes the figures of an earlier draw that it no longer writes, and never a file desim did not write', async () => {
    const dir = join(root, 'tcp-original');
    await runScenario(loadScenario(resolveScenarioPath('tcp-original'), BUILTIN_DRIVERS), { outDir: dir, overwrite: true });
    expect(readdirSync(dir)).toContain('cwnd.svg');
    expect(formats(dir)).toBeUndefined();

    expect(await replotFolder(dir, { formats: ['svg', 'png', 'pdf'], spec: true })).toEqual(['cwnd.svg', 'cwnd.png', 'cwnd.pdf', 'cwnd.vl.json']);
    expect(listed(dir)).toEqual(expect.arrayContaining(['cwnd.png', 'cwnd.pdf', 'cwnd.vl.json']));
    expect(formats(dir)).toEqual(['svg', 'png', 'pdf']);
    // The user's own figures, one of them named like desim's.
    writeFileSync(join(dir, 'mine.png'), 'user');
    writeFileSync(join(dir, 'infection.svg'), 'user');

    const removed: string[] = [];
    expect(await replotFolder(dir, { formats: ['svg'], onRemoved: (f) => removed.push(f) })).toEqual(['cwnd.svg']);
    expect(removed.sort()).toEqual(['cwnd.pdf', 'cwnd.png', 'cwnd.vl.json']);
    expect(formats(dir)).toBeUndefined();
    const now = readdirSync(dir).sort();
    for (const gone of ['cwnd.png', 'cwnd.pdf', 'cwnd.vl.json']) expect(now).not.toContain(gone);
    expect(now).toEqual(expect.arrayContaining(['cwnd.svg', 'mine.png', 'infection.svg', 'summary.csv', 'trace-cwnd.csv', 'meta.json']));
    expect(readFileSync(join(dir, 'mine.png'), 'utf8')).toBe('user');
    expect(readFileSync(join(dir, 'infection.svg'), 'utf8')).toBe('user');
    // The marker names exactly desim's files that are there.
    expect(listed(dir)).toEqual(now.filter((f) => f !== 'mine.png' && f !== 'infection.svg'));

    // PDF only: the SVG goes too, since this draw does not write it.
    expect(await replotFolder(dir, { formats: ['pdf'] })).toEqual(['cwnd.pdf']);
    expect(existsSync(join(dir, 'cwnd.svg'))).toBe(false);
    expect(listed(dir)).toContain('cwnd.pdf');
    expect(listed(dir)).not.toContain('cwnd.svg');
    expect(formats(dir)).toEqual(['pdf']);
  });
});
