// The `nixa` command's verbs, as a function of argv and an output sink so that it
// runs the same in a terminal, inside the server (over the control socket), and
// in tests. Every change goes through the same services the server uses.
import { readFileSync } from 'node:fs';

import { Command, CommanderError, Option } from 'commander';

import { bootstrapSecurityOfficer, listOperators } from '../admin/index.js';
import { checkReason } from '../audit/index.js';
import { addClient, changeClient, clientsOptions, disableClient, ENCRYPTION_ALGS, ENCRYPTION_ENCS, GRANT_TYPES, listClients, rotateClientSecret, SECURITY_PROFILES, showClient, type ClientView } from '../clients/index.js';
import { CONFIG_VARIABLES, type Config } from '../config/index.js';
import { InvalidInputError, NixaError } from '../errors/index.js';
import { type Cipher, KeyRing, listKeyViews, revokeKey, rotateKeys, type KeyView, withKeyStore } from '../keys/index.js';
import { silentLogger } from '../logging/index.js';
import { addSource, changeSource, checkSource, enableSource, getSource, listSources, SOURCE_CALLBACK_PATH, sourcesOptions, viewSource, type Source, type SourceCheck } from '../sources/index.js';
import { migrate, redactUrl, type Database } from '../storage/index.js';
import { AuditTrailBroken, registerAuditCommands } from './audit.js';
import { errorCatalogue } from './errors.js';
import { registerRegistryCommands } from './registries.js';

/** `sources test` found problems: exit 1 without another message. */
class SourceTestFailed extends Error {}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface CliContext {
  config: Config;
  /** Opened on first use, so `--help` and bad arguments never touch the database. */
  db(): Promise<Database>;
  cipher(): Cipher;
  /** Who is acting, for the audit trail, e.g. "cli:alice". */
  actor: string;
  /** The operator's working directory, for relative file names (the server's differs). */
  cwd?: string;
}

/** Exit codes: 0 done, 1 failed (nixa error), 2 bad usage or input. */
export async function runCli(argv: string[], io: CliIo, ctx: CliContext): Promise<number> {
  const program = buildProgram(io, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message; help and version are not failures.
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? 0 : 2;
    }
    if (err instanceof SourceTestFailed || err instanceof AuditTrailBroken) return 1;
    if (err instanceof NixaError) {
      io.err(`nixa: ${err.message} [${err.code}]\n`);
      return err instanceof InvalidInputError || err.status === 400 ? 2 : 1;
    }
    io.err(`nixa: unexpected failure: ${(err as Error).message}\n`);
    return 1;
  }
}

function printJson(io: CliIo, value: unknown) {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

function table(rows: Record<string, string>[]): string {
  if (!rows.length) return '(none)\n';
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  return `${[line(cols), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n')}\n`;
}

function describeClient(c: ClientView): string {
  return [
    `client_id:        ${c.clientId}`,
    `name:             ${c.name}`,
    `status:           ${c.status}`,
    `application type: ${c.applicationType === 'native' ? 'native (an app on the citizen’s device; loopback redirects match on any port)' : 'web'}`,
    `auth method:      ${c.tokenEndpointAuthMethod}`,
    `grant types:      ${c.grantTypes.join(', ')}`,
    `redirect URIs:    ${c.redirectUris.join(' ') || '-'}`,
    `post-logout URIs: ${c.postLogoutRedirectUris.join(' ') || '-'}`,
    `scopes:           ${c.scope}`,
    `ID token alg:     ${c.idTokenSigningAlg}`,
    `ID token JWE:     ${c.idTokenEncryption ? `${c.idTokenEncryption.alg} ${c.idTokenEncryption.enc} (encrypted to the service's key)` : '-'}`,
    `userinfo:         ${c.userinfoSigningAlg ? `JWT signed ${c.userinfoSigningAlg}${c.userinfoEncryption ? `, encrypted ${c.userinfoEncryption.alg} ${c.userinfoEncryption.enc}` : ''}` : 'JSON'}`,
    `minimum level:    ${c.minLevel ?? '-'}`,
    `security profile: ${c.securityProfile === 'fapi2' ? 'fapi2 (FAPI 2.0: PAR, DPoP, private_key_jwt)' : 'standard'}${c.securityProfileReason ? ` — kept standard: ${c.securityProfileReason}` : ''}`,
    `signed requests:  ${c.requireSignedRequestObject ? 'required (RFC 9101)' : 'accepted'}`,
    `API (resource):   ${c.apiResource ?? '-'}`,
    `subjects:         ${c.subjectType === 'public' ? 'public (the account id)' : `pairwise, sector: ${c.sectorIdentifierUri ?? 'this service alone'}`}`,
    `created:          ${c.createdAt}`,
    `updated:          ${c.updatedAt} (version ${c.version})`,
  ].join('\n') + '\n';
}

interface ClientUpdateOptions {
  minLevel?: string;
  apiResource?: string;
  securityProfile?: string;
  requireSignedRequestObject?: string;
  jwksFile?: string;
  jwksUri?: string;
  authMethod?: string;
  idTokenEncryption?: string;
  idTokenEncryptionEnc?: string;
  userinfoAlg?: string;
  userinfoEncryption?: string;
  userinfoEncryptionEnc?: string;
  ifVersion?: number;
  reason?: string;
  json?: boolean;
}

/**
 * The encryption fields of `nixa clients update`. "none" stops what it names together
 * with what depends on it (an enc without its alg, an encryption without the signed
 * JWT it wraps), so that one option undoes what one option did.
 */
function encryptionPatch(o: ClientUpdateOptions): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (o.idTokenEncryptionEnc !== undefined) patch.id_token_encrypted_response_enc = o.idTokenEncryptionEnc;
  if (o.idTokenEncryption === 'none') Object.assign(patch, { id_token_encrypted_response_alg: null, id_token_encrypted_response_enc: null });
  else if (o.idTokenEncryption !== undefined) patch.id_token_encrypted_response_alg = o.idTokenEncryption;
  if (o.userinfoEncryptionEnc !== undefined) patch.userinfo_encrypted_response_enc = o.userinfoEncryptionEnc;
  if (o.userinfoEncryption === 'none' || o.userinfoAlg === 'none') Object.assign(patch, { userinfo_encrypted_response_alg: null, userinfo_encrypted_response_enc: null });
  else if (o.userinfoEncryption !== undefined) patch.userinfo_encrypted_response_alg = o.userinfoEncryption;
  if (o.userinfoAlg === 'none') patch.userinfo_signed_response_alg = null;
  else if (o.userinfoAlg !== undefined) patch.userinfo_signed_response_alg = o.userinfoAlg;
  return patch;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Every change command (clients, sources, keys, audit prune) says why, as through the admin API (audit/reason.ts). */
const REASON = ['--reason <text>', 'why, in at least 10 characters (required; kept in the audit trail)'] as const;
const reasonOf = (o: { reason?: string }) => checkReason(o.reason, '--reason');

function readJsonFile(path: string, option: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(option, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError(option, `${path} is not valid JSON`);
  }
}

function keyRows(keys: KeyView[]) {
  return keys.map((k) => ({
    KID: k.kid,
    USE: k.use,
    ALG: k.alg,
    STATE: k.state,
    CREATED: k.createdAt.slice(0, 19),
    ACTIVATED: k.activatedAt?.slice(0, 19) ?? '-',
    'PUBLISHED UNTIL': k.state === 'retired' ? (k.deleteAfter?.slice(0, 19) ?? '-') : k.state === 'revoked' ? 'revoked' : '-',
  }));
}

function buildProgram(io: CliIo, ctx: CliContext): Command {
  const program = new Command('nixa')
    .description('Operate nixa: database migrations, relying parties (clients), identity sources, signing keys and the audit trail.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('migrate')
    .description('apply pending database migrations (nixa also does this at start)')
    .action(async () => {
      const r = await migrate(await ctx.db());
      io.out(r.applied.length ? `applied: ${r.applied.join(', ')}\n` : `up to date (${r.alreadyApplied} migrations)\n`);
    });

  program
    .command('config')
    .description('validate the configuration and print it, without secrets')
    .action(() => {
      const c = ctx.config;
      const shown = {
        ...c,
        database: c.database.kind === 'postgres' ? { kind: 'postgres', url: redactUrl(c.database.url) } : c.database,
        shortLived: c.shortLived.kind === 'redis' ? { kind: 'redis', url: redactUrl(c.shortLived.url) } : c.shortLived,
        masterKey: c.masterKey.kind === 'value' ? { kind: 'value (from NIXA_MASTER_KEY)' } : c.masterKey,
      };
      printJson(io, { ok: true, variables: CONFIG_VARIABLES.length, config: shown });
    });

  program
    .command('errors')
    .description('list every code a citizen, a service or an operator can be shown, and what it means')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      const list = errorCatalogue();
      if (o.json) return printJson(io, list);
      io.out(table(list.map((x) => ({ CODE: x.code, KIND: x.kind, HTTP: x.status === null ? '-' : String(x.status), MEANING: x.meaning }))));
    });

  const clients = program.command('clients').description('relying parties (public services) allowed to use nixa');
  clients
    .command('add')
    .description('register a relying party; prints its client_secret once when it has one')
    .option('--client-id <id>', 'client_id (generated when omitted)')
    .option('--name <name>', 'display name shown to citizens')
    .addOption(
      new Option('--application-type <type>', 'web (default) or native: an app on the citizen\'s device (RFC 8252), a public client (auth method none)').choices([
        'web',
        'native',
      ]),
    )
    .option('--redirect-uri <uri>', 'exact redirect URI (repeat for several); a native app: claimed https, com.example.app:/path, or http://127.0.0.1/path (any port)', collect)
    .option('--post-logout-uri <uri>', 'exact post-logout redirect URI (repeat)', collect)
    // Listed from the schema, which alone decides what is allowed, so the help cannot drift from it.
    .option('--grant-type <type>', `${GRANT_TYPES.join(', ')} (repeat)`, collect)
    .addOption(new Option('--auth-method <method>', 'token endpoint authentication').choices(['private_key_jwt', 'client_secret_basic', 'none']))
    .option('--jwks-file <path>', 'public JWK Set (JSON file) for private_key_jwt')
    .option('--jwks-uri <uri>', 'JWK Set URL for private_key_jwt')
    .option('--scope <scopes>', 'space-separated scopes the client may ask for')
    .option('--id-token-alg <alg>', 'ID token signing algorithm (default RS256)')
    .option('--backchannel-logout-uri <uri>', 'where nixa posts a logout token when the citizen signs out')
    .addOption(new Option('--subject-type <type>', 'pairwise (default: services cannot correlate) or public').choices(['pairwise', 'public']))
    .option('--sector-identifier-uri <uri>', 'https URL of a JSON array listing the redirect URIs of the services that share pairwise subjects with this one')
    .option('--min-level <level>', 'least assurance level of every sign-in: low, substantial or high')
    .option('--api-resource <uri>', "the service's API (resource indicator) it may get JWT access tokens for")
    .addOption(
      new Option('--security-profile <profile>', 'fapi2 (FAPI 2.0: PAR, DPoP, private_key_jwt; the default from --min-level substantial) or standard (at substantial or high, --reason says why)').choices([
        ...SECURITY_PROFILES,
      ]),
    )
    .option('--require-signed-request-object', 'accept its authorization requests only as signed request objects (RFC 9101)')
    .option('--id-token-encryption <alg>', `encrypt its ID tokens to its public key (use "enc" in --jwks-file or --jwks-uri): ${ENCRYPTION_ALGS.join(', ')}`)
    .option('--id-token-encryption-enc <enc>', `content encryption of its ID tokens: ${ENCRYPTION_ENCS.join(', ')} (default A256GCM)`)
    .option('--userinfo-alg <alg>', 'answer its userinfo calls as a JWT signed with this algorithm (one nixa signs with)')
    .option('--userinfo-encryption <alg>', `encrypt that JWT to its public key: ${ENCRYPTION_ALGS.join(', ')}`)
    .option('--userinfo-encryption-enc <enc>', `content encryption of that JWT: ${ENCRYPTION_ENCS.join(', ')} (default A256GCM)`)
    .option('--from-json <path>', 'read the whole registration from a JSON file ("-" for stdin)')
    .option(...REASON)
    .option('--json', 'print the result as JSON')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      const reason = reasonOf(o as { reason?: string });
      const input: Record<string, unknown> = o.fromJson
        ? (readJsonFile(String(o.fromJson), '--from-json') as Record<string, unknown>)
        : {
            client_id: o.clientId,
            name: o.name,
            application_type: o.applicationType,
            redirect_uris: o.redirectUri,
            post_logout_redirect_uris: o.postLogoutUri,
            grant_types: o.grantType,
            token_endpoint_auth_method: o.authMethod,
            jwks: o.jwksFile ? readJsonFile(String(o.jwksFile), '--jwks-file') : undefined,
            jwks_uri: o.jwksUri,
            scope: o.scope,
            id_token_signed_response_alg: o.idTokenAlg,
            backchannel_logout_uri: o.backchannelLogoutUri,
            subject_type: o.subjectType,
            sector_identifier_uri: o.sectorIdentifierUri,
            min_level: o.minLevel,
            api_resource: o.apiResource,
            security_profile: o.securityProfile,
            require_signed_request_object: o.requireSignedRequestObject,
            id_token_encrypted_response_alg: o.idTokenEncryption,
            id_token_encrypted_response_enc: o.idTokenEncryptionEnc,
            userinfo_signed_response_alg: o.userinfoAlg,
            userinfo_encrypted_response_alg: o.userinfoEncryption,
            userinfo_encrypted_response_enc: o.userinfoEncryptionEnc,
          };
      for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
      const result = await addClient(await ctx.db(), input, ctx.actor, clientsOptions(ctx.config), reason);
      if (o.json) return printJson(io, result);
      io.out(describeClient(result.client));
      if (result.secret) {
        io.out(`\nclient_secret:    ${result.secret}\n(shown once: nixa keeps only a hash of it)\n`);
      }
    });

  clients
    .command('list')
    .description('list relying parties')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await listClients(await ctx.db());
      if (o.json) return printJson(io, list);
      io.out(table(list.map((c) => ({ CLIENT_ID: c.clientId, NAME: c.name, STATUS: c.status, AUTH: c.tokenEndpointAuthMethod, GRANTS: c.grantTypes.join(','), 'MIN LEVEL': c.minLevel ?? '-', PROFILE: c.securityProfile }))));
    });

  clients
    .command('show <clientId>')
    .description('show one relying party')
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const c = await showClient(await ctx.db(), id);
      if (o.json) printJson(io, c);
      else io.out(describeClient(c));
    });

  clients
    .command('update <clientId>')
    .description("change a relying party's minimum assurance level, API, security profile, keys or encrypted responses; takes effect at once")
    .option('--min-level <level>', 'low, substantial or high; "none" removes the minimum')
    .option('--api-resource <uri>', 'resource indicator of the service\'s API; "none" removes it')
    .addOption(new Option('--security-profile <profile>', 'fapi2, or standard (at substantial or high, --reason is kept as why)').choices([...SECURITY_PROFILES]))
    .addOption(new Option('--require-signed-request-object <yes|no>', 'accept authorization requests only as signed request objects (RFC 9101)').choices(['yes', 'no']))
    .addOption(new Option('--auth-method <method>', 'move a client_secret_basic service to its key (its secret stops working); with --jwks-file or --jwks-uri').choices(['private_key_jwt']))
    .option('--jwks-file <path>', 'replace its public JWK Set (JSON file): signing keys for private_key_jwt, encryption keys (use "enc"); "none" removes it')
    .option('--jwks-uri <uri>', 'JWK Set URL for private_key_jwt; "none" removes it')
    .option('--id-token-encryption <alg>', `encrypt its ID tokens to its public key: ${ENCRYPTION_ALGS.join(', ')}; "none" stops it`)
    .option('--id-token-encryption-enc <enc>', `content encryption of its ID tokens: ${ENCRYPTION_ENCS.join(', ')}`)
    .option('--userinfo-alg <alg>', 'answer userinfo as a JWT signed with this algorithm; "none": plain JSON again (stops its encryption too)')
    .option('--userinfo-encryption <alg>', `encrypt that JWT to its public key: ${ENCRYPTION_ALGS.join(', ')}; "none" stops it`)
    .option('--userinfo-encryption-enc <enc>', `content encryption of that JWT: ${ENCRYPTION_ENCS.join(', ')}`)
    .option('--if-version <n>', 'refuse if the client changed since you read this version', (v) => Number(v))
    .option(...REASON)
    .option('--json', 'print the result as JSON')
    .action(async (id: string, o: ClientUpdateOptions) => {
      const reason = reasonOf(o);
      const clear = (v: string | undefined) => (v === 'none' ? null : v);
      const patch: Record<string, unknown> = {};
      if (o.minLevel !== undefined) patch.min_level = clear(o.minLevel);
      if (o.apiResource !== undefined) patch.api_resource = clear(o.apiResource);
      if (o.securityProfile !== undefined) patch.security_profile = o.securityProfile;
      if (o.requireSignedRequestObject !== undefined) patch.require_signed_request_object = o.requireSignedRequestObject === 'yes';
      if (o.authMethod !== undefined) patch.token_endpoint_auth_method = o.authMethod;
      if (o.jwksFile !== undefined) patch.jwks = o.jwksFile === 'none' ? null : readJsonFile(o.jwksFile, '--jwks-file');
      if (o.jwksUri !== undefined) patch.jwks_uri = clear(o.jwksUri);
      Object.assign(patch, encryptionPatch(o));
      if (!Object.keys(patch).length) {
        throw new InvalidInputError('--min-level', 'give --min-level, --api-resource, --security-profile, --require-signed-request-object, --auth-method, --jwks-file, --jwks-uri or an encryption option');
      }
      const { client: c, changed } = await changeClient(await ctx.db(), id, patch, ctx.actor, {
        ...clientsOptions(ctx.config),
        ...(o.ifVersion !== undefined ? { expectedVersion: o.ifVersion } : {}),
        reason,
      });
      if (o.json) return printJson(io, c);
      io.out(describeClient(c));
      if (!changed.length) io.out('nothing changed: every field already had that value\n');
    });

  clients
    .command('disable <clientId>')
    .description('disable a relying party: it can no longer authenticate or start sign-ins')
    .option(...REASON)
    .action(async (id: string, o: { reason?: string }) => {
      const c = await disableClient(await ctx.db(), id, ctx.actor, reasonOf(o));
      io.out(`disabled ${c.clientId}\n`);
    });

  clients
    .command('rotate-secret <clientId>')
    .description('replace a client_secret_basic client\'s secret; the old one stops working at once')
    .option(...REASON)
    .action(async (id: string, o: { reason?: string }) => {
      const { secret } = await rotateClientSecret(await ctx.db(), id, ctx.actor, reasonOf(o));
      io.out(`client_secret:    ${secret}\n(shown once: nixa keeps only a hash of it)\n`);
    });

  const sources = program.command('sources').description('identity sources (upstream OpenID providers) citizens sign in with');
  const describeSource = (x: Source) =>
    [
      `id:              ${x.id} (${x.kind})`,
      `name:            ${x.name.vi} / ${x.name.en}`,
      `status:          ${x.enabled ? 'enabled' : 'disabled'}${x.maintenance.on ? ', in maintenance' : ''}; health ${x.health.status}${x.health.error ? ` (${x.health.error})` : ''}`,
      `discovery:       ${x.discoveryUrl}`,
      `client:          ${x.clientId} (${x.authMethod}${x.clientSecret ? ', secret stored encrypted' : ''})`,
      `scopes:          ${x.scopes.join(' ')}`,
      `authoritative:   ${x.authoritativeFor.join(', ') || '-'}`,
      `levels:          proofing ${x.proofingLevel}; authentication ${x.authLevel ?? `from acr (${Object.entries(x.acrLevels).map(([a, l]) => `${a}=${l}`).join(', ')})`}, at most ${x.maxAuthLevel}`,
      `version:         ${x.version}`,
    ].join('\n') + '\n';
  const patchFrom = (o: { fromJson?: string; set?: string[] }) => {
    const patch: Record<string, unknown> = o.fromJson ? (readJsonFile(o.fromJson, '--from-json') as Record<string, unknown>) : {};
    for (const kv of o.set ?? []) {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new InvalidInputError('--set', `"${kv}" must look like field=value (value as JSON, or a plain string)`);
      const raw = kv.slice(eq + 1);
      let value: unknown = raw;
      try {
        value = JSON.parse(raw);
      } catch {
        // a plain string
      }
      patch[kv.slice(0, eq)] = value;
    }
    return patch;
  };

  /** The connection test of `sources test`, `enable` and `add --enable`: discovery, JWKS, nixa's credentials. */
  const testSource = async (source: Source): Promise<SourceCheck> => {
    // nixa's signing keys are read only for a source that authenticates nixa by private_key_jwt.
    const redirectUri = `${ctx.config.issuer}${SOURCE_CALLBACK_PATH}`;
    if (source.authMethod !== 'private_key_jwt') return checkSource(source, { redirectUri, signingKeys: () => [] });
    // Signers, not private JWKs: with an HSM the key ring's token signs the assertion, then closes.
    const keyring = new KeyRing(await ctx.db(), ctx.cipher(), ctx.config, silentLogger);
    try {
      await keyring.refresh();
      const signers = keyring.snapshot.signers;
      return await checkSource(source, { redirectUri, signingKeys: () => signers });
    } finally {
      await keyring.stop();
    }
  };
  const printCheck = (result: SourceCheck, out = io.out) => {
    const mark = { ok: 'ok  ', warning: 'WARN', fail: 'FAIL' } as const;
    for (const step of result.steps) out(`${mark[step.status]}  ${step.name.padEnd(11)} ${step.detail}\n`);
    const warned = result.steps.some((x) => x.status === 'warning');
    out(!result.ok ? 'source has problems (see FAIL lines)\n' : warned ? 'source reachable and well-formed, with warnings (see WARN lines)\n' : 'source reachable and well-formed\n');
  };
  /** Enables a source only after its connection test passes; exit 1 (the source stays disabled) when it fails. */
  const enableTested = async (id: string, reason: string, expectedVersion?: number, json = false): Promise<Source> => {
    // With --json, stdout carries the JSON alone; the test's lines go to stderr.
    const say = json ? io.err : io.out;
    const r = await enableSource(await ctx.db(), ctx.cipher(), id, ctx.actor, {
      ...sourcesOptions(ctx.config),
      reason,
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      test: testSource,
    });
    if (r.check) printCheck(r.check, say);
    if (r.outcome === 'test-failed') {
      io.err(`nixa: ${id} stays disabled: its connection test failed (see FAIL lines); fix the source, then run: nixa sources enable ${id} --reason …\n`);
      throw new SourceTestFailed();
    }
    say(r.outcome === 'enabled' ? `enabled ${id}: citizens are offered it on the chooser\n` : `${id} was already enabled; nothing changed\n`);
    return r.source;
  };

  sources
    .command('add')
    .description('register an identity source from a JSON registration (see README), disabled: citizens are not offered it until it is enabled')
    .requiredOption('--from-json <path>', 'the registration as JSON ("-" for stdin)')
    .option('--enable', 'test the connection, and enable the source only if the test passes')
    .option(...REASON)
    .option('--json', 'print the result as JSON')
    .action(async (o: { fromJson: string; enable?: boolean; reason?: string; json?: boolean }) => {
      const reason = reasonOf(o);
      const registration = readJsonFile(o.fromJson, '--from-json');
      if (registration && typeof registration === 'object' && (registration as Record<string, unknown>).enabled === true) {
        throw new InvalidInputError('enabled', 'a source is registered disabled; give --enable to enable it once its connection test passes');
      }
      const x = await addSource(await ctx.db(), ctx.cipher(), { ...(registration as object), enabled: false }, ctx.actor, { ...sourcesOptions(ctx.config), reason });
      if (!o.enable) {
        if (o.json) return printJson(io, viewSource(x));
        io.out(describeSource(x));
        io.out(`registered ${x.id}, disabled. Next: nixa sources test ${x.id}, then nixa sources enable ${x.id} --reason …\n`);
        return;
      }
      if (!o.json) io.out(describeSource(x));
      const enabled = await enableTested(x.id, reason, x.version, o.json);
      if (o.json) printJson(io, viewSource(enabled));
    });

  sources
    .command('list')
    .description('list identity sources')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await listSources(await ctx.db(), ctx.cipher());
      if (o.json) return printJson(io, list.map(viewSource));
      io.out(table(list.map((x) => ({ ID: x.id, KIND: x.kind, NAME: x.name.vi, STATUS: x.enabled ? (x.maintenance.on ? 'maintenance' : 'enabled') : 'disabled', HEALTH: x.health.status, VERSION: String(x.version) }))));
    });

  sources
    .command('show <id>')
    .description('show one identity source (never its secret)')
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const x = await getSource(await ctx.db(), ctx.cipher(), id);
      if (o.json) printJson(io, viewSource(x));
      else io.out(describeSource(x));
    });

  sources
    .command('update <id>')
    .description('change fields of an identity source; takes effect on every instance without restart (enable with `sources enable`, which tests it first)')
    .option('--from-json <path>', 'fields to change, as JSON')
    .option('--set <field=value>', 'one field to change (repeat); value as JSON or a plain string', collect)
    .option('--if-version <n>', 'refuse if the source changed since you read this version', (v) => Number(v))
    .option(...REASON)
    .action(async (id: string, o: { fromJson?: string; set?: string[]; ifVersion?: number; reason?: string }) => {
      const reason = reasonOf(o);
      const patch = patchFrom(o);
      if (!Object.keys(patch).length) throw new InvalidInputError('--set', 'give at least one field to change (--set or --from-json)');
      if (patch.enabled === true) throw new InvalidInputError('enabled', `use nixa sources enable ${id} --reason …, which enables it only once its connection test passes`);
      const { source, changed } = await changeSource(await ctx.db(), ctx.cipher(), id, patch, ctx.actor, {
        ...sourcesOptions(ctx.config),
        ...(o.ifVersion !== undefined ? { expectedVersion: o.ifVersion } : {}),
        reason,
      });
      io.out(describeSource(source));
      if (!changed.length) io.out('nothing changed: every field already had that value\n');
    });

  sources
    .command('enable <id>')
    .description('test the source\'s connection, and offer it to citizens only if the test passes (exit 1 otherwise)')
    .option('--if-version <n>', 'refuse if the source changed since you read this version', (v) => Number(v))
    .option(...REASON)
    .action(async (id: string, o: { ifVersion?: number; reason?: string }) => {
      await enableTested(id, reasonOf(o), o.ifVersion);
    });

  sources
    .command('disable <id>')
    .description('stop offering an identity source to citizens')
    .option(...REASON)
    .action(async (id: string, o: { reason?: string }) => {
      const { changed } = await changeSource(await ctx.db(), ctx.cipher(), id, { enabled: false }, ctx.actor, { ...sourcesOptions(ctx.config), reason: reasonOf(o) });
      io.out(changed.length ? `disabled ${id}\n` : `${id} was already disabled; nothing changed\n`);
    });

  sources
    .command('test <id>')
    .description('check the source\'s discovery document, JWKS and nixa\'s client credentials; exit 1 if a check fails (warnings do not)')
    .action(async (id: string) => {
      const result = await testSource(await getSource(await ctx.db(), ctx.cipher(), id));
      printCheck(result);
      if (!result.ok) throw new SourceTestFailed();
    });

  const keys = program.command('keys').description('signing and cookie keys');
  keys
    .command('list')
    .description('list keys and their lifecycle state')
    .option('--all', 'include revoked keys')
    .option('--json', 'print as JSON')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const list = await listKeyViews(await ctx.db(), o.all);
      if (o.json) printJson(io, list);
      else io.out(table(keyRows(list)));
    });

  keys
    .command('rotate')
    .description('retire the active key(s) now; the waiting next key starts signing (default: every signing algorithm)')
    .option('--alg <alg>', 'only this signing algorithm')
    .option('--cookie', 'rotate the cookie key instead of signing keys')
    .option(...REASON)
    .action(async (o: { alg?: string; cookie?: boolean; reason?: string }) => {
      const steps = await rotateKeys(await ctx.db(), ctx.cipher(), ctx.config, ctx.actor, {
        reason: reasonOf(o),
        ...(o.alg ? { alg: o.alg } : {}),
        use: o.cookie ? 'cookie' : 'sig',
      });
      io.out(`rotated: ${steps.map((s) => s.type + ('kid' in s ? ` ${s.kid}` : ` ${s.alg} (${s.state})`)).join(', ')}\n`);
      io.out(table(keyRows(await listKeyViews(await ctx.db()))));
    });

  keys
    .command('revoke <kid>')
    .description('EMERGENCY: withdraw a compromised key from JWKS at once and destroy its private part')
    .option(...REASON)
    .action(async (kid: string, o: { reason?: string }) => {
      const db = await ctx.db();
      await withKeyStore(ctx.cipher(), ctx.config, (store) => revokeKey(db, store, kid, ctx.actor, reasonOf(o)));
      io.out(
        `revoked ${kid}: removed from JWKS; its private part is destroyed.\n` +
          'ID tokens and JWT access tokens it signed no longer verify at services that refresh JWKS; opaque access and refresh tokens are not signed and stay valid.\n',
      );
    });

  const operators = program.command('operators').description('operators (nixa accounts with roles) of the admin console and API');
  operators
    .command('bootstrap')
    .description('make the first security officer: the person with this ID number, who has signed in once (refused once one exists)')
    .requiredOption('--national-id <number>', 'their 12-digit personal identification number')
    .requiredOption('--reason <text>', 'why (kept in the audit trail)')
    .action(async (o: { nationalId: string; reason: string }) => {
      const db = await ctx.db();
      const accounts = { db, cipher: ctx.cipher(), pepper: ctx.cipher().derive('national-id-hash') };
      const { accountId } = await bootstrapSecurityOfficer(accounts, { nationalId: o.nationalId, reason: o.reason, actor: ctx.actor });
      io.out(`account ${accountId} is now a security officer; they grant every further role in the console (never their own)\n`);
    });
  operators
    .command('list')
    .description('operators and their roles')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await listOperators(await ctx.db());
      if (o.json) return printJson(io, list);
      io.out(table(list.flatMap((op) => op.roles.map((r) => ({ ACCOUNT: op.accountId, ROLE: r.role, 'GRANTED BY': r.grantedBy, AT: r.grantedAt.slice(0, 19) })))));
    });

  registerRegistryCommands(program, io, ctx);
  registerAuditCommands(program, io, ctx);

  return program;
}
