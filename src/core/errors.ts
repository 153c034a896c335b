/**
 * Moved: GatewayError lives in src/errors/gateway-error.ts (the leaf every layer may import).
 * This re-export keeps core-internal imports working; db, http and audit import src/errors/.
 */
export { GatewayError, isGatewayError, type GatewayErrorDetails } from '../errors/gateway-error.js';
