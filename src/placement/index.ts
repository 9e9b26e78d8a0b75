export { plan, EXACT_LIMIT } from './planner.js';
export type { ProfilePoint, ModelProfile, DeviceCapacity, Demand, PlacementEntry, Plan } from './types.js';
export {
  Controller,
  sharesOf,
  expectedValue,
  type PlacementTarget,
  type ControllerOptions,
  type ControllerStatus,
} from './controller.js';
export {
  ProfileStore,
  deviceKey,
  DEFAULT_PROFILE_DB,
  type DeviceIdentity,
  type StoredProfile,
} from './profile-store.js';
export {
  profileModels,
  measureProfile,
  profileConfigs,
  configFor,
  simulatedProfile,
  deviceIdentity,
  sha256File,
  profileOutstanding,
  type DeviceInfo,
  type ProfileConfig,
  type ProfileBench,
  type PointMeasurement,
  type ProfilerOptions,
  type ProfiledModel,
} from './profiler.js';
export {
  capacitiesOf,
  disjointCpuChoices,
  planOnDevices,
  type CapacityOptions,
  type PlanOnDevicesOptions,
} from './capacities.js';
export { placementProblems as placementFitProblems } from './fits.js';
