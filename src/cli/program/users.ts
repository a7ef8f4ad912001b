/** users and its subcommands (add, set-level, passwd, nats-conf, token, rm, list): the users file. */
import type { TableCommand } from '../flags/options.js';
import type { CommandTable } from './act.js';

export function userCommands(p: TableCommand, { actLocal }: CommandTable): void {
  const users = p
    .command('users')
    .description(
      'the users file (docs/users.md): who may act, at which of the levels L0 Commander, L1 CMD.BRIDGE, L2 Station OPS, L3 Worker',
    );
  const usersFile = [
    ['--users <file>', 'the users file (default $LEDGERFLOW_USERS, else users.yaml here)'],
    ['--json'],
  ] as const;
  users
    .command('add')
    .argument('<name>')
    .description('add a user at a level; --password-stdin reads a password (kept as a scrypt hash, never in clear)')
    .requiredOption('--level <level>', 'L0, L1, L2 or L3')
    .option('--domains <list>', 'for an L2: the workflow domains it may start, comma-separated')
    .option(
      '--queues <list>',
      'for an L3 Worker: the task queues it takes attempts of on NATS (users nats-conf), comma-separated; default: default',
    )
    .option(
      '--stations <list>',
      "the stations whose leaf node the user acts through (a Worker: their queue station-<name>), comma-separated; leaf-<station> with --stations <station> is that station's link (users nats-conf, docs/nats.md#stations)",
    )
    .option('--password-stdin', 'read the password from the first line of stdin')
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersAddCmd'));
  users
    .command('set-level')
    .argument('<name>')
    .argument('<level>', 'L0, L1, L2 or L3')
    .description("change a user's level (and, with --domains, its domains)")
    .option('--domains <list>', 'the workflow domains it may start, comma-separated (empty: none)')
    .option('--queues <list>', "a Worker's task queues, comma-separated")
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersSetLevelCmd'));
  users
    .command('passwd')
    .argument('<name>')
    .description("set a user's password from the first line of stdin (kept as a scrypt hash)")
    .option('--password-stdin', 'read it from stdin (the only way: never on the command line)')
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersPasswdCmd'));
  users
    .command('nats-conf')
    .description(
      "nats-server's account block from the users file: each user with a bcrypt hash of their password and the permissions of their level (docs/users.md#on-nats)",
    )
    .option('--engine <name>', 'the user the engines connect as: every subject (default: engine)')
    .option('--out <file>', 'write it to this file (owner-only) instead of printing it')
    .option(
      '--domain <domain>',
      "for a station's leaf node (docs/nats.md#stations): the permissions name the hub's JetStream through this domain ($JS.<domain>.API…), and the account has no JetStream of its own",
    )
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersNatsConfCmd'));
  users
    .command('token')
    .argument('<name>')
    .description(
      'a new dashboard token for the user, printed once (the file keeps its sha256); the one before stops working',
    )
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersTokenCmd'));
  users
    .command('rm')
    .argument('<name>')
    .description('remove a user')
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersRmCmd'));
  users
    .command('list')
    .description('who is in the users file: name, level, domains, whether a password is set (never the hash)')
    .with(...usersFile)
    .action(actLocal(() => import('../commands/users.js'), 'usersListCmd'));
}
