/**
 * IPv4 and IPv6 addresses and CIDR subnets, parsed strictly (no zone ids, no shorthand
 * IPv4 like "10.1"), for checking a network's subnet, gateway, IP range and fixed addresses
 * before anything is sent to the Engine.
 */

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** As given, e.g. "172.31.250.0/24". */
  text: string;
}

const IPV4_PART = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

export function parseIpv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => IPV4_PART.test(part))) return null;
  return parts.reduce((sum, part) => (sum << 8n) | BigInt(Number(part)), 0n);
}

export function parseIpv6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...left, ...right];
  if (!all.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return null;
  const missing = 8 - all.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const full = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = full.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n);
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** An address of either family, or null. */
export function parseIp(text: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

/**
 * "a.b.c.d/n" or "x::/n". Host bits must be zero, as the Engine requires of a subnet
 * ("172.31.250.1/24" is refused with a message naming the network address to use).
 */
export function parseCidr(text: string): Cidr | { error: string } {
  const slash = text.indexOf("/");
  if (slash < 0 || !/^[0-9]{1,3}$/.test(text.slice(slash + 1))) {
    return { error: `"${text.slice(0, 64)}" is not in CIDR notation (e.g. 172.31.250.0/24)` };
  }
  const address = parseIp(text.slice(0, slash));
  const prefix = Number(text.slice(slash + 1));
  if (!address) return { error: `"${text.slice(0, 64)}" does not start with an IP address` };
  const bits = address.family === 4 ? 32 : 128;
  if (prefix > bits) return { error: `The prefix /${prefix} is longer than ${bits} bits` };
  const network = address.value & mask(prefix, bits);
  if (network !== address.value) {
    return {
      error: `"${text}" has host bits set; the network address is ${
        format(network, address.family)
      }/${prefix}`,
    };
  }
  return { family: address.family, network, prefix, text };
}

function mask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** Whether the address lies inside the subnet. */
export function contains(cidr: Cidr, address: { family: 4 | 6; value: bigint }): boolean {
  const bits = cidr.family === 4 ? 32 : 128;
  return address.family === cidr.family &&
    (address.value & mask(cidr.prefix, bits)) === cidr.network;
}

/** Whether two subnets share any address (the wider one contains the other's network). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const wider = a.prefix <= b.prefix ? a : b;
  const narrower = wider === a ? b : a;
  return contains(wider, { family: narrower.family, value: narrower.network });
}

export function format(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
  }
  const groups = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(((value >> shift) & 0xffffn).toString(16));
  }
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}
