/**
 * A browser cannot add a header to a page it opens, nor to an EventSource. Where the dashboard
 * group is restricted, its key may therefore also come once in the address, as
 * `/dashboard?<header>=<value>`: the page then sets it as an HttpOnly, SameSite=Strict cookie for
 * /dashboard and sends the browser on to /dashboard, out of the address bar; every later request
 * of the page (its files, the event stream, the reports) carries the cookie. The check is the
 * same as for the header (restricted-apis.ts): only the place the value is read from differs.
 */
import type { IncomingMessage } from 'node:http';

export const DASHBOARD_COOKIE = 'tenancy-dashboard';

/** The dashboard key a browser sent in place of the header `key`: the cookie, else the address's parameter. */
export function dashboardCredential(req: IncomingMessage, key: string): string | undefined {
  const fromCookie = cookie(req.headers.cookie, DASHBOARD_COOKIE);
  if (fromCookie !== undefined) return fromCookie;
  return queryParameter(req.url ?? '', key);
}

/** The value of `key` in the query of `url`, or undefined. */
export function queryParameter(url: string, key: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(key) ?? undefined;
}

/** The Set-Cookie header that keeps the key for the page's later requests. */
export function credentialCookie(value: string, secure: boolean): string {
  return (
    `${DASHBOARD_COOKIE}=${encodeURIComponent(value)}; Path=/dashboard; HttpOnly; SameSite=Strict` +
    (secure ? '; Secure' : '')
  );
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}
