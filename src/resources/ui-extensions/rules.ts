// A UI extension's own rules: activation (RecordWriter.activate) and its versions, read under it.
import type { Rules } from '../../records/rules.ts'
import { uiExtensionVersions } from './fields.ts'

export const uiExtensionRules: Rules = {
  activate: {
    versions: uiExtensionVersions,
    parentColumn: 'ui_extension_id',
    copy: ['name', 'html', 'css', 'javascript'],
    active: { status: 'active' },
    archived: { status: 'archived' },
  },
  children: [
    {
      name: 'versions',
      resource: uiExtensionVersions,
      rules: {},
      bind: (extension) => [{ field: uiExtensionVersions.internalField('ui_extension_id'), condition: { op: 'eq', value: Number(extension.id) } }],
    },
  ],
}
