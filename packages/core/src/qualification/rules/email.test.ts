import { describe, expect, it } from "vitest";
import { FailureType, reasons } from "../../failure.ts";
import type { ReasonCode } from "../../failure.ts";
import type { Rule } from "../types.ts";
import { emailRules } from "./email.ts";

/** The first rule that matches, as the engine tries them (substring, or regex with `iu`). */
function firstMatch(text: string): Rule | undefined {
  return emailRules.find((rule) =>
    rule.regex
      ? new RegExp(rule.pattern, "iu").test(text)
      : text.toLowerCase().includes(rule.pattern.toLowerCase())
  );
}

const { hard, soft, ignored } = FailureType;
type Expected = readonly [type: FailureType, reason: ReasonCode];
const USER_UNKNOWN: Expected = [hard, 1];
const INVALID_DOMAIN: Expected = [soft, 2];
const MAILBOX_FULL: Expected = [soft, 5];
const DISABLED: Expected = [soft, 4];
const CLOSED: Expected = [hard, 4];
const REFUSED: Expected = [soft, 20];
const RELAY: Expected = [soft, 3];
const LOOP: Expected = [soft, 3];
const DEFERRED: Expected = [ignored, 3];
/** Refused for the sender's sake (DOMAIN §10): the reason says refused, the type keeps it off the address. */
const SENDER_REFUSED: Expected = [ignored, 20];

const examples: ReadonlyArray<readonly [family: string, text: string, expected: Expected]> = [
  // --- user unknown, English (hard 1) -------------------------------------------------------
  [
    "postfix",
    "550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in virtual mailbox table",
    USER_UNKNOWN,
  ],
  [
    "postfix",
    "550 5.1.1 <jdoe@example.com>: Recipient address rejected: User unknown in local recipient table",
    USER_UNKNOWN,
  ],
  [
    "postfix misleading code",
    "550 5.7.1 <jdoe@example.fr>: Recipient address rejected: user unknown",
    USER_UNKNOWN,
  ],
  [
    "gmail",
    "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp",
    USER_UNKNOWN,
  ],
  [
    "gmail dsn",
    "5.1.1 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address",
    USER_UNKNOWN,
  ],
  [
    "microsoft",
    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    USER_UNKNOWN,
  ],
  ["microsoft", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", USER_UNKNOWN],
  [
    "microsoft edge blocking",
    "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM12FT045.eop-nam12.prod.protection.outlook.com]",
    USER_UNKNOWN,
  ],
  [
    "outlook.com",
    "550 Requested action not taken: mailbox unavailable (-2040932134:2734:-2147467259)",
    USER_UNKNOWN,
  ],
  ["gmx", "550 5.5.0 Requested action not taken: mailbox unavailable", USER_UNKNOWN],
  ["exchange 2003", "5.0.0 The recipient name is not recognized", USER_UNKNOWN],
  ["outlook ndr", "5.1.1 The email address you entered couldn't be found", USER_UNKNOWN],
  [
    "yahoo",
    "554 delivery error: dd This user doesn't have a yahoo.com account (jdoe@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com",
    USER_UNKNOWN,
  ],
  [
    "yahoo",
    "554 delivery error: dd Not a valid recipient - atlas-production.v2-mail-prod1-gq1.omega.yahoo.com",
    USER_UNKNOWN,
  ],
  ["aol", "550 5.1.1 <jdoe@aol.com>... User Unknown", USER_UNKNOWN],
  ["icloud", "550 5.1.1 <jdoe@icloud.com>: user does not exist", USER_UNKNOWN],
  ["icloud", "550 5.1.1 unknown or illegal alias: jdoe@icloud.com", USER_UNKNOWN],
  ["sendmail", "550 5.1.1 <jdoe@example.com>... User unknown", USER_UNKNOWN],
  ["exim", "550 Unknown user", USER_UNKNOWN],
  ["exim", "550 No such user here", USER_UNKNOWN],
  ["qmail", "550 Sorry, no mailbox here by that name. (#5.1.1)", USER_UNKNOWN],
  ["courier", "550 User <jdoe@example.com> unknown", USER_UNKNOWN],
  ["domino", "550 5.0.0 User jdoe (jdoe@example.com) not listed in Domino Directory", USER_UNKNOWN],
  ["domino", "5.0.0 User not listed in public Name & Address Book", USER_UNKNOWN],
  ["yandex", "550 5.7.1 No such user!", USER_UNKNOWN],
  [
    "mail.ru",
    "550 Message was not accepted -- invalid mailbox. Local mailbox jdoe@mail.ru is unavailable: user not found",
    USER_UNKNOWN,
  ],
  [
    "qq",
    "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
    USER_UNKNOWN,
  ],
  ["163", "550 User not found: jdoe@163.com", USER_UNKNOWN],
  ["facebook", "5.1.1 550 5.1.1 RCP-P1 Recipient address does not exist", USER_UNKNOWN],
  ["imail", "5.0.0 Invalid final delivery userid: jdoe@example.com", USER_UNKNOWN],
  [
    "amazon ses",
    "5.1.1 Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.",
    USER_UNKNOWN,
  ],
  ["moved", "550 5.1.6 recipient no longer on server: jdoe@example.gov", USER_UNKNOWN],
  ["moved", "551 5.1.6 Destination mailbox has moved, no forwarding address", USER_UNKNOWN],
  ["moved", "550 5.1.1 This address no longer accepts mail.", USER_UNKNOWN],
  // --- user unknown, other languages (hard 1) -----------------------------------------------
  [
    "orange fr",
    "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
    USER_UNKNOWN,
  ],
  ["fr", "550 5.1.1 <jdoe@example.fr>: utilisateur inconnu", USER_UNKNOWN],
  ["fr", "550 Destinataire inconnu", USER_UNKNOWN],
  ["fr", "550 Cette adresse e-mail n'existe pas", USER_UNKNOWN],
  ["de", "550 5.1.1 Benutzer unbekannt", USER_UNKNOWN],
  ["de", "550 Empfänger unbekannt: jdoe@example.de", USER_UNKNOWN],
  ["de", "550 Postfach existiert nicht", USER_UNKNOWN],
  ["es", "550 5.1.1 Usuario desconocido", USER_UNKNOWN],
  ["es", "550 El usuario no existe", USER_UNKNOWN],
  ["it", "550 5.1.1 Utente sconosciuto", USER_UNKNOWN],
  ["it", "550 Casella di posta inesistente", USER_UNKNOWN],
  ["pt", "550 5.1.1 Usuário desconhecido", USER_UNKNOWN],
  ["pt", "550 Destinatário inexistente", USER_UNKNOWN],
  ["nl", "550 5.1.1 Gebruiker onbekend", USER_UNKNOWN],
  ["nl", "550 Onbekende gebruiker", USER_UNKNOWN],
  ["ru", "550 5.1.1 Пользователь не найден", USER_UNKNOWN],
  ["ru", "550 Нет такого пользователя", USER_UNKNOWN],
  ["ja", "550 宛先不明", USER_UNKNOWN],
  ["ja", "550 5.1.1 指定されたユーザーが存在しません", USER_UNKNOWN],
  ["zh", "550 用户不存在", USER_UNKNOWN],
  ["zh", "550 收件人地址不存在", USER_UNKNOWN],
  // --- domain (soft 2) -----------------------------------------------------------------------
  ["postfix", "550 5.4.4 Host or domain name not found", INVALID_DOMAIN],
  [
    "postfix dsn",
    "5.4.4 Host or domain name not found. Name service error for name=example.invalid type=A: Host not found",
    INVALID_DOMAIN,
  ],
  [
    "postfix",
    "550 5.1.2 <jdoe@example.invalid>: Recipient address rejected: Domain not found",
    INVALID_DOMAIN,
  ],
  [
    "postfix 450",
    "450 4.1.2 <jdoe@example.invalid>: Recipient address rejected: Domain not found",
    INVALID_DOMAIN,
  ],
  [
    "gmail",
    "553 5.1.2 We weren't able to find the recipient domain. Please check for any spelling errors",
    INVALID_DOMAIN,
  ],
  [
    "gmail dns",
    "4.0.0 DNS Error: 80480947 DNS type 'mx' lookup of example.org responded with code NXDOMAIN Domain name not found: example.org",
    INVALID_DOMAIN,
  ],
  [
    "gmail null mx",
    "4.0.0 DNS Error: 2427 DNS type 'mx' lookup of example.org responded with code NOERROR The domain example.org doesn't receive email according to the administrator: returned Null MX",
    INVALID_DOMAIN,
  ],
  [
    "null mx",
    "556 5.1.10 <jdoe@example.com>: Recipient address rejected: Domain example.com does not accept mail (nullMX)",
    INVALID_DOMAIN,
  ],
  [
    "sendmail",
    "550 5.1.2 <jdoe@example.invalid>... Host unknown (Name server: example.invalid: host not found)",
    INVALID_DOMAIN,
  ],
  ["qmail", "Sorry, I couldn't find any host named example.invalid. (#5.1.2)", INVALID_DOMAIN],
  ["exim", "550 Unrouteable address", INVALID_DOMAIN],
  ["courier", "5.0.0 unknown; No such domain.", INVALID_DOMAIN],
  [
    "outlook",
    "554 The mail could not be delivered to the recipient because the domain is not reachable. Please check the domain and try again",
    INVALID_DOMAIN,
  ],
  ["exchange", "554 5.4.310 DNS domain example.invalid does not exist", INVALID_DOMAIN],
  ["yahoo", "No mx record found for domain=example.invalid", INVALID_DOMAIN],
  ["fr", "550 Domaine inconnu", INVALID_DOMAIN],
  ["es", "550 Dominio inexistente", INVALID_DOMAIN],
  ["zh", "550 收件人域名不存在", INVALID_DOMAIN],
  ["net", "NET ENOTFOUND getaddrinfo ENOTFOUND mx.example.invalid", INVALID_DOMAIN],
  ["net", "NET ENODATA queryMx ENODATA example.com", INVALID_DOMAIN],
  ["net", "NET NXDOMAIN example.invalid", INVALID_DOMAIN],
  // --- mailbox full (soft 5) -----------------------------------------------------------------
  ["gmail 452", "452 4.2.2 The email account that you tried to reach is over quota", MAILBOX_FULL],
  [
    "gmail 552",
    "552 5.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm",
    MAILBOX_FULL,
  ],
  [
    "gmail",
    "452 4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp",
    MAILBOX_FULL,
  ],
  ["icloud", "552 5.2.2 <jdoe@icloud.com>: user is over quota", MAILBOX_FULL],
  [
    "exchange",
    "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
    MAILBOX_FULL,
  ],
  ["rfc 5321", "552 Requested mail action aborted: exceeded storage allocation", MAILBOX_FULL],
  ["yandex", "552 5.2.2 Mailbox size limit exceeded", MAILBOX_FULL],
  ["free", "552 5.2.2 Quota exceeded (mailbox for user is full)", MAILBOX_FULL],
  ["qmail", "552 The users mailfolder is over the allowed quota (size). (#5.2.2)", MAILBOX_FULL],
  ["exim", "550 Mailbox quota exceeded", MAILBOX_FULL],
  [
    "amazon ses",
    "5.0.0 (permanent failure) 5.1.0 - Unknown address error 550-'5.2.2 <jdoe@example.jp>... Mailbox Full'",
    MAILBOX_FULL,
  ],
  [
    "orange misleading code",
    "552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]",
    MAILBOX_FULL,
  ],
  ["fr", "552 5.2.2 Boîte aux lettres pleine", MAILBOX_FULL],
  ["de", "552 5.2.2 Postfach voll", MAILBOX_FULL],
  ["de", "552 Das Postfach des Empfängers ist voll", MAILBOX_FULL],
  ["es", "552 Buzón lleno", MAILBOX_FULL],
  ["it", "552 Casella piena", MAILBOX_FULL],
  ["pt", "552 Caixa postal cheia", MAILBOX_FULL],
  ["nl", "552 Mailbox vol", MAILBOX_FULL],
  ["ru", "552 Почтовый ящик переполнен", MAILBOX_FULL],
  ["ja", "552 メールボックスの容量オーバー", MAILBOX_FULL],
  ["zh", "552 邮箱已满", MAILBOX_FULL],
  // --- account disabled (soft 4) / closed (hard 4) -------------------------------------------
  [
    "gmail",
    "550 5.2.1 The email account that you tried to reach is disabled. Learn more at https://support.google.com/mail/?p=DisabledUser",
    DISABLED,
  ],
  ["gmail", "550 5.2.1 The email account that you tried to reach is inactive.", DISABLED],
  [
    "yahoo",
    "554 delivery error: dd Sorry your message to jdoe@yahoo.com cannot be delivered. This account has been disabled or discontinued [#102].",
    DISABLED,
  ],
  [
    "mail.ru",
    "550 Message was not accepted -- invalid mailbox. Local mailbox jdoe@mail.ru is unavailable: account is disabled",
    DISABLED,
  ],
  ["sendmail", "550 5.2.1 <jdoe@example.com>... Mailbox disabled for this recipient", DISABLED],
  ["vpopmail", "550 vdelivermail: account is locked email bounced", DISABLED],
  ["temporarily", "550 5.2.1 Mailbox temporarily disabled", DISABLED],
  ["fr", "550 Compte désactivé", DISABLED],
  ["de", "550 Konto gesperrt", DISABLED],
  ["es", "550 Cuenta suspendida", DISABLED],
  ["it", "550 Casella disattivata", DISABLED],
  ["pt", "550 Conta desativada", DISABLED],
  ["ru", "550 Учетная запись заблокирована", DISABLED],
  ["zh", "550 该邮箱已被冻结", DISABLED],
  ["closed", "550 5.2.1 This account has been permanently closed", CLOSED],
  ["closed", "550 5.1.1 Mailbox has been deleted", CLOSED],
  ["closed fr", "550 Ce compte a été supprimé", CLOSED],
  // --- refused (soft 20) ---------------------------------------------------------------------
  [
    "spamhaus",
    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1",
    SENDER_REFUSED,
  ],
  [
    "outlook block list",
    "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
    SENDER_REFUSED,
  ],
  ["microsoft", "550 5.7.606 Access denied, banned sending IP [192.0.2.1].", SENDER_REFUSED],
  ["barracuda", "554 5.7.1 Message content rejected, UBE, id=00000-22-225", REFUSED],
  [
    "gmail spam",
    "550 5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail.",
    REFUSED,
  ],
  ["spam plain", "554 5.7.1 spam detected", REFUSED],
  ["yandex spam", "554 5.7.1 [2] Message rejected under suspicion of SPAM", REFUSED],
  [
    "mail.ru spam",
    "550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=abc",
    REFUSED,
  ],
  [
    "icloud policy",
    "554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
    REFUSED,
  ],
  [
    "yahoo policy",
    "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes",
    REFUSED,
  ],
  [
    "yahoo tss09",
    "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.",
    SENDER_REFUSED,
  ],
  [
    "gmail auth",
    "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
    SENDER_REFUSED,
  ],
  [
    "dmarc",
    "550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.",
    SENDER_REFUSED,
  ],
  ["qq dmarc", "550 DMARC check failed.", SENDER_REFUSED],
  [
    "gmail ptr",
    "550 5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup, or the corresponding forward DNS entry does not point to the sending IP.",
    SENDER_REFUSED,
  ],
  [
    "postfix ptr",
    "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
    SENDER_REFUSED,
  ],
  ["size", "552 5.3.4 Message size exceeds fixed limit", REFUSED],
  ["gmail size", "552 5.2.3 Your message exceeded Google's message size limits.", REFUSED],
  [
    "gmail rfc",
    "550 5.7.1 This message is not RFC 5322 compliant. There are multiple Subject headers.",
    REFUSED,
  ],
  ["virus", "550 5.7.0 Virus detected; Content Rejected", REFUSED],
  [
    "gmail security",
    "552 5.7.0 This message was blocked because its content presents a potential security issue.",
    REFUSED,
  ],
  ["sender", "501 5.1.8 Sender address rejected: Domain not found", SENDER_REFUSED],
  [
    "sender",
    "553 5.1.8 <bounce@example.com>... Domain of sender address bounce@example.com does not exist",
    SENDER_REFUSED,
  ],
  [
    "sender",
    "550 5.7.1 Sender address rejected: User unknown in local recipient table",
    SENDER_REFUSED,
  ],
  ["cox", "550 5.1.0 <bounce@example.com> sender rejected. AUP#CDRBL", SENDER_REFUSED],
  ["orange", "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]", REFUSED],
  [
    "orange",
    "550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102",
    SENDER_REFUSED,
  ],
  [
    "orange 5xx",
    "550 5.5.0 Service refuse. Veuillez essayer plus tard. service refused, please try later. LPN001_108",
    SENDER_REFUSED,
  ],
  ["facebook", "550 5.1.1 RCP-P2 Refused due to recipient preferences", REFUSED],
  ["kddi filter", "550 : User unknown", REFUSED],
  [
    "gmx ptr",
    "550 Requested action not taken: mailbox unavailable (invalid DNS PTR resource record)",
    SENDER_REFUSED,
  ],
  ["de", "554 Transaction failed: Nachricht wurde abgelehnt", REFUSED],
  ["es", "550 Mensaje rechazado", REFUSED],
  ["zh spam", "554 发送的邮件被判定为垃圾邮件", REFUSED],
  ["zh", "550 您的邮件被拒绝", REFUSED],
  ["ja", "550 受信拒否されました", REFUSED],
  ["access denied", "550 5.7.1 Access denied", REFUSED],
  // --- relaying and loops (soft 3) -----------------------------------------------------------
  ["postfix relay", "554 5.7.1 <jdoe@example.com>: Relay access denied", RELAY],
  ["sendmail relay", "550 5.7.1 <jdoe@example.com>... Relaying denied", RELAY],
  [
    "qmail rcpthosts",
    "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
    RELAY,
  ],
  ["exchange loop", "554 5.4.14 Hop count exceeded - possible mail loop ATTR34", LOOP],
  [
    "qmail loop",
    "553 5.4.6 This message is looping: it already has my Delivered-To line. (#5.4.6)",
    LOOP,
  ],
  // --- deferrals, connection, expiry (ignored 3) ---------------------------------------------
  ["421", "421 4.7.0 Try again later, closing connection", DEFERRED],
  [
    "gmail rate",
    "421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail originating from your IP address.",
    DEFERRED,
  ],
  [
    "yahoo tss04",
    "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
    SENDER_REFUSED,
  ],
  [
    "outlook rp-001",
    "421 RP-001 (BAY004-MC1F41) Unfortunately, some messages from 192.0.2.1 weren't sent. Please try again.",
    SENDER_REFUSED,
  ],
  [
    "orange 421",
    "421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]",
    SENDER_REFUSED,
  ],
  ["greylisting", "451 4.7.1 Greylisting in action, please come back later", DEFERRED],
  [
    "postgrey",
    "450 4.2.0 <jdoe@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
    DEFERRED,
  ],
  [
    "microsoft busy",
    "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)",
    DEFERRED,
  ],
  ["exim", "451 Temporary local problem - please try later", DEFERRED],
  ["temporary failure", "451 Temporary failure, please try again later", DEFERRED],
  ["too many connections", "452 4.5.3 Too many recipients", DEFERRED],
  ["too many connections", "554 Too many connections from your IP", DEFERRED],
  ["qq rate", "550 Ip frequency limited [Blocked IP 192.0.2.22]", DEFERRED],
  ["sending quota", "550 5.4.5 Daily user sending quota exceeded.", DEFERRED],
  [
    "gmail receiving rate",
    "550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.",
    DEFERRED,
  ],
  [
    "gmail too quickly",
    "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.",
    DEFERRED,
  ],
  [
    "postfix timeout",
    "4.4.1 connect to mx.example.com[192.0.2.1]:25: Connection timed out",
    DEFERRED,
  ],
  [
    "postfix refused",
    "4.4.1 connect to mx.example.com[192.0.2.1]:25: Connection refused",
    DEFERRED,
  ],
  [
    "postfix lost",
    "4.4.2 lost connection with mx.example.com[192.0.2.1] while receiving the initial server greeting",
    DEFERRED,
  ],
  [
    "gmail connect",
    "4.4.1 The recipient server did not accept our requests to connect. Learn more at https://support.google.com/mail/answer/7720 [mx.example.com 192.0.2.1: timed out]",
    DEFERRED,
  ],
  ["qmail connect", "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)", DEFERRED],
  [
    "sendmail deferred",
    "421 example.com (smtp)... Deferred: Connection timed out during user open with example.com",
    DEFERRED,
  ],
  [
    "ses expired",
    "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>",
    DEFERRED,
  ],
  ["exim expired", "5.0.0 retry timeout exceeded", DEFERRED],
  ["sendmail expired", "5.4.7 Message could not be delivered for 5 days", DEFERRED],
  ["too many invalid", "550 5.5.3 Too many invalid recipients", DEFERRED],
  ["relay auth", "535 5.7.8 Error: authentication failed: authentication failure", DEFERRED],
  ["relay auth", "530 5.7.0 Authentication required", DEFERRED],
  ["relay auth", "535 Authentication credentials invalid", DEFERRED],
  ["tls", "4.7.5 TLS is required, but was not offered by host mx.example.com", DEFERRED],
  ["starttls", "530 5.7.0 Must issue a STARTTLS command first", DEFERRED],
  [
    "dns temporary",
    "4.4.3 Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again",
    DEFERRED,
  ],
  [
    "4xx user unknown",
    "450 4.1.1 <jdoe@example.com>: Recipient address rejected: User unknown in local recipient table",
    DEFERRED,
  ],
  [
    "4xx policy",
    "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]",
    SENDER_REFUSED,
  ],
  ["system storage", "452 4.3.1 Insufficient system storage", DEFERRED],
  [
    "ses unverified",
    "554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bounce@example.com",
    DEFERRED,
  ],
  ["fr", "451 Veuillez réessayer plus tard", DEFERRED],
  ["de", "451 Bitte versuchen Sie es später erneut", DEFERRED],
  ["es", "451 Inténtelo más tarde", DEFERRED],
  ["it", "451 Riprovare più tardi", DEFERRED],
  ["ru", "451 Попробуйте позже", DEFERRED],
  ["zh", "451 系统繁忙，请稍后再试", DEFERRED],
  ["net", "NET ETIMEDOUT connect ETIMEDOUT 192.0.2.1:25", DEFERRED],
  ["net", "NET ECONNREFUSED connect ECONNREFUSED 192.0.2.1:25", DEFERRED],
  ["net", "NET ECONNRESET read ECONNRESET", DEFERRED],
  ["net", "NET EAI_AGAIN getaddrinfo EAI_AGAIN mx.example.com", DEFERRED],
  [
    "net tls",
    "NET ERR_TLS_CERT_ALTNAME_INVALID Hostname/IP does not match certificate's altnames",
    DEFERRED,
  ],
  [
    "net tls",
    "NET ESOCKET 140000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number",
    DEFERRED,
  ],
];

describe("emailRules", () => {
  it.each(examples)("%s: %s", (_family, text, [type, reason]) => {
    const rule = firstMatch(text);
    expect(rule, `no rule matched ${text}`).toBeDefined();
    expect({ id: rule!.id, type: rule!.type, reason: rule!.reason }).toEqual({
      id: rule!.id,
      type,
      reason,
    });
  });

  it("leaves texts that say nothing specific to the code fallback", () => {
    for (
      const text of [
        "550 5.0.0 Rejected",
        "554 Transaction failed",
        "503 5.5.1 Bad sequence of commands",
      ]
    ) {
      expect(firstMatch(text)?.id, text).toBeUndefined();
    }
  });

  it("has unique kebab-case ids prefixed email-", () => {
    const ids = emailRules.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^email-[a-z0-9]+(?:-[a-z0-9]+)*$/u);
  });

  it("has valid rules: channel, note, regex compiling with iu, allowed (type, reason)", () => {
    for (const rule of emailRules) {
      expect(rule.channel).toBe("email");
      expect(rule.note?.length ?? 0, rule.id).toBeGreaterThan(0);
      if (rule.regex) expect(() => new RegExp(rule.pattern, "iu"), rule.id).not.toThrow();
      expect(reasons[rule.reason].types, rule.id).toContain(rule.type);
      if (rule.retry === "never") expect(rule.type, rule.id).toBe(hard);
    }
  });

  it("matches long texts quickly (no catastrophic backtracking)", () => {
    const long = [
      "550 " + "user account mailbox ".repeat(2000),
      "550 " + "a".repeat(50_000),
      "550 " + "sender <".repeat(2000),
      "550 " + "domain host ".repeat(3000) + "try",
      "550 " + "пользователь ящик ".repeat(2000),
    ];
    const start = performance.now();
    for (const text of long) firstMatch(text);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
