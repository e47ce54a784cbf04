/** Whether a volume is covered by a policy's selector: every given criterion must match. */
import { globMatches } from './glob.js';
import type { VolumeSelectorSpec } from '../ports/volume-provider.js';

export interface SelectableVolume {
  id: string;
  name: string;
  tags: readonly string[];
  instanceIds?: readonly string[];
}

export function selectorMatches(selector: VolumeSelectorSpec, volume: SelectableVolume): boolean {
  if (selector.ids && !selector.ids.includes(volume.id)) return false;
  if (selector.tags && !selector.tags.every((t) => volume.tags.includes(t))) return false;
  if (selector.namePattern && !globMatches(selector.namePattern, volume.name)) return false;
  // A volume attached to no listed instance (or a provider without instances) is not in the set.
  if (selector.instances && !selector.instances.some((i) => volume.instanceIds?.includes(i))) return false;
  return true;
}
