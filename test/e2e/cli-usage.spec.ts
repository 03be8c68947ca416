/**
 * The built CLI's answers to command lines people get slightly wrong, and
 * its advice: each message is true for the command it is given to.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = resolve('dist/src/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'desim-cli-usage-'));
writeFileSync(join(dir, 'afile'), 'not a folder\n');

function desim(args: readonly string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('desim command lines', () => {
  it('--set and --vary take one value each, so the file may come after them', () => {
    const v = desim(['validate', '--set', 'duration_s=1', '--set', 'name=short', 'tcp-original']);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    expect(v.out).toBe('tcp-original: ok (tcp, 1 flow on a dumbbell, 1 s)\n');
    // The sweep gets as far as its folder (a file here), so the scenario and --vary were read.
    const s = desim(['sweep', '--vary', 'duration_s=1,2', 'tcp-original', '--out', 'afile']);
    expect(s.code).toBe(2);
    expect(s.err).toContain('desim: afile: is a file, not a folder');
    // Two values after one --set: the second is no file, and the message says how to give it.
    const two = desim(['validate', '--set', 'duration_s=1', 'name=x', 'tcp-original']);
    expect(two.code).toBe(2);
    expect(two.err).toContain('(--set and --vary take one path=value each: repeat the flag for more)');
  });

  it('demo refuses a folder holding a file of yours before running anything, and the --overwrite it advises works', () => {
    mkdirSync(join(dir, 'demo1', 'tcp-original'), { recursive: true });
    writeFileSync(join(dir, 'demo1', 'tcp-original', 'mine.txt'), 'mine\n');
    const refused = desim(['demo', '--out', 'demo1']);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('desim: demo1/tcp-original: is not a desim results folder (it holds "mine.txt")');
    expect(refused.err).toContain('or --overwrite');
    expect(refused.out).toBe('');
    expect(existsSync(join(dir, 'demo1', 'gossip-original'))).toBe(false);
    const advised = desim(['demo', '--out', 'demo1', '--overwrite']);
    expect(advised.err).toBe('');
    expect(advised.code).toBe(0);
    expect(readdirSync(join(dir, 'demo1', 'tcp-original'))).toEqual(expect.arrayContaining(['mine.txt', 'meta.json', 'summary.csv']));
    expect(readFileSync(join(dir, 'demo1', 'tcp-original', 'mine.txt'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(dir, 'demo1', 'gossip-original', 'meta.json'))).toBe(true);
  });

  it('bare desim prints the command list that its message points to', () => {
    const r = desim([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const list = r.err.indexOf('Commands:');
    expect(list).toBeGreaterThanOrEqual(0);
    for (const cmd of ['desim run <file>', 'desim sweep <file>', 'desim kv <command>']) expect(r.err.indexOf(cmd)).toBeGreaterThan(list);
    expect(r.err.indexOf('desim: Say which command to run (see the list above).')).toBeGreaterThan(r.err.indexOf('desim run <file>'));
  });

  it('names a flag once in its message, and gives sweep --reps the range a plan has', () => {
    for (const reps of ['1.5', '100001']) {
      const r = desim(['sweep', 'tcp-original', '--vary', 'duration_s=1,2', '--reps', reps, '--out', 'afile', '--jobs', '1']);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`desim: --reps: expected an integer in 1..100000, got ${reps}\n`);
    }
  });

  it('a --set value read as a number where a string goes comes with the quoting that keeps it, and that quoting works', () => {
    const r = desim(['validate', 'tcp-original', '--set', 'name=007']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `desim: --set name=007: name: expected a string, got 7 (the value is read as YAML; quote it to keep the text: --set 'name="007"')\n`,
    );
    const quoted = desim(['validate', 'tcp-original', '--set', 'name="007"']);
    expect(quoted.code).toBe(0);
  });

  it('table, merge, plot and report say when the folder they read does not exist, or is a file', () => {
    for (const args of [
      ['table', 'nosuch'],
      ['merge', 'nosuch', '--out', 'merged'],
      ['plot', 'nosuch'],
      ['report', 'nosuch'],
    ]) {
      const r = desim(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toBe('desim: nosuch: no such folder\n');
    }
    for (const args of [
      ['table', 'afile'],
      ['merge', 'afile', '--out', 'merged'],
    ]) {
      const r = desim(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toBe('desim: afile: is a file, not a folder\n');
    }
    expect(existsSync(join(dir, 'merged'))).toBe(false);
  });

  it('Ctrl-C during demo names the folders that are complete and kept, and they are exactly the ones on disk', async () => {
    // When the signal lands depends on timing (during the second run, after it, or after the process
    // ended); whichever it is, what desim says must match what is on disk.
    const child = spawn(process.execPath, [CLI, 'demo', '--out', 'dsig'], { cwd: dir });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((done) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('wrote dsig/gossip-original/') && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => done(c));
    });
    const complete = (name: string): boolean => existsSync(join(dir, 'dsig', name, 'meta.json'));
    expect(complete('gossip-original')).toBe(true);
    if (code === 0) {
      expect(complete('tcp-original')).toBe(true);
      return;
    }
    expect(code).toBe(130);
    const line = err.trim().split('\n').pop() ?? '';
    if (complete('tcp-original')) {
      expect(line).toBe('desim: interrupted after the work was done; dsig/gossip-original/ dsig/tcp-original/ are complete and kept');
    } else {
      expect(line).toBe('desim: interrupted; unfinished output was removed; dsig/gossip-original/ is complete and kept');
      expect(readdirSync(join(dir, 'dsig'))).toEqual(['gossip-original']);
    }
  });

  it('Ctrl-C just after run says "wrote" is never a silent death: exit 0, or 130 saying the folder is complete and kept', async () => {
    // The signal lands in the last moments of the process (the run is done). Node's own teardown
    // used to reset the handlers first, so the process died of SIGINT without a word.
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [CLI, 'run', 'gossip-original', '--out', 'late'], { cwd: dir });
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('wrote late/') && !child.killed) child.kill('SIGINT');
        });
        child.on('exit', (c, s) => done([c, s]));
      });
      expect(signal).toBeNull();
      expect(existsSync(join(dir, 'late', 'meta.json'))).toBe(true);
      if (code === 0) expect(err).toBe('');
      else {
        expect(code).toBe(130);
        expect(err.trim()).toBe('desim: interrupted after the work was done; late/ is complete and kept');
      }
    }
  });

  it('a bundled name that is also a folder here is refused saying both, and each way out it gives works', () => {
    const here = join(dir, 'named');
    mkdirSync(join(here, 'tcp-original'), { recursive: true });
    const at = (args: readonly string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: here, encoding: 'utf8' });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const both =
      'desim: tcp-original: is a directory, and also the name of a bundled scenario: give bundled:tcp-original for the bundled scenario, or ';
    for (const args of [
      ['run', 'tcp-original'],
      ['validate', 'tcp-original'],
      ['sweep', 'tcp-original', '--vary', 'duration_s=1,2'],
    ]) {
      const r = at(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toBe(`${both}the path of a scenario file\n`);
      expect(r.out, args.join(' ')).toBe('');
    }
    // desim's own names are bundled ones whatever the folder holds.
    const list = at(['list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^tcp-original +/m);
    // bundled: picks the bundled scenario; its run in the folder gives the replay choice, which works too.
    expect(at(['run', 'bundled:tcp-original', '--out', 'tcp-original', '--quiet']).code).toBe(0);
    const meta = join('tcp-original', 'meta.json');
    const again = at(['run', 'tcp-original']);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`${both}${meta} to replay the run the directory holds\n`);
    const replay = at(['validate', meta]);
    expect(replay.code).toBe(0);
    expect(replay.out).toBe(`${meta}: ok (tcp, 1 flow on a dumbbell, 3 s)\n`);
    // A folder of no bundled name keeps its message, with the replay hint when it holds a run.
    mkdirSync(join(here, 'mine'));
    expect(at(['run', 'mine']).err).toBe('desim: mine: is a directory, expected a scenario file\n');
    expect(at(['run', 'bundled:tcp-original', '--out', 'mine', '--quiet']).code).toBe(0);
    const mine = at(['run', 'mine']);
    expect(mine.code).toBe(2);
    expect(mine.err).toBe(`desim: mine: is a directory, expected a scenario file; to replay the run it holds, give ${join('mine', 'meta.json')}\n`);
  });

  it('counts of one are singular: 1 timeout, 1 run done', () => {
    const run = desim(['run', 'tcp-original', '--seed', '7', '--out', 'seed7']);
    expect(run.code).toBe(0);
    expect(run.out).toContain(', 3 fast retransmits, 1 timeout;');
    const sweep = desim(['sweep', 'tcp-original', '--vary', 'duration_s=1', '--jobs', '1', '--quiet', '--out', 'one']);
    expect(sweep.code).toBe(0);
    expect(sweep.out).toContain('sweep: 1 run done, 0 resumed, of 1\n');
  });

  it('help gives the syntax and ranges people ask for, and nothing misleading', () => {
    const flat = (args: string[]): string => desim([...args, '--help']).out.replace(/\s+/g, ' ');
    const sweep = flat(['sweep']);
    expect(sweep).toContain('replications per combination, an integer in 1..100000');
    expect(sweep).toContain('COUNT values (2..10000)');
    expect(sweep).toContain('a list outputs.traces=[cwnd,segments]');
    expect(sweep).toContain(`quoting it 'name="007"'`);
    expect(flat(['merge'])).not.toContain('[default: []]');
    expect(flat(['plot'])).toContain('Figures desim drew here before in a format not given now are removed');
    for (const cmd of ['put', 'get', 'del']) expect(flat(['kv', cmd])).toContain('key the key, any string');
    expect(flat(['kv', 'put'])).toContain('value the value: a string as given');
    const schema = desim(['schema', '--out', 'desim.schema.json']);
    expect(schema.code).toBe(0);
    expect(schema.out).toBe('wrote desim.schema.json\n');
  });
});
