/** Cookies, the few lines a site needs: read one by name, write one with safe defaults. */

/** The value of cookie `name` in a Cookie header, or undefined (a malformed header has no cookies). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_.-]{1,600}$/.test(value) ? value : undefined;
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
  /** Only over HTTPS (set when the site's public URL is https). */
  secure: boolean;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, for the whole site. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${options.maxAgeSeconds}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
