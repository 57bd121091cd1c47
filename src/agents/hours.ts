/**
 * Open hours of a contact-center service in its own time zone. Virtual agents are logged in only
 * while the service is open (the platforms' rule: agents sign in for the service's hours); absent hours mean always open.
 */
import type { ContactCenterConfig } from '../config/types.js';

const DAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

function localParts(date: Date, timeZone: string): { day: (typeof DAY_KEYS)[number]; minutes: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(date).map((p) => [p.type, p.value]));
  const day = (parts['weekday'] ?? 'Sun').slice(0, 3).toLowerCase() as (typeof DAY_KEYS)[number];
  return { day, minutes: Number(parts['hour']) * 60 + Number(parts['minute']) };
}

/** Is the service open at `date`? Ranges are [start, end) in local time. */
export function isOpen(hours: ContactCenterConfig['openHours'], date: Date): boolean {
  if (!hours) return true;
  const { day, minutes } = localParts(date, hours.timeZone);
  const range = hours.weekly[day];
  if (!range || range === 'closed') return false;
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(range);
  if (!m) return false;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  return minutes >= start && minutes < end;
}
