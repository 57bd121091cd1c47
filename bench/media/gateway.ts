/**
 * Opt-in gateway entry for the media bench (BENCH_MEDIA_INTERNAL=1): what `vagw start --config`
 * does (load the config, create the logger, start the gateway, drain on SIGTERM), plus an IPC
 * channel that returns the media workers' own statistics, which the gateway exposes on no
 * endpoint: pacer lateness against each session's 20 ms slot, heap and RSS.
 */
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { startGateway } from '../../src/server.js';
import { LATENESS_BUCKET_MS } from '../../media/pacer.js';
import { Histogram } from './hist.js';
import { serve, type GatewayInternal } from './ipc.js';

const config = loadConfig(process.argv[2] ?? 'gateway.yaml');
const log = createLogger(config.gateway.logLevel, config.gateway.name);
const gw = await startGateway(config, log);
const lateness = new Histogram(0.01, 1000, 2);

process.once('SIGTERM', () => void gw.shutdown().finally(() => process.exit(0)));
process.once('SIGINT', () => void gw.shutdown().finally(() => process.exit(0)));

serve({
  /** Pacer lateness since the previous call (the workers hand their histograms over and zero them). */
  async stats(): Promise<GatewayInternal> {
    const workers = await gw.media.stats();
    lateness.reset();
    // The workers' histograms: each bucket's samples at the bucket's middle.
    for (const w of workers) w.lateness.forEach((n, i) => n && lateness.add((i + 0.5) * LATENESS_BUCKET_MS, n));
    const mem = process.memoryUsage();
    return {
      pacer: lateness.summary(),
      pacerTicks: workers.reduce((n, w) => n + w.pacerTicks, 0),
      pacerSkipped: workers.reduce((n, w) => n + w.pacerSkipped, 0),
      workerHeapUsedKb: workers.map((w) => Math.round(w.heapUsed / 1024)),
      mainHeapUsedKb: Math.round(mem.heapUsed / 1024),
      sessions: workers.reduce((n, w) => n + w.sessions, 0),
    };
  },
});
