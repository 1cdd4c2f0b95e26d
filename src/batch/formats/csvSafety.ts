// Formula (CSV) injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a CR is taken
// for a formula by a spreadsheet opening the file (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`). Every
// CSV the connector writes passes its text values through neutraliseCell, which puts a leading `'`
// before such a text (OWASP's advice; the portal's reports use the same rule). Numbers are left
// alone: a negative amount written as a number stays a number. Values are stored as given; only
// what is written out is neutralised.

const FORMULA_START = /^[=+\-@\t\r]/;

/** Whether a spreadsheet would read this text as a formula. */
export function looksLikeFormula(text: string): boolean {
  return FORMULA_START.test(text);
}

/** The text made inert with a leading apostrophe when a spreadsheet would read it as a formula. */
export function neutraliseCell(text: string): string {
  return looksLikeFormula(text) ? `'${text}` : text;
}

/** neutraliseCell for the text values of a row; numbers, null and undefined unchanged. */
export function neutraliseValue<T>(value: T): T | string {
  return typeof value === 'string' ? neutraliseCell(value) : value;
}
