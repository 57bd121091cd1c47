/**
 * Packet loss concealment by frame repetition: a lost 20 ms frame is replaced by the last good
 * one, 6 dB quieter for each consecutive loss, fading to silence after three. Cheap and good
 * enough for speech recognition, which mostly needs the gap not to be a hard dropout or a click.
 */

/** Consecutive losses that are still concealed; from the next one on we play silence. */
export const PLC_MAX_CONCEALED = 3;

/**
 * The replacement for one lost frame of `n` samples.
 * @param previous the last frame actually received (not a concealed one), or null
 * @param consecutiveLost how many frames in a row are lost, counting this one (1 = first loss)
 */
export function concealFrame(previous: Int16Array | null, consecutiveLost: number, n: number): Int16Array {
  const out = new Int16Array(n);
  if (!previous || previous.length === 0 || consecutiveLost > PLC_MAX_CONCEALED) return out;
  const gain = 0.5 ** Math.max(1, consecutiveLost); // -6 dB per loss
  // A previous frame of another size is repeated cyclically (or cut) to fill n samples.
  for (let i = 0; i < n; i++) out[i] = Math.round(previous[i % previous.length]! * gain);
  return out;
}
