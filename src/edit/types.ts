import type { JsonObject } from '../json/lossless.js';

/** What an edit returns: the new config, and anything the user should hear about. */
export interface EditResult {
  readonly config: JsonObject;
  /** E.g. "no volume matches /nope": not an error, as in docker-copyedit. */
  readonly warnings: readonly string[];
}

/**
 * One edit of an image config. `apply` is pure: it never modifies its argument and returns a new
 * object (sharing untouched parts is fine, they are never mutated).
 */
export interface ConfigEdit {
  /** The flag name without dashes, e.g. `rm-volume`. */
  readonly name: string;
  /** The value as the user gave it, for reports. */
  readonly arg?: string;
  /** A short human description: `remove volume /data`. */
  readonly description: string;
  apply(config: JsonObject): EditResult;
}
