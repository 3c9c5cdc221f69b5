// The load driver: a separate process, so that generating load does not share an
// event loop with the servers it measures. Runs one job per IPC message and
// replies with a Measurement; exits when the orchestrator goes away.
import { isLoop, type DriverReply, type Job } from '../protocol.js';
import { httpLoad } from './http-load.js';
import { routeTarget } from './routes.js';
import { signInLoad } from './sign-in-load.js';

function run(job: Job) {
  const { scenario } = job;
  routeTarget(job.target);
  return isLoop(scenario) ? signInLoad(job) : httpLoad({ ...job, scenario });
}

/** fetch() reports network failures as "fetch failed" with the reason in `cause`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

process.on('message', (job: Job) => {
  run(job).then(
    (measurement) => process.send!({ ok: true, measurement } satisfies DriverReply),
    (err: unknown) => process.send!({ ok: false, error: describe(err) } satisfies DriverReply),
  );
});
process.on('disconnect', () => process.exit(0));
