// The app offering's own rules, beside its catalogue.
import { Messages } from '../../catalogue/types.ts'
import type { Rules, Write } from '../../records/rules.ts'
import { defaultSource } from '../source.ts'

/** When a create leaves `reference` out: `<account>_<name in lower case, spaces as _>`. */
export function defaultReference(write: Write): void {
  const { body, account } = write
  if (write.mode !== 'create' || body.failed('reference') || body.values.get('reference') != null) return
  const name = body.values.get('name')
  if (typeof name === 'string') body.values.set('reference', `${account.id}_${name.toLowerCase().replaceAll(' ', '_')}`)
  // A missing or bad name is reported on its own; the reference follows from it once it is valid.
  else body.derived.add('reference')
}

export const appOfferingRules: Rules = {
  prepare(write) {
    defaultReference(write)
    defaultSource(write)
  },
  unique: ['reference', Messages.taken],
  predefinedFilters: {
    // Until publishing exists every offering is a draft.
    latest_internal: (eb) => eb('draft_id', 'is', null),
  },
}
