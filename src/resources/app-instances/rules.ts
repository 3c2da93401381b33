// The app instance's own rules: who changes what (the customer `enabled_by_customer` and the
// version, the provider `disabled`, `suspended`, `suspension_comment`), what may be installed
// (a published, enabled version of the account's own or of a provider it trusts), and moving
// only forward to a newer version of the same offering.
import { sql, type SqlBool } from 'kysely'
import type { Row } from '../../catalogue/resource.ts'
import { Messages } from '../../catalogue/types.ts'
import type { Rules, Write } from '../../records/rules.ts'
import { byProvider, byTrust } from '../../records/sharing.ts'
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

export const appInstanceRules: Rules = {
  prepare: roles,
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
