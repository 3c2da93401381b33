// Which addresses a webhook may reach (platform/webhooks/addresses.ts), and how long a retry
// waits (platform/webhooks/worker.ts): tables.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isPublicAddress } from '../../src/platform/webhooks/addresses.ts'
import { backoffMs } from '../../src/platform/webhooks/worker.ts'
import { Transport } from '../../src/platform/webhooks/transport.ts'

const REFUSED = [
  ['0.0.0.0', 'this host'],
  ['0.1.2.3', '"this network"'],
  ['10.0.0.1', 'private'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['100.127.255.254', 'carrier-grade NAT, last'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback, last'],
  ['169.254.169.254', 'link-local: cloud metadata'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private, last'],
  ['192.0.0.8', 'IETF assignments'],
  ['192.0.2.1', 'documentation'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback, bracketed'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
  ['0:0:0:0:0:ffff:10.0.0.1', 'IPv4-mapped private, long form'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::127.0.0.1', 'IPv4-compatible'],
  ['64:ff9b::7f00:1', 'NAT64 of loopback'],
  ['2002:7f00:1::1', '6to4 of loopback'],
  ['2002:a00:1::', '6to4 of private'],
  ['2001:db8::1', 'documentation'],
  ['fc00::1', 'unique local'],
  ['fd12:3456::1', 'unique local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local with a zone'],
  ['febf:ffff::1', 'link-local, last'],
  ['ff02::1', 'multicast'],
  ['localhost', 'not an address'],
  ['example.com', 'not an address'],
  ['', 'nothing'],
] as const

const ALLOWED = [
  ['1.1.1.1', 'public'],
  ['8.8.8.8', 'public'],
  ['9.255.255.255', 'just below 10/8'],
  ['11.0.0.1', 'just above 10/8'],
  ['100.63.255.255', 'just below 100.64/10'],
  ['100.128.0.0', 'just above 100.64/10'],
  ['172.15.255.255', 'just below 172.16/12'],
  ['172.32.0.0', 'just above 172.16/12'],
  ['169.253.255.255', 'just below link-local'],
  ['193.0.0.1', 'public'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['2606:4700:4700::1111', 'public IPv6'],
  ['2a00:1450:4001::200e', 'public IPv6'],
  ['2002:808:808::1', '6to4 of a public address'],
  ['2400:cb00::1', 'public IPv6'],
] as const

describe('webhook target addresses', () => {
  for (const [address, why] of REFUSED) {
    it(`refuses ${address || '(empty)'}: ${why}`, () => assert.equal(isPublicAddress(address), false))
  }
  for (const [address, why] of ALLOWED) {
    it(`allows ${address}: ${why}`, () => assert.equal(isPublicAddress(address), true))
  }

  it('sends to http and https only, without credentials in the URI', () => {
    assert.equal(Transport.refuse('https://example.com/hook'), undefined)
    assert.equal(Transport.refuse('http://example.com:8080/hook?x=1'), undefined)
    assert.match(Transport.refuse('ftp://example.com/hook')!, /ftp: is not http or https/)
    assert.match(Transport.refuse('file:///etc/passwd')!, /file: is not/)
    assert.match(Transport.refuse('gopher://example.com')!, /gopher: is not/)
    assert.match(Transport.refuse('https://user:pass@example.com/')!, /credentials/)
    assert.match(Transport.refuse('not a uri')!, /not a URI/)
  })
})

describe('retry waits', () => {
  it('doubles from the base, with jitter between half and all of it, and stops growing at an hour', () => {
    const table: Array<[number, number, number]> = [
      // [attempt, with random 0, with random 1]
      [1, 5_000, 10_000],
      [2, 10_000, 20_000],
      [3, 20_000, 40_000],
      [9, 1_280_000, 2_560_000],
      [10, 1_800_000, 3_600_000],
      [60, 1_800_000, 3_600_000],
    ]
    for (const [attempt, low, high] of table) {
      assert.equal(backoffMs(10_000, attempt, () => 0), low, `attempt ${attempt}, low`)
      assert.equal(backoffMs(10_000, attempt, () => 1), high, `attempt ${attempt}, high`)
    }
  })
})
