/**
 * users and its subcommands (add, set-level, passwd, nats-conf, token, rm, list): the users file.
 *
 * One group of the command table of `ledgerflow`: ../program.ts calls the groups in the order
 * --help and docs/cli.md list the commands.
 */
import type { Command } from 'commander';
import type { CommandTable } from './act.js';

export function userCommands(p: Command, { io, act }: CommandTable): void {
  const users = p
    .command('users')
    .description(
      'the users file (docs/users.md): who may act, at which of the levels L0 Commander, L1 CMD.BRIDGE, L2 Station OPS, L3 Worker',
    );
  const usersFile = (c: Command) =>
    c.option('--users <file>', 'the users file (default $LEDGERFLOW_USERS, else users.yaml here)').option('--json');
  usersFile(
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
      .option('--password-stdin', 'read the password from the first line of stdin'),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, name: string, o) => m.usersAddCmd(io, name, o),
    ),
  );
  usersFile(
    users
      .command('set-level')
      .argument('<name>')
      .argument('<level>', 'L0, L1, L2 or L3')
      .description("change a user's level (and, with --domains, its domains)")
      .option('--domains <list>', 'the workflow domains it may start, comma-separated (empty: none)')
      .option('--queues <list>', "a Worker's task queues, comma-separated"),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, name: string, level: string, o) => m.usersSetLevelCmd(io, name, level, o),
    ),
  );
  usersFile(
    users
      .command('passwd')
      .argument('<name>')
      .description("set a user's password from the first line of stdin (kept as a scrypt hash)")
      .option('--password-stdin', 'read it from stdin (the only way: never on the command line)'),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, name: string, o) => m.usersPasswdCmd(io, name, o),
    ),
  );
  usersFile(
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
      ),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, o) => m.usersNatsConfCmd(io, o),
    ),
  );
  usersFile(
    users
      .command('token')
      .argument('<name>')
      .description(
        'a new dashboard token for the user, printed once (the file keeps its sha256); the one before stops working',
      ),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, name: string, o) => m.usersTokenCmd(io, name, o),
    ),
  );
  usersFile(users.command('rm').argument('<name>').description('remove a user')).action(
    act(
      () => import('../commands/users.js'),
      (m, name: string, o) => m.usersRmCmd(io, name, o),
    ),
  );
  usersFile(
    users
      .command('list')
      .description('who is in the users file: name, level, domains, whether a password is set (never the hash)'),
  ).action(
    act(
      () => import('../commands/users.js'),
      (m, o) => m.usersListCmd(io, o),
    ),
  );
}
