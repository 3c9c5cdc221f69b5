// A server under test in a process of its own (see ipc.ts): `node main.js <role>`.
// The first call, "start", starts the role's server with the given parameters;
// the others are the role's own; "close" closes the server and exits. The
// process also exits when the orchestrator goes away.
import { describeError, type IpcCall, type IpcReply, type Role } from '../ipc.js';

/** What a role's start gives back: its answer to "start" and its other calls. */
export interface Started {
  result: unknown;
  handlers?: Record<string, (params: unknown) => unknown>;
  close(): Promise<void>;
}

const ROLES: Record<Role, () => Promise<(params: never) => Promise<Started>>> = {
  nixa: async () => (await import('./nixa.js')).startNixaRole,
  baseline: async () => (await import('./baseline.js')).startBaselineRole,
  'citizen-id-source': async () => (await import('./citizen-id-source.js')).startCitizenIdSourceRole,
  'bare-upstream': async () => (await import('./bare-upstream.js')).startBareUpstreamRole,
  'bare-federated': async () => (await import('./bare-federated.js')).startBareFederatedRole,
};

const role = process.argv[2] as Role;
let started: Started | undefined;
let closing: Promise<void> | undefined;

const reply = (r: IpcReply) => process.connected && process.send!(r);

async function close(): Promise<never> {
  closing ??= (started?.close() ?? Promise.resolve()).catch((err: unknown) => {
    console.error(`${role}: close failed: ${describeError(err)}`);
  });
  await closing;
  process.exit(0);
}

async function handle({ method, params }: IpcCall): Promise<unknown> {
  if (method === 'start') {
    if (started) throw new Error('already started');
    const start = ROLES[role];
    if (!start) throw new Error(`unknown role ${role}`);
    started = await (await start())(params as never);
    return started.result;
  }
  const handler = started?.handlers?.[method];
  if (!handler) throw new Error(`no call ${method}`);
  return handler(params);
}

process.on('message', (call: IpcCall) => {
  if (call.method === 'close') {
    reply({ id: call.id, ok: true, result: null });
    void close();
    return;
  }
  handle(call).then(
    (result) => reply({ id: call.id, ok: true, result: result ?? null }),
    (err: unknown) => reply({ id: call.id, ok: false, error: describeError(err) }),
  );
});
process.on('disconnect', () => void close());
