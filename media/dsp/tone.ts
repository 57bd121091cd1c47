/** Sine / dual-tone generator (continuous phase across calls), 16-bit linear output. */
export class ToneGenerator {
  private phase: number[];

  constructor(
    private readonly freqs: number[],
    private readonly sampleRate: number,
    /** Peak amplitude of the sum, in 16-bit units. */
    private readonly amplitude = 8000,
  ) {
    this.phase = freqs.map(() => 0);
  }

  next(n: number, out = new Int16Array(n)): Int16Array {
    const a = this.amplitude / this.freqs.length;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let f = 0; f < this.freqs.length; f++) {
        v += Math.sin(this.phase[f]!);
        this.phase[f]! += (2 * Math.PI * this.freqs[f]!) / this.sampleRate;
      }
      out[i] = Math.round(v * a);
    }
    for (let f = 0; f < this.phase.length; f++) this.phase[f]! %= 2 * Math.PI;
    return out;
  }
}

/** ITU-T Q.23 DTMF frequency pairs. */
export const DTMF_FREQS: Record<string, [number, number]> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};
