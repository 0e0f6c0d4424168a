// The `http` check: a port published on the sandbox answers with a status and body.
import type { CheckOf } from '@dockyard/content';
import type { Probe } from '../probe.ts';
import { describeMatch, no, ok, q, quote, textMatches, type Outcome } from './outcome.ts';

export async function http(p: Probe, check: CheckOf<'http'>): Promise<Outcome> {
  const url = `http://localhost:${check.port}${check.path}`;
  const r = await p.sh(`/usr/bin/curl -s -m 3 -o - -w '\\n%{http_code}' ${q(url)} | tail -c 65536`, 8000);
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(cut + 1));
  const body = r.stdout.slice(0, Math.max(0, cut));
  if (!status) return no(`Nothing answers on port ${check.port}: is a container publishing it (docker ps)?`);
  if (status !== check.status) return no(`${url} answered ${status}; it should answer ${check.status}.`);
  if (check.body && !textMatches(typeof check.body === 'string' ? body.trim() : body, check.body)) {
    return no(
      `${url} answered ${status}, but its body is ${quote(body.trim())}; it should be ${describeMatch(check.body)}.`,
    );
  }
  return ok(`${url} answered ${status}, as expected.`);
}
