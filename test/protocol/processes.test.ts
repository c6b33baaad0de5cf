/**
 * The protocol across separate OS processes: three `goten worker` processes on
 * loopback TLS with pinned keys, the enclave in this process (AKE, seed
 * bundles, ops). Results equal the quantized reference bit for bit, and the
 * workers exit cleanly at the end of the session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getBackend } from '../../src/backend/index.js';
import { loadClusterConfig, loadLocalIdentity } from '../../src/net/cluster-config.js';
import { noiseKeyFromSeed } from '../../src/protocol/op-quantize.js';
import { QuantizedExecutor } from '../../src/protocol/quantized-executor.js';
import type { SecureExecutor } from '../../src/protocol/secure-executor.js';
import { type LaunchedCluster, launchLocalCluster } from '../../src/roles/launcher.js';
import { openEnclaveSession } from '../../src/roles/session.js';
import { RecordingExecutor, oddModel, trainSteps } from './helpers.js';

describe('secure training with every party a separate process', () => {
  let cluster: LaunchedCluster;
  let exec: SecureExecutor;
  before(async () => {
    cluster = await launchLocalCluster({ topology: 'single', transport: 'tls', backend: 'js', stderr: 'ignore' });
    const config = loadClusterConfig(cluster.configPath);
    exec = await openEnclaveSession({ config, self: 'e0', identity: loadLocalIdentity(config, 'e0'), noiseKey: noiseKeyFromSeed(21) });
  });
  after(async () => {
    await exec?.close();
    await cluster?.stop();
  });

  it('trains bit-identically to the quantized reference over TLS sockets', async () => {
    const ref = new RecordingExecutor(new QuantizedExecutor({ backend: getBackend('js'), seed: 21 }));
    const got = new RecordingExecutor(exec);
    const lossesRef = await trainSteps(oddModel(4, ref), 2, 2);
    const losses = await trainSteps(oddModel(4, got), 2, 2);
    assert.deepEqual(losses, lossesRef);
    assert.equal(got.records.length, ref.records.length);
    got.records.forEach((r, i) => assert.deepEqual(r.c, ref.records[i].c, `op ${i} (${r.key})`));
  });

  it('the workers exit cleanly when the enclave says goodbye', async () => {
    await exec.close();
    await cluster.exited;
    for (const c of cluster.children) assert.equal(c.exitCode, 0);
  });
});
