import type { ProviderConfig } from "../config";
import { isClientIdUrl, metadataDocumentClient } from "./metadata-document";
import type { ClientRecord } from "./model";
import { findClient } from "./registry";

/**
 * The client a request names: a registered one (src/clients/registry.ts),
 * or, when CLIENT_METADATA_DOCUMENTS is on, one whose client_id is the URL
 * of its metadata document (src/clients/metadata-document.ts). With it off,
 * a URL client_id is simply unknown. A document that cannot be used throws
 * invalid_client saying why.
 */
export async function lookUpClient(
  env: Env,
  config: ProviderConfig,
  clientId: string,
): Promise<Readonly<ClientRecord> | undefined> {
  if (isClientIdUrl(clientId))
    return config.clientMetadataDocuments
      ? metadataDocumentClient(env, config, clientId)
      : undefined;
  return findClient(env, clientId);
}
