import { createApp } from "./app";

// Bound only by the benchmark (bench/run.mjs); unused in a deployment.
export { BenchFloor } from "./bench/floor";

export { ReplayGuard } from "./clients/replay-guard";
export { TokenFamily } from "./families/token-family";
export { SigningKeys } from "./tokens/signing-keys";
export { User } from "./users/user";
export { Username } from "./users/username";

export default createApp();
