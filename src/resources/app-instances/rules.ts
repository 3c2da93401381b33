// The app instance's own rules: who changes what (the customer `enabled_by_customer` and the
// version, the provider `disabled`, `suspended`, `suspension_comment`), what may be installed
// (a published, enabled version of the account's own or of a provider it trusts), and moving
// only forward to a newer version of the same offering.
import { sql, type SqlBool } from 'kysely'
import type { Row } from '../../catalogue/resource.ts'
import { Messages } from '../../catalogue/types.ts'
import { encodeNodeId } from '../../catalogue/node-id.ts'
import { enqueue, webhookWants } from '../../records/outbox.ts'
import type { Effects, Rules, Unit, Write } from '../../records/rules.ts'
import { byProvider, byTrust } from '../../records/sharing.ts'
import { NEW_PUBLIC_KEY, webhookPolicies } from '../webhook-policies/fields.ts'
import { webhookPolicyRules } from '../webhook-policies/rules.ts'
import { webhooks } from '../webhooks/fields.ts'
import { webhookRules } from '../webhooks/rules.ts'
import { appInstances } from './fields.ts'

export const ONLY_PROVIDER = 'can only be changed by the provider'
export const ONLY_CUSTOMER = 'can only be changed by the customer'
export const NOT_PUBLISHED = 'must be a published version'
export const DISABLED = 'is disabled'
export const NOT_NEWER = 'must be a newer version of the same app offering'

const PROVIDER_FIELDS: Record<string, unknown> = { disabled: false, suspended: false, suspension_comment: null }
const CUSTOMER_FIELDS = ['enabled_by_customer', 'app_offering']

/** Each side changes only its own fields; a value equal to the current one (or the default) is no change. */
function roles({ body, account, existing }: Write): void {
  const customer = !existing || existing.account_id === account.id
  const provider = existing?.provider_account === account.id
  const current = (name: string): unknown => {
    if (!existing) return PROVIDER_FIELDS[name]
    const field = appInstances.field(name)!
    const value = field.type.render(existing[field.column!])
    return field.type.kind === 'reference' ? Number(value) : value
  }
  for (const name of Object.keys(PROVIDER_FIELDS)) {
    if (!provider && body.values.has(name) && body.values.get(name) !== current(name)) body.fail(name, ONLY_PROVIDER)
  }
  for (const name of CUSTOMER_FIELDS) {
    if (!customer && body.values.has(name) && body.values.get(name) !== current(name)) body.fail(name, ONLY_CUSTOMER)
  }
}

/** What a customer may install, or move to: answers the version's provider and reference to store. */
function installable({ body, existing }: Write, target: Row): Row | void {
  if (existing && Number(target.id) === Number(existing.app_offering_id)) return
  if (target.draft_id == null) return body.fail('app_offering', NOT_PUBLISHED)
  if (Number(target.disabled) === 1) return body.fail('app_offering', DISABLED)
  // Versions of one reference are made in order, so a newer one has a larger id.
  if (existing && (target.reference !== existing.reference || Number(target.id) < Number(existing.app_offering_id))) return body.fail('app_offering', NOT_NEWER)
  return { provider_account: target.account_id, reference: target.reference }
}

/**
 * An install brings its webhook policy (the version's algorithm, audience and claim expiry, a
 * fresh key pair whose issuer is the provider) and its webhook (the version's URI template for
 * this customer), written in the install's transaction; then `app_instance.create`. A change is
 * `app_instance.update`, or `app_instance.delete` when the provider disables the instance.
 */
async function lifecycleEvents(write: Write, columns: Row): Promise<Effects> {
  const { account, services, mode, existing } = write
  const offering = write.targets.get('app_offering')
  if (mode === 'create' && offering) {
    const policy = await write.prepareCreate(
      webhookPolicies,
      webhookPolicyRules,
      account,
      { jwt_alg: offering.policy_jwt_alg, jwt_audience: offering.policy_jwt_audience, jwt_claim_expires_in: offering.policy_jwt_claim_expires_in },
      { issuer_account: offering.account_id },
    )
    const hook = await write.prepareCreate(webhooks, webhookRules, account, {
      event: 'app_instance.*',
      uri: String(offering.webhook_uri_template).replaceAll('{account}', encodeURIComponent(account.id)),
      name: offering.name,
      openid_connect_discovery: Number(offering.openid_connect_discovery) === 1,
    })
    let made: { policy: Row; webhook: Row }
    return {
      before: async (unit) => {
        const policyRow = await policy.write(unit)
        made = { policy: policyRow, webhook: await hook.write(unit, { webhook_policy_id: Number(policyRow.id) }) }
        return { webhook_id: Number(made.webhook.id), webhook_policy_id: Number(policyRow.id) }
      },
      after: async (unit, row) => {
        row[NEW_PUBLIC_KEY] = made.policy[NEW_PUBLIC_KEY]
        await instanceEvent(unit, write, row, 'app_instance.create')
      },
    }
  }
  const deleted = columns.disabled === 1 && Number(existing?.disabled) !== 1
  return { after: (unit, row) => instanceEvent(unit, write, row, deleted ? 'app_instance.delete' : 'app_instance.update') }
}

/** The event for the instance's own webhook and for the provider's webhooks that ask for it. */
async function instanceEvent(unit: Unit, { services }: Write, row: Row, event: string): Promise<void> {
  const own = row.webhook_id == null ? [] : await unit.trx.selectFrom('webhooks').selectAll().where('id', '=', Number(row.webhook_id)).execute()
  // A provider's own webhooks for its offerings (`app_offering_references`; none listed: all of them).
  const provider = await unit.trx
    .selectFrom('webhooks')
    .selectAll()
    .where('account_id', '=', String(row.provider_account))
    .where('event', 'in', [event, 'app_instance.*'])
    .where('disabled', '=', 0)
    .execute()
  const targets = [...own, ...provider.filter((hook) => webhookWants(String(hook.event), event) && forReference(hook, String(row.reference)) && !own.some((o) => o.id === hook.id))]
  const id = Number(row.id)
  const payload = {
    id,
    nodeID: encodeNodeId(services.nodeIdDomain, 'AppInstance', id),
    app_offering: { reference: row.reference, id: Number(row.app_offering_id), nodeID: encodeNodeId(services.nodeIdDomain, 'AppOffering', Number(row.app_offering_id)) },
    customer_account_id: row.account_id,
    enabled_by_customer: Number(row.enabled_by_customer) === 1,
    disabled: Number(row.disabled) === 1,
    suspended: Number(row.suspended) === 1,
  }
  for (const webhook of targets) await enqueue(unit, services, { webhook, event, object: { id, nodeType: 'AppInstance' }, payload })
}

function forReference(webhook: Row, reference: string): boolean {
  const references = JSON.parse(String(webhook.app_offering_references || '[]')) as string[]
  return references.length === 0 || references.includes(reference)
}

export const appInstanceRules: Rules = {
  prepare: roles,
  effects: lifecycleEvents,
  unique: ['app_offering', Messages.taken],
  references: {
    // The account's own offerings and those of the providers it trusts, drafts included, so a
    // draft is told "must be a published version"; anything else "must exist".
    app_offering: { sharing: byTrust(() => sql<SqlBool>`1 = 1`), check: installable },
  },
  predefinedFilters: {
    enabled: (eb) => eb.and([eb('enabled_by_customer', '=', 1), eb('disabled', '=', 0), eb('suspended', '=', 0)]),
    disabled: (eb) => eb.or([eb('enabled_by_customer', '=', 0), eb('disabled', '=', 1), eb('suspended', '=', 1)]),
  },
  // The provider reads the instances of its offerings, in every list too, and writes its fields;
  // each instance shows its customer.
  sharing: { byId: byProvider, lists: byProvider, owner: 'customer_account', ownerNames: 'all', readersWrite: true },
}
