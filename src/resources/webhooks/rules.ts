// A webhook's own rules: a name by default, `webhook.verify` in the outbox when it is made or its
// URI changes (in the write's transaction), the enabled/disabled lists, its delivery attempts as
// a child collection, and what deleting it takes along.
import type { Row } from '../../catalogue/resource.ts'
import { enqueue } from '../../records/outbox.ts'
import type { Rules, Unit, Write } from '../../records/rules.ts'
import { webhookDeliveries } from '../webhook-deliveries/fields.ts'
import { USED_BY_INSTANCES } from '../webhook-policies/rules.ts'

export const VERIFY = 'webhook.verify'

function defaultName({ mode, body }: Write): void {
  if (mode === 'create' && !body.values.get('name') && body.values.get('event')) body.values.set('name', body.values.get('event'))
}

async function verifyOnNewUri({ mode, services }: Write, columns: Row) {
  if (mode === 'update' && columns.uri === undefined) return
  return {
    // A webhook is only ever written by its owner: the unit's account.
    after: (unit: Unit, row: Row) => enqueue(unit, services, { webhook: { ...row, account_id: row.account_id ?? unit.account.id }, event: VERIFY, object: { id: Number(row.id), nodeType: 'Webhook' }, payload: { uri: row.uri } }),
  }
}

export const webhookRules: Rules = {
  prepare: defaultName,
  effects: verifyOnNewUri,
  predefinedFilters: {
    enabled: (eb) => eb('disabled', '=', 0),
    disabled: (eb) => eb('disabled', '=', 1),
  },
  children: [
    {
      name: 'deliveries',
      resource: webhookDeliveries,
      rules: {},
      bind: (webhook) => [{ field: webhookDeliveries.internalField('webhook_id'), condition: { op: 'eq', value: Number(webhook.id) } }],
    },
  ],
  deletable: {
    blockers: [{ table: 'app_instances', column: 'webhook_id', error: ['base', USED_BY_INSTANCES] }],
    dependents: [
      { table: 'webhook_deliveries', column: 'webhook_id' },
      { table: 'webhook_delivery_attempts', column: 'webhook_id' },
    ],
  },
}

