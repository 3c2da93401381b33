// A trust's own rules: one row per customer and provider (the unique index of migration 005).
import { Messages } from '../../catalogue/types.ts'
import type { Rules } from '../../records/rules.ts'

export const trustRules: Rules = {
  prepare({ body, account }) {
    if (body.values.get('provider_account') === account.id) body.fail('provider_account', 'is invalid')
  },
  unique: ['provider_account', Messages.taken],
}
