/**
 * `notifications:` (docs/dashboard.md, "Notifications"): which status changes notify (rules.ts, pure), the global
 * notifications file (config.ts), and delivery to webhooks and NATS with retries, dead letters and a note in the run's
 * history (deliver.ts, notifier.ts: the edge).
 */
export {
  dueNotifications,
  pendingDeliveries,
  notificationBody,
  webhookKey,
  NotificationBodySchema,
  type PendingDelivery,
} from './rules.js';
export {
  DEFAULT_DELIVERY,
  loadNotificationsConfig,
  parseNotificationsFile,
  type NotificationsConfig,
} from './config.js';
export type { DeliveryOutcome } from './deliver.js';
export { Notifier, type RoleDelivery } from './notifier.js';
export { withNotifier, finishNotifications, keepLeaseFor } from './driver-hooks.js';
