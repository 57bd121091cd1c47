// Public API of the configuration layer.
export type {
  AgentConfig,
  AgentInitialState,
  CodecName,
  EngineConfig,
  EngineFailurePolicy,
  GatewayConfig,
  LogLevel,
  NumberNormalization,
  SipProfile,
  Transport,
} from './types.js';
export { ConfigError, checkConfig, formatProblems, loadConfig, type ConfigProblem } from './load.js';
export { normalizeNumber } from './numbers.js';
export { resolveEngine, type EngineSpec } from './engines.js';
export { interpolate, interpolateString } from './interpolate.js';
