/**
 * Issue 20: the library surface is deliberate. Its runtime exports are pinned here (a name added or
 * dropped is a decision: change docs/API.md with it). That its examples compile against the built
 * declarations is test/slow/api-types.test.ts (a compile takes seconds).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as api from '../../src/index.js';

/** Every runtime export of the package root; the types that go with them are checked by the examples. */
const PUBLIC = [
  // the pipeline
  'editArchive',
  'TARGET_FORMATS',
  'LAYER_COMPRESSIONS',
  // the edits (src/edit/index.ts)
  'addPort',
  'addVolume',
  'applyEdits',
  'clampTimes',
  'clearCmd',
  'clearEntrypoint',
  'epochTime',
  'isRfc3339',
  'MAX_EPOCH',
  'removeEnv',
  'removeHealthcheck',
  'removeHistoryArgs',
  'removeLabels',
  'removeOnbuild',
  'removePorts',
  'removeVolumes',
  'servicePort',
  'setArchitecture',
  'setAuthor',
  'setCmd',
  'setCmdShell',
  'setCreated',
  'setDomainname',
  'setEntrypoint',
  'setEntrypointShell',
  'setEnv',
  'setEnvs',
  'setHostname',
  'setImageString',
  'setLabel',
  'setOs',
  'setRuntimeString',
  'setShell',
  'setStopSignal',
  'setUser',
  'setVariant',
  'setWorkdir',
  'squashHistory',
  // layer content (issue 21)
  'addFiles',
  'addLayer',
  // reading
  'scanArchive',
  'buildModel',
  'buildGraph',
  'parsePlatform',
  'platformString',
  // inspect, diff, verify
  'inspectArchive',
  'readArchive',
  'diffArchives',
  'diffReports',
  'verifyArchive',
  'describeIssue',
  // look inside (src/content/, issue 21)
  'exportImage',
  'catImageFile',
  'listImageDir',
  'openImageContent',
  'mergeLayers',
  'mergedEntries',
  'mergedTarStream',
  'readMergedFile',
  'writeMergedTar',
  'MergedFilesystem',
  'bufferLayer',
  'fileLayer',
  // values and errors
  'Digest',
  'chainIds',
  'normalizeReference',
  'parseJson',
  'stringifyJson',
  'JsonNumber',
  'ExitCode',
  'CopyeditError',
  'UsageError',
  'ArchiveError',
  'EditError',
  'VerifyError',
  'IoError',
  'PathError',
  'InterruptedError',
  'RegistryError',
].sort();

describe('the library surface (src/index.ts)', () => {
  it('exports exactly the public names (docs/API.md), none of the I/O machinery', () => {
    assert.deepEqual(Object.keys(api).sort(), PUBLIC);
  });
});
