/**
 * The deployed bundles' stand-in for the SDK's default credential chain (`@aws-sdk/credential-provider-node`,
 * aliased to this module by stacks/constructs/lambda-bundling.ts): Lambda puts the function role's
 * credentials in the environment, the chain's first source, so its other sources (files, SSO, web
 * identity, instance metadata) are never reached there and are left out of the bundle (docs/adr/0050).
 * The local runtime and the tests run the sources, with the whole chain.
 */
import { type FromEnvInit, fromEnv } from '@aws-sdk/credential-provider-env';

/** What the SDK clients call, with their configuration, when no credentials are given them. */
export const defaultProvider = (init?: FromEnvInit) => fromEnv(init);
