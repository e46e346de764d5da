import { ConfigError, envInt, envString } from '../../runtime/config';

export type DemandControlMode = 'enforce' | 'measure';

/** Demand control's settings (GatewayConfig.demandControl), read from the environment once. */
export interface DemandControlConfig {
  /**
   * Largest estimated cost an operation may have. Env MAX_COST, default 5000: a page of 100
   * payments with their parties, customer and KYC profile, risk and compliance results,
   * matches and events (cost 2,601) passes; 100 ledger entries under each of them does not.
   */
  maxCost: number;
  /** `enforce` refuses an operation over the limit; `measure` logs it and lets it run. Env DEMAND_CONTROL_MODE, default enforce. */
  mode: DemandControlMode;
  /** Size assumed for a list field that no `@listSize` sizes. Env DEMAND_CONTROL_LIST_SIZE, default 10. */
  defaultListSize: number;
}

export const DEFAULT_MAX_COST = 5000;

export function readDemandControlConfig(): DemandControlConfig {
  const mode = envString('DEMAND_CONTROL_MODE', 'enforce');
  if (mode !== 'enforce' && mode !== 'measure') throw new ConfigError(`DEMAND_CONTROL_MODE must be enforce or measure, got ${JSON.stringify(mode)}`);
  return {
    maxCost: envInt('MAX_COST', DEFAULT_MAX_COST, { min: 1 }),
    mode,
    defaultListSize: envInt('DEMAND_CONTROL_LIST_SIZE', 10, { max: 100_000 }),
  };
}
