/** Settings handlers read from their environment, once per cold start. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} must be set`);
  return value;
}

export const tableName = (): string => required('TABLE_NAME');
