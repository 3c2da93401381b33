// Uploads no record refers to are swept after 24 hours (attachments.md), by the server process
// itself, every ATTACHMENT_SWEEP_INTERVAL seconds; with several processes on one database each
// upload is deleted exactly once. And a key two records race for is attached to one of them.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Kysely } from 'kysely'
import { nowSeconds } from '../../src/storage/database.ts'
import { secondApp, useHarness } from '../support/harness.ts'
import { createOffering, serviceInstance } from '../support/offerings.ts'
import { engines } from '../support/stores.ts'
import { uploaded } from '../support/uploads.ts'

const DAY = 24 * 3600

for (const engine of engines) {
  for (const storage of ['local', 'database'] as const) {
    describe(`the sweeper in the server process (${engine}, ${storage} storage)`, () => {
      const h = useHarness(engine, { ATTACHMENT_STORAGE: storage, ATTACHMENT_SWEEP_INTERVAL: '1' })
      const db = () => h().database.db as unknown as Kysely<any>
      const keysOf = async (account: string) => (await db().selectFrom('uploads').select('key').where('account_id', '=', account).execute()).map((r) => r.key as string)

      it('runs in the server process: an unreferenced upload older than a day is gone within the interval', async () => {
        const account = await h().account()
        const [old, fresh] = [await uploaded(account, 'old.txt', Buffer.from('old')), await uploaded(account, 'fresh.txt', Buffer.from('fresh'))]
        await db().updateTable('uploads').set({ created_at: nowSeconds() - DAY - 1 }).where('key', '=', old).execute()
        const deadline = Date.now() + 5000
        while ((await keysOf(account.id)).includes(old) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
        assert.deepEqual(await keysOf(account.id), [fresh])
      })

    })

    describe(`several sweepers, and attachment races (${engine}, ${storage} storage)`, () => {
      // No timer here: every sweep is one the test makes, so the counts add up.
      const h = useHarness(engine, { ATTACHMENT_STORAGE: storage, ATTACHMENT_SWEEP_INTERVAL: '0' })
      const db = () => h().database.db as unknown as Kysely<any>
      const keysOf = async (account: string) => (await db().selectFrom('uploads').select('key').where('account_id', '=', account).execute()).map((r) => r.key as string)

      it('deletes each upload once when several processes sweep at the same time', async () => {
        const account = await h().account()
        const keys = await Promise.all(Array.from({ length: 12 }, (_, i) => uploaded(account, `f${i}.txt`, Buffer.from(`file ${i}`))))
        await db().updateTable('uploads').set({ created_at: nowSeconds() - DAY - 1 }).where('account_id', '=', account.id).execute()
        const objects = (await db().selectFrom('uploads').select(['storage', 'object']).where('account_id', '=', account.id).execute())
        const others = [await secondApp(h()), await secondApp(h())]
        try {
          const counts = await Promise.all([h().app, ...others].flatMap((app) => [app.uploads.sweep(), app.uploads.sweep()]))
          assert.equal(counts.reduce((a, b) => a + b, 0), keys.length, `deleted once each: ${counts}`)
        } finally {
          for (const app of others) await app.close()
        }
        assert.deepEqual(await keysOf(account.id), [])
        for (const { storage: kind, object } of objects) assert.equal(await h().app.uploads.files.of(kind).stat(object), undefined, `${object} is gone`)
      })

      it('removes what uploads of a dead process left half-written, once it is a day old', async () => {
        const files = h().app.uploads.files.of(storage)
        const now = nowSeconds()
        const [old, recent] = [`${now - DAY - 5}-${randomUUID()}`, `${now - 60}-${randomUUID()}`]
        // As a process killed in the middle of two puts would leave them.
        if (storage === 'local') {
          mkdirSync(join(h().filesDir, '.partial'), { recursive: true })
          for (const name of [old, recent]) writeFileSync(join(h().filesDir, '.partial', name), 'half a file')
        } else {
          for (const name of [old, recent]) await db().insertInto('file_chunks').values({ object: `.partial/${name}`, seq: 0, data: Buffer.from('half a file') }).execute()
        }
        const left = async () =>
          storage === 'local'
            ? readdirSync(join(h().filesDir, '.partial')).sort()
            : (await db().selectFrom('file_chunks').select('object').where('object', 'like', '.partial/%').execute()).map((r) => String(r.object).slice('.partial/'.length)).sort()
        assert.deepEqual(await left(), [old, recent].sort())
        await h().app.uploads.sweep()
        assert.deepEqual(await left(), [recent])
        assert.equal(await files.removeAbandoned(now + 1), 1)
        assert.deepEqual(await left(), [])
      })

      it('attaches a key that records race for to exactly one of them', async () => {
        const account = await h().account()
        const si = await serviceInstance(account)
        const records = await Promise.all(Array.from({ length: 6 }, (_, i) => createOffering(account, si, { name: `Racer ${i} ${account.id}` })))
        const key = await uploaded(account, 'prize.pdf', Buffer.from('%PDF prize'))
        const answers = await Promise.all(records.map((r) => account.call('PATCH', `/v1/app_offerings/${r.id}`, { description_attachments: [{ key }] })))
        const won = answers.filter((res) => res.statusCode === 200)
        assert.equal(won.length, 1, answers.map((res) => `${res.statusCode} ${res.body.slice(0, 80)}`).join('\n'))
        for (const res of answers.filter((r) => r.statusCode !== 200)) assert.deepEqual(res.json(), { message: 'Validation Failed', errors: [['description_attachments', 'is invalid']] })
        const attached = await db().selectFrom('attachments').select('record_id').where('account_id', '=', account.id).execute()
        assert.deepEqual(attached.map((r) => Number(r.record_id)), [won[0].json().id])
      })
    })
  }
}
