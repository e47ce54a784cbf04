/**
 * The AWS SDK's own models, as the server reads them: every command of @aws-sdk/client-ec2 and
 * @aws-sdk/client-ebs carries its operation schema (`new XCommand({}).schema`), and @smithy/core's
 * NormalizedSchema walks it. The server decodes requests and encodes answers from these schemas
 * instead of a hand-written copy of each shape, so it speaks exactly the wire format of the SDK
 * version the providers package runs. Both are resolved from packages/providers, as the built
 * CLI resolves them (pnpm gives each package its own node_modules).
 */
import { createRequire } from 'node:module';
import { URL } from 'node:url';

const PROVIDERS = new URL('../../packages/providers/package.json', import.meta.url);
const fromProviders = createRequire(PROVIDERS);

/** The SDK module of `service` ('ec2' | 'ebs') and the schema helpers of its own @smithy/core. */
export function sdkOf(service) {
  const name = `@aws-sdk/client-${service}`;
  const sdk = fromProviders(name);
  const { NormalizedSchema } = createRequire(fromProviders.resolve(name))('@smithy/core/schema');
  return { sdk, NormalizedSchema };
}

/**
 * The operation `api` of `service`: its HTTP binding (REST protocols only), and its input and
 * output schemas, normalized.
 */
export function operationOf(service, api) {
  const { sdk, NormalizedSchema } = sdkOf(service);
  const Command = sdk[`${api}Command`];
  if (!Command) throw new Error(`${service}: the SDK has no ${api}Command`);
  const [, , name, traits, input, output] = new Command({}).schema;
  return { name, http: traits?.http, input: NormalizedSchema.of(input), output: NormalizedSchema.of(output) };
}
