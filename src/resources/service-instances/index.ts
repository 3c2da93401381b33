import { resourceRoutes } from '../routes.ts'
import { defaultSource } from '../source.ts'
import { serviceInstances } from './fields.ts'

export default resourceRoutes(serviceInstances, {
  prepare: defaultSource,
  predefinedFilters: {
    active: (eb) => eb('status', '=', 'in_production'),
    inactive: (eb) => eb('status', '<>', 'in_production'),
  },
})
