import { auditCommands } from './audit.ts';
import { authCommands } from './auth.ts';
import { breakerCommands } from './breakers.ts';
import { budgetCommands } from './budget.ts';
import { CliError, parseCommandLine, type Globals, type Handler } from './context.ts';
import { keyCommands } from './keys.ts';
import { mappingCommands } from './mappings.ts';
import { planCommands } from './plan.ts';
import { pricingCommands } from './pricing.ts';
import { tokenCommands } from './tokens.ts';
import { usageCommands } from './usage.ts';
import { userCommands } from './users.ts';

// `ccproxy`: a client of the admin API, so it works while the server holds the embedded database
// (README "Admin CLI"). This file parses the command line and hands it to the command's module.

const HELP = `Usage: ccproxy <command> [options]

Commands:
  login [--username admin]            log in; the password is read from standard input
  logout                              end the session (the token stops working everywhere)
  admin hash-password                 print a scrypt hash of the password on standard input, for
                                      ADMIN_CREDENTIALS (no server needed)
  users add <name> [--description d]  create a user
  users list [--limit n] [--offset n] [--status active|inactive|deleted] [--q text]
                                      list users (without --status: all but deleted)
  users get <user>                    show a user (id or name)
  users deactivate|reactivate <user>  block or unblock all of a user's keys
  users delete <user> --yes           soft delete: revoke every key, keep the usage
  users set <user> [--routing plan_first|bedrock_only|plan_only] [--name n] [--description d] [--budget usd|none]
                                      change a user (id or name); --budget none removes the budget
  users set-email <user> <email|->    the email company sign-in links the person to; - removes it
  keys issue <user> [--bedrock-region r]  issue an access key (user id or name); shown once, with its id
  keys list <user>                    list a user's access keys
  keys revoke <key>                   revoke an access key at once (<key>: its id or its prefix, ak_…)
  keys rotate <key>                   a new key (shown once); the old one works for KEY_ROTATION_GRACE
  keys region <key> <region|none>     the key's own Bedrock region (none: BEDROCK_REGION)
  keys bedrock <key> [--delete]       set the access key's Bedrock API key, read from standard input
                                      (never from arguments); --delete removes it
  mappings list                       model mappings (admin rows, then the shipped defaults)
  mappings set <model> <bedrock id> [--geographies us,eu,global]
                                      add or replace a model mapping
  mappings delete <model>             remove an admin mapping
  breakers list                       circuit breakers that are open or counting failures
  breakers reset <key>                close an access key's breaker on every task (id or prefix)
  plan list [--user u]                each key's Plan window: 5h and 7d use, where plan_first requests
                                      go now and until when, threshold, overage policy, breaker
  plan set <user> [--threshold 0.9|90%|default] [--overage stay|move]
                                      a user's switch threshold (default: PLAN_SWITCH_THRESHOLD) and
                                      whether paid overage keeps them on Anthropic
  plan report [--user u] [--period day|week|month | --start YYYY-MM-DD --end YYYY-MM-DD]
                                      Plan capacity now, Bedrock time and spend by reason, and what
                                      switching early or late cost
  audit [--action a] [--actor x] [--target id] [--target-type t] [--since iso] [--until iso] [--limit n] [--offset n]
                                      the audit log, newest first
  usage [--user u] [--key id|prefix] [--provider plan|bedrock] [--model m] [--period day|week|month | --start YYYY-MM-DD --end YYYY-MM-DD] [--bucket hour|day|month]
                                      tokens and cost per bucket, with totals (periods in TIMEZONE)
  usage top [--by tokens|cost] [--limit n] [--period …]   the users with the most tokens or cost
  usage breakdown [--user u] [--period …]                  cost per provider and model
  budget <user> [<usd>|none]          show a user's monthly Bedrock budget and spend, or set/remove it
  limits <user> [--rpm n|none] [--in-flight n|none]
                                      show or set a user's request limits (counted by each proxy task)
  pricing list [--provider anthropic|bedrock] [--model m] [--current]
                                      model prices (USD per million tokens) and when they apply
  pricing add <model> --provider anthropic|bedrock [--region r|global] --input p --output p
      --cache-write-5m p --cache-write-1h p --cache-read p [--effective YYYY-MM-DD|iso]
                                      a new price from its effective time (default now); costs already recorded never change
  tokens create <name> --role admin|viewer|scim --days n
                                      an automation token for scripts and CI (CCPROXY_TOKEN) or SCIM;
                                      shown once, with its id
  tokens list                         automation tokens: role, created, expires, last used, revoked
  tokens revoke <token>               revoke a token at once (its id, name or prefix, ccp_…)

Options:
  --url <url>   the proxy (default $CCPROXY_URL or http://127.0.0.1:$PORT, port 8000)
  --json        machine-readable output
  -h, --help    this help

Environment:
  CCPROXY_URL     the proxy, as --url
  CCPROXY_TOKEN   an automation token (tokens create) to use instead of "ccproxy login"`;

const COMMANDS: Record<string, Handler> = {
  ...authCommands,
  ...userCommands,
  ...keyCommands,
  ...mappingCommands,
  ...breakerCommands,
  ...planCommands,
  ...auditCommands,
  ...usageCommands,
  ...budgetCommands,
  ...pricingCommands,
  ...tokenCommands,
};

/** Commands whose second word is their argument (`budget alice 250`), not an action. */
const NO_ACTION = ['login', 'budget', 'limits'];

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  const [group, action, arg] = positionals;
  if (values.help || !group) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const g: Globals = {
    url: (values.url ?? process.env.CCPROXY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`).replace(/\/+$/, ''),
    json: values.json ?? false,
  };
  const name = `${group} ${NO_ACTION.includes(group) ? '' : (action ?? '')}`.trim();
  const handler = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!handler) throw new CliError(`unknown command "${positionals.join(' ')}"; see "ccproxy --help"`);
  await handler({ g, values, positionals, action, arg });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`ccproxy: ${err instanceof CliError || err instanceof TypeError ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
