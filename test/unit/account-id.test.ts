// Account ids (conventions.md §1): 2 to 32 of lowercase letters, digits and '-', starting with a letter.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ACCOUNT_ID } from '../../src/storage/accounts.ts'

describe('account ids', () => {
  for (const id of ['wdc', 'ab', 'a1', 'a-', 'demo', 'widget-data-center', `a${'b'.repeat(31)}`]) {
    it(`${id} is an account id`, () => assert.ok(ACCOUNT_ID.test(id)))
  }
  for (const id of ['', 'a', 'A', 'Wdc', '1abc', '-abc', 'a_b', 'a.b', 'a b', 'é1', `a${'b'.repeat(32)}`, 'wdc\n']) {
    it(`${JSON.stringify(id)} is not`, () => assert.ok(!ACCOUNT_ID.test(id)))
  }
})
