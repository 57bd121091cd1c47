/** LiveVox: the VendorAdapter, its REST client and the strict simulator (the sandbox). */
export { LiveVoxAdapter, DEFAULT_RECOGNIZERS, type LiveVoxAdapterOptions, type LiveVoxRecognizers } from './adapter.js';
export { LiveVoxClient, LiveVoxApiError, type LiveVoxClientOptions, type SetTermCodeInput, type TermCodeCategory, type UnofficialPaths } from './client.js';
export { startLiveVoxSimulator, SimError, type LiveVoxSimulator, type LiveVoxSimulatorOptions, type Faults, type CallInput, type CallRecord } from './simulator/index.js';
export { LvCode } from './wire.js';
