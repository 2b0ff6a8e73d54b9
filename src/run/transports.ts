/** The registry transports of one run: one per registry host, shared by source and target when they are one. */
import { Transport, type Traffic, type RegistryOptions } from '../registry/transport.js';

export class Transports {
  private readonly byHost = new Map<string, Transport>();
  constructor(private readonly o: RegistryOptions) {}
  get(registry: string): Transport {
    let t = this.byHost.get(registry);
    if (!t) {
      t = new Transport(registry, this.o);
      this.byHost.set(registry, t);
    }
    return t;
  }
  traffic(): Traffic {
    const sum: Traffic = { sent: 0, received: 0, requests: 0 };
    for (const t of this.byHost.values()) {
      sum.sent += t.traffic.sent;
      sum.received += t.traffic.received;
      sum.requests += t.traffic.requests;
    }
    return sum;
  }
}
