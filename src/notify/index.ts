/**
 * `notifications:` (docs/dashboard.md, "Notifications"): which status changes
 * notify (rules.ts, pure), the global notifications file (config.ts), and
 * delivery to webhooks and NATS with retries, dead letters and a note in the
 * run's history (deliver.ts, notifier.ts: the edge).
 */
export {
  dueNotifications, pendingDeliveries, notificationBody, notifySubject, rulesOfDefinition, webhookKey, NotificationBodySchema,
  type DueNotification, type NotificationBody, type NotificationTarget, type PendingDelivery,
} from './rules.js';
export { backoffAfter, DEFAULT_DELIVERY, loadNotificationsConfig, parseNotificationsFile, type DeliverySettings, type NotificationsConfig } from './config.js';
export { deliver, type DeliveryOutcome } from './deliver.js';
export { Notifier, type NotifierNats, type NotifierOptions, type RoleDelivery } from './notifier.js';
export { withNotifier, finishNotifications, keepLeaseFor } from './driver-hooks.js';
