/** A user name: what `--as`, NATS user names and recorded decisions use; one rule for the users file in either form. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const NAME_FIX = 'a user name is 1–64 letters, digits, and . _ @ - (not first)';
