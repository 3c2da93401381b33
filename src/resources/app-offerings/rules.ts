// The app offering's own rules, beside its catalogue.
import { Messages } from '../../catalogue/types.ts'
import type { Rules, Write } from '../../records/rules.ts'
import { anyOf, byInstall, byTrust } from '../../records/sharing.ts'
import { appInstances } from '../app-instances/fields.ts'
import { appInstanceRules } from '../app-instances/rules.ts'
import type { Scope } from '../../records/store.ts'
import { defaultSource } from '../source.ts'
import { AttachmentLinks } from '../../records/attachments.ts'
import { imageDataUrl, labelledPicture, MAX_IMAGE_BYTES, readImage } from './picture.ts'

/** When a create leaves `reference` out: `<account>_<name in lower case, spaces as _>`. */
export function defaultReference(write: Write): void {
  const { body, account } = write
  if (write.mode !== 'create' || body.failed('reference') || body.values.get('reference') != null) return
  const name = body.values.get('name')
  if (typeof name === 'string') body.values.set('reference', `${account.id}_${name.toLowerCase().replaceAll(' ', '_')}`)
  // A missing or bad name is reported on its own; the reference follows from it once it is valid.
  else body.derived.add('reference')
}

export const REFERENCE_LOCKED = "can't be changed after the app offering has been published"

/**
 * After the first publish the reference is locked (app-offerings.md): on a published version
 * (`version` >= 1) and on a draft with a published version (its `version` counts them).
 */
export function lockReference(write: Write): void {
  const { body, existing } = write
  if (write.mode !== 'update' || !existing || body.failed('reference') || !body.values.has('reference')) return
  if (Number(existing.version) > 0 && body.values.get('reference') !== existing.reference) body.fail('reference', REFERENCE_LOCKED)
}

/** The newest published version of each offering: the one whose number is its draft's count of versions. */
const newestVersions: Scope = (eb) =>
  eb.and([
    eb('draft_id', 'is not', null),
    eb('version', '=', eb.selectFrom('app_offerings as d').select('d.version').whereRef('d.id', '=', 'app_offerings.draft_id')),
  ])

const PUBLISHED_BY_TRUST = byTrust((eb, alias) => eb(alias ? `${alias}.draft_id` : 'draft_id', 'is not', null))

/** A data: URL picture is stored with the type its bytes are, whatever it was labelled (picture.ts). */
function labelPicture(write: Write): void {
  const picture = write.body.values.get('picture_uri')
  if (typeof picture === 'string' && !write.body.failed('picture_uri')) write.body.values.set('picture_uri', labelledPicture(picture))
}

export const appOfferingRules: Rules = {
  prepare(write) {
    defaultReference(write)
    lockReference(write)
    defaultSource(write)
    labelPicture(write)
  },
  // The app builder's avatar upload: the picture as a data: URL of the type its bytes are.
  picture: {
    field: 'picture_uri',
    part: 'avatar',
    maxBytes: MAX_IMAGE_BYTES,
    fromBytes(bytes) {
      const type = readImage(bytes)
      return type && imageDataUrl(type, bytes)
    },
  },
  // The texts' attachments: checked and written with the record, shared by its published versions.
  links: new AttachmentLinks('app_offerings', ['description', 'features', 'compliance']),
  unique: ['reference', Messages.taken],
  // A reference changes only while nothing is published: checked again by the UPDATE itself, so
  // a publish committed after the rules ran cannot leave the draft and its versions apart.
  guard: (columns) => ('reference' in columns ? { where: (eb) => eb('version', '=', 0), error: ['reference', REFERENCE_LOCKED] } : undefined),
  predefinedFilters: {
    latest_internal: (eb) => eb('draft_id', 'is', null),
    // The newest published version of each of the account's offerings: the one whose number is
    // its draft's count of published versions.
    latest_published: newestVersions,
    // The same, of the account and of the providers it trusts (records/sharing.ts).
    all_latest_published: { where: newestVersions, shared: PUBLISHED_BY_TRUST },
    // The versions the account's app instances use, whoever's.
    consumed: { shared: byInstall, only: true },
  },
  // A provider's published versions are read by the customers that trust it, and an installed
  // version by the customer that installed it.
  sharing: { byId: anyOf(PUBLISHED_BY_TRUST, byInstall), owner: 'account' },
  publish: { notDraft: ['base', 'only a draft can be published'] },
  // The provider reads the instances of an offering: of every version of its reference.
  children: [
    {
      name: 'app_instances',
      resource: appInstances,
      rules: appInstanceRules,
      bind: (offering) => [{ field: appInstances.internalField('reference'), condition: { op: 'eq', value: String(offering.reference) } }],
    },
  ],
}
