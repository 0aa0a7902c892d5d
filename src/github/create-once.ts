// Creating something GitHub does not deduplicate (a check run, a comment)
// when its answer may be lost: a 502 can come back for a write that took
// effect, and sending the request again (as Octokit's retry plugin would)
// then makes a second one. So the request itself is never retried blindly:
// after a server error the caller's lookup runs first, and only when it
// finds nothing is the create sent again. (The create itself is sent with
// NOT_RETRIED_IN_REQUEST, so Octokit's retry plugin does not resend it.)
/** The waits before each look-then-retry, as Octokit's retry plugin waits (1 s, then 4 s). */
export const CREATE_RETRY_WAITS_MS = [1_000, 4_000] as const;

/** A 5xx, or no answer at all (Octokit reports a failed fetch as status 500). */
export function isServerError(error: unknown): boolean {
  const status = (error as { status?: number })?.status;
  return typeof status === 'number' && status >= 500;
}

export async function createOnce<T>(
  create: () => Promise<T>,
  find: () => Promise<T | null>,
  waitsMs: readonly number[] = CREATE_RETRY_WAITS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await create();
    } catch (error) {
      const wait = waitsMs[attempt];
      if (!isServerError(error) || wait === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
      const made = await find();
      if (made !== null) return made;
    }
  }
}
