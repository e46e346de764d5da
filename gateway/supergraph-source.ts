import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SupergraphManager } from '@apollo/gateway';
import { Supergraph } from '@apollo/federation-internals';
import { Counter, Gauge } from 'prom-client';
import type { Logger } from '../runtime/logger';
import type { RegistryStore, RejectionRecord } from '../schema/registry/store';
import { withEnforcedSecurityFeatures } from './authorization/security-features';

const supergraphVersion = new Gauge({
  name: 'paygraph_supergraph_version',
  help: 'The registry supergraph version the gateway serves (0: the SUPERGRAPH_PATH file)',
});
const rejections = new Counter({
  name: 'paygraph_schema_publish_rejections_total',
  help: 'Schema publishes the registry rejected (or supergraph files the gateway refused), as seen by this gateway',
});

export interface RejectionSummary {
  subgraph?: string;
  version?: string;
  reasons: string[];
  at: string;
}

/** What /readyz tells about the supergraph being served. */
export interface SupergraphStatus {
  source: 'registry' | 'file';
  /** Registry version served; 0 when the file is served. */
  version: number;
  loadedAt: string;
  lastRejection?: RejectionSummary;
  /** The last failure to reach the registry, cleared by the next good poll. */
  registryError?: string;
}

export interface SupergraphSourceOptions {
  source: 'registry' | 'file';
  supergraphPath: string;
  pollMs: number;
  /** The registry, once connected (registry mode); undefined while unreachable. */
  registry: () => Promise<RegistryStore | undefined>;
  log: Logger;
}

function summarise(rejection: RejectionRecord): RejectionSummary {
  return { subgraph: rejection.subgraph, version: rejection.version, reasons: rejection.reasons, at: rejection.rejectedAt.toISOString() };
}

/**
 * The gateway's supergraph: from the schema registry (polled) or from a file (watched). It
 * hands ApolloGateway each new supergraph through the `update` hook, so Apollo Server swaps
 * schemas between requests: requests and subscriptions already running finish on the graph
 * they started with. A supergraph that does not build is refused and the current one stays.
 */
export class SupergraphSource {
  private state: SupergraphStatus;
  private rejectionSequence = 0;
  private update?: (sdl: string) => void;
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** The last supergraph text seen (served, or refused): a file is reloaded when it differs. */
  private lastSdl = '';
  /** A registry version that did not load: not retried on every poll. */
  private refusedVersion = 0;

  constructor(private readonly options: SupergraphSourceOptions) {
    this.state = { source: options.source, version: 0, loadedAt: new Date().toISOString() };
  }

  status(): SupergraphStatus {
    return this.state;
  }

  /** For ApolloGateway's `supergraphSdl` option. */
  manager(): SupergraphManager {
    return {
      initialize: async ({ update }) => {
        this.update = update;
        const supergraphSdl = this.options.source === 'registry' ? await this.initialRegistrySdl() : this.readFile();
        this.lastSdl = supergraphSdl;
        if (this.options.source === 'registry') {
          this.timer = setInterval(() => void this.pollRegistry(), this.options.pollMs);
          this.timer.unref();
        } else {
          watchFile(this.options.supergraphPath, { interval: this.options.pollMs, persistent: false }, this.fileChanged);
        }
        return { supergraphSdl: withEnforcedSecurityFeatures(supergraphSdl), cleanup: async () => this.stop() };
      },
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    unwatchFile(this.options.supergraphPath, this.fileChanged);
  }

  // One listener per source, so stopping one gateway never unwatches another's file.
  private readonly fileChanged = () => this.reloadFile();

  private readFile(): string {
    try {
      return readFileSync(this.options.supergraphPath, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the supergraph ${this.options.supergraphPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
  }

  private async initialRegistrySdl(): Promise<string> {
    try {
      const store = await this.options.registry();
      if (store) {
        const current = await store.currentSupergraph();
        await this.catchUpRejections(store, false);
        if (current) {
          this.serve(current.supergraphSdl, current._id);
          return current.supergraphSdl;
        }
        this.options.log.info({ path: this.options.supergraphPath }, 'the schema registry is empty: serving the supergraph file until a subgraph publishes');
      }
    } catch (error) {
      this.noteRegistryError(error);
    }
    const sdl = this.readFile();
    this.serve(sdl, 0);
    return sdl;
  }

  private serve(sdl: string, version: number): void {
    this.lastSdl = sdl;
    this.state = { ...this.state, version, loadedAt: new Date().toISOString() };
    supergraphVersion.set(version);
  }

  /** One poll: two point reads when nothing changed (the next version and the next rejection). */
  async pollRegistry(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const store = await this.options.registry();
      if (!store) return;
      await this.catchUpRejections(store, true);
      const latest = await store.currentSupergraphVersion(this.state.version);
      if (latest > this.state.version && latest > this.refusedVersion) {
        const record = await store.supergraph(latest);
        if (record && !this.swap(record.supergraphSdl, latest, `registry version ${latest} (${record.cause.subgraph} ${record.cause.version})`)) this.refusedVersion = latest;
      }
      if (this.state.registryError) this.state = { ...this.state, registryError: undefined };
    } catch (error) {
      this.noteRegistryError(error);
    } finally {
      this.polling = false;
    }
  }

  private async catchUpRejections(store: RegistryStore, log: boolean): Promise<void> {
    const latest = await store.latestRejectionSequence(this.rejectionSequence);
    if (latest <= this.rejectionSequence) return;
    rejections.inc(latest - this.rejectionSequence);
    const newest = await store.rejection(latest);
    if (log) {
      for (let sequence = this.rejectionSequence + 1; sequence <= latest; sequence += 1) {
        const rejection = sequence === latest ? newest : await store.rejection(sequence);
        if (rejection) this.options.log.error({ subgraph: rejection.subgraph, version: rejection.version, reasons: rejection.reasons }, `schema publish rejected; still serving supergraph version ${this.state.version}`);
      }
    }
    this.rejectionSequence = latest;
    if (newest) this.state = { ...this.state, lastRejection: summarise(newest) };
  }

  private reloadFile(): void {
    let sdl: string;
    try {
      sdl = this.readFile();
    } catch (error) {
      this.refuse(`cannot read ${this.options.supergraphPath}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (sdl !== this.lastSdl && !this.swap(sdl, 0, this.options.supergraphPath)) this.lastSdl = sdl;
  }

  /** Hands a new supergraph to the gateway, or refuses it (keeping the current one). */
  private swap(sdl: string, version: number, origin: string): boolean {
    try {
      const loadable = withEnforcedSecurityFeatures(sdl);
      Supergraph.build(loadable);
      this.update?.(loadable);
    } catch (error) {
      this.refuse(`${origin} does not load: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
    this.serve(sdl, version);
    this.options.log.info({ version, origin }, 'supergraph reloaded');
    return true;
  }

  private refuse(reason: string): void {
    rejections.inc();
    this.state = { ...this.state, lastRejection: { reasons: [reason], at: new Date().toISOString() } };
    this.options.log.error({ reason, version: this.state.version }, 'supergraph refused; still serving the previous one');
  }

  private noteRegistryError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.state.registryError !== message) this.options.log.warn({ err: error }, 'schema registry unreachable; serving the current supergraph');
    this.state = { ...this.state, registryError: message };
  }
}
