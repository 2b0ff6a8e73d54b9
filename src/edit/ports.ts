import { jsonObject } from '../json/lossless.js';
import { removeMapKeys, setMapKey } from './runtime.js';
import { type Selector, selectorLabel, selects } from './selector.js';
import type { ConfigEdit } from './types.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';
const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** Remove exposed ports (EXPOSE): `'all'`, exact keys such as `80/tcp`, or a pattern. */
export function removePorts(sel: Selector, shown?: string): ConfigEdit {
  const match = selects(sel);
  const label = selectorLabel(sel, shown);
  return {
    name: 'rm-port',
    arg: label,
    description: sel === 'all' ? 'remove all ports' : `remove port ${label}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'ExposedPorts', match);
      const warnings = hits === 0 && sel !== 'all' ? [`no exposed port matches ${label}`] : [];
      return { config, warnings };
    },
  };
}

/** Expose a port: 1..65535 over tcp (default), udp or sctp (a RangeError otherwise). */
export function addPort(port: number, proto: Protocol = 'tcp'): ConfigEdit {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`a port number is between 1 and 65535, not ${port}`);
  if (!PROTOCOLS.includes(proto)) throw new RangeError(`the protocol must be tcp, udp or sctp, not ${proto}`);
  const key = `${port}/${proto}`;
  return {
    name: 'add-port',
    arg: key,
    description: `add port ${key}`,
    apply(image) {
      return { config: setMapKey(image, 'ExposedPorts', key, jsonObject()), warnings: [] };
    },
  };
}
