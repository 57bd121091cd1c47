/**
 * `/demo`: the page where a person registers as a virtual agent with SIP.js and takes a sandbox
 * call. Static files come from src/api/demo (no build step) and SIP.js's own ES modules from
 * node_modules; `POST /demo/call` asks the sandbox contact center to route a call to the agent.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DemoSources {
  /** Ask the sandbox contact center to call this agent (number or id); rejects with a reason. */
  placeCall?(agent: string): Promise<Record<string, unknown>>;
  /** A softphone token for this agent from its platform (the CCaaS sandbox), for SIP.js's REGISTER. */
  token?(agent: string): Promise<string>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** src/api/demo, whether this module runs from src (tests) or from dist/src (npm start). */
function findPageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'src', 'api', 'demo');
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
    if (existsSync(path.join(dir, 'demo', 'index.html'))) return path.join(dir, 'demo');
    dir = path.dirname(dir);
  }
  throw new Error('demo page files (src/api/demo) not found');
}

function sipJsDir(): string {
  // SIP.js ships ES modules with explicit .js imports: the browser can load them as they are.
  return path.dirname(fileURLToPath(import.meta.resolve('sip.js')));
}

let dirs: { page: string; sipjs: string } | undefined;
const cache = new Map<string, Buffer>();

/** A file under `root`, never outside it (no `..` escapes), or undefined. */
function readUnder(root: string, rel: string): Buffer | undefined {
  const file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  if (!file.startsWith(root + path.sep)) return undefined;
  const hit = cache.get(file);
  if (hit) return hit;
  if (!existsSync(file)) return undefined;
  const data = readFileSync(file);
  cache.set(file, data);
  return data;
}

/** Serves /demo, /demo/*, POST /demo/call and POST /demo/token; false when the path is not the demo's. */
export function handleDemo(req: IncomingMessage, res: ServerResponse, urlPath: string, src: DemoSources, body: () => Promise<unknown>): boolean {
  if (urlPath !== '/demo' && !urlPath.startsWith('/demo/')) return false;
  const send = (status: number, type: string, data: string | Buffer): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(data);
  };
  const json = (status: number, v: unknown): void => send(status, 'application/json', JSON.stringify(v));
  // POST {"number": "<agent number or id>"} -> what `act` gives for that agent, or its reason.
  const forAgent = <T>(missing: string, act: ((agent: string) => Promise<T>) | undefined, ok: (r: T) => void): true => {
    if (req.method !== 'POST') return json(405, { error: 'use POST with {"number": "+1899..."}' }), true;
    if (!act) return json(409, { error: missing }), true;
    void body()
      .then((b) => {
        const agent = typeof b === 'object' && b !== null ? (b as Record<string, unknown>)['number'] : undefined;
        if (typeof agent !== 'string' || !agent) throw Object.assign(new Error('body must be {"number": "<agent number or id>"}'), { status: 400 });
        return act(agent);
      })
      .then(ok)
      .catch((e: Error & { status?: number }) => json(e.status ?? 409, { error: e.message }));
    return true;
  };
  if (urlPath === '/demo/call') return forAgent('no sandbox contact center in this configuration: dial the agent with SIPp instead', src.placeCall, (r) => json(201, r));
  if (urlPath === '/demo/token') return forAgent('no platform in this configuration issues softphone tokens: use the SIP password', src.token, (token) => json(200, { token }));
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: `method ${req.method} not allowed` }), true;
  dirs ??= { page: findPageDir(), sipjs: sipJsDir() };
  const rel = urlPath === '/demo' || urlPath === '/demo/' ? 'index.html' : urlPath.slice('/demo/'.length);
  const data = rel.startsWith('sip.js/') ? readUnder(dirs.sipjs, rel.slice('sip.js/'.length)) : readUnder(dirs.page, rel);
  if (!data) return json(404, { error: `no demo file ${urlPath}` }), true;
  send(200, TYPES[path.extname(rel)] ?? 'application/octet-stream', data);
  return true;
}
