// The service instance's field catalogue (lifecycle.md, "Service instances").
import { defineResource } from '../../catalogue/resource.ts'
import { enumeration, string } from '../../catalogue/types.ts'
import { idField, nodeIdField, sourceFields, timestampFields } from '../common-fields.ts'

export const SERVICE_INSTANCE_STATUSES = ['being_prepared', 'in_production', 'discontinued'] as const

export const serviceInstances = defineResource({
  name: 'service_instances',
  table: 'service_instances',
  nodeType: 'ServiceInstance',
  defaultSort: 'name',
  fields: {
    id: idField(),
    nodeID: nodeIdField('ServiceInstance', false),
    name: { type: string({ max: 80, trim: true }), required: true, filterable: true, sortable: true, collection: true },
    // The real API's default: a new service instance is being prepared.
    status: { type: enumeration(SERVICE_INSTANCE_STATUSES), default: 'being_prepared', filterable: true, collection: true },
    ...sourceFields({ sourceID: true }),
    ...timestampFields(true),
  },
  // Its name is translatable in the real API: references to it carry `localized_name`.
  localizedName: true,
})
