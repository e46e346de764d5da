import { ConfigError, envBool, envInt, envOptional } from '../../runtime/config';
import { parseDecimal } from '../../runtime/money';
import type { AdmissionLimits } from '../../runtime/admission-queue';
import type { ApprovalThresholds } from './rules';
import { parseSignatureBands, type SignatureBand } from './signing-policy';
import { validateSpreadBps, type FxTransferSettings } from './fx-quote';

/** Saga steps after which the crash-test fault injection may stop the process. */
export const CRASH_STEPS = ['risk', 'compliance', 'debit', 'fx-in', 'fx-reversal', 'hold', 'capture'] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

/** The payments subgraph's configuration, read from the environment once. */
export interface PaymentsConfig {
  /**
   * Maker-checker thresholds in USD minor units (PAYGRAPH_APPROVAL_THRESHOLD_USD, default
   * "10000.00": one approver; PAYGRAPH_DUAL_APPROVAL_THRESHOLD_USD, default "100000.00": two).
   */
  approvals: ApprovalThresholds;
  /**
   * USD bands whose payments need N signed approvals (PAYGRAPH_SIGNED_APPROVAL_BANDS,
   * `"<from USD>:<signatures>,..."`; default unset: approvals are unsigned maker-checker).
   */
  signatureBands: SignatureBand[];
  /** How long one process owns a payment it drives (PAYGRAPH_SAGA_LEASE_MS, default 30000). */
  leaseMs: number;
  /** How often unfinished payments are looked for and resumed (PAYGRAPH_RESUME_INTERVAL_MS, default 15000; 0 = only at start). */
  resumeIntervalMs: number;
  /**
   * Whether the sweep runs at all (PAYGRAPH_RESUME_SWEEP, default true). Off only where another
   * instance sweeps, or in the gateway benchmark: on FerretDB a sweep scans every payment.
   */
  resumeSweep: boolean;
  /**
   * TEST ONLY (the crash-resume test): PAYGRAPH_CRASH_AFTER_STEP=risk|compliance|debit|fx-in (between an FX payment's two legs)|hold|capture (holds) makes the
   * process exit(137) right after that saga step is persisted. Never set it in production.
   */
  crashAfterStep: CrashStep | undefined;
  /**
   * Back-pressure on createPayment: payments driven at once (PAYGRAPH_PAYMENTS_IN_FLIGHT,
   * default 64), more waiting their turn (PAYGRAPH_PAYMENTS_QUEUED, default 512); one more is
   * refused at once with LIMIT_EXCEEDED and `retryAfterMs` (PAYGRAPH_PAYMENTS_RETRY_AFTER_MS, default 200).
   */
  admission: AdmissionLimits;
  /** Cross-currency transfers between accounts: the spread and how long a quote holds (see fx-quote.ts). */
  fxTransfers: FxTransferSettings;
}

export function loadPaymentsConfig(): PaymentsConfig {
  const single = parseDecimal(envOptional('PAYGRAPH_APPROVAL_THRESHOLD_USD') ?? '10000.00', 'USD').minor;
  const dual = parseDecimal(envOptional('PAYGRAPH_DUAL_APPROVAL_THRESHOLD_USD') ?? '100000.00', 'USD').minor;
  if (dual < single) throw new ConfigError('PAYGRAPH_DUAL_APPROVAL_THRESHOLD_USD must be at least PAYGRAPH_APPROVAL_THRESHOLD_USD');
  const crash = envOptional('PAYGRAPH_CRASH_AFTER_STEP');
  if (crash !== undefined && !(CRASH_STEPS as readonly string[]).includes(crash)) {
    throw new ConfigError(`PAYGRAPH_CRASH_AFTER_STEP must be one of ${CRASH_STEPS.join(', ')}`);
  }
  return {
    approvals: { singleUsdMinor: single, dualUsdMinor: dual },
    signatureBands: parseSignatureBands(envOptional('PAYGRAPH_SIGNED_APPROVAL_BANDS')),
    leaseMs: envInt('PAYGRAPH_SAGA_LEASE_MS', 30_000, { min: 100 }),
    resumeIntervalMs: envInt('PAYGRAPH_RESUME_INTERVAL_MS', 15_000),
    resumeSweep: envBool('PAYGRAPH_RESUME_SWEEP', true),
    crashAfterStep: crash as CrashStep | undefined,
    admission: {
      maxActive: envInt('PAYGRAPH_PAYMENTS_IN_FLIGHT', 64, { min: 1, max: 100_000 }),
      maxQueued: envInt('PAYGRAPH_PAYMENTS_QUEUED', 512, { max: 1_000_000 }),
      retryAfterMs: envInt('PAYGRAPH_PAYMENTS_RETRY_AFTER_MS', 200, { min: 1, max: 600_000 }),
    },
    fxTransfers: {
      spreadBps: validateSpreadBps(envInt('PAYGRAPH_FX_SPREAD_BPS', 25, { min: 0, max: 9_999 })),
      quoteTtlMs: envInt('PAYGRAPH_FX_QUOTE_TTL_MS', 60_000, { min: 1_000, max: 86_400_000 }),
    },
  };
}
