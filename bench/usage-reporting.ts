import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { createLogger } from '../runtime/logger';
import { apiSchemaOf } from '../schema/checks/proposal';
import { usageCoordinates } from '../schema/usage/coordinates';
import { UsageRecorder } from '../gateway/usage-reporting';

/**
 * What usage reporting costs a request at the gateway: the first sight of a document
 * (coordinates computed) and every later one (two map lookups). Figures printed, never asserted.
 */
const schema = apiSchemaOf(readFileSync(join(__dirname, '..', 'schema', 'supergraph.graphql'), 'utf8'));
const document = parse(`
  query PaymentPage($id: ID!) {
    payment(id: $id) {
      id status amount { amount currency minorUnits } reference createdAt
      source { id currency balance { amount } customer { name kyc { tier status } } }
      events { cursor status occurredAt }
      riskAssessment { score level decision reasons }
      complianceCheck { status matches { name score } }
    }
  }`);

function perCall(label: string, iterations: number, run: (i: number) => void): void {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) run(i);
  const ns = Number(process.hrtime.bigint() - started) / iterations;
  console.log(`${label.padEnd(52)} ${(ns / 1000).toFixed(2)} µs per request`);
}

const recorder = new UsageRecorder(async () => undefined, createLogger('bench'));
const coordinates = usageCoordinates(schema, document).length;
console.log(`document: ${coordinates} schema coordinates`);
perCall('coordinates computed (a document seen the first time)', 2_000, () => usageCoordinates(schema, document));
perCall('observed, cached (every later request)', 200_000, (i) => recorder.observe(schema, 'hash-1', document, 'PaymentPage', `client-${i % 5}`));
