/**
 * Every flag of every command, found in the built CLI's own --help: a number
 * flag without its value, with an empty value or with text that is no number,
 * any single-value flag given twice, and any boolean flag given twice or with
 * its negation, exit 2 naming the flag, before the command does anything. A new command or flag is walked without editing this
 * file (a new command only needs its arguments in BASE).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-cli-flags-'));
writeFileSync(join(dir, 'afile'), 'not a folder\n');

function desim(args: readonly string[]) {
  // The timeout only stops a command that the checks let through and that then waits (a node); it is no speed check.
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Arguments that make each command fail at once, with another message, if a
 * flag check ever let a value through: a file where a folder goes, a missing
 * key file, a benchmark flag for another benchmark. So a regression shows as a
 * wrong message, never as a long run.
 */
const BASE: Readonly<Record<string, readonly string[]>> = {
  run: ['tcp-original', '--out', 'afile'],
  validate: ['nosuch.yaml'],
  sweep: ['tcp-original', '--vary', 'duration_s=1,2', '--out', 'afile'],
  merge: ['nosuch', '--out', 'afile'],
  plot: ['nosuch'],
  table: ['nosuch'],
  report: ['nosuch'],
  schema: ['--out', 'afile'],
  list: [],
  demo: ['--out', 'afile'],
  reproduce: ['--out', 'afile'],
  bench: ['kernel', '--sack'],
  node: ['--id', 'A', '--listen', '127.0.0.1:1', '--key-file', 'nosuch.key'],
  'kv put': ['k', 'v', '--key-file', 'nosuch.key'],
  'kv get': ['k', '--key-file', 'nosuch.key'],
  'kv del': ['k', '--key-file', 'nosuch.key'],
  'kv members': ['--key-file', 'nosuch.key'],
  'kv stats': ['--key-file', 'nosuch.key'],
  cluster: ['--key-file', 'nosuch.key'],
};

/** Flags documented as taking several values. */
const REPEATABLE = new Set(['run --set', 'validate --set', 'sweep --set', 'sweep --vary', 'bench --pending']);

/** The commands the help lists (`desim run <file>` → `run`), subcommands of `kv` included. */
function commands(): string[] {
  const names = (help: string, prefix: string): string[] =>
    [...help.matchAll(new RegExp(`^ {2}desim ${prefix}([a-z]+)`, 'gm'))].map((m) => `${prefix}${m[1] as string}`);
  const top = names(desim(['--help']).out, '');
  return top.flatMap((c) => (c === 'kv' ? names(desim(['kv', '--help']).out, 'kv ') : [c]));
}

/** The options a command's help lists, with the type yargs shows (`[number]`, `[string]`, ...) and their help text. */
function optionsOf(command: string): Option[] {
  const known = seen.get(command);
  if (known !== undefined) return known;
  const help = desim([...command.split(' '), '--help']).out;
  const lines = help.slice(help.indexOf('\nOptions:')).split('\n');
  const out: Option[] = [];
  for (const line of lines) {
    const m = /^ {2}(?:-\w, )? *--([a-z][a-z0-9-]*)/.exec(line);
    if (m !== null) out.push({ flag: m[1] as string, type: '', text: '' });
    const last = out[out.length - 1];
    if (last !== undefined) last.text += ` ${line.trim()}`;
    const t = /\[(boolean|number|string|array)\]/.exec(line);
    if (last !== undefined && last.type === '' && t !== null) last.type = t[1] as string;
    if (line === '' && out.length > 0) break;
  }
  const options = out.filter((o) => o.flag !== 'help' && o.flag !== 'version');
  seen.set(command, options);
  return options;
}
interface Option {
  flag: string;
  type: string;
  text: string;
}
const seen = new Map<string, Option[]>();

describe('flag values, for every command', () => {
  const all = commands();

  it('finds the commands and their flags in the help', () => {
    expect(all).toEqual(expect.arrayContaining(['run', 'sweep', 'bench', 'node', 'kv get', 'cluster', 'reproduce']));
    for (const c of all) expect(BASE[c], `arguments for the new command "${c}" in BASE`).toBeDefined();
    expect(optionsOf('run')).toEqual(expect.arrayContaining([expect.objectContaining({ flag: 'seed', type: 'number' })]));
  });

  it("every number flag's help gives its range", () => {
    for (const c of all) {
      for (const o of optionsOf(c).filter((x) => x.type === 'number')) {
        // The text before the type tag: a range is digits (1..26, [0, 2^32)) or a bound (> 0, >= 1).
        const text = o.text.slice(0, o.text.indexOf('[number]'));
        expect(text, `${c} --${o.flag}`).toMatch(/\d\.\.|\[0, 2\^32\)|>=? ?\d|below \d/);
      }
    }
  });

  it('a number flag with an empty value or with text that is no number exits 2 naming it', () => {
    let walked = 0;
    for (const c of all) {
      for (const { flag } of optionsOf(c).filter((o) => o.type === 'number')) {
        const base = [...c.split(' '), ...(BASE[c] ?? [])];
        const cases: [string[], string][] = [
          [[...base, `--${flag}`, ''], `desim: --${flag}: expected a number, got an empty value`],
          [[...base, `--${flag}`, 'abc'], `desim: --${flag}: expected a number, got "abc"`],
        ];
        for (const [args, message] of cases) {
          const r = desim(args);
          expect(r.code, args.join(' ')).toBe(2);
          expect(r.err, args.join(' ')).toContain(message);
          expect(r.out, args.join(' ')).toBe('');
        }
        walked++;
      }
    }
    // run --seed, sweep --reps --jobs, reproduce --jobs, 6 of bench, 10 of node, 2 or 3 of each kv command, 5 of cluster.
    expect(walked).toBeGreaterThanOrEqual(30);
  });

  it('a number flag without its value exits 2 naming it (requiresArg, which every number flag has)', () => {
    const cases = [
      ['run', 'tcp-original', '--seed', '--out', 'se'],
      ['run', 'tcp-original', '--out', 'se', '--seed'],
      ['sweep', 'tcp-original', '--vary', 'duration_s=1,2', '--reps', '--jobs', '1'],
      ['sweep', 'tcp-original', '--vary', 'duration_s=1,2', '--jobs', '--out', 'sj'],
      ['reproduce', '--jobs', '--out', 'afile'],
      ['kv', 'get', 'k', '--timeout', '--key-file', 'nosuch.key'],
      ['cluster', '--nodes', '--key-file', 'nosuch.key'],
    ];
    for (const args of cases) {
      const flag = args.findIndex((a, i) => a.startsWith('--') && (args[i + 1] === undefined || args[i + 1]?.startsWith('--')));
      const r = desim(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(`desim: ${args[flag] as string}: expected a value after it`);
      expect(r.out).toBe('');
    }
  });

  it('a flag that takes one value, given twice, exits 2 naming it', () => {
    let walked = 0;
    for (const c of all) {
      for (const { flag } of optionsOf(c).filter((o) => o.type !== 'boolean' && !REPEATABLE.has(`${c} --${o.flag}`))) {
        const base = BASE[c] ?? [];
        // Twice in all: once more when the base arguments already give it.
        const args = [...c.split(' '), ...base, `--${flag}`, '1', ...(base.includes(`--${flag}`) ? [] : [`--${flag}`, '2'])];
        const r = desim(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err, args.join(' ')).toContain(`desim: --${flag} given twice; give it once`);
        walked++;
      }
    }
    expect(walked).toBeGreaterThanOrEqual(50);
  });

  it('a boolean flag given twice, or with its negation, exits 2 naming it once, without a stack trace', () => {
    let walked = 0;
    for (const c of all) {
      for (const { flag } of optionsOf(c).filter((o) => o.type === 'boolean')) {
        const base = BASE[c] ?? [];
        const given = base.includes(`--${flag}`);
        // The last says true, as the base arguments do when they give the flag: a check that let it
        // through would leave the command to fail at once on the base arguments, with another message.
        for (const first of [`--${flag}`, `--no-${flag}`, `--${flag}=false`]) {
          const args = [...c.split(' '), ...(given ? [first] : []), ...base, ...(given ? [] : [first, `--${flag}`])];
          const r = desim(args);
          expect(r.code, args.join(' ')).toBe(2);
          expect(r.err, args.join(' ')).toBe(`desim: --${flag} given twice; give it once\n`);
          expect(r.out, args.join(' ')).toBe('');
        }
        walked++;
      }
    }
    // run 2, validate 1, sweep 3, merge 1, plot 1, demo 1, bench 6, node 2, kv put, get, members and stats 1 each, cluster 1.
    expect(walked).toBeGreaterThanOrEqual(22);
  });
});
