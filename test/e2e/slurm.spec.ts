/**
 * A real Slurm job array (single-node cluster from ../shared/slurm/local-slurm.sh,
 * started by .ci/run where it can): three array tasks each run their shard
 * of a sweep, `desim merge` combines them, and the result equals the
 * unsharded sweep byte for byte. Skipped, with the reason, where no Slurm
 * cluster answers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

function slurmIdle(): boolean {
  const r = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /idle|mix/.test(r.stdout);
}

const available = slurmIdle();
const CLI = resolve('dist/src/cli.js');
const SWEEP = `sweep tcp-original --set duration_s=20 --vary protocol.tcp.bottleneck.loss=0.01,0.02,0.05 --reps 2 --quiet --jobs 1`;

describe.skipIf(!available)('Slurm job array (skipped: no Slurm cluster answers sinfo)', () => {
  it('three array tasks + desim merge = the unsharded sweep', () => {
    const dir = mkdtempSync(join('/tmp', 'desim-slurm-'));
    const script = join(dir, 'job.sh');
    writeFileSync(script, `#!/bin/bash\ncd ${dir}\n${process.execPath} ${CLI} ${SWEEP} --out shards/$SLURM_ARRAY_TASK_ID\n`);
    execFileSync('sbatch', ['--wait', '--array=0-2', '-o', join(dir, 'task-%a.log'), script], { cwd: dir, timeout: 300_000 });
    execFileSync(process.execPath, [CLI, 'merge', 'shards/0', 'shards/1', 'shards/2', '--out', 'merged'], { cwd: dir });
    execFileSync(process.execPath, [CLI, ...SWEEP.split(' '), '--out', 'whole'], { cwd: dir });
    for (const f of ['summary.csv', 'aggregate.csv']) {
      expect(readFileSync(join(dir, 'merged', f), 'utf8')).toBe(readFileSync(join(dir, 'whole', f), 'utf8'));
    }
  });
});
