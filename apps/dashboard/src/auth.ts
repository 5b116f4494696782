import bcrypt from 'bcryptjs';

/** Who may log in: each user's bcrypt hash. */
export type Credentials = {
  /** The user's name when the password is theirs; undefined otherwise (same cost either way). */
  verify: (name: string, password: string) => Promise<string | undefined>;
};

/** The user a single DASHBOARD_PASSWORD logs in as. */
export const PASSWORD_USER = 'admin';

const COST = 12;

/** A bcrypt hash of `password`, for DASHBOARD_USERS (`nudge hash-password` prints one). */
export const hashPassword = (password: string): Promise<string> => bcrypt.hash(password, COST);

/**
 * Credentials from the environment: DASHBOARD_USERS' name:hash pairs, or DASHBOARD_PASSWORD for
 * the user `admin` (hashed once at start, so every check costs one bcrypt comparison).
 */
export const createCredentials = async ({
  users,
  password,
}: {
  users?: readonly { name: string; hash: string }[];
  password?: string;
}): Promise<Credentials> => {
  const hashes = new Map((users ?? []).map((user) => [user.name, user.hash]));
  if (password !== undefined) {
    hashes.set(PASSWORD_USER, await bcrypt.hash(password, 10));
  }
  // An unknown name is compared against this, at the cost of a known one's hash, so it takes
  // as long: the time of a failed login does not tell whether the name exists.
  const first = [...hashes.values()][0];
  const decoy = await bcrypt.hash('not a password of anyone', first ? bcrypt.getRounds(first) : 10);
  return {
    verify: async (name, given) => {
      const hash = hashes.get(name);
      const matches = await bcrypt.compare(given, hash ?? decoy);
      return matches && hash !== undefined ? name : undefined;
    },
  };
};
