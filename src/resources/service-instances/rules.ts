// The service instance's own rules, beside its catalogue.
import type { Rules } from '../../records/rules.ts'
import { defaultSource } from '../source.ts'

export const serviceInstanceRules: Rules = {
  prepare: defaultSource,
  predefinedFilters: {
    active: (eb) => eb('status', '=', 'in_production'),
    inactive: (eb) => eb('status', '<>', 'in_production'),
  },
}
