import { readFileSync } from 'node:fs';

/**
 * Port names as docker-copyedit resolves them (`REMOVE PORT ldap` -> 389/tcp): from the system's
 * services database, with a small built-in table for machines (and containers) that lack one.
 */
const BUILTIN: Record<string, number> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  dns: 53,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  mysql: 3306,
  postgresql: 5432,
  postgres: 5432,
  redis: 6379,
  'http-alt': 8080,
  mongodb: 27017,
};

let table: Map<string, number> | undefined;

function servicesTable(): Map<string, number> {
  if (table) return table;
  table = new Map(Object.entries(BUILTIN));
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    return table;
  }
  for (const line of text.split('\n')) {
    const [body] = line.split('#');
    const f = body!.trim().split(/\s+/);
    const m = /^(\d+)\/(tcp|udp|sctp)$/.exec(f[1] ?? '');
    if (!f[0] || !m) continue;
    for (const name of [f[0], ...f.slice(2)]) {
      const key = `${name.toLowerCase()}/${m[2]}`;
      if (!table.has(key)) table.set(key, Number(m[1]));
      if (!table.has(name.toLowerCase())) table.set(name.toLowerCase(), Number(m[1]));
    }
  }
  return table;
}

/** The port number of a service name (optionally for a protocol), or undefined. */
export function servicePort(name: string, proto?: string): number | undefined {
  const t = servicesTable();
  const n = name.toLowerCase();
  return (proto ? t.get(`${n}/${proto}`) : undefined) ?? t.get(n);
}
