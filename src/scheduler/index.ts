export { DefaultScheduler, type SchedulerHooks } from './default-scheduler.js';
export { RequestQueue } from './request-queue.js';
export { pickInstance, type Pickable } from './pick-instance.js';
