import { UsageError } from '../errors.js';
import { jsonObject } from '../json/lossless.js';
import { isPattern, matcher } from './glob.js';
import { removeMapKeys, setMapKey } from './runtime.js';
import type { ConfigEdit, EditSpec } from './types.js';
import { servicePort } from './services.js';
import { required } from './volumes.js';

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

/** `80` -> `80/tcp`; `53/udp` stays; `ldap` -> `389/tcp`; validates the number and protocol. */
export function normalizePort(spec: string, flag: string): string {
  const m = /^([0-9]{1,5}|[a-zA-Z][a-zA-Z0-9._-]*)(?:\/([a-zA-Z]+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`--${flag} ${spec}: expected a port like 8080, 53/udp or a service name like ldap`);
  const proto = (m[2] ?? 'tcp').toLowerCase();
  let n = Number(m[1]);
  if (!/^[0-9]/.test(m[1]!)) {
    const p = servicePort(m[1]!, proto);
    if (p === undefined) throw new UsageError(`--${flag} ${spec}: unknown service name ${m[1]}; give the port number`);
    n = p;
  }
  if (n < 1 || n > 65535) throw new UsageError(`--${flag} ${spec}: a port number is between 1 and 65535`);
  if (!PROTOCOLS.includes(proto)) throw new UsageError(`--${flag} ${spec}: the protocol must be tcp, udp or sctp`);
  return `${n}/${proto}`;
}

export function removePort(spec: string): ConfigEdit {
  const all = spec.toLowerCase() === 'all';
  let match: (key: string) => boolean;
  if (all || isPattern(spec)) match = matcher(spec);
  else {
    // like EXPOSE and docker-copyedit, a bare port means tcp; "53/*" removes every protocol
    const want = normalizePort(spec, 'rm-port');
    match = (k) => k === want;
  }
  return {
    name: 'rm-port',
    arg: spec,
    description: all ? 'remove all ports' : `remove port ${spec}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'ExposedPorts', match);
      const warnings = hits === 0 && !all ? [`no exposed port matches ${spec}`] : [];
      return { config, warnings };
    },
  };
}

export function addPort(spec: string): ConfigEdit {
  const key = normalizePort(spec, 'add-port');
  return {
    name: 'add-port',
    arg: spec,
    description: `add port ${key}`,
    apply(image) {
      const config = setMapKey(image, 'ExposedPorts', key, jsonObject());
      return { config, warnings: [] };
    },
  };
}

export const portSpecs: EditSpec[] = [
  { flag: 'rm-port', value: 'port[/proto]|glob|all', help: 'remove an exposed port (EXPOSE): 80 (=80/tcp), 53/udp, ldap, 53/*, all', parse: (v) => removePort(required('rm-port', v)) },
  { flag: 'add-port', value: 'port[/proto]', help: 'expose a port (number or service name); the protocol defaults to tcp', parse: (v) => addPort(required('add-port', v)) },
];
