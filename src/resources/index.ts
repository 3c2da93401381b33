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
import { webhookPolicies } from './webhook-policies/fields.ts'
import { webhookPolicyRules } from './webhook-policies/rules.ts'
import { webhooks } from './webhooks/fields.ts'
import { webhookRules } from './webhooks/rules.ts'
import { webhookDeliveries } from './webhook-deliveries/fields.ts'

/** Record tables no collection route of their own serves: trusts (the CLI's), versions and delivery attempts (under their parents). */
export const INTERNAL_RESOURCES: ReadonlyArray<Resource> = [trusts, uiExtensionVersions, webhookDeliveries]

export const RESOURCES: ReadonlyArray<{ resource: Resource; rules: Rules }> = [
  { resource: appOfferings, rules: appOfferingRules },
  { resource: serviceInstances, rules: serviceInstanceRules },
  { resource: appInstances, rules: appInstanceRules },
  { resource: uiExtensions, rules: uiExtensionRules },
  { resource: webhookPolicies, rules: webhookPolicyRules },
  { resource: webhooks, rules: webhookRules },
]
