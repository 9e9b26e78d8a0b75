/** What every front end needs: the engine, the model control mode, and whether the server is closing. */
import type { Engine, PlacementManager } from '../engine/index.js';
import type { ModelControlMode } from './oip/model-control.js';
import type { SystemSharedMemory } from './oip/shm-registry.js';
import type { RestrictedApis } from './restricted-apis.js';

export interface ServeContext {
  engine: Engine;
  modelControlMode: ModelControlMode;
  closing(): boolean;
  /**
   * True while the loads asked for at start run (the ports open before them): the server is then
   * not ready, strict readiness or not, as it was not before its ports opened.
   */
  starting(): boolean;
  /** Serves GET/PUT /v2/placement when present. */
  placement?: PlacementManager;
  /** The system shared-memory regions clients registered; null when --allow-client-shm is off. */
  shm: SystemSharedMemory | null;
  /** The API groups of this transport that need a key header (restricted-apis.ts); empty: all open. */
  restricted: RestrictedApis;
  /** Ready only when every model is (tritonserver's --strict-readiness); false: ready once serving. */
  strictReadiness: boolean;
}

/**
 * After this long a graceful shutdown stops waiting for requests in flight (Triton's
 * --exit-timeout-secs is 30 too).
 */
export const SHUTDOWN_GRACE_MS = 30_000;
