#!/usr/bin/env node
/**
 * The IETF's own torture messages, RFC 4475 (Sparks et al., May 2006), as test data: one file per
 * message, CRLF line ends, plus expectations.json with the outcome the RFC gives a UAS (the parser's
 * verdict and the answer on the wire). Transcribed from the RFC's text with its conventions
 * expanded (§2: <allOneLine> joined, <hex> bytes, <repeat>, CRLF line ends); the base64 archive of
 * §4 could not be retrieved on the machine this was written on, so the bytes follow the printed
 * text. A body whose printed Content-Length disagrees with the printed body is written with the
 * printed value only where the disagreement is the point of the test (clerr, ncl, mcl01); the
 * generator reports any other disagreement as a transcription error.
 *
 * Left out: 3.1.1.7 longreq and 3.1.1.11 mpart01 (multi-kilobyte and binary texts that could not
 * be transcribed reliably here), 3.1.1.12 unreason and 3.1.2.5 scalarlg (responses: nothing to
 * answer; the project corpus in ../rfc4475 covers their properties).
 *
 * wire: the final status the gateway must send (status), or null when the RFC's UAS answers
 * nothing (responses matching no transaction). "to" names where the answer goes (§18.2.2: the
 * source address with the Via's port, 5060 by default, or the source port when the Via is
 * unusable).
 */
import { writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = dirname(fileURLToPath(import.meta.url));
const CRLF = '\r\n';

const hex = (h) => Buffer.from(h, 'hex').toString('latin1');
const body = (ip) => ['v=0', `o=mhandley 29739 7272939 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', 'm=audio 49217 RTP/AVP 0 12', 'm=video 3227 RTP/AVP 31', 'a=rtpmap:31 LPC', ''].join(CRLF);

const out = {};
const problems = [];
/** `text`: header lines joined with \n (converted to CRLF); `b`: the body (already CRLF). */
function add(file, section, text, b, exp, opts = {}) {
  const head = text.replace(/\n/g, CRLF) + CRLF + CRLF;
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(b ?? '', 'latin1')]);
  const m = /\r\n(?:Content-Length|l)\s*:\s*(\d+)\r\n/i.exec(head);
  if (m && b !== undefined && Number(m[1]) !== Buffer.byteLength(b, 'latin1') && !opts.lengthIsTheTest) {
    problems.push(`${file}: Content-Length ${m[1]} but the body has ${Buffer.byteLength(b, 'latin1')} bytes`);
  }
  writeFileSync(join(DIR, file), bytes);
  out[file] = { section, ...exp };
}

for (const f of readdirSync(DIR)) if (f.endsWith('.sip')) unlinkSync(join(DIR, f));

// §3.1.1 valid messages
add('wsinv.sip', '3.1.1.1', `INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33`, body('192.0.2.3').replace('c=IN IP4 192.0.2.3', 'c=IN IP4 192.0.2.4'),
  { valid: true, wire: 481, note: 'well-formed; its To has a tag, so it is in-dialog and no such dialog exists: 481 (RFC 3261 §12.2.2)' });

add('intmeth.sip', '3.1.1.2', `!interesting-Method0123456789_*+\`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+\`'~
To: "BEL:\\${hex('07')} NUL:\\${hex('00')} DEL:\\${hex('7F')}" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
From: token1~\` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="${hex('D180D0B0D0B1D0BED182D0B0D18ED189D0B8D0B9')}";tag=_token~1'+\`*%!-.
Call-ID: intmeth.word%ZK-!.*_+'@word\`~)(><:\\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+\`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_\`'~:${hex('EFBBBFE5A4A7E5819CE99BBB')}
Content-Length: 0`, '', { valid: true, wire: 501, note: 'unknown method: an endpoint answers 501 with Allow' });

add('esc01.sip', '3.1.1.3', `INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150`, body('192.0.2.1'), { valid: true, wire: 404, note: 'escaped user parts; the user is not one of our agents' });

add('escnull.sip', '3.1.1.4', `REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0`, '', { valid: true, wire: 405, note: 'valid REGISTER; this UDP profile takes no registrations: 405 with Allow' });

add('esc02.sip', '3.1.1.5', `RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0`, '', { valid: true, wire: 501, note: '% is no escape in a method: RE%47IST%45R is an unknown method, 501' });

add('lwsdisp.sip', '3.1.1.6', `OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0`, '', { valid: true, wire: 200, note: 'no LWS between display name and <' });

add('dblreq.sip', '3.1.1.8', `REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0`, `INVITE sip:joe@example.com SIP/2.0${CRLF}t: sip:joe@example.com${CRLF}From: sip:caller@example.net;tag=141334${CRLF}Max-Forwards: 8${CRLF}Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15${CRLF}CSeq: 8 INVITE${CRLF}Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234${CRLF}Content-Type: application/sdp${CRLF}Content-Length: 150${CRLF}${CRLF}${body('192.0.2.15').replace('m=video', 'm =video')}`,
  { valid: true, wire: 405, note: 'the INVITE after Content-Length in the datagram is discarded; only the REGISTER is answered' }, { lengthIsTheTest: true });

add('semiuri.sip', '3.1.1.9', `OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0`, '', { valid: true, wire: 200, note: '";" in the user part' });

add('transports.sip', '3.1.1.10', `OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0`, '', { valid: true, wire: 200, note: 'unusual and unknown transports in Via' });

add('noreason.sip', '3.1.1.13', `SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0`, '', { valid: true, wire: null, note: 'a response with an empty reason phrase, matching no transaction: absorbed' });

// §3.1.2 invalid messages
add('badinv01.sip', '3.1.2.1', `INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp`, body('192.0.2.15'), { valid: false, status: 400, wire: 400, to: 'source', note: 'empty Via and Contact parameters: 400, sent to the source since the Via is unusable' });

add('clerr.sip', '3.1.2.2', `INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999`, body('192.0.2.155'), { valid: false, status: 400, wire: 400, note: 'Content-Length larger than the datagram' }, { lengthIsTheTest: true });

add('ncl.sip', '3.1.2.3', `INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999`, body('192.0.2.53'), { valid: false, status: 400, wire: 400, note: 'negative Content-Length' }, { lengthIsTheTest: true });

add('scalar02.sip', '3.1.2.4', `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1${'0'.repeat(100)}
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0`, '', { valid: false, status: 400, wire: 400, note: 'CSeq and Max-Forwards out of range' });

add('quotbal.sip', '3.1.2.6', `INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152`, body('192.0.2.15'), { valid: false, status: 400, wire: 400, to: 5050, note: 'unterminated quoted string in To; the Via names port 5050' });

add('ltgtruri.sip', '3.1.2.7', `INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150`, body('192.0.2.5'), { valid: false, status: 400, wire: 400, note: 'Request-URI in <>' });

add('lwsruri.sip', '3.1.2.8', `INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150`, body('192.0.2.1'), { valid: false, status: 400, wire: 400, note: 'whitespace inside the Request-URI' });

add('lwsstart.sip', '3.1.2.9', `INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150`, body('192.0.2.1'), { valid: false, status: 400, wire: 400, note: 'more than one SP between the request-line elements' });

add('trws.sip', '3.1.2.10', `OPTIONS sip:remote-target@example.com SIP/2.0  
Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0`, '', { valid: false, status: 400, wire: 400, note: 'whitespace after the SIP-Version' });

add('escruri.sip', '3.1.2.11', `INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150`, body('192.0.2.1'), { valid: false, status: 400, wire: 400, note: 'headers component in the Request-URI' });

add('baddate.sip', '3.1.2.12', `INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150`, body('192.0.2.5'), { valid: false, status: 400, wire: 400, note: 'Date not in GMT' });

add('regbadct.sip', '3.1.2.13', `REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0`, '', { valid: false, status: 400, wire: 400, note: 'addr-spec Contact with "?" must be in <>' });

add('badaspec.sip', '3.1.2.14', `OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0`, '', { valid: false, status: 400, wire: 400, note: 'whitespace inside <> around the URI' });

add('baddn.sip', '3.1.2.15', `OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0`, '', { valid: false, status: 400, wire: 400, note: 'unquoted display names with commas' });

add('badvers.sip', '3.1.2.16', `OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0`, '', { valid: false, status: 505, wire: 505, to: 'source', note: 'SIP/7.0: 505, sent to the source (a SIP/7.0 Via is not ours to read)' });

add('mismatch01.sip', '3.1.2.17', `OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0`, '', { valid: false, status: 400, wire: 400, note: 'CSeq method INVITE on an OPTIONS' });

add('mismatch02.sip', '3.1.2.18', `NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138`, ['v=0', 'o=mhandley 29739 7272939 IN IP4 192.0.2.1', 'c=IN IP4 192.0.2.1', 'm=audio 49217 RTP/AVP 0 12', 'm=video 3227 RTP/AVP 31', 'a=rtpmap:31 LPC', ''].join(CRLF),
  { valid: false, status: 501, wire: 501, note: 'unknown method with a CSeq naming INVITE: 501 preferred over 400' });

add('bigcode.sip', '3.1.2.19', `SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>`, '', { valid: false, status: 400, wire: null, note: 'status code out of range in a response: discarded' });

// §3.2 transaction layer
add('badbranch.sip', '3.2.1', `OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK
Accept: application/sdp
Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n
CSeq: 8 OPTIONS
l: 0`, '', { valid: false, status: 400, wire: 400, note: 'a branch that is only the magic cookie identifies no transaction' });

// §3.3 application layer
add('insuf.sip', '3.3.1', `INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 152`, body('192.0.2.95'), { valid: false, status: 400, wire: 400, note: 'no Call-ID, From, To or Max-Forwards: 400 copying what is there' });

add('unkscm.sip', '3.3.2', `OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0`, '', { valid: true, wire: 416, note: 'unknown Request-URI scheme: 416' });

add('novelsc.sip', '3.3.3', `OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0`, '', { valid: true, wire: 416, note: 'a novel Request-URI scheme: 416' });

add('unksm2.sip', '3.3.4', `REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0`, '', { valid: true, wire: 405, note: 'unknown schemes in To/From/Contact; no registrar on this profile: 405' });

add('bext01.sip', '3.3.5', `OPTIONS sip:user@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj
Require: nothingSupportsThis, nothingSupportsThisEither
Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis
CSeq: 8 OPTIONS
Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw
Content-Length: 0`, '', { valid: true, wire: 420, unsupported: 'nothingSupportsThis, nothingSupportsThisEither', note: 'unknown Require: 420 listing both in Unsupported' });

add('invut.sip', '3.3.6', `INVITE sip:user@example.com SIP/2.0
Contact: <sip:caller@host5.example.net>
To: sip:j.user@example.com
From: sip:caller@example.net;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d
CSeq: 235448 INVITE
Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw
Content-Type: application/unknownformat
Content-Length: 40`, '<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n', { valid: true, wire: 415, note: 'unknown body type: 415 with Accept' });

add('regaut01.sip', '3.3.7', `REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaut01.0ha0isndaksdj
CSeq: 9338 REGISTER
Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0`, '', { valid: true, wire: 405, note: 'unknown authorization scheme; no registrar on this profile: 405' });

add('multi01.sip', '3.3.8', `INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: 152
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5`, body('192.0.2.25'), { valid: false, status: 400, wire: 400, note: 'several values in single-valued fields' });

add('mcl01.sip', '3.3.9', `OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain`, "There's no way to know how many octets are supposed to be here.\r\n", { valid: false, status: 400, wire: 400, note: 'two different Content-Length values' }, { lengthIsTheTest: true });

add('bcast.sip', '3.3.10', `SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host28.example.com>`, body('192.0.2.198'), { valid: true, wire: null, note: 'a response (with a broadcast Via) matching no transaction: absorbed' });

add('zeromf.sip', '3.3.11', `OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
To: <sip:user@example.com>
From: <sip:caller@example.net>;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Content-Length: 0`, '', { valid: true, wire: 200, note: 'Max-Forwards 0 at the UAS it is addressed to: answered normally' });

add('cparam01.sip', '3.3.12', `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
Contact: sip:+19725552222@gw1.example.net;unknownparam
l: 0`, '', { valid: true, wire: 405, note: 'Contact parameter outside <>; no registrar here: 405' });

add('cparam02.sip', '3.3.13', `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=838293
To: sip:watson@example.com
Call-ID: cparam02.70710@saturn.example.com
CSeq: 3 REGISTER
Contact: <sip:+19725552222@gw1.example.net;unknownparam>
l: 0`, '', { valid: true, wire: 405, note: 'URI parameter inside <>; no registrar here: 405' });

add('regescrt.sip', '3.3.14', `REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
L:0`, '', { valid: true, wire: 405, note: 'escaped headers in a Contact URI; no registrar here: 405' });

add('sdp01.sip', '3.3.15', `INVITE sip:user@example.com SIP/2.0
To: sip:j_user@example.com
Contact: <sip:caller@host15.example.net>
From: sip:caller@example.net;tag=234
Max-Forwards: 5
Call-ID: sdp01.ndaksdj9342dasdd
Accept: text/nobodyKnowsThis
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Content-Length: 150
Content-Type: application/sdp`, body('192.0.2.5'), { valid: true, wire: 406, note: 'Accept excludes application/sdp, which our answer needs: 406' });

// §3.4 backward compatibility
add('inv2543.sip', '3.4.1', `INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp`, ['v=0', 'o=mhandley 29739 7272939 IN IP4 192.0.2.5', 's=-', 'c=IN IP4 192.0.2.5', 't=0 0', 'm=audio 49217 RTP/AVP 0', ''].join(CRLF),
  { valid: true, wire: 404, note: 'an RFC 2543 INVITE (no branch, no Max-Forwards, no Content-Length on UDP): processed; no agent UserB' });

writeFileSync(join(DIR, 'expectations.json'), JSON.stringify(out, null, 2) + '\n');
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`wrote ${Object.keys(out).length} messages`);
