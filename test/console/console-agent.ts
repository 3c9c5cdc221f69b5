// A citizen's browser on the console (test/support/user-agent.ts): opens /console,
// answers nixa's chooser, the simulated source's picker and the consent page, and
// stops at the first console page (or any page it was not told how to answer).
import { SIMULATED_SOURCE_IDS } from '../support/federation.js';
import { UserAgent } from '../support/user-agent.js';

export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

export interface Landed {
  status: number;
  url: string;
  html: string;
  /** The pages answered on the way (chooser, source-picker, consent). */
  pages: string[];
}

export async function openConsole(
  issuer: string,
  o: { agent: UserAgent; source?: keyof typeof SIMULATED_SOURCE_IDS; citizen?: string; path?: string },
): Promise<Landed> {
  let step = await o.agent.follow(`${issuer}${o.path ?? '/console'}`);
  const pages: string[] = [];
  let source = o.source;
  let citizen = o.citizen;
  for (let i = 0; i < 8; i++) {
    const html = await step.res.text();
    const at = new URL(step.url);
    const uid = at.pathname.split('/')[2];
    if (step.res.status === 200 && html.includes('action="/interaction/') && html.includes('name="source"') && source) {
      pages.push('chooser');
      step = await o.agent.submit(new URL(`/interaction/${uid}/source`, at), { csrf: csrfOf(html)!, source: SIMULATED_SOURCE_IDS[source] });
      source = undefined;
    } else if (step.res.status === 200 && html.includes('name="citizen"') && citizen) {
      pages.push('source-picker');
      step = await o.agent.submit(new URL(/action="(\/interaction\/[^"]+\/pick)"/.exec(html)![1]!, at), { citizen });
      citizen = undefined;
    } else if (step.res.status === 200 && html.includes('name="decision"')) {
      pages.push('consent');
      step = await o.agent.submit(new URL(`/interaction/${uid}/consent`, at), { csrf: csrfOf(html)!, decision: 'accept' });
    } else {
      return { status: step.res.status, url: step.url, html, pages };
    }
  }
  throw new Error('the console sign-in did not settle');
}

/** A form post to a console page, with the session's CSRF token unless told otherwise. */
export async function post(agent: UserAgent, url: string, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const res = await agent.request(url, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

export async function get(agent: UserAgent, url: string) {
  const res = await agent.request(url);
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}
