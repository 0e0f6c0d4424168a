// The policy's rules, in order: replies, the mirror, no sandbox-to-sandbox, no private ranges, allow-list, drop.
import { describe, expect, it } from 'vitest';
import { BLOCKED_RANGES, parseEgressAllow, policyRules } from './network-policy.ts';

const rules = (egressAllow: string[] = []) =>
  policyRules({ bridge: 'dockyard0', mirrorIp: '172.18.0.2', mirrorPort: 5000, egressAllow }).map((r) => r.join(' '));

describe('policyRules', () => {
  it('allows replies and the mirror, then refuses bridge traffic, private ranges and everything else', () => {
    const r = rules();
    expect(r[0]).toBe('-A DOCKYARD-SANDBOX -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN');
    expect(r).toContain('-A DOCKYARD-SANDBOX -d 172.18.0.2/32 -p tcp --dport 5000 -j RETURN');
    const dropBridge = r.indexOf('-A DOCKYARD-SANDBOX -o dockyard0 -j REJECT');
    expect(dropBridge).toBeGreaterThan(r.indexOf('-A DOCKYARD-SANDBOX -d 172.18.0.2/32 -p tcp --dport 5000 -j RETURN'));
    for (const cidr of [...BLOCKED_RANGES, '169.254.0.0/16'])
      expect(r).toContain(`-A DOCKYARD-SANDBOX -d ${cidr} -j REJECT`);
    expect(r.filter((x) => x.startsWith('-A DOCKYARD-SANDBOX ')).at(-1)).toBe('-A DOCKYARD-SANDBOX -j REJECT');
    expect(r.slice(-2)).toEqual([
      '-A DOCKYARD-SANDBOX-IN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
      '-A DOCKYARD-SANDBOX-IN -j REJECT',
    ]);
  });

  it('opens allow-listed destinations only after the private ranges are closed', () => {
    const r = rules(['151.101.0.0/16']);
    const allow = r.indexOf('-A DOCKYARD-SANDBOX -d 151.101.0.0/16 -j RETURN');
    expect(allow).toBeGreaterThan(r.indexOf('-A DOCKYARD-SANDBOX -d 10.0.0.0/8 -j REJECT'));
    expect(allow).toBeLessThan(r.indexOf('-A DOCKYARD-SANDBOX -j REJECT'));
  });
});

describe('parseEgressAllow', () => {
  it('reads addresses and CIDRs', () => {
    expect(parseEgressAllow(' 151.101.0.0/16, 199.232.10.1 ')).toEqual(['151.101.0.0/16', '199.232.10.1/32']);
    expect(parseEgressAllow('')).toEqual([]);
  });
  it('refuses what is not an IPv4 CIDR, naming the setting', () => {
    expect(() => parseEgressAllow('deb.debian.org')).toThrow(/DOCKYARD_EGRESS_ALLOW: "deb.debian.org"/);
    expect(() => parseEgressAllow('300.1.1.1')).toThrow(/not an IPv4/);
    expect(() => parseEgressAllow('1.2.3.4/40')).toThrow(/not an IPv4/);
  });
});
