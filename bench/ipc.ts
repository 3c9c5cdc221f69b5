// The orchestrator (run.ts) and each server under test run in processes of
// their own, so that each one's CPU time can be read from /proc. They talk over
// the child_process IPC channel: a call is { id, method, params }, its reply
// { id, ok, result | error }. Plain JSON both ways.

export interface IpcCall {
  id: number;
  method: string;
  params?: unknown;
}

export type IpcReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** The roles a target process can play (targets/main.ts). */
export type Role = 'nixa' | 'baseline' | 'citizen-id-source' | 'bare-upstream' | 'bare-federated';

export const describeError = (err: unknown): string => {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
};
