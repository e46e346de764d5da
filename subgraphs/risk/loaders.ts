import DataLoader from 'dataloader';
import type { AssessmentRecord, RiskRepository } from './repository';

export interface RiskLoaders {
  /** Assessment by payment id: N payments cost one query. */
  assessmentByPaymentId: DataLoader<string, AssessmentRecord | null>;
}

export function createLoaders(repository: RiskRepository): RiskLoaders {
  return {
    assessmentByPaymentId: new DataLoader(async (paymentIds) => {
      const found = new Map((await repository.findByPaymentIds(paymentIds)).map((a) => [a.paymentId, a]));
      return paymentIds.map((id) => found.get(id) ?? null);
    }),
  };
}
