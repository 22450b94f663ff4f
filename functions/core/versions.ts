/** True when the stored version satisfies the versions a caller named ("*" matches any existing plan). */
export function versionMatches(
  wanted: readonly string[] | undefined,
  storedVersion: number | undefined,
): boolean {
  if (wanted === undefined) return true;
  if (storedVersion === undefined) return false;
  return wanted.includes('*') || wanted.includes(String(storedVersion));
}
