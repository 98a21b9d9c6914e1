/**
 * `access-index token --account A [--scope S] [--ttl 12h] [--sub s]`: mints an HS256 token signed
 * with ACCESS_INDEX_JWT_SECRET and prints it (alone on stdout, for `$(...)`).
 */
import type { Command } from 'commander';
import { READ_SCOPE } from '../../api/auth.ts';
import { mintToken, parseTtl } from '../../api/tokens.ts';
import { loadConfig, requireJwtSecret } from '../../config.ts';
import { runCommand } from '../run-command.ts';

export interface TokenOptions {
  account: string;
  scope: string;
  ttl: string;
  sub: string;
}

/** The token for the options, with the secret from `env`. Throws on a bad --ttl or config. */
export async function tokenFor(options: TokenOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const secret = requireJwtSecret(loadConfig(env));
  const ttlSeconds = parseTtl(options.ttl);
  if (ttlSeconds === null) throw new Error(`--ttl must be a positive number of seconds, or like 90s, 15m, 12h, 7d (got ${JSON.stringify(options.ttl)})`);
  return mintToken({ secret, accountId: options.account, scope: options.scope, sub: options.sub, ttlSeconds });
}

/** Adds the `token` command. */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('mint a token for the API, signed with ACCESS_INDEX_JWT_SECRET')
    .requiredOption('--account <id>', 'the account the token may read (claim account_id)')
    .option('--scope <scopes>', 'space-separated scopes', READ_SCOPE)
    .option('--ttl <duration>', 'lifetime: seconds, or 90s, 15m, 12h, 7d', '12h')
    .option('--sub <subject>', 'who the token is for (claim sub; shows in the API logs)', 'access-index-cli')
    .action((options: TokenOptions) =>
      runCommand(async () => {
        process.stdout.write(`${await tokenFor(options)}\n`);
      }),
    );
}
