import type { Identity } from '../../runtime/identity';
import type { AlertBus } from './alerts';
import type { RiskService } from './assessments';
import type { RiskLoaders } from './loaders';
import type { RiskRepository } from './repository';

export interface RiskContext {
  identity: Identity;
  requestId: string;
  loaders: RiskLoaders;
  repository: RiskRepository;
  service: RiskService;
  alerts: AlertBus;
}
