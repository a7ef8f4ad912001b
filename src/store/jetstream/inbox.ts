/**
 * Every NATS user's replies come back under an inbox prefix of its own, `_INBOX_<user>`, which nats.conf lets only that
 * user subscribe to. With the usual `_INBOX.>` granted to every user, any of them could listen to every other
 * connection's replies: the engines' read of their attempt secret, the attempts pulled by other workers, other people's
 * answers. A connection without a user (a server without users, or nats-dev.conf's anonymous engine) keeps nats.js's
 * default `_INBOX`.
 */
export function inboxPrefixFor(user: string | undefined): string | undefined {
  return user && /^[A-Za-z0-9_-]+$/.test(user) ? `_INBOX_${user}` : undefined;
}
