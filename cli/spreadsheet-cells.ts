/**
 * CSV cells for files people open in a spreadsheet: a cell that starts with =, +, -, @, tab or carriage
 * return would be read as a formula (formula injection), so it is prefixed with an apostrophe, which
 * spreadsheets show as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function spreadsheetCell(value: unknown): string {
  const raw = value === null || value === undefined ? '' : String(value);
  const text = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
