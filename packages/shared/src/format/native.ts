/**
 * The native addon (@snapfleet/native): chunk ids and AES-256-GCM in one call each, into memory
 * the caller gives. Everything it does node:crypto does too, giving the same bytes, so where the
 * addon is not built the engine falls back and only gets slower.
 */
import { createRequire } from 'node:module';

type Addon = typeof import('@snapfleet/native');
export type NativeBinding = NonNullable<Addon['binding']>;

function load(): { binding?: NativeBinding; error?: string } {
  try {
    const addon = createRequire(import.meta.url)('@snapfleet/native') as Addon;
    return addon.binding ? { binding: addon.binding } : { error: addon.loadError ?? 'the addon is not built' };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const loaded = load();

/** The addon, or undefined when this process cannot load it (see nativeError). */
export const native: NativeBinding | undefined = loaded.binding;
/** Why the addon could not be loaded, when it could not. */
export const nativeError: string | undefined = loaded.error;
