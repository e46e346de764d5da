import { Histogram } from 'prom-client';

const operationCost = new Histogram({
  name: 'paygraph_operation_cost',
  help: 'Demand-control cost of operations by operation name: estimated (before execution, refused ones included) and actual (from the result)',
  labelNames: ['kind', 'operation'],
  buckets: [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 100_000, 1_000_000],
});

/** Records an operation's costs; `operation` is an already bounded label (OperationRecorder.label). */
export function recordCost(operation: string, estimated: number, actual?: number): void {
  operationCost.observe({ kind: 'estimated', operation }, estimated);
  if (actual !== undefined) operationCost.observe({ kind: 'actual', operation }, actual);
}
