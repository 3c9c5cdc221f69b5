// A service's security profile at registration: fapi2 by default from level
// substantial, kept standard only with the operator's reason, which the registration
// and the audit trail keep; what fapi2 asks of a registration, each refusal naming
// its field and writing nothing.
import { addClient, changeClient, showClient, type ClientsOptions } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { keyPair } from '../support/fapi.js';

let tdb: TestDatabase;
const options: ClientsOptions = { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] };
let jwks: { keys: unknown[] };

beforeAll(async () => {
  tdb = await createTestDatabase();
  jwks = { keys: [(await keyPair('ES256', 'svc-1')).publicJwk] };
});

afterAll(async () => {
  await tdb?.drop();
});

let n = 0;
const service = (more: Record<string, unknown>) => {
  n += 1;
  return { client_id: `dich-vu-${n}`, name: `Dịch vụ ${n}`, redirect_uris: [`https://dv${n}.example.vn/cb`], ...more };
};

async function refusal(p: Promise<unknown>): Promise<InvalidInputError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidInputError);
  return err as InvalidInputError;
}

const events = async (clientId: string) =>
  (await tdb.db.query<{ event: string; details: Record<string, unknown>; reason: string | null }>('SELECT event, details, reason FROM audit_events WHERE subject = $1 ORDER BY seq', [clientId])).rows;

describe('the profile a registration gets', () => {
  it('is fapi2 from minimum level substantial, with private_key_jwt and a FAPI algorithm by default', async () => {
    for (const level of ['substantial', 'high']) {
      const { client, secret } = await addClient(tdb.db, service({ min_level: level, jwks }), 'test', options);
      expect(client).toMatchObject({ securityProfile: 'fapi2', tokenEndpointAuthMethod: 'private_key_jwt', idTokenSigningAlg: 'ES256', securityProfileReason: null });
      expect(secret).toBeUndefined();
      const { rows } = await tdb.db.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM clients WHERE client_id = $1', [client.clientId]);
      expect(rows[0]!.metadata).toMatchObject({ require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
    }
  });

  it('is standard at low or with no minimum, and nothing of FAPI is imposed', async () => {
    const { client } = await addClient(tdb.db, service({}), 'test', options);
    expect(client).toMatchObject({ securityProfile: 'standard', tokenEndpointAuthMethod: 'client_secret_basic' });
    const { rows } = await tdb.db.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM clients WHERE client_id = $1', [client.clientId]);
    expect(rows[0]!.metadata.require_pushed_authorization_requests).toBeUndefined();
    expect(rows[0]!.metadata.dpop_bound_access_tokens).toBeUndefined();
  });

  it('asked fapi2 at low, it is fapi2', async () => {
    const { client } = await addClient(tdb.db, service({ min_level: 'low', security_profile: 'fapi2', jwks }), 'test', options);
    expect(client.securityProfile).toBe('fapi2');
  });
});

describe('keeping a service at substantial or high standard', () => {
  it('is refused without a reason, naming security_profile, and writes nothing', async () => {
    const input = service({ min_level: 'high', security_profile: 'standard', token_endpoint_auth_method: 'client_secret_basic' });
    expect((await refusal(addClient(tdb.db, input, 'test', options))).field).toBe('security_profile');
    expect((await tdb.db.query('SELECT 1 FROM clients WHERE client_id = $1', [input.client_id])).rows).toHaveLength(0);
    // A reason of a word says nothing.
    expect((await refusal(addClient(tdb.db, input, 'test', options, 'vì'))).field).toBe('reason');
  });

  it('is kept with the reason, in the registration and in the audit event', async () => {
    const why = 'Hệ thống cũ của Sở, chuyển sang FAPI trong quý tới';
    const { client } = await addClient(tdb.db, service({ min_level: 'high', security_profile: 'standard' }), 'operator:lan', options, why);
    expect(client).toMatchObject({ securityProfile: 'standard', securityProfileReason: why, tokenEndpointAuthMethod: 'client_secret_basic' });
    const [added] = await events(client.clientId);
    expect(added).toMatchObject({ event: 'CLIENT_ADDED', reason: why, details: { securityProfile: 'standard', securityProfileReason: why, minLevel: 'high' } });
  });

  it('the database refuses a standard service at high without a reason, whatever writes it', async () => {
    const { client } = await addClient(tdb.db, service({ min_level: 'high', jwks }), 'test', options);
    await expect(tdb.db.query("UPDATE clients SET security_profile = 'standard' WHERE client_id = $1", [client.clientId])).rejects.toThrow(/clients_standard_needs_reason/);
  });
});

describe('changing the profile', () => {
  it('raising a standard service to high asks the operator to choose, naming security_profile', async () => {
    const { client } = await addClient(tdb.db, service({}), 'test', options);
    expect((await refusal(changeClient(tdb.db, client.clientId, { min_level: 'high' }, 'test', { ...options, reason: 'Hồ sơ đất đai cần mức cao' }))).field).toBe('security_profile');
    expect((await showClient(tdb.db, client.clientId)).minLevel).toBeNull();
    const kept = await changeClient(tdb.db, client.clientId, { min_level: 'high', security_profile: 'standard' }, 'operator:lan', { ...options, reason: 'Hồ sơ đất đai cần mức cao, đối tác chưa hỗ trợ DPoP' });
    expect(kept.client).toMatchObject({ minLevel: 'high', securityProfile: 'standard', securityProfileReason: 'Hồ sơ đất đai cần mức cao, đối tác chưa hỗ trợ DPoP' });
    expect(kept.changed).toEqual(expect.arrayContaining(['minLevel']));
  });

  it('lowering fapi2 to standard needs a reason, which the update event keeps; moving back to fapi2 drops it', async () => {
    const { client } = await addClient(tdb.db, service({ min_level: 'substantial', jwks }), 'test', options);
    expect((await refusal(changeClient(tdb.db, client.clientId, { security_profile: 'standard' }, 'test', options))).field).toBe('security_profile');
    const why = 'Đối tác cần thêm thời gian để triển khai DPoP';
    const lowered = await changeClient(tdb.db, client.clientId, { security_profile: 'standard' }, 'operator:lan', { ...options, reason: why });
    expect(lowered.client).toMatchObject({ securityProfile: 'standard', securityProfileReason: why });
    const { rows } = await tdb.db.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM clients WHERE client_id = $1', [client.clientId]);
    expect(rows[0]!.metadata.dpop_bound_access_tokens).toBeUndefined();
    const updated = (await events(client.clientId)).find((e) => e.event === 'CLIENT_UPDATED')!;
    expect(updated.details).toEqual({ changed: { securityProfile: { from: 'fapi2', to: 'standard' } }, reason: why });
    const back = await changeClient(tdb.db, client.clientId, { security_profile: 'fapi2' }, 'operator:lan', { ...options, reason: 'Đối tác đã triển khai DPoP' });
    expect(back.client).toMatchObject({ securityProfile: 'fapi2', securityProfileReason: null });
  });

  it('moving a service with a secret to fapi2 is refused, naming token_endpoint_auth_method', async () => {
    const { client } = await addClient(tdb.db, service({}), 'test', options);
    expect((await refusal(changeClient(tdb.db, client.clientId, { security_profile: 'fapi2' }, 'test', options))).field).toBe('token_endpoint_auth_method');
    expect((await showClient(tdb.db, client.clientId)).securityProfile).toBe('standard');
  });
});

describe('moving a service with a secret to FAPI 2.0, keeping its client id', () => {
  it('takes private_key_jwt with its keys and fapi2 in one update; the secret is gone', async () => {
    const { client, secret } = await addClient(tdb.db, service({ subject_type: 'pairwise' }), 'test', options);
    expect(secret).toBeTruthy();
    const moved = await changeClient(tdb.db, client.clientId, { token_endpoint_auth_method: 'private_key_jwt', jwks, security_profile: 'fapi2', min_level: 'high' }, 'operator:lan', { ...options, reason: 'Chuyển sang FAPI 2.0 theo lộ trình' });
    expect(moved.client).toMatchObject({ clientId: client.clientId, tokenEndpointAuthMethod: 'private_key_jwt', securityProfile: 'fapi2', minLevel: 'high', subjectType: 'pairwise' });
    const { rows } = await tdb.db.query<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = $1', [client.clientId]);
    expect(rows[0]!.secret_hash).toBeNull();
  });

  it('refuses any other change of method, naming token_endpoint_auth_method, and writes nothing', async () => {
    const { client } = await addClient(tdb.db, service({ min_level: 'high', jwks }), 'test', options);
    const refused = await refusal(changeClient(tdb.db, client.clientId, { token_endpoint_auth_method: 'client_secret_basic', security_profile: 'standard' }, 'test', { ...options, reason: 'Quay lại dùng mật khẩu khách' }));
    expect(refused.field).toBe('token_endpoint_auth_method');
    expect((await showClient(tdb.db, client.clientId)).version).toBe(1);
    const { client: app } = await addClient(tdb.db, service({ application_type: 'native', redirect_uris: ['vn.gov.dichvu.app:/cb'] }), 'test', options);
    expect((await refusal(changeClient(tdb.db, app.clientId, { token_endpoint_auth_method: 'private_key_jwt', jwks }, 'test', options))).field).toBe('token_endpoint_auth_method');
  });
});

describe('what fapi2 asks of a registration', () => {
  it('refuses RS256 ID tokens (FAPI 2.0 §5.4.1), naming id_token_signed_response_alg', async () => {
    expect((await refusal(addClient(tdb.db, service({ min_level: 'high', jwks, id_token_signed_response_alg: 'RS256' }), 'test', options))).field).toBe('id_token_signed_response_alg');
  });

  it('refuses fapi2 when nixa has no FAPI signing algorithm configured, naming id_token_signed_response_alg', async () => {
    expect((await refusal(addClient(tdb.db, service({ min_level: 'high', jwks }), 'test', { allowHttpLoopback: true, signingAlgs: ['RS256'] }))).field).toBe('id_token_signed_response_alg');
  });

  it('refuses an unknown profile, naming security_profile', async () => {
    expect((await refusal(addClient(tdb.db, service({ security_profile: 'fapi1' }), 'test', options))).field).toBe('security_profile');
  });
});
