/** Types of sdk-schemas.mjs for the TypeScript tests: the SDK modules are loaded, not typed, here. */
export declare function sdkOf(service: 'ec2' | 'ebs'): { sdk: Record<string, unknown>; NormalizedSchema: unknown };
