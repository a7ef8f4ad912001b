/**
 * The users file (docs/users.md): people and agents with their L0–L3 level, domains and a password kept as a scrypt
 * hash; the one source of who may do what on either store.
 */
export {
  checkUserName,
  levelOrThrow,
  linkUser,
  loadUsers,
  parseUsers,
  QUEUE_NAME,
  saveUsers,
  usersFilePath,
  type UserRecord,
  type UsersFile,
} from './file.js';
export { hashSecret, natsHash, verifySecret } from './secrets.js';
export { natsConf } from './nats-conf.js';
