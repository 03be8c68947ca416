/**
 * Output folders desim may write, and how it writes them without destroying
 * anything it did not write.
 *
 * Theory of operation. desim recognises its own folders by a marker: a run
 * folder (and the validation and published folders of `reproduce`) has a
 * `meta.json` with desim's signature and the list of files it wrote; a sweep
 * folder has a `sweep.json` with desim's signature, `runs/r<N>.json` and the
 * list of table and plot files (written before those files are). Only plain
 * names listed there, that are regular files or folders (never symbolic
 * links), count as desim's. {@link inspectOutDir} classifies a target as
 * missing, empty, desim's (with the entries desim did not write listed as
 * `foreign`), not a folder, or someone else's. Each command then decides:
 *
 * - a missing folder, or desim's own folder holding only desim's files:
 *   written into a temporary folder beside it and swapped into place (the old
 *   folder is moved aside first and removed only after the new one is in
 *   place), so an interrupted run leaves the old folder as it was;
 * - an empty folder, or (with `--overwrite`) a folder holding other files:
 *   desim's files are written into a temporary folder inside it and then
 *   moved in one by one; a file desim would write that already exists and is
 *   not desim's stops the command before anything is moved;
 * - anything else is refused ({@link OutputError}, exit 2) naming the folder
 *   and the flag to use. Files desim did not write are never deleted or replaced.
 *
 * Temporary names end in `.tmp-PID-THREAD-N@HOST` (see io/fs.ts), so
 * {@link removeTempDirs} can delete what a killed desim process on this host
 * left behind, and a run can register its temporary folder for the CLI to
 * remove on SIGINT/SIGTERM or on failure.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeFsError, makeDirs, OutputError, TEMP_NAME, HOST, tmpSuffix } from '../io/fs.js';

export { describeFsError, makeDirs, OutputError, readJsonFile, writeFileAtomic } from '../io/fs.js';

// ---------------------------------------------------------------------------------------------
// Temporary folders: registered for signal cleanup, swept when stale.

const liveTemps = new Set<string>();

/** Removes every temporary folder this process registered (for signal handlers and failures). */
export function removeActiveTempDirs(): void {
  for (const t of liveTemps) rmSync(t, { recursive: true, force: true });
  liveTemps.clear();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True for a temporary name of a desim process on this host that is no longer running. */
function staleTemp(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  if (m === null || m[2] !== HOST) return false;
  const pid = Number(m[1]);
  return pid !== process.pid && !pidAlive(pid);
}

/** A temporary name of this process, or of a desim process on this host that is gone: not the user's. */
function ownTemp(name: string): boolean {
  const m = TEMP_NAME.exec(name);
  return m !== null && m[2] === HOST && (Number(m[1]) === process.pid || staleTemp(name));
}

/**
 * Removes the temporary folders and files that desim processes on this host
 * left in `parent` and that no live process owns (a run killed by SIGKILL
 * leaves one). Only desim's exact temporary pattern, with this host's name
 * and a pid that is gone, is touched. Returns the names removed.
 */
export function removeTempDirs(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!staleTemp(name)) continue;
    const path = join(parent, name);
    try {
      if (lstatSync(path).isSymbolicLink()) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Someone else removed it first.
    }
  }
  return removed;
}

/**
 * A fresh temporary folder inside `parent` for writing `target`, registered
 * for cleanup. The caller removes it with {@link dropTemp}.
 */
export function tempDirIn(parent: string, target: string): string {
  makeDirs(parent);
  removeTempDirs(parent);
  // A short stem: the name must fit in 255 bytes whatever the target's name.
  const stem = basename(resolve(target))
    .slice(0, 40)
    .replace(/[^A-Za-z0-9._-]/g, '_');
  const tmp = join(parent, `.${stem}.${tmpSuffix('tmp')}`);
  try {
    mkdirSync(tmp);
  } catch (err) {
    throw new OutputError(target, `cannot be written: ${describeFsError(err)} (desim could not create a folder in ${parent})`);
  }
  liveTemps.add(tmp);
  return tmp;
}

/** Removes a temporary folder made by {@link tempDirIn}. */
export function dropTemp(tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
  liveTemps.delete(tmp);
}

// ---------------------------------------------------------------------------------------------
// Ownership.

/** What a desim marker file says a folder is. */
export type OutputKind = 'run' | 'sweep' | 'validation' | 'published';

/** The signature field desim writes into `meta.json` and `sweep.json`. */
export const OUTPUT_MARKER = 'desim_output';

/** The state of a would-be output folder. */
export type OutDirState =
  | { readonly state: 'missing' }
  | { readonly state: 'not-a-folder' }
  | { readonly state: 'empty' }
  /** desim wrote it; `owned` the entries it wrote that are there; `foreign` the entries (relative paths) desim did not write. */
  | { readonly state: 'desim'; readonly kind: OutputKind; readonly owned: ReadonlySet<string>; readonly foreign: readonly string[] }
  /** Not desim's (no marker): every entry is the user's. */
  | { readonly state: 'foreign'; readonly foreign: readonly string[] };

function parseMarker(path: string): Record<string, unknown> | undefined {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A name a marker may list: one plain path component (no separator, not `.` or `..`). */
const plainName = (x: unknown): x is string => typeof x === 'string' && x !== '' && x !== '.' && x !== '..' && !/[/\\\0]/.test(x);
const listedNames = (v: unknown): string[] => (Array.isArray(v) ? v.filter(plainName) : []);
/** A run record in a sweep's runs/ folder. */
export const RUN_RECORD = /^r\d+\.json$/;

function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw new OutputError(dir, `cannot read the folder: ${describeFsError(err)}`);
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new OutputError(path, describeFsError(err));
  }
}

/**
 * Throws an {@link OutputError} (exit 2 in the CLI) unless `dir` is a folder
 * to read: `no such folder`, or `is a file, not a folder`. A link to a folder counts.
 */
export function requireFolder(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new OutputError(dir, 'no such folder');
    throw new OutputError(dir, describeFsError(err));
  }
  if (!st.isDirectory()) throw new OutputError(dir, 'is a file, not a folder');
}

/** Classifies `dir` (see {@link OutDirState}). A symbolic link to a folder is looked through. */
export function inspectOutDir(dir: string): OutDirState {
  if (dir === '') throw new OutputError(dir, 'an empty path is not a folder: give --out a name');
  let st = lstatOrUndefined(dir);
  if (st?.isSymbolicLink() === true) {
    try {
      st = statSync(dir);
    } catch (err) {
      throw new OutputError(dir, `is a symbolic link that leads nowhere usable: ${describeFsError(err)}`);
    }
  }
  if (st === undefined) return { state: 'missing' };
  if (!st.isDirectory()) return { state: 'not-a-folder' };
  // desim's own temporary leftovers are neither the user's nor worth keeping.
  const entries = entriesOf(dir).filter((e) => !ownTemp(e.name));
  if (entries.length === 0) return { state: 'empty' };
  const names = entries.map((e) => e.name);
  const isFile = (name: string) => entries.some((e) => e.name === name && e.isFile());
  const meta = isFile('meta.json') ? parseMarker(join(dir, 'meta.json')) : undefined;
  const kindOf = (v: unknown): OutputKind | undefined => (v === 'run' || v === 'validation' || v === 'published' ? v : undefined);
  // desim 0.1 wrote meta.json without the signature field: desim_version and the file list mark it.
  if (
    meta !== undefined &&
    typeof meta['desim_version'] === 'string' &&
    (kindOf(meta[OUTPUT_MARKER]) !== undefined || Array.isArray(meta['files']))
  ) {
    const kind = kindOf(meta[OUTPUT_MARKER]) ?? 'run';
    const listed = new Set([...listedNames(meta['files']), 'meta.json']);
    const owned = new Set(entries.filter((e) => listed.has(e.name) && !e.isSymbolicLink()).map((e) => e.name));
    return { state: 'desim', kind, owned, foreign: names.filter((n) => !owned.has(n)) };
  }
  const sweep = isFile('sweep.json') ? parseMarker(join(dir, 'sweep.json')) : undefined;
  if (sweep !== undefined && typeof sweep['desim_version'] === 'string' && Array.isArray(sweep['vary'])) {
    const listed = new Set(['sweep.json', ...listedNames(sweep['files'])]);
    const owned = new Set<string>();
    const foreign: string[] = [];
    for (const e of entries) {
      if (e.name === 'runs' && e.isDirectory()) {
        owned.add('runs');
        for (const r of entriesOf(join(dir, 'runs')))
          if (!(RUN_RECORD.test(r.name) && r.isFile()) && !ownTemp(r.name)) foreign.push(`runs/${r.name}`);
      } else if (listed.has(e.name) && !e.isSymbolicLink()) owned.add(e.name);
      else foreign.push(e.name);
    }
    return { state: 'desim', kind: 'sweep', owned, foreign };
  }
  return { state: 'foreign', foreign: names };
}

function listSome(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => JSON.stringify(n));
  return names.length > 3 ? `${shown.join(', ')} and ${names.length - 3} more` : shown.join(', ');
}

/** How a command may write its folder. */
export interface OutputPolicy {
  /** The flag that named the folder, for messages (`--out`). */
  readonly flag: string;
  /** `--overwrite`: write desim's files into a folder that holds other files (never deleting or replacing those). */
  readonly overwrite?: boolean;
}

/** True when desim may swap `dir` as a whole: not a symbolic link, not the current folder. */
function swappable(dir: string): boolean {
  const st = lstatOrUndefined(dir);
  return st?.isSymbolicLink() !== true && resolve(dir) !== process.cwd() && resolve(dir) !== dirname(resolve(dir));
}

/**
 * Writes a complete output folder: `fill(tmp)` writes every file into a
 * temporary folder, then the folder is committed to `dir` (see the module
 * comment for what is replaced and what is refused). `kind` is the marker the
 * folder must carry if it already exists and is to be replaced. Returns the
 * entries written.
 */
export async function writeOutputFolder(
  dir: string,
  kind: OutputKind,
  policy: OutputPolicy,
  fill: (tmp: string) => Promise<void>,
): Promise<string[]> {
  const before = checkOutDir(dir, kind, policy);
  const swap = (before.state === 'missing' || (before.state === 'desim' && before.foreign.length === 0)) && swappable(dir);
  const tmp = swap ? tempDirIn(dirname(resolve(dir)), dir) : tempDirIn(dir, dir);
  try {
    await fill(tmp);
    const written = readdirSync(tmp).sort();
    // Check again: the folder may have changed while the run was going.
    const now = checkOutDir(dir, kind, policy);
    if (swap && (now.state === 'missing' || (now.state === 'desim' && now.foreign.length === 0))) {
      swapDir(tmp, dir, now.state === 'missing');
      return written;
    }
    const foreign = new Set(now.state === 'desim' || now.state === 'foreign' ? now.foreign.map((f) => f.split('/')[0]) : []);
    const clash = written.filter((f) => foreign.has(f));
    if (clash.length > 0) {
      throw new OutputError(
        dir,
        `holds ${listSome(clash)}, which desim did not write and would replace; move ${clash.length === 1 ? 'it' : 'them'} away or use another ${policy.flag}`,
      );
    }
    const folders = written.filter((f) => lstatSync(join(tmp, f)).isDirectory() && lstatOrUndefined(join(dir, f)) !== undefined);
    if (folders.length > 0) throw new OutputError(dir, `already holds ${listSome(folders)}; use another ${policy.flag}`);
    makeDirs(dir);
    // meta.json last: until it is in place the folder's marker still lists the old files.
    const order = [...written.filter((f) => f !== 'meta.json'), ...written.filter((f) => f === 'meta.json')];
    try {
      for (const f of order) renameSync(join(tmp, f), join(dir, f));
      if (now.state === 'desim')
        for (const old of now.owned) if (!written.includes(old) && old !== 'meta.json') rmSync(join(dir, old), { force: true });
    } catch (err) {
      throw new OutputError(dir, `cannot put the results in place: ${describeFsError(err)}`);
    }
    dropTemp(tmp);
    return written;
  } catch (err) {
    dropTemp(tmp);
    throw err;
  }
}

/**
 * Checks that `dir` may receive an output folder of `kind` under `policy`;
 * throws an {@link OutputError} naming the folder and the flag to use when not.
 */
export function checkOutDir(dir: string, kind: OutputKind, policy: OutputPolicy): OutDirState {
  const s = inspectOutDir(dir);
  switch (s.state) {
    case 'missing':
    case 'empty':
      return s;
    case 'not-a-folder':
      throw new OutputError(dir, `is a file, not a folder; desim will not replace it: use another ${policy.flag}`);
    case 'desim':
      if (s.kind !== kind) throw new OutputError(dir, `holds desim's ${s.kind} results, not a ${kind}'s; use another ${policy.flag}`);
      if (s.foreign.length > 0 && policy.overwrite !== true) {
        throw new OutputError(
          dir,
          `holds ${listSome(s.foreign)}, which desim did not write; use another ${policy.flag}, or --overwrite to write desim's files beside them (files desim did not write are never deleted)`,
        );
      }
      return s;
    case 'foreign':
      if (policy.overwrite !== true) {
        throw new OutputError(
          dir,
          `is not a desim results folder (it holds ${listSome(s.foreign)}); desim replaces only folders it wrote: use another ${policy.flag}, or --overwrite to write desim's files into it (files desim did not write are never deleted)`,
        );
      }
      return s;
  }
}

/** Renames `tmp` to `dir`; an existing `dir` (desim's alone) is moved aside first and removed after. */
function swapDir(tmp: string, dir: string, missing: boolean): void {
  try {
    if (missing) {
      renameSync(tmp, dir);
    } else {
      const old = join(dirname(resolve(dir)), `.${basename(resolve(dir)).slice(0, 40)}.${tmpSuffix('old')}`);
      renameSync(dir, old);
      liveTemps.add(old);
      renameSync(tmp, dir);
      dropTemp(old);
    }
    liveTemps.delete(tmp);
  } catch (err) {
    throw new OutputError(dir, `cannot put the results in place: ${describeFsError(err)}`);
  }
}

/**
 * Deletes desim's files from a desim folder (`--overwrite` of a sweep): the
 * owned entries and, for sweeps, the run records in `runs/`. Foreign entries
 * stay; so does `runs/` when it holds anything else.
 */
export function removeOwnedFiles(dir: string, s: Extract<OutDirState, { state: 'desim' }>): void {
  for (const f of s.owned) if (f !== 'runs') rmSync(join(dir, f), { force: true });
  if (s.kind === 'sweep' && s.owned.has('runs')) {
    const runs = join(dir, 'runs');
    for (const r of entriesOf(runs)) if (RUN_RECORD.test(r.name) && r.isFile()) rmSync(join(runs, r.name), { force: true });
    if (readdirSync(runs).length === 0) rmSync(runs, { recursive: true, force: true });
  }
}
