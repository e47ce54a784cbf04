/**
 * The native addon (@snapfleet/native): chunk ids and AES-256-GCM in one call each, into memory
 * the caller gives. Everything it does node:crypto does too, giving the same bytes, so where the
 * addon is not built the engine falls back and only gets slower.
 */
import { binding, loadError } from '@snapfleet/native';

export type NativeBinding = NonNullable<typeof binding>;

/** The addon, or undefined when this process cannot load it (see nativeError). */
export const native: NativeBinding | undefined = binding;
/** Why the addon could not be loaded, when it could not. */
export const nativeError: string | undefined = loadError;
