/**
 * docs/aws-iam-policy.json must grant exactly the EC2 and EBS actions the code sends: every
 * `new <Name>Command(` in the AWS adapters is an action (ec2:Name or ebs:Name by the client it
 * is imported from), and every ec2:/ebs: action of the policy is one of those or one the service
 * requires alongside them (tagging on create).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const AWS_DIR = fileURLToPath(new URL('.', import.meta.url));
const POLICY = fileURLToPath(new URL('../../../../docs/aws-iam-policy.json', import.meta.url));

/** Actions AWS authorizes in addition to the call itself. */
const IMPLIED: Record<string, string> = {
  // CreateSnapshot(s) and CopySnapshot with TagSpecifications, and StartSnapshot with Tags, need
  // ec2:CreateTags on the new snapshot (the policy limits it to those create actions).
  'ec2:CreateTags': 'TagSpecifications',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('testing'))
    .map((f) => join(dir, f));
}

/** Names imported from `@aws-sdk/client-<service>` in `text`. */
function importsFrom(text: string, service: 'ec2' | 'ebs'): Set<string> {
  const names = new Set<string>();
  const re = new RegExp(`import\\s*(?:type\\s*)?\\{([^}]*)\\}\\s*from\\s*'@aws-sdk/client-${service}'`, 'g');
  for (const m of text.matchAll(re)) for (const part of m[1]!.split(',')) names.add(part.replace(/\btype\b/, '').trim());
  return names;
}

function actionsInCode(): { actions: Map<string, string>; text: string } {
  const actions = new Map<string, string>();
  let all = '';
  for (const file of sourceFiles(AWS_DIR)) {
    const text = readFileSync(file, 'utf8');
    all += text;
    const ec2 = importsFrom(text, 'ec2');
    const ebs = importsFrom(text, 'ebs');
    for (const m of text.matchAll(/new ([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const command = `${m[1]}Command`;
      const service = ec2.has(command) ? 'ec2' : ebs.has(command) ? 'ebs' : undefined;
      expect(service, `${relative(AWS_DIR, file)}: ${command} is not imported from @aws-sdk/client-ec2 or client-ebs`).toBeDefined();
      actions.set(`${service}:${m[1]}`, relative(AWS_DIR, file));
    }
  }
  return { actions, text: all };
}

function actionsInPolicy(): Set<string> {
  const policy = JSON.parse(readFileSync(POLICY, 'utf8')) as { Statement: { Action: string | string[] }[] };
  return new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter((a) => /^(ec2|ebs):/.test(a)));
}

describe('docs/aws-iam-policy.json', () => {
  const { actions, text } = actionsInCode();
  const granted = actionsInPolicy();

  it('finds the calls the adapters make', () => {
    expect([...actions.keys()]).toEqual(expect.arrayContaining(['ec2:DescribeVolumes', 'ec2:CreateSnapshot', 'ebs:GetSnapshotBlock']));
  });

  it('grants every action the code calls', () => {
    const missing = [...actions].filter(([a]) => !granted.has(a)).map(([a, file]) => `${a} (${file})`);
    expect(missing).toEqual([]);
  });

  it('grants nothing the code does not call', () => {
    const unused = [...granted].filter((a) => !actions.has(a) && !(a in IMPLIED && text.includes(IMPLIED[a]!)));
    expect(unused).toEqual([]);
  });
});
