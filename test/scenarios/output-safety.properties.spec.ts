/**
 * Property: desim never destroys what it did not write. A random tree of the
 * user's files and folders (with names desim itself uses, so that collisions
 * are likely), then a random sequence of `run`, `sweep`, `merge` and `plot`
 * with their output pointing anywhere in or around the tree, with or without
 * `--overwrite` / `--resume`, interleaved with the user adding files. After
 * every step, every file the user wrote still exists byte for byte, every
 * folder the user made still exists, and no temporary folder is left behind.
 * Refusals (OutputError, ScenarioError) are allowed; any other error fails.
 */
import fc from 'fast-check';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputError, ScenarioError } from '../../src/scenarios/errors.js';
import { parseScenarioText, validateScenario } from '../../src/scenarios/loader.js';
import { parseVaries } from '../../src/scenarios/overrides.js';
import { replotFolder } from '../../src/scenarios/replot.js';
import { runScenario } from '../../src/scenarios/runner.js';
import { mergeSweeps, runSweep } from '../../src/scenarios/sweep.js';
import { fcParams } from '../fc.js';
import { toyDriver, toyYaml } from './toy-driver.js';

const drivers = [toyDriver];
const raw = parseScenarioText(toyYaml);
const scenario = validateScenario(raw, drivers);
const vary = parseVaries(['protocol.toy.pings_per_s=20,40']);
if (!vary.ok) throw new Error('bad vary');
const variations = vary.variations;

// Names desim writes, and a few of the user's own.
const NAMES = [
  'p',
  'q',
  'runs',
  'meta.json',
  'sweep.json',
  'summary.csv',
  'aggregate.csv',
  'r0000.json',
  'trace-pings.csv',
  'sent.svg',
  'notes.txt',
  'results',
];
const nameArb = fc.constantFrom(...NAMES);
const entryArb = fc.record({ path: fc.array(nameArb, { minLength: 1, maxLength: 3 }), dir: fc.boolean(), content: fc.string({ maxLength: 20 }) });

type Command =
  | { readonly kind: 'run'; readonly target: number; readonly overwrite: boolean }
  | { readonly kind: 'sweep'; readonly target: number; readonly resume: boolean; readonly overwrite: boolean; readonly stopAfter: number }
  | { readonly kind: 'merge'; readonly inputs: readonly number[]; readonly target: number; readonly overwrite: boolean }
  | { readonly kind: 'plot'; readonly target: number }
  | { readonly kind: 'user-write'; readonly target: number; readonly name: string; readonly content: string };

// A target is a path picked at run time from the tree, or (often) the previous command's output,
// so that sequences such as "run into X; the user adds a file to X; run into X again" are common.
const target = fc.oneof(fc.nat({ max: 1000 }), fc.constant(-1));
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('run' as const), target, overwrite: fc.boolean() }),
  fc.record({ kind: fc.constant('sweep' as const), target, resume: fc.boolean(), overwrite: fc.boolean(), stopAfter: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant('merge' as const), inputs: fc.array(target, { minLength: 1, maxLength: 3 }), target, overwrite: fc.boolean() }),
  fc.record({ kind: fc.constant('plot' as const), target }),
  fc.record({ kind: fc.constant('user-write' as const), target, name: nameArb, content: fc.string({ maxLength: 20 }) }),
);

/** Every path below `dir` (files and folders), sorted, relative to `dir`. */
function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    out.push(relative(base, p));
    if (lstatSync(p).isDirectory()) out.push(...walk(p, base));
  }
  return out;
}

let caseNo = 0;

async function runCase(entries: readonly { path: string[]; dir: boolean; content: string }[], commands: readonly Command[]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), `desim-own-${caseNo++}-`));
  const userFiles = new Map<string, string>();
  const userDirs = new Set<string>();
  const addUser = (rel: string, isDir: boolean, content: string): void => {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = join(root, ...parts.slice(0, i));
      const last = i === parts.length;
      if (existsSync(p)) {
        if (!statSync(p).isDirectory()) return; // a file is in the way: the user cannot make this
        if (last) return;
        continue;
      }
      if (last && !isDir) {
        writeFileSync(p, content);
        userFiles.set(parts.join('/'), content);
      } else {
        mkdirSync(p);
        userDirs.add(parts.slice(0, i).join('/'));
      }
    }
  };
  for (const e of entries) addUser(e.path.join('/'), e.dir, e.content);

  const check = (after: string): void => {
    for (const [rel, content] of userFiles) {
      const p = join(root, rel);
      expect(existsSync(p), `${after}: user file ${rel} is gone`).toBe(true);
      expect(readFileSync(p, 'utf8'), `${after}: user file ${rel} changed`).toBe(content);
    }
    for (const rel of userDirs) expect(statSync(join(root, rel)).isDirectory(), `${after}: user folder ${rel}`).toBe(true);
    expect(
      walk(root).filter((p) => /\.(tmp|old)-/.test(p)),
      `${after}: temporary files left`,
    ).toEqual([]);
  };
  check('setup');

  let fresh = 0;
  let last = '.';
  const pick = (i: number): string => (i === -1 ? last : (last = pickNew(i)));
  // Mostly folders (where collisions with the user's files happen), sometimes a file, sometimes a new path.
  const pickNew = (i: number): string => {
    const all = walk(root);
    const dirs = all.filter((p) => statSync(join(root, p)).isDirectory());
    const files = all.filter((p) => !dirs.includes(p));
    const candidates = ['.', ...dirs, ...dirs, `new${fresh}`, `p/new${fresh}`, ...files.slice(0, 1)];
    return candidates[i % candidates.length] as string;
  };
  for (const [k, c] of commands.entries()) {
    fresh = k;
    const label = `step ${k} ${JSON.stringify(c)}`;
    try {
      switch (c.kind) {
        case 'run':
          await runScenario(scenario, { outDir: join(root, pick(c.target)), overwrite: c.overwrite });
          break;
        case 'sweep': {
          let calls = 0;
          await runSweep({
            raw,
            file: 'toy.yaml',
            drivers,
            sets: [],
            variations,
            reps: 1,
            jobs: 1,
            outDir: join(root, pick(c.target)),
            resume: c.resume,
            overwrite: c.overwrite,
            ...(c.stopAfter > 0 ? { shouldStop: () => ++calls > c.stopAfter } : {}),
          });
          break;
        }
        case 'merge':
          await mergeSweeps(
            c.inputs.map((i) => join(root, pick(i))),
            join(root, pick(c.target)),
            { overwrite: c.overwrite },
          );
          break;
        case 'plot':
          await replotFolder(join(root, pick(c.target)));
          break;
        case 'user-write': {
          const dir = pick(c.target);
          addUser(dir === '.' ? c.name : `${dir}/${c.name}`, false, c.content);
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof OutputError || err instanceof ScenarioError)) throw new Error(`${label}: unexpected ${String(err)}`, { cause: err });
    }
    check(label);
  }
}

describe('output safety', () => {
  it('desim never deletes or changes a file or folder it did not write, whatever --out points at', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 8 }), fc.array(commandArb, { minLength: 1, maxLength: 8 }), runCase),
      fcParams({ numRuns: 150 }),
    );
  });
});
