export { plan, EXACT_LIMIT } from './planner.js';
export type { ProfilePoint, ModelProfile, DeviceCapacity, Demand, PlacementEntry, Plan } from './types.js';
export { Controller, sharesOf, expectedValue, type PlacementTarget, type ControllerOptions, type ControllerStatus } from './controller.js';
