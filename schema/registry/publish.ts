import { repositoryBaseline, sdlDigest, sdlsOf, type Baseline } from './base';
import type { RegistryStore } from './store';
import { registryUsage } from './usage-store';

export interface PublishRequest {
  subgraph: string;
  sdl: string;
  /** Version label; defaults to the first 12 hex digits of the SDL's digest. */
  version?: string;
  usageWindowDays: number;
}

export type PublishOutcome =
  | { status: 'unchanged'; version: number }
  | { status: 'published'; version: number; warnings: string[] }
  | { status: 'rejected'; version: number; rejection: number; reasons: string[] };

const MAX_ATTEMPTS = 25;

/**
 * Publishes one subgraph's SDL: composes it with the other subgraphs' current SDL, runs the
 * checks (contract, breaking changes against recorded client usage) and stores either the
 * next supergraph version or a rejection; on a rejection the current version stays. When
 * another publisher takes the next version first, this one starts again from the new current.
 */
export async function publishSubgraph(store: RegistryStore, request: PublishRequest, now: () => Date = () => new Date()): Promise<PublishOutcome> {
  const digest = sdlDigest(request.sdl);
  const label = request.version ?? digest.slice(0, 12);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const current = await store.currentSupergraph();
    const base: Baseline & { version: number } = current ? { ...current, version: current._id } : { ...repositoryBaseline(), version: 0 };
    let supergraphSdl: string;
    let warnings: string[] = [];
    if (base.subgraphs[request.subgraph]?.digest === digest) {
      if (current) return { status: 'unchanged', version: current._id };
      // An empty registry and the repository's SDL: version 1 is the committed supergraph.
      supergraphSdl = base.supergraphSdl;
    } else {
      // Composition is loaded only when an SDL changed: most starts publish an unchanged SDL.
      const { checkProposal } = require('../checks/proposal') as typeof import('../checks/proposal');
      const outcome = await checkProposal({
        currentSubgraphs: sdlsOf(base.subgraphs),
        currentSupergraphSdl: base.supergraphSdl,
        subgraph: request.subgraph,
        sdl: request.sdl,
        usage: registryUsage(store),
        usageWindowDays: request.usageWindowDays,
        now: now(),
      });
      if (!outcome.ok || !outcome.supergraphSdl) {
        const rejection = await store.recordRejection({
          subgraph: request.subgraph,
          version: label,
          digest,
          reasons: outcome.failures,
          currentVersion: base.version,
          rejectedAt: now(),
        });
        return { status: 'rejected', version: base.version, rejection, reasons: outcome.failures };
      }
      supergraphSdl = outcome.supergraphSdl;
      warnings = outcome.warnings;
    }
    const inserted = await store.insertSupergraph({
      _id: base.version + 1,
      supergraphSdl,
      subgraphs: { ...base.subgraphs, [request.subgraph]: { sdl: request.sdl, digest, version: label, publishedAt: now() } },
      cause: { subgraph: request.subgraph, version: label },
      warnings,
      createdAt: now(),
    });
    if (inserted) return { status: 'published', version: base.version + 1, warnings };
  }
  throw new Error(`publishing ${request.subgraph} lost ${MAX_ATTEMPTS} races for the next supergraph version`);
}
