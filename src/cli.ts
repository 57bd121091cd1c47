#!/usr/bin/env node
/**
 * vagw: `start [--config file]` runs the gateway; `check-config [file]` validates a configuration
 * and prints every problem as `file: key: problem`, exiting non-zero if there is any.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, checkConfig, formatProblems, loadConfig } from './config/index.js';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.js';
import { createLogger } from './log.js';
import { startGateway } from './server.js';
import { faults } from './util/faults.js';
import { serveBuiltinEngine } from './builtin-engines.js';
import { engineCheck, report } from './engine-check.js';
import { startSandboxes } from './sandbox-cmd.js';
import { provision, ProvisionError } from './vendors/ccaas/provision.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_CONFIG = path.join(ROOT, 'gateway.yaml');

const USAGE = `usage: vagw <command> [options]

commands:
  start [--config <file>]   run the gateway (default config: gateway.yaml at the repository root)
  sandbox [--config <file>] run the configuration's sandbox contact centers (simulators and their
                            call placers) alone; point the gateway at their URLs (one JSON line
                            each on stdout)
  ccaas register [--config <file>]
                            register the gateway as the CCaaS platform's voice provider (adapter
                            URLs, toll-free numbers); idempotent: a second run updates
  check-config [<file>]     validate a configuration; prints every problem, exits 1 if any
  engine-check <ws-url>|builtin:echo [--protocol twilio|l16] [--secret <hmac>] [--seconds <n>]
                            play a scripted call against an engine and report what it did
                            right and wrong (docs/engine-protocol.md); exits 1 on a problem
  help                      this text
`;

function configArg(args: string[]): string {
  const i = args.indexOf('--config');
  if (i >= 0) {
    const f = args[i + 1];
    if (!f) throw new UsageError('--config needs a file name');
    return f;
  }
  const other = args.find((a) => a.startsWith('-'));
  if (other) throw new UsageError(`unknown option ${other}`);
  return DEFAULT_CONFIG;
}

class UsageError extends Error {}

/** The configuration, or undefined once why it is invalid has been printed (the command exits 2). */
function loadOrExplain(file: string): GatewayConfig | undefined {
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration is invalid, nothing started:\n${formatProblems(e.problems)}\n`);
      return undefined;
    }
    throw e;
  }
}

/**
 * The last line of the fault boundary: every socket and timer callback has its own guard, and
 * what still escapes one (a bug in a library callback) is logged and counted, never an exit:
 * one message must not take every call of the gateway down with it.
 */
function processLogger(level: GatewayConfig['gateway']['logLevel'], name: string): Logger {
  const log = createLogger(level, name);
  faults.setLogger(log);
  process.on('uncaughtException', (err) => faults.record('process.uncaughtException', err));
  process.on('unhandledRejection', (err) => faults.record('process.unhandledRejection', err));
  return log;
}

async function start(args: string[]): Promise<number> {
  const config = loadOrExplain(configArg(args));
  if (!config) return 2;
  const log = processLogger(config.gateway.logLevel, config.gateway.name);
  let gw;
  try {
    gw = await startGateway(config, log);
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'gateway failed to start');
    return 1;
  }
  log.info(
    { config: config.file, sip: config.profiles.map((p) => ({ profile: p.name, host: p.listen.host, port: gw.sipPorts[p.name], transports: p.listen.transports, agents: p.agents.length })), http: `${config.gateway.http.host}:${gw.httpPort}` },
    'gateway started',
  );
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal, activeCalls: gw.calls.calls.size, drainTimeoutSeconds: config.gateway.drainTimeoutSeconds }, 'draining: new calls refused, waiting for calls to end');
      gw.shutdown().then(
        () => {
          log.info('gateway stopped');
          resolve(0);
        },
        (e: Error) => {
          log.error({ err: e.message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function check(args: string[]): number {
  const file = args[0] ?? DEFAULT_CONFIG;
  const problems = checkConfig(file);
  if (problems.length === 0) {
    process.stdout.write(`${file}: OK\n`);
    return 0;
  }
  process.stdout.write(formatProblems(problems) + '\n');
  process.stdout.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
  return 1;
}

async function checkEngine(args: string[]): Promise<number> {
  const target = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
  const builtin = target === 'builtin:echo' || target === 'builtin:demo' ? target.slice(8) as 'echo' | 'demo' : undefined;
  if (!target || (!builtin && !/^wss?:\/\//.test(target))) throw new UsageError('engine-check needs a ws:// or wss:// URL, or builtin:echo / builtin:demo');
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const protocol = opt('protocol') ?? 'twilio';
  if (protocol !== 'twilio' && protocol !== 'l16') throw new UsageError(`--protocol must be twilio or l16, got ${protocol}`);
  const seconds = Number(opt('seconds') ?? 2);
  if (!(seconds >= 0.2 && seconds <= 60)) throw new UsageError('--seconds must be 0.2..60');
  const secret = opt('secret') ?? process.env['VAGW_ENGINE_SECRET'];
  if (builtin && protocol !== 'twilio') throw new UsageError('the built-in engines speak the twilio protocol');
  // A built-in engine is served on a loopback socket for the check (src/builtin-engines.ts).
  const served = builtin ? await serveBuiltinEngine(builtin) : undefined;
  const url = served?.url ?? target;
  try {
    const findings = await engineCheck(url, { protocol, seconds, connectTimeoutMs: 5000, ...(secret ? { secret } : {}) });
    const r = report(builtin ? `${target} (${url})` : url, findings);
    process.stdout.write(r.text + '\n');
    return r.code;
  } finally {
    await served?.close();
  }
}

async function sandbox(args: string[]): Promise<number> {
  const config = loadOrExplain(configArg(args));
  if (!config) return 2;
  const log = processLogger(config.gateway.logLevel, `${config.gateway.name}-sandbox`);
  let running;
  try {
    running = await startSandboxes(config, log);
  } catch (e) {
    process.stderr.write(`vagw sandbox: ${(e as Error).message}\n`);
    return 1;
  }
  for (const s of running.sandboxes) process.stdout.write(JSON.stringify({ sandbox: s.vendor, url: s.url, calls: s.gateway }) + '\n');
  return new Promise((resolve) => {
    const stop = (): void => void running.close().then(() => resolve(0), () => resolve(1));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function ccaas(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'register') throw new UsageError(`unknown ccaas command '${sub ?? ''}' (ccaas register)`);
  const config = loadOrExplain(configArg(rest));
  if (!config) return 2;
  const cfg = config.ccaas;
  if (cfg.baseUrl === 'sandbox') {
    process.stderr.write('vagw ccaas register: ccaas.baseUrl is sandbox; the sandbox registers the gateway by itself at start. Set ccaas.baseUrl to the platform\'s partner API.\n');
    return 2;
  }
  const http = config.gateway.http;
  if (!cfg.publicBaseUrl && http.port === 0) {
    process.stderr.write('vagw ccaas register: set ccaas.publicBaseUrl (gateway.http.port is 0, so the adapter URLs cannot be built)\n');
    return 2;
  }
  const publicBase = cfg.publicBaseUrl || `http://${http.host}:${http.port}`;
  try {
    const r = await provision(cfg, cfg.baseUrl, publicBase, config.dataDir);
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof ProvisionError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'start':
        return await start(rest);
      case 'engine-check':
        return await checkEngine(rest);
      case 'sandbox':
        return await sandbox(rest);
      case 'ccaas':
        return await ccaas(rest);
      case 'check-config':
        return check(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vagw: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
