/** Messages between the main thread and a media worker (structured-clone friendly). */
import type { LiveMediaStats, MediaEndReason, MediaParams, MediaSessionStats, MediaSettings, OpenRequest, WebRtcSignal } from '../types.js';
import type { EngineControl } from '../engine/types.js';

export const LOAD_REPORT_MS = 500;

export interface WorkerInit {
  index: number;
  host: string;
  portMin: number;
  portMax: number;
  settings: MediaSettings;
}

export type ToWorker =
  | { op: 'open'; req: OpenRequest }
  | { op: 'update'; callId: string; params: MediaParams }
  | { op: 'start'; callId: string; custom?: Record<string, string> }
  | { op: 'dtmf'; callId: string; digit: string }
  | { op: 'event'; callId: string; name: string; data: Record<string, unknown> }
  | { op: 'engine-error'; callId: string; code: string; message: string }
  | { op: 'hold'; callId: string; on: boolean; kind?: 'hold' | 'mute' }
  | { op: 'dtmf-out'; callId: string; digits: string }
  | { op: 'close'; callId: string; reason: string }
  /** WebRTC engines: the far end's answer, candidates or failure. */
  | { op: 'signal'; callId: string; signal: WebRtcSignal }
  | { op: 'stats'; reqId: number }
  | { op: 'live'; reqId: number };

export interface WorkerStats {
  sessions: number;
  portsInUse: number;
  portsFree: number;
  pacerTicks: number;
  pacerSkipped: number;
  /** Pacer lateness histogram since the last stats request (Pacer LATENESS_BUCKET_MS buckets). */
  lateness: Uint32Array;
  heapUsed: number;
  rss: number;
}

export type FromWorker =
  | { op: 'ready' }
  | { op: 'opened'; callId: string; port: number }
  | { op: 'open-failed'; callId: string; error: string }
  | { op: 'ended'; callId: string; reason: MediaEndReason; detail?: string }
  | { op: 'control'; callId: string; control: EngineControl }
  | { op: 'dtmf'; callId: string; digit: string }
  | { op: 'notice'; callId: string; text: string }
  | { op: 'closed'; callId: string; stats: MediaSessionStats }
  /** WebRTC engines: our offer for the far end. */
  | { op: 'signal'; callId: string; signal: WebRtcSignal }
  | { op: 'stats'; reqId: number; stats: WorkerStats }
  | { op: 'live'; reqId: number; calls: LiveMediaStats[] }
  /** Every LOAD_REPORT_MS: the worst pacer lateness in that window (the gateway's overload signal). */
  | { op: 'load'; maxLateMs: number }
  /** A fault contained inside the worker (src/util/faults.ts), counted and logged by the main thread. */
  | { op: 'fault'; where: string; callId?: string; message: string; stack?: string };
