import { serialised } from '../../src/storage/index.js';

/** A reload whose calls the test finishes by hand, recording how many run at once. */
function controlledReload() {
  const finishers: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  let started = 0;
  const reload = () =>
    new Promise<void>((resolve) => {
      started += 1;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      finishers.push(() => {
        running -= 1;
        resolve();
      });
    });
  return { reload, finishers, stats: () => ({ started, maxRunning }) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('serialised reloads', () => {
  it('runs one more reload after a running one for calls made meanwhile, shared by all of them, never two at once', async () => {
    const c = controlledReload();
    const refresh = serialised(c.reload);
    const first = refresh();
    // Announced while the first reload may already have read the database: must not be absorbed by it.
    const second = refresh();
    const third = refresh();
    expect(c.stats()).toEqual({ started: 1, maxRunning: 1 });
    c.finishers.shift()!();
    await first;
    await tick();
    expect(c.stats()).toEqual({ started: 2, maxRunning: 1 });
    c.finishers.shift()!();
    await Promise.all([second, third]);
    expect(c.stats()).toEqual({ started: 2, maxRunning: 1 });
  });

  it('starts afresh once idle, and a failed reload does not stop the queued one', async () => {
    let calls = 0;
    const refresh = serialised(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database busy');
    });
    const failing = refresh();
    const queued = refresh();
    await expect(failing).rejects.toThrow('database busy');
    await queued;
    await refresh();
    expect(calls).toBe(3);
  });
});
