import type { SipProfile } from '../config/types.js';
import type { SipEndpoint } from '../sip/endpoint.js';
import type { UserAgent } from '../sip/ua.js';
import type { trustedList } from './admission.js';

/** A profile as the call layer runs it: its SIP endpoint and UA, and its trusted sources. */
export interface ProfileRuntime {
  profile: SipProfile;
  endpoint: SipEndpoint;
  ua: UserAgent;
  trusted: ReturnType<typeof trustedList>;
}
