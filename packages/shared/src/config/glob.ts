/**
 * Volume name patterns: shell globs (`web-*`, `db-?`, `vol-[0-9]*`) matched against the whole
 * name. `*` and `?` match any characters, `[...]` a class; everything else is literal.
 */

export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      out += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

export function globMatches(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}
