/**
 * The data center an organization is served from, as sent in `X-Region` (`dal`, `fra`). One
 * per organization, shared by all its clients: when LiveChat answers misdirected_request with
 * `error.data.region`, every client of that organization goes there from then on.
 */
export type LivechatRegionStore = {
  get: () => string | undefined;
  set: (region: string) => void;
};

/** An in-memory region store, starting at `region` (undefined: no `X-Region`, i.e. `dal`). */
export const createRegionStore = (region?: string): LivechatRegionStore => {
  let current = region;
  return {
    get: () => current,
    set: (next) => {
      current = next;
    },
  };
};
