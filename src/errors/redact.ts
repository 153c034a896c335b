/**
 * Redaction of quoted text in error messages: a driver or parser message may quote a value (a SQL
 * literal, an identifier the policy hides), so quoted segments are replaced before any message
 * reaches an agent or the operator log. Pure; imports nothing.
 */

/** Replace "…"-quoted and '…'-quoted segments with "…". */
export function redactQuoted(message: string): string {
  return message.replace(/"(?:[^"]|"")*"/g, '"…"').replace(/'(?:[^']|'')*'/g, "'…'");
}
