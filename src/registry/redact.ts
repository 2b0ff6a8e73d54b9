/**
 * Credentials never leave the HTTP layer: every password, token and Authorization value the run
 * handles is registered here, and every message a registry error, a warning or the report carries
 * is passed through `redact` before it is thrown or printed.
 */
const secrets = new Set<string>();

/** Remember a secret (a password, a token, a base64 Basic value) so `redact` hides it. */
export function registerSecret(s: string | undefined): void {
  if (s && s.length >= 3) secrets.add(s);
}

/** The text with every registered secret and every Authorization/Bearer/Basic value replaced. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('<redacted>');
  return out
    .replace(/(authorization\s*[:=]\s*)("?)[^"\s,;]+(\s+[^"\s,;]+)?/gi, '$1$2<redacted>')
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 <redacted>')
    .replace(/([?&](?:access_token|token|password|secret)=)[^&\s"]+/gi, '$1<redacted>')
    .replace(/(\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1<redacted>@');
}
