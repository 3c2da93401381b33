// Trust between accounts (app-offerings.md, "Predefined filters"): a customer account trusts a
// provider account, set up by the administrator's CLI (`accounts trust|untrust`). A row belongs
// to the customer; untrusting sets `trusted` to false rather than deleting it, so the change moves
// the customer's watermark (records/store.ts): a deleted row would leave no change_seq behind.
// Not served by the REST API.
import { defineResource } from '../../catalogue/resource.ts'
import { boolean, datetime, string } from '../../catalogue/types.ts'
import { idField } from '../common-fields.ts'

export const trusts = defineResource({
  name: 'trusts',
  table: 'trusts',
  nodeType: 'Trust',
  defaultSort: 'provider_account',
  fields: {
    id: idField(),
    provider_account: { type: string({ max: 32 }), required: true, filterable: true, sortable: true, collection: true },
    trusted: { type: boolean(), default: true, collection: true },
    created_at: { type: datetime(), readOnly: true, collection: true },
    updated_at: { type: datetime(), readOnly: true, collection: true },
  },
})
