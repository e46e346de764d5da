import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForUrl } from '../../scripts/stack';

/**
 * The `paygraph-baseline` target: our gateway as another commit had it, for before/after
 * ratios measured side by side in one run. The commit is checked out into a temporary git
 * worktree with this repository's node_modules linked in, and its gateway/main.ts runs as
 * its own process, with our gateway's environment, in front of the same subgraphs.
 */
const ROOT = join(__dirname, '..', '..');

export interface BaselineCheckout {
  readonly ref: string;
  readonly commit: string;
  readonly dir: string;
  /** Whether its schema/supergraph.graphql is ours byte for byte (each gateway serves its own). */
  readonly sameSupergraph: boolean;
  /** Removes the worktree (and its registration in this repository). */
  remove(): void;
}

const git = (args: string[], cwd = ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export function checkoutBaseline(ref: string): BaselineCheckout {
  const parent = mkdtempSync(join(tmpdir(), 'paygraph-baseline-'));
  const dir = join(parent, 'checkout');
  try {
    git(['worktree', 'add', '--detach', dir, ref]);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (error) {
    rmSync(parent, { recursive: true, force: true });
    git(['worktree', 'prune']);
    throw new Error(`cannot check out baseline ${ref}: ${(error as Error).message}`);
  }
  const supergraph = (root: string) => readFileSync(join(root, 'schema', 'supergraph.graphql'), 'utf8');
  let removed = false;
  return {
    ref,
    commit: git(['rev-parse', 'HEAD'], dir),
    dir,
    sameSupergraph: supergraph(dir) === supergraph(ROOT),
    remove() {
      if (removed) return;
      removed = true;
      // --force: the node_modules link is an untracked file in it.
      if (existsSync(dir)) git(['worktree', 'remove', '--force', dir]);
      rmSync(parent, { recursive: true, force: true });
      git(['worktree', 'prune']);
    },
  };
}

/** Starts the checkout's gateway on `port` with `env` and waits for its /healthz. */
export async function startBaselineGateway(checkout: BaselineCheckout, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(checkout.dir, 'gateway', 'main.ts')], {
    cwd: checkout.dir,
    env: { ...process.env, ...env, GATEWAY_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    await waitForUrl(`http://127.0.0.1:${port}/healthz`, 90_000, alive);
  } catch (error) {
    if (alive()) child.kill('SIGKILL');
    throw error;
  }
  return child;
}
