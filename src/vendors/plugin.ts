/**
 * What a contact-center platform plugs in with: one folder `src/vendors/<name>/` exports a
 * `ContactCenterPlugin`, listed in src/vendors/registry.ts. The process wiring (src/contact-center.ts)
 * starts one runtime per platform in use, gives each profile the adapter and policy of the
 * platform it names (`contactCenter.vendor`), and never names a platform itself.
 */
import type { Logger } from 'pino';
import type { ContactCenterConfig, GatewayConfig, SipProfile } from '../config/types.js';
import type { SipEndpoint } from '../sip/endpoint.js';
import type { ContactCenterPolicy, VendorAdapter, VendorCallIds } from './types.js';

/** The platform's strict simulator run in-process as the sandbox, with its call placer. */
export interface SandboxHandle {
  readonly vendor: string;
  /** Where the adapter reaches the simulator. */
  readonly url: string;
  /** Once the gateway's SIP side listens: place the simulator's calls to it. */
  attachSip(target: { host: string; port: number }): Promise<void>;
  /** The demo page's "call me": the sandbox routes a customer call to this agent (its login name). */
  placeCall(agentUser: string): Promise<Record<string, unknown>>;
  /** The demo page's softphone token: the platform asks the gateway's token endpoint for this agent, as its softphone would. */
  softphoneToken?(agentUser: string): Promise<string>;
  close(): Promise<void>;
}

/** An HTTP request a platform makes to the gateway (the CCaaS adapter endpoints), body read. */
export interface PluginHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  remote: string;
}

/** Endpoints a platform serves on the gateway's HTTP port, under `prefix`. */
export interface PluginHttpRoutes {
  prefix: string;
  handle(req: PluginHttpRequest): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
}

export interface ContactCenterRuntime {
  readonly adapter: VendorAdapter;
  /** Endpoints the platform calls on the gateway's HTTP port. */
  readonly httpRoutes?: PluginHttpRoutes;
  /** The policy of one profile on this platform (keep-alive periods and the like come from it). */
  policy(cc: ContactCenterConfig): ContactCenterPolicy;
  readonly sandbox?: SandboxHandle;
  /**
   * The profiles' SIP sides are listening (by profile name): a platform whose agents' phones
   * register with it (Huawei AICC) sends REGISTER from the profile's own endpoint.
   */
  sipReady?(sip: Record<string, ProfileSip>): Promise<void>;
  /** The logon name a softphone token of this platform names (RFC 8898 Bearer on the SIP registrar); rejects when not valid. */
  verifySoftphoneToken?(token: string): Promise<string>;
  /** The gateway's HTTP side listens on `port` (a platform that calls the gateway registers its URLs now). */
  httpReady?(port: number): Promise<void>;
  close(): Promise<void>;
}

/** A profile's SIP endpoint and the address its Contact headers name. */
export interface ProfileSip {
  endpoint: SipEndpoint;
  host: string;
  port: number;
}

/** A durable journal of records not yet confirmed (src/store/outbox.ts behind it): on disk before put/done resolve. */
export interface Journal<T> {
  pending(): { id: string; step: T; createdAt: number }[];
  has(id: string): boolean;
  readonly size: number;
  put(id: string, record: T): Promise<void>;
  done(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface PluginContext {
  config: GatewayConfig;
  /** The profiles whose agents this platform drives (at least one). */
  profiles: SipProfile[];
  log: Logger;
  /** Open (replaying) a journal of the platform's own in the gateway's data directory. */
  openJournal?<T>(name: string): Promise<Journal<T>>;
}

export interface ContactCenterPlugin {
  /** The value of `contactCenter.vendor` that selects it. */
  readonly name: string;
  start(ctx: PluginContext): Promise<ContactCenterRuntime>;
  /**
   * The platform's sandbox alone (simulator and call placer), for `vagw sandbox`: run in a
   * process of its own, with the gateway pointed at its URL as at a remote platform.
   */
  startSandbox?(ctx: PluginContext): Promise<SandboxHandle>;
  /**
   * The platform's call ids in an INVITE, read even on a profile with no contact center: a
   * platform that routes calls to the gateway without an API integration still gets its ids to
   * the engine (`customParameters`).
   */
  idsFromInvite?(header: (name: string) => string | undefined): VendorCallIds;
}
