// Which addresses a webhook may reach (lifecycle.md: private, loopback and link-local targets are
// refused unless the administrator allows them). Judged on the address actually connected to
// (transport.ts), so a public name that resolves to 127.0.0.1 is refused as 127.0.0.1 is.
import { BlockList, isIP } from 'node:net'

// Everything that is not the public internet: IANA's special-purpose registries (RFC 6890 and
// its updates) for both families.
const REFUSED = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata at 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) REFUSED.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b:1::', 48], // local-use IPv4/IPv6 translation
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments (Teredo and others)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) REFUSED.addSubnet(network, prefix, 'ipv6')

/**
 * The IPv4 address an IPv6 address carries and is reached through: IPv4-mapped (::ffff:a.b.c.d),
 * NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
 */
function embeddedIpv4(address: string): string | undefined {
  const words = expand(address)
  if (!words) return undefined
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return v4(words[6], words[7])
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0)) return v4(words[6], words[7])
  if (words[0] === 0x2002) return v4(words[1], words[2])
  return undefined
}

/** The eight 16-bit words of an IPv6 address (a dotted IPv4 tail included). */
function expand(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '')
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number)
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::')
  const part = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : [])
  const left = part(head)
  const right = part(tail)
  const words = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right]
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined
}

/** Whether an IP address is on the public internet; anything that is not an address is not. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '')
  const family = isIP(bare.replace(/%.*$/, ''))
  if (family === 4) return !REFUSED.check(bare, 'ipv4')
  if (family === 6) {
    const v4 = embeddedIpv4(bare)
    if (v4 !== undefined) return isPublicAddress(v4)
    return !REFUSED.check(bare.replace(/%.*$/, ''), 'ipv6')
  }
  return false
}
