/**
 * Auto-replies (RFC 3834 and the headers responders used before it). DOMAIN.md §4: an
 * out-of-office reply is ignored and never counted, so it must not be read as a bounce. The caller
 * decides DSNs first: a DSN carries `Auto-Submitted: auto-generated` and is never an auto-reply.
 */
import { field, type Fields } from "./fields.ts";

/** What the headers say outright: `Auto-Submitted: auto-replied`, X-Autoreply, Precedence. */
export function hasAutoReplyHeaders(headers: Fields): boolean {
  const submitted = field(headers, "auto-submitted")?.toLowerCase() ?? "";
  if (submitted.startsWith("auto-replied")) return true;
  for (const name of ["x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from"]) {
    const value = field(headers, name)?.toLowerCase();
    if (value !== undefined && value !== null && value !== "no" && value !== "false") return true;
  }
  const precedence = field(headers, "precedence")?.toLowerCase() ?? "";
  return precedence === "auto_reply" || precedence === "auto-reply";
}

// Subjects responders write, in the languages our recipients read most; "Auto:" is Lotus Notes.
const SUBJECT =
  /out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|answer)|autoreply|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence du bureau|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|afwezigheidsmelding|resposta autom[áa]tica|fuera de la oficina|^\s*(?:auto|autom)\s*:|^\s*(?:on )?vacation\b|^\s*away from (?:the )?office/iu;

export function hasAutoReplySubject(subject: string): boolean {
  return SUBJECT.test(subject);
}
