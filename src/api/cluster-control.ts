/**
 * The REST control API across a cluster (issue 13): `GET /calls` and `GET /agents` on any node
 * show every node's calls and agents (each with the `node` that has it), and a request for a call
 * or an agent another node has is forwarded to that node and answered with its reply. `?scope=local`
 * asks for this node alone (what the nodes ask each other).
 *
 * The nodes' own call tables are the call registry: a call is found by asking the live nodes
 * (a handful) at the moment it is wanted, so there is no per-call write to Redis and no entry
 * that outlives a node killed with SIGKILL. A node that does not answer within `timeoutMs` is
 * named in `unreachable` and the answer is given without it.
 */
import { malformedPath, pathParts, type ApiReply } from './control.js';

export interface ClusterPeers {
  /** This node's id. */
  self: string;
  /** The other live nodes and their REST API addresses (host:port). */
  peers(): Promise<Peer[]>;
  timeoutMs?: number;
}

type Json = Record<string, unknown>;
type Local = (method: string, path: string, body: unknown) => Promise<ApiReply | null>;

interface Peer {
  id: string;
  http: string;
}

interface PeerReply {
  peer: Peer;
  status: number;
  body: Json;
}

async function ask(peer: Peer, method: string, path: string, body: unknown, who: string, timeoutMs: number): Promise<PeerReply | undefined> {
  try {
    const r = await fetch(`http://${peer.http}${path}?scope=local`, {
      method,
      headers: { 'content-type': 'application/json', 'x-operator': who.slice(0, 64) },
      ...(body !== undefined && method !== 'GET' ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { peer, status: r.status, body: (await r.json()) as Json };
  } catch {
    return undefined;
  }
}

/** Every peer asked at once: their replies, and the ids of those that gave none. */
async function askAll(c: ClusterPeers, method: string, path: string, who: string): Promise<{ replies: PeerReply[]; unreachable: string[] }> {
  const peers = await c.peers().catch(() => []);
  const got = await Promise.all(peers.map((p) => ask(p, method, path, undefined, who, c.timeoutMs ?? 1500)));
  return { replies: got.filter((r): r is PeerReply => r !== undefined), unreachable: peers.filter((_, i) => !got[i]).map((p) => p.id) };
}

const withNode = (list: unknown, node: string | null): Json[] => (Array.isArray(list) ? (list as Json[]).map((x) => ({ ...x, node })) : []);

export async function handleClusterControl(method: string, path: string, body: unknown, local: Local, c: ClusterPeers, who: string): Promise<ApiReply | null> {
  const parts = pathParts(path);
  if (!parts) return malformedPath(path);
  if (parts[0] === 'agents' && parts.length === 3 && parts[2] === 'state' && method === 'POST') return agentState(parts[1]!, path, body, local, c, who);
  const here = await local(method, path, body);
  const mark = (r: ApiReply | null): ApiReply | null => (r && r.status < 300 && r.body && typeof r.body === 'object' && !Array.isArray(r.body) ? { ...r, body: { ...(r.body as Json), node: c.self } } : r);

  if (parts[0] === 'calls' && parts.length === 1 && method === 'GET') {
    const { replies, unreachable } = await askAll(c, 'GET', '/calls', who);
    const calls = [...withNode((here?.body as Json | undefined)?.['calls'], c.self), ...replies.flatMap((r) => withNode(r.body['calls'], r.peer.id))];
    return { status: 200, body: { calls, ...(unreachable.length ? { unreachable } : {}) } };
  }
  if (parts[0] === 'calls' && parts.length >= 2) {
    // Not found here: the node that has it answers (a call lives on one node only).
    if (here?.status !== 404) return mark(here);
    const { replies, unreachable } = await askAll(c, 'GET', `/calls/${encodeURIComponent(parts[1]!)}`, who);
    const owner = replies.find((r) => r.status === 200);
    if (!owner) return { status: 404, body: { error: `no call ${parts[1]} on any node`, ...(unreachable.length ? { unreachable } : {}) } };
    if (method === 'GET' && parts.length === 2) return { status: 200, body: { ...owner.body, node: owner.peer.id } };
    return forward(c, owner.peer, method, path, body, who);
  }
  if (parts[0] === 'agents' && parts.length === 1 && method === 'GET') {
    const { replies, unreachable } = await askAll(c, 'GET', '/agents', who);
    // Each agent as its owner shows it; one no live node owns (its lease is being taken over) as this node knows it.
    const byId = new Map<string, Json>();
    for (const [list, node] of [[(here?.body as Json | undefined)?.['agents'], c.self], ...replies.map((r) => [r.body['agents'], r.peer.id])] as [unknown, string][]) {
      for (const a of withNode(list, node)) if (!a['elsewhere'] && typeof a['id'] === 'string') byId.set(a['id'], a);
    }
    const agents = withNode((here?.body as Json | undefined)?.['agents'], null).map((a) => byId.get(a['id'] as string) ?? a);
    return { status: 200, body: { agents, ...(unreachable.length ? { unreachable } : {}) } };
  }
  return here;
}

/** An operator's Ready / NotReady: the agent's owner tells its contact center (never two nodes). */
async function agentState(id: string, path: string, body: unknown, local: Local, c: ClusterPeers, who: string): Promise<ApiReply | null> {
  const list = ((await local('GET', '/agents', undefined))?.body as Json | undefined)?.['agents'];
  const me = withNode(list, c.self).find((a) => a['id'] === id);
  if (!me || !me['elsewhere']) return local('POST', path, body);
  const { replies } = await askAll(c, 'GET', '/agents', who);
  const owner = replies.find((r) => withNode(r.body['agents'], r.peer.id).some((a) => a['id'] === id && !a['elsewhere']));
  if (!owner) return { status: 409, body: { error: `agent ${id} is owned by no live node right now (being taken over): try again` } };
  return forward(c, owner.peer, 'POST', path, body, who);
}

/** The request to the node just found to have the call or agent (no second lookup of the nodes). */
async function forward(c: ClusterPeers, peer: Peer, method: string, path: string, body: unknown, who: string): Promise<ApiReply> {
  const r = await ask(peer, method, path, body, who, c.timeoutMs ?? 1500);
  if (!r) return { status: 502, body: { error: `node ${peer.id}, which has it, did not answer` } };
  return { status: r.status, body: r.status < 300 ? { ...r.body, node: peer.id } : r.body };
}
