import { createApp } from "./app";

export { Administrators } from "./administrators/administrators";
export { ClientDirectory } from "./clients/directory";
export { ReplayGuard } from "./clients/replay-guard";
export { SecurityEvents } from "./events/store";
export { TokenFamily } from "./families/token-family";
export { SigningKeys } from "./tokens/signing-keys";
export { UserDirectory } from "./users/directory";
export { User } from "./users/user";
export { Username } from "./users/username";

export default createApp();
