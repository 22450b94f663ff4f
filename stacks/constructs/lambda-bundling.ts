/**
 * Module aliases of every deployed bundle, relative to the repository root: the stacks hand them to
 * esbuild, and the cold-start benchmark bundles with them too, so that it times what is deployed.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  // Credentials from the environment only, as Lambda provides them (docs/adr/0050).
  '@aws-sdk/credential-provider-node': './functions/lambda-credentials.ts',
};
