import { resourceRoutes } from '../routes.ts'
import { appOfferings } from './fields.ts'
import { appOfferingRules } from './rules.ts'

export default resourceRoutes(appOfferings, appOfferingRules)
