/** Public surface of the HTTP layer. */
export { buildHttpApp } from './app.js';
export { startHttpServer, stopHttpServer, exposureWarnings, type HttpServerHandle, type StopOptions, type StopReport } from './server.js';
export { Lifecycle, RequestCancelledError, type CancelReason } from './lifecycle.js';
export { httpRequestContext, callSignal, type HttpRequestContext } from './context.js';
export { HTTP_ERRORS, type HttpErrorCode } from './errors.js';
export { LOG_REDACT_PATHS } from './logging.js';
export type { Authenticator, AuthResult, AuthFailureInfo, AuthFailureReason, BuildHttpAppOptions, FastToolCall, FastToolCallRequest } from './types.js';
