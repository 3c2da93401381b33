// Every resource the API serves: its catalogue and its rules. A new resource is a folder with
// those two and a line here; the routes, the OpenAPI document and the tables' test follow.
import type { Resource } from '../catalogue/resource.ts'
import type { Rules } from '../records/rules.ts'
import { appOfferings } from './app-offerings/fields.ts'
import { appOfferingRules } from './app-offerings/rules.ts'
import { serviceInstances } from './service-instances/fields.ts'
import { serviceInstanceRules } from './service-instances/rules.ts'
import { trusts } from './trusts/fields.ts'
import { uiExtensions, uiExtensionVersions } from './ui-extensions/fields.ts'
import { uiExtensionRules } from './ui-extensions/rules.ts'
import { appInstances } from './app-instances/fields.ts'
import { appInstanceRules } from './app-instances/rules.ts'

/** Record tables no REST route serves: trusts, written by the CLI. */
export const INTERNAL_RESOURCES: ReadonlyArray<Resource> = [trusts, uiExtensionVersions]

export const RESOURCES: ReadonlyArray<{ resource: Resource; rules: Rules }> = [
  { resource: appOfferings, rules: appOfferingRules },
  { resource: serviceInstances, rules: serviceInstanceRules },
  { resource: appInstances, rules: appInstanceRules },
  { resource: uiExtensions, rules: uiExtensionRules },
]
