/**
 * Shipped default qualification rules for the email channel (DOMAIN §6 and §10).
 *
 * Each pattern is a JavaScript regular expression source, compiled with the flags `iu`, matched
 * against the canonical text of a failure:
 *
 *   SMTP reply   `550 5.1.1 <a@b.example>: Recipient address rejected: User unknown …`
 *   DSN          `5.2.2 552 5.2.2 The email account that you tried to reach is over quota`
 *   network      `NET ETIMEDOUT connect ETIMEDOUT 192.0.2.1:25`
 *
 * The first rule that matches wins, so specific families come before generic ones. Rules exist
 * for the phrasing: when none matches, the engine falls back to the enhanced status code
 * (RFC 3463), then to the basic code class. The principle is "only what is the address's fault
 * counts against the address": provider-side and connection-side trouble is type ignored.
 *
 * Conventions used below:
 * - `^(?!4)`: not for a 4xx reply or a 4.x.x DSN status (the server says it is temporary), so such
 *   texts fall through to the deferral rules and are never counted as hard or refused.
 * - `NOT_TEMPORARY`: a text that says "temporarily" (in any language we know) is never hard.
 * - Words in other scripts or with accents cannot use `\b` (ASCII only): `(?<!\p{L})` is used
 *   instead where a word boundary matters.
 *
 * Pure data, no imports beyond types and constants: the package also runs on Deno.
 */
import type { RetryMode, Rule } from "../types.ts";
import { FailureType, Reason } from "../../failure.ts";
import type { ReasonCode } from "../../failure.ts";

const { hard, soft, ignored } = FailureType;

function rule(
  id: string,
  type: FailureType,
  reason: ReasonCode,
  note: string,
  pattern: string,
): Rule {
  const retry: RetryMode = type === hard ? "never" : "schedule";
  return { id, channel: "email", pattern, regex: true, type, reason, retry, note };
}

/** Not a 4xx reply nor a 4.x.x DSN status. */
const NOT_4XX = String.raw`^(?!4)`;
/** The text does not say the condition is temporary. */
const NOT_TEMPORARY = String
  .raw`(?!.*(?:temporar|temporair|temporalmente|temporaneamente|vorübergehend|voruebergehend|tijdelijk|временн|一時的|暂时|暫時))`;
/** Mentions of a refusal (policy, reputation, DNS of the sender) that make a vague text no proof the mailbox is missing. */
const NOT_REFUSAL = String
  .raw`(?!.*\b(?:PTR|reverse DNS|rDNS|spam|black ?list(?:ed)?|block ?list(?:ed)?|blocked|polic(?:y|ies)|reputation|DNSBL|RBL)\b)`;
/** The text is not about the sender, the client host or HELO (our side of the session). */
const NOT_SENDER = String.raw`^(?!.*\b(?:sender|mail from|helo|ehlo|client host)\b)`;
/** Start of a hard rule: final, not temporary. */
const HARD = NOT_4XX + NOT_TEMPORARY;

export const emailRules: readonly Rule[] = [
  // ---------------------------------------------------------------------------------------------
  // Network errors before any SMTP reply (`NET <code> <text>`).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-net-domain-not-found",
    soft,
    Reason.invalidDomain,
    "Network: the recipient domain does not resolve or has a null MX (ENOTFOUND, ENODATA, NXDOMAIN)",
    String
      .raw`^NET (?:(?:ENOTFOUND|ENODATA|ENONAME|NXDOMAIN|ENULLMX|ENOMX|NO_?MX)\b|.*\b(?:NXDOMAIN|null MX|no MX records?|domain (?:name )?(?:not found|does not exist))\b)`,
  ),
  rule(
    "email-net-transient",
    ignored,
    Reason.unreachable,
    "Network: timeout, refused or dropped connection, temporary DNS failure",
    String
      .raw`^NET (?:E(?:TIMEDOUT|TIMEOUT|CONNREFUSED|CONNRESET|CONNABORTED|HOSTUNREACH|HOSTDOWN|NETUNREACH|NETDOWN|PIPE|AI_AGAIN|AI_FAIL|SERVFAIL|REFUSED|CANCELLED|PROTO|SOCKET|CONNECTION|AUTH|ENVELOPE|MESSAGE|STREAM)|ESOCKETTIMEDOUT|ERR_SOCKET\w*)\b`,
  ),
  rule(
    "email-net-tls",
    ignored,
    Reason.unreachable,
    "Network: TLS negotiation or certificate failure",
    String
      .raw`^NET (?:(?:ERR_(?:TLS|SSL)\w*|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)\b|.*\b(?:TLS|SSL|STARTTLS|certificate|handshake)\b)`,
  ),

  rule(
    "email-smtp-auth",
    ignored,
    Reason.unreachable,
    "SMTP AUTH or STARTTLS required/failed (530, 534, 535, 5.7.8): our relay credentials or TLS, never the recipient's",
    String.raw`^(?:53[045][ -]|5\.7\.8\b|\d{3}[ -]5\.7\.8\b)`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Refusals about the sender, 4xx or 5xx (DOMAIN §10): our IP or domain on a blocklist, bad
  // reputation, sender authentication (SPF, DKIM, DMARC), PTR. Ignored 20: the reason says it was
  // refused, the type keeps it off the address's counter. Before the 421 / 4.7.x deferrals, which
  // would call them unreachable.
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-blocklist",
    ignored,
    Reason.refused,
    "IP or domain on a blocklist / bad reputation (Spamhaus, Barracuda, SpamCop, SORBS, Cloudmark, Proofpoint, Outlook S3150/SC-00x, Microsoft 5.7.606)",
    String
      .raw`^(?!.*\b(?:content|attachments?|virus|malware)\b).*?(?:\b(?:block ?list(?:ed)?|black ?list(?:ed)?|deny ?list(?:ed)?|DNSBL|RBL|Spamhaus|SpamCop|Barracuda|SORBS|UCEPROTECT|Mailspike|Invaluement|Cloudmark|Proofpoint|Trend ?Micro|SURBL|URIBL|abuseat|reputation|banned sending IP|invalid IP|blocked (?:using|by|for|because|due)|IP (?:address )?(?:is )?(?:blocked|banned|blacklisted|listed)|messages from \S+ weren't sent|permanently deferred|user complaints)\b|(?<!\p{L})(?:Adresse IP source bloqu[ée]e|liste noire|schwarze(?:n)? Liste|lista negra|lista nera|черн(?:ый|ом) списк))`,
  ),
  rule(
    "email-authentication",
    ignored,
    Reason.refused,
    "Authentication failure: DMARC, SPF, DKIM, unauthenticated sender, not authorized (Gmail 5.7.26, Yahoo 5.7.9, Microsoft 5.7.509/AuthRequired, Mail.ru, QQ)",
    String
      .raw`(?:\b(?:DMARC|SPF|DKIM|unauthenticated|authentication (?:required|failed|failure|checks? failed|results)|not authenticated|AuthRequired|SenderNotAuthenticated\w*|NotAuthorized|not authori[sz]ed)\b|(?<![\d.])5\.7\.(?:2[3-9]|509|510|511|512|513|515)(?![\d.]))`,
  ),
  rule(
    "email-ptr-required",
    ignored,
    Reason.refused,
    "Reverse DNS / PTR of the sending IP required (Gmail 5.7.25, Postfix 'cannot find your hostname', MagicMail, Outlook 'mismatches client ip')",
    String
      .raw`\b(?:PTR|reverse DNS|rDNS|reverse (?:lookup|hostname|DNS lookup|mapping|validation|check)|cannot find your (?:reverse )?hostname|IP name lookup failed|invalid RDNS|no reverse|mismatch(?:es)? client ip|FCrDNS|generic (?:hostname|rDNS|PTR)|dynamic (?:IP|address|pool)|residential)\b`,
  ),
  rule(
    "email-orange-service-refused",
    ignored,
    Reason.refused,
    "Orange/La Poste 5xx 'Service refusé' (reputation block; the 421 form is caught as a deferral)",
    String.raw`(?<!\p{L})service refus[ée](?!\p{L})`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Deferrals announced by the code itself: 421 (service closing) and 4.7.x (policy deferral).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-deferral-421-or-4-7",
    ignored,
    Reason.unreachable,
    "421 or 4.7.x: throttling, reputation or policy deferral (Gmail, Yahoo TSS04, Outlook RP-00x, Orange)",
    String.raw`^(?:421[ -]|4\d\d[ -]4\.7\.\d{1,3}\b|4\.7\.\d{1,3}\b)`,
  ),

  // ---------------------------------------------------------------------------------------------
  // About the sender, our account or our sending rate: never the recipient address's fault.
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-sender-rejected",
    ignored,
    Reason.refused,
    "Sender, client host or HELO rejected; sender verification; x.1.7/x.1.8 sender codes (Postfix, Exim, Cox, Spectrum, Yahoo)",
    NOT_4XX +
      String
        .raw`.*?(?:\b(?:sender(?: address| domain| account)?|envelope[- ]sender|mail from(?: address)?|from address|return[- ]path|client host|helo(?: command)?|ehlo(?: command)?)\s*(?:<[^<>]{0,320}>\s*)?(?:is\s+|was\s+|has been\s+)?(?:rejected|refused|denied|blocked|disabled|suspended|blacklisted|not (?:allowed|accepted|permitted|authori[sz]ed))\b|\bsender (?:verify|verification|validation|callout) failed\b|\b(?:domain of sender address|sender domain)\b.{0,60}?\b(?:does not exist|not found|must resolve|invalid)\b|(?<![\d.])5\.1\.[78](?![\d.]))`,
  ),
  rule(
    "email-own-account",
    ignored,
    Reason.unreachable,
    "Our sending account or identity (Amazon SES unverified identity, suspended sending account)",
    String
      .raw`\b(?:email address is not verified|identities failed the check|sending (?:is )?paused|your (?:sending |email |user )?account (?:has been |is )?(?:suspended|disabled|blocked|paused|locked|limited))\b`,
  ),
  rule(
    "email-rate-limit",
    ignored,
    Reason.unreachable,
    "Rate limiting of our sending (rate limited, throttled, frequency limited, sending/relay quota)",
    String
      .raw`\b(?:rate[- ]limit(?:ed|ing)?|frequency limit(?:ed)?|throttl(?:ed|ing)|slow down|unexpected volume|ThresholdExceeded|(?:sending|send|relay|outbound|daily|hourly|message|recipient|receiv(?:e|ing)|connection) (?:rate|quota|limit)s? (?:(?:has been |was |is )?(?:exceeded|reached)|limit(?:ed)?)|(?:reached|exceeded|over) (?:your |the |its |our )?(?:daily |hourly |maximum )?(?:sending|relay|send|message|connection|recipient) (?:rate|quota|limit)|(?:sending|receiving|send) rate)\b`,
  ),
  rule(
    "email-too-many",
    ignored,
    Reason.unreachable,
    "Too many connections, sessions or recipients (all MTAs)",
    String
      .raw`\btoo many (?:(?:invalid|unknown|bad|failed|rejected) (?:recipients|addresses|RCPT)|connections|concurrent|simultaneous|sessions|recipients|requests|parallel|(?:messages|mails|e-?mails) (?:from|sent|in (?:a|the|this|one) (?:session|connection|short|hour|minute|period))|connexions|Verbindungen|conexiones|connessioni)|trop de connexions|zu viele Verbindungen|demasiadas conexiones|troppe connessioni`,
  ),
  rule(
    "email-recipient-receiving-too-fast",
    ignored,
    Reason.unreachable,
    "Recipient receiving mail too fast (Gmail 4.2.1/5.2.1 'receiving mail at a rate')",
    String.raw`\breceiving (?:mail|messages|e-?mail) (?:at a rate|too (?:quickly|fast))\b`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Mailbox full (soft 5): before user unknown (Orange sends "pleine" with 5.1.1).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-mailbox-full-en",
    soft,
    Reason.mailboxFull,
    "Mailbox full / over quota / out of storage (Gmail, Outlook, Yahoo, iCloud, Postfix, Exim, qmail, Exchange, Yandex, Mail.ru)",
    String
      .raw`\b(?:(?:mail ?box|mail ?folder|mail ?file|in-?box|mail ?drop|account|user|recipient|box|folder)(?:'s|s')? (?:is |was |has |has been |seems to be )?(?:currently |already )?(?:full|over ?(?:the )?(?:allowed )?quota|out of (?:storage |disk )?space|overflow(?:ing|ed)?|exceeded)|over ?(?:the |their |its |his |her )?(?:allowed |disk |mailbox |storage )?quota|overquota|quota (?:exceeded|full|reached|overflow)|(?:disk|storage|mailbox|mail ?box) quota|exceed(?:s|ed)? (?:the |its |their |his |her |(?:the )?(?:user|recipient)'?s? )?(?:mail ?box |storage |disk )?(?:quota|storage allocation|storage limit)|(?:mail ?box|storage|disk|inbox) (?:size |storage |space )?(?:limit|quota) (?:(?:has been |was |is )?(?:exceeded|reached))|insufficient (?:disk |mailbox |user )?(?:storage|space)|not enough (?:disk |storage |mailbox )?space|QuotaExceeded\w*|full mail ?box|number of messages in (?:the )?(?:recipient'?s? )?mail ?box exceeded|(?:too many|maximum number of) messages in (?:the |this |recipient'?s? )?mail ?box)\b`,
  ),
  rule(
    "email-mailbox-full-intl",
    soft,
    Reason.mailboxFull,
    "Mailbox full, other languages (Orange, Free, GMX/Web.de, T-Online, Telefonica, Libero, UOL, Mail.ru, Yandex, QQ/163, Japanese carriers)",
    String
      .raw`(?<!\p{L})(?:bo[iî]te (?:aux lettres |de r[ée]ception |mail |courriel |e-?mail |vocale )?(?:du destinataire |de votre correspondant )?(?:est )?(?:pleine|satur[ée]e)|quota (?:est )?(?:d[ée]pass[ée]|atteint|plein)|espace (?:de stockage |disque )?insuffisant|(?:post|brief)fach(?: des empf(?:ä|ae|a)ngers)? (?:ist )?(?:voll|(?:ü|ue|u)berf(?:ü|ue|u)llt)|mailbox (?:ist |is )?(?:voll|vol)(?!\p{L})|speicher(?:platz|grenze|kontingent)? (?:ist )?(?:voll|(?:ü|ue|u)berschritten|ersch(?:ö|oe|o)pft)|quota (?:(?:ü|ue|u)berschritten|ersch(?:ö|oe|o)pft)|buz[oó]n (?:de correo )?(?:del destinatario )?(?:est[aá] )?(?:lleno|completo|saturado)|cuota (?:de (?:disco|almacenamiento) )?(?:excedida|superada|llena|agotada)|(?:excedido|superado) (?:su |la )?cuota|casella (?:di posta )?(?:(?:è|e) )?(?:piena|satura)|quota (?:superata|esaurita)|spazio (?:su disco )?esaurito|caixa (?:postal|de (?:correio|entrada|e-?mail))(?: do destinat[aá]rio)? (?:est[aá] )?(?:cheia|lotada)|(?:cota|quota) (?:de espa[cç]o )?(?:excedida|esgotada)|(?:postvak|brievenbus) (?:is )?vol(?!\p{L})|quotum (?:is )?overschreden|ящик[^.]{0,20}?переполнен|переполнен[^.]{0,20}?ящик|превышен[^.]{0,20}?(?:квот|размер ящика|лимит))|(?:容量|ボックス)[^。]{0,10}?(?:オーバー|超過|いっぱい|一杯|不足)|(?:邮箱|郵箱|信箱|收件箱)(?:空间|空間|容量)?(?:已满|已滿|不足|满了)`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Account disabled (reason 4): hard when permanently closed, soft otherwise. Before user
  // unknown (Mail.ru says "invalid mailbox ... account is disabled").
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-account-closed",
    hard,
    Reason.accountDisabled,
    "Account or mailbox permanently closed, deleted or terminated",
    HARD +
      String
        .raw`.*?(?:\b(?:account|mail ?box|e-?mail address)(?: (?:has|have) been| was| is)?(?: permanently)? (?:closed|deleted|terminated|removed|cancel+ed|deprovisioned)\b|\bpermanently (?:closed|deleted|disabled|deactivated|terminated|suspended)\b|(?<!\p{L})(?:compte (?:a été |est )?(?:supprim[ée]|ferm[ée]|cl[oô]tur[ée]|r[ée]sili[ée])|Konto (?:wurde |ist )?(?:gel(?:ö|oe)scht|geschlossen|gek(?:ü|ue)ndigt)|cuenta (?:ha sido |fue )?(?:eliminada|cerrada|cancelada|borrada)|conta (?:foi )?(?:exclu[ií]da|encerrada|cancelada)|account (?:(?:è|e) stato )?(?:eliminato|chiuso|cancellato)))`,
  ),
  rule(
    "email-account-disabled-en",
    soft,
    Reason.accountDisabled,
    "Account disabled, inactive, suspended, locked or expired (Gmail 5.2.1, Yahoo, Mail.ru, Sendmail, vpopmail, Zimbra, Orange archived)",
    String
      .raw`\b(?:(?:account|mail ?box|user|user account|e-?mail account)(?:'s|\(s\))?(?: (?:that )?you tried to reach)? (?:is |has been |was |has |are )?(?:currently |temporarily |now )?(?:disabled|deactivated|suspended|inactive|locked|frozen|expired|not active|on hold|archived)|(?:disabled|inactive|deactivated|suspended|locked|frozen|expired|archived) (?:user|account|mail ?box|recipient|e-?mail account)|disabled or discontinued|ACCOUNT_INACTIVE|DisabledUser)\b`,
  ),
  rule(
    "email-account-disabled-intl",
    soft,
    Reason.accountDisabled,
    "Account disabled, other languages (fr, de, es, it, pt, nl, ru, zh)",
    String
      .raw`(?<!\p{L})(?:(?:compte|bo[iî]te(?: aux lettres)?) (?:(?:est|a été) )?(?:d[ée]sactiv[ée]e?|suspendue?|bloqu[ée]e?|inactive?|verrouill[ée]e?|archiv[ée]e?)|(?:Konto|Postfach|Benutzerkonto|Mailbox) (?:ist |wurde )?(?:deaktiviert|gesperrt|inaktiv|stillgelegt)|cuenta (?:(?:est[aá]|ha sido) )?(?:desactivada|suspendida|bloqueada|inactiva|deshabilitada)|(?:account|casella|utente) (?:(?:è|e) )?(?:(?:stato|stata) )?(?:disattivat[oa]|sospes[oa]|bloccat[oa]|disabilitat[oa])|conta (?:(?:est[aá]|foi) )?(?:desativada|suspensa|bloqueada|inativa|desabilitada)|(?:account|mailbox|postvak) (?:is )?(?:geblokkeerd|uitgeschakeld|gedeactiveerd|inactief)|(?:ящик|аккаунт|учетная запись|учётная запись|пользователь)[^.]{0,20}?(?:заблокирован|отключен|отключён|неактив))|(?:账户|帐户|账号|帐号|邮箱)[^。]{0,6}?(?:停用|冻结|凍結|禁用|锁定)`,
  ),

  // ---------------------------------------------------------------------------------------------
  // User unknown (hard 1).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-user-unknown-4xx",
    ignored,
    Reason.unreachable,
    "4xx 'user unknown': the server itself says it is temporary (directory lookup failure, soft_bounce)",
    String
      .raw`^4.*?\b(?:user(?:name)? (?:is )?unknown|unknown (?:user|recipient)|no such (?:user|recipient|mailbox)|(?:user|recipient|mailbox) not found|(?:user|recipient|mailbox) does not exist|mailbox (?:is )?unavailable|invalid (?:recipient|mailbox))\b`,
  ),
  rule(
    "email-kddi-filtered",
    soft,
    Reason.refused,
    "au/KDDI (ezweb.ne.jp, au.com) '550 : User unknown' with no address: the recipient's reception filter refused us",
    NOT_4XX + String.raw`.*?(?:^|\s)5\d\d : user unknown\b`,
  ),
  rule(
    "email-user-unknown-en",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist (Postfix, Exim, Sendmail, qmail, Courier, Gmail, Yahoo/AOL, iCloud, Yandex, Mail.ru, QQ, Japanese carriers)",
    HARD +
      String
        .raw`.*?\b(?:user(?:name)? (?:is )?unknown|user <[^<>]{0,320}> unknown|unknown (?:user|recipient|local[- ]?part|mail ?box|e-?mail address|addressee)|unknown or illegal alias|(?:recipient|addressee) (?:is )?unknown|(?<!sender |from |return )(?:recipient |e-?mail |mail ?box )?address (?:is )?unknown|no such (?:user|recipient|mail ?box|account|local user|person|address|e-?mail address|e-?mail account)|no mailbox here by that name|(?:user|recipient|mail ?box|account|address|addressee|local[- ]?part|e-?mail address)\b(?:(?!domain|host)[^.;:]){0,40}?\b(?:does not|doesn't|did not|does no longer|no longer) exists?|(?:user|recipient|mail ?box|e-?mail address|recipient address|addressee)(?: name)? (?:was |is )?(?:not|could not be|couldn't be) (?:found|known|recogni[sz]ed)|not listed in (?:the )?(?:Domino Directory|public Name & Address Book)|does not specify a valid Notes mail file|(?:doesn't|does not) have an? [\w.-]{1,64} account|RecipNotFound|RecipientNotFound|ExRecipNotFound|NoSuchUser|UserUnknown|UnknownUser|has suppressed sending to this address because it has a recent history of bouncing)\b`,
  ),
  rule(
    "email-user-unknown-en-weak",
    hard,
    Reason.userUnknown,
    "Mailbox unavailable / invalid recipient / Office 365 'Recipient address rejected: Access denied' (directory-based edge blocking), unless the text speaks of policy",
    HARD + NOT_REFUSAL +
      String
        .raw`.*?\b(?:mail ?box (?:is )?unavailable(?! or access denied)|(?:invalid|not (?:a )?valid) (?:recipient|mail ?box|user|recipient address|final delivery userid|local[- ]?part)s?|recipient address rejected: access denied|recipient rejected: (?:unknown|does not exist|not found)|e-?mail address (?:you entered )?(?:couldn't|could not) be found)\b`,
  ),
  rule(
    "email-user-unknown-fr",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, French (Orange, SFR, Free, La Poste)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:utilisateur (?:inconnu|inexistant|introuvable|non trouv[ée])|destinataires? (?:(?:est|sont) )?(?:inconnus?|inexistants?|introuvables?|invalides?|non trouv[ée]s?)|adresse (?:e-?mail |électronique |electronique |du destinataire |de messagerie )?(?:inconnue|inexistante|introuvable|invalide)|bo[iî]te (?:aux lettres |mail |e-?mail )?(?:du destinataire )?(?:inexistante|introuvable|inconnue|non trouv[ée]e)|(?:compte|utilisateur|adresse|bo[iî]te aux lettres)(?: e-?mail| [ée]lectronique| de messagerie| du destinataire)? n['’]existe pas)`,
  ),
  rule(
    "email-user-unknown-de",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, German (GMX, Web.de, T-Online, Exchange de-DE)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:(?:Benutzer|Empf(?:ä|ae|a)nger|Nutzer|Mailbox|Postfach|E-Mail-Adresse|Empf(?:ä|ae|a)ngeradresse)(?: ist)? (?:unbekannt|existiert nicht|nicht vorhanden|nicht gefunden|ung(?:ü|ue|u)ltig)|unbekannte[rs]? (?:Benutzer|Empf(?:ä|ae|a)nger|Nutzer|Adresse|Postfach|Mailbox)|existiert kein(?:e)? (?:Postfach|Mailbox|Benutzer))`,
  ),
  rule(
    "email-user-unknown-es",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Spanish (Telefonica, Exchange es-ES)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:(?:usuario|destinatario) (?:desconocido|inexistente|no (?:existe|encontrado|v[aá]lido))|no existe (?:el|ese|dicho|tal) (?:usuario|destinatario|buz[oó]n)|buz[oó]n (?:de correo )?(?:desconocido|inexistente|no (?:existe|encontrado|disponible))|direcci[oó]n (?:de correo(?: electr[oó]nico)? )?(?:desconocida|inexistente|no existe|no v[aá]lida)|cuenta (?:de correo )?(?:no existe|inexistente))`,
  ),
  rule(
    "email-user-unknown-it",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Italian (Libero, Aruba, TIM, Virgilio)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:(?:utente|destinatario) (?:sconosciuto|inesistente|non (?:esiste|trovato|valido))|casella (?:di posta )?(?:inesistente|sconosciuta|non (?:esiste|trovata))|indirizzo (?:e-?mail )?(?:inesistente|sconosciuto|non (?:esiste|valido)))`,
  ),
  rule(
    "email-user-unknown-pt",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Portuguese (UOL, Terra, BOL, SAPO)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:(?:usu[aá]rio|utilizador|destinat[aá]rio) (?:desconhecido|inexistente|n[aã]o (?:existe|encontrado|[eé] v[aá]lido))|(?:conta|caixa postal|caixa de correio|endere[cç]o(?: de e-?mail)?) (?:desconhecid[oa]|inexistente|n[aã]o existe|inv[aá]lid[oa]))`,
  ),
  rule(
    "email-user-unknown-nl",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Dutch (KPN, Ziggo, Exchange nl-NL)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:(?:gebruiker|ontvanger|mailbox|e-?mailadres|postvak|geadresseerde) (?:is )?(?:onbekend|bestaat niet|niet gevonden|ongeldig)|onbekende (?:gebruiker|ontvanger|geadresseerde)|(?:gebruiker|mailbox|adres) bestaat niet)`,
  ),
  rule(
    "email-user-unknown-ru",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Russian (Mail.ru, Yandex, Rambler)",
    HARD +
      String
        .raw`.*?(?<!\p{L})(?:пользовател[ьяюе](?:(?!домен)[^.]){0,20}?(?:не найден|не существует|неизвестен)|(?:нет|не существует) такого (?:пользователя|адреса|ящика|получателя)|неизвестный (?:пользователь|получатель|адрес)|ящик(?:(?!домен)[^.]){0,20}?(?:не найден|не существует)|получател[ья](?:(?!домен)[^.]){0,20}?(?:не найден|не существует))`,
  ),
  rule(
    "email-user-unknown-ja",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Japanese (docomo, au/ezweb, SoftBank, Biglobe, Domino ja)",
    HARD +
      String
        .raw`.*?(?:(?:宛先|あて先)(?:が|は)?不明|存在しない(?:ユーザ|ユーザー|アドレス|メールアドレス|宛先)|(?:ユーザ|ユーザー|アカウント|メールアドレス|宛先)(?:が|は)?(?:存在しません|見つかりません|見つかりませんでした)|ディレクトリ(?:のリスト)?にありません)`,
  ),
  rule(
    "email-user-unknown-zh",
    hard,
    Reason.userUnknown,
    "Mailbox does not exist, Chinese (QQ, 163/NetEase, Sina, Aliyun)",
    HARD +
      String
        .raw`.*?(?:(?:用户|用戶|收件人|收信人|邮箱|郵箱|帐号|账号|帐户|账户)(?:名|地址)?(?:不存在|無效|无效|未找到)|(?:无此|無此|没有此|沒有此|查无此)(?:用户|用戶|人))`,
  ),
  rule(
    "email-moved",
    hard,
    Reason.userUnknown,
    "Mailbox moved or address no longer in use (5.1.6, 'has moved', 'no forwarding address', 'not our customer')",
    HARD +
      String
        .raw`.*?\b(?:(?:has|have) moved\b|no forwarding address|(?:recipient|user|address|mail ?box|account) (?:is )?no longer on (?:this |the )?server|(?:address|mail ?box|account|user|recipient|e-?mail)\b[^.;]{0,30}?\bno longer (?:valid|in use|used|available|accepts? (?:e-?)?mail|exists?)|not our customer)\b`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Domain does not exist or accepts no mail (soft 2). Temporary DNS failures first.
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-dns-temporary",
    ignored,
    Reason.unreachable,
    "Temporary DNS failure (Postfix 'Host not found, try again', SERVFAIL, name server timeout)",
    String
      .raw`\b(?:host not found, try again|temporary (?:dns|lookup|name resolution) (?:failure|error)|temporary failure in name resolution|name server timeout|SERVFAIL|DNS (?:query|lookup) (?:failed|timed? ?out)|dns (?:temporary )?timeout)\b`,
  ),
  rule(
    "email-domain-not-found",
    soft,
    Reason.invalidDomain,
    "Recipient domain does not exist or accepts no mail (5.1.2, 5.4.4, 5.1.10 null MX, NXDOMAIN; Postfix, Sendmail, qmail, Exim, Courier, Gmail, Outlook, Yahoo)",
    NOT_SENDER +
      String
        .raw`.*?(?:\b(?:host or domain name not found\b(?!.{0,80}\btry again)|(?:domain|host)(?: name)? (?:(?:was |is )?not found|unknown|does not exist|doesn't exist|not exist|is not reachable|has no (?:MX|mail server))|domain [\w-]+(?:\.[\w-]+)+\.? (?:does not exist|doesn't exist|(?:was )?not found)|no such (?:domain|host)|unknown (?:domain|host)(?: name)?|non-?existent (?:domain|host)|NonExistentDomain|unroutea?ble (?:address|domain)|illegal host/domain name|null MX|NXDOMAIN|no MX (?:record|host)s?(?: found)?|no (?:valid |usable )?MX|MX (?:record )?(?:lookup failed|not found)|(?:couldn't|could not|can't|cannot) find any host (?:named|by that name)|(?:weren't able|unable|not able) to find the recipient domain|(?:domain|host|server)(?: [\w.-]{1,253})? (?:does not|doesn't) (?:accept|receive) (?:e-?)?mail|accepts no mail|MX records point to non-existent hosts|had no relevant answers)\b|(?<!\p{L})(?:domaine (?:inconnu|inexistant|introuvable)|Domain (?:existiert nicht|unbekannt|nicht gefunden)|dominio (?:desconocido|inexistente|sconosciuto|no existe|non esiste|no encontrado)|dom[ií]nio (?:desconhecido|inexistente|n[aã]o existe|n[aã]o encontrado)|domein (?:bestaat niet|onbekend|niet gevonden)|домен[^.]{0,15}?(?:не найден|не существует))|域名不存在)`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Relaying denied (soft 3): the MX does not take mail for the domain (moved host, stale MX).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-relay-denied",
    soft,
    Reason.unreachable,
    "Relaying denied (Postfix 'Relay access denied', Sendmail 'Relaying denied', qmail rcpthosts, Exchange 5.7.54)",
    NOT_4XX +
      String
        .raw`.*?\b(?:relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed|authori[sz]ed)|prohibited|refused)|(?:unable|not permitted|not allowed|cannot) to relay|(?:we )?do not relay|no relaying|relay not permitted|in my list of allowed rcpthosts|not (?:an )?accepted domain|RESOLVER\.RST\.RelayNotAllowed)\b`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Refusals (soft 20): reputation, spam, content, authentication, PTR, size, RFC compliance.
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-spam",
    soft,
    Reason.refused,
    "Refused as spam / unsolicited bulk mail (Gmail 5.7.1, Yahoo, Yandex, Mail.ru, Orange, Barracuda UBE, Microsoft 5.7.350)",
    NOT_4XX +
      String
        .raw`.*?(?:\b(?:spam(?:my)?|unsolicited|UBE|bulk (?:e-?)?mail|junk (?:e-?)?mail|phish(?:ing)?|fraud(?:ulent)?|scam)\b|(?<!\p{L})(?:pourriel|courrier ind[ée]sirable|correo no deseado|posta indesiderata|спам)|垃圾邮件|垃圾郵件|迷惑メール)`,
  ),
  rule(
    "email-content-virus",
    soft,
    Reason.refused,
    "Content refused: virus, malware, forbidden attachment, content filter (Gmail 5.7.0 security issue, Exim, amavis)",
    NOT_4XX +
      String
        .raw`.*?\b(?:virus|malware|infected|trojan|ransomware|dangerous|harmful|(?:prohibited|banned|forbidden|blocked|unsafe|executable) (?:attachment|content|file)s?|attachments? (?:type )?(?:is |are )?(?:not allowed|blocked|rejected|prohibited)|content (?:rejected|filter(?:ing)?|policy|not allowed|blocked|denied)|message content|media error|security (?:issue|policy|threat|risk|reasons?))\b`,
  ),
  rule(
    "email-message-too-big",
    soft,
    Reason.refused,
    "Message too big (5.3.4, 5.2.3 size limits; Gmail, Exchange RecipSizeLimit, 1&1, Yahoo, 163)",
    NOT_4XX +
      String
        .raw`.*?(?:\b(?:(?:message|mail|e-?mail)(?: file| size| length)? (?:is )?(?:too (?:big|large|long)|exceeds?|exceeded)|(?:mail ?)?size limit|message size|maximum (?:allowed )?(?:message )?size|exceeds? (?:the )?(?:maximum|max|fixed maximum|allowed|size) (?:message )?size|RecipSizeLimit|size exceeds|too (?:big|large) for (?:this|the) (?:system|recipient|mail ?box))\b|(?<!\p{L})(?:message trop (?:volumineux|gros)|taille (?:du message )?(?:maximale )?(?:d[ée]pass[ée]e|excessive)|Nachricht (?:ist )?zu gro(?:ß|ss)|mensaje (?:demasiado grande|excede)|messaggio troppo grande|mensagem (?:muito grande|excede)|bericht (?:is )?te groot|слишком (?:большое|большой))|邮件过大|郵件過大)`,
  ),
  rule(
    "email-not-rfc-compliant",
    soft,
    Reason.refused,
    "Message not RFC 5322 compliant: malformed or duplicate headers, 8-bit data, bare LF, long lines (Gmail 5.7.1, Sendmail 5.6.9, SES)",
    NOT_4XX +
      String
        .raw`.*?\b(?:not (?:RFC ?\d{3,4}[- ]?)?complian(?:t|ce)|RFC ?(?:5322|5321|2822|2821|822|821|6854|6531|2045)[- ]?(?:non-?)?(?:complian(?:t|ce)|violation|conform\w*|syntax|requirements?)|malformed (?:header|message|mime|from)|header (?:error|syntax)|(?:invalid|bad|duplicate|missing|multiple) (?:[\w-]+ )?headers?|multiple (?:addresses in )?From|improper use of 8-bit|8-?bit (?:data|characters)|bare (?:LF|CR)|line (?:length |limit )?(?:too long|exceeded)|line limit exceeded)\b`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Connection trouble, timeouts, expiry, loops, remote system errors (ignored 3 / soft 3).
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-connection",
    ignored,
    Reason.unreachable,
    "Connection refused, reset, dropped or timed out (Postfix, Sendmail 'Deferred:', qmail, Gmail 'did not accept our requests to connect')",
    String
      .raw`\b(?:(?:connection|connect|session)(?: to \S+)? (?:timed? ?out|refused|reset|dropped|lost|closed|failed|aborted|terminated)|timed out|time-?out (?:while|during|waiting|exceeded)|(?:unable|failed|could not|couldn't|wasn't able) to (?:connect|establish (?:an? )?(?:SMTP |TCP )?connection)|did not accept our requests to connect|network (?:is )?unreachable|no route to host|(?:remote )?(?:host|server) (?:is )?(?:not responding|unreachable|down)|read error|lost connection|broken pipe|connection reset by peer)\b`,
  ),
  rule(
    "email-tls",
    ignored,
    Reason.unreachable,
    "TLS required or failed (STARTTLS, certificate, handshake)",
    String
      .raw`\b(?:(?:STARTTLS|TLS|SSL)\b[^.]{0,40}?\b(?:fail(?:ed|ure)?|error|required|negotiat\w*|handshake|not available)|must issue a STARTTLS|certificate (?:verif\w*|expired|invalid|not trusted|validation|error)|handshake (?:failed|failure|error))\b`,
  ),
  rule(
    "email-expired",
    ignored,
    Reason.unreachable,
    "Delivery expired after retries (Exim 'retry timeout exceeded', Sendmail 'could not be delivered for 5 days', Exchange QUEUE.Expired, OpenSMTPD 'Envelope expired')",
    String
      .raw`\b(?:(?:message|envelope|delivery|retry|queue)\b[^.;]{0,20}?\b(?:expired|time ?out exceeded|timeout exceeded|lifetime exceeded)|retry time(?:out)? (?:not reached|exceeded)|(?:have|has) been failing for a long time|(?:could not|couldn't|cannot|unable to|can't) (?:be )?(?:deliver(?:ed)?|sen[dt])\b[^.]{0,40}?\b(?:for|after|within|in) (?:the last )?\d+ (?:days?|hours?|seconds?|minutes?)|not (?:been )?delivered (?:within|for|in) \d+|in the queue too long|after multiple retries|QUEUE\.Expired|will be retried|(?:has been|was) delayed|delivery (?:has been )?delayed)\b`,
  ),
  rule(
    "email-deferral",
    ignored,
    Reason.unreachable,
    "Deferral: try again later, greylisting, temporary failure, server busy, maintenance (all MTAs, several languages)",
    String
      .raw`(?:\b(?:(?:try|retry)(?: again)? later|(?:please )?come back later|temporar(?:il)?y (?:deferred|rejected|unavailable|blocked|suspended|refused|failed|not available|disabled|locked|over quota|local problem)|temporary (?:failure|error|problem|local problem|rejection)|gr[ae]ylist(?:ed|ing)?|(?<!permanently )deferred|server (?:is )?(?:too )?(?:busy|overloaded)|service (?:is )?(?:currently |temporarily )?(?:unavailable|not available)|(?:in|under) maintenance|resources temporarily unavailable|insufficient system (?:storage|resources))\b|(?<!\p{L})(?:essayer plus tard|r[ée]essayer plus tard|sp(?:ä|ae|a)ter (?:erneut|noch einmal)|int[ée]ntelo (?:de nuevo )?m[aá]s tarde|riprov(?:are|a) pi(?:ù|u) tardi|tente novamente mais tarde|probeer het later|попробуйте позже|повторите попытку позже)|稍后再试|稍後再試|しばらくしてから)`,
  ),
  rule(
    "email-loop",
    soft,
    Reason.unreachable,
    "Mail loop / too many hops: a routing problem of the destination (5.4.6, Exchange 5.4.14, qmail 'looping')",
    String
      .raw`\b(?:mail (?:loop|forwarding loop)|routing loop|(?:is )?looping|loops back to myself|too many hops|hop count exceeded|maximum hop count|too many received headers|loop detected)\b`,
  ),
  rule(
    "email-remote-system-error",
    ignored,
    Reason.unreachable,
    "Remote system or mailer error, not about the address (internal error, LDAP unreachable, local delivery failure)",
    String
      .raw`\b(?:internal (?:server |system )?error|system error|local error in processing|mailer error|unable to contact LDAP server|error in processing|(?:i/o|io) error)\b`,
  ),

  // ---------------------------------------------------------------------------------------------
  // Generic refusals (soft 20) and 4xx refusals (ignored 3): last.
  // ---------------------------------------------------------------------------------------------
  rule(
    "email-policy-refused",
    soft,
    Reason.refused,
    "Refused by policy or without a stated reason: policy, access denied, not allowed, rejected (Yahoo 5.7.9, Microsoft OU-00x, iCloud CS01, Google Groups, Facebook RCP-P2)",
    NOT_4XX +
      String
        .raw`.*?(?:\b(?:polic(?:y|ies)|(?:access|delivery|service|message|mail|e-?mail|connection|transaction|recipient|content)s? (?:is |was |has been )?(?:denied|refused|rejected|blocked|not accepted|not allowed)|not (?:allowed|permitted|accepted)|refused|denied|banned|prohibited|forbidden|blocked|filtered|recipient preferences|not accepting (?:connections|mail|messages)|group you tried to contact|suppression list)\b|(?<!\p{L})(?:mail rejet[ée]|rejet[ée]|refus[ée]|abgelehnt|rechazad[oa]|rifiutat[oa]|recusad[oa]|geweigerd|отклонен|отклонён)(?!\p{L})|拒绝|拒絕|受信拒否)`,
  ),
  rule(
    "email-4xx-refusal",
    ignored,
    Reason.unreachable,
    "4xx refusal (blocked, policy, rejected, authentication, PTR): temporary by the server's own code",
    String
      .raw`^4.*?\b(?:block\w*|spam\w*|polic(?:y|ies)|reputation|reject\w*|denied|refus\w*|not allowed|black ?list\w*|listed|limit\w*|exceeded|authentic\w*|DMARC|SPF|DKIM|PTR|reverse|relay\w*|unavailable)\b`,
  ),
];
