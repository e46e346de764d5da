import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Builds our FerretDB wrapper (./ferretdb) with the Go toolchain, once, into a cache outside
 * the checkout. The cache key is the FerretDB version plus a digest of the wrapper's sources,
 * so CI and later runs reuse the binary and a change to the wrapper rebuilds it.
 */
export const FERRETDB_VERSION = '1.24.2';
const SOURCE_DIR = join(__dirname, 'ferretdb');

export class EmbeddedDbUnavailable extends Error {}

function cacheRoot(): string {
  const base = process.env.PAYGRAPH_CACHE_DIR || process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'paygraph');
}

export function binaryPath(): string {
  const digest = createHash('sha256');
  const sources = readdirSync(SOURCE_DIR).filter((file) => file.endsWith('.go')).sort();
  for (const file of [...sources, 'go.mod', 'go.sum']) digest.update(readFileSync(join(SOURCE_DIR, file)));
  return join(cacheRoot(), `ferretdb-${FERRETDB_VERSION}-${digest.digest('hex').slice(0, 12)}`, 'paygraph-ferretdb');
}

function goBinary(): string | undefined {
  const candidates = [process.env.GO, 'go', '/usr/local/go/bin/go'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Returns the path of the built binary, building it first if the cache lacks it. */
export function ensureFerretDbBinary(log: (line: string) => void = () => {}): string {
  const target = binaryPath();
  if (existsSync(target)) return target;
  const go = goBinary();
  if (!go) {
    throw new EmbeddedDbUnavailable(
      'paygraph needs a MongoDB-compatible database. Either set MONGODB_URI to a MongoDB deployment ' +
        '(e.g. MONGODB_URI=mongodb://127.0.0.1:27017), or install Go 1.24+ (https://go.dev/doc/install, or ' +
        '`apt-get install golang`) so paygraph can build its embedded FerretDB.',
    );
  }
  log(`building embedded FerretDB ${FERRETDB_VERSION} (once; cached in ${target})…`);
  mkdirSync(join(target, '..'), { recursive: true });
  const partial = `${target}.${process.pid}.tmp`;
  execFileSync(go, ['build', '-trimpath', '-o', partial, '.'], {
    cwd: SOURCE_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CGO_ENABLED: process.env.CGO_ENABLED ?? '0', GOFLAGS: '-mod=readonly' },
  });
  // Rename is atomic, so concurrent builders never run a half-written binary.
  renameSync(partial, target);
  return target;
}

if (require.main === module) {
  try {
    console.log(ensureFerretDbBinary(console.log));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
