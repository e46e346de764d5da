import type { Request, Response } from 'express';

/** One readiness condition: true (or resolves true) when ready; false or a throw when not. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

const CHECK_TIMEOUT_MS = 2000;

async function passes(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
    });
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /readyz for a subgraph: 200 `{ status: 'ready', service, checks }` when every check passes,
 * 503 `{ status: 'unavailable', service, reason, checks }` naming the first that fails.
 */
export function readinessHandler(service: string, checks: Record<string, ReadinessCheck>) {
  return async (_req: Request, res: Response): Promise<void> => {
    const entries = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, (await passes(check)) ? 'ok' : 'failing'] as const));
    const failing = entries.find(([, state]) => state !== 'ok');
    const body = { service, checks: Object.fromEntries(entries) };
    if (!failing) {
      res.json({ status: 'ready', ...body });
      return;
    }
    const reason = failing[0] === 'database' ? 'database unreachable' : `${failing[0]} not ready`;
    res.status(503).json({ status: 'unavailable', ...body, reason });
  };
}
