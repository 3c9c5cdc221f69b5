// What a scenario sets up before its timed loop (a signed-in browser, a refresh
// token, access tokens) is kept in the driver across jobs: the warm-up job sets
// it up, the measured job reuses it, so that the setup's requests (and nixa's
// statements for them) are never counted in a measurement.
const prepared = new Map<string, Promise<unknown>>();

export function preparedFor<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = prepared.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    prepared.set(key, p);
    // A failed setup is tried again by the next job.
    p.catch(() => prepared.delete(key));
  }
  return p;
}
