import type { Identity } from '../../runtime/identity';
import type { ComplianceLoaders } from './loaders';
import type { ComplianceService } from './service';

export interface ComplianceContext {
  identity: Identity;
  requestId: string;
  loaders: ComplianceLoaders;
  service: ComplianceService;
}
