/**
 * Protecting an API on Workers with this authorization server's access
 * tokens: `import { createResourceServer } from "edge-token-service/resource-server"`.
 * This folder imports nothing of the rest of the service (the architecture
 * check keeps it so): jose, and type-only hono.
 */
export type { AccessTokenClaims, Confirmation, FetchLike } from "./access-token";
export { safeDescription } from "./challenge";
export {
  type AccessTokenVariables,
  protectedResourceMetadata,
  requireAccessToken,
} from "./hono";
export type { IntrospectionBinding, IntrospectionOptions } from "./introspection";
export {
  type ProtectedResourceMetadata,
  protectedResourceMetadataUrl,
  WELL_KNOWN_SUFFIX,
} from "./metadata";
export { MemoryReplayStore, type ReplayStore } from "./replay";
export {
  createResourceServer,
  type ResourceServer,
  type ResourceServerOptions,
  type RouteRequirements,
  type VerifiedToken,
} from "./resource-server";
