import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Builds our FerretDB wrapper (./ferretdb) with the Go toolchain, once, into a cache outside
 * the checkout. The cache key is the FerretDB version plus a digest of the wrapper's sources,
 * so CI and later runs reuse the binary and a change to the wrapper rebuilds it.
 *
 * FerretDB itself is built with our changes (ferretdb/patches/, preparePatchedFerretDb): its
 * SQLite backend pushes lookups by any indexed field, and `$in`, down to SQLite instead of
 * scanning the table; stored documents are decoded without a json.Decoder per value; a find
 * without a projection answers the documents it read rather than two deep copies of each; and a
 * release build does not track every iterator for leaks.
 */
export const FERRETDB_VERSION = '1.24.2';
const SOURCE_DIR = join(__dirname, 'ferretdb');
const PATCHES_DIR = join(SOURCE_DIR, 'patches');
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
/** FerretDB packages we change, relative to the module root. */
const SQLITE_BACKEND = join('internal', 'backends', 'sqlite');
const SJSON_PACKAGE = join('internal', 'handler', 'sjson');
/** Each patch in PATCHES_DIR and the FerretDB package (relative to the module root) it applies to. */
const PATCHES: { patch: string; packageDir: string }[] = [
  { patch: 'collection.go.patch', packageDir: SQLITE_BACKEND },
  { patch: 'resource.go.patch', packageDir: join('internal', 'util', 'resource') },
  { patch: 'sjson.patch', packageDir: SJSON_PACKAGE },
  { patch: 'projection.patch', packageDir: join('internal', 'handler', 'common') },
  { patch: 'msg_update.go.patch', packageDir: join('internal', 'handler') },
];
/** Our files compiled into FerretDB's packages: file in PATCHES_DIR, package, name there. */
const ADDED_FILES: { file: string; packageDir: string; as: string }[] = [
  { file: 'pushdown.go', packageDir: SQLITE_BACKEND, as: 'paygraph_pushdown.go' },
  { file: 'decode.go', packageDir: SJSON_PACKAGE, as: 'paygraph_decode.go' },
];

export class EmbeddedDbUnavailable extends Error {}

function cacheRoot(): string {
  const base = process.env.PAYGRAPH_CACHE_DIR || process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'paygraph');
}

export function binaryPath(): string {
  const digest = createHash('sha256');
  const sources = readdirSync(SOURCE_DIR).filter((file) => file.endsWith('.go')).sort();
  for (const file of [...sources, 'go.mod', 'go.sum']) digest.update(readFileSync(join(SOURCE_DIR, file)));
  for (const file of readdirSync(PATCHES_DIR).sort()) digest.update(readFileSync(join(PATCHES_DIR, file)));
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
  const env = { ...process.env, CGO_ENABLED: process.env.CGO_ENABLED ?? '0', GOFLAGS: '-mod=readonly' };
  const workDir = `${partial}.src`;
  try {
    const modfile = preparePatchedFerretDb(go, workDir, env);
    execFileSync(go, ['build', '-trimpath', `-modfile=${modfile}`, '-o', partial, '.'], { cwd: SOURCE_DIR, stdio: ['ignore', 'inherit', 'inherit'], env });
  } finally {
    // The copy keeps the module cache's read-only modes; make it removable first.
    if (existsSync(workDir)) execFileSync('chmod', ['-R', 'u+w', workDir]);
    rmSync(workDir, { recursive: true, force: true });
  }
  // Rename is atomic, so concurrent builders never run a half-written binary.
  renameSync(partial, target);
  return target;
}

/**
 * Prepares FerretDB's source with our changes in workDir: a copy of the module with each of
 * PATCHES applied and ADDED_FILES added to its packages, and a go.mod for our
 * wrapper that builds against that copy. (`go build -overlay` would avoid the copy, but refuses
 * to replace files in the module cache.) Returns the go.mod's path for `-modfile`; every patch
 * must apply exactly or the build stops.
 */
function preparePatchedFerretDb(go: string, workDir: string, env: NodeJS.ProcessEnv): string {
  execFileSync(go, ['mod', 'download', FERRETDB_MODULE], { cwd: SOURCE_DIR, stdio: ['ignore', 'ignore', 'inherit'], env });
  const moduleDir = execFileSync(go, ['list', '-m', '-f', '{{.Dir}}', FERRETDB_MODULE], { cwd: SOURCE_DIR, encoding: 'utf8', env }).trim();
  const sourceCopy = join(workDir, 'ferretdb-src');
  cpSync(moduleDir, sourceCopy, { recursive: true });
  execFileSync('chmod', ['-R', 'u+w', sourceCopy]); // the module cache is read-only
  for (const { patch, packageDir } of PATCHES) {
    // git apply works outside a repository and refuses a patch whose context does not match.
    execFileSync('git', ['apply', '-p1', join(PATCHES_DIR, patch)], { cwd: join(sourceCopy, packageDir), stdio: ['ignore', 'inherit', 'inherit'] });
  }
  for (const { file, packageDir, as } of ADDED_FILES) copyFileSync(join(PATCHES_DIR, file), join(sourceCopy, packageDir, as));
  const modfile = join(workDir, 'go.mod');
  copyFileSync(join(SOURCE_DIR, 'go.mod'), modfile);
  copyFileSync(join(SOURCE_DIR, 'go.sum'), join(workDir, 'go.sum'));
  execFileSync(go, ['mod', 'edit', `-modfile=${modfile}`, `-replace=${FERRETDB_MODULE}=${sourceCopy}`], { cwd: SOURCE_DIR, env });
  return modfile;
}

if (require.main === module) {
  try {
    console.log(ensureFerretDbBinary(console.log));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
