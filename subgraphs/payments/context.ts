import type { Identity } from '../../runtime/identity';
import type { Collaborators } from './collaborators';
import type { PaymentEventNotifier } from './event-notifier';
import type { Loaders } from './loaders';
import type { PaymentService } from './payment-service';
import type { PaymentsRepository } from './repository';
import type { WebhookEndpoints } from './webhooks';
import type { PaymentHolds } from './hold-service';

export interface PaymentsContext {
  identity: Identity;
  requestId: string;
  loaders: Loaders;
  repository: PaymentsRepository;
  service: PaymentService;
  collaborators: Collaborators;
  notifier: PaymentEventNotifier;
  webhooks: WebhookEndpoints;
  /** authorizePayment, capturePayment, voidPayment (hold-service.ts). */
  holds: PaymentHolds;
}
