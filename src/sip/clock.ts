/** The stack's time source is the gateway's one Clock (src/util/clock.ts). */
export { FakeClock, realClock, sleep, type Clock, type TimerHandle } from '../util/clock.js';
