import { Counter, Histogram } from 'prom-client';

/** Final outcomes: `delivered` (a 2xx) or `failed` (given up after the retry schedule). */
export const webhookDeliveries = new Counter({
  name: 'paygraph_webhook_deliveries_total',
  help: 'Webhook deliveries finished, by outcome (delivered: acknowledged with a 2xx; failed: given up after the retry schedule)',
  labelNames: ['outcome'],
});

/** Every POST tried, by result: 2xx, http_error (any other status), timeout, connection_error, refused_address, aborted (cut by a shutdown), error (ours: e.g. a secret that does not open). */
export const webhookAttempts = new Counter({
  name: 'paygraph_webhook_attempts_total',
  help: 'Webhook POSTs attempted, by result (2xx, http_error, timeout, connection_error, refused_address, aborted, error)',
  labelNames: ['result'],
});

export const webhookDeliveryLag = new Histogram({
  name: 'paygraph_webhook_delivery_lag_seconds',
  help: 'From a payment event being appended to the log to its webhook being acknowledged by the receiver',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400, 259200],
});

/** What operators alert on: an endpoint switched off after a delivery was given up. */
export const webhookEndpointsDisabled = new Counter({
  name: 'paygraph_webhook_endpoints_disabled_total',
  help: 'Webhook endpoints disabled because a delivery was given up after the whole retry schedule',
});
