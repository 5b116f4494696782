import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

// `nudge start` in sandbox mode leaves where everything runs in its state directory, so
// `nudge demo` (another process) can find the running stack.

export const StackState = z.object({
  pid: z.number().int(),
  sandboxUrl: z.string(),
  webhookUrl: z.string(),
  redisUrl: z.string(),
  redisCluster: z.boolean().default(false),
  prefix: z.string(),
  organizationId: z.string(),
  botId: z.string(),
  idleAfterSeconds: z.number(),
});
export type StackState = z.output<typeof StackState>;

const FILE = 'stack.json';
/** The rules file `npm start` writes for the sandbox, in the state directory. */
export const SANDBOX_RULES_FILE = 'sandbox.rules.yaml';

export const writeStackState = (stateDir: string, state: StackState): Promise<void> =>
  writeFile(join(stateDir, FILE), `${JSON.stringify(state, null, 2)}\n`);

export const removeStackState = (stateDir: string): Promise<void> =>
  rm(join(stateDir, FILE), { force: true });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The running sandbox stack, or an explanation of why there is none. */
export const readStackState = async (
  stateDir: string,
): Promise<{ state: StackState } | { problem: string }> => {
  const path = join(stateDir, FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { problem: `no running \`npm start\` in sandbox mode (no ${path}): start it first` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = StackState.safeParse(json);
  if (!parsed.success) {
    return { problem: `${path} is not a stack state file: restart \`npm start\`` };
  }
  if (!isAlive(parsed.data.pid)) {
    return { problem: `the \`npm start\` that wrote ${path} is gone: start it again` };
  }
  return { state: parsed.data };
};
