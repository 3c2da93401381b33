// Fields every resource has, declared once.
import { Type } from 'typebox'
import { encodeNodeId } from '../catalogue/node-id.ts'
import type { FieldSpec } from '../catalogue/resource.ts'
import { computed, datetime, integer, string } from '../catalogue/types.ts'
import { SOURCE_MAX } from './source.ts'

export const idField = (): FieldSpec => ({ type: integer(), readOnly: true, filterable: true, sortable: true, collection: true })

export const nodeIdField = (nodeType: string, collection: boolean): FieldSpec => ({
  type: computed(() => Type.String()),
  readOnly: true,
  collection,
  compute: (row, context) => encodeNodeId(context.nodeIdDomain, nodeType, Number(row.id)),
  uses: ['id'],
  description: 'global id, accepted wherever :id is',
})

export const sourceFields = (collection: { source?: boolean; sourceID?: boolean } = {}): Record<string, FieldSpec> => ({
  source: { type: string({ max: SOURCE_MAX }), filterable: true, collection: collection.source },
  sourceID: { type: string({ max: 128 }), filterable: true, sortable: true, collection: collection.sourceID },
})

export const timestampFields = (collection: boolean): Record<string, FieldSpec> => ({
  created_at: { type: datetime(), readOnly: true, filterable: true, sortable: true, collection },
  updated_at: { type: datetime(), readOnly: true, filterable: true, sortable: true, collection },
})
