/**
 * The guide's tutorials (docs/guide/*.md, the landing pages of `npm run docs`) work as written: each
 * runs in an empty folder, block by block, the way a reader follows it.
 *
 * - A ```yaml or ```ts block whose first line is a comment naming a file (`# first.yaml`,
 *   `// max-register.ts`) is saved under that name; other code blocks are illustrations.
 * - Every line of a ```sh block is a command, run with this checkout's build (`npx desim` is
 *   dist/src/cli.js; `npx tsc` and `npx vitest` are the project's). It must exit 0, or the status a
 *   trailing `# exits N` gives.
 * - A ```text block shows output: each of its lines must be printed by the commands of the
 *   ```sh block before it (desim is deterministic, so the numbers are exact).
 * - Every TypeScript file of a tutorial type-checks strictly.
 *
 * The folder is made inside the package (under dist/), so a tutorial's `import ... from 'desim'`
 * resolves to this build through the package's own `exports`, as it would from node_modules.
 * Needs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const TUTORIALS = ['docs/guide/1-scenario-from-scratch.md', 'docs/guide/2-sweep-to-figure.md', 'docs/guide/3-your-own-protocol.md'];

interface Block {
  readonly lang: string;
  readonly body: string;
}

/** The fenced code blocks of a Markdown text, in order. */
function codeBlocks(md: string): Block[] {
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] as string, body: m[2] as string }));
}

/** The file a block saves, from its first line (`# name.yaml`, `// name.ts`), if any. */
function fileOf(b: Block): string | undefined {
  const first = b.body.split('\n')[0] ?? '';
  const m = b.lang === 'yaml' ? /^# ([\w.-]+\.ya?ml)$/.exec(first) : b.lang === 'ts' ? /^\/\/ ([\w.-]+\.ts)$/.exec(first) : null;
  return m?.[1];
}

/** A command line split into words: spaces separate, double quotes group. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? (m[2] as string));
}

/** A ```sh line as a command, and the exit status it expects. */
function command(line: string): { argv: string[]; status: number } {
  const m = /^(.*?)\s+#\s*exits (\d+)\s*$/.exec(line);
  return { argv: words(m !== null ? (m[1] as string) : line.replace(/\s+#.*$/, '')), status: m !== null ? Number(m[2]) : 0 };
}

const root = resolve('.');
const TOOLS: Record<string, string> = {
  desim: join(root, 'dist/src/cli.js'),
  tsc: join(root, 'node_modules/typescript/bin/tsc'),
  vitest: join(root, 'node_modules/vitest/vitest.mjs'),
};

function run(argv: readonly string[], cwd: string): { status: number | null; out: string } {
  const [npx, tool, ...args] = argv;
  const script = tool !== undefined ? TOOLS[tool] : undefined;
  if (npx !== 'npx' || script === undefined) throw new Error(`the guide runs "${argv.join(' ')}": only npx desim, tsc and vitest are known here`);
  // NO_COLOR: vitest's report is read as text.
  const r = spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function followTutorial(file: string): void {
  const base = join(root, 'dist');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'guide-'));
  try {
    // The reader's own project would have its vitest config; this keeps the checkout's out.
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.spec.ts'] } };\n");
    const tsFiles: string[] = [];
    let lastOutput: string | undefined;
    for (const b of codeBlocks(readFileSync(file, 'utf8'))) {
      const name = fileOf(b);
      if (name !== undefined) {
        writeFileSync(join(dir, name), b.body);
        if (name.endsWith('.ts')) tsFiles.push(name);
      } else if (b.lang === 'sh') {
        lastOutput = '';
        for (const line of b.body.split('\n').filter((l) => l.trim() !== '')) {
          const { argv, status } = command(line);
          const r = run(argv, dir);
          expect(r.status, `${file}: \`${line}\` exited ${String(r.status)}:\n${r.out}`).toBe(status);
          lastOutput += r.out;
        }
      } else if (b.lang === 'text') {
        expect(lastOutput, `${file}: an output block before any command`).toBeDefined();
        const missing = b.body.split('\n').filter((l) => l.trim() !== '' && !(lastOutput as string).includes(l));
        expect(missing, `${file}: output lines not printed by the commands before them; they printed:\n${lastOutput}`).toEqual([]);
      }
    }
    if (tsFiles.length > 0) {
      const r = run(
        ['npx', 'tsc', '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', ...tsFiles],
        dir,
      );
      expect(r.status, `${file}: its TypeScript does not type-check:\n${r.out}`).toBe(0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the guide', () => {
  it('the block reader: files, commands with their exit status, quoted words', () => {
    const md = '# t\n\n```yaml\n# a.yaml\nname: a\n```\n\n```yaml\nnot: saved\n```\n\n```sh\nnpx desim validate a.yaml   # exits 2\n```\n';
    const bs = codeBlocks(md);
    expect(bs.map(fileOf)).toEqual(['a.yaml', undefined, undefined]);
    expect(command(bs[2]?.body.trim() ?? '')).toEqual({ argv: ['npx', 'desim', 'validate', 'a.yaml'], status: 2 });
    expect(command('npx desim sweep x --vary "a=1..2 log 3"')).toEqual({ argv: ['npx', 'desim', 'sweep', 'x', '--vary', 'a=1..2 log 3'], status: 0 });
    expect(() => run(['rm', '-rf', '/'], root)).toThrow(/only npx desim, tsc and vitest/);
  });

  it('links every tutorial from the landing page, and each has files and commands to run', () => {
    const index = readFileSync('docs/guide/index.md', 'utf8');
    for (const t of TUTORIALS) {
      expect(index).toContain(`](./${t.slice('docs/guide/'.length)})`);
      const bs = codeBlocks(readFileSync(t, 'utf8'));
      expect(bs.some((b) => fileOf(b) !== undefined)).toBe(true);
      expect(bs.some((b) => b.lang === 'sh')).toBe(true);
    }
  });

  it.each(TUTORIALS)('%s works as written', (file) => {
    expect(existsSync(TOOLS['desim'] as string), 'run npm run build first').toBe(true);
    followTutorial(file);
  });
});
