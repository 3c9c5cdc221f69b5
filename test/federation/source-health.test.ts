// A source that stops answering is shown as unavailable on the chooser, before a
// citizen picks it, and comes back when it recovers.
import type * as oidc from 'openid-client';

import { silentLogger } from '../../src/logging/index.js';
import { checkSourcesHealth } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  service = await registerTestClient(tdb.db, { scope: 'openid profile' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

async function chooser(): Promise<string> {
  const s = await federatedSignIn(config, service.redirectUri, {});
  expect(s.page!.html).toContain('name="source"');
  return s.page!.html;
}

const button = (id: string) => `name="source" value="${id}"`;

it('shows a source that stopped answering as unavailable, and offers it again once it recovers', async () => {
  const telecom = SIMULATED_SOURCE_IDS.telecom;
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  expect(await chooser()).toContain(button(telecom));

  fed.sources.telecom.misbehave({ mode: 'down' });
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  const { rows } = await tdb.db.query<{ health_status: string; health_error: string }>('SELECT health_status, health_error FROM identity_sources WHERE id = $1', [telecom]);
  expect(rows[0]).toEqual({ health_status: 'failing', health_error: 'discovery answered HTTP 503' });
  const down = await chooser();
  expect(down).not.toContain(button(telecom));
  expect(down).toMatch(/class="unavailable"[^>]*>(?:<img [^>]*>)?<span>Nhà mạng[^<]*<span lang="en">[^<]*<\/span> — Tạm thời không truy cập được/);
  expect(down).toContain(button(SIMULATED_SOURCE_IDS.citizen_id));

  fed.sources.telecom.misbehave({ mode: 'normal' });
  await checkSourcesHealth(fed.nixa.sources, silentLogger);
  expect(await chooser()).toContain(button(telecom));
});
