import DataLoader from 'dataloader';
import type { ComplianceCheckRecord, ComplianceRepository, KycProfileRecord } from './repository';
import { defaultProfile } from './service';

export interface ComplianceLoaders {
  /** KYC profile by customer id (the default NONE/UNVERIFIED one when none is stored). */
  profileByCustomerId: DataLoader<string, KycProfileRecord>;
  checkByPaymentId: DataLoader<string, ComplianceCheckRecord | null>;
}

export function createLoaders(repository: ComplianceRepository): ComplianceLoaders {
  return {
    profileByCustomerId: new DataLoader(async (ids) => {
      const found = new Map((await repository.profilesFor(ids)).map((p) => [p._id, p]));
      return ids.map((id) => found.get(id) ?? defaultProfile(id));
    }),
    checkByPaymentId: new DataLoader(async (ids) => {
      const found = new Map((await repository.checksFor(ids)).map((c) => [c.paymentId, c]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}
