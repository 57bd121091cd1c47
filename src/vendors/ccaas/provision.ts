/**
 * Provisioning at the platform (`vagw ccaas register`, and at start): the voice provider resource
 * with the seven adapter URLs built from the gateway's public base URL, then each configured
 * toll-free number associated with it. Idempotent: the provider id the platform returned is kept
 * in the data directory (`ccaas-provider.json`); a second run reads the provider and updates it,
 * never creates a second one. Every failure names its step and the platform's answer.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CcaasConfig } from './settings.js';

export class ProvisionError extends Error {}

export interface ProvisionResult {
  providerId: string;
  action: 'created' | 'updated';
  urls: Record<string, string>;
  numbers: { id: string; number: string }[];
}

export function adapterUrls(publicBaseUrl: string, adapterPath: string): Record<string, string> {
  const base = `${publicBaseUrl.replace(/\/+$/, '')}${adapterPath}`;
  return {
    accept_call_url: `${base}/accept`,
    end_call_url: `${base}/end`,
    hold_call_url: `${base}/hold`,
    resume_call_url: `${base}/resume`,
    mute_call_url: `${base}/mute`,
    unmute_call_url: `${base}/unmute`,
    access_token_url: `${base}/token`,
  };
}

export async function provision(cfg: CcaasConfig, apiBase: string, publicBaseUrl: string, dataDir: string): Promise<ProvisionResult> {
  const headers = {
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${cfg.clientId}:${cfg.clientSecret}`).toString('base64')}`,
    'x-resource-template-version': cfg.templateVersion,
  };
  const call = async (step: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    let r: Response;
    try {
      r = await fetch(`${apiBase.replace(/\/+$/, '')}${p}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(cfg.events.timeoutMs) });
    } catch (e) {
      throw new ProvisionError(`ccaas register: ${step}: ${method} ${p} failed: ${(e as Error).message}`);
    }
    const text = await r.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text: text.slice(0, 200) };
    }
    return { status: r.status, body: parsed };
  };
  const fail = (step: string, r: { status: number; body: Record<string, unknown> }): never => {
    throw new ProvisionError(`ccaas register: ${step}: the platform answered ${r.status}${r.body['message'] ? ` (${String(r.body['message'])})` : ''}`);
  };

  const urls = adapterUrls(publicBaseUrl, cfg.adapterPath);
  const provider = { name: cfg.providerName, ...urls };
  const file = path.join(dataDir, 'ccaas-provider.json');
  const stored = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { id?: string; partnerId?: string }, () => ({}) as { id?: string; partnerId?: string });
  const base = `/partners/${encodeURIComponent(cfg.partnerId)}/voiceproviders`;
  let providerId: string | undefined;
  let action: ProvisionResult['action'] = 'created';
  if (stored.id && stored.partnerId === cfg.partnerId) {
    const got = await call('read the voice provider', 'GET', `${base}/${encodeURIComponent(stored.id)}`);
    if (got.status === 200) {
      const put = await call('update the voice provider', 'PUT', `${base}/${encodeURIComponent(stored.id)}`, provider);
      if (put.status !== 200) fail('update the voice provider', put);
      providerId = stored.id;
      action = 'updated';
    } else if (got.status !== 404) fail('read the voice provider', got);
  }
  if (!providerId) {
    const made = await call('create the voice provider', 'POST', base, provider);
    if (made.status === 409) throw new ProvisionError(`ccaas register: create the voice provider: the name '${cfg.providerName}' is taken at the platform and ${file} has no id for it (restore that file, or set ccaas.providerName)`);
    if (made.status !== 200 && made.status !== 201) fail('create the voice provider', made);
    if (typeof made.body['id'] !== 'string') throw new ProvisionError('ccaas register: create the voice provider: the answer has no id');
    providerId = made.body['id'];
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, JSON.stringify({ id: providerId, partnerId: cfg.partnerId, name: cfg.providerName }) + '\n');
  }
  for (const n of cfg.phoneNumbers) {
    const r = await call(`associate phone number ${n.id}`, 'POST', `/partners/${encodeURIComponent(cfg.partnerId)}/phonenumbers/${encodeURIComponent(n.id)}`, { voice_provider_id_resource_uri: `${base}/${providerId}` });
    if (r.status !== 200 && r.status !== 201) fail(`associate phone number ${n.id} (${n.number})`, r);
  }
  return { providerId, action, urls, numbers: cfg.phoneNumbers };
}
