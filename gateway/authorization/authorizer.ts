import { createHash } from 'node:crypto';
import { print, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../../runtime/identity';
import type { Logger } from '../../runtime/logger';
import type { AuthorizationMode } from './config';
import { GrantBook, satisfies } from './grants';
import { analyseOperation, filterOperation, type FilteredOperation, type OperationAnalysis } from './operation-filter';
import type { PolicyRules } from './policies';
import { AuthorizationRules } from './requirements';
import { unauthorizedError } from './restore';

/** What the caller may do with an operation. */
export type AuthorizationDecision =
  | { readonly kind: 'allowed' }
  /** Reject mode, or a subscription whose root field is removed: answer these errors, run nothing. */
  | { readonly kind: 'refused'; readonly errors: readonly GraphQLError[] }
  /** Run `document` (its own `queryHash`: Apollo caches plans by it), then restore the answer (restore.ts). */
  | { readonly kind: 'filtered'; readonly filtered: FilteredOperation; readonly document: DocumentNode; readonly source: string; readonly queryHash: string };

export interface AuthorizationRequest {
  /** The supergraph the operation runs on (its types carry the directives). */
  readonly supergraphSchema: GraphQLSchema;
  /** A valid document. */
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  /** Identifies the document's text (Apollo's queryHash, or the text itself). */
  readonly documentKey: string;
  readonly identity: Identity;
}

const DOCUMENTS_PER_SUPERGRAPH = 2000;
/** Distinct grant sets remembered per document: callers of one app have a few. */
const DECISIONS_PER_DOCUMENT = 64;

interface DocumentEntry {
  readonly analysis?: OperationAnalysis;
  readonly decisions: LRUCache<string, AuthorizationDecision>;
}

interface SupergraphEntry {
  readonly rules: AuthorizationRules;
  readonly documents: LRUCache<string, DocumentEntry>;
}

const ALLOWED: AuthorizationDecision = Object.freeze({ kind: 'allowed' });

/**
 * The one authorization check, for HTTP operations (step.ts) and subscriptions alike: the
 * analysis of a document is cached per supergraph and document, the decision per document and
 * grant set, so a repeat costs two map lookups.
 */
export class Authorizer {
  private readonly grants: GrantBook;
  private readonly supergraphs = new WeakMap<GraphQLSchema, SupergraphEntry>();

  constructor(
    private readonly options: { mode: AuthorizationMode; policies: PolicyRules; log?: Logger },
  ) {
    this.grants = new GrantBook(options.policies);
  }

  decide(request: AuthorizationRequest): AuthorizationDecision {
    const supergraph = this.supergraph(request.supergraphSchema);
    if (!supergraph.rules.any) return ALLOWED;
    const documentKey = `${request.operationName ?? ''}\n${request.documentKey}`;
    let entry = supergraph.documents.get(documentKey);
    if (!entry) {
      const analysis = analyseOperation(request.supergraphSchema, supergraph.rules, request.document, request.operationName);
      entry = { analysis: analysis && analysis.requirements.size > 0 ? analysis : undefined, decisions: new LRUCache({ max: DECISIONS_PER_DOCUMENT }) };
      supergraph.documents.set(documentKey, entry);
    }
    if (!entry.analysis) return ALLOWED;
    const grants = this.grants.of(request.identity);
    let decision = entry.decisions.get(grants.key);
    if (!decision) {
      decision = this.decideFor(entry.analysis, (requirement) => !satisfies(requirement, grants));
      entry.decisions.set(grants.key, decision);
    }
    return decision;
  }

  private decideFor(analysis: OperationAnalysis, denied: Parameters<typeof filterOperation>[1]): AuthorizationDecision {
    const filtered = filterOperation(analysis, denied);
    if (!filtered) return ALLOWED;
    if (this.options.mode === 'reject') return { kind: 'refused', errors: filtered.removedPaths.map(({ path, coordinate }) => unauthorizedError(coordinate, path)) };
    const source = print(filtered.document);
    return { kind: 'filtered', filtered, document: filtered.document, source, queryHash: createHash('sha256').update(source).digest('hex') };
  }

  private supergraph(schema: GraphQLSchema): SupergraphEntry {
    let entry = this.supergraphs.get(schema);
    if (!entry) {
      const rules = new AuthorizationRules(schema);
      const undefinedPolicies = [...rules.policyNames].filter((name) => !Object.hasOwn(this.options.policies, name));
      // Fail closed: a @policy without a rule grants nobody.
      if (undefinedPolicies.length > 0) this.options.log?.warn({ policies: undefinedPolicies }, 'the supergraph uses @policy names the policy file does not define; no caller is granted them');
      entry = { rules, documents: new LRUCache({ max: DOCUMENTS_PER_SUPERGRAPH }) };
      this.supergraphs.set(schema, entry);
    }
    return entry;
  }
}
