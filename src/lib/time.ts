/** Seconds since the epoch: the unit of every JWT claim and lifetime here. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
